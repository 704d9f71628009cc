//! `read` and `write` against Python's `csv` and `json` modules: files Python writes are read
//! by marsh, files marsh writes are read by Python, and each side checks the values it gets.
//!
//! Python is needed for these tests: under `CI=true` a missing `python3` fails them; elsewhere
//! they pass with a note on stderr saying why they checked nothing.

mod common;

use common::{Run, marsh_in};
use std::path::Path;
use std::process::Command;

/// The rows every CSV and TSV case writes: quotes, delimiters, embedded line breaks (LF and
/// CRLF), empty fields, unicode, numbers and strings that look like numbers, spaces.
const ROWS: &str = r#"[
    ["plain", "with,comma", "with \"quotes\"", "two\nlines", "crlf\r\ninside", "", "  spaced  "],
    ["é 日本 🎉", "007", "1.50", "-0", "tab\there", "'single'", "\\back"],
    ["", "", "", "", "", "", ""],
    ["x", "1e3", "12", "-7", "0.5", "nan", "+3"]
]"#;

/// Whether python3 can run; under CI a missing python3 is a failure.
fn have_python() -> bool {
    let found = Command::new("python3")
        .arg("-c")
        .arg("import csv, json")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 with csv and json is required under CI"
        );
        eprintln!("skipped: python3 is not installed, so nothing was checked against Python");
    }
    found
}

/// Runs a Python script in `dir`; it must succeed.
fn python(dir: &Path, script: &str) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed:\n{script}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ok(run: &Run) {
    assert_eq!(
        run.status, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

fn setup() -> Option<tempfile::TempDir> {
    if !have_python() {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("rows.json"), ROWS).expect("rows.json");
    Some(dir)
}

#[test]
fn csv_and_tsv_written_by_python_read_by_marsh() {
    let Some(dir) = setup() else { return };
    for (flag, delim) in [("--csv", ","), ("--tsv", "\\t")] {
        python(
            dir.path(),
            &format!(
                "import csv, json\n\
                 rows = json.load(open('rows.json'))\n\
                 with open('py.txt', 'w', newline='') as f:\n\
                 \x20   csv.writer(f, delimiter='{delim}').writerows(rows)\n"
            ),
        );
        let run = marsh_in(
            dir.path(),
            &format!("read {flag} py.txt | map (t: list(t)) | write --jsonl > got.jsonl"),
        );
        ok(&run);
        python(
            dir.path(),
            "import json\n\
             rows = json.load(open('rows.json'))\n\
             got = [json.loads(l) for l in open('got.jsonl', encoding='utf-8')]\n\
             assert got == rows, (got, rows)\n",
        );
    }
}

#[test]
fn csv_and_tsv_written_by_marsh_read_by_python() {
    let Some(dir) = setup() else { return };
    for (flag, delim) in [("--csv", ","), ("--tsv", "\\t")] {
        let run = marsh_in(
            dir.path(),
            &format!("read --json rows.json | write {flag} > marsh.txt"),
        );
        ok(&run);
        python(
            dir.path(),
            &format!(
                "import csv, json\n\
                 rows = json.load(open('rows.json'))\n\
                 got = list(csv.reader(open('marsh.txt', newline='', encoding='utf-8'), delimiter='{delim}'))\n\
                 assert got == rows, (got, rows)\n"
            ),
        );
    }
}

#[test]
fn headers_give_dicts_in_both_directions() {
    let Some(dir) = setup() else { return };
    python(
        dir.path(),
        "import csv, json\n\
         rows = json.load(open('rows.json'))\n\
         names = ['a', 'b b', 'c,c', 'd\"', 'é', 'f', 'g']\n\
         with open('py.csv', 'w', newline='') as f:\n\
         \x20   w = csv.DictWriter(f, fieldnames=names)\n\
         \x20   w.writeheader()\n\
         \x20   for r in rows: w.writerow(dict(zip(names, r)))\n",
    );
    let run = marsh_in(
        dir.path(),
        "read --csv --headers py.csv | write --jsonl > dicts.jsonl\n\
         read --csv --headers py.csv | write --csv > back.csv",
    );
    ok(&run);
    python(
        dir.path(),
        "import csv, json\n\
         want = list(csv.DictReader(open('py.csv', newline='', encoding='utf-8')))\n\
         got = [json.loads(l) for l in open('dicts.jsonl', encoding='utf-8')]\n\
         assert got == want, (got, want)\n\
         assert [list(d) for d in got] == [list(d) for d in want], 'key order'\n\
         back = list(csv.DictReader(open('back.csv', newline='', encoding='utf-8')))\n\
         assert back == want, (back, want)\n",
    );
}

#[test]
fn numbers_only_when_asked() {
    let Some(dir) = setup() else { return };
    std::fs::write(
        dir.path().join("n.csv"),
        "a,b,c,d\n12,1.5,007,x1\n-3,1e3,,nan\n",
    )
    .expect("n.csv");
    let run = marsh_in(
        dir.path(),
        "read --csv --headers n.csv | write --jsonl > strs.jsonl\n\
         read --csv --headers --numbers n.csv | write --jsonl > nums.jsonl",
    );
    ok(&run);
    python(
        dir.path(),
        "import json\n\
         strs = [json.loads(l) for l in open('strs.jsonl')]\n\
         nums = [json.loads(l) for l in open('nums.jsonl')]\n\
         assert strs[0] == {'a': '12', 'b': '1.5', 'c': '007', 'd': 'x1'}, strs\n\
         assert nums == [{'a': 12, 'b': 1.5, 'c': 7, 'd': 'x1'}, {'a': -3, 'b': 1000.0, 'c': '', 'd': 'nan'}], nums\n\
         assert type(nums[0]['a']) is int and type(nums[1]['b']) is float\n",
    );
}

/// A JSON document with every type, checked type for type (Python's `1 == 1.0` would hide a
/// float turned int).
const STRICT_EQ: &str = "def same(a, b):\n\
     \x20   if type(a) is not type(b): return False\n\
     \x20   if isinstance(a, dict): return list(a) == list(b) and all(same(a[k], b[k]) for k in a)\n\
     \x20   if isinstance(a, list): return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))\n\
     \x20   return a == b\n";

#[test]
fn json_written_by_python_round_trips_through_marsh() {
    let Some(dir) = setup() else { return };
    python(
        dir.path(),
        "import json\n\
         doc = [{'z': 1, 'a': [1.0, -0.5, 1e300, 2**62, -2**63], 's': 'é \"q\" \\\\ \\n \\t \\u0001 🎉',\n\
         \x20        'n': None, 't': True, 'f': False, 'e': {}, 'l': [], 'deep': {'x': [{'y': 'z'}]}},\n\
         \x20       'top', 3, None, [1, [2, [3]]]]\n\
         json.dump(doc, open('doc.json', 'w'))\n\
         with open('doc.jsonl', 'w') as f:\n\
         \x20   for item in doc: f.write(json.dumps(item, ensure_ascii=False) + '\\n')\n",
    );
    let run = marsh_in(
        dir.path(),
        "read --json doc.json | write --json > out.json\n\
         read --jsonl doc.jsonl | write --jsonl > out.jsonl\n\
         read --json doc.json >$ r\n\
         r <$ write --json > res.json",
    );
    ok(&run);
    python(
        dir.path(),
        &format!(
            "import json\n{STRICT_EQ}\
             doc = json.load(open('doc.json'))\n\
             for name in ['out.json', 'res.json']:\n\
             \x20   got = json.load(open(name, encoding='utf-8'))\n\
             \x20   assert same(got, doc), (name, got, doc)\n\
             lines = [json.loads(l) for l in open('out.jsonl', encoding='utf-8')]\n\
             assert same(lines, doc), (lines, doc)\n"
        ),
    );
}

#[test]
fn a_json_object_is_one_dict() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(
        dir.path().join("o.json"),
        r#"{"b": [1, 2], "a": {"c": null}}"#,
    )
    .expect("o");
    let run = marsh_in(
        dir.path(),
        "read --json o.json | map (d: (d.keys(), d['b'][1], d['a']['c']))\n\
         read --json o.json | expand",
    );
    ok(&run);
    assert_eq!(
        run.stdout,
        "(['b', 'a'], 2, none)\n('b', [1, 2])\n('a', {'c': none})\n"
    );
}

#[test]
fn csv_bytes_survive_a_round_trip() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // Bytes that are not UTF-8, a CR inside a quoted field, a quote, an empty field.
    let input: &[u8] = b"a,\"b\r\nc\",\xff\xfe\n\"q\"\"\",,\xc3\n";
    std::fs::write(dir.path().join("in.csv"), input).expect("in.csv");
    let run = marsh_in(dir.path(), "read --csv in.csv | write --csv > out.csv");
    ok(&run);
    assert_eq!(
        std::fs::read(dir.path().join("out.csv")).expect("out"),
        input
    );
}

#[test]
fn files_from_upstream() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("1.csv"), "a\n1\n").expect("1");
    std::fs::write(dir.path().join("2.csv"), "a\n2\n").expect("2");
    let run = marsh_in(
        dir.path(),
        "ls *.csv | sort | read --csv --headers --numbers | map (d: d['a']) | red +\n\
         read --csv --headers *.csv | red count",
    );
    ok(&run);
    assert_eq!(run.stdout, "3\n2\n");
}

#[test]
fn malformed_input_is_one_line_with_its_place() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("bad.csv"), "a,b\n1,2\n\"x\ny\",2,3\n").expect("csv");
    std::fs::write(dir.path().join("bad.json"), "{\n  \"a\": [1, 2,]\n}").expect("json");
    std::fs::write(dir.path().join("bad.jsonl"), "1\n\n{\"a\" 2}\n").expect("jsonl");
    for (command, want) in [
        (
            "read --csv --headers bad.csv",
            "marsh: read: bad.csv:3:1: a record of 3 fields, but the header has 2\n",
        ),
        (
            "read --json bad.json",
            "marsh: read: bad.json:2:14: trailing comma\n",
        ),
        (
            "read --jsonl bad.jsonl",
            "marsh: read: bad.jsonl:3:6: expected `:`\n",
        ),
        (
            "read --csv missing.csv",
            "marsh: read: missing.csv: No such file or directory\n",
        ),
        (
            "read --json --headers bad.json",
            "marsh: read: --headers and --numbers go with --csv or --tsv\n",
        ),
        (
            "gen 2 | read --csv x.csv",
            "marsh: read: takes its files from upstream or from its arguments, not both (FILE starts a pipeline)\n",
        ),
        (
            "gen 1 | write --format '{'",
            "marsh: write: --format: '{' at offset 0 is never closed (write '{{' for a brace)\n",
        ),
        (
            "gen 1 | write --csv --json",
            "marsh: write: give one format: --csv, --tsv, --json, --jsonl or --format FMT\n",
        ),
    ] {
        let run = marsh_in(dir.path(), &format!("{command}\n(STATUS)\n(1)"));
        assert_eq!(run.stderr, want, "{command}");
        assert!(run.stdout.ends_with("1\n1\n"), "{command}: {}", run.stdout);
    }
}

#[test]
fn items_write_cannot_write_are_reported_and_skipped() {
    let run = common::marsh(
        "gen 2 | map (x: 1e300 * 1e300 if x == 0 else 'ok') | write --jsonl\n(STATUS)\n\
         gen 2 | map (x: {'a': x} if x else (x,)) | write --csv",
    );
    assert_eq!(run.stdout, "\"ok\"\n1\n0\n", "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "marsh: write: item inf: inf is not a JSON number\n\
         marsh: write: item {'a': 1}: a dict after records without a header\n"
    );
}

#[test]
fn an_error_repeated_over_many_items_is_summed_up() {
    let run = common::marsh("gen 100000 | map (x: x // 0) | red count\n(STATUS)");
    assert_eq!(run.stdout, "0\n1\n", "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 6, "{}", run.stderr);
    assert_eq!(lines[0], "marsh: map: item 0: division by zero");
    assert_eq!(
        lines[5],
        "marsh: map: 99,995 more items failed the same way: division by zero"
    );
    // Into an op's own 2> file, summary included.
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = marsh_in(dir.path(), "gen 8 | map (x: x // 0) 2> errs | red count");
    assert_eq!(run.stdout, "0\n", "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let errs = std::fs::read_to_string(dir.path().join("errs")).expect("errs");
    assert_eq!(errs.lines().count(), 6, "{errs}");
    assert!(errs.ends_with("3 more items failed the same way: division by zero\n"));
}

#[test]
fn a_reducer_count_that_does_not_fit_is_reported_once() {
    let run = common::marsh("gen 4 | red min max\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    assert_eq!(
        run.stderr,
        "marsh: red: 2 reducers, but item 0 has 1 field: give one reducer per field\n"
    );
}

#[test]
fn write_says_how_to_run_the_write_program() {
    let run = common::marsh("gen 1 | write someone\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    assert_eq!(
        run.stderr,
        "marsh: write: unknown argument 'someone' (try: help write; the write program: 'write' someone)\n"
    );
}

#[test]
fn expand_spreads_a_dict_in_a_field() {
    let run = common::marsh("gen 2 | map (x: (x, {'k': x, 'j': -x})) | expand 1");
    assert_eq!(
        run.stdout, "(0, ('k', 0))\n(0, ('j', 0))\n(1, ('k', 1))\n(1, ('j', -1))\n",
        "{}",
        run.stderr
    );
}

#[test]
fn text_from_upstream_is_parsed_as_one_input() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(
        dir.path().join("p.csv"),
        "name,note\nann,\"two\nlines\"\nbob,\"a, b\"\n",
    )
    .expect("p.csv");
    std::fs::write(dir.path().join("d.json"), "[{\"a\": 1},\n 2,\n \"x\"]").expect("d.json");
    let run = marsh_in(
        dir.path(),
        "read --csv --headers p.csv\n\
         < p.csv read --csv --headers\n\
         cat p.csv | read --csv --headers\n\
         cat d.json | read --json\n\
         printf '1\\n\\n[2]\\n' | read --jsonl\n\
         seq 1 100000 | read --csv --numbers | head 2\n\
         (STATUS)",
    );
    ok(&run);
    let dicts = "{'name': 'ann', 'note': 'two\\nlines'}\n{'name': 'bob', 'note': 'a, b'}\n";
    assert_eq!(
        run.stdout,
        format!("{dicts}{dicts}{dicts}{{'a': 1}}\n2\nx\n1\n[2]\n(1,)\n(2,)\n0\n")
    );
}

#[test]
fn malformed_text_from_upstream_names_its_place() {
    let run = common::marsh(
        "printf 'a,b\\n1,2,3\\n' | read --csv --headers\n(STATUS)\n\
         printf '{\\n\"a\": }' | read --json\n(STATUS)\n\
         gen 2 | read --csv\n(STATUS)",
    );
    assert_eq!(run.stdout, "1\n1\n1\n");
    assert_eq!(
        run.stderr,
        "marsh: read: <input>:2:1: a record of 3 fields, but the header has 2\n\
         marsh: read: <input>:2:6: expected value\n\
         marsh: read: item 0: not a file or a line of text\n\
         marsh: read: item 1: not a file or a line of text\n"
    );
}

#[test]
fn a_programs_lines_counted_without_items_count_as_items_would() {
    let run = common::marsh(
        "printf 'a\\nb' | red count\n\
         printf 'a\\n\\n\\xff\\r\\n' | red count\n\
         printf '' | red count\n\
         printf 'a\\nb\\n' | map (s: s) | red count\n\
         seq 1 100000 | red count",
    );
    assert_eq!(run.stdout, "2\n3\n0\n2\n100000\n", "{}", run.stderr);
}

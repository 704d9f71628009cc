//! Bytes stay bytes: a program's output that goes to a file or another program with no op in
//! between arrives untouched (NUL, `\xff`, `\r\n`, no final newline).

mod common;

use common::marsh_in;
use std::path::Path;

/// NUL, an invalid UTF-8 byte, a CRLF line end and no final newline.
const AWKWARD: &[u8] = b"a\x00b\xff\r\nsecond\r\nno newline at the end";

fn awkward_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("src.bin"), AWKWARD).expect("written");
    dir
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).expect("the output file exists")
}

fn assert_copies(command: &str) {
    let dir = awkward_dir();
    let run = marsh_in(dir.path(), command);
    assert_eq!(run.stderr, "", "{command}");
    assert_eq!(run.status, 0, "{command}");
    assert_eq!(read(dir.path(), "o"), AWKWARD, "{command}");
}

#[test]
fn a_program_into_a_file_keeps_every_byte() {
    assert_copies("cat src.bin > o");
}

#[test]
fn two_programs_into_a_file_keep_every_byte() {
    assert_copies("cat src.bin | cat > o");
}

#[test]
fn appending_keeps_every_byte() {
    let dir = awkward_dir();
    std::fs::write(dir.path().join("o"), b"before\n").expect("written");
    let run = marsh_in(dir.path(), "cat src.bin >> o");
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(read(dir.path(), "o"), [b"before\n", AWKWARD].concat());
}

#[test]
fn gzip_round_trip_through_files() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let csv: String = (0..2000).map(|i| format!("{i},{}\n", i * i)).collect();
    std::fs::write(dir.path().join("p.csv"), &csv).expect("written");
    let run = marsh_in(
        dir.path(),
        "gzip -c p.csv > p.gz\ngunzip -c p.gz > back.csv",
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(read(dir.path(), "back.csv"), csv.as_bytes());
}

#[test]
fn ops_still_write_lines_into_a_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = marsh_in(
        dir.path(),
        "gen 3 > o\nprintf 'x\\ny' | map (s: s.upper()) >> o",
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(read(dir.path(), "o"), b"0\n1\n2\nX\nY\n");
}

#[test]
fn a_program_reads_a_file_source_untouched() {
    assert_copies("< src.bin cat > o");
    assert_copies("< src.bin | cat > o");
}

#[test]
fn a_missing_input_file_is_one_line() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = marsh_in(dir.path(), "< missing-file cat > o\n(STATUS)");
    assert_eq!(
        run.stderr,
        "marsh: <: missing-file: No such file or directory\n"
    );
    assert_eq!(run.stdout, "1\n", "the shell goes on, STATUS 1");
}

// ---- the op path: a program's lines read by an op and written back ----------------------

/// Every byte value, CRLF line ends, NULs, a valid character from the range that holds bytes
/// (U+10FFFF), and no final newline.
fn every_byte() -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.extend_from_slice(b"\r\nCRLF line\r\n\x00\x00nul\x00\r\n\xf4\x8f\xbf\xbf\xc3\xa9 ");
    bytes.extend_from_slice(b"\xe2\x82 cut short\n\xff\xfe no newline at the end");
    bytes
}

/// Whether `cmp` finds files `a` and `b` in `dir` equal.
fn cmp_equal(dir: &Path, a: &str, b: &str) -> bool {
    std::process::Command::new("cmp")
        .args([a, b])
        .current_dir(dir)
        .status()
        .expect("cmp runs")
        .success()
}

/// Runs `command` in a directory holding `src.bin` (= `bytes`) and `want.bin` (= `bytes` with
/// the final newline an op's output adds), and checks that it wrote `o` equal to `want.bin`.
fn assert_op_round_trip(bytes: &[u8], command: &str) {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("src.bin"), bytes).expect("written");
    let mut want = bytes.to_vec();
    if !want.is_empty() && want.last() != Some(&b'\n') {
        want.push(b'\n');
    }
    std::fs::write(dir.path().join("want.bin"), &want).expect("written");
    let run = marsh_in(dir.path(), command);
    assert_eq!(run.stderr, "", "{command}");
    assert_eq!(run.status, 0, "{command}");
    assert!(
        cmp_equal(dir.path(), "want.bin", "o"),
        "{command}: cmp differs"
    );
}

#[test]
fn an_op_between_keeps_every_byte_but_adds_a_final_newline() {
    let bytes = every_byte();
    for command in [
        "cat src.bin | map (x: x) > o",
        "< src.bin | map (x: x) > o",
        "cat src.bin | select (x: true) >> o",
        "cat src.bin | map (x: x) | cat > o",
        "cat src.bin | map (x: x) >$ v\nv <$ > o",
    ] {
        assert_op_round_trip(&bytes, command);
    }
}

#[test]
fn an_op_printing_to_stdout_gives_back_the_bytes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bytes = every_byte();
    std::fs::write(dir.path().join("src.bin"), &bytes).expect("written");
    let out = assert_cmd::Command::cargo_bin("marsh")
        .expect("the marsh binary is built")
        .args(["-c", "cat src.bin | map (x: x)"])
        .current_dir(dir.path())
        .env("MARSH_RUNTIME_DIR", dir.path().join(".rt"))
        .output()
        .expect("marsh runs");
    assert_eq!(out.stdout, [&bytes[..], b"\n"].concat());
}

#[test]
fn ops_see_lossless_lines_as_strings() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("src.bin"), every_byte()).expect("written");
    let run = marsh_in(
        dir.path(),
        "cat src.bin | red count\n\
         cat src.bin | select (x: 'nul' in x) | map (x: len(x))\n\
         cat src.bin | select (x: x.endswith('\\r')) | red count\n\
         cat src.bin | select (x: x.startswith('\\u{10ffff}')) | map (x: x.rstrip())",
    );
    assert_eq!(run.stderr, "");
    // The 256 values hold one '\n' (byte 10) and the text after them four more.
    assert_eq!(
        run.stdout, "6\n7\n3\n\u{fffd}\u{fffd} no newline at the end\n",
        "held bytes print as themselves (lossily decoded here by the test)"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Random bytes (biased towards line ends, CR and bytes that break UTF-8) through an op.
    #[test]
    fn random_bytes_survive_an_op(bytes in proptest::collection::vec(
        proptest::prop_oneof![
            proptest::prelude::any::<u8>(),
            proptest::prelude::Just(b'\n'),
            proptest::prelude::Just(b'\r'),
            proptest::prelude::Just(0xf4u8),
            proptest::prelude::Just(0x8fu8),
        ],
        0..600,
    )) {
        assert_op_round_trip(&bytes, "cat src.bin | map (x: x) > o");
    }
}

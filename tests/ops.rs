//! Every op, run through the real `marsh` binary; outputs kept as insta snapshots.

mod common;

use common::{marsh, transcripts};

macro_rules! snapshot_group {
    ($name:ident, [$($cmd:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), transcripts(&[$($cmd),+]));
        }
    };
}

snapshot_group!(
    generate,
    [
        "gen 5",
        "gen 3 10",
        "gen (2 * 2) (1 - 3)",
        "gen 0 | head 3",
        "gen -1",
        "gen x",
        "gen 1 2 3"
    ]
);
snapshot_group!(
    map_and_functions,
    [
        "gen 5 | map (x: x * 10)",
        "gen 3 | (x: (x, x * x))",
        "gen 3 | map (x: (x, -x)) | map (a, b: a + b)",
        "(1 + 2)",
        "gen 3 | map (x: 10 // x)",
        "gen 2 | map (x, y: x)",
        "gen 3 | map 5",
    ]
);
snapshot_group!(
    select,
    [
        "gen 10 | select (x: x % 3 == 0)",
        "gen 4 | select (x: 'a')",
        "gen 3 | select"
    ]
);
snapshot_group!(
    red,
    [
        "gen 10 | red +",
        "gen 10 1 | red *",
        "gen 10 | red count",
        "gen 0 | head 0 | red count",
        "gen 5 | red min",
        "gen 5 | red max",
        "gen 3 | red concat",
        "gen 3 | map (x: x > 0) | red and",
        "gen 3 | map (x: x > 1) | red or",
        "gen 6 | map (x: (x % 2, x)) | red . +",
        "gen 6 | map (x: (x % 3, x, 1)) | red . + count",
        "gen 4 | red -i +",
        "gen 5 1 | red (acc, x: acc * 10 + x)",
        "gen 3 | red nope",
        "gen 3 | map (x: 9223372036854775807 - 1 + x) | red +",
    ]
);
snapshot_group!(
    head_tail,
    [
        "gen 10 | head 3",
        "gen 10 | tail 3",
        "gen 2 | tail 5",
        "gen 3 | head 0",
        "gen 3 | head -1"
    ]
);
snapshot_group!(
    sort_unique_reverse,
    [
        "gen 5 | map (x: (x * 7) % 5) | sort",
        "gen 5 | sort -r",
        "gen 4 | map (x: ('abcd'[x], -x)) | sort (a, b: b)",
        "gen 10 | map (x: x % 3) | unique",
        "gen 4 | reverse",
        "gen 3 | map (x: [x, 'a', 1.5]) | sort",
    ]
);
snapshot_group!(
    expand_window,
    [
        "gen 2 | map (x: (x, x + 10)) | expand",
        "gen 2 | map (x: (x, [1, 2])) | expand 1",
        "gen 5 | window -d 2",
        "gen 5 | window -o 3",
        "gen 2 | window -o 3",
        "gen 5 | window 2",
    ]
);
snapshot_group!(
    values_and_printing,
    [
        "(1.0)",
        "(0.1 + 0.2)",
        "('it\\'s')",
        "((1, 'a'))",
        "((1,))",
        "([1, [2, 'x']])",
        "(none)",
        "(true and false)",
        "('a,b,c'.split(','))",
        "(' x '.strip().upper())",
        "(len('héllo'))",
        "(7 / 2)",
        "(-7 // 2)",
        "(-7 % 3)",
        "(2 ** 10)",
        "(2 ** -1)",
        "(round(2.675, 2))",
        "(max(3, 9, 4))",
        "('b' in 'abc')",
        "((1, 2, 3)[1:])",
        "(int('42') + 1)",
        "(str(5) + 'x')",
    ]
);
snapshot_group!(
    variables_and_status,
    [
        "a = (5)\n(a * 2)",
        "name = hello\n(name.upper())",
        "a = (1, 'x')\nenv",
        "a = (1)\nenv -d a\nenv",
        "env -d nope",
        "STATUS = (1)",
        "gen 3 | map (x: 1 // 0)\n(STATUS)",
        "nonexistent-program-xyz\n(STATUS)",
        "(9223372036854775807 + 1)\n(STATUS)",
    ]
);
snapshot_group!(
    parse_errors,
    [
        "gen 3 | | head 1",
        "gen 'abc",
        "gen 3 | map (x: x +)",
        "map (x: x) &&"
    ]
);
snapshot_group!(help_and_version, ["help head", "help nope", "gen 3 | help"]);

#[test]
fn help_lists_every_op() {
    let run = marsh("help");
    assert_eq!(run.status, 0);
    for op in marsh::ops::names() {
        assert!(run.stdout.contains(op), "help lacks {op}:\n{}", run.stdout);
    }
}

#[test]
fn version_names_the_crate_version() {
    let run = marsh("version");
    assert_eq!(run.stdout, format!("marsh {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn head_stops_an_endless_generator() {
    // Would never end if head did not stop its upstream.
    let run = marsh("gen 0 | head 3");
    assert_eq!(run.stdout, "0\n1\n2\n");
    assert_eq!(run.status, 0);
}

#[test]
fn timer_ticks() {
    let run = marsh("timer 0.01 | head 3 | map (t: t > 1000000000)");
    assert_eq!(run.stdout, "true\ntrue\ntrue\n");
}

#[test]
fn files_in_and_out() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::marsh_in(
        dir.path(),
        "gen 3 > out.txt\ngen 2 5 >> out.txt\n< out.txt | map (l: int(l) * 2)",
    );
    assert_eq!(run.stdout, "0\n2\n4\n10\n12\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.txt")).unwrap(),
        "0\n1\n2\n5\n6\n"
    );
    let run = common::marsh_in(dir.path(), "< missing.txt | head 1");
    assert_eq!(run.status, 1);
    assert_eq!(
        run.stderr,
        "marsh: <: missing.txt: No such file or directory\n"
    );
}

#[test]
fn ls_lists_files_with_fields() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    std::fs::create_dir_all(w.join("sub")).unwrap();
    std::fs::write(w.join("a.txt"), "hello").unwrap();
    std::fs::write(w.join("sub/b.rs"), "fn main() {}").unwrap();
    let run = common::marsh_in(
        dir.path(),
        "cd w\nls | map (f: (f.name, f.is_dir))\nls -rf | map (f: (f.path, f.size, f.suffix))\nls -d\nls sub/*.rs\nls nowhere",
    );
    insta::assert_snapshot!("ls", run.transcript("ls ..."));
}

#[test]
fn cd_and_pwd() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let run = common::marsh_in(dir.path(), "cd sub\npwd\ncd /nonexistent-dir\n(STATUS)");
    let canon = dir.path().canonicalize().unwrap();
    assert_eq!(run.stdout, format!("{}/sub\n1\n", canon.display()));
    assert_eq!(
        run.stderr,
        "marsh: cd: /nonexistent-dir: No such file or directory\n"
    );
}

#[test]
fn exit_status_is_the_last_commands() {
    assert_eq!(marsh("gen 1").status, 0);
    assert_eq!(marsh("gen x").status, 1);
    assert_eq!(marsh("exit 7").status, 7);
    assert_eq!(marsh("gen 1\nexit\ngen x").status, 0);
}

#[test]
fn scripts_and_stdin_run_one_command_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.marsh");
    std::fs::write(
        &script,
        "# a comment\ngen 3 | red +\n\nx = (2)\n(x * 21)\nexit 3\ngen 1\n",
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("marsh")
        .unwrap()
        .arg(&script)
        .env("MARSH_RUNTIME_DIR", dir.path().join("rt"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n42\n");
    assert_eq!(out.status.code(), Some(3));
    let out = assert_cmd::Command::cargo_bin("marsh")
        .unwrap()
        .write_stdin("gen 2\nnope-not-a-program\n(STATUS)\n")
        .env("MARSH_RUNTIME_DIR", dir.path().join("rt"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n1\n1\n");
    assert_eq!(out.status.code(), Some(0));
    let out = assert_cmd::Command::cargo_bin("marsh")
        .unwrap()
        .arg("/no/such/script")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "marsh: /no/such/script: No such file or directory\n"
    );
    assert_eq!(out.status.code(), Some(127));
}

#[test]
fn background_jobs_in_a_script_commit_when_waited_for() {
    let run =
        marsh("gen 5 >$ x &\nwait\nx <$ red +\ngen 3 >$ y &\ngen 100 >$ y &\nwait\ny <$ red count");
    assert_eq!(run.stdout, "10\n100\n", "stderr: {}", run.stderr);
}
snapshot_group!(
    ops_out_of_place,
    [
        "gen 3 | gen 2",
        "map (x: x)",
        "head 2",
        "gen 3 | jobs",
        "gen 3 | store x | head 1",
        "gen 3 | load x",
        "cd /tmp /var",
        "version 2",
        "fg %1 %2",
        "kill -9",
    ]
);

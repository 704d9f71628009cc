//! Host programs first, in the middle and last in a pipeline; their statuses; missing ones.

mod common;

use common::marsh;

#[test]
fn program_first_yields_its_lines() {
    let run = marsh("printf 'a\\nb\\n' | map (s: s.upper())");
    assert_eq!(run.stdout, "A\nB\n");
    assert_eq!(run.status, 0);
}

#[test]
fn program_in_the_middle_gets_items_as_lines() {
    let run = marsh("gen 12 | grep 1 | map (s: int(s) * 10)");
    assert_eq!(run.stdout, "10\n100\n110\n");
}

#[test]
fn program_last_prints_directly() {
    let run = marsh("gen 3 | tr 0-9 a-j");
    assert_eq!(run.stdout, "a\nb\nc\n");
}

#[test]
fn programs_side_by_side_are_piped() {
    let run = marsh("printf 'x\\ny\\nx\\n' | sort | uniq -c | map (s: s.strip())");
    assert_eq!(run.stdout, "2 x\n1 y\n");
}

#[test]
fn exit_status_reaches_status() {
    let run = marsh("gen 3 | grep 7\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    let run = marsh("sh -c 'exit 42'\n(STATUS)");
    assert_eq!(run.stdout, "42\n");
    let run = marsh("sh -c 'kill -TERM $$'\n(STATUS)");
    assert_eq!(run.stdout, "143\n");
}

#[test]
fn a_producer_sees_its_output_closed_by_head() {
    // `yes` never ends by itself: it must die of SIGPIPE once head has its items, and that
    // is a normal end.
    let run = marsh("yes | head 2\n(STATUS)");
    assert_eq!(run.stdout, "y\ny\n0\n");
}

#[test]
fn an_endless_generator_stops_when_the_program_closes_its_input() {
    let run = marsh("gen 0 | 'head' -n 2");
    assert_eq!(run.stdout, "0\n1\n");
    assert_eq!(run.status, 0);
}

#[test]
fn missing_program_is_one_line() {
    let run = marsh("no-such-program-here 1 2");
    assert_eq!(
        run.stderr,
        "marsh: unknown op or program: no-such-program-here\n"
    );
    assert_eq!(run.status, 1);
    let run = marsh("/no/such/path");
    assert_eq!(run.stderr, "marsh: /no/such/path: no such program\n");
}

#[test]
fn a_program_shadowed_by_an_op_runs_by_path_or_quoted_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.txt"), "").unwrap();
    let run = common::marsh_in(dir.path(), "/bin/ls\n'ls' f.txt");
    assert_eq!(run.stdout, "f.txt\nf.txt\n");
}

#[test]
fn globs_and_quotes_in_arguments() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["a.rs", "b.rs", "c.txt"] {
        std::fs::write(dir.path().join(f), "").unwrap();
    }
    let run = common::marsh_in(
        dir.path(),
        "echo *.rs\necho '*.rs'\necho \"two words\" x\\ y\necho *.none",
    );
    assert_eq!(run.stdout, "a.rs b.rs\n*.rs\ntwo words x y\n*.none\n");
}

#[test]
fn stderr_passes_through() {
    let run = marsh("sh -c 'echo oops >&2'");
    assert_eq!(run.stderr, "oops\n");
}

#[test]
fn expression_arguments_become_words() {
    let run = marsh("echo (1 + 2) ('a' * 3)");
    assert_eq!(run.stdout, "3 aaa\n");
}

//! marcel's working ops: `squish`, `join`, `union`, `intersect`, `difference` (other inputs:
//! reservoirs), `pwd` as a source, `cd -`, `pushd`, `popd` and `dirs`.

mod common;

use common::{marsh, marsh_in};

fn lines(run: &common::Run) -> Vec<&str> {
    run.stdout.lines().collect()
}

#[test]
fn squish_reduces_each_items_fields() {
    let run = marsh(
        "gen 3 | map (x: (x, x * 10)) | squish\n\
         ([3, 9, 4]) | squish max\n\
         ('a', 'b') | squish (acc, x: x + acc)\n\
         (()) | squish\n\
         (()) | squish count\n\
         (7) | squish",
    );
    assert_eq!(
        lines(&run),
        ["0", "11", "22", "9", "ba", "none", "0", "7"],
        "{}",
        run.stderr
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn squish_bad_input() {
    let run = marsh("(1, 'a') | squish\n(STATUS)\ngen 2 | squish .\n(STATUS)\ngen 2 | squish + +");
    assert_eq!(lines(&run), ["1", "1"]);
    assert_eq!(
        run.stderr,
        "marsh: squish: item (1, 'a'): unsupported operand types for +: 'int' and 'str'\n\
         marsh: squish: '.' groups columns in red; squish needs a reducer such as + or max\n\
         marsh: squish: usage: squish [REDUCER] (try: help squish)\n"
    );
}

#[test]
fn join_on_the_first_field() {
    let run = marsh(
        "(('a', 1), ('b', 2), ('a', 3)) | expand >$ r\n\
         ('a', 'b', 'c') | expand | map (k: (k, k.upper())) | join r\n\
         ('a', 'c') | expand | join -k r",
    );
    assert_eq!(
        lines(&run),
        [
            "('a', 'A', 1)",
            "('a', 'A', 3)",
            "('b', 'B', 2)",
            "('a', 1)",
            "('a', 3)",
            "c"
        ],
        "{}",
        run.stderr
    );
}

#[test]
fn join_of_items_with_no_fields_is_an_error() {
    let run = marsh(
        "gen 2 | map (x: (x, x)) >$ r\n\
         (()) | join r\n(STATUS)\n\
         (()) >$ e\n\
         gen 2 | join e\n(STATUS)\n\
         gen 2 | join\n\
         gen 2 | join nothing\n\
         gen 2 | join r r",
    );
    assert_eq!(lines(&run), ["1", "1"], "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "marsh: join: item (): an item with no fields has no first field to join on\n\
         marsh: join: the reservoir holds (): an item with no fields has no first field to join on\n\
         marsh: join: needs a reservoir to work with: P | join r\n\
         marsh: join: no variable named nothing; the join program: 'join' nothing\n\
         marsh: join: joins with one reservoir: P | join [-k] r\n"
    );
}

#[test]
fn set_ops_count_like_multisets() {
    let run = marsh(
        "gen 5 | select (x: x % 2 == 0) >$ ev\n\
         (2, 3) | expand >$ mid\n\
         gen 3 | union ev mid\n\
         (0, 0, 2, 2, 3) | expand | intersect ev\n\
         (0, 2, 2, 3) | expand | intersect ev mid\n\
         (0, 0, 1, 2, 3) | expand | difference ev\n\
         gen 5 | difference ev mid\n\
         gen 3 | union ev | head 4",
    );
    let want = [
        "0 1 2 0 2 4 2 3", // union: input, then each reservoir
        "0 2",             // intersect: one 0 and one 2 in ev
        "2",               // in both ev and mid
        "0 1 3",           // difference: one 0 taken away
        "1",
        "0 1 2 0", // union stops when downstream is done
    ];
    let got: Vec<&str> = run.stdout.lines().collect();
    let groups = [8, 2, 1, 3, 1, 4];
    let mut at = 0;
    for (n, w) in groups.iter().zip(want) {
        assert_eq!(got[at..at + n].join(" "), w, "{}", run.stderr);
        at += n;
    }
    assert_eq!(got.len(), at);
    let run = marsh("x = (5)\ngen 2 | union x\n(STATUS)\ngen 2 | union '(x)'");
    assert_eq!(lines(&run), ["1"]);
    assert_eq!(
        run.stderr,
        "marsh: union: x holds a value (int), not a stream; print it with (x)\n\
         marsh: union: expected the name of a reservoir, got '(x)' (usage: union R...)\n"
    );
}

#[test]
fn pwd_is_a_file_item() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir(dir.path().join("sub")).expect("sub");
    let run = marsh_in(
        &dir.path().join("sub"),
        "pwd | map (f: (f.name, f.is_dir))\npwd",
    );
    let here = dir.path().join("sub").canonicalize().expect("canonical");
    assert_eq!(
        run.stdout,
        format!("('sub', true)\n{}\n", here.display()),
        "{}",
        run.stderr
    );
    let run = marsh("pwd x\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    assert_eq!(run.stderr, "marsh: pwd: usage: pwd (try: help pwd)\n");
}

#[test]
fn cd_dash_and_the_directory_stack() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(root.join("a/b")).expect("a/b");
    let run = marsh_in(
        &root,
        "cd a\ncd -\npwd\n\
         pushd a\npushd b\ndirs\npushd\npopd\npopd\npwd\n\
         popd\n(STATUS)\npushd nowhere\n(STATUS)\ndirs -c\ndirs",
    );
    let r = root.display().to_string();
    let a = root.join("a").display().to_string();
    let b = root.join("a/b").display().to_string();
    let want = [
        &r, &r, // cd - prints where it went; pwd agrees
        &a, &r, // pushd a
        &b, &a, &r, // pushd b
        &b, &a, &r, // dirs
        &a, &b, &r, // pushd alone swaps the top two
        &b, &r, // popd
        &r, // popd
        &r, // pwd
        "1", "1", &r,
    ];
    assert_eq!(lines(&run), want, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "marsh: popd: the directory stack is empty\n\
         marsh: pushd: nowhere: No such file or directory\n"
    );
    let run = marsh("cd -\n(STATUS)\npushd\n(STATUS)");
    assert_eq!(lines(&run), ["1", "1"]);
    assert_eq!(
        run.stderr,
        "marsh: cd: no previous directory\nmarsh: pushd: the directory stack is empty\n"
    );
}

#[test]
fn join_says_how_to_run_the_join_program() {
    let run = marsh("join a.txt b.txt\n(STATUS)\ngen 2 | join a.txt");
    assert_eq!(run.stdout, "1\n");
    assert_eq!(
        run.stderr,
        "marsh: join: needs items to work on: try gen 3 | join; the join program: 'join' a.txt b.txt\n\
         marsh: join: expected the name of a reservoir, got 'a.txt' (usage: join [-k] R); the join program: 'join' a.txt\n"
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("a"), "1 x\n2 y\n").expect("a");
    std::fs::write(dir.path().join("b"), "1 p\n").expect("b");
    let run = marsh_in(dir.path(), "'join' a b");
    assert_eq!(run.stdout, "1 x p\n", "{}", run.stderr);
}

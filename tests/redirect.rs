//! Redirections on programs (`2> f`, `> f 2>&1`, `prog < f`, `&> f`, `2>&1 |`): the bytes that
//! go through them arrive untouched, exactly as bash delivers them for the same command.

mod common;

use common::marsh_in;
use std::path::Path;

/// Every byte value, then CRLF line ends, NULs, and no final newline.
fn awkward() -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..=255u8).collect();
    bytes.extend_from_slice(b"\r\nline two\r\n\x00\x00nul\x00\r\n\xff\xfe no newline at the end");
    bytes
}

/// Deterministic noise (a linear congruential generator), no final newline: 10 MB, or
/// `MARSH_NOISE_MB` megabytes (`MARSH_NOISE_MB=1024` for the 1 GB run).
fn noise() -> Vec<u8> {
    let mb: usize = std::env::var("MARSH_NOISE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..mb << 20)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 56) as u8
        })
        .collect()
}

/// A directory holding `src.bin`.
fn dir_with(content: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("src.bin"), content).expect("written");
    dir
}

/// What bash leaves: runs `command` with `bash -c` in a fresh directory holding `content`.
struct BashRun {
    dir: tempfile::TempDir,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn bash(content: &[u8], command: &str) -> BashRun {
    let dir = dir_with(content);
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(command)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("LANG", "C.UTF-8")
        .output()
        .expect("bash runs");
    BashRun {
        dir,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs `command` in marsh and in bash and compares the file `o`, byte for byte, for both
/// fixtures; also what each printed.
fn same_as_bash(command: &str) {
    for (what, content) in [("awkward", awkward()), ("noise", noise())] {
        let expected = bash(&content, command);
        let dir = dir_with(&content);
        let run = marsh_in(dir.path(), command);
        assert_eq!(run.status, 0, "{command} ({what}): {}", run.stderr);
        let (got, want) = (read(dir.path(), "o"), read(expected.dir.path(), "o"));
        assert!(
            got == want,
            "{command} ({what}): o differs from bash's ({} bytes, bash {})",
            got.len(),
            want.len()
        );
        assert!(!want.is_empty(), "{command}: the test writes something");
        assert_eq!(
            run.stdout.as_bytes(),
            String::from_utf8_lossy(&expected.stdout).as_bytes()
        );
    }
}

#[test]
fn plain_output_and_input_as_bash_does() {
    same_as_bash("cat src.bin > o");
    same_as_bash("cat src.bin > o\ncat src.bin >> o");
    same_as_bash("< src.bin cat > o");
    same_as_bash("cat src.bin | cat > o");
}

/// Writes src.bin to stdout, then to stderr.
const BOTH: &str = "sh -c 'cat src.bin; cat src.bin >&2'";

#[test]
fn stderr_into_a_file() {
    same_as_bash("sh -c 'cat src.bin >&2' 2> o");
    same_as_bash("sh -c 'cat src.bin >&2' 2>o");
}

#[test]
fn stderr_appended_to_a_file() {
    same_as_bash("sh -c 'cat src.bin >&2' 2> o\nsh -c 'cat src.bin >&2' 2>> o");
}

#[test]
fn stdout_and_stderr_into_one_file() {
    same_as_bash(&format!("{BOTH} > o 2>&1"));
    same_as_bash(&format!("{BOTH} &> o"));
    same_as_bash(&format!("{BOTH} &>o"));
    same_as_bash("cat src.bin 2> o 1>&2");
}

#[test]
fn a_program_reads_a_file_redirected_after_its_words() {
    same_as_bash("cat < src.bin > o");
    same_as_bash("cat -v < src.bin > o");
    same_as_bash("cat 0< src.bin | cat > o");
    same_as_bash("cat 3< src.bin 0<&3 > o");
}

#[test]
fn descriptors_copied_and_closed() {
    same_as_bash("cat src.bin 3> o 1>&3 3>&-");
    same_as_bash("cat src.bin 4>> o 1>&4");
}

#[test]
fn stderr_joins_the_pipe() {
    same_as_bash(&format!("{BOTH} 2>&1 | cat > o"));
    same_as_bash(&format!("{BOTH} 2>&1 | cat | cat > o"));
}

#[test]
fn order_matters_as_in_posix() {
    // `2>&1 > o`: stderr goes where stdout went before (marsh's stdout), stdout into o.
    let command = format!("{BOTH} 2>&1 > o");
    let content = awkward();
    let expected = bash(&content, &command);
    let dir = dir_with(&content);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_marsh"))
        .arg("-c")
        .arg(&command)
        .current_dir(dir.path())
        .output()
        .expect("marsh runs");
    assert_eq!(read(dir.path(), "o"), read(expected.dir.path(), "o"));
    assert_eq!(out.stdout, expected.stdout);
    assert_eq!(out.stdout, content, "stderr went to the old stdout");
    assert_eq!(out.stderr, expected.stderr);
}

#[test]
fn a_descriptor_number_is_not_an_argument() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = marsh_in(dir.path(), "echo a 2>f");
    assert_eq!(
        (run.stdout.as_str(), run.status),
        ("a\n", 0),
        "{}",
        run.stderr
    );
    assert_eq!(read(dir.path(), "f"), b"", "echo writes nothing on stderr");
    // POSIX: `a2>f` is the word a2 and a redirection of stdout.
    let run = marsh_in(dir.path(), "echo a2>g");
    assert_eq!(run.stdout, "");
    assert_eq!(read(dir.path(), "g"), b"a2\n");
}

#[test]
fn an_error_message_arrives_on_stdout() {
    let run = common::marsh("'ls' /nonexistent 2>&1 | cat\n(STATUS)");
    assert_eq!(run.stderr, "");
    assert!(
        run.stdout.starts_with("ls: ") && run.stdout.contains("/nonexistent"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("\n0\n"),
        "cat's status: {}",
        run.stdout
    );
}

#[test]
fn a_glued_store_stays_a_store_and_a_spaced_dollar_is_a_path() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = marsh_in(dir.path(), "echo hi >$x\nx <$\necho there > $HOME/y");
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("hi\n", ""));
    assert_eq!(
        read(dir.path(), "y"),
        b"there\n",
        "HOME is the test's directory"
    );
}

#[test]
fn bad_redirections_are_one_line_and_status_1() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (command, message) in [
        (
            "echo a 5>&9",
            "marsh: 5>&9: file descriptor 9 is not open\n",
        ),
        (
            "cat < missing",
            "marsh: <: missing: No such file or directory\n",
        ),
        (
            "echo a 2> $MARSH_UNSET_VARIABLE",
            "marsh: 2>: $MARSH_UNSET_VARIABLE is not set\n",
        ),
        (
            "cd / 2> e",
            "marsh: cd: runs in the shell and takes no '2>'\n",
        ),
        (
            "gen 3 2>&1",
            "marsh: gen: an op takes no '2>&1': it takes 2> FILE or 2>> FILE for its error messages\n",
        ),
        (
            "gen 3 > e | head 1",
            "marsh: gen: an op takes no '>': its items go down the pipeline, or into the line's final > FILE\n",
        ),
    ] {
        let run = marsh_in(dir.path(), &format!("{command}\n(STATUS)\necho still up"));
        assert_eq!(run.stderr, message, "{command}");
        assert_eq!(run.stdout, "1\nstill up\n", "{command}");
    }
    assert!(!dir.path().join("e").exists(), "nothing ran");
    // A syntax error: its line, then the line and a caret, as for every parse error.
    let run = marsh_in(dir.path(), "echo a 2>\n(STATUS)\necho still up");
    let first = run.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "marsh: parse error at column 10: missing file name after '2>'"
    );
    assert_eq!(run.stdout, "1\nstill up\n");
}

#[test]
fn an_ops_error_messages_follow_its_2_redirection() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let run = marsh_in(
        dir.path(),
        "gen 3 | map (x: 1 // (x - 1)) 2> e | map (x: x * 10) 2>> e\n(STATUS)",
    );
    assert_eq!(run.stderr, "", "the messages went into e");
    assert_eq!(run.stdout, "-10\n10\n1\n", "the stream went on; STATUS 1");
    assert_eq!(
        read(dir.path(), "e"),
        b"marsh: map: item 1: division by zero\n"
    );
    // Without a redirection they stay on stderr.
    let run = marsh_in(dir.path(), "gen 2 | map (x: 1 // x)");
    assert_eq!(run.stderr, "marsh: map: item 0: division by zero\n");
}

#[test]
fn redirections_work_under_job_control() {
    let mut s = common::start("marsh", "redirections");
    let home = s.dir().join("home");
    let fds = format!("/proc/{}/fd", s.shell_pid());
    let open_before = std::fs::read_dir(&fds).unwrap().count();
    // Programs only: the shell spawns them itself, as job members.
    let out = s.run("echo a 2>f").unwrap();
    assert_eq!(out.trim(), "a");
    s.run("sh -c 'echo out; echo err >&2' > both 2>&1").unwrap();
    // With ops or an output file: a forked leader runs the pipeline.
    s.run("sh -c 'echo out; echo err >&2' 2>&1 | cat > piped")
        .unwrap();
    s.run("gen 3 | map (x: 1 // (x - 1)) 2> errs > items")
        .unwrap();
    let out = s.run("grep u < both").unwrap();
    assert_eq!(out.trim(), "out");
    let out = s.run("cat < missing").unwrap();
    assert_eq!(out.trim(), "marsh: <: missing: No such file or directory");
    let open_after = std::fs::read_dir(&fds).unwrap().count();
    assert_eq!(
        open_after, open_before,
        "the shell keeps no redirected file open"
    );
    s.type_line("exit").unwrap();
    s.wait_exit().unwrap();
    assert_eq!(read(&home, "f"), b"");
    assert_eq!(read(&home, "both"), b"out\nerr\n");
    assert_eq!(read(&home, "piped"), b"out\nerr\n");
    assert_eq!(read(&home, "items"), b"-1\n1\n");
    assert_eq!(
        read(&home, "errs"),
        b"marsh: map: item 1: division by zero\n"
    );
}

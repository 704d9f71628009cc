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

//! Reservoirs through the real `marsh` binary: forms, round trips, errors, atomic commit,
//! and the session directory's life.

mod common;

use common::{marsh_in, transcripts};
use std::path::Path;

/// The files under the runtime directory the tests give marsh.
fn runtime_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let base = dir.join(".marsh-runtime");
    for entry in walk(&base) {
        out.push(entry.strip_prefix(&base).unwrap().display().to_string());
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            out.push(e.path());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                out.extend(walk(&e.path()));
            }
        }
    }
    out
}

#[test]
fn forms() {
    insta::assert_snapshot!(
        "reservoir_forms",
        transcripts(&[
            "gen 5 >$ x\nx <$\nx <$ head 2\nx <$ red +",
            "gen 3 >$ x\ngen 2 10 >>$ x\nx <$",
            "gen 2 >>$ fresh\nfresh <$",
            "gen 4 >$ x\nx <$ map (v: v * 10) >$ y\ny <$\nx <$ >$ z\nz <$ red count",
            "gen 3 | store s\nload s | map (v: -v)\ngen 1 7 | store -a s\nload s",
            "(('a', 1.5, none, true, [1, (2, 'b')])) >$ mixed\nmixed <$",
        ])
    );
}

#[test]
fn mistakes_are_one_line_and_change_nothing() {
    insta::assert_snapshot!(
        "reservoir_mistakes",
        transcripts(&[
            "nope <$",
            "v = (5)\nv <$",
            "v = (5)\ngen 2 >>$ v\n(v)",
            "x = (1)\ngen 2 >$ x\nx <$",
            "gen 2 >$ r\n(r + 1)",
            "gen 2 >$ STATUS",
            "gen 2 | store",
            "store x",
            "gen 2 | load x",
        ])
    );
}

#[test]
fn env_shows_reservoirs_with_their_files_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let run = marsh_in(dir.path(), "gen 5 >$ x\ngen 2 >>$ x\nenv");
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("x = "))
        .expect("x in env");
    let rest = line.strip_prefix("x = reservoir 7 items, ").expect(line);
    let (bytes, files) = rest.split_once(" bytes: ").expect(line);
    let files: Vec<&str> = files.split(' ').collect();
    let on_disk: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    assert!(
        on_disk == 0,
        "the session directory is removed at exit, so the files are gone"
    );
    assert!(bytes.parse::<u64>().unwrap() > 0, "{line}");
    assert_eq!(files.len(), 2, "{line}");
    assert!(
        files[0].ends_with(".rsv") && files[1].ends_with(".rsv"),
        "{line}"
    );
}

#[test]
fn an_interrupted_store_keeps_the_old_value_and_leaves_no_file() {
    // The writer here is a program killed by a signal: the store did not run to its end.
    let dir = tempfile::tempdir().unwrap();
    let run = marsh_in(
        dir.path(),
        "gen 3 >$ x\nsh -c 'echo 1; echo 2; kill -KILL $$' >$ x\n(STATUS)\nx <$\nsh -c 'kill -TERM $$' >>$ x\nx <$ red count",
    );
    assert_eq!(run.stdout, "137\n0\n1\n2\n3\n");
}

#[test]
fn a_failing_program_still_commits() {
    // grep finding nothing exits 1, and stores an empty stream: the store ran to its end.
    let dir = tempfile::tempdir().unwrap();
    let run = marsh_in(
        dir.path(),
        "gen 3 >$ x\ngen 3 | grep 9 >$ x\n(STATUS)\nx <$ red count",
    );
    assert_eq!(run.stdout, "1\n0\n");
}

#[test]
fn a_fatal_error_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let run = marsh_in(
        dir.path(),
        "gen 3 >$ x\n< missing.txt >$ x\nx <$ red count\ngen 2 >$ y\n< missing.txt >>$ y\ny <$ red count",
    );
    assert_eq!(run.stdout, "3\n2\n");
    assert!(
        run.stderr
            .contains("missing.txt: No such file or directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_session_directory_is_gone_after_exit() {
    let dir = tempfile::tempdir().unwrap();
    let run = marsh_in(dir.path(), "gen 100 >$ x\ngen 5 >>$ x");
    assert_eq!(run.status, 0);
    assert_eq!(runtime_files(dir.path()), Vec::<String>::new());
}

#[test]
fn a_dead_session_is_reaped_and_a_live_one_is_not() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join(".marsh-runtime");
    std::fs::create_dir_all(&base).unwrap();
    // A session of a shell that died: its directory, nobody holding its lock.
    let dead = base.join("999999-00000000deadbeef");
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join("x.1.rsv"), b"left behind").unwrap();
    // A live session: its directory locked, as a running marsh holds it.
    let live = base.join("999998-00000000cafef00d");
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join("y.1.rsv"), b"in use").unwrap();
    let lock = std::fs::File::open(&live).unwrap();
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);

    let run = marsh_in(dir.path(), "gen 1");
    assert_eq!(run.status, 0);
    assert!(!dead.exists(), "the dead session was not reaped");
    assert!(live.join("y.1.rsv").exists(), "a live session was touched");
    drop(lock);
}

#[test]
fn a_full_disk_rolls_back() {
    // A 64 KiB tmpfs as the runtime directory: needs root to mount, as CI has.
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join(".marsh-runtime");
    std::fs::create_dir_all(&rt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
        .arg(&rt)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&rt);
    let run = marsh_in(
        dir.path(),
        "gen 10 >$ x\ngen 1000000 >$ x\n(STATUS)\nx <$ red count\ngen 1000000 >>$ x\nx <$ red count",
    );
    assert_eq!(run.stdout, "1\n10\n10\n", "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
    assert_eq!(runtime_files(dir.path()), Vec::<String>::new());
}

//! `jobcheck run`'s HTML report and progress output as a user meets them: a bad `--html`
//! directory is refused before the run, the page is written, the plain log is unchanged off a
//! terminal, and on a terminal (jobcheck under a pty, as the harness drives shells) one live
//! progress line replaces the per-pair lines unless `--verbose`.

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

use jobcheck::pty::{self, Pty};

const PASSES: &str = "title: passes\ntype echo hello\nwait output hello\nwait prompt\n";
const FAILS: &str = "title: never\ntimeout: 200ms\ntype echo hello\nwait output NEVER-PRINTED\n";

/// A catalogue `cat/` of two passing scenarios and a failing one.
fn catalogue(dir: &Path) {
    for (name, text) in [("a", PASSES), ("b", PASSES), ("never", FAILS)] {
        let p = dir.join(format!("cat/g/{name}.jc"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// `jobcheck ARGS` in `dir`, artifacts under it (and no cargo around it: it would build marsh).
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jobcheck"));
    cmd.env_remove("CARGO")
        .env("JOBCHECK_ARTIFACTS", dir.join("artifacts"))
        .current_dir(dir)
        .args(args);
    cmd
}

const RUN: [&str; 5] = ["run", "--fixtures", "cat", "--shell", "bash"];

#[test]
fn an_html_directory_under_a_regular_file_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    catalogue(dir.path());
    std::fs::write(dir.path().join("file"), "").unwrap();
    let mut args = RUN.to_vec();
    args.extend(["--html", "file/report"]);
    let o = command(dir.path(), &args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("jobcheck: --html file/report: cannot be a directory for the report"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "nothing ran");
}

#[test]
fn off_a_terminal_the_log_is_plain_and_the_page_is_written() {
    let dir = tempfile::tempdir().unwrap();
    catalogue(dir.path());
    let mut args = RUN.to_vec();
    args.extend(["--html", "web"]);
    let o = command(dir.path(), &args).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(!out.contains('\x1b'), "no terminal codes: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("PASS  g/a::bash  "), "{out}");
    assert!(lines[1].starts_with("PASS  g/b::bash  "), "{out}");
    assert!(lines[2].starts_with("FAIL  g/never::bash  "), "{out}");
    assert!(lines[3].starts_with("expected output matching /NEVER-PRINTED/"));
    assert!(out.contains("--- transcript"), "the whole report: {out}");
    let page = std::fs::read_to_string(dir.path().join("web/conformance.html")).unwrap();
    assert!(page.contains("data-name=\"g/never::bash\""));
    assert!(page.contains("<td class=\"cell fail\""));
    assert!(out.contains("web/conformance.html"), "{out}");
}

/// What `jobcheck ARGS` wrote to its terminal, and its exit code.
fn under_a_pty(dir: &Path, args: &[&str]) -> (String, Option<i32>) {
    let mut pair = Pty::open(24, 120).unwrap();
    let slave = pair.take_slave().unwrap();
    let mut cmd = command(dir, args);
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // SAFETY: child_setup makes only async-signal-safe calls.
    unsafe { cmd.pre_exec(pty::child_setup) };
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // the parent's copies of the slave
    let mut master = std::fs::File::from(pair.into_master());
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // Until every copy of the slave is closed (EIO): jobcheck and its sessions are gone.
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let status = child.wait().unwrap();
    (String::from_utf8_lossy(&out).into_owned(), status.code())
}

#[test]
fn on_a_terminal_one_live_line_shows_progress() {
    let dir = tempfile::tempdir().unwrap();
    catalogue(dir.path());
    let (out, code) = under_a_pty(dir.path(), &RUN);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("/3 pairs, "), "{out:?}");
    assert!(out.contains("about"), "an estimate: {out:?}");
    assert!(out.contains("\x1b["), "drawn in place: {out:?}");
    assert!(
        !out.contains("PASS  g/a::bash"),
        "no per-pair lines: {out:?}"
    );
    assert!(out.contains("FAIL  g/never::bash"), "{out:?}");
    assert!(out.contains("expected output matching /NEVER-PRINTED/"));
    assert!(
        !out.contains("--- transcript"),
        "the sentence only: {out:?}"
    );
    assert!(out.contains("1 FAIL"), "the totals: {out:?}");

    let mut verbose = RUN.to_vec();
    verbose.push("--verbose");
    let (out, code) = under_a_pty(dir.path(), &verbose);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("PASS  g/a::bash"), "per-pair lines: {out:?}");
    assert!(out.contains("--- transcript"), "{out:?}");
    assert!(out.contains("/3 pairs, "), "{out:?}");
}

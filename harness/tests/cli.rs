//! The `jobcheck` binary as a user meets it: what it refuses at load time and what it says.
//! Runs that start shells use bash (installed wherever these tests run: `ci/install-deps`).

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// `jobcheck ARGS` with its artifacts in `dir` (and no cargo around it: it would build marsh).
fn jobcheck(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobcheck"))
        .env_remove("CARGO")
        .env("JOBCHECK_ARTIFACTS", dir.join("artifacts"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("jobcheck runs")
}

/// Write `files` (path, text) under `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_misspelt_shell_name_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "cat/g/x.jc",
            "title: t\ntype true\nOK zhs: wording\nwait prompt\n",
        )],
    );
    let o = jobcheck(dir.path(), &["run", "--fixtures", "cat", "--shell", "bash"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("x.jc:3: unknown shell `zhs` (did you mean `zsh`?)"),
        "{err}"
    );
    assert_eq!(
        err.matches("bash").count(),
        1,
        "each known shell named once: {err}"
    );
    assert!(o.stdout.is_empty(), "nothing ran");
}

#[test]
fn a_bad_step_argument_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[("cat/x.jc", "type true\nexpect status abc\n")],
    );
    let o = jobcheck(dir.path(), &["run", "--fixtures", "cat", "--shell", "bash"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("x.jc:2: `expect status abc`: expected an exit status"));
}

#[test]
fn shells_validates_an_adapter_file() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        "name = 'mybash'\nprogram = 'bash'\nprompt = 'mb {n}$ '\nversion_args = ['--version']\n";
    write(
        dir.path(),
        &[
            ("good.toml", good),
            ("bad.toml", "name = 'b'\nprogram = 'bash'\npromt = 'x'\n"),
        ],
    );
    let o = jobcheck(
        dir.path(),
        &["shells", "--shell", "good.toml", "--shell", "bash"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("mybash installed  GNU bash"), "{out}");
    assert_eq!(out.lines().count(), 2, "only the shells asked for: {out}");
    let o = jobcheck(dir.path(), &["shells", "--shell", "bad.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.toml:3: unknown field `promt` (did you mean `prompt`?)"),
        "{}",
        stderr(&o)
    );
    let o = jobcheck(dir.path(), &["shells", "--shell", "bsah"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown shell `bsah` (did you mean `bash`?)"),
        "{}",
        stderr(&o)
    );
}

/// A catalogue whose one scenario takes a snapshot of bash echoing a word.
const SNAPSHOT_SCENARIO: &str = "title: echo\ntype echo hello\nwait prompt\nsnapshot\n";

#[test]
fn a_missing_snapshot_fails_as_new_until_accepted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("cat/g/snap.jc", SNAPSHOT_SCENARIO)]);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--fixtures", "cat", "--shell", "bash"];
        args.extend_from_slice(extra);
        jobcheck(dir.path(), &args)
    };
    let o = run(&[]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("NEW   g/snap::bash  new snapshot g__snap@bash"),
        "{out}"
    );
    let snap = dir.path().join("cat/snapshots/g__snap@bash.snap");
    assert!(!snap.exists());
    let o = run(&["--accept"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(
        text.contains("bash 1$ echo hello\nhello\nbash 2$"),
        "{text}"
    );
    let o = run(&[]);
    assert!(
        o.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn each_failed_repeat_keeps_its_recording_marked_with_the_failed_step() {
    let dir = tempfile::tempdir().unwrap();
    let scn = "title: never\ntimeout: 200ms\ntype echo hello\nwait output NEVER-PRINTED\n";
    write(dir.path(), &[("cat/g/never.jc", scn)]);
    let args = [
        "run",
        "--fixtures",
        "cat",
        "--shell",
        "bash",
        "--repeat",
        "2",
    ];
    let o = jobcheck(dir.path(), &args);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("expected output matching /NEVER-PRINTED/"),
        "the sentence first: {out}"
    );
    for k in [1, 2] {
        let cast = dir
            .path()
            .join(format!("artifacts/g__never@bash.r{k}.cast"));
        let text =
            std::fs::read_to_string(&cast).unwrap_or_else(|e| panic!("{}: {e}", cast.display()));
        let last = text.lines().last().unwrap();
        assert!(
            last.contains("FAIL at ") && last.contains("never.jc:4: wait output NEVER-PRINTED"),
            "{last}"
        );
    }
}

#[test]
fn a_subdirectory_of_the_catalogue_keeps_its_names() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("cat/posix/x.jc", "title: t\ntype true\nwait prompt\n"),
            ("cat/snapshots/.keep", ""),
        ],
    );
    let args = [
        "run",
        "--fixtures",
        "cat/posix",
        "--shell",
        "bash",
        "--markdown",
        "m.md",
    ];
    let o = jobcheck(dir.path(), &args);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    assert!(out.contains("PASS  posix/x::bash"), "{out}");
    let md = std::fs::read_to_string(dir.path().join("m.md")).unwrap();
    assert!(md.contains("[posix/x]("), "{md}");
}

/// The adapter of a shell the catalogue does not name: bash in POSIX mode.
fn unnamed_shell() -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = manifest.join("../fixtures/adapters/bash-posix.toml");
    file.canonicalize().unwrap().display().to_string()
}

#[test]
fn scenarios_written_per_shell_still_run_for_a_shell_they_do_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let shell = unnamed_shell();
    let o = jobcheck(
        dir.path(),
        &[
            "run",
            "--shell",
            &shell,
            "posix/no-notices-noninteractive",
            "posix/kill-signal-notices",
            "posix/result-not-lost-after-report",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    assert_eq!(out.matches("PASS  posix/").count(), 3, "{out}");
}

#[test]
fn a_survivor_nobody_expected_is_named_with_the_step_that_would_expect_it() {
    let dir = tempfile::tempdir().unwrap();
    let shell = unnamed_shell();
    // The catalogue's scenario, with a short deadline for the wait that cannot succeed.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(manifest.join("../fixtures/posix/exit-with-running-jobs.jc"));
    let text = format!("timeout: 2s\n{}", text.unwrap());
    write(
        dir.path(),
        &[("cat/posix/exit-with-running-jobs.jc", &text)],
    );
    let args = ["run", "--fixtures", "cat", "--shell", &shell];
    let o = jobcheck(dir.path(), &args);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    let first = out
        .lines()
        .find(|l| l.starts_with("expected"))
        .unwrap_or("");
    assert!(
        first.starts_with("expected no process of the session to survive but the shell")
            && first.contains(" sleep "),
        "{out}"
    );
}

/// An overlay for bash-posix (the unnamed shell) as a shell project would keep it.
const OVERLAY: &str = r#"shells = ["bash-posix"]

[scenario."posix/exit-with-running-jobs"]
annotate = "OK bash-posix: exits at once; the running job survives"

[[scenario."posix/exit-with-running-jobs".replace]]
step = "expect[!bash,!dash,!mksh,!ksh93,!zsh,!fish,!marsh,!yash,!ash,!tcsh,!brush] survivors none"
with = "expect survivors sleep"

[[scenario."posix/kill-signal-notices".replace]]
step = "type[!fish] kill -HUP %1"
with = """
type echo OVERLAY-STEP
type kill -HUP %%
"""
"#;

#[test]
fn an_overlay_annotates_replaces_steps_and_keeps_its_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("proj/expect.toml", OVERLAY)]);
    let shell = unnamed_shell();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--shell",
            &shell,
            "--expectations",
            "proj/expect.toml",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--markdown", "m.md"]);
        jobcheck(dir.path(), &args)
    };
    let o = run(&["posix/exit-with-running-jobs", "posix/kill-signal-notices"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    let md = std::fs::read_to_string(dir.path().join("m.md")).unwrap();
    assert!(md.contains("OK bash-posix: exits at once"), "{md}");
    let o = run(&["posix/async-notice"]);
    assert_eq!(o.status.code(), Some(1), "new snapshot");
    let o = run(&["--accept", "posix/async-notice"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let snap = dir
        .path()
        .join("proj/snapshots/posix__async-notice@bash-posix.snap");
    assert!(snap.is_file(), "written beside the overlay");
    assert!(run(&["posix/async-notice"]).status.success());
}

#[test]
fn an_overlay_is_checked_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let shell = unnamed_shell();
    for (text, want) in [
        (
            "shells = ['bash-posix']\n[scenario.\"posix/exit-with-runing-jobs\"]\nannotate = 'OK bash-posix: x'\n",
            "x.toml:2: no scenario named posix/exit-with-runing-jobs (did you mean posix/exit-with-running-jobs?)",
        ),
        (
            "shells = ['bash-posix']\n[scenario.\"posix/bg-resume\"]\nannotate = 'OK bahs-posix: x'\n",
            "x.toml:3: unknown shell `bahs-posix` (did you mean `bash-posix`?)",
        ),
        (
            "shells = ['bash-posix']\n[[scenario.\"posix/bg-resume\".replace]]\nstep = 'type nothing like this'\nwith = ''\n",
            "x.toml:3: ",
        ),
        (
            "shels = ['bash-posix']\n",
            "x.toml:1: unknown field `shels`",
        ),
    ] {
        write(dir.path(), &[("x.toml", text)]);
        let args = ["run", "--shell", &shell, "--expectations", "x.toml"];
        let o = jobcheck(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(stderr(&o).contains(want), "{text}\n{}", stderr(&o));
    }
}

#[test]
fn a_replaced_step_fails_at_the_overlays_line() {
    let dir = tempfile::tempdir().unwrap();
    let shell = unnamed_shell();
    let text = "shells = ['bash-posix']\n\n[[scenario.\"posix/kill-signal-notices\".replace]]\nstep = 'type[!fish] kill -HUP %1'\nwith = 'expect output NEVER-PRINTED'\n";
    write(dir.path(), &[("x.toml", text)]);
    let args = [
        "run",
        "--shell",
        &shell,
        "--expectations",
        "x.toml",
        "posix/kill-signal-notices",
    ];
    let o = jobcheck(dir.path(), &args);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("x.toml:5: expect output NEVER-PRINTED"),
        "{out}"
    );
}

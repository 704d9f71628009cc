//! SIGINT, SIGTERM or SIGHUP of `jobcheck run` ends every session it spawned: no process of
//! them is left, their directories are gone, the exit status is 128 + the signal, and the one
//! line written says the run was interrupted (no report, no PASS).

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use jobcheck::procfs::{self, SESSION_VAR};
use jobcheck::wait::{Deadline, poll_until};
use jobcheck::{Pid, Proc};
use nix::sys::signal::{Signal, kill};

/// A scenario that leaves `sleep 300` in the foreground and then waits two minutes for output
/// that never comes; a second one that must never start.
const SCENARIOS: &[(&str, &str)] = &[
    (
        "t/int/long-job.jc",
        "title: a job still running when the run is interrupted\n\
         group: T. interruption\n\
         timeout: 120s\n\
         type sleep 300\n\
         wait fg sleep\n\
         wait output NEVER-PRINTED-[0-9]\n",
    ),
    (
        "t/int/second.jc",
        "title: never reached\n\
         group: T. interruption\n\
         type true\n\
         wait prompt\n",
    ),
];

/// Live processes whose `JOBCHECK_SESSION` tag names `creator` as the session's creator.
fn tagged_by(creator: Pid) -> Vec<Proc> {
    let prefix = format!("jc-{creator}-");
    procfs::all_pids()
        .into_iter()
        .filter(|&pid| procfs::env_var(pid, SESSION_VAR).is_some_and(|t| t.starts_with(&prefix)))
        .filter_map(procfs::read)
        .filter(|p| !p.is_dead())
        .collect()
}

/// Wait (bounded) for `child` to exit.
fn wait_exit(child: &mut Child) -> ExitStatus {
    let got = poll_until(Deadline::after(Duration::from_secs(30)), || {
        child.try_wait().expect("try_wait")
    });
    got.unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("jobcheck did not exit within 30 s of the signal");
    })
}

/// Start `jobcheck run --jobs JOBS`, and once JOBS sessions each run their `sleep`, send it
/// `sig`: everything must be torn down.
fn interrupt_run(sig: Signal, jobs: usize) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in SCENARIOS {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        // With two jobs, both scenarios are the long one: two live sessions to tear down.
        let text = if jobs > 1 { SCENARIOS[0].1 } else { text };
        std::fs::write(p, text).unwrap();
    }
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let artifacts = dir.path().join("artifacts");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jobcheck"))
        .env_remove("CARGO")
        .env("TMPDIR", &tmp)
        .env("JOBCHECK_ARTIFACTS", &artifacts)
        .current_dir(dir.path())
        .args([
            "run",
            "--shell",
            "bash",
            "--jobs",
            &jobs.to_string(),
            "--fixtures",
        ])
        .arg(dir.path().join("t"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jobcheck starts");
    let pid = Pid::new(child.id() as i32).unwrap();
    let started = poll_until(Deadline::after(Duration::from_secs(30)), || {
        let sleeps = tagged_by(pid).iter().filter(|p| p.comm == "sleep").count();
        (sleeps == jobs).then_some(())
    });
    if started.is_none() {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "the session's sleep never appeared\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    kill(pid.into(), sig).unwrap();
    let status = wait_exit(&mut child);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        status.code(),
        Some(128 + sig as i32),
        "{status}\n{stdout}{stderr}"
    );
    let left = tagged_by(pid);
    assert!(
        left.is_empty(),
        "left behind:\n{}",
        procfs::format_table(&left)
    );
    let name = sig.as_str();
    assert!(
        stderr.contains(&format!("interrupted by {name} after 0 of 2 runs"))
            && stderr.contains(&match jobs {
                1 => "1 live session torn down".to_string(),
                n => format!("{n} live sessions torn down"),
            })
            && stderr.contains("no report written"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        !stdout.contains("PASS") && !stdout.contains("FAIL"),
        "{stdout}"
    );
    assert!(!artifacts.join("conformance.md").exists());
    assert!(!artifacts.join("junit.xml").exists());
    assert_empty(&tmp);
}

/// The sessions' directories are gone.
fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    assert!(left.is_empty(), "left in {}: {left:?}", dir.display());
}

#[test]
fn sigint_tears_every_session_down_and_exits_130() {
    interrupt_run(Signal::SIGINT, 1);
}

#[test]
fn sigint_of_two_jobs_tears_both_sessions_down() {
    interrupt_run(Signal::SIGINT, 2);
}

#[test]
fn sigterm_tears_every_session_down_and_exits_143() {
    interrupt_run(Signal::SIGTERM, 1);
}

#[test]
fn sighup_tears_every_session_down_and_exits_129() {
    interrupt_run(Signal::SIGHUP, 1);
}

/// The signals jobcheck blocks for its watcher are not blocked in the shells it starts (a
/// shell passes its starting mask on to its jobs: `kill %1` and ^C would do nothing).
#[test]
fn sessions_start_with_no_signal_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t/mask/none-blocked.jc");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(
        &p,
        "title: the shell starts with no signal blocked\n\
         group: T. interruption\n\
         type grep SigBlk /proc/self/status\n\
         wait prompt\n\
         expect output SigBlk:\\s+0+\\s\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jobcheck"))
        .env_remove("CARGO")
        .env("JOBCHECK_ARTIFACTS", dir.path().join("artifacts"))
        .current_dir(dir.path())
        .args(["run", "--shell", "bash", "--fixtures"])
        .arg(dir.path().join("t"))
        .output()
        .expect("jobcheck runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("PASS  mask/none-blocked::bash"), "{stdout}");
}

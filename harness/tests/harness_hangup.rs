//! Closing the master ends the shell; what becomes of a running background job is per shell:
//! bash SIGHUPs its jobs, dash leaves a running background job alive (cleaned up here by pgid).

mod common;

use jobcheck::procfs;
use nix::sys::signal::{Signal, killpg};

/// Start `jobprobe` in the background and return its pgid once it has said "ready".
fn background_probe(s: &mut jobcheck::Session) -> jobcheck::Pgid {
    s.type_line("jobprobe ready pause &").unwrap();
    s.wait_output("jobprobe: ready").unwrap();
    let shell = s.shell_pgid();
    s.wait_until("the background probe", |s| {
        s.processes()
            .into_iter()
            .find(|p| p.comm == "jobprobe" && p.pgid != Some(shell))
            .and_then(|p| p.pgid)
    })
    .unwrap()
}

#[test]
fn bash_hangup_ends_shell_and_jobs() {
    let mut s = common::start("bash", "hangup");
    let bg = background_probe(&mut s);
    s.wait_prompt().unwrap();
    s.hangup();
    let status = s.wait_exit().unwrap();
    assert!(!status.success(), "{status:?}");
    // bash resends SIGHUP to its jobs: nothing of the session is left.
    s.check_clean(&[]).unwrap();
    assert!(s.group(bg).is_empty());
}

#[test]
fn dash_hangup_ends_shell_background_job_survives() {
    let mut s = common::start("dash", "hangup");
    let bg = background_probe(&mut s);
    s.wait_prompt().unwrap();
    s.hangup();
    s.wait_exit().unwrap();
    // dash does not forward the hangup: the running background job survives its shell.
    let survivors = s.processes();
    assert!(
        survivors
            .iter()
            .any(|p| p.pgid == Some(bg) && p.comm == "jobprobe"),
        "{}",
        procfs::format_table(&survivors)
    );
    assert!(
        survivors.iter().all(|p| p.pgid == Some(bg)),
        "{}",
        procfs::format_table(&survivors)
    );
    // Clean it up by its process group, then the session must be clean.
    killpg(bg.into(), Signal::SIGKILL).unwrap();
    s.check_clean(&[]).unwrap();
}

//! [`RealSystem`] against real children: waitpid decoding and killpg. No terminal needed.
//!
//! Tests run in parallel threads of one process, next to other modules' tests that spawn and
//! wait for their own children, so these tests only ever wait for their own pids or groups
//! (never `waitpid(-1)`), and kill only the groups they created, through [`Reaper`], which
//! also runs when an assertion fails.

// Children are reaped with waitpid by pid (the point of these tests), not `Child::wait`.
#![allow(clippy::zombie_processes)]

use std::os::unix::process::CommandExt;
use std::process::Command;

use super::{Pgid, Pid, RealSystem, Signal, System, WaitStatus, WaitTarget};
use crate::job::control::{JobControl, KillTarget, Launch, WaitFor, WaitOutcome, child_setup};
use crate::job::id::Spec;

/// Kills (SIGKILL) and reaps every process this test started, on drop.
#[derive(Default)]
struct Reaper {
    pgids: Vec<Pgid>,
    pids: Vec<Pid>,
}

impl Drop for Reaper {
    fn drop(&mut self) {
        for g in &self.pgids {
            let _ = nix::sys::signal::killpg(g.to_nix(), Signal::SIGKILL);
        }
        for p in &self.pids {
            let _ = nix::sys::wait::waitpid(p.to_nix(), None);
        }
    }
}

fn sys() -> RealSystem {
    RealSystem::new(-1)
}

/// Starts `argv` in group `pgid` (None: its own group), through [`child_setup`].
fn spawn(reaper: &mut Reaper, argv: &[&str], pgid: Option<Pgid>) -> Pid {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..]);
    // SAFETY: child_setup makes only async-signal-safe calls (setpgid, sigaction).
    unsafe {
        cmd.pre_exec(move || {
            child_setup(&RealSystem::new(-1), pgid, false);
            Ok(())
        });
    }
    let child = cmd.spawn().expect("spawn");
    let pid = Pid::from_raw(child.id() as i32);
    // Parent's half of the setpgid pair, as JobControl::add_process does.
    let group = pgid.unwrap_or(Pgid::led_by(pid));
    let _ = nix::unistd::setpgid(pid.to_nix(), group.to_nix());
    reaper.pids.push(pid);
    if pgid.is_none() {
        reaper.pgids.push(group);
    }
    // `child` is dropped without waiting: it is reaped through waitpid only.
    pid
}

#[test]
fn waitpid_decodes_stop_continue_and_signal() {
    let mut r = Reaper::default();
    let s = sys();
    let pid = spawn(&mut r, &["sleep", "30"], None);
    assert_eq!(
        s.waitpid(WaitTarget::Pid(pid), false),
        Ok(WaitStatus::StillAlive)
    );
    let group = Pgid::led_by(pid);
    s.killpg(group, Signal::SIGSTOP).unwrap();
    assert_eq!(
        s.waitpid(WaitTarget::Group(group), true),
        Ok(WaitStatus::Stopped(pid, Signal::SIGSTOP))
    );
    s.killpg(group, Signal::SIGCONT).unwrap();
    assert_eq!(
        s.waitpid(WaitTarget::Pid(pid), true),
        Ok(WaitStatus::Continued(pid))
    );
    s.killpg(group, Signal::SIGTERM).unwrap();
    assert_eq!(
        s.waitpid(WaitTarget::Pid(pid), true),
        Ok(WaitStatus::Signaled(pid, Signal::SIGTERM, false))
    );
}

#[test]
fn waitpid_decodes_exit_codes() {
    let mut r = Reaper::default();
    let s = sys();
    let pid = spawn(&mut r, &["sh", "-c", "exit 7"], None);
    assert_eq!(
        s.waitpid(WaitTarget::Pid(pid), true),
        Ok(WaitStatus::Exited(pid, 7))
    );
}

#[test]
fn killpg_reaches_every_member_of_the_group() {
    let mut r = Reaper::default();
    let s = sys();
    let a = spawn(&mut r, &["sleep", "30"], None);
    let group = Pgid::led_by(a);
    let b = spawn(&mut r, &["sleep", "31"], Some(group));
    assert_eq!(
        nix::unistd::getpgid(Some(b.to_nix())),
        Ok(group.to_nix()),
        "second member joined the group"
    );
    s.killpg(group, Signal::SIGKILL).unwrap();
    let mut ended = Vec::new();
    for _ in 0..2 {
        match s.waitpid(WaitTarget::Group(group), true).unwrap() {
            WaitStatus::Signaled(p, Signal::SIGKILL, _) => ended.push(p),
            other => panic!("unexpected {other:?}"),
        }
    }
    ended.sort();
    assert_eq!(ended, [a, b]);
}

#[test]
fn child_setup_resets_ignored_signals_before_exec() {
    // A child of a process that ignores SIGINT would ignore it after exec without the reset.
    // Run the check in a shell started by a child that had SIGINT ignored: `trap` lists no
    // ignored INT when the disposition is default at exec.
    let mut r = Reaper::default();
    let s = sys();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "kill -INT $$; exit 0"]);
    // SAFETY: sigaction and setpgid only.
    unsafe {
        cmd.pre_exec(|| {
            let _ = nix::sys::signal::signal(Signal::SIGINT, nix::sys::signal::SigHandler::SigIgn);
            child_setup(&RealSystem::new(-1), None, false);
            Ok(())
        });
    }
    let pid = Pid::from_raw(cmd.spawn().unwrap().id() as i32);
    r.pids.push(pid);
    r.pgids.push(Pgid::led_by(pid));
    assert_eq!(
        s.waitpid(WaitTarget::Pid(pid), true),
        Ok(WaitStatus::Signaled(pid, Signal::SIGINT, false)),
        "SIGINT acts on the child again"
    );
}

#[test]
fn job_control_kill_of_a_stopped_job_continues_it_so_it_dies() {
    let mut r = Reaper::default();
    let mut jc = JobControl::new(sys());
    let mut launch = Launch::new("sleep 30 | sleep 31", false);
    let a = spawn(&mut r, &["sleep", "30"], None);
    jc.add_process(&mut launch, a, "sleep 30");
    let b = spawn(&mut r, &["sleep", "31"], Some(Pgid::led_by(a)));
    jc.add_process(&mut launch, b, "sleep 31");
    let started = jc.start(launch);
    assert_eq!(started.pgid, Pgid::led_by(a));

    jc.kill(&KillTarget::Job(Spec::parse("%1")), Signal::SIGSTOP)
        .unwrap();
    assert_eq!(
        jc.wait(&WaitFor::Job(Spec::parse("%1")), &mut || false),
        Ok(WaitOutcome::Done(128 + 19))
    );
    jc.kill(&KillTarget::Job(Spec::parse("%1")), Signal::SIGTERM)
        .unwrap();
    assert_eq!(
        jc.wait(&WaitFor::Job(Spec::parse("%1")), &mut || false),
        Ok(WaitOutcome::Done(128 + 15))
    );
    assert!(jc.table().is_empty());
}

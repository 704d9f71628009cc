//! The store-commit protocol on the simulated system. Each test names the scenario in
//! `fixtures/marsh/` that checks the same on a real terminal.
//!
//! A forked leader runs its pipeline (for real, in this process, into a real temporary file of
//! a temporary session) only when the script says `Event::Run`; until then it is a running
//! process that signals can stop or kill, as a leader busy with `gen 0` would be.

use super::Jobs;
use crate::job::system::r#virtual::{Event, ProcState, SHELL_PID, VirtualSystem};
use crate::job::{KillTarget, Pgid, Pid, Signal, Spec, System};
use crate::ops::OpError;
use crate::reservoir::Session;
use crate::shell::signals;
use crate::shell::vars::{Var, Vars};
use crate::syntax::{self, ast::CommandBody};

/// A shell on a simulated system, with a session in a temporary directory.
struct Sim {
    sys: VirtualSystem,
    jobs: Jobs<VirtualSystem>,
    vars: Vars,
    session: Session,
    _base: tempfile::TempDir,
}

impl Sim {
    /// An interactive shell: it has the terminal and its signal dispositions.
    fn new() -> Sim {
        let base = tempfile::tempdir().expect("temporary directory");
        let session = Session::open_in(base.path()).expect("session");
        let sys = VirtualSystem::new();
        let mut jobs = Jobs::on(sys.clone());
        jobs.control.take_terminal().expect("the terminal");
        signals::install(&sys, true);
        let modes = sys.tcgetattr().expect("modes");
        sys.set_exit_cleanup(Some(session.dir()), Some((modes, sys.getpgrp())));
        Sim {
            sys,
            jobs,
            vars: Vars::default(),
            session,
            _base: base,
        }
    }

    /// Runs `line` as the shell would (a trailing `&` runs it in the background).
    fn run(&mut self, line: &str) -> Result<i32, OpError> {
        let command = syntax::parse(line).expect("a valid line");
        let CommandBody::Pipeline(p) = &command.body else {
            panic!("{line:?} is not a pipeline");
        };
        self.jobs
            .run(
                &mut self.vars,
                Ok(&self.session),
                line,
                p,
                command.background,
            )
            .map(crate::job::Halt::status)
    }

    /// Runs `line` in the background; returns its leader.
    fn start(&mut self, line: &str) -> Pid {
        let leader = self.sys.next_pid();
        assert_eq!(self.run(&format!("{line} &")).expect("started"), 0);
        leader
    }

    /// What the shell does before a prompt: reap, settle, print notices.
    fn prompt(&mut self) {
        self.jobs.before_prompt(&mut self.vars);
    }

    /// The number of values in reservoir `name`, if it is one.
    fn items(&self, name: &str) -> Option<u64> {
        match self.vars.get(name)? {
            Var::Reservoir(r) => Some(r.items()),
            _ => None,
        }
    }

    /// Temporary files left in the session directory.
    fn temporary_files(&self) -> Vec<String> {
        std::fs::read_dir(self.session.dir())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".tmp"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[test]
fn a_completed_foreground_store_commits() {
    // fixtures/marsh/reservoirs-after-jobs.jc
    let mut sim = Sim::new();
    sim.sys.script([Event::Run(sim.sys.next_pid())]);
    assert_eq!(sim.run("gen 3 >$ x"), Ok(0));
    assert_eq!(sim.items("x"), Some(3));
    assert!(sim.temporary_files().is_empty());
    assert!(
        sim.sys.job_groups().is_empty(),
        "an ended job is unregistered"
    );
}

#[test]
fn ctrl_c_of_a_foreground_store_keeps_the_variable_and_no_file() {
    // fixtures/marsh/marcel-02-store-interrupted-existing-variable.jc,
    // fixtures/marsh/interrupted-store-leaves-no-file.jc
    let mut sim = Sim::new();
    sim.sys.script([Event::Run(sim.sys.next_pid())]);
    sim.run("gen 7 >$ s").unwrap();
    sim.sys.script([Event::CtrlC]);
    assert_eq!(sim.run("gen 0 >$ s"), Ok(130));
    assert_eq!(sim.items("s"), Some(7));
    assert!(sim.temporary_files().is_empty());
    sim.sys.script([Event::CtrlC]);
    assert_eq!(sim.run("gen 0 >$ fresh"), Ok(130));
    assert!(
        sim.vars.get("fresh").is_none(),
        "a new variable stays unset"
    );
    assert!(sim.temporary_files().is_empty());
}

#[test]
fn of_two_stores_the_last_started_wins_even_when_it_completes_first() {
    // fixtures/marsh/marcel-06-two-writers.jc
    let mut sim = Sim::new();
    let first = sim.start("gen 3 >$ v");
    let second = sim.start("gen 2 >$ v");
    sim.sys.happen(Event::Run(second));
    sim.prompt();
    assert_eq!(sim.items("v"), Some(2));
    sim.sys.happen(Event::Run(first));
    sim.prompt();
    assert_eq!(
        sim.items("v"),
        Some(2),
        "the earlier store must not replace v"
    );
    assert!(sim.temporary_files().is_empty());
}

#[test]
fn a_failed_later_store_takes_nothing_from_an_earlier_one() {
    // fixtures/marsh/failed-later-store-takes-nothing.jc
    let mut sim = Sim::new();
    let earlier = sim.start("gen 5 >$ v");
    let later = sim.start("gen 0 >$ v");
    sim.sys.happen(Event::Signal(later, Signal::SIGKILL));
    sim.prompt();
    assert_eq!(sim.items("v"), None);
    sim.sys.happen(Event::Run(earlier));
    sim.prompt();
    assert_eq!(sim.items("v"), Some(5));
}

#[test]
fn concurrent_appends_all_commit() {
    // fixtures/marsh/concurrent-appends-all-commit.jc
    let mut sim = Sim::new();
    sim.sys.script([Event::Run(sim.sys.next_pid())]);
    sim.run("gen 1 >$ a").unwrap();
    let first = sim.start("gen 2 >>$ a");
    let second = sim.start("gen 3 >>$ a");
    sim.sys.happen(Event::Run(second));
    sim.sys.happen(Event::Run(first));
    sim.prompt();
    assert_eq!(sim.items("a"), Some(6));
    assert!(sim.temporary_files().is_empty());
}

#[test]
fn a_stopped_store_killed_keeps_the_variable_and_is_reported() {
    // fixtures/marsh/kill-stopped-store-any-signal.jc
    for signal in [
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGKILL,
        Signal::SIGTERM,
    ] {
        let mut sim = Sim::new();
        sim.sys.script([Event::Run(sim.sys.next_pid())]);
        sim.run("gen 7 >$ s").unwrap();
        sim.sys.script([Event::CtrlZ]);
        assert_eq!(sim.run("gen 0 >>$ s"), Ok(128 + Signal::SIGTSTP as i32));
        sim.jobs
            .control
            .kill(&KillTarget::Job(Spec::parse("%1")), signal)
            .expect("kill");
        if signal == Signal::SIGINT {
            // Not a signal `kill` continues a stopped job for: it acts at SIGCONT.
            sim.jobs
                .control
                .kill(&KillTarget::Job(Spec::parse("%1")), Signal::SIGCONT)
                .expect("kill");
        }
        sim.prompt();
        assert_eq!(sim.items("s"), Some(7), "after kill -{signal}");
        assert!(sim.temporary_files().is_empty(), "after kill -{signal}");
        assert!(sim.jobs.control.table().is_empty(), "after kill -{signal}");
    }
}

#[test]
fn sigkill_of_a_leader_rolls_its_store_back() {
    // fixtures/marsh/timer-background-store-killed.jc
    let mut sim = Sim::new();
    let leader = sim.sys.next_pid();
    sim.sys.script([Event::Signal(leader, Signal::SIGKILL)]);
    assert_eq!(sim.run("gen 0 >$ k"), Ok(137));
    assert!(sim.vars.get("k").is_none());
    assert!(sim.temporary_files().is_empty());
}

#[test]
fn the_completed_byte_not_the_exit_status_decides() {
    // A leader that ends with status 0 without saying "completed" (it was made to exit
    // early) did not write the whole stream: its store is rolled back.
    let mut sim = Sim::new();
    let leader = sim.start("gen 4 >$ c");
    sim.sys.happen(Event::Exit(leader, 0));
    sim.prompt();
    assert!(sim.vars.get("c").is_none());
    assert!(sim.temporary_files().is_empty());
}

#[test]
fn a_hang_up_ends_the_shell_and_every_store_leaving_nothing() {
    // fixtures/marsh/hangup-during-store.jc
    let mut sim = Sim::new();
    let background = sim.start("gen 0 >$ bg");
    let foreground = sim.sys.next_pid();
    sim.sys.script([Event::Signal(SHELL_PID, Signal::SIGHUP)]);
    let _ = sim.run("gen 0 >$ fg");
    assert_eq!(
        sim.sys.state_of(SHELL_PID),
        Some(ProcState::Exited(128 + Signal::SIGHUP as i32))
    );
    for leader in [background, foreground] {
        let dead = sim.sys.state_of(leader).is_none_or(ProcState::is_dead);
        assert!(dead, "leader {leader} survived the hang-up");
    }
    assert!(
        !sim.session.dir().exists(),
        "the session directory is removed"
    );
    assert_eq!(sim.sys.foreground(), Pgid::led_by(SHELL_PID));
}

#[test]
fn a_leader_dies_with_the_shell() {
    // fixtures/marsh/sigkill-of-shell-mid-store.jc
    let mut sim = Sim::new();
    let leader = sim.start("gen 0 >$ x");
    sim.sys.happen(Event::Signal(SHELL_PID, Signal::SIGKILL));
    assert_eq!(
        sim.sys.state_of(leader),
        Some(ProcState::Signaled(Signal::SIGKILL))
    );
}

#[test]
fn a_reservoir_a_job_reads_stays_until_the_job_is_settled() {
    // fixtures/marsh/reservoirs-after-jobs.jc
    let mut sim = Sim::new();
    sim.sys.script([Event::Run(sim.sys.next_pid())]);
    sim.run("gen 3 >$ r").unwrap();
    let reader = sim.start("r <$ red count");
    sim.sys.script([Event::Run(sim.sys.next_pid())]);
    sim.run("gen 1 >$ r").unwrap();
    let files = |sim: &Sim| std::fs::read_dir(sim.session.dir()).unwrap().count();
    assert_eq!(files(&sim), 2, "the old value's file is held by the reader");
    sim.sys.happen(Event::Signal(reader, Signal::SIGKILL));
    sim.prompt();
    assert_eq!(files(&sim), 1, "released once the reader's job is settled");
}

#[test]
fn a_disowned_job_of_programs_is_forgotten_and_survives_the_hang_up() {
    // fixtures/posix/disown-survives.jc
    let mut sim = Sim::new();
    let sleep = sim.start("sleep 30");
    let disowned = sim.jobs.disown(&Spec::current()).expect("disowned");
    assert!(!disowned.stopped);
    assert!(
        sim.jobs.control.table().is_empty(),
        "jobs no longer lists it"
    );
    assert!(
        sim.sys.job_groups().is_empty(),
        "not hung up with the shell"
    );
    assert_eq!(
        sim.jobs.disown(&Spec::parse("%1")).unwrap_err().to_string(),
        "disown: %1: no such job"
    );
    sim.sys.happen(Event::Signal(SHELL_PID, Signal::SIGHUP));
    assert_eq!(
        sim.sys.state_of(SHELL_PID),
        Some(ProcState::Exited(128 + Signal::SIGHUP as i32))
    );
    assert_eq!(sim.sys.state_of(sleep), Some(ProcState::Running));
}

#[test]
fn a_disowned_job_that_ends_is_reaped_without_a_notice() {
    let mut sim = Sim::new();
    let sleep = sim.start("sleep 30");
    sim.jobs.disown(&Spec::current()).expect("disowned");
    sim.sys.happen(Event::Exit(sleep, 0));
    sim.jobs.control.reap().expect("reaped");
    assert!(sim.jobs.control.notices().is_empty());
    assert_eq!(sim.sys.state_of(sleep), None, "reaped, no zombie");
}

#[test]
fn a_stopped_job_disowned_stays_stopped() {
    let mut sim = Sim::new();
    let sleep = sim.sys.next_pid();
    sim.sys.script([Event::CtrlZ]);
    assert_eq!(sim.run("sleep 30"), Ok(148));
    let disowned = sim.jobs.disown(&Spec::current()).expect("disowned");
    assert!(disowned.stopped);
    assert_eq!(disowned.pgid, Pgid::led_by(sleep));
    assert_eq!(
        sim.sys.state_of(sleep),
        Some(ProcState::Stopped(Signal::SIGTSTP))
    );
    assert!(sim.jobs.control.table().is_empty());
}

#[test]
fn a_job_marsh_runs_or_that_stores_is_not_disowned() {
    let mut sim = Sim::new();
    let store = sim.start("gen 0 >$ x");
    assert_eq!(
        sim.jobs.disown(&Spec::parse("%1")).unwrap_err().to_string(),
        "disown: job 1 stores into x, which commits only when the shell sees it end; it cannot be disowned"
    );
    let ops = sim.start("gen 0 | map (x: x)");
    assert_eq!(
        sim.jobs.disown(&Spec::parse("%2")).unwrap_err().to_string(),
        "disown: job 2 runs in marsh itself, which ends with the shell; only a job of programs can be disowned"
    );
    assert_eq!(sim.jobs.control.table().len(), 2, "both still jobs");
    assert_eq!(sim.sys.job_groups().len(), 2);
    // Still settled as any job: the store killed rolls back and leaves no file.
    sim.sys.happen(Event::Signal(store, Signal::SIGKILL));
    sim.sys.happen(Event::Signal(ops, Signal::SIGKILL));
    sim.prompt();
    assert!(sim.vars.get("x").is_none());
    assert!(sim.temporary_files().is_empty());
}

#[test]
fn a_finished_store_job_disowned_still_commits() {
    let mut sim = Sim::new();
    let leader = sim.start("gen 3 >$ x");
    sim.sys.happen(Event::Run(leader));
    sim.jobs.control.reap().expect("reaped");
    sim.jobs
        .disown(&Spec::parse("%1"))
        .expect("a finished job is forgotten");
    sim.prompt();
    assert_eq!(sim.items("x"), Some(3));
    assert!(sim.temporary_files().is_empty());
    assert!(sim.sys.job_groups().is_empty());
}

//! Job-control operations against the simulated system.

use super::*;
use crate::job::id::Spec;
use crate::job::system::VirtualSystem;
use crate::job::system::r#virtual::{Event, ProcState, SHELL_PGID, SHELL_PID};

fn shell() -> (VirtualSystem, JobControl<VirtualSystem>) {
    let sys = VirtualSystem::new();
    let mut jc = JobControl::new(sys.clone());
    jc.take_terminal().unwrap();
    (sys, jc)
}

/// Forks the members of `cmds` as the executor would: child side, then parent side.
fn spawn(jc: &mut JobControl<VirtualSystem>, cmds: &[&str], fg: bool) -> (Started, Vec<Pid>) {
    let line = cmds.join(" | ");
    let mut launch = Launch::new(&line, fg);
    let mut pids = Vec::new();
    for c in cmds {
        let pid = jc.system().new_child();
        child_setup(&jc.system().as_process(pid), launch.pgid(), fg);
        jc.add_process(&mut launch, pid, c);
        pids.push(pid);
    }
    (jc.start(launch), pids)
}

fn assert_shell_has_terminal(sys: &VirtualSystem) {
    assert_eq!(sys.foreground(), SHELL_PGID, "terminal back with the shell");
    assert_eq!(sys.modes(), 1, "shell's modes back");
    assert_eq!(sys.ttou_violations(), 0, "the shell never got SIGTTOU");
}

#[test]
fn take_terminal_ignores_the_stop_signals() {
    let (sys, jc) = shell();
    assert!(jc.has_terminal());
    for sig in [
        Signal::SIGTTOU,
        Signal::SIGTTIN,
        Signal::SIGTSTP,
        Signal::SIGQUIT,
    ] {
        assert!(sys.ignores(SHELL_PID, sig), "{sig:?}");
    }
    assert!(!sys.ignores(SHELL_PID, Signal::SIGINT));
}

#[test]
fn started_in_the_background_the_shell_stops_itself_until_foreground() {
    let sys = VirtualSystem::new();
    let outer = Pid::from_raw(50);
    sys.happen(Event::GiveTerminal(Pgid::led_by(outer)));
    sys.script([
        Event::GiveTerminal(SHELL_PGID),
        Event::Signal(SHELL_PID, Signal::SIGCONT),
    ]);
    let mut jc = JobControl::new(sys.clone());
    jc.take_terminal().unwrap();
    let me = sys.process(SHELL_PID).unwrap();
    assert_eq!(
        me.received,
        [Signal::SIGTTIN, Signal::SIGCONT],
        "stopped itself, no stealing"
    );
    assert_eq!(sys.foreground(), SHELL_PGID);
}

#[test]
fn child_setup_resets_dispositions_and_takes_the_terminal() {
    let (sys, mut jc) = shell();
    let (started, pids) = spawn(&mut jc, &["sleep 30", "cat"], true);
    assert_eq!(started.pgid, Pgid::led_by(pids[0]));
    for pid in &pids {
        let p = sys.process(*pid).unwrap();
        assert_eq!(
            p.pgid,
            Pgid::led_by(pids[0]),
            "every member in the leader's group"
        );
        assert!(
            p.dispositions.is_empty(),
            "dispositions reset: {:?}",
            p.dispositions
        );
    }
    assert_eq!(sys.foreground(), Pgid::led_by(pids[0]));
    assert_eq!(sys.ttou_violations(), 0);
}

#[test]
fn foreground_job_exits() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["true"], true);
    assert_eq!(s.line, None);
    sys.script([Event::SetModes(9), Event::Exit(pids[0], 3)]);
    let out = jc.wait_for_foreground(s.number).unwrap();
    assert_eq!(out.status(), 3);
    assert_eq!(out.notice, None);
    assert!(
        jc.table().is_empty(),
        "an ended foreground job leaves at once"
    );
    assert_shell_has_terminal(&sys);
}

#[test]
fn ctrl_c_interrupts_the_whole_foreground_job_only() {
    let (sys, mut jc) = shell();
    let (_, bg) = spawn(&mut jc, &["sleep 100"], false);
    let (s, pids) = spawn(&mut jc, &["sleep 30", "cat", "cat"], true);
    sys.script([Event::CtrlC]);
    let out = jc.wait_for_foreground(s.number).unwrap();
    assert_eq!(out.status(), 130);
    assert_eq!(out.notice, None, "bash prints nothing for SIGINT");
    for pid in pids {
        assert_eq!(
            sys.process(pid).map(|p| p.state),
            None,
            "member {pid} reaped"
        );
    }
    assert_eq!(
        sys.state_of(bg[0]),
        Some(ProcState::Running),
        "background job untouched"
    );
    assert_shell_has_terminal(&sys);
}

#[test]
fn foreground_job_killed_prints_the_signal() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["sleep 30"], true);
    sys.script([Event::Signal(pids[0], Signal::SIGKILL)]);
    let out = jc.wait_for_foreground(s.number).unwrap();
    assert_eq!(out.status(), 137);
    assert_eq!(out.notice.as_deref(), Some("Killed"));
    assert_shell_has_terminal(&sys);
}

#[test]
fn ctrl_z_stops_a_pipeline_and_fg_continues_all_members() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["gen", "map", "cat"], true);
    sys.script([Event::SetModes(42), Event::CtrlZ]);
    let out = jc.wait_for_foreground(s.number).unwrap();
    assert_eq!(out.status(), 148);
    assert_eq!(
        out.notice.as_deref(),
        Some("[1]+  Stopped                 gen | map | cat")
    );
    for pid in &pids {
        assert_eq!(
            sys.state_of(*pid),
            Some(ProcState::Stopped(Signal::SIGTSTP))
        );
    }
    assert_shell_has_terminal(&sys);
    assert!(
        jc.notices().is_empty(),
        "the stop was reported by the notice already"
    );

    // fg: echo, the job's modes back, the terminal to the job, SIGCONT to the whole group.
    sys.script([
        Event::Exit(pids[0], 0),
        Event::Exit(pids[1], 0),
        Event::Exit(pids[2], 0),
    ]);
    let mut echo = Vec::new();
    let out = jc.fg(&Spec::current(), &mut echo).unwrap();
    assert_eq!(String::from_utf8(echo).unwrap(), "gen | map | cat\n");
    assert_eq!(out.status(), 0);
    assert!(
        sys.killpg_log()
            .contains(&(Pgid::led_by(pids[0]), Signal::SIGCONT))
    );
    for pid in &pids {
        assert!(sys.process(*pid).is_none(), "continued and then exited");
    }
    assert_shell_has_terminal(&sys);
    let err = jc.fg(&Spec::current(), &mut Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "fg: no current job");
}

#[test]
fn fg_gives_the_job_its_modes_before_continuing_it() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["vim"], true);
    sys.script([Event::SetModes(42), Event::CtrlZ]);
    jc.wait_for_foreground(s.number).unwrap();
    assert_eq!(sys.modes(), 1);
    // While the job runs again, the terminal is its own, with its modes.
    sys.script([Event::Snapshot, Event::Exit(pids[0], 0)]);
    jc.fg(&Spec::parse("%1"), &mut Vec::new()).unwrap();
    assert_eq!(sys.snapshots(), [(Pgid::led_by(pids[0]), 42)]);
    assert_shell_has_terminal(&sys);
}

#[test]
fn background_job_start_line_and_done_notice() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["sleep 1"], false);
    assert_eq!(s.line.as_deref(), Some(format!("[1] {}", pids[0]).as_str()));
    assert_eq!(
        sys.foreground(),
        SHELL_PGID,
        "a background job never gets the terminal"
    );
    jc.reap().unwrap();
    assert!(jc.notices().is_empty());
    sys.happen(Event::Exit(pids[0], 0));
    jc.reap().unwrap();
    assert_eq!(jc.notices(), ["[1]+  Done                    sleep 1"]);
    assert!(jc.table().is_empty());
    assert!(jc.notices().is_empty(), "reported once");
}

#[test]
fn kill_a_stopped_job_sends_sigcont_so_it_dies() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["sleep 30", "cat"], true);
    sys.script([Event::CtrlZ]);
    jc.wait_for_foreground(s.number).unwrap();
    jc.kill(&job("%1"), Signal::SIGTERM).unwrap();
    assert_eq!(
        sys.killpg_log()[sys.killpg_log().len() - 2..],
        [
            (Pgid::led_by(pids[0]), Signal::SIGTERM),
            (Pgid::led_by(pids[0]), Signal::SIGCONT)
        ]
    );
    jc.reap().unwrap();
    assert_eq!(
        jc.notices(),
        ["[1]+  Terminated              sleep 30 | cat"]
    );
    assert!(jc.table().is_empty());
}

#[test]
fn kill_stop_and_cont_are_tracked() {
    let (sys, mut jc) = shell();
    let (_, pids) = spawn(&mut jc, &["sleep 30"], false);
    jc.kill(&job("%1"), Signal::SIGSTOP).unwrap();
    assert_eq!(
        sys.killpg_log().last(),
        Some(&(Pgid::led_by(pids[0]), Signal::SIGSTOP)),
        "no SIGCONT after STOP"
    );
    jc.reap().unwrap();
    assert_eq!(jc.notices(), ["[1]+  Stopped                 sleep 30"]);
    jc.kill(&KillTarget::Process(pids[0]), Signal::SIGCONT)
        .unwrap();
    jc.reap().unwrap();
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::All, &[])
            .unwrap(),
        ["[1]+  Running                 sleep 30 &"]
    );
}

#[test]
fn kill_mistakes() {
    let (_, mut jc) = shell();
    assert_eq!(
        jc.kill(&job("%9"), Signal::SIGTERM)
            .unwrap_err()
            .to_string(),
        "kill: %9: no such job"
    );
    assert_eq!(
        jc.kill(&KillTarget::Process(Pid::from_raw(4242)), Signal::SIGTERM)
            .unwrap_err()
            .to_string(),
        "kill: (4242) - No such process"
    );
    assert_eq!(
        jc.kill(&job("%9"), Signal::SIGTERM).unwrap_err().status(),
        1
    );
}

#[test]
fn bg_continues_a_stopped_job_and_refuses_a_running_one() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["sleep 30"], true);
    sys.script([Event::CtrlZ]);
    jc.wait_for_foreground(s.number).unwrap();
    assert_eq!(jc.bg(&Spec::current()).unwrap(), "[1]+ sleep 30 &");
    assert_eq!(sys.state_of(pids[0]), Some(ProcState::Running));
    assert_eq!(sys.foreground(), SHELL_PGID);
    assert_eq!(
        jc.bg(&Spec::parse("%1")).unwrap_err().to_string(),
        "bg: job 1 already in background"
    );
    assert_eq!(
        jc.bg(&Spec::parse("%3")).unwrap_err().to_string(),
        "bg: %3: no such job"
    );
    jc.reap().unwrap(); // the Continued status changes nothing
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::All, &[])
            .unwrap(),
        ["[1]+  Running                 sleep 30 &"]
    );
}

#[test]
fn jobs_listing_forms() {
    let (sys, mut jc) = shell();
    let (s, a) = spawn(&mut jc, &["sleep 30"], true);
    sys.script([Event::CtrlZ]);
    jc.wait_for_foreground(s.number).unwrap();
    let (_, b) = spawn(&mut jc, &["sleep 40", "cat"], false);
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::All, &[])
            .unwrap(),
        [
            "[1]+  Stopped                 sleep 30",
            "[2]-  Running                 sleep 40 | cat &",
        ]
    );
    assert_eq!(
        jc.jobs(ListFormat::Long, StateFilter::All, &[Spec::parse("%2")])
            .unwrap(),
        [
            format!("[2]- {:>5} Running                 sleep 40", b[0]),
            format!("     {:>5}                       | cat &", b[1]),
        ]
    );
    assert_eq!(
        jc.jobs(ListFormat::Pgids, StateFilter::All, &[]).unwrap(),
        [a[0].to_string(), b[0].to_string()]
    );
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::All, &[Spec::parse("%9")])
            .unwrap_err()
            .to_string(),
        "jobs: %9: no such job"
    );
    // A finished job is listed once, then gone.
    sys.happen(Event::Exit(b[0], 0));
    sys.happen(Event::Exit(b[1], 1));
    jc.reap().unwrap();
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::All, &[Spec::parse("%2")])
            .unwrap(),
        ["[2]-  Exit 1                  sleep 40 | cat"]
    );
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::All, &[])
            .unwrap(),
        ["[1]+  Stopped                 sleep 30"]
    );
    assert!(jc.notices().is_empty());
}

#[test]
fn numbers_stay_stable_through_the_control_api() {
    let (sys, mut jc) = shell();
    let p: Vec<Pid> = (0..3)
        .map(|_| spawn(&mut jc, &["sleep 9"], false).1[0])
        .collect();
    sys.happen(Event::Exit(p[1], 0));
    jc.reap().unwrap();
    assert_eq!(jc.notices(), ["[2]-  Done                    sleep 9"]);
    let (s, _) = spawn(&mut jc, &["sleep 9"], false);
    assert_eq!(s.number.get(), 4);
    assert_eq!(s.line.unwrap(), format!("[4] {}", s.pgid));
}

#[test]
fn wait_returns_the_status_and_forgets_the_job() {
    let (sys, mut jc) = shell();
    let (_, pids) = spawn(&mut jc, &["sh -c 'exit 5'"], false);
    sys.script([Event::Exit(pids[0], 5)]);
    assert_eq!(
        jc.wait(&WaitFor::Job(Spec::parse("%1")), &mut || false)
            .unwrap(),
        WaitOutcome::Done(5)
    );
    assert!(jc.table().is_empty());
    assert!(jc.notices().is_empty(), "no Done notice after wait");
    assert_eq!(
        jc.wait(&WaitFor::Job(Spec::parse("%1")), &mut || false)
            .unwrap_err()
            .to_string(),
        "wait: %1: no such job"
    );
    assert_eq!(
        jc.wait(&WaitFor::Process(Pid::from_raw(77)), &mut || false)
            .unwrap_err()
            .to_string(),
        "wait: pid 77 is not a child of this shell"
    );
}

#[test]
fn wait_for_all_and_by_pid() {
    let (sys, mut jc) = shell();
    let (_, a) = spawn(&mut jc, &["a"], false);
    let (_, b) = spawn(&mut jc, &["b"], false);
    sys.script([Event::Exit(b[0], 1), Event::Exit(a[0], 2)]);
    assert_eq!(
        jc.wait(&WaitFor::Background, &mut || false).unwrap(),
        WaitOutcome::Done(0)
    );
    assert!(jc.table().is_empty());
    let (_, c) = spawn(&mut jc, &["c"], false);
    sys.script([Event::Exit(c[0], 4)]);
    assert_eq!(
        jc.wait(&WaitFor::Process(c[0]), &mut || false).unwrap(),
        WaitOutcome::Done(4)
    );
}

#[test]
fn wait_is_interruptible_and_leaves_the_job_alone() {
    let (sys, mut jc) = shell();
    let (_, pids) = spawn(&mut jc, &["sleep 5"], false);
    sys.script([Event::Interrupt]);
    let mut asked = 0;
    let out = jc
        .wait(&WaitFor::Background, &mut || {
            asked += 1;
            true
        })
        .unwrap();
    assert_eq!(out, WaitOutcome::Interrupted);
    assert_eq!(asked, 1);
    assert_eq!(sys.state_of(pids[0]), Some(ProcState::Running));
    assert_eq!(jc.table().len(), 1);
}

#[test]
fn a_ctrl_c_caught_before_wait_blocks_ends_it() {
    // The ^C came while the line was on its way to `wait`: no system call was interrupted,
    // nothing is scripted, and `wait` must not block.
    let (sys, mut jc) = shell();
    let (_, pids) = spawn(&mut jc, &["sleep 30"], false);
    let out = jc.wait(&WaitFor::Background, &mut || true).unwrap();
    assert_eq!(out, WaitOutcome::Interrupted);
    assert_eq!(sys.state_of(pids[0]), Some(ProcState::Running));
    assert_eq!(jc.table().len(), 1);
}

#[test]
fn exit_warns_once_then_hangs_up_every_job() {
    let (sys, mut jc) = shell();
    assert_eq!(jc.check_exit(), ExitCheck::Proceed, "no jobs, no warning");
    let (s, a) = spawn(&mut jc, &["sleep 300"], true);
    sys.script([Event::CtrlZ]);
    jc.wait_for_foreground(s.number).unwrap();
    let (_, b) = spawn(&mut jc, &["sleep 400"], false);
    assert_eq!(
        jc.check_exit(),
        ExitCheck::Warn("There are stopped jobs.".into())
    );
    jc.forget_exit_warning(); // another command ran in between
    assert_eq!(
        jc.check_exit(),
        ExitCheck::Warn("There are stopped jobs.".into())
    );
    assert_eq!(jc.check_exit(), ExitCheck::Proceed);
    jc.hangup_all();
    assert_eq!(
        sys.state_of(a[0]),
        Some(ProcState::Signaled(Signal::SIGHUP)),
        "stopped job woke up and died"
    );
    assert_eq!(
        sys.state_of(b[0]),
        Some(ProcState::Signaled(Signal::SIGHUP))
    );
}

#[test]
fn exit_warns_about_running_jobs_too() {
    let (_, mut jc) = shell();
    spawn(&mut jc, &["sleep 300"], false);
    assert_eq!(
        jc.check_exit(),
        ExitCheck::Warn("There are running jobs.".into())
    );
    assert_eq!(jc.check_exit(), ExitCheck::Proceed);
}

#[test]
fn without_a_terminal_fg_and_bg_refuse() {
    let sys = VirtualSystem::new();
    let mut jc = JobControl::new(sys);
    assert_eq!(
        jc.fg(&Spec::current(), &mut Vec::new())
            .unwrap_err()
            .to_string(),
        "fg: no job control"
    );
    assert_eq!(
        jc.bg(&Spec::current()).unwrap_err().to_string(),
        "bg: no job control"
    );
}

#[test]
fn jobs_filters_running_and_stopped() {
    let (sys, mut jc) = shell();
    let (s, _) = spawn(&mut jc, &["sleep 30"], true);
    sys.script([Event::CtrlZ]);
    jc.wait_for_foreground(s.number).unwrap();
    spawn(&mut jc, &["sleep 40"], false);
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::Stopped, &[])
            .unwrap(),
        ["[1]+  Stopped                 sleep 30"]
    );
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::Running, &[])
            .unwrap(),
        ["[2]-  Running                 sleep 40 &"]
    );
}

#[test]
fn marks_follow_stops_and_fg_of_the_previous_job() {
    // Scenario "stop-in-function": a stopped job, a background job stopped with kill -STOP,
    // then `fg %-` and ctrl-z again.
    let (sys, mut jc) = shell();
    let (s, a) = spawn(&mut jc, &["sh -c 'kill -TSTP 0'"], true);
    sys.script([Event::CtrlZ]);
    jc.wait_for_foreground(s.number).unwrap();
    let (_, b) = spawn(&mut jc, &["sleep 100"], false);
    jc.kill(&job("%sleep"), Signal::SIGSTOP).unwrap();
    jc.reap().unwrap();
    assert_eq!(jc.notices(), ["[2]+  Stopped                 sleep 100"]);
    let list = |jc: &mut JobControl<VirtualSystem>| {
        jc.jobs(ListFormat::Standard, StateFilter::All, &[])
            .unwrap()
            .join("\n")
    };
    assert_eq!(
        list(&mut jc),
        "[1]-  Stopped                 sh -c 'kill -TSTP 0'\n[2]+  Stopped                 sleep 100"
    );
    sys.script([Event::CtrlZ]);
    let out = jc.fg(&Spec::parse("%-"), &mut Vec::new()).unwrap();
    assert_eq!(
        out.notice.as_deref(),
        Some("[1]+  Stopped                 sh -c 'kill -TSTP 0'")
    );
    assert_eq!(
        list(&mut jc),
        "[1]+  Stopped                 sh -c 'kill -TSTP 0'\n[2]-  Stopped                 sleep 100"
    );
    // bg keeps the marks; the continued job is listed running.
    assert_eq!(jc.bg(&Spec::parse("%2")).unwrap(), "[2]- sleep 100 &");
    assert_eq!(
        list(&mut jc),
        "[1]+  Stopped                 sh -c 'kill -TSTP 0'\n[2]-  Running                 sleep 100 &"
    );
    let _ = (a, b);
}

#[test]
fn a_shell_in_its_parents_group_takes_its_own_and_gives_it_back() {
    let sys = VirtualSystem::with_shell_in_parent_group();
    let outer = Pid::from_raw(50);
    let mut jc = JobControl::new(sys.clone());
    jc.take_terminal().unwrap();
    assert_eq!(jc.shell_pgid(), Some(SHELL_PGID));
    assert_eq!(
        sys.process(SHELL_PID).unwrap().pgid,
        SHELL_PGID,
        "leads its own group"
    );
    assert_eq!(sys.foreground(), SHELL_PGID);
    let (s, pids) = spawn(&mut jc, &["true"], true);
    sys.script([Event::Exit(pids[0], 0)]);
    jc.wait_for_foreground(s.number).unwrap();
    assert_shell_has_terminal(&sys);
    jc.release_terminal();
    assert!(!jc.has_terminal());
    assert_eq!(
        sys.foreground(),
        Pgid::led_by(outer),
        "the terminal goes back to the group marsh came from"
    );
    assert_eq!(sys.process(SHELL_PID).unwrap().pgid, Pgid::led_by(outer));
    assert_eq!(sys.ttou_violations(), 0);
}

#[test]
fn a_failed_foreground_wait_still_reclaims_and_the_job_is_not_lost() {
    let (sys, mut jc) = shell();
    let (s, pids) = spawn(&mut jc, &["sleep 30"], true);
    // Nothing scripted: the simulated blocking wait fails (EDEADLK) instead of hanging.
    let err = jc.wait_for_foreground(s.number).unwrap_err();
    assert!(
        matches!(
            err,
            JobError::Sys {
                what: "waitpid",
                ..
            }
        ),
        "{err}"
    );
    assert_shell_has_terminal(&sys);
    sys.happen(Event::Exit(pids[0], 0));
    jc.reap().unwrap();
    assert_eq!(jc.notices(), ["[1]+  Done                    sleep 30"]);
}

#[test]
fn reap_hands_back_statuses_of_children_that_are_no_job() {
    let (sys, mut jc) = shell();
    let other = sys.new_child();
    sys.happen(Event::Exit(other, 2));
    assert_eq!(jc.reap().unwrap(), [WaitStatus::Exited(other, 2)]);
}

#[test]
fn kill_errors_name_the_system_reason() {
    let (_, mut jc) = shell();
    let err = jc
        .kill(&KillTarget::Process(Pid::from_raw(4242)), Signal::SIGTERM)
        .unwrap_err();
    assert_eq!(err.to_string(), "kill: (4242) - No such process");
    let denied = JobError::Kill {
        target: "1".into(),
        errno: Errno::EPERM,
    };
    assert_eq!(denied.to_string(), "kill: (1) - Operation not permitted");
    let group = KillTarget::Group(Pgid::led_by(Pid::from_raw(4242)));
    let err = jc.kill(&group, Signal::SIGTERM).unwrap_err();
    assert_eq!(err.to_string(), "kill: (-4242) - No such process");
}

/// `kill %spec` as the builtin passes it.
fn job(spec: &str) -> KillTarget {
    KillTarget::Job(Spec::parse(spec))
}

#[test]
fn a_job_is_reported_only_after_every_member_was_reaped() {
    let (sys, mut jc) = shell();
    let (_, pids) = spawn(&mut jc, &["sleep 1", "cat", "cat"], false);
    // Members end out of order; the job stays in the table, unreported, until the last one.
    for (i, &pid) in [pids[0], pids[2]].iter().enumerate() {
        sys.happen(Event::Exit(pid, 0));
        jc.reap().unwrap();
        assert!(jc.notices().is_empty(), "no notice after {} of 3", i + 1);
        assert_eq!(jc.table().len(), 1, "the job is still listed");
        assert_eq!(sys.process(pid).map(|p| p.state), None, "member reaped");
    }
    sys.happen(Event::Exit(pids[1], 0));
    jc.reap().unwrap();
    assert_eq!(
        jc.notices(),
        ["[1]+  Done                    sleep 1 | cat | cat"]
    );
    assert!(
        sys.group_members(Pgid::led_by(pids[0])).is_empty(),
        "nothing of the group is left"
    );
    assert!(jc.table().is_empty());
}

fn wait_n(jc: &mut JobControl<VirtualSystem>, ids: &[&str]) -> Result<WaitOutcome, JobError> {
    let targets: Vec<WaitFor> = ids.iter().map(|s| WaitFor::Job(Spec::parse(s))).collect();
    jc.wait_next(&targets, &mut || false)
}

#[test]
fn wait_n_returns_the_first_job_to_end_and_leaves_the_others() {
    // Scenario posix/wait-n.
    let (sys, mut jc) = shell();
    let (_, a) = spawn(&mut jc, &["sleep 30"], false);
    let (_, b) = spawn(&mut jc, &["sh -c 'exit 7'"], false);
    sys.script([Event::Exit(b[0], 7)]);
    assert_eq!(wait_n(&mut jc, &[]).unwrap(), WaitOutcome::Done(7));
    assert_eq!(jc.table().len(), 1, "the job waited for left the table");
    assert!(jc.notices().is_empty(), "no Done notice for it");
    assert_eq!(sys.state_of(a[0]), Some(ProcState::Running));
}

#[test]
fn wait_n_takes_a_job_that_ended_unreported_at_once() {
    let (sys, mut jc) = shell();
    let (_, a) = spawn(&mut jc, &["a"], false);
    let (_, b) = spawn(&mut jc, &["b"], false);
    sys.script([Event::Exit(b[0], 3)]);
    jc.reap().unwrap();
    // Nothing is scripted: a blocking wait would fail with EDEADLK.
    assert_eq!(wait_n(&mut jc, &[]).unwrap(), WaitOutcome::Done(3));
    assert_eq!(sys.state_of(a[0]), Some(ProcState::Running));
}

#[test]
fn wait_n_skips_a_stopped_job_and_returns_127_when_only_stopped_ones_are_left() {
    // Scenario posix/wait-n-with-stopped-job.
    let (sys, mut jc) = shell();
    let (cat, _) = spawn(&mut jc, &["cat"], true);
    sys.script([Event::CtrlZ]);
    jc.wait_for_foreground(cat.number).unwrap();
    let (_, s) = spawn(&mut jc, &["sleep 30"], false);
    sys.script([Event::Signal(s[0], Signal::SIGTERM)]);
    assert_eq!(wait_n(&mut jc, &[]).unwrap(), WaitOutcome::Done(143));
    assert_eq!(
        jc.jobs(ListFormat::Standard, StateFilter::All, &[])
            .unwrap(),
        ["[1]+  Stopped                 cat"]
    );
    assert_eq!(wait_n(&mut jc, &[]).unwrap(), WaitOutcome::NoJob);
    assert_eq!(wait_n(&mut jc, &["%1"]).unwrap(), WaitOutcome::NoJob);
}

#[test]
fn wait_n_with_no_job_returns_127_at_once() {
    let (_, mut jc) = shell();
    assert_eq!(wait_n(&mut jc, &[]).unwrap(), WaitOutcome::NoJob);
}

#[test]
fn wait_n_with_ids_waits_for_one_of_them_only() {
    let (sys, mut jc) = shell();
    let (_, a) = spawn(&mut jc, &["a"], false);
    let (_, b) = spawn(&mut jc, &["b"], false);
    let (_, c) = spawn(&mut jc, &["c"], false);
    sys.script([Event::Exit(a[0], 1), Event::Exit(c[0], 5)]);
    assert_eq!(
        wait_n(&mut jc, &["%2", "%3"]).unwrap(),
        WaitOutcome::Done(5)
    );
    assert_eq!(sys.state_of(b[0]), Some(ProcState::Running));
    assert_eq!(jc.notices(), ["[1]   Exit 1                  a"]);
    sys.script([Event::Exit(b[0], 4)]);
    assert_eq!(
        jc.wait_next(&[WaitFor::Process(b[0])], &mut || false)
            .unwrap(),
        WaitOutcome::Done(4)
    );
    assert!(jc.table().is_empty());
}

#[test]
fn wait_n_mistakes_and_interruption() {
    let (sys, mut jc) = shell();
    assert_eq!(
        wait_n(&mut jc, &["%9"]).unwrap_err().to_string(),
        "wait: %9: no such job"
    );
    assert_eq!(
        jc.wait_next(&[WaitFor::Process(Pid::from_raw(77))], &mut || false)
            .unwrap_err()
            .to_string(),
        "wait: pid 77 is not a child of this shell"
    );
    let (_, pids) = spawn(&mut jc, &["sleep 5"], false);
    sys.script([Event::Interrupt]);
    let mut asked = 0;
    let out = jc.wait_next(&[], &mut || {
        asked += 1;
        asked > 1
    });
    assert_eq!(out.unwrap(), WaitOutcome::Interrupted);
    assert_eq!(sys.state_of(pids[0]), Some(ProcState::Running));
    assert_eq!(jc.table().len(), 1);
}

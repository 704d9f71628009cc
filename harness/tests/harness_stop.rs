//! ^Z of a three-process pipeline stops every member, `jobs` shows one stopped job, `fg`
//! resumes all of it, ^C then ends all of it.

mod common;

use jobcheck::{GroupState, JobState, Key};

fn stop_pipeline(shell: &str) {
    let mut s = common::start(shell, "stop-pipeline");
    s.type_line("sleep 30 | cat | cat").unwrap();
    let pgid = s.wait_foreground_job(&["sleep", "cat", "cat"]).unwrap();
    s.key(Key::CtrlZ).unwrap();
    let members = s.wait_group_state(pgid, 3, GroupState::Stopped).unwrap();
    assert!(members.iter().all(|p| p.is_stopped()));
    s.wait_prompt().unwrap();
    s.check_terminal_owned_by_shell().unwrap();

    let jobs = s.jobs().unwrap();
    assert_eq!(jobs.len(), 1, "one job expected: {jobs:?}\n{}", s.report());
    assert_eq!(jobs[0].number, 1);
    assert_eq!(jobs[0].state, JobState::Stopped, "{jobs:?}");
    assert!(jobs[0].command.contains("sleep 30"), "{jobs:?}");

    s.type_line("fg").unwrap();
    s.wait_group_state(pgid, 3, GroupState::Running).unwrap();
    s.wait_until("the job to own the terminal again", |s| {
        (s.foreground() == Some(pgid)).then_some(())
    })
    .unwrap();
    s.key(Key::CtrlC).unwrap();
    s.wait_prompt().unwrap();
    s.check_terminal_owned_by_shell().unwrap();
    s.check_clean(&[]).unwrap();
    assert!(s.jobs().unwrap().is_empty());
}

#[test]
fn bash_ctrl_z_stops_whole_pipeline() {
    stop_pipeline("bash");
}

#[test]
fn dash_ctrl_z_stops_whole_pipeline() {
    stop_pipeline("dash");
}

/// jobprobe reports what it receives: ^Z (SIGTSTP) then `fg` (SIGCONT), then ^C.
fn probe_reports(shell: &str) {
    let mut s = common::start(shell, "probe-reports");
    s.type_line("jobprobe info report ready pause").unwrap();
    s.wait_output("jobprobe: ready").unwrap();
    let pgid = s.wait_foreground_job(&["jobprobe"]).unwrap();
    s.key(Key::CtrlZ).unwrap();
    s.wait_output("got SIGTSTP").unwrap();
    s.wait_group_state(pgid, 1, GroupState::Stopped).unwrap();
    s.wait_prompt().unwrap();
    s.type_line("fg").unwrap();
    s.wait_output("got SIGCONT").unwrap();
    s.wait_until("the probe to own the terminal", |s| {
        (s.foreground() == Some(pgid)).then_some(())
    })
    .unwrap();
    s.key(Key::CtrlC).unwrap();
    s.wait_output("got SIGINT").unwrap();
    s.wait_prompt().unwrap();
    s.check_clean(&[]).unwrap();
}

#[test]
fn bash_probe_reports_signals() {
    probe_reports("bash");
}

#[test]
fn dash_probe_reports_signals() {
    probe_reports("dash");
}

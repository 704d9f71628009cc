//! Running one scenario against one shell: every step in order, then the universal checks.

use super::{Action, Scenario, Target, snapshot_name};
use crate::session::GroupState;
use crate::session::{Failure, Options, Session};
use crate::shells::{Adapter, JobState};

/// What a run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The text to compare with the `<scenario>@<shell>` snapshot (`None`: no snapshot step).
    pub snapshot: Option<String>,
}
/// Run one scenario against one shell.
pub fn run(scn: &Scenario, adapter: &Adapter, mut opts: Options) -> Result<Outcome, Failure> {
    opts.name = snapshot_name(scn, &adapter.name);
    if let Some(t) = scn.timeout {
        opts.timeout = t;
    }
    let mut s = Session::spawn_with(adapter, opts)?;
    s.wait_prompt()?;
    let mut cmd_start = s.output().len();
    let mut job: Option<crate::Pgid> = None;
    let mut snaps: Vec<String> = Vec::new();
    let shell = adapter.name.clone();
    for step in scn.steps.iter().filter(|st| st.applies(&shell)) {
        let at = format!("{}:{}", scn.path.display(), step.line);
        let fail = |s: &Session, m: String| s.failure(&format!("{at}: {m}"));
        match &step.action {
            Action::Type(line) => {
                cmd_start = s.output().len();
                s.type_line(line)?;
            }
            Action::Key(bytes) => s.send(bytes)?,
            Action::Signal(sig, to) => match to {
                Target::Foreground => {
                    s.signal_foreground(*sig)?;
                }
                Target::Shell => s.signal_shell(*sig)?,
                Target::Job => {
                    let g = job.ok_or_else(|| fail(&s, "no job waited for yet".into()))?;
                    s.signal_pgid(g, *sig)?;
                }
            },
            Action::Pause(d) => std::thread::sleep(*d),
            Action::Hangup => s.hangup(),
            Action::WaitPrompt => {
                s.wait_prompt().map_err(|f| prefix(f, &at))?;
            }
            Action::WaitOutput(re) => {
                s.wait_output(re).map_err(|f| prefix(f, &at))?;
            }
            Action::WaitFg(cmds) => {
                let c: Vec<&str> = cmds.iter().map(String::as_str).collect();
                job = Some(s.wait_foreground_job(&c).map_err(|f| prefix(f, &at))?);
            }
            Action::WaitBg(cmds) => {
                let c: Vec<&str> = cmds.iter().map(String::as_str).collect();
                job = Some(s.wait_background_job(&c).map_err(|f| prefix(f, &at))?);
            }
            Action::WaitBusy => s.wait_busy().map_err(|f| prefix(f, &at))?,
            Action::WaitIdle => s.wait_idle().map_err(|f| prefix(f, &at))?,
            Action::WaitProcess(cmd) => {
                let shell_pid = s.shell_pid();
                s.wait_until(&format!("a process running {cmd}"), |s| {
                    s.processes()
                        .iter()
                        .any(|p| p.pid != shell_pid && &p.comm == cmd)
                        .then_some(())
                })
                .map_err(|f| prefix(f, &at))?;
            }
            Action::WaitJob { stopped, count } => {
                let g = job.ok_or_else(|| fail(&s, "no job waited for yet".into()))?;
                let state = if *stopped {
                    GroupState::Stopped
                } else {
                    GroupState::Running
                };
                s.wait_group_state(g, *count, state)
                    .map_err(|f| prefix(f, &at))?;
            }
            Action::WaitJobGone => {
                let g = job.ok_or_else(|| fail(&s, "no job waited for yet".into()))?;
                s.wait_until("the job to be gone", |s| {
                    s.group(g).is_empty().then_some(())
                })
                .map_err(|f| prefix(f, &at))?;
            }
            Action::WaitExit => {
                s.wait_exit().map_err(|f| prefix(f, &at))?;
            }
            Action::WaitShellWaiting => {
                s.wait_shell_waiting_for_child()
                    .map_err(|f| prefix(f, &at))?;
            }
            Action::ExpectOutput(re) | Action::ExpectNoOutput(re) => {
                let want = matches!(step.action, Action::ExpectOutput(_));
                let r = regex::Regex::new(re).map_err(|e| fail(&s, format!("bad regex: {e}")))?;
                let out = crate::session::strip_ansi(&s.output()[cmd_start..]);
                if r.is_match(&out) != want {
                    let verb = if want { "no" } else { "unexpected" };
                    return Err(fail(
                        &s,
                        format!("{verb} output matching /{re}/ since the last typed line"),
                    ));
                }
            }
            Action::ExpectStatus(want) => {
                let cmd = adapter
                    .status_command
                    .clone()
                    .unwrap_or_else(|| "echo $?".into());
                let got = s.run(&cmd)?;
                let status = adapter.parse_status(&got);
                if status.map(|n| n.to_string()).as_deref() != Some(want.as_str()) {
                    return Err(fail(
                        &s,
                        format!("status {status:?} in {got:?}, expected {want}"),
                    ));
                }
            }
            Action::ExpectJobs(want) => {
                let got = s.jobs()?;
                let states: Vec<JobState> = got.iter().map(|j| j.state.clone()).collect();
                if &states != want {
                    return Err(fail(&s, format!("jobs {got:?}, expected states {want:?}")));
                }
            }
            Action::ExpectSurvivors(want) => {
                let mut want = want.clone();
                want.sort();
                let shell_pid = s.shell_pid();
                let others = |s: &Session| -> Vec<crate::procfs::Proc> {
                    s.processes()
                        .into_iter()
                        .filter(|p| p.pid != shell_pid)
                        .collect()
                };
                let found = s.wait_until("the expected survivors", |s| {
                    let mut got: Vec<String> = others(s).into_iter().map(|p| p.comm).collect();
                    got.sort();
                    (got == want).then_some(())
                });
                if let Err(f) = found {
                    let table = crate::procfs::format_table(&s.processes());
                    return Err(prefix(
                        f,
                        &format!("{at}: survivors are not exactly {want:?}:\n{table}"),
                    ));
                }
                for p in others(&s) {
                    let _ = nix::sys::signal::kill(p.pid.into(), nix::sys::signal::Signal::SIGKILL);
                }
            }
            // Trailing blanks of a row depend on whether an editor cleared it with spaces.
            Action::Snapshot => snaps.push(
                s.screen()
                    .lines()
                    .map(str::trim_end)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Action::CheckClean => s.check_clean(&[]).map_err(|f| prefix(f, &at))?,
            Action::CheckTty => s
                .check_terminal_owned_by_shell()
                .map_err(|f| prefix(f, &at))?,
            Action::CheckReservoirs => s.check_reservoirs().map_err(|f| prefix(f, &at))?,
        }
    }
    if s.try_status().is_none() && s.foreground().is_some() {
        s.check_terminal_owned_by_shell()
            .map_err(|f| prefix(f, "final check"))?;
    }
    s.check_clean(&[]).map_err(|f| prefix(f, "final check"))?;
    if s.adapter().name == "marsh" {
        // marsh's own universal check: its reservoir directory agrees with `env` while it
        // lives (every job has been reported: the clean check above saw none left), and is gone
        // once it has ended.
        use std::os::unix::process::ExitStatusExt;
        match s.try_status() {
            None => s.check_reservoirs().map_err(|f| prefix(f, "final check"))?,
            Some(st) if st.signal() != Some(libc::SIGKILL) => s
                .check_runtime_removed()
                .map_err(|f| prefix(f, "final check"))?,
            Some(_) => {}
        }
    }
    let snapshot = (!snaps.is_empty()).then(|| {
        let mut text = String::new();
        for (i, sn) in snaps.iter().enumerate() {
            if snaps.len() > 1 {
                text.push_str(&format!("--- snapshot {}\n", i + 1));
            }
            text.push_str(sn);
            text.push('\n');
        }
        text
    });
    Ok(Outcome { snapshot })
}

fn prefix(mut f: Failure, at: &str) -> Failure {
    f.message = format!("{at}: {}", f.message);
    f
}

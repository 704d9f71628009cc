//! Running one scenario against one shell: every step in order, then the universal checks.
//!
//! A [`Runner`] owns the session and what the steps leave for later steps: the job of the last
//! `wait fg`/`wait bg`, where the last typed line's output starts, and the screens taken.

use super::{Action, Scenario, Step, Target, snapshot_name};
use crate::pid::Pgid;
use crate::session::{Failure, GroupState, Options, Session};
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
    let mut r = Runner::start(adapter, opts)?;
    for step in scn.steps.iter().filter(|st| st.applies(&adapter.name)) {
        let at = format!("{}:{}", scn.path.display(), step.line);
        r.step(step).map_err(|f| prefix(f, &at))?;
    }
    r.final_checks().map_err(|f| prefix(f, "final check"))?;
    Ok(Outcome {
        snapshot: r.snapshot_text(),
    })
}

/// A scenario being played.
struct Runner<'a> {
    adapter: &'a Adapter,
    s: Session,
    /// The job of the last `wait fg` / `wait bg`.
    job: Option<Pgid>,
    /// Output offset where the last typed line starts (for `expect output`).
    cmd_start: usize,
    /// Screens taken by `snapshot` steps.
    snaps: Vec<String>,
}

impl<'a> Runner<'a> {
    /// Spawn the shell and wait for its first prompt.
    fn start(adapter: &'a Adapter, opts: Options) -> Result<Runner<'a>, Failure> {
        let mut s = Session::spawn_with(adapter, opts)?;
        s.wait_prompt()?;
        let cmd_start = s.output().len();
        Ok(Runner {
            adapter,
            s,
            job: None,
            cmd_start,
            snaps: Vec::new(),
        })
    }

    /// Play one step.
    fn step(&mut self, step: &Step) -> Result<(), Failure> {
        match &step.action {
            Action::Type(line) => {
                self.cmd_start = self.s.output().len();
                self.s.type_line(line)
            }
            Action::Key(bytes) => self.s.send(bytes),
            Action::Signal(sig, to) => self.signal(*sig, *to),
            Action::Pause(d) => {
                std::thread::sleep(*d);
                Ok(())
            }
            Action::Hangup => {
                self.s.hangup();
                Ok(())
            }
            Action::WaitPrompt => self.s.wait_prompt().map(drop),
            Action::WaitOutput(re) => self.s.wait_output(re).map(drop),
            Action::WaitFg(cmds) => {
                let c: Vec<&str> = cmds.iter().map(String::as_str).collect();
                self.job = Some(self.s.wait_foreground_job(&c)?);
                Ok(())
            }
            Action::WaitBg(cmds) => {
                let c: Vec<&str> = cmds.iter().map(String::as_str).collect();
                self.job = Some(self.s.wait_background_job(&c)?);
                Ok(())
            }
            Action::WaitBusy => self.s.wait_busy(),
            Action::WaitIdle => self.s.wait_idle(),
            Action::WaitProcess(cmd) => self.wait_process(cmd),
            Action::WaitJob { stopped, count } => self.wait_job(*stopped, *count),
            Action::WaitJobGone => self.wait_job_gone(),
            Action::WaitExit => self.s.wait_exit().map(drop),
            Action::WaitShellWaiting => self.s.wait_shell_waiting_for_child(),
            Action::ExpectOutput(re) => self.expect_output(re, true),
            Action::ExpectNoOutput(re) => self.expect_output(re, false),
            Action::ExpectStatus(want) => self.expect_status(want),
            Action::ExpectJobs(want) => self.expect_jobs(want),
            Action::ExpectSurvivors(want) => self.expect_survivors(want),
            Action::Snapshot => {
                self.take_snapshot();
                Ok(())
            }
            Action::CheckClean => self.s.check_clean(&[]),
            Action::CheckTty => self.s.check_terminal_owned_by_shell(),
            Action::CheckReservoirs => self.s.check_reservoirs(),
        }
    }

    /// The job of the last `wait fg` / `wait bg`.
    fn job(&self) -> Result<Pgid, Failure> {
        self.job
            .ok_or_else(|| self.s.failure("no job waited for yet"))
    }

    fn signal(&mut self, sig: nix::sys::signal::Signal, to: Target) -> Result<(), Failure> {
        match to {
            Target::Foreground => self.s.signal_foreground(sig).map(drop),
            Target::Shell => self.s.signal_shell(sig),
            Target::Job => {
                let g = self.job()?;
                self.s.signal_pgid(g, sig)
            }
        }
    }

    fn wait_process(&mut self, cmd: &str) -> Result<(), Failure> {
        let shell_pid = self.s.shell_pid();
        self.s.wait_until(&format!("a process running {cmd}"), |s| {
            s.processes()
                .iter()
                .any(|p| p.pid != shell_pid && p.comm == cmd)
                .then_some(())
        })
    }

    fn wait_job(&mut self, stopped: bool, count: usize) -> Result<(), Failure> {
        let g = self.job()?;
        let state = if stopped {
            GroupState::Stopped
        } else {
            GroupState::Running
        };
        self.s.wait_group_state(g, count, state).map(drop)
    }

    fn wait_job_gone(&mut self) -> Result<(), Failure> {
        let g = self.job()?;
        self.s.wait_until("the job to be gone", |s| {
            s.group(g).is_empty().then_some(())
        })
    }

    fn expect_output(&mut self, re: &str, want: bool) -> Result<(), Failure> {
        let r = regex::Regex::new(re).map_err(|e| self.s.failure(&format!("bad regex: {e}")))?;
        let out = crate::session::strip_ansi(&self.s.output()[self.cmd_start..]);
        if r.is_match(&out) == want {
            return Ok(());
        }
        let verb = if want { "no" } else { "unexpected" };
        Err(self.s.failure(&format!(
            "{verb} output matching /{re}/ since the last typed line"
        )))
    }

    fn expect_status(&mut self, want: &str) -> Result<(), Failure> {
        let cmd = self
            .adapter
            .status_command
            .clone()
            .unwrap_or_else(|| "echo $?".into());
        let got = self.s.run(&cmd)?;
        let status = self.adapter.parse_status(&got);
        if status.map(|n| n.to_string()).as_deref() == Some(want) {
            return Ok(());
        }
        Err(self
            .s
            .failure(&format!("status {status:?} in {got:?}, expected {want}")))
    }

    fn expect_jobs(&mut self, want: &[JobState]) -> Result<(), Failure> {
        let got = self.s.jobs()?;
        let states: Vec<JobState> = got.iter().map(|j| j.state.clone()).collect();
        if states == want {
            return Ok(());
        }
        Err(self
            .s
            .failure(&format!("jobs {got:?}, expected states {want:?}")))
    }

    /// The session's processes other than a living shell are exactly `want`; then kill them.
    fn expect_survivors(&mut self, want: &[String]) -> Result<(), Failure> {
        let mut want = want.to_vec();
        want.sort();
        let shell_pid = self.s.shell_pid();
        let others = |s: &Session| -> Vec<crate::procfs::Proc> {
            s.processes()
                .into_iter()
                .filter(|p| p.pid != shell_pid)
                .collect()
        };
        let found = self.s.wait_until("the expected survivors", |s| {
            let mut got: Vec<String> = others(s).into_iter().map(|p| p.comm).collect();
            got.sort();
            (got == want).then_some(())
        });
        if let Err(f) = found {
            let table = crate::procfs::format_table(&self.s.processes());
            return Err(prefix(
                f,
                &format!("survivors are not exactly {want:?}:\n{table}"),
            ));
        }
        for p in others(&self.s) {
            let _ = nix::sys::signal::kill(p.pid.into(), nix::sys::signal::Signal::SIGKILL);
        }
        Ok(())
    }

    /// Keep the rendered screen (trailing blanks of a row depend on whether an editor cleared
    /// it with spaces, so they are dropped).
    fn take_snapshot(&mut self) {
        let screen = self.s.screen();
        let rows: Vec<&str> = screen.lines().map(str::trim_end).collect();
        self.snaps.push(rows.join("\n"));
    }

    /// After the last step: the terminal is the shell's (if it lives and the pty is open), no
    /// process is left, and marsh's reservoir directory is right.
    fn final_checks(&mut self) -> Result<(), Failure> {
        if self.s.try_status().is_none() && self.s.foreground().is_some() {
            self.s.check_terminal_owned_by_shell()?;
        }
        self.s.check_clean(&[])?;
        if self.adapter.name == "marsh" {
            self.marsh_reservoirs()?;
        }
        Ok(())
    }

    /// marsh's own universal check: its reservoir directory agrees with `env` while it lives
    /// (every job has been reported: the clean check saw none left), and is gone once it has
    /// ended (unless SIGKILL ended it: the next marsh reaps that directory).
    fn marsh_reservoirs(&mut self) -> Result<(), Failure> {
        use std::os::unix::process::ExitStatusExt;
        match self.s.try_status() {
            None => self.s.check_reservoirs(),
            Some(st) if st.signal() != Some(libc::SIGKILL) => self.s.check_runtime_removed(),
            Some(_) => Ok(()),
        }
    }

    /// The snapshot text: the screens taken, numbered if more than one.
    fn snapshot_text(&self) -> Option<String> {
        if self.snaps.is_empty() {
            return None;
        }
        let mut text = String::new();
        for (i, sn) in self.snaps.iter().enumerate() {
            if self.snaps.len() > 1 {
                text.push_str(&format!("--- snapshot {}\n", i + 1));
            }
            text.push_str(sn);
            text.push('\n');
        }
        Some(text)
    }
}

fn prefix(mut f: Failure, at: &str) -> Failure {
    f.message = format!("{at}: {}", f.message);
    f
}

//! Running one scenario against one shell: every step in order, then the universal checks.
//!
//! A [`Runner`] owns the session and what the steps leave for later steps: the job of the last
//! `wait fg`/`wait bg`, where the last typed line's output starts, and the screens taken.

use super::{Action, Scenario, Step, Target, snapshot_name};
use crate::pid::Pgid;
use crate::procfs::{self, Proc};
use crate::session::{
    Failure, GroupState, Options, Session, StepRef, describe_procs, quote_output,
};
use crate::shells::{Adapter, JobState};

/// What a run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The text to compare with the `<scenario>@<shell>` snapshot (`None`: no snapshot step).
    pub snapshot: Option<String>,
}

/// Run one scenario against one shell: its steps for that shell, the session named after the
/// pair's snapshot (`<scenario>@<shell>`).
pub fn run(scn: &Scenario, adapter: &Adapter, mut opts: Options) -> Result<Outcome, Failure> {
    opts.name = snapshot_name(scn, &adapter.name);
    run_steps(scn, &scn.steps_for(&adapter.name), adapter, opts)
}

/// Run `steps` (the scenario's steps for this shell, perhaps with an overlay's in place of
/// some) against the shell, then the universal checks. A failure says which step failed.
pub fn run_steps(
    scn: &Scenario,
    steps: &[Step],
    adapter: &Adapter,
    mut opts: Options,
) -> Result<Outcome, Failure> {
    if let Some(t) = scn.timeout {
        opts.timeout = t;
    }
    let at = |text: &str| StepRef {
        file: scn.path.clone(),
        line: 0,
        text: text.to_string(),
    };
    let mut r = Runner::start(adapter, opts).map_err(|f| f.at(at(FIRST_PROMPT)))?;
    for step in steps {
        r.step(step).map_err(|f| f.at(step.location(scn)))?;
    }
    r.final_checks().map_err(|f| f.at(at(FINAL_CHECKS)))?;
    Ok(Outcome {
        snapshot: r.snapshot_text(),
    })
}

/// What `type` lines replace with the shell's program (`type {shell} -c 'exit 3'`).
pub const SHELL_PLACEHOLDER: &str = "{shell}";

/// The command that runs the shell non-interactively, as `{shell}` expands: `program` and the
/// leading `args` that are not options. A multi-call binary names its shell by its first
/// argument (`busybox` with `["ash", "-i"]` gives `busybox ash`); the options that follow
/// (`-i`, `--rcfile=...`) are for the interactive session only.
pub fn shell_command(program: &str, args: &[String]) -> String {
    let applet = args.iter().take_while(|a| !a.starts_with('-'));
    std::iter::once(program)
        .chain(applet.map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a failure before the first step is located.
pub const FIRST_PROMPT: &str = "before the first step: the shell's first prompt";
/// Where a failure of the universal checks is located.
pub const FINAL_CHECKS: &str =
    "after the last step: the terminal back with the shell, no process left";

/// A scenario being played.
struct Runner<'a> {
    adapter: &'a Adapter,
    s: Session,
    /// The job of the last `wait fg` / `wait bg`.
    job: Option<Pgid>,
    /// Output offset where the last typed line starts (for `expect output`).
    cmd_start: usize,
    /// The last typed line (for sentences).
    last_typed: Option<String>,
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
            last_typed: None,
            snaps: Vec::new(),
        })
    }

    /// Play one step.
    fn step(&mut self, step: &Step) -> Result<(), Failure> {
        match &step.action {
            Action::Type(line) => {
                let line = line.replace(SHELL_PLACEHOLDER, &self.program());
                self.cmd_start = self.s.output().len();
                self.s.type_line(&line)?;
                self.last_typed = Some(line);
                Ok(())
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
            Action::WaitReading(isig_off) => self.s.wait_reading(*isig_off),
            Action::WaitShellRunning => self.s.wait_shell_running(),
            Action::ExpectOutput(re) => self.expect_output(re, true),
            Action::ExpectNoOutput(re) => self.expect_output(re, false),
            Action::ExpectStatus(want) => self.expect_status(*want),
            Action::ExpectJobs(want) => self.expect_jobs(want),
            Action::ExpectSurvivors(want) => self.expect_survivors(want),
            Action::Snapshot => {
                self.take_snapshot();
                Ok(())
            }
            Action::CheckClean => self.s.check_clean(&[]),
            Action::CheckReaped => self.check_reaped(),
            Action::CheckTty => self.s.check_terminal_owned_by_shell(),
            Action::CheckReservoirs => self.s.check_reservoirs(),
        }
    }

    /// No process of the job's group is left, zombie or not, whatever its parent: read once
    /// (a zombie handed to an init that reaps slowly is still in the group).
    fn check_reaped(&mut self) -> Result<(), Failure> {
        let g = self.job()?;
        let left = crate::procfs::procs_in_pgid(g);
        if left.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = left
            .iter()
            .map(|p| {
                let parent = p.ppid.map_or("none".into(), |pp| pp.to_string());
                let state = crate::session::state_word(p.state);
                format!("{} {} ({state}, parent {parent})", p.pid, p.comm)
            })
            .collect();
        Err(self.s.failure(&format!(
            "expected no process of the job's group {g} left at the prompt, zombie or not, but \
             it still holds {}",
            list.join("; ")
        )))
    }

    /// What `{shell}` expands to: the shell's program (its path if installed, else as the
    /// adapter names it) and the adapter's leading arguments that are not options, which name a
    /// multi-call binary's shell (`/usr/bin/busybox ash`); see [`shell_command`].
    fn program(&self) -> String {
        let program = self
            .adapter
            .find_program()
            .map_or_else(|| self.adapter.program.clone(), |p| p.display().to_string());
        shell_command(&program, &self.adapter.args)
    }

    /// The job of the last `wait fg` / `wait bg`.
    fn job(&self) -> Result<Pgid, Failure> {
        self.job.ok_or_else(|| {
            self.s
                .failure("the step needs a job, but no `wait fg` or `wait bg` step came before it")
        })
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
        let others = move |s: &Session| -> Vec<crate::procfs::Proc> {
            let all = s.processes().into_iter();
            all.filter(|p| p.pid != shell_pid).collect()
        };
        self.s.wait_until_seen(
            &format!("a process of the session running {cmd}"),
            |s| others(s).iter().any(|p| p.comm == cmd).then_some(()),
            |s| format!("the shell's processes are {}", describe_procs(&others(s))),
        )
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
        self.s.wait_until_seen(
            &format!("the job (group {g}) to be gone"),
            // Gone means ended: a zombie still being torn down (its threads exiting) has not
            // yet sent the shell its SIGCHLD, so the shell cannot know of its end.
            |s| {
                (s.group(g).is_empty() && procfs::procs_in_pgid(g).iter().all(Proc::has_ended))
                    .then_some(())
            },
            |s| format!("it still holds {}", describe_procs(&s.group(g))),
        )
    }

    /// `since \`LINE\`` for a sentence: the output that `expect` steps look at.
    fn since(&self) -> String {
        match &self.last_typed {
            Some(l) => format!("since `{l}` was typed"),
            None => "since the first prompt".into(),
        }
    }

    fn expect_output(&mut self, re: &str, want: bool) -> Result<(), Failure> {
        let r = regex::Regex::new(re).map_err(|e| {
            self.s
                .failure(&format!("the pattern /{re}/ is not a regex: {e}"))
        })?;
        let out = crate::session::strip_ansi(&self.s.output()[self.cmd_start..]);
        let found = r.find(&out);
        if found.is_some() == want {
            return Ok(());
        }
        let sentence = match found {
            None => format!(
                "expected output matching /{re}/ {}, but the shell printed {}",
                self.since(),
                quote_output(&out)
            ),
            Some(m) => {
                let line_start = out[..m.start()].rfind('\n').map_or(0, |i| i + 1);
                let line_end = out[m.end()..].find('\n').map_or(out.len(), |i| m.end() + i);
                format!(
                    "expected no output matching /{re}/ {}, but the shell printed `{}`",
                    self.since(),
                    out[line_start..line_end].trim_end()
                )
            }
        };
        Err(self.s.failure(&sentence))
    }

    fn expect_status(&mut self, want: i32) -> Result<(), Failure> {
        let cmd = self
            .adapter
            .status_command
            .clone()
            .unwrap_or_else(|| "echo $?".into());
        let got = self.s.run(&cmd)?;
        let status = self.adapter.parse_status(&got);
        if status == Some(want) {
            return Ok(());
        }
        let seen = match status {
            Some(n) => format!("it printed status {n}"),
            None => format!("it printed {}, which holds no status", quote_output(&got)),
        };
        Err(self.s.failure(&format!(
            "expected `{cmd}` to show status {want}, but {seen}"
        )))
    }

    fn expect_jobs(&mut self, want: &[JobState]) -> Result<(), Failure> {
        let text = self.s.run("jobs")?;
        let got = self.adapter.parse_jobs(&text);
        let states: Vec<JobState> = got.iter().map(|j| j.state.clone()).collect();
        if states == want {
            return Ok(());
        }
        let wanted = if want.is_empty() {
            "no job".to_string()
        } else {
            let w: Vec<String> = want.iter().map(JobState::to_string).collect();
            format!("jobs in the states {}", w.join(", "))
        };
        Err(self.s.failure(&format!(
            "expected `jobs` to list {wanted}, but it printed {}",
            quote_output(&text)
        )))
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
        let what = if want.is_empty() {
            "no process of the session to survive but the shell".to_string()
        } else {
            format!(
                "the session's processes but the shell to be exactly: {}",
                want.join(", ")
            )
        };
        self.s.wait_until_seen(
            &what,
            |s| {
                let mut got: Vec<String> = others(s).into_iter().map(|p| p.comm).collect();
                got.sort();
                (got == want).then_some(())
            },
            |s| match others(s) {
                o if o.is_empty() => "there are none".into(),
                o => format!("they are {}", describe_procs(&o)),
            },
        )?;
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
        let shell_ended = self.s.try_status().is_some();
        self.s.check_clean(&[]).map_err(|mut f| {
            if shell_ended {
                f.sentence.push_str(&format!(
                    "; if they are meant to outlive {} here, the scenario says so with \
                     `expect[{}] survivors CMD…`",
                    self.adapter.name, self.adapter.name
                ));
            }
            f
        })?;
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

#[cfg(test)]
mod tests {
    use super::shell_command;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shell_placeholder_keeps_a_multi_call_binarys_applet() {
        assert_eq!(
            shell_command("/usr/bin/busybox", &args(&["ash", "-i"])),
            "/usr/bin/busybox ash"
        );
        assert_eq!(
            shell_command("/usr/bin/bash", &args(&["--norc", "--noprofile", "-i"])),
            "/usr/bin/bash"
        );
        assert_eq!(
            shell_command("/usr/bin/yash", &args(&["--rcfile=/h/.yashrc", "-i"])),
            "/usr/bin/yash"
        );
        assert_eq!(shell_command("marsh", &[]), "marsh");
    }
}

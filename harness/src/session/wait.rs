//! Waits: every one polls a condition (prompt, output, `/proc` state, terminal owner) until
//! its deadline, never a fixed sleep, and fails with a full report.

use std::os::fd::AsFd;
use std::process::ExitStatus;
use std::time::Duration;

use super::{Result, Session, strip_ansi_mapped};
use crate::pid::Pgid;
use crate::procfs::{self, Proc, ProcState};

/// What every live member of a process group is doing, for [`Session::wait_group_state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    /// Stopped by a signal (state `T`).
    Stopped,
    /// Not stopped: running, or sleeping in a system call (`R`, `S`, `D`).
    Running,
}

impl GroupState {
    /// Whether a process in `state` is in this group state.
    pub fn holds(self, state: ProcState) -> bool {
        match self {
            GroupState::Stopped => state == ProcState::Stopped,
            GroupState::Running => matches!(
                state,
                ProcState::Running | ProcState::Sleeping | ProcState::DiskSleep
            ),
        }
    }
}

impl std::fmt::Display for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GroupState::Stopped => "stopped",
            GroupState::Running => "running",
        })
    }
}
use crate::pty;
use crate::wait::{Deadline, poll_until};

impl Session {
    /// Wait for the next prompt (number above the last one seen); returns its number and moves
    /// the mark after it.
    pub fn wait_prompt(&mut self) -> Result<u64> {
        self.wait_prompt_for(self.opts.timeout)
    }

    /// [`Session::wait_prompt`] with an explicit deadline.
    pub fn wait_prompt_for(&mut self, timeout: Duration) -> Result<u64> {
        let deadline = Deadline::after(timeout);
        let last = self.last_prompt;
        let re = self.prompt_re.clone();
        let from = self.prompt_scan;
        let found = self.wait_output_cond(deadline, |out| {
            let tail = &out[from.min(out.len())..];
            for c in re.captures_iter(tail) {
                let n: u64 = std::str::from_utf8(&c["n"]).ok()?.parse().unwrap_or(0);
                if n > last {
                    let m = c.get(0).expect("match");
                    return Some((n, from + m.start(), from + m.end()));
                }
            }
            None
        });
        match found {
            Some((n, start, end)) => {
                self.last_prompt = n;
                self.last_prompt_start = start;
                self.prompt_scan = end;
                self.mark = end;
                // The prompt came after the echo in the same output stream.
                self.pending_echo = None;
                self.wait_reading_input(deadline)?;
                self.prompt_isig = self.master.as_ref().and_then(|m| pty::isig(m.as_fd()));
                Ok(n)
            }
            None => Err(self.failure(&format!(
                "no prompt numbered above {last} within {timeout:?} (pattern /{}/)",
                self.prompt_re.as_str()
            ))),
        }
    }

    /// Wait until the shell is busy running a line (not blocked reading input) and the terminal
    /// turns ^C/^Z into signals: a key sent before that may reach a line editor as a plain byte
    /// (mksh's editor reads with ISIG off).
    ///
    /// Busy means: ISIG on, and the shell blocked in a system call (a ^C that arrives while it
    /// still runs shell code can be lost: seen with fish before `wait`), which is not an input
    /// wait, unless its line editor reads with ISIG off (marsh, mksh), where ISIG on already
    /// tells the line is running (marsh waits for jobs in epoll_wait).
    pub fn wait_busy(&mut self) -> Result<()> {
        self.wait_until("the shell to run the line with ISIG on", |s| {
            s.shell_busy().then_some(())
        })
    }

    /// The condition of [`Session::wait_busy`]: ISIG on, and the shell blocked in a system call
    /// that is not an input wait (or any, where the line editor reads with ISIG off).
    fn shell_busy(&self) -> bool {
        let Some(master) = self.master.as_ref() else {
            return false;
        };
        if pty::isig(master.as_fd()) == Some(false) {
            return false;
        }
        let editor_isig = self.prompt_isig != Some(false);
        match procfs::blocked_syscall(self.shell_pid) {
            None => true,
            Some(None) => false,
            Some(Some(nr)) => !editor_isig || !procfs::is_input_syscall(nr),
        }
    }

    /// Wait until the shell is idle at its line editor: blocked reading input (e.g. after typed
    /// text was drawn, before a key that edits it).
    pub fn wait_idle(&mut self) -> Result<()> {
        let pid = self.shell_pid;
        self.wait_until("the shell to wait for input", |_| {
            matches!(procfs::blocked_waiting_for_input(pid), Some(true) | None).then_some(())
        })
    }

    /// Wait until the shell is blocked waiting for input (read/select/poll, from
    /// `/proc/PID/syscall`). A prompt is on screen a moment before the shell reads: bash
    /// (readline) swallows a ^C that arrives in that moment until the next key is typed.
    fn wait_reading_input(&mut self, deadline: Deadline) -> Result<()> {
        let pid = self.shell_pid;
        let ok = poll_until(deadline, || match procfs::blocked_waiting_for_input(pid) {
            Some(true) | None => Some(()),
            Some(false) => None,
        });
        ok.ok_or_else(|| self.failure("the shell showed a prompt but never waited for input"))
    }

    /// Wait until the shell is blocked waiting for a child (e.g. in its `wait` builtin), so a key
    /// sent now reaches a shell that has left its line editor's raw mode.
    pub fn wait_shell_waiting_for_child(&mut self) -> Result<()> {
        let pid = self.shell_pid;
        self.wait_until("the shell to wait for a child", |_| {
            matches!(procfs::blocked_waiting_for_child(pid), Some(true) | None).then_some(())
        })
    }

    /// Wait for output matching `pattern` after the mark; returns the match and moves the mark
    /// after it.
    ///
    /// The echo of a typed line is output too: choose a pattern the echo cannot match.
    pub fn wait_output(&mut self, pattern: &str) -> Result<String> {
        let re = regex::bytes::Regex::new(pattern)
            .map_err(|e| self.failure(&format!("bad regex: {e}")))?;
        let deadline = Deadline::after(self.opts.timeout);
        let from = self.mark;
        let found = self.wait_output_cond(deadline, |out| {
            let (text, map) = strip_ansi_mapped(&out[from.min(out.len())..]);
            re.find(&text).map(|m| {
                let end = if m.end() == 0 {
                    0
                } else {
                    map[m.end() - 1] + 1
                };
                (
                    String::from_utf8_lossy(m.as_bytes()).into_owned(),
                    from + end,
                )
            })
        });
        match found {
            Some((m, end)) => {
                self.mark = end;
                Ok(m)
            }
            None => Err(self.failure(&format!(
                "no output matching /{pattern}/ within {:?} after the mark",
                self.opts.timeout
            ))),
        }
    }

    pub(super) fn wait_output_cond<T>(
        &self,
        deadline: Deadline,
        mut cond: impl FnMut(&[u8]) -> Option<T>,
    ) -> Option<T> {
        let mut st = self.shared.lock();
        loop {
            if let Some(v) = cond(&st.output) {
                return Some(v);
            }
            if deadline.passed() || st.eof {
                return None;
            }
            let (g, _) = self
                .shared
                .cond
                .wait_timeout(st, deadline.remaining())
                .unwrap_or_else(|e| e.into_inner());
            st = g;
        }
    }

    /// Poll `cond` (at most 1 ms apart) until it yields, or fail with `what`.
    pub fn wait_until<T>(
        &mut self,
        what: &str,
        mut cond: impl FnMut(&Session) -> Option<T>,
    ) -> Result<T> {
        let deadline = Deadline::after(self.opts.timeout);
        let this = &*self;
        match poll_until(deadline, || cond(this)) {
            Some(v) => Ok(v),
            None => Err(self.failure(&format!("timed out waiting for {what}"))),
        }
    }

    /// Wait until the terminal's foreground group is not the shell's and its live processes have
    /// exactly the commands `comms` (in any order), i.e. the job has exec'd its programs, the
    /// terminal turns ^C/^Z into signals (ISIG), and the shell is blocked waiting (see
    /// [`Session::wait_busy`]). Returns the job's pgid.
    pub fn wait_foreground_job(&mut self, comms: &[&str]) -> Result<Pgid> {
        let mut want: Vec<String> = comms.iter().map(|s| s.to_string()).collect();
        want.sort();
        let shell = self.shell_pgid();
        self.wait_until(&format!("a foreground job running {comms:?}"), |s| {
            let g = s.foreground()?;
            if g == shell {
                return None;
            }
            let mut have: Vec<String> = procfs::procs_in_pgid(g)
                .into_iter()
                .filter(|p| !p.is_dead())
                .map(|p| p.comm)
                .collect();
            have.sort();
            if have != want {
                return None;
            }
            // ksh93 at times hands the terminal over before it restores the modes with ISIG, and
            // may change them again before it waits (seen: a ^Z sent in between was echoed and
            // stopped nothing). The job is ready once keys are signals and the shell is done with
            // the terminal: blocked in its wait for the job.
            s.shell_busy().then_some(g)
        })
    }

    /// Wait until a process group of the session other than the shell's and the terminal's
    /// foreground group has live processes with the commands `comms`, others allowed (exec'd:
    /// a signal sent earlier could reach a child still running shell code, with the shell's
    /// dispositions). Returns its pgid.
    pub fn wait_background_job(&mut self, comms: &[&str]) -> Result<Pgid> {
        let mut want: Vec<String> = comms.iter().map(|s| s.to_string()).collect();
        want.sort();
        let (sid, shell) = (self.shell_pid, self.shell_pgid());
        self.wait_until(&format!("a background job running {comms:?}"), |s| {
            let fg = s.foreground();
            let mut groups: std::collections::BTreeMap<Pgid, Vec<String>> = Default::default();
            for p in procfs::procs_in_sid(sid) {
                if !p.is_dead() && p.pgid != shell && Some(p.pgid) != fg {
                    groups.entry(p.pgid).or_default().push(p.comm);
                }
            }
            // `want` must be among the group's commands (a shell may keep a process of its own
            // in the job's group, as marsh does for a job's leader).
            groups.into_iter().find_map(|(g, mut have)| {
                for w in &want {
                    let i = have.iter().position(|h| h == w)?;
                    have.swap_remove(i);
                }
                Some(g)
            })
        })
    }

    /// Wait until group `pgid` has exactly `count` live processes, all in `state`. Returns them.
    pub fn wait_group_state(
        &mut self,
        pgid: Pgid,
        count: usize,
        state: GroupState,
    ) -> Result<Vec<Proc>> {
        let what = format!("{count} process(es) of group {pgid} to be {state}");
        self.wait_until(&what, |s| {
            let g = s.group(pgid);
            (g.len() == count && g.iter().all(|p| state.holds(p.state))).then_some(g)
        })
    }

    /// Wait until the terminal belongs to the shell again.
    pub fn wait_shell_foreground(&mut self) -> Result<()> {
        let shell = self.shell_pgid();
        self.wait_until("the terminal to return to the shell", |s| {
            (s.foreground() == Some(shell)).then_some(())
        })
    }

    /// Wait for the shell to exit (waitpid on its pid); returns its status.
    pub fn wait_exit(&mut self) -> Result<ExitStatus> {
        let deadline = Deadline::after(self.opts.timeout);
        let mut status = None;
        let child = &mut self.child;
        let got = poll_until(deadline, || child.try_wait().ok().flatten());
        if let Some(s) = got {
            status = Some(s);
        }
        match status {
            Some(s) => {
                self.status = Some(s);
                self.note(format!("shell exited: {s:?}"));
                Ok(s)
            }
            None => Err(self.failure("the shell did not exit")),
        }
    }
}

//! Waits: every one polls a condition (prompt, output, `/proc` state, terminal owner) until
//! its deadline, never a fixed sleep, and fails with one sentence saying what was awaited and
//! what was seen instead (in the shell's words where there are some), plus the evidence.
//! A wait only a living shell can satisfy gives up as soon as the shell has ended.

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
        let Some((n, start, end)) = found else {
            let want = self.adapter.prompt.replace("{n}", &(last + 1).to_string());
            let want = format!("the prompt `{}` (numbered above {last})", want.trim_end());
            let screen = self.last_screen_line();
            return Err(match self.settled_exit() {
                Some(how) => self.failure(&format!(
                    "expected {want}, but the shell {}; the screen ends with {screen}",
                    super::describe_exit(&how)
                )),
                None => self.failure(&format!(
                    "expected {want} within {}, but it did not come; the screen ends with {screen}",
                    secs(timeout)
                )),
            });
        };
        // Before the prompt counts as seen: a wait that gives up here (a short deadline) leaves
        // the prompt to the next wait.
        self.wait_reading_input(deadline, n)?;
        self.last_prompt = n;
        self.last_prompt_start = start;
        self.prompt_scan = end;
        self.mark = end;
        // The prompt came after the echo in the same output stream.
        self.pending_echo = None;
        self.prompt_isig = self.master.as_ref().and_then(|m| pty::isig(m.as_fd()));
        Ok(n)
    }

    /// The last non-blank line of the screen, quoted, for a sentence (`nothing` if blank).
    pub(super) fn last_screen_line(&self) -> String {
        let screen = self.screen();
        match screen
            .lines()
            .rev()
            .map(str::trim_end)
            .find(|l| !l.is_empty())
        {
            Some(l) => format!("`{}`", clip(l, 100)),
            None => "nothing (the screen is blank)".into(),
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
        self.wait_alive(
            "the shell to run the typed line with ^C/^Z turned into signals",
            |s| s.shell_busy().then_some(()),
            Session::describe_shell_activity,
        )
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

    /// What the shell is doing, for a sentence: `the shell is blocked in system call 61`,
    /// `... is running shell code`, with the terminal's ISIG.
    fn describe_shell_activity(&self) -> String {
        let doing = match procfs::blocked_syscall(self.shell_pid) {
            None => "the shell's system call cannot be read".to_string(),
            Some(None) => "the shell is running code (in no system call)".to_string(),
            Some(Some(nr)) if procfs::is_input_syscall(nr) => {
                format!("the shell is blocked reading input (system call {nr})")
            }
            // -1: blocked, but in no system call — stopped by a signal, or traced.
            Some(Some(-1)) => match procfs::read(self.shell_pid).map(|p| p.state) {
                Some(procfs::ProcState::Stopped) => {
                    "the shell is stopped by a signal (state T)".to_string()
                }
                Some(procfs::ProcState::Zombie) => "the shell has exited (a zombie)".to_string(),
                Some(procfs::ProcState::TracingStop) => {
                    "the shell is stopped by a tracer (state t)".to_string()
                }
                Some(_) => "the shell is blocked outside a system call".to_string(),
                None => "the shell is gone".to_string(),
            },
            Some(Some(nr)) => format!("the shell is blocked in system call {nr}"),
        };
        let isig = match self.master.as_ref().and_then(|m| pty::isig(m.as_fd())) {
            Some(true) => "^C/^Z are signals",
            Some(false) => "^C/^Z are plain characters (ISIG off)",
            None => "the terminal's modes cannot be read",
        };
        format!("{doing}, and {isig}")
    }

    /// Wait until the shell is running shell code (on the CPU, in no system call) with ^C/^Z
    /// turned into signals: a loop of builtins, which no process of its own would show.
    pub fn wait_shell_running(&mut self) -> Result<()> {
        // Running with ISIG on is not enough: the shell also runs so while its editor hands
        // over the line and while it parses it, and a ^C there can be lost before the loop
        // starts (seen with bash on a loaded machine: the loop then never ended). So the line
        // must be taken (its echo ended with a line break), and from then on the shell must have
        // used two clock ticks of CPU and be running in no system call: a loop of
        // builtins does that at once, the hand-over never does.
        let mut since: Option<u64> = None;
        self.wait_alive(
            "the shell to run shell code with ^C/^Z turned into signals",
            move |s| {
                let taken = s.shared.lock().output[s.typed_at..].contains(&b'\n');
                let isig = s.master.as_ref().and_then(|m| pty::isig(m.as_fd()));
                let running = procfs::blocked_syscall(s.shell_pid) == Some(None);
                if !(taken && isig == Some(true)) {
                    return None;
                }
                let now = procfs::cpu_ticks(s.shell_pid)?;
                let start = *since.get_or_insert(now);
                (running && now >= start + 2).then_some(())
            },
            Session::describe_shell_activity,
        )
    }

    /// Wait until the shell is idle at its line editor: blocked reading input (e.g. after typed
    /// text was drawn, before a key that edits it).
    pub fn wait_idle(&mut self) -> Result<()> {
        let pid = self.shell_pid;
        self.wait_alive(
            "the shell to wait for input",
            |_| matches!(procfs::blocked_waiting_for_input(pid), Some(true) | None).then_some(()),
            Session::describe_shell_activity,
        )
    }

    /// Wait until the typed line was taken (its echo has ended with a line break), everything
    /// typed has been read (the terminal's input queue is empty) and the shell, or a process of
    /// its foreground job, is blocked reading the terminal: the `read` builtin (or a program)
    /// waits for a line. Unlike [`Session::wait_idle`] this cannot be met by the line editor
    /// before it has taken the typed line: bytes written to the master reach the input queue
    /// asynchronously, so an empty queue alone does not tell (seen with bash and zsh, whose
    /// editors read with ISIG on: a ^C sent then cancelled the half-read line).
    ///
    /// ^C/^Z must be signals (ISIG on), unless `isig_off` says the shell's own `read` reads with
    /// ISIG off and takes ^C as a character (ksh93): then the shell itself blocked reading with
    /// ISIG off counts too (never a program of the job). Not for a shell whose line editor
    /// reads with ISIG off (mksh): it is still on its way from the editor to `read` then.
    pub fn wait_reading(&mut self, isig_off: bool) -> Result<()> {
        let slave = self.slave_path.clone();
        self.wait_alive(
            "the typed line to be read and the shell (or its job) to wait for more input",
            |s| {
                let taken = s.shared.lock().output[s.typed_at..].contains(&b'\n');
                if !taken {
                    return None;
                }
                let queued = pty::input_queue_len(&slave)?;
                let isig = s.master.as_ref().and_then(|m| pty::isig(m.as_fd()))?;
                if queued > 0 {
                    return None;
                }
                if !isig {
                    return (isig_off
                        && procfs::blocked_waiting_for_input(s.shell_pid) == Some(true))
                    .then_some(());
                }
                let fg = s.foreground()?;
                let readers =
                    std::iter::once(s.shell_pid).chain(s.group(fg).into_iter().map(|p| p.pid));
                let mut readers = readers;
                readers
                    .any(|pid| procfs::blocked_waiting_for_input(pid) == Some(true))
                    .then_some(())
            },
            |s| {
                let queued = pty::input_queue_len(&s.slave_path)
                    .map_or("cannot be read".into(), |n| format!("{n} byte(s)"));
                let taken = if s.shared.lock().output[s.typed_at..].contains(&b'\n') {
                    ""
                } else {
                    "the echo of the typed line has not ended with a line break (not taken yet); "
                };
                format!(
                    "{taken}the terminal's input queue holds {queued}; {}",
                    s.describe_shell_activity()
                )
            },
        )
    }

    /// Wait until the shell is blocked waiting for input (read/select/poll, from
    /// `/proc/PID/syscall`). A prompt is on screen a moment before the shell reads: bash
    /// (readline) swallows a ^C that arrives in that moment until the next key is typed.
    fn wait_reading_input(&mut self, deadline: Deadline, prompt: u64) -> Result<()> {
        let pid = self.shell_pid;
        let ok = poll_until(deadline, || match procfs::blocked_waiting_for_input(pid) {
            Some(true) | None => Some(()),
            Some(false) => None,
        });
        ok.ok_or_else(|| {
            self.failure(&format!(
                "the shell showed prompt {prompt} but never waited for input; {}",
                self.describe_shell_activity()
            ))
        })
    }

    /// Wait until the shell is blocked waiting for a child (e.g. in its `wait` builtin), so a key
    /// sent now reaches a shell that has left its line editor's raw mode.
    pub fn wait_shell_waiting_for_child(&mut self) -> Result<()> {
        let pid = self.shell_pid;
        self.wait_alive(
            "the shell to wait for a child (in wait4 or waitid)",
            |_| matches!(procfs::blocked_waiting_for_child(pid), Some(true) | None).then_some(()),
            Session::describe_shell_activity,
        )
    }

    /// Wait for output matching `pattern` after the mark; returns the match and moves the mark
    /// after it.
    ///
    /// The echo of a typed line is output too: choose a pattern the echo cannot match.
    pub fn wait_output(&mut self, pattern: &str) -> Result<String> {
        let re = regex::bytes::Regex::new(pattern)
            .map_err(|e| self.failure(&format!("the pattern /{pattern}/ is not a regex: {e}")))?;
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
                "expected output matching /{pattern}/ within {}, but it did not come; since \
                 the last step the shell printed {}",
                secs(self.opts.timeout),
                quote_output(&self.output_since(from))
            ))),
        }
    }

    /// Output from offset `from` on, escape codes removed.
    pub(super) fn output_since(&self, from: usize) -> String {
        let st = self.shared.lock();
        super::strip_ansi(&st.output[from.min(st.output.len())..])
    }

    /// Wait on the output until `cond` finds what it wants, the deadline passes, the master
    /// reports EOF, or the shell has exited (then once more, after the output it left behind
    /// has been read).
    pub(super) fn wait_output_cond<T>(
        &self,
        deadline: Deadline,
        mut cond: impl FnMut(&[u8]) -> Option<T>,
    ) -> Option<T> {
        let mut st = self.shared.lock();
        let mut dead_since: Option<std::time::Instant> = None;
        loop {
            if let Some(v) = cond(&st.output) {
                return Some(v);
            }
            if deadline.passed() || st.eof {
                return None;
            }
            if let Some(t) = dead_since {
                if t.elapsed() >= EXIT_DRAIN {
                    return None;
                }
            } else if self.exit_peek().is_some() {
                dead_since = Some(std::time::Instant::now());
            }
            let wait = deadline.remaining().min(EXIT_CHECK);
            let (g, _) = self
                .shared
                .cond
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner());
            st = g;
        }
    }

    /// Poll `cond` (at most [`crate::wait::POLL_INTERVAL`] apart) until it yields, or fail
    /// saying what was awaited.
    pub fn wait_until<T>(
        &mut self,
        what: &str,
        mut cond: impl FnMut(&Session) -> Option<T>,
    ) -> Result<T> {
        let deadline = Deadline::after(self.opts.timeout);
        let this = &*self;
        match poll_until(deadline, || cond(this)) {
            Some(v) => Ok(v),
            None => Err(self.failure(&format!(
                "expected {what} within {}, but it did not happen",
                secs(self.opts.timeout)
            ))),
        }
    }

    /// [`Session::wait_until`] for a condition only a living shell can meet: it gives up as
    /// soon as the shell has exited, and the sentence ends with what `seen` says was observed
    /// last.
    pub fn wait_alive<T>(
        &mut self,
        what: &str,
        mut cond: impl FnMut(&Session) -> Option<T>,
        seen: impl Fn(&Session) -> String,
    ) -> Result<T> {
        let deadline = Deadline::after(self.opts.timeout);
        let this = &*self;
        let got = poll_until(deadline, || match cond(this) {
            Some(v) => Some(Some(v)),
            None if this.exit_peek().is_some() => Some(None),
            None => None,
        });
        match got {
            Some(Some(v)) => Ok(v),
            Some(None) => Err(self.failure(&format!("expected {what}, but the shell has ended"))),
            None => Err(self.failure(&format!(
                "expected {what} within {}, but {}",
                secs(self.opts.timeout),
                seen(self)
            ))),
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
        let what = format!("a foreground job running exactly {}", comms.join(", "));
        self.wait_alive(
            &what,
            |s| {
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
                // ksh93 at times hands the terminal over before it restores the modes with ISIG,
                // and may change them again before it waits (seen: a ^Z sent in between was
                // echoed and stopped nothing). The job is ready once keys are signals and the
                // shell is done with the terminal: blocked in its wait for the job.
                s.shell_busy().then_some(g)
            },
            |s| match s.foreground() {
                None => "the terminal has no foreground group (hung up)".into(),
                Some(g) if g == shell => "the terminal still belongs to the shell".into(),
                Some(g) => format!(
                    "the foreground group {g} runs {}; {}",
                    describe_procs(&s.group(g)),
                    s.describe_shell_activity()
                ),
            },
        )
    }

    /// Wait until a process group of the session other than the shell's and the terminal's
    /// foreground group has live processes with the commands `comms`, others allowed (exec'd:
    /// a signal sent earlier could reach a child still running shell code, with the shell's
    /// dispositions). Returns its pgid.
    pub fn wait_background_job(&mut self, comms: &[&str]) -> Result<Pgid> {
        let mut want: Vec<String> = comms.iter().map(|s| s.to_string()).collect();
        want.sort();
        let what = format!("a background job running {}", comms.join(", "));
        self.wait_until_seen(
            &what,
            |s| {
                // `want` must be among the group's commands (a shell may keep a process of its
                // own in the job's group, as marsh does for a job's leader).
                s.background_groups().into_iter().find_map(|(g, procs)| {
                    let mut have: Vec<String> = procs.into_iter().map(|p| p.comm).collect();
                    for w in &want {
                        let i = have.iter().position(|h| h == w)?;
                        have.swap_remove(i);
                    }
                    Some(g)
                })
            },
            |s| {
                let groups = s.background_groups();
                if groups.is_empty() {
                    return "there is no background group".into();
                }
                let list: Vec<String> = groups
                    .iter()
                    .map(|(g, p)| format!("group {g} runs {}", describe_procs(p)))
                    .collect();
                list.join("; ")
            },
        )
    }

    /// The session's process groups other than the shell's and the terminal's foreground
    /// group, with their live processes.
    fn background_groups(&self) -> Vec<(Pgid, Vec<Proc>)> {
        let fg = self.foreground();
        let shell = self.shell_pgid();
        let mut groups: std::collections::BTreeMap<Pgid, Vec<Proc>> = Default::default();
        for p in procfs::procs_in_sid(self.shell_pid) {
            if let Some(pgid) = p.pgid
                && !p.is_dead()
                && pgid != shell
                && Some(pgid) != fg
            {
                groups.entry(pgid).or_default().push(p);
            }
        }
        groups.into_iter().collect()
    }

    /// [`Session::wait_until`] whose sentence ends with what `seen` says was observed last
    /// (for conditions that may hold after the shell has ended).
    pub fn wait_until_seen<T>(
        &mut self,
        what: &str,
        mut cond: impl FnMut(&Session) -> Option<T>,
        seen: impl Fn(&Session) -> String,
    ) -> Result<T> {
        let deadline = Deadline::after(self.opts.timeout);
        let this = &*self;
        match poll_until(deadline, || cond(this)) {
            Some(v) => Ok(v),
            None => Err(self.failure(&format!(
                "expected {what} within {}, but {}",
                secs(self.opts.timeout),
                seen(self)
            ))),
        }
    }

    /// Wait until group `pgid` has exactly `count` live processes, all in `state`. Returns them.
    pub fn wait_group_state(
        &mut self,
        pgid: Pgid,
        count: usize,
        state: GroupState,
    ) -> Result<Vec<Proc>> {
        let what = format!("the {count} process(es) of group {pgid} to be {state}");
        self.wait_until_seen(
            &what,
            |s| {
                let g = s.group(pgid);
                (g.len() == count && g.iter().all(|p| state.holds(p.state))).then_some(g)
            },
            |s| match s.group(pgid) {
                g if g.is_empty() => format!("group {pgid} has no live process"),
                g => format!("group {pgid} holds {}", describe_procs(&g)),
            },
        )
    }

    /// Wait until the terminal belongs to the shell again.
    pub fn wait_shell_foreground(&mut self) -> Result<()> {
        let shell = self.shell_pgid();
        self.wait_until_seen(
            "the terminal to belong to the shell",
            |s| (s.foreground() == Some(shell)).then_some(()),
            |s| match s.foreground() {
                None => "the terminal has no foreground group (hung up)".into(),
                Some(g) => format!(
                    "its foreground group is {g}, running {}",
                    describe_procs(&s.group(g))
                ),
            },
        )
    }

    /// Wait for the shell to exit (waitpid on its pid); returns its status.
    pub fn wait_exit(&mut self) -> Result<ExitStatus> {
        let deadline = Deadline::after(self.opts.timeout);
        let child = &mut self.child;
        match poll_until(deadline, || child.try_wait().ok().flatten()) {
            Some(s) => {
                self.status = Some(s);
                self.note(format!("the shell {}", super::describe_exit(&s)));
                Ok(s)
            }
            None => Err(self.failure(&format!(
                "expected the shell to exit within {}, but it is still running; the screen \
                 ends with {}",
                secs(self.opts.timeout),
                self.last_screen_line()
            ))),
        }
    }
}

/// After the shell has exited, how long a wait on the output still reads what it left.
const EXIT_DRAIN: Duration = Duration::from_millis(100);
/// How often a wait on the output checks whether the shell has exited.
const EXIT_CHECK: Duration = Duration::from_millis(20);

/// A duration for a sentence: `10 s`, `250 ms`.
pub fn secs(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Processes for a sentence: `456 sleep (stopped), 457 cat (sleeping)`.
pub fn describe_procs(procs: &[Proc]) -> String {
    if procs.is_empty() {
        return "no live process".into();
    }
    let each: Vec<String> = procs
        .iter()
        .map(|p| format!("{} {} ({})", p.pid, p.comm, state_word(p.state)))
        .collect();
    each.join(", ")
}

/// A process state as a word.
pub fn state_word(s: ProcState) -> &'static str {
    match s {
        ProcState::Running => "running",
        ProcState::Sleeping => "sleeping",
        ProcState::DiskSleep => "in disk sleep",
        ProcState::Idle => "idle",
        ProcState::Stopped => "stopped",
        ProcState::TracingStop => "stopped by a tracer",
        ProcState::Zombie => "a zombie",
        ProcState::Dead => "dead",
        ProcState::Other(_) => "in an unknown state",
    }
}

/// Shell output for a sentence: its last lines, quoted and clipped, or `nothing`.
pub fn quote_output(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "nothing".into();
    }
    let start = lines.len().saturating_sub(3);
    let shown: Vec<String> = lines[start..].iter().map(|l| clip(l, 100)).collect();
    let more = if start > 0 { "… " } else { "" };
    format!("{more}`{}`", shown.join(" ⏎ "))
}

/// `s` cut to `max` characters (with `…`).
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

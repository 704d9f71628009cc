//! The job-control operations the shell calls: starting jobs, waiting for the foreground job,
//! reaping background jobs, and the builtins `jobs`, `fg`, `bg`, `kill`, `wait` (`wait -n` in
//! [`wait_next`]), `disown`, `exit`.
//!
//! Everything is written against [`System`], so it runs the same on [`crate::job::RealSystem`]
//! and, in tests, on [`crate::job::VirtualSystem`].
//!
//! The main loop's calls, in order (see also the example in [`crate::job`]):
//! - startup: [`JobControl::new`], then [`JobControl::take_terminal`] when interactive;
//! - a job: [`Launch::new`], fork each member (the child calls [`child_setup`] first; the
//!   parent calls [`JobControl::add_process`] with its pid), then [`JobControl::start`];
//!   a foreground job then [`JobControl::wait_for_foreground`], which returns after it ends or
//!   stops (ctrl-z) with the status and the notice to print;
//! - SIGCHLD and before each prompt: [`JobControl::reap`], then print [`JobControl::notices`];
//! - builtins: [`JobControl::jobs`], [`JobControl::fg`], [`JobControl::bg`],
//!   [`JobControl::kill`], [`JobControl::wait`];
//! - `exit`/ctrl-d: [`JobControl::check_exit`]; when it says proceed,
//!   [`JobControl::hangup_all`], then [`JobControl::release_terminal`]. Call [`JobControl::forget_exit_warning`] after any other
//!   command line, so only two `exit`s in a row leave with jobs.

use std::io::Write;

use super::fmt;
use super::id::{Spec, SpecError};
use super::system::{
    Disposition, Errno, Pgid, Pid, Signal, System, TtyModes, WaitStatus, WaitTarget,
};
use super::tty_handoff::TtyHandoff;
use super::{Halt, JobNumber, JobTable, Process, ProcessState, Report};

/// A mistake in a job-control builtin, or a failed system call. Displays as the one line the
/// shell prints (without the shell's name); the status is [`JobError::status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("{builtin}: {source}")]
    Spec {
        builtin: &'static str,
        source: SpecError,
    },
    #[error("{builtin}: job {number} already in background")]
    AlreadyRunning {
        builtin: &'static str,
        number: JobNumber,
    },
    #[error("{builtin}: job has terminated")]
    Terminated { builtin: &'static str },
    #[error("{builtin}: no job control")]
    NoJobControl { builtin: &'static str },
    /// `kill` failed for one target: bash's `kill: (4626) - No such process`, with the
    /// system's reason (`Operation not permitted` for another user's process).
    #[error("kill: ({target}) - {}", errno.desc())]
    Kill { target: String, errno: Errno },
    #[error("wait: pid {0} is not a child of this shell")]
    NotAChild(Pid),
    #[error("job {0} is no longer in the table")]
    Gone(JobNumber),
    #[error("{what}: {}", errno.desc())]
    Sys { what: &'static str, errno: Errno },
}

impl JobError {
    /// The `STATUS` after this error.
    pub fn status(&self) -> i32 {
        1
    }
}

fn sys_err(what: &'static str) -> impl Fn(Errno) -> JobError {
    move |errno| JobError::Sys { what, errno }
}

/// The child's half of starting a job member, called in the forked child before it execs or
/// runs ops. `pgid` is the job's group, None for the first member (it creates the group).
///
/// Order, and why:
/// 1. `setpgid`: join the job's group. The parent makes the same call for this child
///    ([`JobControl::add_process`]); whichever runs first wins and the other is a no-op, so
///    neither the parent's `tcsetpgrp` nor a signal to the group can see the child outside it.
/// 2. SIGINT, SIGQUIT, SIGTSTP, SIGTTIN back to default: the shell ignores (or catches) them,
///    ignored dispositions survive exec, and once the job owns the terminal ctrl-c and ctrl-z
///    must act on it. So this happens *before* the child can receive the terminal.
/// 3. For a foreground job, `tcsetpgrp` to its own group, while SIGTTOU is still ignored
///    (inherited from the shell), since the child is still in the background here.
/// 4. SIGTTOU back to default, last.
///
/// Only async-signal-safe calls are made (a forked child of a threaded parent may call only
/// those). Other signals the shell handles (SIGCHLD, SIGPIPE, SIGTERM, SIGHUP) are the
/// executor's to reset (`exec::host::reset_signals`).
pub fn child_setup<S: System>(sys: &S, pgid: Option<Pgid>, foreground: bool) {
    let me = sys.getpid();
    let _ = sys.setpgid(me, pgid.unwrap_or(Pgid::led_by(me)));
    for sig in [
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTSTP,
        Signal::SIGTTIN,
    ] {
        let _ = sys.set_disposition(sig, Disposition::Default);
    }
    if foreground && let Some(group) = sys.getpgrp() {
        let _ = sys.tcsetpgrp(group);
    }
    let _ = sys.set_disposition(Signal::SIGTTOU, Disposition::Default);
}

/// What `kill` sends its signal to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillTarget {
    /// `%spec`: the job's whole process group.
    Job(Spec),
    /// `PID`: one process.
    Process(Pid),
    /// `-PGID`: a process group.
    Group(Pgid),
}

/// What `wait` waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// No argument: every running background job.
    Background,
    /// `%spec`.
    Job(Spec),
    /// `PID`: the job that process belongs to.
    Process(Pid),
}

/// A job being started: the parent collects its members here as it forks them.
#[derive(Debug, Clone)]
pub struct Launch {
    command: String,
    foreground: bool,
    processes: Vec<(Pid, String)>,
}

impl Launch {
    /// A job for `command` (the line as typed), in the foreground or not (`&`).
    pub fn new(command: &str, foreground: bool) -> Self {
        Launch {
            command: command.to_string(),
            foreground,
            processes: Vec::new(),
        }
    }

    /// The group the next member joins: None before the first member (it will lead).
    /// Pass this to [`child_setup`] in the child.
    pub fn pgid(&self) -> Option<Pgid> {
        self.processes.first().map(|p| Pgid::led_by(p.0))
    }

    /// Whether the job runs in the foreground (not started with `&`).
    pub fn is_foreground(&self) -> bool {
        self.foreground
    }
}

/// What [`JobControl::start`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub number: JobNumber,
    pub pgid: Pgid,
    /// The last member's pid (for `$!`).
    pub last_pid: Pid,
    /// For a background job, the line to print: `[1] 4626`.
    pub line: Option<String>,
}

/// How a foreground wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForegroundOutcome {
    pub number: JobNumber,
    /// How the job stopped or ended.
    pub halt: Halt,
    /// What to print: the stop notice (`[1]+  Stopped  ...`), or a signal's description for a
    /// job killed by something else than SIGINT/SIGPIPE (`Killed`), as bash does.
    pub notice: Option<String>,
}

impl ForegroundOutcome {
    /// `STATUS`: exit code, 128 + signal (130 after ctrl-c, 148 after ctrl-z).
    pub fn status(&self) -> i32 {
        self.halt.status()
    }
}

/// How `wait` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The job (or all jobs) finished or stopped; `STATUS`.
    Done(i32),
    /// The caller's interruption check said so (ctrl-c): the shell sets `STATUS` 130.
    Interrupted,
    /// `wait -n` found no background job that could finish (none, or only stopped ones):
    /// bash's status 127.
    NoJob,
}

/// What `exit` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitCheck {
    /// Leave (after [`JobControl::hangup_all`]).
    Proceed,
    /// Print this line and stay; the next `exit` proceeds.
    Warn(String),
}

/// Form of the `jobs` listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListFormat {
    #[default]
    Standard,
    /// `-l`: pids, one line per member.
    Long,
    /// `-p`: process groups only.
    Pgids,
}

/// Which jobs `jobs` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    #[default]
    All,
    /// `-r`: running jobs only.
    Running,
    /// `-s`: stopped jobs only.
    Stopped,
}

/// The shell's job control: the table, the system, and (once taken) the terminal.
pub struct JobControl<S: System> {
    sys: S,
    table: JobTable,
    /// Present exactly while the shell owns the terminal: jobs then get it in turn.
    terminal: Option<Terminal>,
    exit_warned: bool,
}

/// What the shell holds while it owns the terminal (from [`JobControl::take_terminal`] to
/// [`JobControl::release_terminal`]).
struct Terminal {
    /// The shell's own group: the terminal's foreground group between jobs.
    shell_pgid: Pgid,
    /// The group the shell was in when it took the terminal, given back when it leaves; None
    /// when that group's leader is outside this pid namespace, where nothing can join it.
    original_pgid: Option<Pgid>,
    /// The shell's modes, put back after every job.
    modes: TtyModes,
}

impl<S: System> JobControl<S> {
    /// Job control over `sys`, without the terminal yet (see [`JobControl::take_terminal`]).
    pub fn new(sys: S) -> Self {
        JobControl {
            sys,
            table: JobTable::new(),
            terminal: None,
            exit_warned: false,
        }
    }

    pub fn system(&self) -> &S {
        &self.sys
    }

    pub fn table(&self) -> &JobTable {
        &self.table
    }

    /// The groups of the jobs that finished since the last call, in the order they finished
    /// (see [`JobTable::take_finished`]).
    pub fn take_finished(&mut self) -> Vec<Pgid> {
        self.table.take_finished()
    }

    /// The shell's own process group, while it owns the terminal.
    pub fn shell_pgid(&self) -> Option<Pgid> {
        self.terminal.as_ref().map(|t| t.shell_pgid)
    }

    /// Whether [`JobControl::take_terminal`] succeeded: jobs get the terminal.
    pub fn has_terminal(&self) -> bool {
        self.terminal.is_some()
    }

    /// Makes the shell an interactive job-control shell (bash's `initialize_job_control`):
    /// 1. while the terminal's foreground group is not the shell's, stop the shell's group with
    ///    SIGTTIN — started in the background of another shell, marsh waits to be brought to
    ///    the foreground instead of stealing the terminal;
    /// 2. only then ignore SIGTTOU, SIGTTIN, SIGTSTP (ctrl-z never suspends the shell) and
    ///    SIGQUIT — ignoring SIGTTOU earlier would let a background shell take the terminal;
    /// 3. lead a process group of its own and make it the foreground group (a no-op when the
    ///    shell already leads its group, e.g. as a session leader);
    /// 4. save the shell's terminal modes, put back after every job.
    pub fn take_terminal(&mut self) -> Result<(), JobError> {
        loop {
            let fg = self.sys.tcgetpgrp().map_err(sys_err("tcgetpgrp"))?;
            let own = self.sys.getpgrp();
            // Both None: both groups lie outside this pid namespace and cannot be told apart;
            // the shell is taken to be in the foreground, as it is when started by a terminal.
            if fg == own {
                break;
            }
            match own {
                Some(own) => self.sys.killpg(own, Signal::SIGTTIN),
                None => self.sys.kill(self.sys.getpid(), Signal::SIGTTIN),
            }
            .map_err(sys_err("kill"))?;
        }
        for sig in [
            Signal::SIGTTOU,
            Signal::SIGTTIN,
            Signal::SIGTSTP,
            Signal::SIGQUIT,
        ] {
            self.sys
                .set_disposition(sig, Disposition::Ignore)
                .map_err(sys_err("sigaction"))?;
        }
        let own = Pgid::led_by(self.sys.getpid());
        let original_pgid = self.sys.getpgrp();
        if original_pgid != Some(own) {
            self.sys
                .setpgid(own.leader(), own)
                .map_err(sys_err("setpgid"))?;
            self.sys.tcsetpgrp(own).map_err(sys_err("tcsetpgrp"))?;
        }
        let modes = self.sys.tcgetattr().map_err(sys_err("tcgetattr"))?;
        self.terminal = Some(Terminal {
            shell_pgid: own,
            original_pgid,
            modes,
        });
        Ok(())
    }

    /// Undoes [`JobControl::take_terminal`] as the shell leaves (bash's `end_job_control`):
    /// when the shell made a group of its own, the group it came from gets the terminal and the
    /// shell back, so the shell that started marsh finds its terminal as it left it.
    pub fn release_terminal(&mut self) {
        let Some(terminal) = self.terminal.take() else {
            return;
        };
        if let Some(original) = terminal.original_pgid
            && original != terminal.shell_pgid
        {
            let _ttou = crate::job::tty_handoff::IgnoreTtou::new(&self.sys);
            let _ = self.sys.tcsetpgrp(original);
            let _ = self.sys.setpgid(self.sys.getpid(), original);
        }
    }

    /// Saves the shell's terminal modes again (call before each prompt if the line editor or a
    /// builtin changed them deliberately).
    pub fn save_shell_modes(&mut self) {
        if let Some(terminal) = self.terminal.as_mut()
            && let Ok(m) = self.sys.tcgetattr()
        {
            terminal.modes = m;
        }
    }

    /// Parent side of starting a member: records it and puts it in the job's group (the child
    /// does the same in [`child_setup`]; see there why both). An error here means the child
    /// already did it, or already exec'd (EACCES) — after its own `setpgid` — so it is ignored.
    ///
    /// Don't reap the first member before the last one is added: the group must have a member
    /// for `setpgid` to join it.
    pub fn add_process(&mut self, launch: &mut Launch, pid: Pid, command: &str) {
        let pgid = launch.pgid().unwrap_or(Pgid::led_by(pid));
        let _ = self.sys.setpgid(pid, pgid);
        launch.processes.push((pid, command.to_string()));
    }

    /// Enters a launched job in the table. For a background job, returns the `[n] pgid` line.
    /// Starting a job means the user did something other than `exit`.
    ///
    /// # Panics
    /// If no process was added.
    pub fn start(&mut self, launch: Launch) -> Started {
        self.exit_warned = false;
        let pgid = launch.pgid().expect("a job has at least one process");
        let last_pid = launch.processes.last().expect("non-empty").0;
        let number = self
            .table
            .add(pgid, launch.processes, &launch.command, launch.foreground);
        Started {
            number,
            pgid,
            last_pid,
            line: (!launch.foreground).then(|| fmt::started_line(number, pgid)),
        }
    }

    /// Gives the terminal to job `n` and waits (WUNTRACED) until it ends or stops, then takes
    /// the terminal back. See [`ForegroundOutcome`].
    pub fn wait_for_foreground(&mut self, n: JobNumber) -> Result<ForegroundOutcome, JobError> {
        self.run_in_foreground(n, false)
    }

    fn run_in_foreground(
        &mut self,
        n: JobNumber,
        resume: bool,
    ) -> Result<ForegroundOutcome, JobError> {
        let job = self.table.get(n).ok_or(JobError::Gone(n))?;
        let pgid = job.pgid();
        let job_modes = if resume {
            job.tty_modes().cloned()
        } else {
            None
        };
        let mut handoff = self
            .terminal
            .as_ref()
            .map(|t| TtyHandoff::new(&self.sys, t.shell_pgid, Some(&t.modes)));
        if let Some(h) = handoff.as_mut() {
            // A failure here is not a reason to abandon the job: the child gave itself the
            // terminal too (child_setup), and whatever happens the wait below must run, or the
            // job would be left running with nobody waiting for it.
            let _ = h.to_job(pgid, job_modes.as_ref());
        }
        if resume {
            // Continue only now that the job owns the terminal (and has its modes back): a
            // job that ran earlier and touched the terminal would stop again on SIGTTIN.
            // The whole group, so every member of a pipeline runs again.
            let _ = self.sys.killpg(pgid, Signal::SIGCONT);
            self.table.mark_continued(n, true);
        }
        let result = wait_job(&self.sys, &mut self.table, n, &mut || false);
        let stopped = self.table.get(n).is_some_and(|j| j.state().is_stopped());
        let saved = handoff.map(|mut h| {
            if stopped {
                h.job_stopped();
            }
            h.reclaim()
        });
        if let Err(e) = result {
            // The wait failed (not for a signal): the job is no longer the foreground job, so
            // its stop or end is reported as a background job's, not lost.
            self.table.set_foreground(n, false);
            return Err(e);
        }
        if stopped {
            self.table.set_tty_modes(n, saved.flatten());
        }
        let report = self.table.take_report(n);
        let Some((Report { marker, job }, halt)) =
            report.and_then(|r| r.job.state().halt().map(|h| (r, h)))
        else {
            // Still running: only possible when the wait was interrupted, which it is not here.
            return Err(JobError::Sys {
                what: "waitpid",
                errno: Errno::EINTR,
            });
        };
        let notice = if stopped {
            Some(fmt::job_line(&job, marker))
        } else {
            fmt::foreground_signal_notice(halt)
        };
        Ok(ForegroundOutcome {
            number: n,
            halt,
            notice,
        })
    }

    /// Collects every status change without blocking (call on SIGCHLD and before a prompt).
    /// Returns the statuses of children that belong to no job, for whoever started them.
    pub fn reap(&mut self) -> Result<Vec<WaitStatus>, JobError> {
        let mut foreign = Vec::new();
        loop {
            match self.sys.waitpid(WaitTarget::Any, false) {
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(foreign),
                Ok(status) => {
                    if self.table.update(status).is_none() {
                        foreign.push(status);
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(sys_err("waitpid")(e)),
            }
        }
    }

    /// The notices due before the next prompt: background jobs that finished (they leave the
    /// table now) or stopped since the last call. bash's layout.
    pub fn notices(&mut self) -> Vec<String> {
        self.table
            .take_reports()
            .iter()
            .map(|r| fmt::job_line(&r.job, r.marker))
            .collect()
    }

    /// `jobs [-l|-p] [-r|-s] [spec...]`. Stopped and finished jobs listed are thereby reported,
    /// and finished ones leave the table (after the listing, so the marks shown are consistent).
    pub fn jobs(
        &mut self,
        format: ListFormat,
        filter: StateFilter,
        specs: &[Spec],
    ) -> Result<Vec<String>, JobError> {
        let numbers: Vec<JobNumber> = if specs.is_empty() {
            self.table.iter().map(|j| j.number()).collect()
        } else {
            specs
                .iter()
                .map(|s| {
                    s.resolve(&self.table).map_err(|source| JobError::Spec {
                        builtin: "jobs",
                        source,
                    })
                })
                .collect::<Result<_, _>>()?
        };
        let mut lines = Vec::new();
        let mut listed = Vec::new();
        for n in numbers {
            let Some(job) = self.table.get(n) else {
                continue;
            };
            let keep = match filter {
                StateFilter::All => true,
                StateFilter::Running => job.state() == ProcessState::Running,
                StateFilter::Stopped => job.state().is_stopped(),
            };
            if !keep {
                continue;
            }
            let marker = self.table.marker(n);
            match format {
                ListFormat::Standard => lines.push(fmt::job_line(job, marker)),
                ListFormat::Long => lines.extend(fmt::job_lines_long(job, marker)),
                ListFormat::Pgids => lines.push(fmt::job_pgid_line(job)),
            }
            listed.push(n);
        }
        // Listing a stopped or finished job tells the user about it.
        for n in listed {
            let _ = self.table.take_report(n);
        }
        Ok(lines)
    }

    fn resolve(&self, builtin: &'static str, spec: &Spec) -> Result<JobNumber, JobError> {
        spec.resolve(&self.table)
            .map_err(|source| JobError::Spec { builtin, source })
    }

    /// `fg [spec]`: writes the job's command line to `out`, restores the job's saved modes,
    /// gives it the terminal, continues its whole group, and waits as for a foreground job.
    pub fn fg(&mut self, spec: &Spec, out: &mut dyn Write) -> Result<ForegroundOutcome, JobError> {
        if self.terminal.is_none() {
            return Err(JobError::NoJobControl { builtin: "fg" });
        }
        self.exit_warned = false;
        let n = self.resolve("fg", spec)?;
        let job = self.table.get(n).expect("resolved");
        if job.state().is_finished() {
            return Err(JobError::Terminated { builtin: "fg" });
        }
        let _ = writeln!(out, "{}", job.command());
        let _ = out.flush();
        self.table
            .set_current(n)
            .expect("a resolved job that has not finished can be current");
        self.run_in_foreground(n, true)
    }

    /// `bg [spec]`: continues a stopped job's whole group in the background. Returns the line
    /// to print, `[1]+ sleep 30 &`.
    pub fn bg(&mut self, spec: &Spec) -> Result<String, JobError> {
        if self.terminal.is_none() {
            return Err(JobError::NoJobControl { builtin: "bg" });
        }
        self.exit_warned = false;
        let n = self.resolve("bg", spec)?;
        let job = self.table.get(n).expect("resolved");
        match job.state() {
            ProcessState::Running => Err(JobError::AlreadyRunning {
                builtin: "bg",
                number: n,
            }),
            s if s.is_finished() => Err(JobError::Terminated { builtin: "bg" }),
            _ => {
                let line = fmt::bg_line(job, self.table.marker(n));
                self.sys
                    .killpg(job.pgid(), Signal::SIGCONT)
                    .map_err(sys_err("killpg"))?;
                self.table.mark_continued(n, false);
                // The current job is no longer stopped: choose again, as bash does after `bg`
                // (the newest running job wins when no job is stopped).
                self.table.reset_current();
                Ok(line)
            }
        }
    }

    /// `kill -SIG target` for one target: `%spec` (the job's whole group), `pid`, or `-pgid`.
    /// A stopped job sent SIGTERM or SIGHUP is also sent SIGCONT, or it would only die when
    /// someone continues it (bash does the same). The end shows up as a notice after
    /// [`JobControl::reap`].
    pub fn kill(&mut self, target: &KillTarget, sig: Signal) -> Result<(), JobError> {
        match target {
            KillTarget::Job(spec) => self.kill_job(spec, sig),
            KillTarget::Process(pid) => self.sys.kill(*pid, sig).map_err(|errno| JobError::Kill {
                target: pid.to_string(),
                errno,
            }),
            KillTarget::Group(pgid) => {
                self.sys.killpg(*pgid, sig).map_err(|errno| JobError::Kill {
                    target: format!("-{pgid}"),
                    errno,
                })
            }
        }
    }

    fn kill_job(&mut self, spec: &Spec, sig: Signal) -> Result<(), JobError> {
        let n = self.resolve("kill", spec)?;
        let job = self.table.get(n).expect("resolved");
        let pgid = job.pgid();
        let stopped = job.state().is_stopped();
        self.sys.killpg(pgid, sig).map_err(|errno| JobError::Kill {
            target: pgid.to_string(),
            errno,
        })?;
        let wake = stopped && matches!(sig, Signal::SIGTERM | Signal::SIGHUP);
        if wake {
            let _ = self.sys.killpg(pgid, Signal::SIGCONT);
        }
        if wake || sig == Signal::SIGCONT {
            // The job runs again now; the table must say so before the Continued
            // statuses arrive, or a `wait` right after this would see a stopped job
            // and return at once.
            self.table.mark_continued(n, false);
        }
        Ok(())
    }

    /// `wait [%spec | pid]`: blocks until the job ends (or stops), returning its status; with
    /// no argument, until every running background job has. A finished job waited for leaves
    /// the table without a notice. `interrupted` is asked whenever a signal interrupts the
    /// blocking wait (the shell's SIGINT handler must be installed without SA_RESTART, so
    /// ctrl-c makes `waitpid` fail with EINTR); when it says true, `wait` returns
    /// [`WaitOutcome::Interrupted`] and the jobs are untouched.
    pub fn wait(
        &mut self,
        target: &WaitFor,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<WaitOutcome, JobError> {
        let numbers: Vec<JobNumber> = match target {
            WaitFor::Background => self
                .table
                .iter()
                .filter(|j| j.state() == ProcessState::Running && !j.is_foreground())
                .map(|j| j.number())
                .collect(),
            WaitFor::Job(spec) => vec![self.resolve("wait", spec)?],
            WaitFor::Process(pid) => match self.table.find_pid(*pid) {
                Some(n) => vec![n],
                // Its job ended and was reported: the status it left.
                None => {
                    let status = self.table.take_ended(*pid);
                    return status
                        .map(WaitOutcome::Done)
                        .ok_or(JobError::NotAChild(*pid));
                }
            },
        };
        let mut status = 0;
        for n in numbers {
            match wait_job(&self.sys, &mut self.table, n, interrupted) {
                Ok(true) => {}
                Ok(false) => return Ok(WaitOutcome::Interrupted),
                Err(e) => return Err(e),
            }
            let state = self.table.get(n).map(|j| j.state());
            if let Some(state) = state {
                if state.is_finished() {
                    let _ = self.table.take_report(n);
                }
                if *target != WaitFor::Background
                    && let Some(halt) = state.halt()
                {
                    status = halt.status();
                }
            }
        }
        Ok(WaitOutcome::Done(status))
    }

    /// Decides what `exit` does with jobs in the table: the first time, a warning ("There are
    /// stopped jobs." when any is stopped, else "There are running jobs."); the next `exit` in
    /// a row proceeds. No jobs: proceed.
    pub fn check_exit(&mut self) -> ExitCheck {
        let live = self.table.iter().filter(|j| !j.state().is_finished());
        let (mut stopped, mut running) = (false, false);
        for j in live {
            if j.state().is_stopped() {
                stopped = true;
            } else {
                running = true;
            }
        }
        if (!stopped && !running) || self.exit_warned {
            return ExitCheck::Proceed;
        }
        self.exit_warned = true;
        ExitCheck::Warn(if stopped {
            "There are stopped jobs.".into()
        } else {
            "There are running jobs.".into()
        })
    }

    /// Forget a pending exit warning (call after any command line other than `exit`).
    pub fn forget_exit_warning(&mut self) {
        self.exit_warned = false;
    }

    /// Ends every job as the shell leaves: SIGHUP to each job's group, then SIGCONT, so a
    /// stopped job wakes up to act on the hang-up instead of staying stopped forever.
    pub fn hangup_all(&mut self) {
        for job in self.table.iter().filter(|j| !j.state().is_finished()) {
            let _ = self.sys.killpg(job.pgid(), Signal::SIGHUP);
            let _ = self.sys.killpg(job.pgid(), Signal::SIGCONT);
        }
    }
}

/// Waits until job `n` is no longer running. Ok(false) when interrupted.
///
/// Waits for one running member at a time (`waitpid(pid)`), not for the group (`waitpid(-pgid)`):
/// the job halts only once every running member has changed state, so a wait on any of them is
/// never wasted, and the kernel finds a given child at once, where a group wait scans every
/// child of the shell on each call and each wake-up (with 1,000 background jobs, a third of a
/// millisecond between a foreground job's ^C and the prompt). Statuses of other children
/// (background jobs, command substitutions the executor waits for) are not taken here. If a
/// member is no child of the shell (ECHILD) while marked running, someone else reaped it: it is
/// taken as exited with 0 rather than waited for forever.
fn wait_job<S: System>(
    sys: &S,
    table: &mut JobTable,
    n: JobNumber,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<bool, JobError> {
    loop {
        let Some(job) = table.get(n) else {
            return Ok(true);
        };
        if job.state() != ProcessState::Running {
            return Ok(true);
        }
        let Some(member) = job
            .processes()
            .iter()
            .find(|p| p.state() == ProcessState::Running)
            .map(Process::pid)
        else {
            return Ok(true);
        };
        // A ctrl-c caught before this wait blocks interrupts no system call: ask first, or a
        // ^C typed while the line was still on its way to `wait` would be lost and `wait`
        // would block to the job's end (seen on a loaded machine: `sleep 30 & wait`). What
        // is left is the instant between this check and the call.
        if interrupted() {
            return Ok(false);
        }
        match sys.waitpid(WaitTarget::Pid(member), true) {
            Ok(status) => {
                table.update(status);
            }
            Err(Errno::EINTR) => {
                if interrupted() {
                    return Ok(false);
                }
            }
            Err(Errno::ECHILD) => {
                table.update(WaitStatus::Exited(member, 0));
            }
            Err(e) => return Err(sys_err("waitpid")(e)),
        }
    }
}

mod disown;
mod wait_next;

pub use disown::Disowned;

#[cfg(test)]
mod tests;

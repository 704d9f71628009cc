//! Job control: the job table, job specs, bash's `jobs` layout, the terminal handoff, and the
//! operations behind `fg`, `bg`, `kill`, `wait` and `exit`.
//!
//! Modules, one concept each:
//! - [`system`]: the OS calls job control makes, behind the [`System`] trait, with
//!   [`RealSystem`] (nix) and [`VirtualSystem`] (simulated processes and terminal, for tests);
//! - this module: [`Job`] and [`JobTable`] (numbers, `+`/`-`, states, what is left to report);
//! - [`id`]: job specs (`%1 %% %+ %- %name %?text`, bare numbers) resolved against the table;
//! - [`fmt`]: bash's text for `jobs`, `jobs -l`, `jobs -p` and the notices;
//! - [`tty_handoff`]: handing the terminal to a job and taking it back, in one scoped object;
//! - [`control`]: [`JobControl`], what the shell's main loop and builtins call.
//!
//! # Job numbers (bash's rule)
//!
//! A job's number never changes while the job is in the table. A new job gets one more than the
//! highest number in use, or 1 when the table is empty: bash's rule (`jobs.c` allocates the
//! slot after the last used one). So with jobs 1, 2, 3, when 2 ends and is reported, the next
//! job is 4, not 2; once 3 and 4 are gone too, the next is 2. A finished job keeps its number
//! until its status has been reported (see below), so a number is never reused before the user
//! has seen the old job end. (fish pins numbers the same way; it is also what the conformance
//! scenario "job-numbering" expects.)
//!
//! # Current (`+`) and previous (`-`) job (bash's rule)
//!
//! Jobs are ordered by number (older = smaller). Running *foreground* jobs are never candidates.
//! - **Making a job current** (bash `set_current_job`): the old current job becomes previous;
//!   then, if that old current job is not stopped (or there was none), previous is, in order of
//!   preference, the newest stopped job older than the new current one (when the new current
//!   one is stopped), else the newest running job older than it (when it runs) or the newest
//!   running job at all (when it is stopped), else the current job itself (a single job is both
//!   `+` and `-`; only `+` is shown).
//! - **Choosing a current job again** (bash `reset_current`): keep the current job if it is
//!   stopped; otherwise take the previous job if it is stopped, else the newest stopped job,
//!   else the newest running job, and make it current as above.
//! - When the rules run: a job that **stops** is made current; `fg` makes its job current; a new
//!   **background** job, and the removal of the current or previous job (after its end was
//!   reported), choose a current job again. So a new background job becomes current unless a
//!   stopped job exists — stopped jobs win, which is what bash prints: after `sleep 30`, ^Z,
//!   `sleep 30 &`, `jobs` shows `[1]+ Stopped` and `[2]- Running`.
//!
//! # Job state from its processes (bash's rule)
//!
//! A pipeline's job is *Running* while any member runs, *Stopped* once no member runs and at
//! least one is stopped (bash's `any_stopped` after `any_running`; the stop signal shown is the
//! first stopped member's), and finished once every member has ended, with the status of the
//! last member (`Done`, `Exit N`, or the signal that killed it). A member that stops itself while
//! the others keep running leaves the job Running until they end or stop; ctrl-z stops the
//! whole group at once, so the usual case is immediate.
//!
//! # Reporting
//!
//! A job whose state changed to stopped or finished is *unreported* until the shell shows it.
//! [`JobTable::take_reports`] returns every unreported background job and, in the same call,
//! removes the finished ones: there is no other way for a finished job to leave the table except
//! [`JobTable::take_report`] (one job: the foreground job, `wait`, and `jobs`, which report what
//! they show). So the table
//! never forgets a job the user has not been told about, and never reports one twice. The one
//! exception is asked for: [`JobTable::remove`] (`disown`) forgets a job in any state.
//!
//! # Using it from the shell
//!
//! ```no_run
//! use marsh::job::{JobControl, Launch, Pid, RealSystem};
//!
//! # fn fork_and_exec(_: &str) -> Pid { unimplemented!() }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Startup, interactive: wait to be in the foreground, own a process group, ignore the
//! // terminal stop signals, save the shell's terminal modes.
//! let mut jc = JobControl::new(RealSystem::new(0));
//! jc.take_terminal()?;
//!
//! // `sleep 30 | cat` in the foreground. In each forked child, before exec or running ops:
//! //     marsh::job::child_setup(&RealSystem::new(0), launch.pgid(), /*foreground*/ true);
//! let mut launch = Launch::new("sleep 30 | cat", true);
//! let pid = fork_and_exec("sleep 30");
//! jc.add_process(&mut launch, pid, "sleep 30");
//! let pid = fork_and_exec("cat");
//! jc.add_process(&mut launch, pid, "cat");
//! let started = jc.start(launch);
//! let outcome = jc.wait_for_foreground(started.number)?; // ctrl-z and ctrl-c end the wait
//! if let Some(line) = &outcome.notice {
//!     eprintln!("{line}"); // "[1]+  Stopped                 sleep 30 | cat" after ctrl-z
//! }
//! let _status = outcome.status(); // STATUS: 0.., 130 after ctrl-c, 148 after ctrl-z
//!
//! // On SIGCHLD (self-pipe readable) and before each prompt:
//! jc.reap()?;
//! for line in jc.notices() {
//!     eprintln!("{line}"); // "[2]   Done                    sleep 1"
//! }
//! # Ok(()) }
//! ```

pub mod control;
pub mod fmt;
pub mod id;
pub mod system;
pub mod tty_handoff;

pub use control::{
    Disowned, ExitCheck, ForegroundOutcome, JobControl, JobError, KillTarget, Launch, ListFormat,
    Started, StateFilter, WaitFor, WaitOutcome, child_setup,
};
pub use id::{JobSpec, Spec, SpecError};
pub use system::{
    Disposition, Errno, Pgid, Pid, RealSystem, Signal, System, TtyModes, VirtualSystem, WaitStatus,
    WaitTarget,
};
pub use tty_handoff::TtyHandoff;

use std::num::NonZeroU32;

/// A job's number, as shown in `[1]` and used in `%1`. Never 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobNumber(NonZeroU32);

impl JobNumber {
    /// The first number, 1.
    pub const FIRST: JobNumber = JobNumber(NonZeroU32::MIN);

    /// The number `n`, or None for 0.
    pub fn new(n: u32) -> Option<JobNumber> {
        NonZeroU32::new(n).map(JobNumber)
    }

    /// The number as an integer.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The number after this one.
    fn next(self) -> JobNumber {
        JobNumber(self.0.checked_add(1).expect("fewer than 2^32 jobs"))
    }
}

impl std::fmt::Display for JobNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How a process (or a job) stopped or ended: every state but running, each with the
/// `STATUS` it stands for. A running process has none, so there is no state to misread as
/// "exited with 0".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// Stopped by this signal (ctrl-z: SIGTSTP).
    Stopped(Signal),
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled { signal: Signal, core_dumped: bool },
}

impl Halt {
    /// The `STATUS` this stands for: the exit code, or 128 + the signal that killed or stopped
    /// the process (130 after ctrl-c, 148 after ctrl-z).
    pub fn status(self) -> i32 {
        match self {
            Halt::Exited(code) => code,
            Halt::Stopped(sig) | Halt::Signaled { signal: sig, .. } => 128 + sig as i32,
        }
    }

    /// Whether the process has ended (not merely stopped).
    pub fn is_end(self) -> bool {
        !matches!(self, Halt::Stopped(_))
    }
}

/// State of one process of a job: running, or halted (stopped or ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    Running,
    Halted(Halt),
}

impl ProcessState {
    /// Stopped by `sig`.
    pub const fn stopped(sig: Signal) -> ProcessState {
        ProcessState::Halted(Halt::Stopped(sig))
    }

    /// Exited with `code`.
    pub const fn exited(code: i32) -> ProcessState {
        ProcessState::Halted(Halt::Exited(code))
    }

    /// Killed by `signal`.
    pub const fn signaled(signal: Signal, core_dumped: bool) -> ProcessState {
        ProcessState::Halted(Halt::Signaled {
            signal,
            core_dumped,
        })
    }

    /// Whether the process has ended.
    pub fn is_finished(self) -> bool {
        matches!(self, ProcessState::Halted(h) if h.is_end())
    }

    /// Whether the process is stopped.
    pub fn is_stopped(self) -> bool {
        matches!(self, ProcessState::Halted(Halt::Stopped(_)))
    }

    /// The signal it stopped on, if stopped.
    pub fn stop_signal(self) -> Option<Signal> {
        match self {
            ProcessState::Halted(Halt::Stopped(sig)) => Some(sig),
            _ => None,
        }
    }

    /// How it stopped or ended; None while it runs.
    pub fn halt(self) -> Option<Halt> {
        match self {
            ProcessState::Running => None,
            ProcessState::Halted(h) => Some(h),
        }
    }

    /// The state a `waitpid` status reports, if it reports one.
    fn from_wait(status: WaitStatus) -> Option<ProcessState> {
        Some(match status {
            WaitStatus::Exited(_, code) => ProcessState::exited(code),
            WaitStatus::Signaled(_, signal, core_dumped) => {
                ProcessState::signaled(signal, core_dumped)
            }
            WaitStatus::Stopped(_, sig) => ProcessState::stopped(sig),
            WaitStatus::Continued(_) => ProcessState::Running,
            WaitStatus::StillAlive => return None,
        })
    }
}

/// State of a whole job; see the module doc for how it follows from its processes.
pub type JobState = ProcessState;

/// One process of a job.
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    pid: Pid,
    command: String,
    state: ProcessState,
}

impl Process {
    /// The process's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The text of this pipeline stage (for a program, with its expanded arguments).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Its state, as last reported by `waitpid`.
    pub fn state(&self) -> ProcessState {
        self.state
    }
}

/// A job: one pipeline in its own process group.
#[derive(Clone, Debug)]
pub struct Job {
    number: JobNumber,
    pgid: Pgid,
    processes: Vec<Process>,
    command: String,
    state: JobState,
    /// The job's terminal modes, saved when it stopped in the foreground; restored by `fg`.
    tty_modes: Option<TtyModes>,
    foreground: bool,
    reported: bool,
}

impl Job {
    /// The job's number.
    pub fn number(&self) -> JobNumber {
        self.number
    }
    /// The process group (the first process's pid).
    pub fn pgid(&self) -> Pgid {
        self.pgid
    }
    /// The members, in pipeline order.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }
    /// The whole command line, as typed.
    pub fn command(&self) -> &str {
        &self.command
    }
    /// The job's state (module doc: how it follows from the members').
    pub fn state(&self) -> JobState {
        self.state
    }
    /// Whether the shell is waiting for this job in the foreground.
    pub fn is_foreground(&self) -> bool {
        self.foreground
    }
    /// Whether the job's current state has been shown to the user.
    pub fn is_reported(&self) -> bool {
        self.reported
    }
    /// The terminal modes the job had when it last stopped in the foreground.
    pub fn tty_modes(&self) -> Option<&TtyModes> {
        self.tty_modes.as_ref()
    }
    fn is_stopped(&self) -> bool {
        self.state.is_stopped()
    }
    /// Running in the background (a candidate for `+`/`-` as a running job).
    fn is_bg_running(&self) -> bool {
        self.state == ProcessState::Running && !self.foreground
    }

    fn recompute(&mut self) {
        let old = self.state;
        let new = if self
            .processes
            .iter()
            .any(|p| p.state == ProcessState::Running)
        {
            ProcessState::Running
        } else if let Some(sig) = self.processes.iter().find_map(|p| p.state.stop_signal()) {
            ProcessState::stopped(sig)
        } else {
            self.processes
                .last()
                .map_or(ProcessState::exited(0), |p| p.state)
        };
        self.state = new;
        if new != old {
            // A job that runs again has nothing to report; a stop or an end must be shown.
            self.reported = new == ProcessState::Running;
        }
    }
}

/// Which mark a job carries in `jobs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Current,
    Previous,
    Other,
}

impl Marker {
    pub fn as_char(self) -> char {
        match self {
            Marker::Current => '+',
            Marker::Previous => '-',
            Marker::Other => ' ',
        }
    }
}

/// A job whose stop or end is to be shown. For a finished job this is the job itself, already
/// out of the table.
#[derive(Clone, Debug)]
pub struct Report {
    pub marker: Marker,
    pub job: Job,
}

/// Why [`JobTable::set_current`] refused a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotACandidate {
    #[error("job {0} is not in the table")]
    NotInTable(JobNumber),
    #[error("job {0} runs in the foreground")]
    InForeground(JobNumber),
}

/// The jobs of one shell; see the module doc for numbering, `+`/`-` and reporting.
#[derive(Clone, Debug, Default)]
pub struct JobTable {
    /// Sorted by number.
    jobs: Vec<Job>,
    current: Option<JobNumber>,
    previous: Option<JobNumber>,
    /// The job of every process in the table, so a status finds its job at once (a scan of
    /// every job's processes per status was quadratic when many jobs end together).
    by_pid: std::collections::HashMap<Pid, JobNumber>,
    /// The groups of the jobs that finished since the last [`JobTable::take_finished`], in the
    /// order they finished, so the shell settles what ended without a pass over every job.
    finished: Vec<Pgid>,
    /// The statuses of background jobs that ended and left the table, by each of their pids,
    /// newest last and at most [`ENDED_KEPT`]: `wait PID` still returns a job's status after
    /// its Done notice (POSIX keeps it; so does bash), once.
    ended: std::collections::VecDeque<(Pid, i32)>,
}

/// How many ended background processes keep their status for `wait PID` (POSIX asks for at
/// least CHILD_MAX; Linux's default is far above what a session starts).
const ENDED_KEPT: usize = 1024;

impl JobTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a job whose processes have all been started, running. `processes` are
    /// (pid, stage text) in pipeline order; the first pid is the group. A background job may
    /// become current (module doc); a foreground job does not until it stops.
    ///
    /// # Panics
    /// If `processes` is empty.
    pub fn add(
        &mut self,
        pgid: Pgid,
        processes: Vec<(Pid, String)>,
        command: &str,
        foreground: bool,
    ) -> JobNumber {
        assert!(!processes.is_empty(), "a job has at least one process");
        let number = self
            .jobs
            .last()
            .map_or(JobNumber::FIRST, |j| j.number.next());
        for (pid, _) in &processes {
            self.by_pid.insert(*pid, number);
        }
        self.jobs.push(Job {
            number,
            pgid,
            processes: processes
                .into_iter()
                .map(|(pid, command)| Process {
                    pid,
                    command,
                    state: ProcessState::Running,
                })
                .collect(),
            command: command.to_string(),
            state: ProcessState::Running,
            tty_modes: None,
            foreground,
            reported: true,
        });
        if !foreground {
            self.reset_current();
        }
        number
    }

    /// Jobs in number order.
    pub fn iter(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter()
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    pub fn get(&self, n: JobNumber) -> Option<&Job> {
        self.index(n).map(|i| &self.jobs[i])
    }

    fn get_mut(&mut self, n: JobNumber) -> Option<&mut Job> {
        self.index(n).map(|i| &mut self.jobs[i])
    }

    fn index(&self, n: JobNumber) -> Option<usize> {
        self.jobs.binary_search_by_key(&n, |j| j.number).ok()
    }

    /// The job that has process `pid`.
    pub fn find_pid(&self, pid: Pid) -> Option<JobNumber> {
        self.by_pid.get(&pid).copied()
    }

    /// The job whose process group is `pgid`.
    pub fn find_pgid(&self, pgid: Pgid) -> Option<JobNumber> {
        self.jobs.iter().find(|j| j.pgid == pgid).map(|j| j.number)
    }

    /// The current (`+`) job.
    pub fn current(&self) -> Option<JobNumber> {
        self.current
    }

    /// The previous (`-`) job (never the current one).
    pub fn previous(&self) -> Option<JobNumber> {
        self.previous.filter(|p| Some(*p) != self.current)
    }

    /// The mark of job `n`.
    pub fn marker(&self, n: JobNumber) -> Marker {
        if self.current == Some(n) {
            Marker::Current
        } else if self.previous() == Some(n) {
            Marker::Previous
        } else {
            Marker::Other
        }
    }

    /// The groups of the jobs that finished (all their processes ended) since the last call, in
    /// the order they finished. Every job that finishes appears here exactly once: a job
    /// finishes only through [`JobTable::update`], and leaves the table only once finished.
    pub fn take_finished(&mut self) -> Vec<Pgid> {
        std::mem::take(&mut self.finished)
    }

    /// Records a status from `waitpid`. Returns the job it belonged to, if any (a status for a
    /// process no job has is ignored). A job that stops becomes current.
    pub fn update(&mut self, status: WaitStatus) -> Option<JobNumber> {
        let pid = status.pid()?;
        let state = ProcessState::from_wait(status)?;
        let n = self.find_pid(pid)?;
        let job = self
            .get_mut(n)
            .expect("the pid index names jobs in the table");
        let member = job
            .processes
            .iter_mut()
            .find(|p| p.pid == pid)
            .expect("the pid index names members of the job");
        member.state = state;
        let was_stopped = job.is_stopped();
        let was_finished = job.state.is_finished();
        job.recompute();
        if !was_finished && job.state.is_finished() {
            let pgid = job.pgid;
            self.finished.push(pgid);
        } else if job.is_stopped() {
            job.foreground = false;
            if !was_stopped {
                self.make_current(n);
            }
        }
        Some(n)
    }

    /// Marks job `n` as running again (after the shell sent it SIGCONT for `fg`/`bg`), without
    /// waiting for the `Continued` statuses, and says whether it now runs in the foreground.
    pub(crate) fn mark_continued(&mut self, n: JobNumber, foreground: bool) {
        if let Some(job) = self.get_mut(n) {
            for p in &mut job.processes {
                if p.state.is_stopped() {
                    p.state = ProcessState::Running;
                }
            }
            job.recompute();
            job.foreground = foreground;
        }
    }

    /// Says job `n` is no longer waited for in the foreground.
    pub(crate) fn set_foreground(&mut self, n: JobNumber, foreground: bool) {
        if let Some(job) = self.get_mut(n) {
            job.foreground = foreground;
        }
        if !foreground {
            // Now a background job: it may become current as a new background job would.
            self.reset_current();
        }
    }

    /// Saves the terminal modes of job `n`, which stopped in the foreground, for `fg`.
    pub(crate) fn set_tty_modes(&mut self, n: JobNumber, modes: Option<TtyModes>) {
        if let Some(job) = self.get_mut(n) {
            job.tty_modes = modes;
        }
    }

    /// Makes job `n` current (bash `set_current_job`), as `fg` does. Only a job in the table
    /// that is not running in the foreground can be current (module doc): anything else is
    /// refused and the marks stay as they were.
    pub fn set_current(&mut self, n: JobNumber) -> Result<(), NotACandidate> {
        match self.get(n) {
            None => Err(NotACandidate::NotInTable(n)),
            Some(j) if j.foreground && j.state == ProcessState::Running => {
                Err(NotACandidate::InForeground(n))
            }
            Some(_) => {
                self.make_current(n);
                Ok(())
            }
        }
    }

    /// [`JobTable::set_current`] for a job known to be a candidate.
    fn make_current(&mut self, n: JobNumber) {
        if self.current != Some(n) {
            self.previous = self.current;
            self.current = Some(n);
        }
        // First choice for previous: the old current job, if stopped.
        if let Some(p) = self.previous
            && Some(p) != self.current
            && self.get(p).is_some_and(Job::is_stopped)
        {
            return;
        }
        let cur_stopped = self.get(n).is_some_and(Job::is_stopped);
        // Second choice: the newest stopped job older than the current one.
        if cur_stopped && let Some(c) = self.newest(|j| j.number < n && j.is_stopped()) {
            self.previous = Some(c);
            return;
        }
        // Third: the newest running job (older than current when current runs).
        let cand = if cur_stopped {
            self.newest(|j| j.number != n && j.is_bg_running())
        } else {
            self.newest(|j| j.number < n && j.is_bg_running())
        };
        self.previous = Some(cand.unwrap_or(n));
    }

    /// Chooses the current job again (bash `reset_current`).
    fn reset_current(&mut self) {
        let stopped =
            |t: &Self, n: Option<JobNumber>| n.and_then(|n| t.get(n)).is_some_and(Job::is_stopped);
        let cand = if stopped(self, self.current) {
            self.current
        } else if stopped(self, self.previous) {
            self.previous
        } else {
            self.newest(Job::is_stopped)
                .or_else(|| self.newest(Job::is_bg_running))
        };
        match cand {
            Some(n) => self.make_current(n),
            None => {
                self.current = None;
                self.previous = None;
            }
        }
    }

    fn newest(&self, pred: impl Fn(&Job) -> bool) -> Option<JobNumber> {
        self.jobs.iter().rev().find(|j| pred(j)).map(|j| j.number)
    }

    /// Takes every unreported stopped or finished job that is not in the foreground, in number
    /// order: finished ones leave the table now, stopped ones are marked reported.
    pub fn take_reports(&mut self) -> Vec<Report> {
        // One pass that keeps the jobs still in the table in order: removing the finished ones
        // one by one shifted the table each time (quadratic: 1,000 jobs ending at once cost
        // milliseconds). Markers are read before anything leaves, as the user last saw them.
        let due = |j: &Job| !j.reported && !j.foreground && j.state != ProcessState::Running;
        if !self.jobs.iter().any(due) {
            return Vec::new();
        }
        let mut reports = Vec::new();
        let mut kept = Vec::with_capacity(self.jobs.len());
        for mut job in std::mem::take(&mut self.jobs) {
            if !due(&job) {
                kept.push(job);
                continue;
            }
            let marker = self.marker(job.number);
            if job.state.is_finished() {
                self.forget_pids(&job);
                self.remember_ended(&job);
                reports.push(Report { marker, job });
            } else {
                job.reported = true;
                reports.push(Report {
                    marker,
                    job: job.clone(),
                });
                kept.push(job);
            }
        }
        self.jobs = kept;
        self.after_removal();
        reports
    }

    /// Takes the report of job `n` if it has one due (stopped or finished, unreported),
    /// foreground or not. A finished job leaves the table.
    pub fn take_report(&mut self, n: JobNumber) -> Option<Report> {
        let marker = self.marker(n);
        let job = self.get(n)?;
        if job.reported || job.state == ProcessState::Running {
            return None;
        }
        let r = self.take_one(n, marker);
        self.after_removal();
        r
    }

    fn take_one(&mut self, n: JobNumber, marker: Marker) -> Option<Report> {
        let i = self.index(n)?;
        if self.jobs[i].state.is_finished() {
            let job = self.jobs.remove(i);
            self.forget_pids(&job);
            self.remember_ended(&job);
            Some(Report { marker, job })
        } else {
            self.jobs[i].reported = true;
            Some(Report {
                marker,
                job: self.jobs[i].clone(),
            })
        }
    }

    /// Takes job `n` out of the table whatever its state (`disown`: the user asked the shell
    /// to forget it). Its statuses are then ignored by [`JobTable::update`]; a finished job
    /// stays among those [`JobTable::take_finished`] returns, so what it held is released.
    pub fn remove(&mut self, n: JobNumber) -> Option<Job> {
        let i = self.index(n)?;
        let job = self.jobs.remove(i);
        self.forget_pids(&job);
        self.after_removal();
        Some(job)
    }

    /// Drops a job that leaves the table from the pid index.
    fn forget_pids(&mut self, job: &Job) {
        for p in &job.processes {
            self.by_pid.remove(&p.pid);
        }
    }

    /// Keeps the status of a background job that ended and leaves the table, for `wait PID`.
    fn remember_ended(&mut self, job: &Job) {
        let Some(halt) = job.state.halt().filter(|_| !job.foreground) else {
            return;
        };
        for p in &job.processes {
            if self.ended.len() == ENDED_KEPT {
                self.ended.pop_front();
            }
            self.ended.push_back((p.pid, halt.status()));
        }
    }

    /// The status of `pid`, a process of a background job that ended and left the table;
    /// given once (a second `wait PID` finds no such child, as in bash).
    pub fn take_ended(&mut self, pid: Pid) -> Option<i32> {
        let i = self.ended.iter().rposition(|(p, _)| *p == pid)?;
        self.ended.remove(i).map(|(_, status)| status)
    }

    fn after_removal(&mut self) {
        let gone = |t: &Self, n: Option<JobNumber>| n.is_some_and(|n| t.get(n).is_none());
        if gone(self, self.current) || gone(self, self.previous) {
            if gone(self, self.current) {
                self.current = None;
            }
            if gone(self, self.previous) {
                self.previous = None;
            }
            self.reset_current();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(n: i32) -> Pid {
        Pid::from_raw(n)
    }

    fn pgid(n: i32) -> Pgid {
        Pgid::from_raw(n)
    }

    fn bg(t: &mut JobTable, p: i32) -> JobNumber {
        t.add(
            pgid(p),
            vec![(pid(p), format!("sleep {p}"))],
            &format!("sleep {p}"),
            false,
        )
    }

    fn finish(t: &mut JobTable, p: i32) {
        t.update(WaitStatus::Exited(pid(p), 0));
        t.take_reports();
    }

    fn marks(t: &JobTable) -> String {
        t.iter()
            .map(|j| format!("{}{}", j.number(), t.marker(j.number()).as_char()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn an_ended_background_jobs_status_outlives_its_report_once() {
        let mut t = JobTable::new();
        t.add(
            pgid(10),
            vec![(pid(10), "sh -c 'exit 17'".into())],
            "sh -c 'exit 17'",
            false,
        );
        let fg = t.add(pgid(30), vec![(pid(30), "true".into())], "true", true);
        t.update(WaitStatus::Exited(pid(10), 17));
        t.update(WaitStatus::Exited(pid(30), 0));
        assert_eq!(t.take_ended(pid(10)), None, "not yet reported: still a job");
        t.take_reports();
        let _ = t.take_report(fg);
        assert_eq!(t.take_ended(pid(10)), Some(17), "after its Done notice");
        assert_eq!(t.take_ended(pid(10)), None, "given once");
        assert_eq!(
            t.take_ended(pid(30)),
            None,
            "a foreground job's status went to STATUS"
        );
    }

    #[test]
    fn find_pid_follows_jobs_in_and_out_of_the_table() {
        let mut t = JobTable::new();
        let n = t.add(
            pgid(10),
            vec![(pid(10), "sleep 1".into()), (pid(11), "cat".into())],
            "sleep 1 | cat",
            false,
        );
        let m = bg(&mut t, 20);
        assert_eq!(t.find_pid(pid(11)), Some(n), "any member finds its job");
        assert_eq!(t.find_pid(pid(20)), Some(m));
        t.update(WaitStatus::Exited(pid(10), 0));
        t.update(WaitStatus::Exited(pid(11), 0));
        assert_eq!(
            t.find_pid(pid(11)),
            Some(n),
            "finished but not reported: still there"
        );
        t.take_reports();
        assert_eq!(t.find_pid(pid(10)), None, "reported and gone");
        assert_eq!(t.find_pid(pid(11)), None);
        assert_eq!(t.find_pid(pid(20)), Some(m));
        finish(&mut t, 20);
        assert_eq!(t.find_pid(pid(20)), None);
    }

    #[test]
    fn take_finished_names_each_finished_job_once_in_order() {
        let mut t = JobTable::new();
        bg(&mut t, 10);
        t.add(
            pgid(20),
            vec![(pid(20), "a".into()), (pid(21), "b".into())],
            "a | b",
            false,
        );
        t.update(WaitStatus::Stopped(pid(10), Signal::SIGTSTP));
        t.update(WaitStatus::Exited(pid(99), 0));
        t.update(WaitStatus::Exited(pid(20), 0));
        assert_eq!(
            t.take_finished(),
            [],
            "stops, strangers and half a pipeline end nothing"
        );
        t.update(WaitStatus::Exited(pid(21), 0));
        t.update(WaitStatus::Signaled(pid(10), Signal::SIGKILL, false));
        assert_eq!(t.take_finished(), [pgid(20), pgid(10)]);
        t.take_reports();
        assert_eq!(
            t.take_finished(),
            [],
            "reporting finishes nothing, and each once"
        );
    }

    #[test]
    fn numbers_stay_while_jobs_end_and_restart_after() {
        let mut t = JobTable::new();
        assert_eq!(bg(&mut t, 10).get(), 1);
        assert_eq!(bg(&mut t, 20).get(), 2);
        assert_eq!(bg(&mut t, 30).get(), 3);
        finish(&mut t, 20);
        assert_eq!(
            t.iter().map(|j| j.number().get()).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(
            bg(&mut t, 40).get(),
            4,
            "a freed number below the highest is not reused"
        );
        finish(&mut t, 30);
        finish(&mut t, 40);
        assert_eq!(
            bg(&mut t, 50).get(),
            2,
            "after the top ones end, numbers go on from the highest"
        );
        finish(&mut t, 10);
        finish(&mut t, 50);
        assert_eq!(bg(&mut t, 60).get(), 1);
    }

    #[test]
    fn finished_job_keeps_its_number_until_reported() {
        let mut t = JobTable::new();
        bg(&mut t, 10);
        t.update(WaitStatus::Exited(pid(10), 0));
        assert_eq!(bg(&mut t, 20).get(), 2);
        let r = t.take_reports();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].job.number().get(), 1);
        assert!(t.take_reports().is_empty(), "reported once");
    }

    #[test]
    fn new_background_job_becomes_current() {
        let mut t = JobTable::new();
        bg(&mut t, 10);
        assert_eq!(marks(&t), "1+");
        bg(&mut t, 20);
        assert_eq!(marks(&t), "1- 2+");
        bg(&mut t, 30);
        assert_eq!(marks(&t), "1  2- 3+");
    }

    #[test]
    fn stopped_job_becomes_current_and_stays_over_new_background_jobs() {
        let mut t = JobTable::new();
        let n = t.add(
            pgid(10),
            vec![(pid(10), "sleep 30".into())],
            "sleep 30",
            true,
        );
        assert_eq!(marks(&t), "1 ", "a running foreground job is not current");
        t.update(WaitStatus::Stopped(pid(10), Signal::SIGTSTP));
        assert_eq!(t.current(), Some(n));
        bg(&mut t, 20);
        assert_eq!(marks(&t), "1+ 2-", "bash: [1]+ Stopped, [2]- Running");
        t.update(WaitStatus::Stopped(pid(20), Signal::SIGSTOP));
        assert_eq!(marks(&t), "1- 2+", "the newly stopped job is current");
    }

    #[test]
    fn when_current_ends_previous_takes_over() {
        let mut t = JobTable::new();
        bg(&mut t, 10);
        bg(&mut t, 20);
        bg(&mut t, 30);
        assert_eq!(marks(&t), "1  2- 3+");
        finish(&mut t, 30);
        assert_eq!(marks(&t), "1- 2+");
        finish(&mut t, 20);
        assert_eq!(marks(&t), "1+");
        finish(&mut t, 10);
        assert_eq!(t.current(), None);
        assert_eq!(t.previous(), None);
    }

    #[test]
    fn when_current_ends_a_stopped_job_is_preferred() {
        let mut t = JobTable::new();
        bg(&mut t, 10);
        t.update(WaitStatus::Stopped(pid(10), Signal::SIGTTIN));
        bg(&mut t, 20);
        bg(&mut t, 30);
        t.update(WaitStatus::Stopped(pid(30), Signal::SIGSTOP));
        assert_eq!(marks(&t), "1- 2  3+");
        finish(&mut t, 30);
        assert_eq!(marks(&t), "1+ 2-");
    }

    #[test]
    fn pipeline_stops_only_when_no_member_runs() {
        let mut t = JobTable::new();
        let procs = vec![
            (pid(10), "a".into()),
            (pid(11), "b".into()),
            (pid(12), "c".into()),
        ];
        let n = t.add(pgid(10), procs, "a | b | c", false);
        t.update(WaitStatus::Stopped(pid(11), Signal::SIGSTOP));
        assert_eq!(t.get(n).unwrap().state(), ProcessState::Running);
        t.update(WaitStatus::Exited(pid(10), 0));
        t.update(WaitStatus::Stopped(pid(12), Signal::SIGTSTP));
        assert_eq!(
            t.get(n).unwrap().state(),
            ProcessState::stopped(Signal::SIGSTOP)
        );
        t.update(WaitStatus::Continued(pid(11)));
        t.update(WaitStatus::Continued(pid(12)));
        assert_eq!(t.get(n).unwrap().state(), ProcessState::Running);
        t.update(WaitStatus::Exited(pid(11), 0));
        t.update(WaitStatus::Exited(pid(12), 3));
        assert_eq!(
            t.get(n).unwrap().state(),
            ProcessState::exited(3),
            "last member's status"
        );
    }

    #[test]
    fn statuses_of_halts() {
        assert_eq!(Halt::Stopped(Signal::SIGTSTP).status(), 148);
        assert_eq!(
            Halt::Signaled {
                signal: Signal::SIGINT,
                core_dumped: false
            }
            .status(),
            130
        );
        assert_eq!(Halt::Exited(3).status(), 3);
        assert_eq!(
            ProcessState::Running.halt(),
            None,
            "a running process has no status"
        );
    }

    #[test]
    fn set_current_refuses_what_cannot_be_current() {
        let mut t = JobTable::new();
        let fg = t.add(pgid(10), vec![(pid(10), "vim".into())], "vim", true);
        let b = bg(&mut t, 20);
        assert_eq!(marks(&t), "1  2+");
        assert_eq!(t.set_current(fg), Err(NotACandidate::InForeground(fg)));
        let missing = JobNumber::new(9).unwrap();
        assert_eq!(
            t.set_current(missing),
            Err(NotACandidate::NotInTable(missing))
        );
        assert_eq!(marks(&t), "1  2+", "marks unchanged after a refusal");
        t.update(WaitStatus::Stopped(pid(10), Signal::SIGTSTP));
        assert_eq!(t.set_current(b), Ok(()));
        assert_eq!(marks(&t), "1- 2+");
    }
}

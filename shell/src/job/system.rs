//! The operating-system calls of the whole shell, behind one small trait.
//!
//! Everything in the shell that touches processes, signals or the terminal goes through
//! [`System`]: job control itself ([`crate::job`]), the shell's bookkeeping of its jobs and the
//! commits of their stores ([`crate::shell::jobs`]), and its signal handling
//! ([`crate::shell::signals`]). So all of that is unit-tested against [`VirtualSystem`], a
//! simulation of processes, process groups, pipes, signals and one terminal, without forking
//! anything. [`RealSystem`] is the same trait on `nix`. What stays outside is what runs *inside*
//! a job's processes: the executor's threads and the programs it execs.
//!
//! The trait is deliberately narrow: exactly the calls a job-control shell makes.
//!
//! Invariants of every implementation:
//! - [`System::waitpid`] always asks for stops and continues (`WUNTRACED | WCONTINUED`): a job
//!   table that missed a stop would wait forever for a job that is stopped.
//! - The terminal is one fixed descriptor chosen when the system is built (the shell's
//!   controlling terminal); the `tc*` calls take no descriptor.
//! - A child made by [`System::fork`] runs its [`ChildTask::setup`] before its
//!   [`ChildTask::work`], and whatever it owns (the write ends of pipes) is closed when it ends,
//!   however it ends: a reader learns of a child's death as end of file.

mod real;
#[cfg(test)]
mod real_tests;
pub mod r#virtual;

use std::path::Path;
use std::process::{ChildStdout, Command};
use std::sync::Arc;

pub use nix::errno::Errno;
pub use nix::sys::signal::Signal;
pub use real::{RealSystem, reset_signals};
pub use r#virtual::VirtualSystem;

/// A process id. Always positive: "the calling process" and "a whole group", which the C API
/// spells 0 and negative pids, are separate arguments or types here ([`Pgid`],
/// [`WaitTarget::Group`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(i32);

impl Pid {
    /// The pid `raw`, or None unless it is positive.
    pub const fn new(raw: i32) -> Option<Pid> {
        if raw > 0 { Some(Pid(raw)) } else { None }
    }

    /// The pid `raw`, for values the kernel returned and for literals in tests.
    ///
    /// # Panics
    /// If `raw` is not positive.
    pub const fn from_raw(raw: i32) -> Pid {
        assert!(raw > 0, "a pid is positive");
        Pid(raw)
    }

    /// The number, as the C API takes it.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    pub(crate) fn to_nix(self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.0)
    }

    pub(crate) fn from_nix(pid: nix::unistd::Pid) -> Pid {
        Pid::from_raw(pid.as_raw())
    }
}

impl std::fmt::Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A process group id: the pid of the group's first member (its leader), which names the
/// group even after that process has ended. A job is one group; `killpg`, `tcsetpgrp` and
/// `waitpid(-pgid)` take a `Pgid`, `kill` and `waitpid(pid)` a [`Pid`], so one cannot be passed
/// for the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pgid(Pid);

impl Pgid {
    /// The group that process `leader` leads (or would lead after `setpgid(leader, leader)`).
    pub const fn led_by(leader: Pid) -> Pgid {
        Pgid(leader)
    }

    /// The group `raw`, or None unless it is positive.
    pub const fn new(raw: i32) -> Option<Pgid> {
        match Pid::new(raw) {
            Some(p) => Some(Pgid(p)),
            None => None,
        }
    }

    /// The group `raw`, for values the kernel returned and for literals in tests.
    ///
    /// # Panics
    /// If `raw` is not positive.
    pub const fn from_raw(raw: i32) -> Pgid {
        Pgid(Pid::from_raw(raw))
    }

    /// The pid the group is named after.
    pub const fn leader(self) -> Pid {
        self.0
    }

    /// The number, as the C API takes it.
    pub const fn as_raw(self) -> i32 {
        self.0.0
    }

    pub(crate) fn to_nix(self) -> nix::unistd::Pid {
        self.0.to_nix()
    }
}

impl std::fmt::Display for Pgid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Result of a system call: the error is the OS's `errno`.
pub type SysResult<T> = Result<T, Errno>;

/// What `waitpid` reported about one child (or that nothing changed, with `block == false`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// The process exited with this code.
    Exited(Pid, i32),
    /// The process was killed by this signal; `true` when it dumped core.
    Signaled(Pid, Signal, bool),
    /// The process stopped on this signal.
    Stopped(Pid, Signal),
    /// The process was continued by SIGCONT.
    Continued(Pid),
    /// Non-blocking wait: no child changed state.
    StillAlive,
}

impl WaitStatus {
    /// The process the status is about, if any.
    pub fn pid(&self) -> Option<Pid> {
        match *self {
            WaitStatus::Exited(p, _)
            | WaitStatus::Signaled(p, _, _)
            | WaitStatus::Stopped(p, _)
            | WaitStatus::Continued(p) => Some(p),
            WaitStatus::StillAlive => None,
        }
    }
}

/// Which children a `waitpid` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child (`-1`).
    Any,
    /// This child.
    Pid(Pid),
    /// Any child in this process group (`-pgid`): a job's members and nothing else, so the
    /// shell does not swallow statuses of children other code waits for.
    Group(Pgid),
}

impl WaitTarget {
    fn raw(self) -> Option<nix::unistd::Pid> {
        match self {
            WaitTarget::Any => None,
            WaitTarget::Pid(p) => Some(p.to_nix()),
            WaitTarget::Group(g) => Some(nix::unistd::Pid::from_raw(-g.as_raw())),
        }
    }
}

/// A signal's disposition: what the shell does when it receives the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// Note it for [`System::take_caught`] and go on. A blocking call other than for SIGCHLD
    /// is interrupted (`EINTR`), so `wait` can give up on ctrl-c; SIGCHLD restarts them.
    Catch,
    /// End the shell at once, as `exit` would after its warning: SIGHUP then SIGCONT to every
    /// group registered with [`System::register_job_group`], the directory given to
    /// [`System::set_exit_cleanup`] removed, the terminal given back, exit status 128 + the
    /// signal. Runs wherever the shell is, even while the line editor waits for a key.
    ExitShell,
}

/// Saved terminal modes: opaque, only given back to [`System::tcsetattr`].
#[derive(Clone, Debug)]
pub struct TtyModes(pub(crate) ModesRepr);

#[derive(Clone, Debug)]
pub(crate) enum ModesRepr {
    Real(Box<nix::sys::termios::Termios>),
    /// A simulated terminal's modes are a number tests can compare.
    Virtual(u64),
}

impl PartialEq for TtyModes {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (ModesRepr::Virtual(a), ModesRepr::Virtual(b)) => a == b,
            // termios is not comparable; two saved real modes are never claimed equal.
            _ => false,
        }
    }
}

/// What a child made by [`System::fork`] runs.
pub struct ChildTask<S> {
    /// First, at once: set-up that the parent may wait for (a process group, dispositions, a
    /// "ready" byte). Async-signal-safe calls only: the shell may have threads when it forks.
    pub setup: Box<dyn FnOnce(&S)>,
    /// Then the child's work; its result is the exit status (the low 8 bits are kept).
    pub work: Box<dyn FnOnce(&S) -> i32>,
}

/// Set-up that runs in a spawned program's child between fork and exec (async-signal-safe
/// calls only): joining the job's group, taking the terminal, dispositions.
pub type ChildSetup<S> = Arc<dyn Fn(&S) + Send + Sync>;

/// A program started by [`System::spawn`].
#[derive(Debug)]
pub struct Spawned {
    /// Its pid.
    pub pid: Pid,
    /// The read end of its stdout, when the command asked for a pipe (never on a simulated
    /// system).
    pub stdout: Option<ChildStdout>,
}

/// The operations the shell needs from the operating system.
///
/// Methods take `&self`: a real system has no state, and the virtual one keeps its state behind
/// a shared cell so a test can inspect it while the shell's code holds the system.
pub trait System: Sized {
    /// The read end of a pipe made by [`System::pipe`]; closed when dropped.
    type PipeReader: 'static;
    /// The write end of a pipe made by [`System::pipe`]; closed when dropped.
    type PipeWriter: 'static;

    /// Pid of the calling process.
    fn getpid(&self) -> Pid;
    /// Process group of the calling process; None when the kernel reports 0: the group's leader
    /// lives outside this pid namespace (a container or sandbox started the shell's group).
    fn getpgrp(&self) -> Option<Pgid>;
    /// `setpgid(pid, pgid)`: moves process `pid` (the caller or one of its children) into
    /// group `pgid`, which must exist in the caller's session unless it is `pid`'s own.
    fn setpgid(&self, pid: Pid, pgid: Pgid) -> SysResult<()>;
    /// Foreground process group of the terminal; `Ok(None)` when that group's leader lives
    /// outside this pid namespace (the kernel reports 0).
    fn tcgetpgrp(&self) -> SysResult<Option<Pgid>>;
    /// Makes `pgid` the terminal's foreground group. From a background process this raises
    /// SIGTTOU unless the caller ignores (or blocks) it.
    fn tcsetpgrp(&self, pgid: Pgid) -> SysResult<()>;
    /// Current terminal modes.
    fn tcgetattr(&self) -> SysResult<TtyModes>;
    /// Sets terminal modes (after pending output is written: `TCSADRAIN`).
    fn tcsetattr(&self, modes: &TtyModes) -> SysResult<()>;
    /// Sends `sig` to every process of group `pgid`.
    fn killpg(&self, pgid: Pgid, sig: Signal) -> SysResult<()>;
    /// Sends `sig` to process `pid`.
    fn kill(&self, pid: Pid, sig: Signal) -> SysResult<()>;
    /// `waitpid(target, WUNTRACED | WCONTINUED | (WNOHANG unless block))`.
    /// `Err(ECHILD)` when there is no such child; `Err(EINTR)` when a caught signal interrupted
    /// a blocking wait.
    fn waitpid(&self, target: WaitTarget, block: bool) -> SysResult<WaitStatus>;
    /// While `on`, children are reaped as they change state (in the SIGCHLD handler, when
    /// SIGCHLD is caught) and their statuses kept for [`System::waitpid`], which hands them out
    /// first, in order. For the prompt, where the shell waits for nothing else: reaping a
    /// thousand ended jobs then costs nothing when Enter is pressed. Off by default.
    fn reap_eagerly(&self, on: bool);
    /// Sets the disposition of `sig`; returns the old one.
    fn set_disposition(&self, sig: Signal, disposition: Disposition) -> SysResult<Disposition>;
    /// Whether `sig` (with [`Disposition::Catch`]) arrived since the last call for it.
    fn take_caught(&self, sig: Signal) -> bool;
    /// A flag to set whenever a caught signal other than SIGCHLD arrives (from the handler),
    /// so the line editor, which polls it, stops waiting for a key and the shell can run a
    /// trap. The first flag given stays.
    fn set_wake_flag(&self, flag: Arc<std::sync::atomic::AtomicBool>);

    /// A pipe whose ends are closed on exec.
    fn pipe(&self) -> SysResult<(Self::PipeReader, Self::PipeWriter)>;
    /// Writes one byte.
    fn write_byte(&self, to: &Self::PipeWriter, byte: u8) -> SysResult<()>;
    /// The next byte if one was written, without blocking: None when nothing is there (yet, or
    /// ever: every writer closed).
    fn read_byte_now(&self, from: &Self::PipeReader) -> SysResult<Option<u8>>;
    /// Blocks until `from` has a byte (returned), every writer closed it, or child `pid` stopped
    /// or ended (None in both cases; the child's status is left for `waitpid`).
    fn wait_byte(&self, from: &Self::PipeReader, pid: Pid) -> Option<u8>;

    /// Forks a child that runs `task` and ends with its status; returns the child's pid.
    /// Only the calling thread is copied: call it while the shell has no other threads.
    fn fork(&self, task: ChildTask<Self>) -> SysResult<Pid>;
    /// Starts `command` in a child (fork and exec): `setup` runs in the child first, then
    /// every signal the shell may ignore or catch gets its default action back. The error is
    /// `std::process`'s, which tells a missing program from one that cannot run.
    fn spawn(&self, command: &mut Command, setup: ChildSetup<Self>) -> std::io::Result<Spawned>;
    /// In a child: asks for SIGKILL when `parent` dies. False when `parent` is already gone.
    fn die_with_parent(&self, parent: Pid) -> bool;

    /// Adds a live job's group to those [`Disposition::ExitShell`] hangs up.
    fn register_job_group(&self, pgid: Pgid);
    /// Removes an ended job's group from them.
    fn unregister_job_group(&self, pgid: Pgid);
    /// What [`Disposition::ExitShell`] cleans besides the jobs: the session directory (its
    /// files removed, then itself), and the terminal (these modes back, this group its owner).
    fn set_exit_cleanup(
        &self,
        session_dir: Option<&Path>,
        terminal: Option<(TtyModes, Option<Pgid>)>,
    );
}

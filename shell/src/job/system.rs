//! The operating-system operations job control needs, behind one small trait.
//!
//! Everything in [`crate::job`] that touches processes or the terminal goes through [`System`],
//! so the job-control logic (the table, `fg`, `bg`, `kill`, waiting, the terminal handoff) is
//! unit-tested against [`VirtualSystem`], a simulation of processes, process groups, signals and
//! one terminal, without forking anything. [`RealSystem`] is the same trait on `nix`.
//!
//! The trait is deliberately narrow: exactly the calls a job-control shell makes. Forking and
//! exec are not in it: the shell's executor forks, then tells the job table what it started.
//!
//! Invariants of every implementation:
//! - [`System::waitpid`] always asks for stops and continues (`WUNTRACED | WCONTINUED`): a job
//!   table that missed a stop would wait forever for a job that is stopped.
//! - The terminal is one fixed descriptor chosen when the system is built (the shell's
//!   controlling terminal); the `tc*` calls take no descriptor.

#[cfg(test)]
mod real_tests;
pub mod r#virtual;

use std::os::fd::{BorrowedFd, RawFd};

pub use nix::errno::Errno;
pub use nix::sys::signal::Signal;
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

    pub(crate) fn from_nix(pgid: nix::unistd::Pid) -> Pgid {
        Pgid(Pid::from_nix(pgid))
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

/// A signal's disposition, as far as job control cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// A handler is installed. Returned as the old disposition only; it cannot be set through
    /// this trait (the shell installs its own handlers elsewhere).
    Caught,
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

/// The operations job control needs from the operating system.
///
/// Methods take `&self`: a real system has no state, and the virtual one keeps its state behind
/// a shared cell so a test can inspect it while the shell's code holds the system.
pub trait System {
    /// Pid of the calling process.
    fn getpid(&self) -> Pid;
    /// Process group of the calling process.
    fn getpgrp(&self) -> Pgid;
    /// `setpgid(pid, pgid)`: moves process `pid` (the caller or one of its children) into
    /// group `pgid`, which must exist in the caller's session unless it is `pid`'s own.
    fn setpgid(&self, pid: Pid, pgid: Pgid) -> SysResult<()>;
    /// Foreground process group of the terminal.
    fn tcgetpgrp(&self) -> SysResult<Pgid>;
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
    /// Sets the disposition of `sig` to default or ignore; returns the old one.
    fn set_disposition(&self, sig: Signal, disposition: Disposition) -> SysResult<Disposition>;
}

/// The real operating system, through `nix`.
#[derive(Debug, Clone, Copy)]
pub struct RealSystem {
    tty: RawFd,
}

impl RealSystem {
    /// A system whose terminal operations use `tty` (the shell's controlling terminal, usually
    /// a dup of stdin kept open with `FD_CLOEXEC`). The descriptor must stay open as long as
    /// this value is used.
    pub fn new(tty: RawFd) -> Self {
        RealSystem { tty }
    }

    fn tty(&self) -> BorrowedFd<'_> {
        // SAFETY: `new`'s contract: the descriptor stays open while the system is used.
        unsafe { BorrowedFd::borrow_raw(self.tty) }
    }
}

impl System for RealSystem {
    fn getpid(&self) -> Pid {
        Pid::from_nix(nix::unistd::getpid())
    }

    fn getpgrp(&self) -> Pgid {
        Pgid::from_nix(nix::unistd::getpgrp())
    }

    fn setpgid(&self, pid: Pid, pgid: Pgid) -> SysResult<()> {
        nix::unistd::setpgid(pid.to_nix(), pgid.to_nix())
    }

    fn tcgetpgrp(&self) -> SysResult<Pgid> {
        nix::unistd::tcgetpgrp(self.tty()).map(Pgid::from_nix)
    }

    fn tcsetpgrp(&self, pgid: Pgid) -> SysResult<()> {
        nix::unistd::tcsetpgrp(self.tty(), pgid.to_nix())
    }

    fn tcgetattr(&self) -> SysResult<TtyModes> {
        nix::sys::termios::tcgetattr(self.tty()).map(|t| TtyModes(ModesRepr::Real(Box::new(t))))
    }

    fn tcsetattr(&self, modes: &TtyModes) -> SysResult<()> {
        match &modes.0 {
            ModesRepr::Real(t) => {
                nix::sys::termios::tcsetattr(self.tty(), nix::sys::termios::SetArg::TCSADRAIN, t)
            }
            ModesRepr::Virtual(_) => Err(Errno::EINVAL),
        }
    }

    fn killpg(&self, pgid: Pgid, sig: Signal) -> SysResult<()> {
        nix::sys::signal::killpg(pgid.to_nix(), sig)
    }

    fn kill(&self, pid: Pid, sig: Signal) -> SysResult<()> {
        nix::sys::signal::kill(pid.to_nix(), sig)
    }

    fn waitpid(&self, target: WaitTarget, block: bool) -> SysResult<WaitStatus> {
        let pid = target.raw();
        use nix::sys::wait::{WaitPidFlag, WaitStatus as W};
        let mut flags = WaitPidFlag::WUNTRACED | WaitPidFlag::WCONTINUED;
        if !block {
            flags |= WaitPidFlag::WNOHANG;
        }
        loop {
            return Ok(match nix::sys::wait::waitpid(pid, Some(flags))? {
                W::Exited(p, code) => WaitStatus::Exited(Pid::from_nix(p), code),
                W::Signaled(p, sig, core) => WaitStatus::Signaled(Pid::from_nix(p), sig, core),
                W::Stopped(p, sig) => WaitStatus::Stopped(Pid::from_nix(p), sig),
                W::Continued(p) => WaitStatus::Continued(Pid::from_nix(p)),
                W::StillAlive => WaitStatus::StillAlive,
                // Ptrace events are not asked for; should one come, wait again.
                #[allow(unreachable_patterns)]
                _ => continue,
            });
        }
    }

    fn set_disposition(&self, sig: Signal, disposition: Disposition) -> SysResult<Disposition> {
        use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, sigaction};
        let handler = match disposition {
            Disposition::Default => SigHandler::SigDfl,
            Disposition::Ignore => SigHandler::SigIgn,
            Disposition::Caught => return Err(Errno::EINVAL),
        };
        let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
        // SAFETY: installing SIG_DFL or SIG_IGN runs no code in signal context.
        let old = unsafe { sigaction(sig, &action)? };
        Ok(match old.handler() {
            SigHandler::SigDfl => Disposition::Default,
            SigHandler::SigIgn => Disposition::Ignore,
            _ => Disposition::Caught,
        })
    }
}

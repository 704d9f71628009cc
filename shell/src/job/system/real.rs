//! [`RealSystem`]: the [`System`] trait on the operating system, through `nix`.
//!
//! Signal handlers, which run in signal context and so may only touch data prepared
//! beforehand, live in [`signals`]; the statuses SIGCHLD's handler reaps at the prompt are kept
//! in [`eager`].

mod eager;
mod signals;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use super::{
    ChildSetup, ChildTask, Disposition, Errno, ModesRepr, Pgid, Pid, Signal, Spawned, SysResult,
    System, TtyModes, WaitStatus, WaitTarget,
};

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

/// Puts back the default action of every signal the shell may ignore or catch, so a program
/// started by marsh reacts to ctrl-c and ctrl-z like one started by any shell. Ignored
/// dispositions survive exec (caught ones do not, but a forked job process that runs no
/// program must not run the shell's handlers either); `std::process::Command` resets only
/// SIGPIPE. The signal mask is emptied too. Async-signal-safe.
pub fn reset_signals() {
    use nix::sys::signal::{SigHandler, signal};
    for sig in [
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTSTP,
        Signal::SIGTTIN,
        Signal::SIGTTOU,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGCHLD,
        Signal::SIGPIPE,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
        Signal::SIGALRM,
    ] {
        // SAFETY: installing SIG_DFL is always sound.
        unsafe {
            let _ = signal(sig, SigHandler::SigDfl);
        }
    }
    // The mask survives exec too, and a job's leader blocks the signals it takes on its
    // reaper thread (`exec::reaper`): a program must not inherit that.
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
}

/// nix's status as ours; None for a ptrace event (never asked for).
fn decode(status: nix::sys::wait::WaitStatus) -> Option<WaitStatus> {
    use nix::sys::wait::WaitStatus as W;
    Some(match status {
        W::Exited(p, code) => WaitStatus::Exited(Pid::from_nix(p), code),
        W::Signaled(p, sig, core) => WaitStatus::Signaled(Pid::from_nix(p), sig, core),
        W::Stopped(p, sig) => WaitStatus::Stopped(Pid::from_nix(p), sig),
        W::Continued(p) => WaitStatus::Continued(Pid::from_nix(p)),
        W::StillAlive => WaitStatus::StillAlive,
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

impl System for RealSystem {
    type PipeReader = OwnedFd;
    type PipeWriter = OwnedFd;

    fn getpid(&self) -> Pid {
        Pid::from_nix(nix::unistd::getpid())
    }

    fn getpgrp(&self) -> Option<Pgid> {
        Pgid::new(nix::unistd::getpgrp().as_raw())
    }

    fn setpgid(&self, pid: Pid, pgid: Pgid) -> SysResult<()> {
        nix::unistd::setpgid(pid.to_nix(), pgid.to_nix())
    }

    fn tcgetpgrp(&self) -> SysResult<Option<Pgid>> {
        nix::unistd::tcgetpgrp(self.tty()).map(|g| Pgid::new(g.as_raw()))
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
        if let Some((pid, raw)) = eager::take(target)
            && let Some(status) = decode(nix::sys::wait::WaitStatus::from_raw(pid.to_nix(), raw)?)
        {
            return Ok(status);
        }
        let pid = target.raw();
        use nix::sys::wait::WaitPidFlag;
        let mut flags = WaitPidFlag::WUNTRACED | WaitPidFlag::WCONTINUED;
        if !block {
            flags |= WaitPidFlag::WNOHANG;
        }
        loop {
            // Ptrace events are not asked for; should one come, wait again.
            if let Some(status) = decode(nix::sys::wait::waitpid(pid, Some(flags))?) {
                return Ok(status);
            }
        }
    }

    fn reap_eagerly(&self, on: bool) {
        eager::set(on);
    }

    fn set_disposition(&self, sig: Signal, disposition: Disposition) -> SysResult<Disposition> {
        signals::set_disposition(sig, disposition)
    }

    fn take_caught(&self, sig: Signal) -> bool {
        signals::take_caught(sig)
    }

    fn pipe(&self) -> SysResult<(OwnedFd, OwnedFd)> {
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
    }

    fn write_byte(&self, to: &OwnedFd, byte: u8) -> SysResult<()> {
        loop {
            match nix::unistd::write(to, &[byte]) {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn read_byte_now(&self, from: &OwnedFd) -> SysResult<Option<u8>> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut fds = [PollFd::new(from.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::ZERO)? == 0 {
            return Ok(None);
        }
        let mut byte = [0u8; 1];
        match nix::unistd::read(from.as_fd(), &mut byte)? {
            1 => Ok(Some(byte[0])),
            _ => Ok(None),
        }
    }

    fn wait_byte(&self, from: &OwnedFd, pid: Pid) -> Option<u8> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use nix::sys::wait::{Id, WaitPidFlag, WaitStatus as W, waitid};
        loop {
            let mut fds = [PollFd::new(from.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(20u8)) {
                Ok(n) if n > 0 => {
                    let mut byte = [0u8; 1];
                    return match nix::unistd::read(from.as_fd(), &mut byte) {
                        Ok(1) => Some(byte[0]),
                        _ => None,
                    };
                }
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return None,
            }
            // A child stopped before it wrote (`kill -STOP`, a debugger) never will until it is
            // continued: peek (WNOWAIT) at whether it stopped or ended, leaving the status for
            // the job table. An error (EINTR) counts as no change; the next poll decides.
            let flags = WaitPidFlag::WSTOPPED
                | WaitPidFlag::WEXITED
                | WaitPidFlag::WNOHANG
                | WaitPidFlag::WNOWAIT;
            if matches!(waitid(Id::Pid(pid.to_nix()), flags), Ok(s) if s != W::StillAlive) {
                return None;
            }
        }
    }

    fn fork(&self, task: ChildTask<Self>) -> SysResult<Pid> {
        use nix::unistd::{ForkResult, fork};
        use std::io::Write;
        // Buffered output written before the fork would otherwise be written twice.
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: the caller forks while it has no other thread (the trait's contract); the
        // child runs its task and leaves with `_exit`, never returning into the caller.
        match unsafe { fork() }? {
            ForkResult::Parent { child } => Ok(Pid::from_nix(child)),
            ForkResult::Child => {
                let ChildTask { setup, work } = task;
                setup(self);
                let status = work(self);
                let _ = std::io::stdout().flush();
                let _ = std::io::stderr().flush();
                // SAFETY: ends the child without running the parent's destructors or atexit.
                unsafe { libc::_exit(status & 0xff) }
            }
        }
    }

    fn spawn(&self, command: &mut Command, setup: ChildSetup<Self>) -> std::io::Result<Spawned> {
        let sys = *self;
        // SAFETY: the closure makes only async-signal-safe calls (the setup's contract, then
        // sigaction).
        unsafe {
            command.pre_exec(move || {
                setup(&sys);
                reset_signals();
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        Ok(Spawned {
            pid: Pid::from_raw(child.id() as i32),
            stdout: child.stdout.take(),
        })
    }

    fn die_with_parent(&self, parent: Pid) -> bool {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        // The parent may have died before the request took effect.
        nix::unistd::getppid().as_raw() == parent.as_raw()
    }

    fn register_job_group(&self, pgid: Pgid) {
        signals::register_job_group(pgid.as_raw());
    }

    fn unregister_job_group(&self, pgid: Pgid) {
        signals::unregister_job_group(pgid.as_raw());
    }

    fn set_wake_flag(&self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        signals::set_wake_flag(flag);
    }

    fn set_exit_cleanup(
        &self,
        session_dir: Option<&Path>,
        terminal: Option<(TtyModes, Option<Pgid>)>,
    ) {
        if let Some(dir) = session_dir {
            signals::set_session_dir(dir);
        }
        if let Some((TtyModes(ModesRepr::Real(t)), owner)) = terminal {
            signals::set_terminal((*t).into(), owner.map_or(0, Pgid::as_raw));
        }
    }
}

//! Handing the terminal to a job and taking it back: the one racy step of job control, in one
//! scoped object.
//!
//! A [`TtyHandoff`] is created when the shell is about to let a job use the terminal, and ends
//! with [`TtyHandoff::reclaim`] (or its `Drop`, which does the same): whatever happened to the
//! job — it exited, stopped, was killed by a signal, or the wait failed — the shell owns the
//! terminal again, with its own modes, when the handoff is gone. Nothing else in marsh calls
//! `tcsetpgrp` on the shell's behalf (the child's half is [`crate::job::child_setup`]).
//!
//! Invariants:
//! - every `tcsetpgrp` the shell makes runs with SIGTTOU ignored (see [`IgnoreTtou`]);
//! - the job's modes are read, if it stopped, before the shell's modes are put back;
//! - the shell's modes are put back only after the shell is the foreground group again.

use super::system::{Disposition, Errno, Pgid, Signal, SysResult, System, TtyModes};

/// Ignores SIGTTOU for as long as it lives, then puts the old disposition back.
///
/// Why: `tcsetpgrp` and `tcsetattr` from a process that is not in the terminal's foreground
/// group make the kernel send SIGTTOU to the caller's group, whose default action stops it.
/// When the shell takes the terminal back, it is by definition not in the foreground yet, so
/// without this the shell would stop itself at the moment a job stops. An interactive marsh
/// ignores SIGTTOU for good once it knows it is in the foreground (see
/// [`crate::job::JobControl::take_terminal`]); the guard keeps the handoff correct on its own,
/// e.g. for a shell that gained job control later.
#[must_use = "SIGTTOU is ignored only while the guard lives"]
pub struct IgnoreTtou<'a, S: System> {
    sys: &'a S,
    old: Option<Disposition>,
}

impl<'a, S: System> IgnoreTtou<'a, S> {
    /// Ignores SIGTTOU until the guard is dropped.
    pub fn new(sys: &'a S) -> Self {
        let old = sys
            .set_disposition(Signal::SIGTTOU, Disposition::Ignore)
            .ok();
        IgnoreTtou { sys, old }
    }
}

impl<S: System> Drop for IgnoreTtou<'_, S> {
    fn drop(&mut self) {
        // Only "default" is restored: ignore needs nothing, and a handler cannot be re-installed
        // through `System` (marsh installs none for SIGTTOU).
        if self.old == Some(Disposition::Default) {
            let _ = self
                .sys
                .set_disposition(Signal::SIGTTOU, Disposition::Default);
        }
    }
}

/// The terminal lent to a job. See the module doc.
#[must_use = "dropping the handoff takes the terminal back at once"]
pub struct TtyHandoff<'a, S: System> {
    sys: &'a S,
    shell_pgid: Pgid,
    shell_modes: Option<&'a TtyModes>,
    job_stopped: bool,
    done: bool,
}

impl<'a, S: System> TtyHandoff<'a, S> {
    /// Starts a handoff for a shell whose process group is `shell_pgid` and whose modes (saved
    /// at startup or at the last prompt) are `shell_modes` (None: leave the modes alone).
    pub fn new(sys: &'a S, shell_pgid: Pgid, shell_modes: Option<&'a TtyModes>) -> Self {
        TtyHandoff {
            sys,
            shell_pgid,
            shell_modes,
            job_stopped: false,
            done: false,
        }
    }

    /// Gives the terminal to the job's group `pgid`, first restoring `job_modes` (the modes the
    /// job had when it stopped, for `fg`).
    ///
    /// Call it only once the group exists, i.e. after the parent's `setpgid` of the first
    /// member: `tcsetpgrp` to a group with no member fails with EPERM. The child does the same
    /// call itself ([`crate::job::child_setup`]), because either may run first after `fork`;
    /// doing it twice is harmless and closes the window in which ctrl-c would hit the shell.
    ///
    /// A job that has already ended (and whose group is gone) makes `tcsetpgrp` fail with
    /// EPERM or ESRCH: that is not an error, the wait that follows will see the end. Errors
    /// are returned after both steps were tried.
    pub fn to_job(&mut self, pgid: Pgid, job_modes: Option<&TtyModes>) -> SysResult<()> {
        // Modes first, while the shell still owns the terminal (no SIGTTOU question), and
        // before the job can run: for `fg` the job is continued only after this returns, so it
        // wakes up with the modes it had (an editor in raw mode stays in raw mode).
        // A failure to set them does not stop the handoff: the job needs the terminal anyway.
        let modes = job_modes.map_or(Ok(()), |m| self.sys.tcsetattr(m));
        let _ttou = IgnoreTtou::new(self.sys);
        match self.sys.tcsetpgrp(pgid) {
            Ok(()) | Err(Errno::EPERM) | Err(Errno::ESRCH) => modes,
            Err(e) => Err(e),
        }
    }

    /// Says the job stopped (rather than ended): [`TtyHandoff::reclaim`] then saves its modes.
    pub fn job_stopped(&mut self) {
        self.job_stopped = true;
    }

    /// Takes the terminal back for the shell and restores the shell's modes. Returns the job's
    /// modes when [`TtyHandoff::job_stopped`] was called, for the job table (so `fg` can restore
    /// them).
    pub fn reclaim(mut self) -> Option<TtyModes> {
        self.do_reclaim()
    }

    fn do_reclaim(&mut self) -> Option<TtyModes> {
        if self.done {
            return None;
        }
        self.done = true;
        // 1. Read the job's modes while they are still on the terminal: once the shell's modes
        //    are back they are lost. tcgetattr is allowed from the background.
        let job_modes = if self.job_stopped {
            self.sys.tcgetattr().ok()
        } else {
            None
        };
        // 2. Take the terminal back, however the job ended: a job killed by a signal leaves the
        //    terminal to a group with no process, and the shell's next read would fail (EIO) or
        //    stop it (SIGTTIN). The shell is still in the background here, so SIGTTOU must be
        //    ignored around the call or the kernel stops the shell.
        let _ttou = IgnoreTtou::new(self.sys);
        if self.sys.tcgetpgrp().ok().flatten() != Some(self.shell_pgid) {
            let _ = self.sys.tcsetpgrp(self.shell_pgid);
        }
        // 3. Only now, as the foreground group, put the shell's modes back (the job may have
        //    left the terminal raw or without echo). TCSADRAIN lets the job's output finish.
        if let Some(modes) = self.shell_modes {
            let _ = self.sys.tcsetattr(modes);
        }
        job_modes
    }
}

impl<S: System> Drop for TtyHandoff<'_, S> {
    fn drop(&mut self) {
        // An early return or a panic between handoff and reclaim must not leave the terminal
        // with a job: the shell could never read a line again.
        self.do_reclaim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::system::Pgid;
    use crate::job::system::VirtualSystem;
    use crate::job::system::r#virtual::SHELL_PGID;

    #[test]
    fn handoff_and_reclaim_without_stopping_the_shell() {
        let sys = VirtualSystem::new();
        let child = sys.new_child();
        let group = Pgid::led_by(child);
        sys.setpgid(child, group).unwrap();
        let shell_modes = VirtualSystem::modes_value(1);
        let mut h = TtyHandoff::new(&sys, SHELL_PGID, Some(&shell_modes));
        h.to_job(group, None).unwrap();
        assert_eq!(sys.foreground(), group);
        sys.set_modes(7); // the job changes the modes
        h.job_stopped();
        let saved = h.reclaim();
        assert_eq!(saved, Some(VirtualSystem::modes_value(7)));
        assert_eq!(sys.foreground(), SHELL_PGID);
        assert_eq!(sys.modes(), 1);
        assert_eq!(sys.ttou_violations(), 0);
        assert!(
            !sys.ignores(SHELL_PGID.leader(), Signal::SIGTTOU),
            "SIGTTOU disposition put back"
        );
    }

    #[test]
    fn drop_reclaims_even_when_the_group_is_gone() {
        let sys = VirtualSystem::new();
        let child = sys.new_child();
        sys.setpgid(child, Pgid::led_by(child)).unwrap();
        {
            let mut h = TtyHandoff::new(&sys, SHELL_PGID, None);
            h.to_job(Pgid::led_by(child), Some(&VirtualSystem::modes_value(5)))
                .unwrap();
            assert_eq!(sys.modes(), 5);
            sys.happen(crate::job::system::r#virtual::Event::Signal(
                child,
                Signal::SIGKILL,
            ));
        }
        assert_eq!(sys.foreground(), SHELL_PGID);
        assert_eq!(sys.ttou_violations(), 0);
    }
}

//! Observation: the terminal's foreground group, the session's processes, the output and the
//! screen.

use std::os::fd::AsFd;
use std::process::ExitStatus;

use super::{Session, strip_ansi};
use crate::pid::{Pgid, Pid};
use crate::procfs::{self, Proc};
use crate::pty;
use crate::teardown;

impl Session {
    /// The terminal's foreground process group.
    pub fn foreground(&self) -> Option<Pgid> {
        pty::foreground_pgrp(self.master.as_ref()?.as_fd())
    }

    /// Live processes of the session (by session id and by tag), shell included.
    pub fn processes(&self) -> Vec<Proc> {
        let mut v = teardown::live_session_procs(self.shell_pid, &self.tag);
        v.sort_by_key(|p| p.pid);
        v
    }

    /// Live processes of a process group.
    pub fn group(&self, pgid: Pgid) -> Vec<Proc> {
        procfs::procs_in_pgid(pgid)
            .into_iter()
            .filter(|p| !p.is_dead())
            .map(|p| procfs::read(p.pid).unwrap_or(p))
            .collect()
    }

    /// All output so far (exact bytes).
    pub fn output(&self) -> Vec<u8> {
        self.shared.lock().output.clone()
    }

    /// Output since the mark, escape sequences removed, `\r` dropped.
    pub fn output_since_mark(&self) -> String {
        let out = self.shared.lock().output[self.mark..].to_vec();
        strip_ansi(&out)
    }

    /// The rendered screen.
    pub fn screen(&self) -> String {
        self.shared.lock().screen.contents()
    }

    /// Output offset of the mark (just past the last match of a wait, or where a line was typed).
    pub fn mark(&self) -> usize {
        self.mark
    }

    /// Move the mark to the end of the output so far.
    pub fn set_mark(&mut self) {
        self.mark = self.shared.lock().output.len();
    }

    /// The shell's exit status, if it has exited (reaps it).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Declare a process as allowed to outlive the checks (e.g. an intentional survivor).
    pub fn declare(&mut self, pid: Pid) {
        self.declared.push(pid);
    }
}

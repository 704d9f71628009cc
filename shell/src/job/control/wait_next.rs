//! `wait -n [ID...]`: waits for the next of some background jobs to finish (bash's
//! `wait_for_any_job`).
//!
//! Which job counts, in this order:
//! 1. a candidate that already finished but was not reported yet (no `Done` notice shown, not
//!    waited for): the lowest-numbered one, at once. One already reported has left the table
//!    and is no candidate;
//! 2. otherwise the first candidate to finish from now on.
//!
//! A stopped job never counts as finished, and is not waited for: when no candidate is left
//! running in the background (none at all, or only stopped ones), `wait -n` returns
//! [`WaitOutcome::NoJob`] at once (bash's 127) instead of blocking on jobs that cannot end.
//! The job that counts leaves the table without a notice, as `wait %N` does.

use super::{JobControl, JobError, WaitFor, WaitOutcome, sys_err};
use crate::job::system::{Errno, System, WaitStatus, WaitTarget};
use crate::job::{JobNumber, ProcessState};

impl<S: System> JobControl<S> {
    /// `wait -n [targets]` (module doc). No targets: every background job is a candidate.
    /// `interrupted` is asked as [`JobControl::wait`] asks it (ctrl-c).
    pub fn wait_next(
        &mut self,
        targets: &[WaitFor],
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<WaitOutcome, JobError> {
        let candidates = self.candidates(targets)?;
        loop {
            if let Some(n) = self.finished_among(candidates.as_deref()) {
                let status = self
                    .table
                    .get(n)
                    .and_then(|j| j.state().halt())
                    .map_or(0, |h| h.status());
                let _ = self.table.take_report(n);
                return Ok(WaitOutcome::Done(status));
            }
            if !self.any_running(candidates.as_deref()) {
                return Ok(WaitOutcome::NoJob);
            }
            // As in `wait`: a ctrl-c caught before the call blocks interrupts no system call.
            if interrupted() {
                return Ok(WaitOutcome::Interrupted);
            }
            match self.sys.waitpid(WaitTarget::Any, true) {
                Ok(status) => {
                    // A child of no job (a disowned one) is reaped here and forgotten.
                    self.table.update(status);
                }
                Err(Errno::EINTR) => {
                    if interrupted() {
                        return Ok(WaitOutcome::Interrupted);
                    }
                }
                Err(Errno::ECHILD) => self.reaped_elsewhere(candidates.as_deref()),
                Err(e) => return Err(sys_err("waitpid")(e)),
            }
        }
    }

    /// The jobs `targets` name, or None for every background job.
    fn candidates(&self, targets: &[WaitFor]) -> Result<Option<Vec<JobNumber>>, JobError> {
        if targets.is_empty() {
            return Ok(None);
        }
        targets
            .iter()
            .map(|t| match t {
                WaitFor::Background => unreachable!("`wait -n` takes only job or pid targets"),
                WaitFor::Job(spec) => self.resolve("wait", spec),
                WaitFor::Process(pid) => self.table.find_pid(*pid).ok_or(JobError::NotAChild(*pid)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Whether job `n` is one `wait -n` looks at: a candidate, and not the foreground job.
    fn considered(&self, candidates: Option<&[JobNumber]>, n: JobNumber) -> bool {
        candidates.is_none_or(|c| c.contains(&n))
            && self.table.get(n).is_some_and(|j| !j.is_foreground())
    }

    fn finished_among(&self, candidates: Option<&[JobNumber]>) -> Option<JobNumber> {
        self.table
            .iter()
            .filter(|j| j.state().is_finished() && !j.is_reported())
            .map(|j| j.number())
            .find(|&n| self.considered(candidates, n))
    }

    fn any_running(&self, candidates: Option<&[JobNumber]>) -> bool {
        self.table
            .iter()
            .filter(|j| j.state() == ProcessState::Running)
            .any(|j| self.considered(candidates, j.number()))
    }

    /// No child is left while candidates are marked running: someone else reaped them. They
    /// are taken as exited with 0 rather than waited for forever (as `wait` does).
    fn reaped_elsewhere(&mut self, candidates: Option<&[JobNumber]>) {
        let running: Vec<_> = self
            .table
            .iter()
            .filter(|j| self.considered(candidates, j.number()))
            .flat_map(|j| j.processes())
            .filter(|p| p.state() == ProcessState::Running)
            .map(|p| p.pid())
            .collect();
        for pid in running {
            self.table.update(WaitStatus::Exited(pid, 0));
        }
    }
}

//! `disown`: the shell forgets a job without signalling it.
//!
//! A disowned job leaves the table at once, whatever its state: `jobs` no longer lists it, its
//! end is never reported, `exit` does not warn about it and does not send it SIGHUP
//! ([`JobControl::hangup_all`] goes through the table). It keeps its process group and the
//! terminal's foreground stays with the shell. A stopped job stays stopped (bash's rule): the
//! caller warns, with the group to continue by `kill -CONT -PGID`.

use super::{JobControl, JobError};
use crate::job::id::Spec;
use crate::job::system::{Pgid, System};
use crate::job::{Job, JobNumber};

/// A job `disown` took out of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disowned {
    pub number: JobNumber,
    pub pgid: Pgid,
    /// It was stopped, and stays so.
    pub stopped: bool,
    /// It had already finished (its end not yet reported).
    pub finished: bool,
}

impl<S: System> JobControl<S> {
    /// `disown [spec]`: takes the job `spec` names out of the table, once `check` (what the
    /// caller knows of the job beyond the table) agrees.
    pub fn disown<E: From<JobError>>(
        &mut self,
        spec: &Spec,
        check: impl FnOnce(&Job) -> Result<(), E>,
    ) -> Result<Disowned, E> {
        let n = self.resolve("disown", spec)?;
        let job = self.table.get(n).ok_or(JobError::Gone(n))?;
        check(job)?;
        let job = self.table.remove(n).ok_or(JobError::Gone(n))?;
        Ok(Disowned {
            number: n,
            pgid: job.pgid(),
            stopped: job.state().is_stopped(),
            finished: job.state().is_finished(),
        })
    }

    /// Every job in the table, for `disown -a`, as specs of their numbers.
    pub fn all_jobs(&self) -> Vec<Spec> {
        self.table
            .iter()
            .map(|j| Spec::parse(&format!("%{}", j.number())))
            .collect()
    }
}

//! `disown`, as the shell sees it: besides the table ([`JobControl::disown`]), a disowned job
//! leaves what the shell keeps for its end, and its group is no longer hung up when the shell
//! is killed.
//!
//! Only a job of programs is disowned. A job that marsh runs itself (a pipeline with ops, a
//! group or loop) is refused with one line: its marsh process dies with the shell (see "Leaders
//! never outlive the shell"), so disowning it would promise a survival that cannot happen; and
//! a store such a job makes commits only when the shell sees it end, which a disowned job never
//! is, so it could neither commit nor roll back its file. A job that already finished is taken
//! out of the table whatever it ran: its store is settled as for any finished job.
//!
//! [`JobControl::disown`]: crate::job::JobControl::disown

use super::{Jobs, Runner};
use crate::job::{Disowned, JobError, JobNumber, Spec, System};

/// Why `disown` refused a job, or could not find it. Displays as the line the shell prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisownError {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(
        "disown: job {number} stores into {var}, which commits only when the shell sees it end; it cannot be disowned"
    )]
    PendingStore { number: JobNumber, var: String },
    #[error(
        "disown: job {number} runs in marsh itself, which ends with the shell; only a job of programs can be disowned"
    )]
    RunsMarsh { number: JobNumber },
}

impl<S: System> Jobs<S> {
    /// `disown [spec]` (module doc): forgets the job; returns what was disowned.
    pub fn disown(&mut self, spec: &Spec) -> Result<Disowned, DisownError> {
        let attached = &self.attached;
        let disowned = self.control.disown(spec, |job| {
            if job.state().is_finished() {
                return Ok(());
            }
            let pgid = job.pgid();
            let Some((_, entry)) = attached.range((pgid, 0)..=(pgid, u64::MAX)).next() else {
                return Ok(());
            };
            let number = job.number();
            if let Some(store) = &entry.store {
                return Err(DisownError::PendingStore {
                    number,
                    var: store.pending.var().to_string(),
                });
            }
            match entry.runner {
                Runner::Marsh => Err(DisownError::RunsMarsh { number }),
                Runner::Programs => Ok(()),
            }
        })?;
        // A finished job is settled by the next `settle`, which finds it by its group.
        if !disowned.finished && self.detach(disowned.pgid).is_some() {
            self.system().unregister_job_group(disowned.pgid);
        }
        Ok(disowned)
    }
}

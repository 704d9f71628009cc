//! The suite: what `jobcheck run` and `tests/scenarios.rs` do, as a library.
//!
//! Layers, each usable alone:
//! - [`plan()`]: the catalogue and the shells become a [`Plan`]: every (scenario, shell) pair,
//!   with its annotation and, for a pair that cannot run, the reason (N-I, shell missing,
//!   scenario meant for other shells). Shell names the catalogue uses are checked here.
//! - [`run_pair`]: one run of one pair, as a typed [`PairOutcome`] (passed, failed with a
//!   [`Failure`], or a snapshot with no accepted one); a failed run's asciicast is written to
//!   `ARTIFACTS/<pair>.rK.cast`, ending with a marker naming the failed step and the verdict.
//! - [`run`]: every runnable pair `repeat` times, up to `jobs` pairs at once, reporting each
//!   run to a callback in plan order, into the records [`crate::report`] renders (markdown
//!   matrix, JUnit). Each session has its own pty, process group, session directory and
//!   recording name, so concurrent pairs share nothing but the catalogue they read.
//!
//! Invariants: every pair of the plan is in the result exactly once, in plan order (unless
//! the process was interrupted: then [`run`] returns early and its result is no report); a pair
//! whose accepted snapshot is missing never passes (it is a "new snapshot") unless the run
//! accepts snapshots, which writes it to the catalogue's snapshot directory.

mod ordered;
mod plan;
mod run;

pub use plan::{Plan, PlanError, PlannedPair, PlannedShell, plan};
pub use run::{Config, PairOutcome, RunEvent, pair_result, run, run_pair};

use crate::session::Failure;

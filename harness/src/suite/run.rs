//! Running planned pairs: one run as a typed outcome, a whole plan into report records.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use super::ordered::{Output, ordered};
use super::{Failure, Plan, PlannedPair};
use crate::catalogue::Catalogue;
use crate::report::{Pair, RunResult};
use crate::scenario::{self, Verdict};
use crate::session::{Options, file_safe};

/// How to run a plan.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Runs of each pair (at least one).
    pub repeat: u32,
    /// Write snapshots that are new or differ to the catalogue's snapshot directory instead of
    /// failing.
    pub accept: bool,
    /// Directories put first on the sessions' `PATH` (where `jobprobe` is).
    pub path_prepend: Vec<PathBuf>,
    /// Where failed runs' recordings go.
    pub artifacts: PathBuf,
    /// Pairs run at once (0 and 1: one at a time); the reports do not depend on it.
    pub jobs: usize,
}

/// What one run of a pair gave.
#[derive(Clone, Debug)]
pub enum PairOutcome {
    /// Every step and check passed, and the snapshot (if any) is the accepted one.
    Passed,
    /// A step, a final check or the snapshot comparison failed.
    Failed(Box<Failure>),
    /// The steps passed but the pair has no accepted snapshot: a "new snapshot", which fails
    /// the run until it is accepted.
    NewSnapshot {
        /// The snapshot's name (`posix__stop-external@bash`).
        name: String,
        /// Why it was not written (`None`: not asked to).
        unwritten: Option<String>,
    },
    /// The steps passed and the snapshot taken was written as the accepted one.
    Accepted {
        /// The file written.
        path: PathBuf,
    },
}

impl PairOutcome {
    /// Whether this run counts as a pass.
    pub fn passed(&self) -> bool {
        matches!(self, PairOutcome::Passed | PairOutcome::Accepted { .. })
    }
}

/// Something that happened during [`run`], for progress output.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// A pair that is not run.
    Skipped {
        /// The pair.
        pair: &'a PlannedPair,
        /// Why.
        reason: &'a str,
    },
    /// One run of a pair finished.
    Ran {
        /// The pair.
        pair: &'a PlannedPair,
        /// Which run (1-based).
        run: u32,
        /// Of how many.
        of: u32,
        /// What it gave.
        outcome: &'a PairOutcome,
        /// How long it took.
        millis: f64,
    },
}

/// Run 1-based run `k` of `pair`: its steps, the final checks, then its snapshot against the
/// accepted one. A failed run's recording goes to `ARTIFACTS/<pair>.rK.cast`.
pub fn run_pair(
    plan: &Plan,
    pair: &PlannedPair,
    catalogue: &Catalogue,
    cfg: &Config,
    k: u32,
) -> PairOutcome {
    let scn = plan.scenario(pair);
    let adapter = plan.adapter(pair);
    let snap = scenario::snapshot_name(scn, &adapter.name);
    let opts = Options {
        path_prepend: cfg.path_prepend.clone(),
        name: format!("{snap}.r{k}"),
        record_failures: false,
        ..Options::default()
    };
    let steps = scn.steps_for(&adapter.name);
    match scenario::run_steps(scn, &steps, adapter, opts) {
        Err(mut f) => {
            let path = cfg
                .artifacts
                .join(format!("{}.r{k}.cast", file_safe(&snap)));
            let _ = f.write_recording(&path, verdict_word(pair));
            PairOutcome::Failed(Box::new(f))
        }
        Ok(o) => match o.snapshot {
            None => PairOutcome::Passed,
            Some(text) => compare_snapshot(scn, &snap, &text, catalogue, cfg.accept),
        },
    }
}

/// The verdict a recording's marker names: `FAIL`, or `BUG (known)` for an annotated bug.
fn verdict_word(pair: &PlannedPair) -> &'static str {
    match pair.annotation.as_ref().map(|a| a.verdict) {
        Some(Verdict::Bug) => "BUG (known)",
        _ => "FAIL",
    }
}

/// The snapshot taken (`text`) against the accepted one named `name`.
fn compare_snapshot(
    scn: &scenario::Scenario,
    name: &str,
    text: &str,
    catalogue: &Catalogue,
    accept: bool,
) -> PairOutcome {
    let got = scenario::filter_snapshot(text);
    let want = catalogue.accepted_snapshot(name);
    if want.as_deref().map(str::trim_end) == Some(got.trim_end()) {
        return PairOutcome::Passed;
    }
    if accept {
        return match catalogue.accept_snapshot(scn, name, &got) {
            Ok(path) => PairOutcome::Accepted { path },
            Err(e) => PairOutcome::NewSnapshot {
                name: name.to_string(),
                unwritten: Some(e.to_string()),
            },
        };
    }
    match want {
        None => PairOutcome::NewSnapshot {
            name: name.to_string(),
            unwritten: None,
        },
        Some(want) => PairOutcome::Failed(Box::new(
            Failure::plain(format!(
                "expected the screens to match the accepted snapshot {name}, but they differ"
            ))
            .with_detail(snapshot_diff(&want, &got)),
        )),
    }
}

/// The differences between the accepted snapshot and the one taken, as a unified diff.
fn snapshot_diff(want: &str, got: &str) -> String {
    let (want, got) = (
        format!("{}\n", want.trim_end()),
        format!("{}\n", got.trim_end()),
    );
    similar::TextDiff::from_lines(&want, &got)
        .unified_diff()
        .header("accepted", "taken")
        .to_string()
}

/// The report record of one run.
pub fn pair_result(outcome: &PairOutcome, millis: f64) -> RunResult {
    let failure = match outcome {
        PairOutcome::Passed | PairOutcome::Accepted { .. } => None,
        PairOutcome::Failed(f) => Some(f.to_string()),
        PairOutcome::NewSnapshot { name, unwritten } => Some(match unwritten {
            None => format!("new snapshot {name}: no accepted snapshot (accept it with --accept)"),
            Some(why) => format!("new snapshot {name}: not written: {why}"),
        }),
    };
    RunResult {
        passed: outcome.passed(),
        millis,
        failure,
        new_snapshot: matches!(outcome, PairOutcome::NewSnapshot { .. }),
        evidence: match outcome {
            PairOutcome::Failed(f) => Some(f.clone()),
            _ => None,
        },
    }
}

/// Run every runnable pair of `plan` `cfg.repeat` times, up to `cfg.jobs` pairs at once,
/// telling `progress` about each run in plan order (as a serial run would); the records for
/// the reports, one per pair in plan order. The runs of one pair are never concurrent. Once
/// the process is interrupted ([`crate::interrupt`]) it reports nothing more and returns what
/// it has, short of the plan.
pub fn run(
    plan: &Plan,
    catalogue: &Catalogue,
    cfg: &Config,
    mut progress: impl FnMut(RunEvent<'_>),
) -> Vec<Pair> {
    let of = cfg.repeat.max(1);
    let mut pairs: Vec<Pair> = Vec::new();
    let work = |i: usize, sink: &mut dyn FnMut(Timed)| {
        let pair = &plan.pairs[i];
        if pair.skip.is_some() {
            return;
        }
        for k in 1..=of {
            if crate::interrupt::interrupted().is_some() {
                return;
            }
            let t = Instant::now();
            let outcome = run_pair(plan, pair, catalogue, cfg, k);
            let millis = t.elapsed().as_secs_f64() * 1000.0;
            sink(Timed { outcome, millis });
        }
    };
    ordered(plan.pairs.len(), cfg.jobs, work, |i, out| {
        // The interruption may have killed a run's session: its outcome is not one.
        if crate::interrupt::interrupted().is_some() {
            return ControlFlow::Break(());
        }
        let pair = &plan.pairs[i];
        if pairs.len() == i {
            pairs.push(empty_record(plan, pair));
            if let Some(reason) = &pair.skip {
                progress(RunEvent::Skipped { pair, reason });
            }
        }
        if let Output::Result(Timed { outcome, millis }) = out {
            let record = pairs.last_mut().expect("pushed above");
            record.runs.push(pair_result(&outcome, millis));
            progress(RunEvent::Ran {
                pair,
                run: record.runs.len() as u32,
                of,
                outcome: &outcome,
                millis,
            });
        }
        ControlFlow::Continue(())
    });
    pairs
}

/// One run's outcome and how long it took.
struct Timed {
    outcome: PairOutcome,
    millis: f64,
}

/// The report record of `pair` before any run.
fn empty_record(plan: &Plan, pair: &PlannedPair) -> Pair {
    Pair {
        scenario: plan.scenario(pair).name.clone(),
        shell: plan.adapter(pair).name.clone(),
        verdict: pair
            .annotation
            .as_ref()
            .map(|a| (a.verdict, a.reason.clone())),
        skipped: pair.skip.clone(),
        runs: Vec::new(),
    }
}

//! Progress of long runs: `jobcheck run`'s output (one live line on a terminal, the plain
//! one-line-per-pair log elsewhere) and a periodic line for soaks ([`Ticker`]).
//!
//! Invariants:
//! - [`Style::Plain`] prints exactly the lines it is given, in order, to stdout, and nothing
//!   else: CI logs and scripts reading them see the same text with or without this module.
//! - [`Style::Live`] draws one line (pairs done / total, failing pairs so far, elapsed, an
//!   estimate) through `indicatif` on stdout, which is a terminal; the lines of failing runs
//!   (every line with `verbose`) are printed above it, and it is cleared when the run ends.
//! - A pair is counted failing once, when a run of it fails and it is not a known bug.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scenario::Verdict;
use crate::suite::{Plan, RunEvent};

/// How `jobcheck run` reports as it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// One line per skipped pair and per run (a failure's report after its line).
    Plain,
    /// A live progress line; per-run lines too when `verbose`.
    Live {
        /// Print every run's line above the progress line, not only failures'.
        verbose: bool,
    },
}

impl Style {
    /// [`Style::Live`] when stdout is a terminal, else [`Style::Plain`].
    pub fn for_stdout(verbose: bool) -> Style {
        if std::io::stdout().is_terminal() {
            Style::Live { verbose }
        } else {
            Style::Plain
        }
    }
}

/// The progress of one `jobcheck run`: feed it every [`RunEvent`] with its plain line.
pub struct RunProgress {
    style: Style,
    bar: Option<ProgressBar>,
    pairs_total: usize,
    pairs_done: usize,
    /// Plan indexes of the pairs counted failing.
    failing: Vec<usize>,
}

impl RunProgress {
    /// Progress of running `plan` `repeat` times per pair.
    pub fn new(plan: &Plan, repeat: u32, style: Style) -> RunProgress {
        let runs = plan.pairs.iter().filter(|p| p.skip.is_none()).count() as u64
            * u64::from(repeat.max(1));
        let bar = matches!(style, Style::Live { .. }).then(|| {
            let bar = ProgressBar::with_draw_target(Some(runs), ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {msg}, about {eta} left",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        let p = RunProgress {
            style,
            bar,
            pairs_total: plan.pairs.len(),
            pairs_done: 0,
            failing: Vec::new(),
        };
        p.redraw();
        p
    }

    /// Account for `event`, whose plain output is `line`.
    pub fn event(&mut self, plan: &Plan, event: &RunEvent<'_>, line: &str) {
        let (pair, failed, last) = match event {
            RunEvent::Skipped { pair, .. } => (*pair, false, true),
            RunEvent::Ran {
                pair,
                run,
                of,
                outcome,
                ..
            } => (*pair, !outcome.passed(), run == of),
        };
        let known_bug = pair
            .annotation
            .as_ref()
            .is_some_and(|a| a.verdict == Verdict::Bug);
        let counts_failing = failed && !known_bug;
        if counts_failing {
            let index = plan.pairs.iter().position(|p| std::ptr::eq(p, pair));
            if let Some(i) = index.filter(|i| !self.failing.contains(i)) {
                self.failing.push(i);
            }
        }
        if last {
            self.pairs_done += 1;
        }
        match (&self.bar, self.style) {
            (None, _) => println!("{line}"),
            (Some(bar), Style::Live { verbose: true }) => bar.println(line),
            (Some(bar), _) if counts_failing => {
                // The run's line and its sentence; the whole report is in the reports.
                let head: Vec<&str> = line.lines().take(2).collect();
                bar.println(head.join("\n"));
            }
            _ => {}
        }
        if matches!(event, RunEvent::Ran { .. })
            && let Some(bar) = &self.bar
        {
            bar.inc(1);
        }
        self.redraw();
    }

    /// Pairs counted failing so far.
    pub fn failing(&self) -> usize {
        self.failing.len()
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{}/{} pairs, {} failing",
                self.pairs_done,
                self.pairs_total,
                self.failing.len()
            ));
        }
    }

    /// Clear the live line (the run is over).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A soak's progress: a line on stderr at most every [`Ticker::EVERY`] (`what: done/total
/// (p%), elapsed, about N s left`), so a run of many minutes shows how far along it is.
/// Shared by reference (`tick` takes `&self`), as in a proptest closure.
pub struct Ticker {
    what: String,
    total: u64,
    started: Instant,
    state: Mutex<(u64, Instant)>,
}

impl Ticker {
    /// The most time between two lines.
    pub const EVERY: Duration = Duration::from_secs(5);

    /// A ticker for `total` steps of `what`.
    pub fn new(what: impl Into<String>, total: u64) -> Ticker {
        let now = Instant::now();
        Ticker {
            what: what.into(),
            total,
            started: now,
            state: Mutex::new((0, now)),
        }
    }

    /// One more step done; prints the line when [`Ticker::EVERY`] has passed since the last.
    pub fn tick(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.0 += 1;
        if st.1.elapsed() >= Self::EVERY {
            st.1 = Instant::now();
            eprintln!("{}", self.line(st.0, self.started.elapsed()));
        }
    }

    /// The line after `done` steps in `elapsed`.
    pub fn line(&self, done: u64, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let pct = if self.total == 0 {
            100.0
        } else {
            100.0 * done as f64 / self.total as f64
        };
        let left = if done == 0 || done >= self.total {
            String::new()
        } else {
            let rest = secs / done as f64 * (self.total - done) as f64;
            format!(", about {rest:.0} s left")
        };
        format!(
            "{}: {done}/{} ({pct:.0}%), {secs:.0} s{left}",
            self.what, self.total
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticker_line_gives_count_share_elapsed_and_estimate() {
        let t = Ticker::new("stress ^C", 1000);
        assert_eq!(
            t.line(250, Duration::from_secs(10)),
            "stress ^C: 250/1000 (25%), 10 s, about 30 s left"
        );
        assert_eq!(
            t.line(1000, Duration::from_secs(40)),
            "stress ^C: 1000/1000 (100%), 40 s"
        );
        assert_eq!(t.line(0, Duration::ZERO), "stress ^C: 0/1000 (0%), 0 s");
    }
}

//! Deadlines and bounded polling.
//!
//! Invariants: nothing here sleeps to *synchronise*; [`poll_until`] re-checks a condition at most
//! [`POLL_INTERVAL`] apart and gives up at its deadline, for the facts the kernel does not announce
//! (a process stopped or exec'd, the foreground group changed).

use std::time::{Duration, Instant};

/// Upper bound between two checks of a polled condition.
pub const POLL_INTERVAL: Duration = Duration::from_micros(500);

/// Default deadline of a wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A point in time by which a wait must succeed.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    /// `timeout` from now.
    #[must_use]
    pub fn after(timeout: Duration) -> Deadline {
        Deadline(Instant::now() + timeout)
    }
    /// Time left (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
    /// Whether the deadline has passed.
    pub fn passed(&self) -> bool {
        Instant::now() >= self.0
    }
}

/// Check `cond` every [`POLL_INTERVAL`] until it returns `Some`, or `None` at the deadline.
pub fn poll_until<T>(deadline: Deadline, mut cond: impl FnMut() -> Option<T>) -> Option<T> {
    loop {
        if let Some(v) = cond() {
            return Some(v);
        }
        if deadline.passed() {
            return None;
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline.remaining()));
    }
}

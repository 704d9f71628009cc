#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
//!
//! ## Modules
//!
//! One concept each:
//! - [`pty`]: the pty pair (close-on-exec master, window size, foreground group).
//! - [`reader`]: the always-running reader thread (event-driven, answers cursor queries).
//! - [`screen`]: the terminal model and the cursor-query detector.
//! - [`transcript`]: timestamped exact bytes, escaping, asciicast v2.
//! - [`pid`]: process and process-group ids as types.
//! - [`procfs`]: the process table from `/proc`.
//! - [`wait`]: deadlines and bounded polling.
//! - [`teardown`]: session tags, kill-by-group teardown, sweep of orphaned sessions.
//! - [`interrupt`]: SIGINT/SIGTERM/SIGHUP of a run tear down every live session, then exit.
//! - [`session`]: a shell under a pty (input, waits, observation, checks, failure reports).
//! - [`shells`]: shell adapters (built-in and TOML).
//! - [`catalogue`]: the scenarios and snapshots, compiled in or from a directory.
//! - [`overlay`]: expectation overlays (a shell project's annotations, step variants and
//!   snapshots, `--expectations FILE`).
//! - [`scenario`]: scenario files (parse, run one against one shell).
//! - [`suite`]: a suite run as a library: plan (pairs, skips), run (typed outcome per run,
//!   recordings), records for the reports; `jobcheck run` and `tests/scenarios.rs` are thin.
//! - [`report`]: reports of a suite run (markdown and HTML conformance matrix, JUnit XML).
//! - [`progress`]: progress of long runs (`jobcheck run`'s live line on a terminal, soaks'
//!   periodic line).
//! - [`mod@bench`]: measurements: ^C→prompt overhead against a raw poll loop, interactive
//!   latencies (`jobcheck latency`), many background jobs (`jobcheck many-jobs`).
//! - [`probe`]: the `jobprobe` helper program.

pub mod bench;
pub mod catalogue;
pub mod interrupt;
pub mod overlay;
pub mod pid;
pub mod probe;
pub mod procfs;
pub mod progress;
pub mod pty;
pub mod reader;
pub mod report;
pub mod scenario;
pub mod screen;
pub mod session;
pub mod shells;
pub mod suite;
pub mod teardown;
pub mod transcript;
pub mod wait;

pub use pid::{Pgid, Pid};
pub use procfs::{Proc, ProcState};
pub use session::{Failure, GroupState, Key, Options, Session};
pub use shells::{Adapter, JobEntry, JobState};

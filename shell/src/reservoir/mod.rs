//! Reservoirs: streams stored on disk (`P >$ x`, `P >>$ x`, `x <$`), committed atomically.
//!
//! - [`format`](mod@format): the binary file format of one segment file (header, items, footer);
//! - [`session`]: the per-shell session directory that holds the files, locked (`flock`) while
//!   the shell lives, removed when it ends, reaped by the next shell when it died;
//! - [`store`]: the commit protocol: a store writes a temporary file, and only the shell binds
//!   it, so a variable never holds a half-written stream.
//!
//! # What the shell calls
//!
//! | when | call |
//! |---|---|
//! | start | [`Session::open`] (reaps dead sessions; keep the `Session` for the shell's life) |
//! | `P >$ x`, `P >>$ x` starts | [`Session::begin_store`]`("x")` → [`PendingWrite`] |
//! | the writer (this process, a thread, or a forked child) | [`PendingWrite::writer`] → [`ReservoirWriter`]: `push` each item, then `finish` |
//! | P ran to its end | [`PendingWrite::commit_store`] / [`PendingWrite::commit_append`]`(old)` → new [`Reservoir`]; bind it, drop the old value |
//! | interrupted, killed, fatal error, write error | [`PendingWrite::rollback`] (or drop it) |
//! | `x <$ …` | [`Reservoir::reader`] → items as `Result<Value, ReadError>`; print an error as `x: {err}` |
//! | `env` | `reservoir.to_string()`: `reservoir 3 items, 31 bytes: /run/user/1000/marsh/4182-9f3c0a17d2e4b851/x.1.rsv` |
//! | exit | [`Session::close`] (or drop) |
//!
//! ```
//! use marsh::Value;
//! use marsh::reservoir::{ReadError, Session};
//!
//! let tmp = tempfile::tempdir().unwrap();
//! let session = Session::open_in(tmp.path()).unwrap(); // the shell: Session::open()
//!
//! // gen 3 >$ x
//! let pending = session.begin_store("x").unwrap();
//! let mut w = pending.writer().unwrap();
//! for i in 0..3 {
//!     w.push(&Value::Int(i)).unwrap();
//! }
//! w.finish().unwrap();
//! let mut x = pending.commit_store().unwrap();
//! assert_eq!(x.items(), 3);
//!
//! // gen 1000 >$ x, interrupted: roll back, x keeps its value
//! let pending = session.begin_store("x").unwrap();
//! let mut w = pending.writer().unwrap();
//! w.push(&Value::Int(7)).unwrap();
//! drop(w); // killed before finish
//! pending.rollback().unwrap();
//!
//! // gen 2 >>$ x
//! let pending = session.begin_store("x").unwrap();
//! let mut w = pending.writer().unwrap();
//! w.push(&Value::str("a")).unwrap();
//! w.push(&Value::str("b")).unwrap();
//! w.finish().unwrap();
//! x = pending.commit_append(Some(&x)).unwrap(); // the old value is dropped here
//!
//! // x <$
//! let items: Result<Vec<Value>, ReadError> = x.reader().collect();
//! assert_eq!(items.unwrap().len(), 5);
//! assert!(x.to_string().starts_with("reservoir 5 items, "));
//!
//! let dir = session.dir().to_path_buf();
//! session.close().unwrap();
//! assert!(!dir.exists());
//! ```
//!
//! # Speed (release build, 2-core machine under load from parallel builds, ext4)
//!
//! | work | time |
//! |---|---|
//! | store 10M ints (`begin_store`, 10M `push`, `finish`, `commit_store`) | 85–185 ms (fdatasync adds up to ~50 ms, within the noise) |
//! | read and count 10M ints through [`Reservoir::reader`] | 45–95 ms |
//! | first 3 items of a 10M-item reservoir | 20–60 µs |
//! | bytes per int | 1 for −64…63, 3 up to ±8191; `gen 10000000`: 4.89 (48.9 MB) |
//!
//! Reproduce with `cargo test --release -p marsh --lib speed_ -- --ignored --nocapture
//! --test-threads=1`.

pub mod format;
pub mod session;
pub mod store;

pub use format::{ReadError, ReservoirReader, ReservoirWriter};
pub use session::{Session, SessionError, runtime_base};
pub use store::{PendingWrite, Reservoir, ReservoirStream, StoreError};

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    #[test]
    fn the_shell_can_move_these_across_threads() {
        send_sync::<Session>();
        send_sync::<PendingWrite>();
        send_sync::<Reservoir>();
        send::<ReservoirStream>();
        send::<ReservoirWriter<std::fs::File>>();
    }
}

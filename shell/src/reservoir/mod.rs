//! Reservoirs: streams stored on disk (`P >$ x`, `P >>$ x`, `x <$`), committed atomically.
//!
//! - [`format`]: the binary file format (one segment file);
//! - [`session`]: the per-shell session directory that holds the files, locked while the shell
//!   lives, removed when it ends, reaped by the next shell when it died;
//! - [`store`]: the commit protocol: a store writes a temporary file, and only the shell binds it,
//!   so a variable never holds a half-written stream.

pub mod format;
pub mod session;
pub mod store;

pub use format::{ReadError, ReservoirReader, ReservoirWriter};
pub use session::{Session, SessionError};
pub use store::{PendingWrite, Reservoir, ReservoirStream, StoreError};

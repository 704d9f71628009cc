//! marsh: a stream shell. Pipelines of ops over streams of values, functions written inline,
//! variables that hold whole streams, host programs mixed in, and real job control.
//!
//! Layers, from the text a user types to the processes that run it:
//! - [`syntax`]: lexing and parsing a line into a [`syntax::ast::Command`], and printing it back;
//! - [`expr`]: compiling expressions and functions once into native closures;
//! - [`value`]: the items that flow through pipelines;
//! - [`ops`]: the built-in ops (`gen`, `map`, `red`, ...), each a push-driven stage;
//! - [`exec`]: building and running a pipeline, host programs included;
//! - [`reservoir`]: streams stored on disk, committed atomically by the shell;
//! - [`job`]: job control: the job table, job specs, `jobs` formatting, terminal handoff;
//! - [`interactive`]: line editing, history, completion and the numbered prompt;
//! - [`shell`]: the session: variables, `STATUS`, the builtins that change the shell itself.

pub mod cli;
pub mod exec;
pub mod expr;
pub mod interactive;
pub mod job;
pub mod ops;
pub mod reservoir;
pub mod shell;
pub mod syntax;
pub mod value;

pub use value::Value;

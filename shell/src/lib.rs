//! marsh: a stream shell. Pipelines of ops over streams of values, functions written inline,
//! variables that hold whole streams, host programs mixed in, and real job control.
//!
//! Layers, from the text a user types to the processes that run it:
//! - [`syntax`]: lexing and parsing a line into a [`syntax::ast::Command`], and printing it back;
//! - [`expr`]: compiling expressions and functions once into native closures;
//! - [`value`]: the items that flow through pipelines;
//! - [`ops`]: the built-in ops (`gen`, `map`, `red`, ...), each a push-driven stage;
//! - [`data`]: CSV, TSV and JSON files to values and back, for `read` and `write`;
//! - [`exec`]: building and running a pipeline, host programs included;
//! - [`reservoir`]: streams stored on disk, committed atomically by the shell;
//! - [`job`]: job control: the job table, job specs, `jobs` formatting, terminal handoff;
//! - [`interactive`]: line editing, history, completion and the numbered prompt;
//! - [`shell`]: the session: variables, `STATUS`, the builtins that change the shell itself.
//!
//! The operating system sits behind one trait, [`job::System`]: the job core, the shell's
//! bookkeeping of its jobs and the commits of their stores run on [`job::RealSystem`] in the
//! binary and on [`job::VirtualSystem`] in unit tests.
//!
//! # Example
//!
//! A session without a terminal runs each line in this process, as a script would:
//!
//! ```
//! use marsh::shell::vars::Var;
//! use marsh::shell::{Control, Shell};
//!
//! let mut shell = Shell::new();
//! assert_eq!(shell.run_line("gen 5 | map (x: x * 10) >$ tens"), Control::Continue);
//! assert_eq!(shell.status(), 0);
//! let Some(Var::Reservoir(tens)) = shell.vars.get("tens") else {
//!     panic!("tens holds a stream");
//! };
//! assert_eq!(tens.items(), 5);
//!
//! // Bad input: one clear line on stderr, STATUS 1, the shell stays up, `tens` is unchanged.
//! assert_eq!(shell.run_line("gen 3 | map (x: x +) >$ tens"), Control::Continue);
//! assert_eq!(shell.status(), 1);
//! assert!(matches!(shell.vars.get("tens"), Some(Var::Reservoir(r)) if r.items() == 5));
//! ```

pub mod cli;
pub mod data;
pub mod environ;
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

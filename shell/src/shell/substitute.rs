//! Command substitution: `$(P)` runs pipeline P in the shell and gives back its items.
//!
//! P runs as a script's pipeline does, in the shell's own process group: it is no job and
//! never gets the terminal. Its programs inherit the shell's dispositions, so ctrl-z (SIGTSTP)
//! and the terminal stops (SIGTTIN, SIGTTOU) leave them running, as in bash and dash, while
//! ctrl-c (SIGINT) ends them and, through [`Interrupted`], the whole line. A program's output
//! lines come back losslessly ([`crate::value::raw`]): bytes that are not UTF-8 pass unchanged.

use super::streams;
use super::vars::Vars;
use crate::exec::{self, Output};
use crate::ops::{Flow, OpError, Reporter, Sink};
use crate::syntax::ast::{Pipeline, Sink as AstSink};
use crate::value::Value;
use std::sync::{Arc, Mutex};

/// ctrl-c ended a substitution: the line it stands in does not run.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Why a substitution gave no items.
#[derive(Debug, thiserror::Error)]
pub enum SubstError {
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// P could not be built or started (already reported when it started to run).
    #[error(transparent)]
    Failed(#[from] OpError),
}

/// What a substitution's pipeline gave.
pub struct Captured {
    pub items: Vec<Value>,
    /// The pipeline's `STATUS`.
    pub status: i32,
}

/// Runs `p` (already expanded) and collects its items.
pub fn capture(vars: &Vars, p: &Pipeline) -> Result<Captured, SubstError> {
    let p = streams::normalize(p)?;
    let output = match &p.sink {
        None => None,
        Some(AstSink::File { path, append }) => Some(Output::File(
            exec::sinks::FileWriter::open_word(path, *append)?,
        )),
        Some(AstSink::Reservoir { .. }) => {
            return Err(OpError::new(
                "$(",
                "a substitution's items become words; it cannot store them with '>$'",
            )
            .into());
        }
    };
    let reporter = Reporter::new();
    let source = p
        .source
        .as_ref()
        .map(|s| streams::source(vars, s))
        .transpose()?;
    let pieces = exec::build(&p.stages, source.is_some(), vars, &reporter)?;
    let items = Arc::new(Mutex::new(Vec::new()));
    let output = output.unwrap_or_else(|| {
        Output::Sink(Box::new(Collector {
            items: Arc::clone(&items),
        }))
    });
    let outcome = exec::run(source, pieces, output, &reporter, exec::Runner::Shell);
    let sigint = 128 + crate::job::Signal::SIGINT as i32;
    if outcome.status == sigint || crate::expr::interrupted() {
        return Err(Interrupted.into());
    }
    let items = std::mem::take(&mut *items.lock().expect("not poisoned"));
    Ok(Captured {
        items,
        status: outcome.status,
    })
}

/// Keeps the items; gives up when ctrl-c arrives, so `$(gen 0)` can be interrupted.
struct Collector {
    items: Arc<Mutex<Vec<Value>>>,
}

impl Sink for Collector {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        if crate::expr::interrupted() {
            return Ok(Flow::Stop);
        }
        self.items.lock().expect("not poisoned").push(item);
        Ok(Flow::Continue)
    }

    fn finish(&mut self) -> Result<(), OpError> {
        Ok(())
    }
}

//! How a command ended, as the list or loop around it sees it.

use crate::job::{Halt, Signal};

/// What the commands after this one do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next command.
    Next,
    /// `break`: leave the innermost loop.
    Break,
    /// `continue`: the innermost loop's next round.
    Continue,
    /// A command was killed by ctrl-c (SIGINT) or a job stopped (ctrl-z): the rest of the
    /// line, loops included, is dropped (bash's rule).
    Abandon,
    /// `exit`: leave the shell with this status.
    Exit(i32),
}

impl Flow {
    /// After a foreground job that ended or stopped so.
    pub fn after(halt: Halt) -> Flow {
        match halt {
            Halt::Stopped(_)
            | Halt::Signaled {
                signal: Signal::SIGINT,
                ..
            } => Flow::Abandon,
            _ => Flow::Next,
        }
    }

    /// Whether the list goes on after this.
    pub fn goes_on(self) -> bool {
        self == Flow::Next
    }
}

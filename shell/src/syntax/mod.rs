//! From a line of text to a [`ast::Command`], and back.

pub mod ast;
mod lexer;
mod parser;
mod print;

pub use lexer::MAX_FD;
pub use parser::{KEYWORDS, is_identifier, parse_expr};

use std::fmt;

/// A line that does not parse: what was wrong, and where (a byte offset into the line).
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

impl ParseError {
    /// An error at byte `position`; control characters in `message` (it may quote what was
    /// typed) are escaped, so it stays one line.
    pub fn new(position: usize, message: impl Into<String>) -> ParseError {
        let message = message.into();
        ParseError {
            position,
            message: crate::ops::one_line(&message).into_owned(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "parse error at column {}: {}",
            self.position + 1,
            self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses one command line.
pub fn parse(line: &str) -> Result<ast::Command, ParseError> {
    parser::parse_command(line)
}

#[cfg(test)]
mod tests;

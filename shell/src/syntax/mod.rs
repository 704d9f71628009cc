//! From a line of text to a [`ast::Command`], and back.

pub mod ast;
mod lexer;
mod list;
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
    /// The text ended before the command did (an open brace, a trailing `|`, `&&`, `||` or
    /// `\\`): more lines can complete it.
    pub incomplete: bool,
}

impl ParseError {
    /// An error at byte `position`; control characters in `message` (it may quote what was
    /// typed) are escaped, so it stays one line.
    pub fn new(position: usize, message: impl Into<String>) -> ParseError {
        let message = message.into();
        ParseError {
            position,
            message: crate::ops::one_line(&message).into_owned(),
            incomplete: false,
        }
    }

    /// An error at the end of the text, which more lines could complete.
    pub fn incomplete(position: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            incomplete: true,
            ..ParseError::new(position, message)
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

/// Parses a command line (or several, joined by continuation): its lists, groups and loops.
pub fn parse_list(text: &str) -> Result<ast::List, ParseError> {
    list::parse_list(text)
}

/// Whether `text` is an unfinished command that more lines could complete (an open brace, a
/// trailing `|`, `&&`, `||` or `\`).
pub fn is_unfinished(text: &str) -> bool {
    parse_list(text).is_err_and(|e| e.incomplete)
}

/// Parses a line that holds one simple command, possibly ended by `&`.
pub fn parse(line: &str) -> Result<ast::Command, ParseError> {
    list::parse_simple_line(line)
}

#[cfg(test)]
mod tests;

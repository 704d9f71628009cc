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

/// Whether a script's next line belongs to `text`: it is unfinished (see [`is_unfinished`]),
/// or it is wrong while a brace it opens is still open. The lines up to that brace's close are
/// then part of the same broken command: run on their own, its `}` would be a second error
/// about the same mistake, and its body's commands would run outside the form they were in.
pub fn needs_more_lines(text: &str) -> bool {
    match parse_list(text) {
        Ok(_) => false,
        Err(e) => e.incomplete || opens_more_braces_than_it_closes(text),
    }
}

/// Whether `text` has a `{` keyword that no `}` keyword after it closes.
fn opens_more_braces_than_it_closes(text: &str) -> bool {
    let Ok(toks) = lexer::tokenize(text) else {
        return false;
    };
    let mut depth = 0usize;
    for (tok, _) in toks {
        match tok {
            lexer::Tok::LBrace => depth += 1,
            lexer::Tok::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth > 0
}

/// Parses a line that holds one simple command, possibly ended by `&`.
pub fn parse(line: &str) -> Result<ast::Command, ParseError> {
    list::parse_simple_line(line)
}

#[cfg(test)]
mod tests;

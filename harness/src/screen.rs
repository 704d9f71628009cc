//! The terminal model: a `vt100` parser fed with every output byte, and the detector of
//! cursor-position queries (`ESC [ 6 n`) that the reader answers from the model's cursor.
//!
//! Invariant: the model has processed exactly the bytes up to and including a query before the
//! query is answered, so the answer is the cursor position the program expects.

use std::num::NonZeroU16;

/// A terminal model plus a query detector that survives chunk boundaries.
pub struct Screen {
    parser: vt100::Parser,
    /// Progress through `ESC [ 6 n` (0..=3).
    cpr_state: u8,
}

impl Screen {
    /// A blank screen of the given size.
    pub fn new(rows: u16, cols: u16) -> Screen {
        let r = NonZeroU16::new(rows.max(1)).expect("nonzero");
        let c = NonZeroU16::new(cols.max(1)).expect("nonzero");
        Screen {
            parser: vt100::Parser::new(r, c, 0),
            cpr_state: 0,
        }
    }

    /// Feed output bytes; returns the answers (`ESC [ row ; col R`) owed for queries in them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut answers = Vec::new();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            self.cpr_state = match (self.cpr_state, b) {
                (_, 0x1b) => 1,
                (1, b'[') => 2,
                (2, b'6') => 3,
                (3, b'n') => {
                    self.parser.process(&bytes[start..=i]);
                    start = i + 1;
                    let (row, col) = self.parser.screen().cursor_position();
                    answers.push(format!("\x1b[{};{}R", row + 1, col + 1).into_bytes());
                    0
                }
                _ => 0,
            };
        }
        self.parser.process(&bytes[start..]);
        answers
    }

    /// The rendered screen as text, trailing blank lines removed.
    pub fn contents(&self) -> String {
        let text = self.parser.screen().contents();
        text.trim_end_matches('\n').to_string()
    }

    /// Cursor position (row, col), zero-based.
    pub fn cursor(&self) -> (u16, u16) {
        self.parser.screen().cursor_position()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_query_split_across_chunks() {
        let mut s = Screen::new(24, 80);
        assert!(s.feed(b"abc\x1b[").is_empty());
        let a = s.feed(b"6nxyz");
        assert_eq!(a, vec![b"\x1b[1;4R".to_vec()]);
        assert_eq!(s.contents(), "abcxyz");
    }
}

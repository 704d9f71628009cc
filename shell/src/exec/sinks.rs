//! Where a pipeline's stream ends: the terminal (or whatever stdout is), or a text file.

use crate::ops::io_reason;
use crate::ops::{Flow, OpError, Sink};
use crate::value::Value;
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Write};

/// Prints each item on its own line to stdout.
///
/// Output is buffered; with `flush_each` (stdout is a terminal, or the stream is live like
/// `timer`), every line is flushed as it is printed. A reader that went away (EPIPE) stops the
/// stream quietly, as `head` does.
pub struct Printer {
    out: BufWriter<std::io::Stdout>,
    flush_each: bool,
}

impl Printer {
    pub fn new(flush_each: bool) -> Printer {
        Printer {
            out: BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            flush_each,
        }
    }

    fn check(&self, r: std::io::Result<()>) -> Result<Flow, OpError> {
        match r {
            Ok(()) => Ok(Flow::Continue),
            Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(Flow::Stop),
            Err(e) => Err(OpError::new(
                "",
                format!("writing output: {}", io_reason(&e)),
            )),
        }
    }
}

impl Sink for Printer {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        let mut r = write_item(&mut self.out, &item);
        if r.is_ok() && self.flush_each {
            r = self.out.flush();
        }
        self.check(r)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        let r = self.out.flush();
        self.check(r).map(|_| ())
    }
}

/// One item and a newline; ints take a fast path that skips the formatting machinery, and a
/// string gives back the bytes it holds (see [`crate::value::raw`]).
pub fn write_item(out: &mut impl Write, item: &Value) -> std::io::Result<()> {
    match item {
        Value::Int(i) => {
            let mut buf = [0u8; 21];
            let text = format_int(*i, &mut buf);
            out.write_all(text)?;
            out.write_all(b"\n")
        }
        Value::Str(s) => {
            out.write_all(&crate::value::raw::encode(s))?;
            out.write_all(b"\n")
        }
        other => writeln!(out, "{other}"),
    }
}

/// Decimal digits of `i`, written into the end of `buf`.
fn format_int(i: i64, buf: &mut [u8; 21]) -> &[u8] {
    let mut n = i.unsigned_abs();
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

/// `> path` and `>> path`: one line per item.
pub struct FileWriter {
    path: String,
    out: BufWriter<File>,
}

impl FileWriter {
    pub fn open(path: &str, append: bool) -> Result<FileWriter, OpError> {
        let op = if append { ">>" } else { ">" };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| OpError::new(op, format!("{path}: {}", io_reason(&e))))?;
        Ok(FileWriter {
            path: path.to_string(),
            out: BufWriter::with_capacity(64 * 1024, file),
        })
    }

    /// Opens the file a `> word` names (`~` and `$NAME` expanded unless quoted).
    pub fn open_word(path: &crate::syntax::ast::Word, append: bool) -> Result<FileWriter, OpError> {
        let op = if append { ">>" } else { ">" };
        let path = super::redirect::path_of(path).map_err(|e| OpError::new(op, e.to_string()))?;
        FileWriter::open(&path, append)
    }

    /// The file itself, for a program that writes its bytes into it directly.
    pub fn raw(&self) -> Result<File, OpError> {
        self.out
            .get_ref()
            .try_clone()
            .map_err(|e| OpError::new(">", format!("{}: {}", self.path, io_reason(&e))))
    }
}

impl Sink for FileWriter {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        write_item(&mut self.out, &item)
            .map_err(|e| OpError::new(">", format!("{}: {}", self.path, io_reason(&e))))?;
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.out
            .flush()
            .map_err(|e| OpError::new(">", format!("{}: {}", self.path, io_reason(&e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_format_like_display() {
        for i in [0, 7, -7, 10, 12345, i64::MAX, i64::MIN] {
            let mut buf = [0u8; 21];
            assert_eq!(format_int(i, &mut buf), i.to_string().as_bytes());
        }
    }
}

//! Structured data in files: CSV and TSV records, JSON documents and JSON lines, read into
//! values and written back from them (`read` and `write`).
//!
//! Parsing and quoting are the `csv` and `serde_json` crates'. What this module adds is the
//! mapping between their data and marsh's values, which is fixed here:
//!
//! - CSV and TSV fields are strings (as Python's `csv` module gives them) unless the reader is
//!   asked for numbers, when a field that is an integer or a decimal number becomes an `int` or
//!   a `float`. A record is a tuple, or with a header a dict from the header's names.
//! - JSON keeps its types: `null` → `none`, booleans, integers that fit 64 bits → `int`, other
//!   numbers → `float`, strings, arrays → lists, objects → dicts in the order written.
//! - Strings keep the bytes they came from ([`crate::value::raw`]): a CSV field that is not
//!   UTF-8 reads and writes back unchanged; JSON, which is UTF-8 by definition, refuses it.

pub mod csv;
pub mod json;
pub mod template;

use std::path::Path;

/// A file format of `read` and `write`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Lines of text, one string each (the default).
    Lines,
    Csv,
    Tsv,
    /// One JSON document per file.
    Json,
    /// One JSON document per line.
    Jsonl,
}

impl Format {
    /// The format a flag names (`--csv`), if it names one.
    pub fn from_flag(flag: &str) -> Option<Format> {
        Some(match flag {
            "--csv" => Format::Csv,
            "--tsv" => Format::Tsv,
            "--json" => Format::Json,
            "--jsonl" => Format::Jsonl,
            _ => return None,
        })
    }

    /// The field delimiter of a record format.
    pub fn delimiter(self) -> Option<u8> {
        match self {
            Format::Csv => Some(b','),
            Format::Tsv => Some(b'\t'),
            _ => None,
        }
    }
}

/// Why a file could not be read: where, and what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Malformed content: `FILE:LINE:COLUMN: message`, both counted from 1.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    /// The file could not be opened or read.
    #[error("{file}: {reason}")]
    Io { file: String, reason: String },
}

impl ReadError {
    pub fn io(path: &Path, e: &std::io::Error) -> ReadError {
        ReadError::io_in(&path.display().to_string(), e)
    }

    /// An I/O error reading `source` (a file's name, or what names another input).
    pub fn io_in(source: &str, e: &std::io::Error) -> ReadError {
        ReadError::Io {
            file: source.to_string(),
            reason: crate::ops::io_reason(e),
        }
    }
}

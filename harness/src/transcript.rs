//! The timestamped transcript of a session: exact bytes in both directions, plus notes.
//!
//! Invariants: output events hold the bytes exactly as read from the master, in order; input
//! events hold exactly what was written; timestamps are monotonic from the session's start.

use std::fmt::Write as _;
use std::time::Duration;

/// Direction of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Read from the master (what the terminal showed).
    Out,
    /// Written to the master (typed keys, cursor-position answers).
    In,
    /// Something the harness did that is not bytes: a signal sent, a wait started.
    Note,
}

/// One event.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Event {
    /// Time since the session started (serialized as seconds).
    #[serde(serialize_with = "seconds")]
    pub t: Duration,
    /// Direction (or a note).
    pub kind: Kind,
    /// The bytes (a note's text for [`Kind::Note`]); serialized escaped, as [`escape`] writes.
    #[serde(serialize_with = "escaped")]
    pub bytes: Vec<u8>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn escaped<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&escape(b))
}

/// Escape bytes for a log line: printable ASCII as is, the rest as `\r`, `\n`, `^C`, `\x1b`, …
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x1b => s.push_str("\\e"),
            0x20..=0x7e => s.push(b as char),
            0x01..=0x1a => {
                let _ = write!(s, "^{}", (b + b'@') as char);
            }
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// The last `n` events, one per line, with timestamps in milliseconds.
pub fn format_tail(events: &[Event], n: usize) -> String {
    let mut s = String::new();
    let start = events.len().saturating_sub(n);
    if start > 0 {
        let _ = writeln!(s, "  … {start} earlier events");
    }
    for e in &events[start..] {
        let tag = match e.kind {
            Kind::Out => "out ",
            Kind::In => "in  ",
            Kind::Note => "note",
        };
        let body = match e.kind {
            Kind::Note => String::from_utf8_lossy(&e.bytes).into_owned(),
            _ => format!("\"{}\"", escape(&e.bytes)),
        };
        let _ = writeln!(s, "  {:>10.3} ms {tag} {body}", e.t.as_secs_f64() * 1000.0);
    }
    s
}

/// Render an asciicast v2 recording (header line, then one JSON array per event).
pub fn asciicast(events: &[Event], rows: u16, cols: u16, term: &str, title: &str) -> String {
    let header = serde_json::json!({
        "version": 2,
        "width": cols,
        "height": rows,
        "title": title,
        "env": { "TERM": term },
    });
    let mut s = header.to_string();
    s.push('\n');
    for e in events {
        let code = match e.kind {
            Kind::Out => "o",
            Kind::In => "i",
            Kind::Note => "m",
        };
        let line = serde_json::json!([e.t.as_secs_f64(), code, String::from_utf8_lossy(&e.bytes)]);
        s.push_str(&line.to_string());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls() {
        assert_eq!(escape(b"a\x03\r\n\x1b[6n\xff"), "a^C\\r\\n\\e[6n\\xff");
    }

    #[test]
    fn asciicast_has_header_and_events() {
        let ev = vec![Event {
            t: Duration::from_millis(5),
            kind: Kind::Out,
            bytes: b"hi".to_vec(),
        }];
        let cast = asciicast(&ev, 24, 80, "dumb", "t");
        let mut lines = cast.lines();
        let h: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(h["version"], 2);
        let e: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(e[1], "o");
        assert_eq!(e[2], "hi");
    }
}

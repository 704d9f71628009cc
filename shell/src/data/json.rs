//! JSON documents to values and back (see the module docs of [`super`] for the mapping).

use super::ReadError;
use crate::value::{Dict, Value, raw};
use serde_json::Value as Json;
use std::io::BufRead;
use std::io::Read;
use std::sync::Arc;

/// The value of a JSON document.
pub fn from_json(j: Json) -> Value {
    match j {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => text(&s),
        Json::Array(items) => Value::list(items.into_iter().map(from_json).collect()),
        Json::Object(map) => Value::dict(Dict::from_pairs(
            map.into_iter().map(|(k, v)| (text(&k), from_json(v))),
        )),
    }
}

/// A JSON string as a marsh string. Characters in the range that holds raw bytes are held as
/// the escapes of their own bytes, as a line holding them would be ([`raw::decode`]).
fn text(s: &str) -> Value {
    Value::Str(Arc::from(raw::decode(s.as_bytes())))
}

/// A value that JSON cannot hold.
#[derive(Debug, thiserror::Error)]
pub enum ToJsonError {
    #[error("{0} is not a JSON number")]
    NotFinite(f64),
    #[error("the string {0} holds bytes that are not UTF-8, which JSON cannot hold")]
    NotUtf8(String),
    #[error("a {0} cannot be a JSON object key (keys are str, int, float, bool or none)")]
    BadKey(&'static str),
}

/// The JSON of `v`: tuples and lists are arrays, dicts objects (int, float, bool and none keys
/// become their JSON text, as Python's `json` writes them), a file its path.
pub fn to_json(v: &Value) -> Result<Json, ToJsonError> {
    Ok(match v {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(x) => serde_json::Number::from_f64(*x)
            .map(Json::Number)
            .ok_or(ToJsonError::NotFinite(*x))?,
        Value::Str(s) => Json::String(utf8(s)?),
        Value::Tuple(items) | Value::List(items) => {
            Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Value::Dict(d) => {
            let mut map = serde_json::Map::with_capacity(d.len());
            for (k, v) in d.iter() {
                map.insert(key(k)?, to_json(v)?);
            }
            Json::Object(map)
        }
        Value::File(f) => Json::String(f.path.clone()),
    })
}

fn utf8(s: &str) -> Result<String, ToJsonError> {
    match raw::encode(s) {
        std::borrow::Cow::Borrowed(_) => Ok(s.to_string()),
        std::borrow::Cow::Owned(bytes) => {
            String::from_utf8(bytes).map_err(|_| ToJsonError::NotUtf8(Value::str(s).repr()))
        }
    }
}

fn key(k: &Value) -> Result<String, ToJsonError> {
    match k {
        Value::Str(s) => utf8(s),
        Value::None => Ok("null".into()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Int(_) | Value::Float(_) => match to_json(k)? {
            Json::Number(n) => Ok(n.to_string()),
            _ => unreachable!("numbers are JSON numbers"),
        },
        other => Err(ToJsonError::BadKey(other.type_name())),
    }
}

/// A serde_json error as `FILE:LINE:COLUMN: message`, `line` counted from `first_line`.
fn syntax(source: &str, e: &serde_json::Error, first_line: u64) -> ReadError {
    let text = e.to_string();
    // serde_json ends its message with " at line L column C", which the prefix already says.
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    ReadError::Syntax {
        file: source.to_string(),
        line: first_line + e.line().max(1) as u64 - 1,
        column: e.column().max(1) as u64,
        message,
    }
}

/// The items of a JSON document read to its end from `input`, named `source` in messages:
/// an array gives one item per element, anything else one item.
pub fn read_document_from(source: &str, mut input: impl Read) -> Result<Vec<Value>, ReadError> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::io_in(source, &e))?;
    document(source, &bytes)
}

fn document(source: &str, bytes: &[u8]) -> Result<Vec<Value>, ReadError> {
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| syntax(source, &e, 1))?;
    Ok(match doc {
        Json::Array(items) => items.into_iter().map(from_json).collect(),
        other => vec![from_json(other)],
    })
}

/// The items of JSON lines, one per line; blank lines are skipped.
pub struct JsonLines<R> {
    /// What names the input in messages: the file's name.
    source: String,
    reader: R,
    line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> JsonLines<R> {
    /// The values of the lines of `reader`, named `source` in messages.
    pub fn new(source: String, reader: R) -> Self {
        JsonLines {
            source,
            reader,
            line: 0,
            buf: Vec::new(),
        }
    }
}

impl<R: BufRead> Iterator for JsonLines<R> {
    type Item = Result<Value, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(ReadError::io_in(&self.source, &e))),
            }
            self.line += 1;
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            // Without its line end, an error at the end of the line is placed on this line.
            let text = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            return Some(
                serde_json::from_slice::<Json>(text)
                    .map(from_json)
                    .map_err(|e| syntax(&self.source, &e, self.line)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> String {
        let v = from_json(serde_json::from_str(text).expect("json"));
        serde_json::to_string(&to_json(&v).expect("to json")).expect("text")
    }

    #[test]
    fn types_and_key_order_survive() {
        assert_eq!(
            round(r#"{"z":1,"a":[1.5,"x",null,true],"m":{"k":-3}}"#),
            r#"{"z":1,"a":[1.5,"x",null,true],"m":{"k":-3}}"#
        );
        assert_eq!(round("1.0"), "1.0");
        assert_eq!(round("18446744073709551615"), "1.8446744073709552e+19");
    }

    #[test]
    fn keys_that_are_not_strings_become_their_text() {
        let d = Value::dict(Dict::from_pairs([
            (Value::Int(1), Value::None),
            (Value::None, Value::Bool(true)),
        ]));
        assert_eq!(
            to_json(&d).expect("json").to_string(),
            r#"{"1":null,"null":true}"#
        );
        let bad = Value::dict(Dict::from_pairs([(Value::list(vec![]), Value::None)]));
        assert!(to_json(&bad).is_err());
        assert!(to_json(&Value::Float(f64::NAN)).is_err());
        let raw = Value::Str(Arc::from(raw::decode(b"\xff")));
        assert!(matches!(to_json(&raw), Err(ToJsonError::NotUtf8(_))));
    }

    #[test]
    fn json_lines_report_their_line() {
        let input: &[u8] = b"{\"a\": 1}\n\n[1, 2\n";
        let mut lines = JsonLines::new("x.jsonl".into(), input);
        assert!(matches!(lines.next(), Some(Ok(Value::Dict(_)))));
        let err = lines.next().expect("an item").expect_err("malformed");
        assert!(err.to_string().starts_with("x.jsonl:3:"), "{err}");
        assert!(lines.next().is_none());
    }
}

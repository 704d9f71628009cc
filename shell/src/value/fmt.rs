//! How values print.
//!
//! An item prints with [`Display`](std::fmt::Display): a string as its text, anything else as
//! its literal (`repr`). Inside tuples and lists, and in `env`, values print as literals that
//! parse back to the same value: strings quoted (`'a'`), floats always with a point or exponent
//! (`1.0`), tuples as `(1, 'a')`, a one-field tuple as `(1,)`, dicts as `{'a': 1}`.

use super::{FileInfo, Value};
use std::fmt;

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            other => write_repr(other, f),
        }
    }
}

/// The literal form of a value: `'text'`, `1.5`, `(1, 'a')`, `[1, 2]`, `none`, `true`.
pub struct Repr<'a>(pub &'a Value);

impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_repr(self.0, f)
    }
}

impl Value {
    /// The literal form of this value (see [`Repr`]).
    pub fn repr(&self) -> String {
        Repr(self).to_string()
    }
}

fn write_repr(v: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match v {
        Value::None => f.write_str("none"),
        Value::Bool(true) => f.write_str("true"),
        Value::Bool(false) => f.write_str("false"),
        Value::Int(i) => write!(f, "{i}"),
        Value::Float(x) => write_float(*x, f),
        Value::Str(s) => write_quoted(s, f),
        Value::Tuple(items) => {
            f.write_str("(")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_repr(item, f)?;
            }
            if items.len() == 1 {
                f.write_str(",")?;
            }
            f.write_str(")")
        }
        Value::List(items) => {
            f.write_str("[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_repr(item, f)?;
            }
            f.write_str("]")
        }
        Value::Dict(d) => {
            f.write_str("{")?;
            for (i, (k, v)) in d.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_repr(k, f)?;
                f.write_str(": ")?;
                write_repr(v, f)?;
            }
            f.write_str("}")
        }
        Value::File(file) => write_file(file, f),
    }
}

/// Floats print like Python's `repr`: shortest round-trip digits, always marked as a float.
pub fn write_float(x: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if x.is_nan() {
        f.write_str("nan")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "inf" } else { "-inf" })
    } else {
        // `{:?}` gives the shortest representation that round-trips, with ".0" for integers
        // and an exponent for very large or small magnitudes.
        write!(f, "{x:?}")
    }
}

/// A string literal in single quotes, escaped so the lexer reads back the same text: backslash,
/// quote and control characters escaped, and the characters that hold bytes that were not
/// UTF-8 written `\u{10ffff}` (see [`super::raw`]).
pub fn write_quoted(s: &str, f: &mut impl std::fmt::Write) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c if super::raw::escaped_byte(c).is_some() => write!(f, "\\u{{{:x}}}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}

fn write_file(file: &FileInfo, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // A file prints as its path, which is what a user wants to see in a listing.
    f.write_str(&file.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_print_like_marcel() {
        assert_eq!(Value::Int(3).to_string(), "3");
        assert_eq!(Value::str("a b").to_string(), "a b");
        let t = Value::tuple(vec![Value::Int(1), Value::str("a")]);
        assert_eq!(t.to_string(), "(1, 'a')");
        assert_eq!(Value::tuple(vec![Value::Int(1)]).to_string(), "(1,)");
        assert_eq!(Value::Float(1.0).to_string(), "1.0");
        assert_eq!(Value::Float(0.1).to_string(), "0.1");
        assert_eq!(Value::list(vec![]).to_string(), "[]");
        let d = super::super::Dict::from_pairs([
            (Value::str("a"), Value::Int(1)),
            (
                Value::str("b"),
                Value::list(vec![Value::Int(1), Value::Int(2)]),
            ),
        ]);
        assert_eq!(Value::dict(d).to_string(), "{'a': 1, 'b': [1, 2]}");
        assert_eq!(Value::str("it's\n").repr(), "'it\\'s\\n'");
    }
}

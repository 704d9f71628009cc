//! `write --format FMT`: a line per item from a template in the style of Python's
//! `str.format`. `{}` is the next field, `{N}` field N (from 0), `{name}` the value of key
//! `name` of a dict item; `{{` and `}}` are literal braces. The fields of an item are a
//! tuple's fields, or the item itself; values print as items do (a string as its text).

use crate::value::Value;
use std::fmt::Write;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    /// `{}`: the field after the one before.
    Next,
    /// `{N}`.
    Field(usize),
    /// `{name}`.
    Key(String),
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template(Vec<Piece>);

/// A template that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("'{{' at offset {0} is never closed (write '{{{{' for a brace)")]
    Unclosed(usize),
    #[error("'}}' at offset {0} has no '{{' (write '}}}}' for a brace)")]
    Unopened(usize),
}

/// An item a template cannot format.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    #[error("no field {0}")]
    NoField(usize),
    #[error("no key '{0}' (the item is not a dict with that key)")]
    NoKey(String),
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = text.char_indices().peekable();
        while let Some((at, c)) = rest.next() {
            match c {
                '{' if rest.peek().map(|p| p.1) == Some('{') => {
                    rest.next();
                    lit.push('{');
                }
                '}' if rest.peek().map(|p| p.1) == Some('}') => {
                    rest.next();
                    lit.push('}');
                }
                '}' => return Err(TemplateError::Unopened(at)),
                '{' => {
                    let close = text[at..].find('}').ok_or(TemplateError::Unclosed(at))? + at;
                    let inner = &text[at + 1..close];
                    if inner.contains('{') {
                        return Err(TemplateError::Unclosed(at));
                    }
                    while rest.peek().is_some_and(|p| p.0 <= close) {
                        rest.next();
                    }
                    if !lit.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut lit)));
                    }
                    pieces.push(match inner {
                        "" => Piece::Next,
                        n if n.bytes().all(|b| b.is_ascii_digit()) => {
                            Piece::Field(n.parse().unwrap_or(usize::MAX))
                        }
                        name => Piece::Key(name.to_string()),
                    });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Text(lit));
        }
        Ok(Template(pieces))
    }

    /// The line for `item`.
    pub fn fill(&self, item: &Value) -> Result<String, FillError> {
        let fields = item.fields();
        let mut next = 0;
        let mut out = String::new();
        for piece in &self.0 {
            let v = match piece {
                Piece::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Piece::Next => {
                    next += 1;
                    fields.get(next - 1).ok_or(FillError::NoField(next - 1))?
                }
                Piece::Field(n) => fields.get(*n).ok_or(FillError::NoField(*n))?,
                Piece::Key(k) => match item {
                    Value::Dict(d) => d
                        .get(&Value::str(k))
                        .ok_or_else(|| FillError::NoKey(k.clone()))?,
                    _ => return Err(FillError::NoKey(k.clone())),
                },
            };
            let _ = write!(out, "{v}");
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Dict;

    #[test]
    fn fields_keys_and_braces() {
        let t = Template::parse("{} is {1}, {{{0}}}").expect("parses");
        let item = Value::tuple(vec![Value::str("a"), Value::Int(2)]);
        assert_eq!(t.fill(&item).expect("fills"), "a is 2, {a}");
        let d = Value::dict(Dict::from_pairs([(Value::str("n"), Value::Float(1.5))]));
        assert_eq!(
            Template::parse("n={n}")
                .expect("parses")
                .fill(&d)
                .expect("fills"),
            "n=1.5"
        );
        assert!(Template::parse("{2}").expect("parses").fill(&item).is_err());
        assert!(Template::parse("{x}").expect("parses").fill(&item).is_err());
        assert!(Template::parse("a{").is_err());
        assert!(Template::parse("a}b").is_err());
    }
}

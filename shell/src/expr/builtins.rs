//! Builtin functions, methods of strings, sequences and dicts, file attributes, indexing and
//! slicing.

use super::ops::{self, R};
use super::{CompileError, EvalError};
use crate::value::{Dict, Value};
use std::sync::Arc;

fn e(msg: impl Into<String>) -> EvalError {
    EvalError::Failed(msg.into())
}

/// A builtin function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Builtin {
    Len,
    Int,
    Float,
    Str,
    Abs,
    Min,
    Max,
    Round,
    Bool,
    Sum,
    Tuple,
    List,
    Dict,
    Now,
    Days,
}

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        use Builtin::*;
        Some(match name {
            "len" => Len,
            "int" => Int,
            "float" => Float,
            "str" => Str,
            "abs" => Abs,
            "min" => Min,
            "max" => Max,
            "round" => Round,
            "bool" => Bool,
            "sum" => Sum,
            "tuple" => Tuple,
            "list" => List,
            "dict" => Dict,
            "now" => Now,
            "days" => Days,
            _ => return None,
        })
    }

    /// Checks the number of arguments when compiling.
    pub fn check_arity(self, name: &str, n: usize) -> Result<(), CompileError> {
        use Builtin::*;
        let (lo, hi) = match self {
            Len | Abs | Days => (1, 1),
            Int | Float | Str | Bool | Tuple | List | Dict => (0, 1),
            Round | Sum => (1, 2),
            Min | Max => (1, usize::MAX),
            Now => (0, 0),
        };
        if n < lo || n > hi {
            let want = if lo == hi {
                format!("{lo} argument{}", if lo == 1 { "" } else { "s" })
            } else if hi == usize::MAX {
                format!("at least {lo} argument{}", if lo == 1 { "" } else { "s" })
            } else {
                format!("{lo} to {hi} arguments")
            };
            return Err(CompileError(format!("{name}() takes {want}, given {n}")));
        }
        Ok(())
    }

    pub fn call(self, args: &[Value]) -> R {
        use Builtin::*;
        match self {
            Len => match &args[0] {
                Value::Str(s) => Ok(Value::Int(char_len(s) as i64)),
                Value::Tuple(t) | Value::List(t) => Ok(Value::Int(t.len() as i64)),
                Value::Dict(d) => Ok(Value::Int(d.len() as i64)),
                v => Err(e(format!(
                    "object of type '{}' has no len()",
                    v.type_name()
                ))),
            },
            Int => match args.first() {
                None => Ok(Value::Int(0)),
                Some(v) => to_int(v),
            },
            Float => match args.first() {
                None => Ok(Value::Float(0.0)),
                Some(v) => to_float(v),
            },
            Str => Ok(Value::Str(match args.first() {
                None => Arc::from(""),
                Some(Value::Str(s)) => s.clone(),
                Some(v) => Arc::from(v.to_string()),
            })),
            Bool => Ok(Value::Bool(args.first().is_some_and(Value::truthy))),
            Abs => match &args[0] {
                Value::Int(i) => i
                    .checked_abs()
                    .map(Value::Int)
                    .ok_or_else(|| ops::overflow("abs")),
                Value::Float(f) => Ok(Value::Float(f.abs())),
                Value::Bool(b) => Ok(Value::Int(*b as i64)),
                v => Err(e(format!(
                    "bad operand type for abs(): '{}'",
                    v.type_name()
                ))),
            },
            Min => extreme("min", args, std::cmp::Ordering::Less),
            Max => extreme("max", args, std::cmp::Ordering::Greater),
            Round => round(args),
            Sum => {
                let items = seq("sum", &args[0])?;
                let mut acc = args.get(1).cloned().unwrap_or(Value::Int(0));
                for item in items.iter() {
                    acc = ops::add(&acc, item)?;
                }
                Ok(acc)
            }
            Tuple => Ok(Value::Tuple(match args.first() {
                None => Arc::from(vec![]),
                Some(v) => seq("tuple", v)?,
            })),
            List => Ok(Value::List(match args.first() {
                None => Arc::from(vec![]),
                Some(v) => seq("list", v)?,
            })),
            Dict => match args.first() {
                None => Ok(Value::dict(crate::value::Dict::from_pairs([]))),
                Some(d @ Value::Dict(_)) => Ok(d.clone()),
                Some(v) => to_dict(v),
            },
            Now => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0);
                Ok(Value::Float(t))
            }
            Days => match &args[0] {
                Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                    ops::mul(&to_float(&args[0])?, &Value::Float(86400.0))
                }
                v => Err(e(format!("days() needs a number, not {}", v.type_name()))),
            },
        }
    }
}

fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// `dict(pairs)`: a dict of a tuple or list of `(key, value)` pairs.
fn to_dict(v: &Value) -> R {
    let pairs = seq("dict", v)?;
    let mut out = Vec::with_capacity(pairs.len());
    for (i, pair) in pairs.iter().enumerate() {
        match pair {
            Value::Tuple(kv) | Value::List(kv) if kv.len() == 2 => {
                out.push((kv[0].clone(), kv[1].clone()));
            }
            other => {
                return Err(e(format!(
                    "dict() needs (key, value) pairs; element {i} is {}",
                    other.repr()
                )));
            }
        }
    }
    Ok(Value::dict(Dict::from_pairs(out)))
}

/// The items of a tuple, list or string (its characters), or a dict's keys.
fn seq(name: &str, v: &Value) -> Result<Arc<[Value]>, EvalError> {
    match v {
        Value::Tuple(t) | Value::List(t) => Ok(t.clone()),
        Value::Dict(d) => Ok(Arc::from(d.keys())),
        Value::Str(s) => Ok(s
            .chars()
            .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
            .collect()),
        v => Err(e(format!(
            "{name}() needs a tuple, list or str, not {}",
            v.type_name()
        ))),
    }
}

fn to_int(v: &Value) -> R {
    match v {
        Value::Int(_) => Ok(v.clone()),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Float(f) => {
            if f.is_nan() || f.is_infinite() {
                Err(e(format!(
                    "cannot convert float {} to int",
                    Value::Float(*f)
                )))
            } else if *f >= i64::MAX as f64 || *f < i64::MIN as f64 {
                Err(ops::overflow("int()"))
            } else {
                Ok(Value::Int(f.trunc() as i64))
            }
        }
        Value::Str(s) => {
            let t = s.trim();
            t.parse::<i64>().map(Value::Int).map_err(|err| {
                if matches!(
                    err.kind(),
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                ) {
                    ops::overflow("int()")
                } else {
                    e(format!("invalid literal for int(): {}", v.repr()))
                }
            })
        }
        v => Err(e(format!("int() cannot convert {}", v.type_name()))),
    }
}

fn to_float(v: &Value) -> R {
    match v {
        Value::Float(_) => Ok(v.clone()),
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Bool(b) => Ok(Value::Float(*b as i64 as f64)),
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| e(format!("could not convert string to float: {}", v.repr()))),
        v => Err(e(format!("float() cannot convert {}", v.type_name()))),
    }
}

fn extreme(name: &str, args: &[Value], want: std::cmp::Ordering) -> R {
    let items: &[Value] = match args {
        [Value::Tuple(t) | Value::List(t)] => t,
        [v] => {
            return Err(e(format!(
                "{name}() of one argument needs a tuple or list, not {}",
                v.type_name()
            )));
        }
        many => many,
    };
    let Some(mut best) = items.first() else {
        return Err(e(format!("{name}() of an empty sequence")));
    };
    let op = if want == std::cmp::Ordering::Less {
        "<"
    } else {
        ">"
    };
    for item in &items[1..] {
        if ops::compare(op, item, best)? == Some(want) {
            best = item;
        }
    }
    Ok(best.clone())
}

fn round(args: &[Value]) -> R {
    let x = match &args[0] {
        Value::Int(i) if args.len() == 1 => return Ok(Value::Int(*i)),
        Value::Bool(b) if args.len() == 1 => return Ok(Value::Int(*b as i64)),
        v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_)) => match to_float(v)? {
            Value::Float(f) => f,
            _ => unreachable!("to_float gives a float"),
        },
        v => return Err(e(format!("round() needs a number, not {}", v.type_name()))),
    };
    match args.get(1) {
        None => to_int(&Value::Float(x.round_ties_even())),
        Some(Value::Int(n)) => {
            let n = (*n).clamp(-400, 400) as i32;
            let p = 10f64.powi(n.abs());
            let r = if n >= 0 {
                let y = (x * p).round_ties_even() / p;
                if y.is_finite() { y } else { x }
            } else {
                (x / p).round_ties_even() * p
            };
            Ok(Value::Float(r))
        }
        Some(v) => Err(e(format!(
            "round() digits must be an int, not {}",
            v.type_name()
        ))),
    }
}

/// A file's attribute.
#[derive(Clone, Copy, Debug)]
pub enum Attr {
    Name,
    Path,
    Size,
    Mtime,
    Suffix,
    IsDir,
    IsFile,
    IsLink,
    Mode,
}

impl Attr {
    pub fn lookup(name: &str) -> Result<Attr, CompileError> {
        use Attr::*;
        Ok(match name {
            "name" => Name,
            "path" => Path,
            "size" => Size,
            "mtime" => Mtime,
            "suffix" => Suffix,
            "is_dir" => IsDir,
            "is_file" => IsFile,
            "is_link" => IsLink,
            "mode" => Mode,
            _ => return Err(CompileError(format!("unknown attribute '{name}'"))),
        })
    }

    pub fn get(self, v: &Value, name: &str) -> R {
        let Value::File(f) = v else {
            return Err(e(format!("'{}' has no attribute '{name}'", v.type_name())));
        };
        Ok(match self {
            Attr::Name => Value::str(&f.name),
            Attr::Path => Value::str(&f.path),
            Attr::Size => Value::Int(i64::try_from(f.size).unwrap_or(i64::MAX)),
            Attr::Mtime => Value::Float(f.mtime),
            Attr::Suffix => Value::str(f.suffix()),
            Attr::IsDir => Value::Bool(f.is_dir),
            Attr::IsFile => Value::Bool(f.is_file),
            Attr::IsLink => Value::Bool(f.is_link),
            Attr::Mode => Value::Int(f.mode as i64),
        })
    }
}

/// A method of strings, tuples, lists or dicts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    Upper,
    Lower,
    Strip,
    Lstrip,
    Rstrip,
    Split,
    Startswith,
    Endswith,
    Replace,
    Find,
    Join,
    Count,
    Index,
    Keys,
    Values,
    Items,
    Get,
}

impl Method {
    pub fn lookup(name: &str, n: usize) -> Result<Method, CompileError> {
        use Method::*;
        let (m, lo, hi) = match name {
            "upper" => (Upper, 0, 0),
            "lower" => (Lower, 0, 0),
            "strip" => (Strip, 0, 1),
            "lstrip" => (Lstrip, 0, 1),
            "rstrip" => (Rstrip, 0, 1),
            "split" => (Split, 0, 1),
            "startswith" => (Startswith, 1, 1),
            "endswith" => (Endswith, 1, 1),
            "replace" => (Replace, 2, 2),
            "find" => (Find, 1, 1),
            "join" => (Join, 1, 1),
            "count" => (Count, 1, 1),
            "index" => (Index, 1, 1),
            "keys" => (Keys, 0, 0),
            "values" => (Values, 0, 0),
            "items" => (Items, 0, 0),
            "get" => (Get, 1, 2),
            _ => return Err(CompileError(format!("unknown method '{name}'"))),
        };
        if n < lo || n > hi {
            let want = if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo} to {hi}")
            };
            return Err(CompileError(format!(
                "{name}() takes {want} argument{}, given {n}",
                if hi == 1 && lo == 1 { "" } else { "s" }
            )));
        }
        Ok(m)
    }

    pub fn call(self, name: &str, obj: &Value, args: &[Value]) -> R {
        match obj {
            Value::Str(s) => self.call_str(name, s, args),
            Value::Dict(d) => self.call_dict(name, obj, d, args),
            Value::Tuple(t) | Value::List(t) if matches!(self, Method::Index | Method::Count) => {
                let pos = t.iter().position(|x| x == &args[0]);
                match self {
                    Method::Index => pos.map(|p| Value::Int(p as i64)).ok_or_else(|| {
                        e(format!(
                            "{} is not in the {}",
                            args[0].repr(),
                            obj.type_name()
                        ))
                    }),
                    _ => Ok(Value::Int(
                        t.iter().filter(|x| *x == &args[0]).count() as i64
                    )),
                }
            }
            _ => Err(no_method(obj, name)),
        }
    }

    /// `keys()`, `values()`, `items()` (lists, in the dict's order) and `get(key[, default])`.
    fn call_dict(self, name: &str, obj: &Value, d: &Dict, args: &[Value]) -> R {
        Ok(match self {
            Method::Keys => Value::list(d.keys().to_vec()),
            Method::Values => Value::list(d.values().to_vec()),
            Method::Items => Value::list(
                d.iter()
                    .map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()]))
                    .collect(),
            ),
            Method::Get => d
                .get(&args[0])
                .or(args.get(1))
                .cloned()
                .unwrap_or(Value::None),
            _ => return Err(no_method(obj, name)),
        })
    }

    fn call_str(self, name: &str, s: &Arc<str>, args: &[Value]) -> R {
        let arg_str = |i: usize| -> Result<&str, EvalError> {
            match &args[i] {
                Value::Str(a) => Ok(a),
                v => Err(e(format!(
                    "{name}() needs a str argument, not {}",
                    v.type_name()
                ))),
            }
        };
        let strip_chars = |i: usize| -> Result<Option<Vec<char>>, EvalError> {
            match args.get(i) {
                None | Some(Value::None) => Ok(None),
                Some(_) => Ok(Some(arg_str(i)?.chars().collect())),
            }
        };
        use Method::*;
        let out = match self {
            Upper => Value::str(&s.to_uppercase()),
            Lower => Value::str(&s.to_lowercase()),
            Strip | Lstrip | Rstrip => {
                let chars = strip_chars(0)?;
                let test = |c: char| match &chars {
                    None => c.is_whitespace(),
                    Some(cs) => cs.contains(&c),
                };
                let t: &str = match self {
                    Strip => s.trim_matches(test),
                    Lstrip => s.trim_start_matches(test),
                    _ => s.trim_end_matches(test),
                };
                if t.len() == s.len() {
                    Value::Str(s.clone())
                } else {
                    Value::str(t)
                }
            }
            Split => {
                let parts: Vec<Value> = match args.first() {
                    None | Some(Value::None) => s.split_whitespace().map(Value::str).collect(),
                    Some(_) => {
                        let sep = arg_str(0)?;
                        if sep.is_empty() {
                            return Err(e("empty separator"));
                        }
                        s.split(sep).map(Value::str).collect()
                    }
                };
                Value::list(parts)
            }
            Startswith => Value::Bool(s.starts_with(arg_str(0)?)),
            Endswith => Value::Bool(s.ends_with(arg_str(0)?)),
            Replace => {
                let (a, b) = (arg_str(0)?, arg_str(1)?);
                let count = if a.is_empty() {
                    char_len(s) + 1
                } else {
                    s.matches(a).count()
                };
                if s.len().saturating_add(count.saturating_mul(b.len())) > ops::MAX_STR {
                    return Err(e("string too long (over 1 GiB)"));
                }
                Value::str(&s.replace(a, b))
            }
            Find => {
                let sub = arg_str(0)?;
                match s.find(sub) {
                    Some(b) => Value::Int(char_len(&s[..b]) as i64),
                    None => Value::Int(-1),
                }
            }
            Count => {
                let sub = arg_str(0)?;
                let n = if sub.is_empty() {
                    char_len(s) + 1
                } else {
                    s.matches(sub).count()
                };
                Value::Int(n as i64)
            }
            Join => {
                let items: &[Value] = match &args[0] {
                    Value::Tuple(t) | Value::List(t) => t,
                    v => {
                        return Err(e(format!(
                            "join() needs a tuple or list, not {}",
                            v.type_name()
                        )));
                    }
                };
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    let Value::Str(x) = item else {
                        return Err(e(format!(
                            "join() needs str items, found {}",
                            item.type_name()
                        )));
                    };
                    if i > 0 {
                        out.push_str(s);
                    }
                    out.push_str(x);
                    if out.len() > ops::MAX_STR {
                        return Err(e("string too long (over 1 GiB)"));
                    }
                }
                Value::str(&out)
            }
            Index | Keys | Values | Items | Get => {
                return Err(no_method(&Value::Str(s.clone()), name));
            }
        };
        Ok(out)
    }
}

fn no_method(v: &Value, name: &str) -> EvalError {
    e(format!("'{}' has no method '{name}'", v.type_name()))
}

fn index_int(v: &Value) -> Result<i64, EvalError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        v => Err(e(format!(
            "indices must be integers, not {}",
            v.type_name()
        ))),
    }
}

/// Resolves a possibly negative index into `0..len`.
fn position(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i.checked_add(len as i64)? } else { i };
    if i >= 0 && (i as usize) < len {
        Some(i as usize)
    } else {
        None
    }
}

pub fn index(x: &Value, i: &Value) -> R {
    match x {
        Value::Tuple(t) | Value::List(t) => {
            let k = index_int(i)?;
            position(k, t.len())
                .map(|p| t[p].clone())
                .ok_or_else(|| e(format!("{} index out of range", x.type_name())))
        }
        Value::Str(s) => {
            let k = index_int(i)?;
            let oor = || e("str index out of range");
            if s.is_ascii() {
                let p = position(k, s.len()).ok_or_else(oor)?;
                Ok(Value::str(&s[p..p + 1]))
            } else {
                let p = position(k, s.chars().count()).ok_or_else(oor)?;
                let c = s.chars().nth(p).ok_or_else(oor)?;
                Ok(Value::str(c.encode_utf8(&mut [0; 4])))
            }
        }
        Value::Dict(d) => d
            .get(i)
            .cloned()
            .ok_or_else(|| e(format!("key {} is not in the dict", i.repr()))),
        v => Err(e(format!("'{}' cannot be indexed", v.type_name()))),
    }
}

/// Python's slice bounds: clamped, negatives from the end.
fn bound(b: Option<&Value>, len: usize, default: usize) -> Result<usize, EvalError> {
    match b {
        None | Some(Value::None) => Ok(default),
        Some(v) => {
            let i = index_int(v)?;
            Ok(if i < 0 {
                (len as i64).saturating_add(i).max(0) as usize
            } else {
                (i as u64).min(len as u64) as usize
            })
        }
    }
}

pub fn slice(x: &Value, lo: Option<&Value>, hi: Option<&Value>) -> R {
    let range = |len: usize| -> Result<(usize, usize), EvalError> {
        let a = bound(lo, len, 0)?;
        let b = bound(hi, len, len)?;
        Ok((a, b.max(a)))
    };
    match x {
        Value::Tuple(t) | Value::List(t) => {
            let (a, b) = range(t.len())?;
            let items: Arc<[Value]> = Arc::from(&t[a..b]);
            Ok(if matches!(x, Value::Tuple(_)) {
                Value::Tuple(items)
            } else {
                Value::List(items)
            })
        }
        Value::Str(s) => {
            if s.is_ascii() {
                let (a, b) = range(s.len())?;
                Ok(Value::str(&s[a..b]))
            } else {
                let (a, b) = range(s.chars().count())?;
                let t: String = s.chars().skip(a).take(b - a).collect();
                Ok(Value::str(&t))
            }
        }
        v => Err(e(format!("'{}' cannot be sliced", v.type_name()))),
    }
}

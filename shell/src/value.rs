//! Values: what flows through a pipeline and what a variable holds.
//!
//! Every item of a stream is one [`Value`]. A tuple is an item with several fields; a function
//! of several parameters (`(x, y: x + y)`) receives a tuple's fields. Values are cheap to clone
//! (strings, tuples, lists, dicts and files are shared behind `Arc`) and `Send`, because a pipeline
//! with a host program in the middle runs its upstream part on a second thread.

pub mod dict;
pub mod fmt;
pub mod raw;

pub use dict::{Dict, KeyTable};
use std::sync::Arc;

/// One item of a stream, or the value of a variable.
#[derive(Clone, Debug)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Tuple(Arc<[Value]>),
    List(Arc<[Value]>),
    /// `{'a': 1}`: keys in insertion order (see [`dict`]).
    Dict(Arc<Dict>),
    File(Arc<FileInfo>),
}

/// What `ls` produces: a file and the facts about it that expressions can read
/// (`f.name`, `f.size`, `f.mtime`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct FileInfo {
    /// The path as `ls` reached it (relative when `ls` was given a relative path).
    pub path: String,
    /// The last component of the path.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: f64,
    pub is_dir: bool,
    pub is_file: bool,
    pub is_link: bool,
    /// Permission bits (`0o644`).
    pub mode: u32,
}

impl FileInfo {
    /// The part of the name after its last dot (`"rs"` for `main.rs`), empty when none.
    pub fn suffix(&self) -> &str {
        match self.name.rfind('.') {
            Some(i) if i > 0 => &self.name[i + 1..],
            _ => "",
        }
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn tuple(fields: Vec<Value>) -> Value {
        Value::Tuple(Arc::from(fields))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::from(items))
    }

    pub fn dict(d: Dict) -> Value {
        Value::Dict(Arc::new(d))
    }

    /// The name of this value's type as users see it in messages (`int`, `str`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::File(_) => "file",
        }
    }

    /// Python-style truth: `none`, `false`, zero, and empty strings, tuples, lists and dicts
    /// are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Tuple(t) | Value::List(t) => !t.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::File(_) => true,
        }
    }

    /// The fields a function of several parameters receives: a tuple's fields, or the value
    /// itself as the only field.
    pub fn fields(&self) -> &[Value] {
        match self {
            Value::Tuple(t) => t,
            other => std::slice::from_ref(other),
        }
    }
}

/// Equality as users expect it: `1 == 1.0`, element-wise for tuples and lists.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (Int(a), Float(b)) | (Float(b), Int(a)) => (*a as f64) == *b,
            (Str(a), Str(b)) => a == b,
            (Tuple(a), Tuple(b)) | (List(a), List(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            (File(a), File(b)) => a.path == b.path,
            _ => false,
        }
    }
}

/// A total order used by `sort`, `min` and `max`: numbers by value, strings, tuples and lists
/// lexicographically, dicts by their pairs in order, and values of different kinds by a fixed
/// rank (none < bool < number < str < tuple < list < dict < file), so sorting mixed streams
/// never fails.
pub fn total_cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    use Value::*;
    use std::cmp::Ordering;
    fn rank(v: &Value) -> u8 {
        match v {
            None => 0,
            Bool(_) => 1,
            Int(_) | Float(_) => 2,
            Str(_) => 3,
            Tuple(_) => 4,
            List(_) => 5,
            Dict(_) => 6,
            File(_) => 7,
        }
    }
    match (a, b) {
        (Bool(x), Bool(y)) => x.cmp(y),
        (Int(x), Int(y)) => x.cmp(y),
        (Float(x), Float(y)) => x.total_cmp(y),
        (Int(x), Float(y)) => (*x as f64).total_cmp(y),
        (Float(x), Int(y)) => x.total_cmp(&(*y as f64)),
        (Str(x), Str(y)) => x.cmp(y),
        (Tuple(x), Tuple(y)) | (List(x), List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = total_cmp(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Dict(x), Dict(y)) => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                let o = total_cmp(k1, k2).then_with(|| total_cmp(v1, v2));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (File(x), File(y)) => x.path.cmp(&y.path),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A hashable key for `unique` and `red .` grouping. Floats hash by their bits, with an integral
/// float equal to the int it equals (so `1` and `1.0` group together, as `==` says).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    None,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(Arc<str>),
    Seq(u8, Vec<Key>),
    /// A dict's pairs, sorted, so equal dicts have equal keys whatever their order.
    Map(Vec<(Key, Key)>),
    File(String),
}

impl Value {
    pub fn key(&self) -> Key {
        match self {
            Value::None => Key::None,
            Value::Bool(b) => Key::Bool(*b),
            Value::Int(i) => Key::Int(*i),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 9.0e18 {
                    Key::Int(*f as i64)
                } else {
                    Key::Float(f.to_bits())
                }
            }
            Value::Str(s) => Key::Str(s.clone()),
            Value::Tuple(t) => Key::Seq(0, t.iter().map(Value::key).collect()),
            Value::List(t) => Key::Seq(1, t.iter().map(Value::key).collect()),
            Value::Dict(d) => {
                let mut pairs: Vec<(Key, Key)> =
                    d.iter().map(|(k, v)| (k.key(), v.key())).collect();
                pairs.sort();
                Key::Map(pairs)
            }
            Value::File(f) => Key::File(f.path.clone()),
        }
    }
}

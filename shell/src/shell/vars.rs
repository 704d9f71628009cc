//! The shell's variables, and the form `env` prints them in.
//!
//! `env` prints one line per variable, sorted by name: `NAME = VALUE`, where VALUE is the
//! value's literal (`'text'`, `12`, `1.5`, `(1, 'a')`, `[1, 2]`, `none`, `true`, a file as
//! `file('path')`) — a form that tools such as jobcheck parse. A reservoir prints as
//! `NAME = reservoir N items, B bytes: FILE [FILE...]` (its segment files, in order). `STATUS` is
//! always there.

use crate::expr::Globals;
use crate::reservoir::Reservoir;
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The name of the variable that holds the last command's status.
pub const STATUS: &str = "STATUS";

/// The variable that holds a script's (or `-c`'s) arguments, a list of str.
pub const ARGV: &str = "ARGV";

/// The variable that holds a script's path, as given to marsh.
pub const SCRIPT: &str = "SCRIPT";

/// What a variable holds.
#[derive(Clone, Debug)]
pub enum Var {
    Value(Value),
    /// A stream stored on disk (`P >$ x`).
    Reservoir(Reservoir),
}

/// All variables of a session, `STATUS` included.
#[derive(Clone, Debug)]
pub struct Vars {
    vars: BTreeMap<String, Var>,
}

impl Default for Vars {
    fn default() -> Vars {
        let mut vars = BTreeMap::new();
        vars.insert(STATUS.to_string(), Var::Value(Value::Int(0)));
        Vars { vars }
    }
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    pub fn set(&mut self, name: &str, var: Var) {
        self.vars.insert(name.to_string(), var);
    }

    pub fn remove(&mut self, name: &str) -> Option<Var> {
        self.vars.remove(name)
    }

    pub fn status(&self) -> i32 {
        match self.vars.get(STATUS) {
            Some(Var::Value(Value::Int(i))) => *i as i32,
            _ => 0,
        }
    }

    pub fn set_status(&mut self, status: i32) {
        self.set(STATUS, Var::Value(Value::Int(status.into())));
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    /// The `env` listing.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for (name, var) in &self.vars {
            match var {
                Var::Value(v) => {
                    let _ = writeln!(out, "{name} = {}", literal(v));
                }
                Var::Reservoir(r) => {
                    let _ = writeln!(out, "{name} = {r}");
                }
            }
        }
        out
    }
}

/// A value as `env` prints it: its literal, with files as `file('path')`.
fn literal(v: &Value) -> String {
    match v {
        Value::File(f) => format!("file({})", Value::str(&f.path).repr()),
        other => other.repr(),
    }
}

impl Globals for Vars {
    fn lookup(&self, name: &str) -> Option<Value> {
        match self.vars.get(name)? {
            Var::Value(v) => Some(v.clone()),
            Var::Reservoir(_) => None,
        }
    }

    fn explain_missing(&self, name: &str) -> Option<String> {
        match self.vars.get(name)? {
            Var::Reservoir(r) => Some(format!(
                "{name} holds a stream of {} items, not a value; read it with {name} <$",
                r.items()
            )),
            Var::Value(_) => None,
        }
    }
}

//! The environment marsh passes to the programs it runs: a copy of its own environment taken
//! at start, changed by `export` and `unset`.
//!
//! It is kept here rather than in the process's environment (`std::env::set_var` is unsound
//! while other threads may read it) and handed to each program when it is spawned. Lookups of
//! `PATH`, `HOME` and the like read it, so `export PATH=...` changes where programs are found.

use crate::value::Value;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, RwLock};

static ENV: LazyLock<RwLock<BTreeMap<OsString, OsString>>> =
    LazyLock::new(|| RwLock::new(std::env::vars_os().collect()));

/// Whether the environment differs from the one marsh started with.
static CHANGED: AtomicBool = AtomicBool::new(false);

/// The value of an exported variable.
pub fn get(name: impl AsRef<OsStr>) -> Option<OsString> {
    let env = ENV.read().unwrap_or_else(|e| e.into_inner());
    env.get(name.as_ref()).cloned()
}

/// The value of an exported variable as marsh text, every byte kept.
pub fn text(name: impl AsRef<OsStr>) -> Option<String> {
    get(name).map(|v| crate::value::raw::decode(v.as_bytes()).into_owned())
}

/// Marsh text as the bytes a program sees.
pub fn os_text(text: &str) -> OsString {
    OsString::from_vec(crate::value::raw::encode(text).into_owned())
}

/// A value as an exported variable holds it: a string's own text, anything else printed as
/// an item prints (`42`, `(1, 'a')`).
pub fn value_text(v: &Value) -> OsString {
    match v {
        Value::Str(s) => os_text(s),
        other => OsString::from(other.to_string()),
    }
}

/// Whether `name` can be exported: a letter or `_`, then letters, digits or `_`.
pub fn check_name(name: &str) -> Result<(), EnvError> {
    if crate::syntax::is_identifier(name) {
        Ok(())
    } else {
        Err(EnvError::BadName(name.to_string()))
    }
}

/// Why a name cannot be exported or unset.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("'{0}' is not a valid name: a letter or _, then letters, digits or _")]
    BadName(String),
}

/// Whether `name` is exported.
pub fn contains(name: impl AsRef<OsStr>) -> bool {
    let env = ENV.read().unwrap_or_else(|e| e.into_inner());
    env.contains_key(name.as_ref())
}

/// Exports `name` with `value`.
pub fn set(name: &str, value: impl Into<OsString>) {
    let mut env = ENV.write().unwrap_or_else(|e| e.into_inner());
    env.insert(name.into(), value.into());
    CHANGED.store(true, Ordering::Relaxed);
}

/// Removes `name` from the environment; whether it was there.
pub fn remove(name: &str) -> bool {
    let mut env = ENV.write().unwrap_or_else(|e| e.into_inner());
    CHANGED.store(true, Ordering::Relaxed);
    env.remove(OsStr::new(name)).is_some()
}

/// Every exported variable, sorted by name.
pub fn all() -> Vec<(OsString, OsString)> {
    let env = ENV.read().unwrap_or_else(|e| e.into_inner());
    env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Gives `cmd` the exported environment (untouched while it is still the one marsh got), then
/// `extra` on top of it (a command's `NAME=VALUE` prefixes).
pub fn apply<'a>(cmd: &mut Command, extra: impl IntoIterator<Item = (&'a OsStr, &'a OsStr)>) {
    if CHANGED.load(Ordering::Relaxed) {
        cmd.env_clear().envs(all());
    }
    cmd.envs(extra);
}

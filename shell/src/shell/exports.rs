//! `export`, `unset` and `env -x`: the shell's side of the environment its programs get
//! (`crate::environ` holds the environment itself).
//!
//! A name can be a marsh variable, exported, or both. Where it is both, the export holds the
//! variable's text, and every change keeps it so: assigning `NAME = ...` to an exported name
//! exports the new text (POSIX's rule: an exported variable stays exported), `export
//! NAME=VALUE` also sets a marsh variable of that name if there is one, and an exported name
//! cannot hold a stream (a reservoir has no text). `unset NAME` removes both; `env -d NAME`
//! removes only the marsh variable.

use super::vars::{STATUS, Var, Vars};
use crate::environ::{self, EnvError};
use crate::value::Value;
use std::io::Write;

/// Why `export` or `unset` refused a word.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Name(#[from] EnvError),
    #[error("STATUS is set by the shell and cannot be exported or unset")]
    Status,
    #[error("{0} is not set: export {0}=VALUE sets and exports it")]
    NotSet(String),
    #[error("{0} holds a stream, which has no text to export")]
    Reservoir(String),
}

/// `export NAME=VALUE` or `export NAME`, for one word. All words are checked before any is
/// exported, so a bad one changes nothing.
pub fn export(vars: &mut Vars, words: &[&str]) -> Result<(), ExportError> {
    let mut plan = Vec::with_capacity(words.len());
    for word in words {
        plan.push(export_plan(vars, word)?);
    }
    for Export { name, text, given } in plan {
        if given && let Some(Var::Value(_)) = vars.get(&name) {
            vars.set(&name, Var::Value(Value::str(&text)));
        }
        environ::set(&name, environ::os_text(&text));
    }
    Ok(())
}

/// What one `export` word exports.
struct Export {
    name: String,
    text: String,
    /// Written as `NAME=VALUE` (not taken from a variable).
    given: bool,
}

/// What one `export` word exports, or why it cannot.
fn export_plan(vars: &Vars, word: &str) -> Result<Export, ExportError> {
    let (name, value) = match word.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (word, None),
    };
    checked(name)?;
    let text = match value {
        Some(v) => v.to_string(),
        None => match vars.get(name) {
            Some(Var::Value(v)) => v.to_string(),
            Some(Var::Reservoir(_)) => return Err(ExportError::Reservoir(name.to_string())),
            None => match environ::text(name) {
                Some(already) => already,
                None => return Err(ExportError::NotSet(name.to_string())),
            },
        },
    };
    Ok(Export {
        name: name.to_string(),
        text,
        given: value.is_some(),
    })
}

/// `unset NAME...`: removes each from the environment and the marsh variables; a name that is
/// neither is no error (POSIX).
pub fn unset(vars: &mut Vars, words: &[&str]) -> Result<(), ExportError> {
    for name in words {
        checked(name)?;
    }
    for name in words {
        environ::remove(name);
        vars.remove(name);
    }
    Ok(())
}

/// After `NAME = value`: an exported NAME exports the new value.
pub fn assigned(name: &str, value: &Value) {
    if environ::contains(name) {
        environ::set(name, environ::value_text(value));
    }
}

/// Whether `name` may hold a stream: not while it is exported.
pub fn check_store(name: &str) -> Result<(), ExportError> {
    if environ::contains(name) {
        Err(ExportError::Reservoir(name.to_string()))
    } else {
        Ok(())
    }
}

/// `env -x`: the exported environment as `NAME=VALUE` lines, sorted by name, bytes unchanged.
pub fn listing() -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::new();
    for (name, value) in environ::all() {
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Prints [`listing`].
pub fn print_listing() {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&listing());
    let _ = out.flush();
}

fn checked(name: &str) -> Result<(), ExportError> {
    environ::check_name(name)?;
    if name == STATUS {
        return Err(ExportError::Status);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_word_exports_nothing() {
        let mut vars = Vars::default();
        let err = export(&mut vars, &["MARSH_T_A=1", "1X=y"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'1X' is not a valid name: a letter or _, then letters, digits or _"
        );
        assert!(!environ::contains("MARSH_T_A"));
    }

    #[test]
    fn export_of_a_variable_keeps_both_in_step() {
        let mut vars = Vars::default();
        vars.set("MARSH_T_B", Var::Value(Value::Int(7)));
        export(&mut vars, &["MARSH_T_B"]).unwrap();
        assert_eq!(environ::text("MARSH_T_B").as_deref(), Some("7"));
        assert!(matches!(
            vars.get("MARSH_T_B"),
            Some(Var::Value(Value::Int(7)))
        ));
        export(&mut vars, &["MARSH_T_B=x=y"]).unwrap();
        assert_eq!(environ::text("MARSH_T_B").as_deref(), Some("x=y"));
        assert!(matches!(vars.get("MARSH_T_B"), Some(Var::Value(Value::Str(s))) if &**s == "x=y"));
        unset(&mut vars, &["MARSH_T_B"]).unwrap();
        assert!(!environ::contains("MARSH_T_B"));
        assert!(vars.get("MARSH_T_B").is_none());
    }

    #[test]
    fn an_unset_name_cannot_be_exported_and_status_never() {
        let mut vars = Vars::default();
        assert!(matches!(
            export(&mut vars, &["MARSH_T_NEVER_SET"]),
            Err(ExportError::NotSet(_))
        ));
        assert!(matches!(
            export(&mut vars, &["STATUS=1"]),
            Err(ExportError::Status)
        ));
        assert!(matches!(
            unset(&mut vars, &["STATUS"]),
            Err(ExportError::Status)
        ));
    }
}

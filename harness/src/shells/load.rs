//! Reading an adapter file: strict TOML (an unknown field is an error, with the closest known
//! one), then the checks that make an adapter usable (the prompt has its counter, the status
//! pattern compiles and captures the number). Every error names the file and, where there is
//! one, the line.

use std::path::{Path, PathBuf};

use super::Adapter;

/// The fields an adapter file may have.
pub const FIELDS: &[&str] = &[
    "name",
    "program",
    "args",
    "term",
    "prompt",
    "version_args",
    "jobs_style",
    "env",
    "files",
    "status_command",
    "status_pattern",
];

/// An adapter file that cannot be used: where, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {problem}", path.display(), line.map_or(String::new(), |l| format!(":{l}")))]
pub struct AdapterError {
    /// The file (`<name>.toml` for a built-in adapter).
    pub path: PathBuf,
    /// The line the problem is on, when it is on one.
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: AdapterProblem,
}

/// What is wrong with an adapter file.
#[derive(Debug, thiserror::Error)]
pub enum AdapterProblem {
    /// It cannot be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A field that adapters do not have.
    #[error("unknown field `{field}`{}; the fields are {}", did_you_mean(.suggestion), FIELDS.join(", "))]
    UnknownField {
        /// The field as written.
        field: String,
        /// The known field closest to it.
        suggestion: Option<&'static str>,
    },
    /// Not TOML, a missing field, or a value of the wrong type (the toml crate's words).
    #[error("{0}")]
    Toml(String),
    /// `prompt` has no `{n}`.
    #[error("`prompt` must contain `{{n}}` where the shell shows its prompt counter")]
    NoCounter,
    /// `status_pattern` is not a regex with a group 1.
    #[error("`status_pattern` /{pattern}/ {reason}")]
    BadStatusPattern {
        /// The pattern.
        pattern: String,
        /// Why it cannot be used.
        reason: String,
    },
}

fn did_you_mean(s: &Option<&str>) -> String {
    s.map_or(String::new(), |s| format!(" (did you mean `{s}`?)"))
}

impl Adapter {
    /// Load an adapter file (see [`Adapter::parse`]).
    pub fn load(path: &Path) -> Result<Adapter, AdapterError> {
        let text = std::fs::read_to_string(path).map_err(|e| AdapterError {
            path: path.to_path_buf(),
            line: None,
            problem: e.into(),
        })?;
        Adapter::parse(path, &text)
    }

    /// Parse and check adapter TOML; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Adapter, AdapterError> {
        let err = |line: Option<usize>, problem| AdapterError {
            path: path.to_path_buf(),
            line,
            problem,
        };
        let a: Adapter = toml::from_str(text).map_err(|e| {
            // A missing field's span is the whole file: no line to point at.
            let whole = e.message().starts_with("missing field");
            let line = e.span().filter(|_| !whole).map(|s| line_of(text, s.start));
            err(line, toml_problem(&e))
        })?;
        a.check()
            .map_err(|(field, problem)| err(field_line(text, field), problem))?;
        Ok(a)
    }

    /// The checks of [`Adapter::parse`] beyond TOML: the failing field and why.
    pub fn check(&self) -> Result<(), (&'static str, AdapterProblem)> {
        if !self.prompt.contains("{n}") {
            return Err(("prompt", AdapterProblem::NoCounter));
        }
        if let Some(p) = &self.status_pattern {
            let bad = |reason: String| {
                let pattern = p.clone();
                (
                    "status_pattern",
                    AdapterProblem::BadStatusPattern { pattern, reason },
                )
            };
            let re = regex::Regex::new(p).map_err(|e| bad(format!("is not a regex: {e}")))?;
            if re.captures_len() < 2 {
                return Err(bad("has no group 1 capturing the status".into()));
            }
        }
        Ok(())
    }
}

/// The problem a toml error describes: an unknown field (with a suggestion) or its message.
fn toml_problem(e: &toml::de::Error) -> AdapterProblem {
    let msg = e.message();
    let field = msg
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(f, _)| f.to_string());
    match field {
        Some(field) => AdapterProblem::UnknownField {
            suggestion: closest_field(&field),
            field,
        },
        None => AdapterProblem::Toml(msg.trim().to_string()),
    }
}

fn closest_field(field: &str) -> Option<&'static str> {
    let best = crate::scenario::closest(field, FIELDS.iter().copied())?;
    FIELDS.iter().copied().find(|f| *f == best)
}

/// The 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The line assigning top-level `field`, if any.
fn field_line(text: &str, field: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(field)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> AdapterError {
        Adapter::parse(Path::new("my.toml"), text).unwrap_err()
    }

    #[test]
    fn a_misspelt_field_names_its_line_and_the_field_meant() {
        let e = error("name = 'x'\nprogram = 'x'\npromt = 'x {n}$ '\n");
        assert_eq!(e.line, Some(3), "{e}");
        let s = e.to_string();
        assert!(
            s.starts_with("my.toml:3: unknown field `promt` (did you mean `prompt`?)"),
            "{s}"
        );
    }

    #[test]
    fn a_bad_status_pattern_or_a_prompt_without_counter_is_refused() {
        let base = "name = 'x'\nprogram = 'x'\n";
        let e = error(&format!(
            "{base}prompt = 'x {{n}}$ '\nstatus_pattern = 'S=(\\d+'\n"
        ));
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().contains("is not a regex"), "{e}");
        let e = error(&format!(
            "{base}prompt = 'x {{n}}$ '\nstatus_pattern = 'S=\\d+'\n"
        ));
        assert!(e.to_string().contains("no group 1"), "{e}");
        let e = error(&format!("{base}prompt = 'x $ '\n"));
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains("{n}"), "{e}");
    }

    #[test]
    fn a_missing_field_is_said_in_toml_words() {
        let e = error("name = 'x'\nprogram = 'x'\n");
        assert_eq!(e.to_string(), "my.toml: missing field `prompt`");
    }

    #[test]
    fn the_builtin_adapters_pass_the_checks() {
        for a in crate::shells::builtin() {
            assert!(a.check().is_ok(), "{}", a.name);
        }
    }
}

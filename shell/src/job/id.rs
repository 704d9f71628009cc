//! Job specs: how the user names a job in `fg`, `bg`, `kill`, `wait` and `jobs`.
//!
//! | text              | job                                                        |
//! |-------------------|------------------------------------------------------------|
//! | `%%`, `%+`, `%`   | the current job                                            |
//! | `%-`              | the previous job (the current one when it is alone)        |
//! | `%3`, `3`         | job number 3                                               |
//! | `%name`, `name`   | the job whose command line starts with `name`              |
//! | `%?text`, `?text` | the job whose command line contains `text`                 |
//!
//! A bare word works like bash's `fg sleep`; for `kill` and `wait` a bare number is a pid, and
//! the caller decides that before parsing a spec. A name or text matching more than one job is
//! an error ("ambiguous job spec"), as in bash; none is "no such job".

use super::{JobNumber, JobTable};

/// A parsed job spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobSpec {
    Current,
    Previous,
    Number(u32),
    /// Command line starts with this.
    Prefix(String),
    /// Command line contains this.
    Contains(String),
}

/// Why a spec names no job. Displays as bash's message without the builtin's name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("{0}: no such job")]
    NoSuchJob(String),
    #[error("{0}: ambiguous job spec")]
    Ambiguous(String),
    #[error("no current job")]
    NoCurrent,
    #[error("no previous job")]
    NoPrevious,
}

impl JobSpec {
    /// Parses a spec; never fails (a spec that names nothing fails at [`JobSpec::resolve`]).
    pub fn parse(text: &str) -> JobSpec {
        let body = text.strip_prefix('%').unwrap_or(text);
        match body {
            "" | "%" | "+" => JobSpec::Current,
            "-" => JobSpec::Previous,
            _ if body.bytes().all(|b| b.is_ascii_digit()) => {
                JobSpec::Number(body.parse().unwrap_or(u32::MAX))
            }
            _ => match body.strip_prefix('?') {
                Some(t) => JobSpec::Contains(t.to_string()),
                None => JobSpec::Prefix(body.to_string()),
            },
        }
    }

    /// The job this spec names in `table`. `text` is the spec as typed, for messages.
    pub fn resolve(&self, table: &JobTable, text: &str) -> Result<JobNumber, SpecError> {
        let no_such = || SpecError::NoSuchJob(text.to_string());
        match self {
            JobSpec::Current => table.current().ok_or(SpecError::NoCurrent),
            JobSpec::Previous => table
                .previous()
                .or(table.current())
                .ok_or(SpecError::NoPrevious),
            JobSpec::Number(n) => JobNumber::new(*n)
                .filter(|n| table.get(*n).is_some())
                .ok_or_else(no_such),
            JobSpec::Prefix(p) => unique(table, text, |c| c.starts_with(p.as_str())),
            JobSpec::Contains(t) => unique(table, text, |c| c.contains(t.as_str())),
        }
    }
}

fn unique(
    table: &JobTable,
    text: &str,
    pred: impl Fn(&str) -> bool,
) -> Result<JobNumber, SpecError> {
    let mut found = table.iter().filter(|j| pred(j.command()));
    match (found.next(), found.next()) {
        (Some(j), None) => Ok(j.number()),
        (Some(_), Some(_)) => Err(SpecError::Ambiguous(text.to_string())),
        (None, _) => Err(SpecError::NoSuchJob(text.to_string())),
    }
}

/// A job spec as the user typed it: its parsed form, and its text for messages. The
/// builtins make these from their arguments; the job core takes nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    form: JobSpec,
    text: String,
}

impl Spec {
    /// The spec `text` (`%2`, `%-`, `%?cat`, `vim`).
    pub fn parse(text: &str) -> Spec {
        Spec {
            form: JobSpec::parse(text),
            text: text.to_string(),
        }
    }

    /// `%+`, what `fg`, `bg` and `kill %` mean without a spec.
    pub fn current() -> Spec {
        Spec::parse("%+")
    }

    /// The job this spec names in `table`.
    pub fn resolve(&self, table: &JobTable) -> Result<JobNumber, SpecError> {
        self.form.resolve(table, &self.text)
    }
}

/// Parses and resolves in one step.
pub fn resolve(table: &JobTable, text: &str) -> Result<JobNumber, SpecError> {
    JobSpec::parse(text).resolve(table, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{Pgid, Pid, WaitStatus};

    fn table() -> JobTable {
        let mut t = JobTable::new();
        for (p, cmd) in [(10, "sleep 30"), (20, "sleep 40 | cat"), (30, "vim notes")] {
            let pid = Pid::from_raw(p);
            t.add(Pgid::led_by(pid), vec![(pid, cmd.into())], cmd, false);
        }
        t
    }

    fn n(t: &JobTable, s: &str) -> Result<u32, String> {
        resolve(t, s).map(|n| n.get()).map_err(|e| e.to_string())
    }

    #[test]
    fn parse_forms() {
        assert_eq!(JobSpec::parse("%%"), JobSpec::Current);
        assert_eq!(JobSpec::parse("%+"), JobSpec::Current);
        assert_eq!(JobSpec::parse("%"), JobSpec::Current);
        assert_eq!(JobSpec::parse("%-"), JobSpec::Previous);
        assert_eq!(JobSpec::parse("%12"), JobSpec::Number(12));
        assert_eq!(JobSpec::parse("12"), JobSpec::Number(12));
        assert_eq!(JobSpec::parse("%vi"), JobSpec::Prefix("vi".into()));
        assert_eq!(JobSpec::parse("%?cat"), JobSpec::Contains("cat".into()));
    }

    #[test]
    fn resolution() {
        let t = table();
        assert_eq!(n(&t, "%%"), Ok(3));
        assert_eq!(n(&t, "%+"), Ok(3));
        assert_eq!(n(&t, "%-"), Ok(2));
        assert_eq!(n(&t, "%1"), Ok(1));
        assert_eq!(n(&t, "2"), Ok(2));
        assert_eq!(n(&t, "%vim"), Ok(3));
        assert_eq!(n(&t, "%?cat"), Ok(2));
        assert_eq!(n(&t, "%?notes"), Ok(3));
    }

    #[test]
    fn errors_read_like_bash() {
        let t = table();
        assert_eq!(n(&t, "%9"), Err("%9: no such job".into()));
        assert_eq!(n(&t, "%0"), Err("%0: no such job".into()));
        assert_eq!(n(&t, "%sleep"), Err("%sleep: ambiguous job spec".into()));
        assert_eq!(n(&t, "%?zzz"), Err("%?zzz: no such job".into()));
        assert_eq!(n(&t, "%?s"), Err("%?s: ambiguous job spec".into()));
    }

    #[test]
    fn empty_table() {
        let t = JobTable::new();
        assert_eq!(n(&t, "%%"), Err("no current job".into()));
        assert_eq!(n(&t, "%-"), Err("no previous job".into()));
    }

    #[test]
    fn single_job_is_also_previous() {
        let mut t = JobTable::new();
        let p = Pid::from_raw(5);
        t.add(Pgid::led_by(p), vec![(p, "x".into())], "x", false);
        assert_eq!(n(&t, "%-"), Ok(1));
        t.update(WaitStatus::Exited(p, 0));
        t.take_reports();
        assert_eq!(n(&t, "%-"), Err("no previous job".into()));
    }
}

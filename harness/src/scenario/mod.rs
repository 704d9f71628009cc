//! Scenario files: parsing and running one scenario against one shell.
//!
//! The format is documented in `fixtures/README.md`. Invariants: parsing is strict (an unknown
//! step is an error with its line number); a step restricted to some shells (`type[fish] …`,
//! `type[!fish] …`) runs only for them; every wait has a deadline; after the last step the
//! universal checks run (terminal owned by a living shell, no leftover process; for marsh, the
//! reservoir directory agrees with `env`, or is gone once the shell has ended).
//!
//! Layers: `parse` reads a file into a [`Scenario`] (this module's types), `run` plays one
//! against one shell, `snapshot` names and filters the screen text kept in insta snapshots.

mod parse;
mod run;
mod snapshot;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::shells::{Adapter, JobState};

pub use crate::catalogue::EXT;
pub use parse::parse;
pub use run::{Outcome, run, run_steps};
pub use snapshot::{
    SNAPSHOT_FILTERS, filter_snapshot, read_snapshot, snapshot_body, snapshot_name,
};

/// Oils-style annotation of a shell's behaviour in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Differs from the others as expected; runs normally.
    Ok,
    /// A known bug: runs; a failure is reported as the known bug, a pass as "fixed?".
    Bug,
    /// Not implemented: the pair is ignored.
    NotImplemented,
}

/// An annotation with its reason.
#[derive(Clone, Debug)]
pub struct Annotation {
    /// OK, BUG or N-I.
    pub verdict: Verdict,
    /// What was observed, in the annotation's words.
    pub reason: String,
}

/// Whom a signal goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The terminal's foreground process group (`fg`).
    Foreground,
    /// The shell process (`shell`).
    Shell,
    /// The process group of the last `wait fg` / `wait bg` (`job`).
    Job,
}

/// One action.
#[derive(Clone, Debug)]
pub enum Action {
    /// `type LINE`: the line and Enter.
    Type(String),
    /// `key K` / `send HEX…`: raw bytes to the master.
    Key(Vec<u8>),
    /// `signal SIG TARGET`.
    Signal(Signal, Target),
    /// `pause 250ms`.
    Pause(Duration),
    /// `hangup`: close the master.
    Hangup,
    /// `wait prompt`: the next numbered prompt.
    WaitPrompt,
    /// `wait output REGEX`.
    WaitOutput(String),
    /// `wait fg CMD…`: a foreground job running exactly these commands.
    WaitFg(Vec<String>),
    /// `wait bg CMD…`: a background group running these commands.
    WaitBg(Vec<String>),
    /// `wait process CMD`: a process of the session runs CMD.
    WaitProcess(String),
    /// `wait busy`: the shell runs the typed line, keys are signals.
    WaitBusy,
    /// `wait idle`: the shell is blocked reading input.
    WaitIdle,
    /// `wait stopped N` / `wait running N`: the job's N processes are in that state.
    WaitJob {
        /// Stopped (else running).
        stopped: bool,
        /// How many processes the job has.
        count: usize,
    },
    /// `wait gone`: no process of the job is left.
    WaitJobGone,
    /// `wait exit`: the shell has exited.
    WaitExit,
    /// The shell is blocked waiting for a child (its `wait` builtin, say).
    WaitShellWaiting,
    /// `wait reading` / `wait reading isig-off`: the typed line was read and the shell (or its
    /// foreground job) waits for more input with ^C/^Z turned into signals (the `read`
    /// builtin); `isig-off`: the shell's `read` may read with ISIG off (ksh93).
    WaitReading(bool),
    /// `wait shell-running`: the shell runs shell code (in no system call) with ^C/^Z turned
    /// into signals (a loop of builtins).
    WaitShellRunning,
    /// `expect output REGEX`: the output since the last typed line matches.
    ExpectOutput(String),
    /// `expect no-output REGEX`: it does not.
    ExpectNoOutput(String),
    /// `expect status N`: the adapter's status command shows N.
    ExpectStatus(i32),
    /// `expect jobs STATE…`: `jobs` lists exactly these states, in order.
    ExpectJobs(Vec<JobState>),
    /// The session's processes other than a living shell are exactly these commands (empty:
    /// none); they are then killed, so the final checks see a clean session.
    ExpectSurvivors(Vec<String>),
    /// `snapshot`: add the rendered screen to the pair's snapshot.
    Snapshot,
    /// `check clean`: no process left but the shell.
    CheckClean,
    /// `check reaped`: no process of the job last waited for is left, zombie or not, whatever
    /// its parent.
    CheckReaped,
    /// `check tty`: the terminal belongs to the shell.
    CheckTty,
    /// `check reservoirs`: marsh's session directory agrees with `env`.
    CheckReservoirs,
}

/// A step with its shell restriction.
#[derive(Clone, Debug)]
pub struct Step {
    /// Line in the scenario file.
    pub line: usize,
    /// The step as written (`wait[!fish] prompt`), for messages.
    pub text: String,
    /// The file the step comes from when it is not the scenario's own (an overlay's).
    pub file: Option<PathBuf>,
    /// `Some(list)`: only these shells (`type[fish] …`).
    pub only: Option<Vec<String>>,
    /// Shells this step is not for (`type[!fish] …`).
    pub except: Vec<String>,
    /// What it does.
    pub action: Action,
}

impl Step {
    /// Where the step is, for a failure: its file (`scenario`'s unless an overlay's), line, text.
    pub fn location(&self, scenario: &Scenario) -> crate::session::StepRef {
        crate::session::StepRef {
            file: self.file.clone().unwrap_or_else(|| scenario.path.clone()),
            line: self.line,
            text: self.text.clone(),
        }
    }

    /// Whether this step runs for `shell`.
    pub fn applies(&self, shell: &str) -> bool {
        if self.except.iter().any(|s| s == shell) {
            return false;
        }
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == shell))
    }
}

impl Scenario {
    /// The steps that run for `shell`, in order.
    pub fn steps_for(&self, shell: &str) -> Vec<Step> {
        self.steps
            .iter()
            .filter(|s| s.applies(shell))
            .cloned()
            .collect()
    }
}

/// A parsed scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Path under `fixtures/` without extension, e.g. `posix/stop-pipeline-one-job`.
    pub name: String,
    /// One line saying what it shows.
    pub title: String,
    /// Group of the catalogue (`group: A. Foreground Ctrl-C`), for reports.
    pub group: Option<String>,
    /// The file it was read from.
    pub path: PathBuf,
    /// Shells the scenario is meant for (`None`: all).
    pub shells: Option<Vec<String>>,
    /// Per-shell annotations (OK, BUG, N-I).
    pub annotations: BTreeMap<String, Annotation>,
    /// The steps, in file order, with their shell restrictions.
    pub steps: Vec<Step>,
    /// Deadline of every wait (`timeout: 3s`; default the session's).
    pub timeout: Option<Duration>,
    /// Programs the scenario runs that must be installed (`needs: marsh`), else it is n/a.
    pub needs: Vec<String>,
    /// Every shell name the file uses (annotations, `shells:`, step restrictions), with its line.
    pub shell_refs: Vec<ShellRef>,
}

/// A shell name used in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellRef {
    /// The line using it.
    pub line: usize,
    /// The name as written.
    pub name: String,
}

/// A scenario file that cannot be loaded: where, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {problem}", path.display())]
pub struct ParseError {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a line of a scenario file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// No step is written so.
    #[error("unknown step `{0}` (the steps are listed in fixtures/README.md)")]
    UnknownStep(String),
    /// A known step whose arguments are wrong.
    #[error("`{step}`: expected {want}")]
    BadArguments {
        /// The line as written.
        step: String,
        /// What the step takes.
        want: &'static str,
    },
    /// A pattern that is not a regex.
    #[error("the pattern /{pattern}/ is not a regex: {reason}")]
    BadRegex {
        /// The pattern.
        pattern: String,
        /// The regex crate's explanation (one line).
        reason: String,
    },
    /// A shell name that is neither built in nor given with `--shell` nor declared by an
    /// overlay.
    #[error("unknown shell `{name}`{}; known shells: {}", did_you_mean(.suggestion), .known.join(", "))]
    UnknownShell {
        /// The name as written.
        name: String,
        /// The known name closest to it, if one is close.
        suggestion: Option<String>,
        /// The known names.
        known: Vec<String>,
    },
}

fn did_you_mean(s: &Option<String>) -> String {
    s.as_ref()
        .map_or(String::new(), |s| format!(" (did you mean `{s}`?)"))
}

/// The candidate closest to `name` if it is close enough to be a slip of the keyboard (at
/// one edit for a name of up to four letters, two for a longer one; a transposition counts
/// one); among
/// equally close ones, the most similar by Jaro-Winkler (which favours a common start:
/// `fsh` is `fish`, not `zsh`).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let score = |c: &str| {
        (
            strsim::damerau_levenshtein(name, c),
            strsim::jaro_winkler(name, c),
        )
    };
    candidates
        .into_iter()
        .map(|c| (score(c), c))
        .filter(|((d, _), _)| *d <= if name.chars().count() <= 4 { 1 } else { 2 })
        .min_by(|((d1, j1), _), ((d2, j2), _)| d1.cmp(d2).then(j2.total_cmp(j1)))
        .map(|(_, c)| c)
}

impl Scenario {
    /// Every shell name the file uses is one of `known`: the first that is not is an error
    /// with its line and the closest known name.
    pub fn check_shells(&self, known: &[String]) -> Result<(), ParseError> {
        let Some(bad) = self.shell_refs.iter().find(|r| !known.contains(&r.name)) else {
            return Ok(());
        };
        let suggestion = closest(&bad.name, known.iter().map(String::as_str)).map(String::from);
        Err(ParseError {
            path: self.path.clone(),
            line: bad.line,
            problem: Problem::UnknownShell {
                name: bad.name.clone(),
                suggestion,
                known: known.to_vec(),
            },
        })
    }
}

/// Why a (scenario, shell) pair is not run, if it is not; `availability` is
/// [`Adapter::availability`] (computed once per shell by the caller).
pub fn skip_reason(
    scn: &Scenario,
    adapter: &Adapter,
    availability: &Result<String, String>,
) -> Option<String> {
    if let Some(a) = scn.annotations.get(&adapter.name)
        && a.verdict == Verdict::NotImplemented
    {
        return Some(format!("N-I: {}", a.reason));
    }
    if let Some(list) = &scn.shells
        && !list.iter().any(|s| s == &adapter.name)
    {
        return Some(format!("scenario is for {}", list.join(", ")));
    }
    let checks_status = scn
        .steps
        .iter()
        .any(|st| st.applies(&adapter.name) && matches!(st.action, Action::ExpectStatus(_)));
    if checks_status && adapter.status_line().is_none() {
        return Some(format!(
            "N-I: the {} adapter knows no status command",
            adapter.name
        ));
    }
    if let Some(p) = scn
        .needs
        .iter()
        .find(|p| crate::shells::find_in_path(p).is_none())
    {
        return Some(format!("needs {p}, which is not installed"));
    }
    availability.as_ref().err().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn parses_steps_and_annotations() {
        let text = "title: t\ngroup: A. x\n# c\ntype sleep 30\ntype[fish] sleep 31\nkey ctrl-z\nwait fg sleep cat\n\
                    wait stopped 2\nexpect jobs Stopped\nsignal INT job\npause 10ms\nOK zsh mksh: wording\nN-I fish: no\n";
        let s = parse("a/b", Path::new("a/b.jc"), text).unwrap();
        assert_eq!(s.steps.len(), 8);
        assert_eq!(s.group.as_deref(), Some("A. x"));
        assert!(s.steps[0].applies("bash"));
        assert!(!s.steps[1].applies("bash") && s.steps[1].applies("fish"));
        assert_eq!(s.annotations["mksh"].verdict, Verdict::Ok);
        assert_eq!(s.annotations["fish"].verdict, Verdict::NotImplemented);
        assert!(parse("x", Path::new("x"), "frobnicate\n").is_err());
        let s = parse("x", Path::new("x"), "type[!fish] a\n").unwrap();
        assert!(s.steps[0].applies("bash") && !s.steps[0].applies("fish"));
    }

    fn known() -> Vec<String> {
        ["bash", "zsh", "fish", "yash"].map(String::from).to_vec()
    }

    /// The error of loading `text` (parse, then the shell-name check).
    fn load_error(text: &str) -> ParseError {
        let p = Path::new("fixtures/x/y.jc");
        match parse("x/y", p, text) {
            Err(e) => e,
            Ok(s) => s.check_shells(&known()).expect_err("loads"),
        }
    }

    #[test]
    fn unknown_shell_names_are_errors_with_line_and_suggestion() {
        for (text, line, name, want) in [
            ("title: t\nOK zhs: wording\n", 2, "zhs", Some("zsh")),
            ("type[fsh] a\n", 1, "fsh", Some("fish")),
            (
                "type a\n\nexpect[!yahs] status 0\n",
                3,
                "yahs",
                Some("yash"),
            ),
            ("shells: bash tcsh\n", 1, "tcsh", None),
        ] {
            let e = load_error(text);
            assert_eq!(e.line, line, "{e}");
            let Problem::UnknownShell {
                name: n,
                suggestion,
                ..
            } = &e.problem
            else {
                panic!("{e}");
            };
            assert_eq!((n.as_str(), suggestion.as_deref()), (name, want));
            assert!(
                e.to_string()
                    .starts_with(&format!("fixtures/x/y.jc:{line}: ")),
                "{e}"
            );
        }
        assert!(
            load_error("OK zhs: w\n")
                .to_string()
                .contains("did you mean `zsh`?")
        );
    }

    #[test]
    fn bad_arguments_and_regexes_are_errors_at_load() {
        for (text, want) in [
            ("expect status abc\n", "an exit status"),
            ("wait output [unclosed\n", "is not a regex"),
            ("expect output a(b\n", "is not a regex"),
            ("expect no-output *x\n", "is not a regex"),
            ("expect jobs Stoped\n", "job states"),
            ("key ctrl-q\n", "a key"),
        ] {
            let e = parse("x", Path::new("x.jc"), &format!("type a\n{text}")).unwrap_err();
            assert_eq!(e.line, 2, "{e}");
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
        let s = parse("x", Path::new("x.jc"), "expect status 258\n").unwrap();
        assert!(matches!(s.steps[0].action, Action::ExpectStatus(258)));
    }

    #[test]
    fn a_scenario_needing_a_missing_program_is_not_applicable() {
        let s = parse(
            "x",
            Path::new("x.jc"),
            "needs: no-such-program-jc\ntype true\n",
        )
        .unwrap();
        let a = crate::shells::by_name("bash").unwrap();
        let why = skip_reason(&s, &a, &Ok("5".into())).unwrap();
        assert_eq!(why, "needs no-such-program-jc, which is not installed");
    }

    #[test]
    fn filters_pids() {
        assert_eq!(filter_snapshot("[1] 12345\n"), "[1] <pid>\n");
        assert_eq!(
            filter_snapshot("1       23424   0%      running sleep 30\n"),
            "1  <pgid>  0%  running sleep 30\n"
        );
        assert_eq!(filter_snapshot("[2]     823\n"), "[2] <pid>\n");
        assert_eq!(filter_snapshot("[1] 12 13\n"), "[1] <pid>\n");
        assert_eq!(filter_snapshot("[1] + Running  x\n"), "[1] + Running  x\n");
        assert_eq!(
            filter_snapshot("^Z[1] + Stopped  x\n"),
            "^Z[1] + Stopped  x\n"
        );
        assert_eq!(
            filter_snapshot("wait: warning: job 1[2945] stopped"),
            "wait: warning: job 1[<pid>] stopped"
        );
    }
}

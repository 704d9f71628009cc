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
    /// `expect output REGEX`: the output since the last typed line matches.
    ExpectOutput(String),
    /// `expect no-output REGEX`: it does not.
    ExpectNoOutput(String),
    /// `expect status N`: the adapter's status command shows N.
    ExpectStatus(String),
    /// `expect jobs STATE…`: `jobs` lists exactly these states, in order.
    ExpectJobs(Vec<JobState>),
    /// The session's processes other than a living shell are exactly these commands (empty:
    /// none); they are then killed, so the final checks see a clean session.
    ExpectSurvivors(Vec<String>),
    /// `snapshot`: add the rendered screen to the pair's snapshot.
    Snapshot,
    /// `check clean`: no process left but the shell.
    CheckClean,
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

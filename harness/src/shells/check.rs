//! Checking an adapter against its shell (`jobcheck check-adapter FILE.toml`): what every
//! scenario takes for granted, tried once in one session, each failure with what to change.
//!
//! Invariants: the checks run in order and each needs the ones before it (a shell with no
//! numbered prompt cannot show that it grows), so after the first failure the rest are
//! reported as not run; the session is torn down when the check ends, whatever happened.

use nix::sys::signal::Signal;
use std::fmt;

use super::Adapter;
use crate::session::{GroupState, Key, Options, Session, quote_output};

/// One property of an adapter and its shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// The shell starts and shows the adapter's prompt with a number.
    Starts,
    /// The number grows after a command.
    GrowsAfterCommand,
    /// A foreground command runs as a job that owns the terminal.
    JobControl,
    /// ^C of a foreground `sleep` ends it and a higher number comes.
    GrowsAfterCtrlC,
    /// ^Z of a foreground `sleep` stops it and a higher number comes.
    GrowsAfterCtrlZ,
    /// The status command shows the last command's exit status.
    StatusCommand,
}

/// The properties in the order they are checked.
pub const PROPERTIES: [Property; 6] = [
    Property::Starts,
    Property::GrowsAfterCommand,
    Property::JobControl,
    Property::GrowsAfterCtrlC,
    Property::GrowsAfterCtrlZ,
    Property::StatusCommand,
];

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Property::Starts => "starts with the numbered prompt",
            Property::GrowsAfterCommand => "the prompt number grows after a command",
            Property::JobControl => "job control is on (a foreground job owns the terminal)",
            Property::GrowsAfterCtrlC => "^C of a foreground sleep: a new prompt, number grown",
            Property::GrowsAfterCtrlZ => "^Z of a foreground sleep: stopped, a new prompt",
            Property::StatusCommand => "the status command shows the last exit status",
        })
    }
}

/// What went wrong with one property: what was seen, and what to change in the adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The harness's sentence (what was expected, what was seen).
    pub seen: String,
    /// What to change.
    pub fix: String,
}

/// How one property came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It holds.
    Holds,
    /// It does not.
    Fails(Problem),
    /// Not tried: an earlier property it needs failed.
    NotRun,
}

/// The result of checking an adapter.
#[derive(Clone, Debug)]
pub struct Report {
    /// The adapter's name.
    pub shell: String,
    /// Every property with its outcome, in [`PROPERTIES`] order.
    pub results: Vec<(Property, Outcome)>,
}

impl Report {
    /// Whether every property holds.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|(_, o)| *o == Outcome::Holds)
    }

    /// The outcome of `p`.
    pub fn outcome(&self, p: Property) -> &Outcome {
        self.results
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, o)| o)
            .unwrap_or(&Outcome::NotRun)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (p, o) in &self.results {
            match o {
                Outcome::Holds => writeln!(f, "ok    {p}")?,
                Outcome::NotRun => writeln!(f, "--    {p} (not run)")?,
                Outcome::Fails(pr) => {
                    writeln!(f, "FAIL  {p}")?;
                    writeln!(f, "      seen: {}", pr.seen)?;
                    writeln!(f, "      change: {}", pr.fix)?;
                }
            }
        }
        let verdict = if self.passed() {
            "usable"
        } else {
            "not usable yet"
        };
        writeln!(f, "adapter {}: {verdict}", self.shell)
    }
}

/// Check `adapter` in one session started with `opts` (its timeout bounds every wait).
pub fn check(adapter: &Adapter, opts: Options) -> Report {
    let mut results = Vec::new();
    let mut failed = false;
    let mut session = None;
    for p in PROPERTIES {
        if failed {
            results.push((p, Outcome::NotRun));
            continue;
        }
        let outcome = match step(p, adapter, &opts, &mut session) {
            Ok(()) => Outcome::Holds,
            Err(problem) => {
                failed = true;
                Outcome::Fails(problem)
            }
        };
        results.push((p, outcome));
    }
    // Dropping the session tears it down (and kills what the checks left).
    drop(session);
    Report {
        shell: adapter.name.clone(),
        results,
    }
}

/// Try one property in the session (started by [`Property::Starts`]).
fn step(
    p: Property,
    adapter: &Adapter,
    opts: &Options,
    session: &mut Option<Session>,
) -> Result<(), Problem> {
    if p == Property::Starts {
        return start(adapter, opts, session);
    }
    let s = session.as_mut().expect("started by the first property");
    match p {
        Property::Starts => Ok(()),
        Property::GrowsAfterCommand => grows_after_command(s),
        Property::JobControl => job_control(s).map(|_| ()),
        Property::GrowsAfterCtrlC => after_key(s, Key::CtrlC),
        Property::GrowsAfterCtrlZ => {
            let s_ref = &mut *s;
            let job = job_control(s_ref)?;
            after_key(s_ref, Key::CtrlZ)?;
            s_ref
                .wait_group_state(job, 1, GroupState::Stopped)
                .map_err(|f| problem(f.sentence(), STOP_FIX))?;
            // The stopped sleep is not needed any more (teardown would end it too).
            let _ = s_ref.signal_pgid(job, Signal::SIGKILL);
            Ok(())
        }
        Property::StatusCommand => status_command(s, adapter),
    }
}

const PROMPT_FIX: &str = "make `prompt` the prompt exactly as the shell shows it, `{n}` where its counter is, and set the counter up in [env] or [files] (e.g. PS1='myshell $((JC_N+=1))$ ' in an ENV file); `args` must start it interactive without the user's rc files";
const GROW_FIX: &str = "count at each new prompt, not once: in PS1 with $((JC_N+=1)) (re-expanded at each prompt) or in a pre-prompt hook (bash PROMPT_COMMAND, zsh precmd, tcsh alias precmd, fish --on-event fish_prompt)";
const JOB_FIX: &str = "start the shell interactive with job control on (`-i`, and `-m` or `set -m` in the rc file): a foreground command must run in a process group of its own that the terminal belongs to";
const INTR_FIX: &str = "the shell must print a new prompt, counted, after a foreground job ends by a signal: count in the prompt itself rather than in a hook the shell skips after ^C";
const STOP_FIX: &str = "the shell must get the terminal back and print a new prompt, counted, when its foreground job stops (job control on, a counter that grows at every prompt)";

fn problem(seen: &str, fix: &str) -> Problem {
    Problem {
        seen: seen.to_string(),
        fix: fix.to_string(),
    }
}

fn start(adapter: &Adapter, opts: &Options, session: &mut Option<Session>) -> Result<(), Problem> {
    let mut s = Session::spawn_with(adapter, opts.clone()).map_err(|f| {
        problem(
            f.sentence(),
            "set `program` to the shell's executable (in PATH or an absolute path) and `args` to what starts it interactive",
        )
    })?;
    let first = s.wait_prompt();
    *session = Some(s);
    first
        .map(|_| ())
        .map_err(|f| problem(f.sentence(), PROMPT_FIX))
}

fn grows_after_command(s: &mut Session) -> Result<(), Problem> {
    s.type_line("true")
        .and_then(|()| s.wait_prompt())
        .map(|_| ())
        .map_err(|f| problem(f.sentence(), GROW_FIX))
}

fn job_control(s: &mut Session) -> Result<crate::Pgid, Problem> {
    s.type_line("sleep 30")
        .and_then(|()| s.wait_foreground_job(&["sleep"]))
        .map_err(|f| problem(f.sentence(), JOB_FIX))
}

fn after_key(s: &mut Session, key: Key) -> Result<(), Problem> {
    let fix = if key == Key::CtrlC {
        INTR_FIX
    } else {
        STOP_FIX
    };
    s.key(key)
        .and_then(|()| s.wait_prompt())
        .map(|_| ())
        .map_err(|f| problem(f.sentence(), fix))
}

fn status_command(s: &mut Session, adapter: &Adapter) -> Result<(), Problem> {
    let Some(cmd) = adapter.status_line().map(str::to_string) else {
        return Err(problem(
            "the adapter has no `status_command`: scenarios with `expect status` are N-I for it",
            "set `status_command` to a line that prints the last exit status (`echo $?`; fish, tcsh: `echo $status`)",
        ));
    };
    let fix = format!(
        "set `status_command` to a line that prints the last exit status (now `{cmd}`) and `status_pattern` to a regex whose group 1 is the number in its output (default: a line that is only the number)"
    );
    s.run("sh -c 'exit 7'")
        .map_err(|f| problem(f.sentence(), &fix))?;
    let got = s.run(&cmd).map_err(|f| problem(f.sentence(), &fix))?;
    match adapter.parse_status(&got) {
        Some(7) => Ok(()),
        Some(n) => Err(problem(
            &format!("after `sh -c 'exit 7'`, `{cmd}` showed status {n}"),
            &fix,
        )),
        None => Err(problem(
            &format!(
                "after `sh -c 'exit 7'`, `{cmd}` printed {}, which holds no status",
                quote_output(&got)
            ),
            &fix,
        )),
    }
}

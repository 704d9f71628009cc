//! `trap`: the shell's table of actions for signals and for its own exit.
//!
//! `trap 'LIST' SIG...` sets an action (marsh source, run in the shell), `trap '' SIG...`
//! ignores the signals, `trap - SIG...` puts back the shell's own handling, `trap` alone lists
//! the table as `trap -- 'LIST' SIGNAME` lines that can be typed back.
//!
//! Invariants:
//! - Only [`Trappable`] signals enter the table: SIGKILL and SIGSTOP cannot be caught, and the
//!   signals job control runs on (SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGWINCH) stay
//!   the shell's, so the terminal and the job table stay consistent.
//! - An action never runs in signal context: a caught signal only marks itself
//!   ([`crate::job::System::take_caught`]); the shell collects the marks into
//!   [`Traps::pending`] and runs the actions between commands, at the prompt and when a `wait`
//!   gives up ([`Traps::next_pending`]). An action does not run inside another action: a
//!   signal that arrives meanwhile waits until the running one ends.

use super::{Control, Shell};
use crate::job::{Disposition, Errno, Signal, System};
use std::collections::{BTreeMap, BTreeSet};

/// A signal `trap` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Trappable(Signal);

/// The signals `trap` accepts, in the order the listing shows them.
pub const TRAPPABLE: [Signal; 7] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGTERM,
];

impl Trappable {
    /// `sig`, or why `trap` refuses it.
    pub fn new(sig: Signal) -> Result<Trappable, TrapError> {
        match sig {
            Signal::SIGKILL | Signal::SIGSTOP => Err(TrapError::Uncatchable(short_name(sig))),
            s if TRAPPABLE.contains(&s) => Ok(Trappable(s)),
            s => Err(TrapError::JobControl(short_name(s))),
        }
    }

    /// The signal.
    pub fn signal(self) -> Signal {
        self.0
    }
}

/// What a trap is set on: a signal, or the shell's exit (`EXIT`, `0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    Exit,
    Signal(Trappable),
}

impl Condition {
    /// A condition as `trap` takes it: `EXIT` or `0`, a signal's name with or without `SIG`
    /// in any case (`USR1`, `sigusr1`), or its number (`10`).
    pub fn parse(word: &str) -> Result<Condition, TrapError> {
        if word == "0" || word.eq_ignore_ascii_case("EXIT") {
            return Ok(Condition::Exit);
        }
        let unknown = || TrapError::NoSuchSignal(word.to_string());
        let sig = if word.bytes().all(|b| b.is_ascii_digit()) {
            word.parse::<i32>()
                .ok()
                .and_then(|n| Signal::try_from(n).ok())
                .ok_or_else(unknown)?
        } else {
            let upper = word.to_ascii_uppercase();
            let full = if upper.starts_with("SIG") {
                upper
            } else {
                format!("SIG{upper}")
            };
            full.parse::<Signal>().map_err(|_| unknown())?
        };
        Trappable::new(sig).map(Condition::Signal)
    }

    /// The name the listing shows: `EXIT`, `SIGINT`, ... (bash's spelling).
    pub fn name(self) -> &'static str {
        match self {
            Condition::Exit => "EXIT",
            Condition::Signal(t) => t.signal().as_str(),
        }
    }
}

/// A signal's name without `SIG`, for messages.
fn short_name(sig: Signal) -> String {
    sig.as_str().trim_start_matches("SIG").to_string()
}

/// What the shell does on a trapped condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `trap '' SIG`: the shell ignores the signal (the programs it starts get its default
    /// action back, as every signal marsh handles).
    Ignore,
    /// Marsh source run in the shell.
    Run(String),
}

impl Action {
    fn text(&self) -> &str {
        match self {
            Action::Ignore => "",
            Action::Run(text) => text,
        }
    }
}

/// A `trap` command line, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `trap`: print the table.
    List,
    /// `trap LIST SIG...` or `trap '' SIG...`.
    Set(Action, Vec<Condition>),
    /// `trap - SIG...`.
    Reset(Vec<Condition>),
}

/// Why a `trap` command was refused; each is one line after `trap: `.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrapError {
    #[error("usage: trap ['LIST' | '' | -] SIG...")]
    Usage,
    #[error("{0}: no such signal")]
    NoSuchSignal(String),
    #[error("{0}: SIGKILL and SIGSTOP cannot be caught or ignored")]
    Uncatchable(String),
    #[error("{0}: cannot be trapped: marsh runs job control on it")]
    JobControl(String),
    #[error("{0}: {1}")]
    Disposition(String, Errno),
}

impl Request {
    /// The words after `trap`. A first word `--` is skipped; an action without a signal is
    /// refused rather than guessed at.
    pub fn parse(words: &[&str]) -> Result<Request, TrapError> {
        let words = match words {
            ["--", rest @ ..] => rest,
            other => other,
        };
        let conditions = |words: &[&str]| {
            words
                .iter()
                .map(|w| Condition::parse(w))
                .collect::<Result<Vec<_>, _>>()
        };
        match words {
            [] => Ok(Request::List),
            [_] => Err(TrapError::Usage),
            ["-", sigs @ ..] => Ok(Request::Reset(conditions(sigs)?)),
            ["", sigs @ ..] => Ok(Request::Set(Action::Ignore, conditions(sigs)?)),
            [text, sigs @ ..] => Ok(Request::Set(
                Action::Run((*text).to_string()),
                conditions(sigs)?,
            )),
        }
    }
}

/// The trap table and the signals caught but not yet acted on.
#[derive(Debug, Default)]
pub struct Traps {
    table: BTreeMap<Condition, Action>,
    pending: BTreeSet<Trappable>,
    /// Whether an action is running (actions do not nest).
    running: bool,
}

impl Traps {
    /// Sets `action` on `condition`; returns the disposition the signal needs now.
    pub fn set(&mut self, condition: Condition, action: Action) -> Option<(Signal, Disposition)> {
        let disposition = match action {
            Action::Ignore => Disposition::Ignore,
            Action::Run(_) => Disposition::Catch,
        };
        self.table.insert(condition, action);
        match condition {
            Condition::Exit => None,
            Condition::Signal(t) => {
                self.pending.remove(&t);
                Some((t.signal(), disposition))
            }
        }
    }

    /// Removes the trap on `condition`; returns the signal whose own handling comes back.
    pub fn reset(&mut self, condition: Condition) -> Option<Signal> {
        self.table.remove(&condition);
        match condition {
            Condition::Exit => None,
            Condition::Signal(t) => {
                self.pending.remove(&t);
                Some(t.signal())
            }
        }
    }

    /// The action on `condition`, if one is set.
    pub fn action(&self, condition: Condition) -> Option<&Action> {
        self.table.get(&condition)
    }

    /// Whether any signal has an action to run (the prompt then listens for them).
    pub fn any_signal_action(&self) -> bool {
        self.table
            .iter()
            .any(|(c, a)| matches!((c, a), (Condition::Signal(_), Action::Run(_))))
    }

    /// The signals with an action to run.
    pub fn trapped(&self) -> impl Iterator<Item = Trappable> + '_ {
        self.table.iter().filter_map(|(c, a)| match (c, a) {
            (Condition::Signal(t), Action::Run(_)) => Some(*t),
            _ => None,
        })
    }

    /// Marks every trapped signal for which `caught` says it arrived; returns the first.
    pub fn catch(&mut self, mut caught: impl FnMut(Signal) -> bool) -> Option<Signal> {
        let arrived: Vec<Trappable> = self.trapped().filter(|t| caught(t.signal())).collect();
        self.pending.extend(arrived.iter().copied());
        arrived.first().map(|t| t.signal())
    }

    /// The next action to run (its signal unmarked), unless an action is running. The caller
    /// runs it, then calls [`Traps::done`].
    pub fn next_pending(&mut self) -> Option<String> {
        if self.running {
            return None;
        }
        let t = self.pending.pop_first()?;
        let text = self.action(Condition::Signal(t))?.text().to_string();
        self.running = true;
        Some(text)
    }

    /// Takes the action of the shell's exit, to run it once.
    pub fn take_exit(&mut self) -> Option<String> {
        match self.table.remove(&Condition::Exit)? {
            Action::Run(text) => Some(text),
            Action::Ignore => None,
        }
    }

    /// The action started by [`Traps::next_pending`] has ended.
    pub fn done(&mut self) {
        self.running = false;
    }

    /// The table as `trap` prints it: one `trap -- 'LIST' NAME` line each, `EXIT` first, then
    /// by signal number.
    pub fn listing(&self) -> String {
        self.table
            .iter()
            .map(|(c, a)| format!("trap -- {} {}\n", quote(a.text()), c.name()))
            .collect()
    }
}

impl Shell {
    /// Sets `action` on `condition`, in the table and in the signal's disposition.
    pub(super) fn set_trap(
        &mut self,
        condition: Condition,
        action: Action,
    ) -> Result<(), TrapError> {
        if let Some((sig, disposition)) = self.traps.set(condition, action) {
            self.jobs
                .system()
                .set_disposition(sig, disposition)
                .map_err(|e| TrapError::Disposition(short_name(sig), e))?;
        }
        Ok(())
    }

    /// Removes the trap on `condition`: the signal gets the shell's own handling back.
    pub(super) fn reset_trap(&mut self, condition: Condition) -> Result<(), TrapError> {
        if let Some(sig) = self.traps.reset(condition) {
            let own = super::signals::own_disposition(sig, self.jobs.interactive());
            self.jobs
                .system()
                .set_disposition(sig, own)
                .map_err(|e| TrapError::Disposition(short_name(sig), e))?;
        }
        Ok(())
    }

    /// Whether a trapped signal arrived whose action has not run yet.
    pub fn trap_pending(&mut self) -> bool {
        let sys = *self.jobs.system();
        self.traps.catch(|s| sys.take_caught(s));
        !self.traps.pending.is_empty()
    }

    /// ctrl-c at the prompt (a key there, not a signal): marks INT if it is trapped; returns
    /// whether it is.
    pub fn trap_interrupt_key(&mut self) -> bool {
        self.traps.catch(|s| s == Signal::SIGINT).is_some()
    }

    /// Runs the actions of the trapped signals that arrived, each once, keeping `STATUS`
    /// across them. `Exit` when one ran `exit`.
    pub fn run_traps(&mut self) -> Control {
        let sys = *self.jobs.system();
        self.traps.catch(|s| sys.take_caught(s));
        while let Some(text) = self.traps.next_pending() {
            let status = self.status();
            let control = self.run_line(&text);
            self.traps.done();
            self.vars.set_status(status);
            if let Control::Exit(code) = control {
                return Control::Exit(code);
            }
        }
        Control::Continue
    }

    /// Runs the `EXIT` trap, once, as the shell leaves with `status`; returns the status to
    /// leave with (an `exit N` in the action changes it).
    pub fn run_exit_trap(&mut self, status: i32) -> i32 {
        let Some(text) = self.traps.take_exit() else {
            return status;
        };
        self.vars.set_status(status);
        match self.run_line(&text) {
            Control::Exit(code) => code,
            Control::Continue => status,
        }
    }
}

/// `text` in single quotes, each `'` in it written `'\''`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(s: Signal) -> Condition {
        Condition::Signal(Trappable::new(s).unwrap())
    }

    #[test]
    fn conditions_by_name_number_and_exit() {
        for word in ["USR1", "SIGUSR1", "usr1", "SigUsr1", "10"] {
            assert_eq!(Condition::parse(word), Ok(sig(Signal::SIGUSR1)), "{word}");
        }
        assert_eq!(Condition::parse("EXIT"), Ok(Condition::Exit));
        assert_eq!(Condition::parse("0"), Ok(Condition::Exit));
        assert_eq!(Condition::parse("2"), Ok(sig(Signal::SIGINT)));
    }

    #[test]
    fn bad_conditions_say_why_in_one_line() {
        let message = |w: &str| Condition::parse(w).unwrap_err().to_string();
        assert_eq!(message("NOSUCH"), "NOSUCH: no such signal");
        assert_eq!(message("99"), "99: no such signal");
        assert_eq!(message(""), ": no such signal");
        assert_eq!(
            message("KILL"),
            "KILL: SIGKILL and SIGSTOP cannot be caught or ignored"
        );
        assert_eq!(
            message("sigstop"),
            "STOP: SIGKILL and SIGSTOP cannot be caught or ignored"
        );
        assert_eq!(
            message("CHLD"),
            "CHLD: cannot be trapped: marsh runs job control on it"
        );
        assert_eq!(
            message("TSTP"),
            "TSTP: cannot be trapped: marsh runs job control on it"
        );
    }

    #[test]
    fn requests() {
        assert_eq!(Request::parse(&[]), Ok(Request::List));
        assert_eq!(Request::parse(&["--"]), Ok(Request::List));
        assert_eq!(
            Request::parse(&["echo hi", "USR1", "TERM"]),
            Ok(Request::Set(
                Action::Run("echo hi".into()),
                vec![sig(Signal::SIGUSR1), sig(Signal::SIGTERM)]
            ))
        );
        assert_eq!(
            Request::parse(&["--", "-", "INT"]),
            Ok(Request::Reset(vec![sig(Signal::SIGINT)]))
        );
        assert_eq!(
            Request::parse(&["", "QUIT"]),
            Ok(Request::Set(Action::Ignore, vec![sig(Signal::SIGQUIT)]))
        );
        assert_eq!(Request::parse(&["echo hi"]), Err(TrapError::Usage));
        assert_eq!(
            Request::parse(&["x", "USR1", "NOSUCH"]),
            Err(TrapError::NoSuchSignal("NOSUCH".into()))
        );
        assert_eq!(
            Request::parse(&["x", "KILL"]),
            Err(TrapError::Uncatchable("KILL".into()))
        );
    }

    #[test]
    fn table_dispositions_and_pending_actions() {
        let mut traps = Traps::default();
        let usr1 = sig(Signal::SIGUSR1);
        assert_eq!(
            traps.set(usr1, Action::Run("echo one".into())),
            Some((Signal::SIGUSR1, Disposition::Catch))
        );
        assert_eq!(
            traps.set(sig(Signal::SIGQUIT), Action::Ignore),
            Some((Signal::SIGQUIT, Disposition::Ignore))
        );
        assert_eq!(traps.set(Condition::Exit, Action::Run("bye".into())), None);
        assert!(traps.any_signal_action());
        // An ignored signal has no action to run; an untrapped one is not marked.
        let only = |sig: Signal| move |s: Signal| s == sig;
        assert_eq!(traps.catch(only(Signal::SIGQUIT)), None);
        assert_eq!(traps.catch(only(Signal::SIGUSR2)), None);
        assert_eq!(
            traps.catch(|s| s == Signal::SIGUSR1 || s == Signal::SIGUSR2),
            Some(Signal::SIGUSR1)
        );
        assert_eq!(traps.next_pending().as_deref(), Some("echo one"));
        // Actions do not nest: a signal caught during one waits for it to end.
        assert!(traps.catch(only(Signal::SIGUSR1)).is_some());
        assert_eq!(traps.next_pending(), None);
        traps.done();
        assert_eq!(traps.next_pending().as_deref(), Some("echo one"));
        traps.done();
        assert_eq!(traps.next_pending(), None);
        // Resetting forgets a caught signal along with its action.
        assert!(traps.catch(only(Signal::SIGUSR1)).is_some());
        assert_eq!(traps.reset(usr1), Some(Signal::SIGUSR1));
        assert_eq!(traps.next_pending(), None);
        assert!(!traps.any_signal_action());
        assert_eq!(traps.take_exit().as_deref(), Some("bye"));
        assert_eq!(traps.take_exit(), None);
    }

    #[test]
    fn listing_can_be_typed_back() {
        let mut traps = Traps::default();
        traps.set(sig(Signal::SIGTERM), Action::Run("echo 'bye'".into()));
        traps.set(sig(Signal::SIGINT), Action::Ignore);
        traps.set(Condition::Exit, Action::Run("echo done".into()));
        assert_eq!(
            traps.listing(),
            "trap -- 'echo done' EXIT\ntrap -- '' SIGINT\ntrap -- 'echo '\\''bye'\\''' SIGTERM\n"
        );
    }
}

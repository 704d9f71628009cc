//! A marsh session: its variables, `STATUS`, and the commands that run in the shell itself.
//!
//! [`Shell::run_line`] takes one line: a parse error prints its position and runs nothing; an
//! assignment or a builtin (`cd`, `env`, `help`, ...) changes the shell; a pipeline is built
//! and run. Every outcome lands in `STATUS`.

mod builtins;
mod compound;
pub mod dirs;
pub mod expand;
pub mod exports;
mod flow;
pub mod jobs;
pub mod origin;
pub mod signals;
mod streams;
pub mod substitute;
pub mod traps;
pub mod vars;

use crate::exec::{self, Outcome, Output};
use crate::expr;
use crate::job::{RealSystem, System};
use crate::ops::{OpError, Reporter};
use crate::reservoir::Session;
use crate::syntax::ast::{
    AndOr, AssignValue, Command, CommandBody, List, ListItem, Pipeline, Sink as AstSink, Stage,
    Unit,
};
use crate::syntax::{self, ParseError};
use crate::value::Value;
use flow::Flow;
use std::io::Write;
use vars::{ARGV, SCRIPT, STATUS, Var, Vars};

/// What the caller should do after a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// `exit`: leave with this status.
    Exit(i32),
}

/// One session of the shell.
pub struct Shell {
    pub vars: Vars,
    /// The session directory that holds reservoirs, or why there is none.
    session: Result<Session, String>,
    pub jobs: jobs::Jobs<RealSystem>,
    /// Where pipelines send what they would print: set in the forked copy that runs a group or
    /// loop whose output is stored or written to a file (`{ ... } >$ x`).
    output: Option<compound::SharedOutput>,
    /// Where the running line comes from; it starts the shell's error messages.
    pub origin: origin::Origin,
    /// Whether the shell reported an error (not a program's failure) since the last
    /// [`Shell::take_error`].
    error_seen: bool,
    /// `cd -` and the directory stack.
    pub dirs: dirs::Dirs,
    /// `trap`'s table and the trapped signals caught but not yet acted on.
    pub traps: traps::Traps,
}

impl Default for Shell {
    fn default() -> Shell {
        Shell::new()
    }
}

impl Shell {
    /// A new session: opens (and locks) the reservoir directory, reaping those of dead shells.
    pub fn new() -> Shell {
        expand::remember_shell_pid();
        let session = Session::open().map_err(|e| e.to_string());
        let jobs = jobs::Jobs::new();
        if let Ok(s) = &session {
            jobs.system().set_exit_cleanup(Some(s.dir()), None);
        }
        Shell {
            vars: Vars::default(),
            session,
            jobs,
            output: None,
            origin: origin::Origin::default(),
            error_seen: false,
            dirs: dirs::Dirs::default(),
            traps: traps::Traps::default(),
        }
    }

    /// Binds `ARGV` (a list of str: `args`) and, for a script, `SCRIPT` (its path).
    pub fn bind_arguments(
        &mut self,
        script: Option<&std::path::Path>,
        args: &[std::ffi::OsString],
    ) {
        use std::os::unix::ffi::OsStrExt;
        let text = |s: &std::ffi::OsStr| crate::value::raw::decode(s.as_bytes()).into_owned();
        let argv = args.iter().map(|a| Value::str(&text(a))).collect();
        self.vars.set(ARGV, Var::Value(Value::list(argv)));
        if let Some(path) = script {
            self.vars
                .set(SCRIPT, Var::Value(Value::str(&text(path.as_os_str()))));
        }
    }

    /// Whether the shell reported an error since the last call: a line that did not parse or
    /// a command that could not run (a program's non-zero status is not one).
    pub fn take_error(&mut self) -> bool {
        std::mem::take(&mut self.error_seen)
    }

    /// A shell for a terminal: takes the terminal (stopping itself first while it is in the
    /// background), then installs its signal handlers. Every pipeline then runs as a job.
    pub fn interactive() -> Shell {
        let mut shell = Shell::new();
        let sys = *shell.jobs.system();
        let original_owner = sys.getpgrp();
        match shell.jobs.control.take_terminal() {
            Ok(()) => {
                if let Ok(modes) = sys.tcgetattr() {
                    sys.set_exit_cleanup(None, Some((modes, original_owner)));
                }
            }
            Err(e) => eprintln!("marsh: no job control: {e}"),
        }
        signals::install(&sys, true);
        shell
    }

    /// Installs the signal handlers of a shell that reads no terminal (`-c`, a script).
    pub fn install_batch_signals(&self) {
        signals::install(self.jobs.system(), false);
    }

    /// Reaps, commits the stores of ended jobs, and prints the notices due before a prompt.
    pub fn before_prompt(&mut self) {
        self.jobs.before_prompt(&mut self.vars);
    }

    /// `exit` or ctrl-d: warns once when jobs remain; otherwise ends them and says leave.
    pub fn request_exit(&mut self, status: i32) -> Control {
        use crate::job::ExitCheck;
        if !self.jobs.interactive() {
            return Control::Exit(status);
        }
        match self.jobs.control.check_exit() {
            ExitCheck::Warn(text) => {
                jobs::say(&text);
                self.vars.set_status(1);
                Control::Continue
            }
            ExitCheck::Proceed => {
                // The EXIT trap runs while the shell still has its terminal and jobs.
                let status = self.run_exit_trap(status);
                self.jobs.control.hangup_all();
                self.jobs.control.release_terminal();
                Control::Exit(status)
            }
        }
    }

    /// The reservoir session directory, if it could be made.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref().ok()
    }

    /// The last command's status.
    pub fn status(&self) -> i32 {
        self.vars.status()
    }

    /// Runs one command line (or several joined by continuation).
    pub fn run_line(&mut self, line: &str) -> Control {
        let list = match syntax::parse_list(line) {
            Ok(l) => l,
            Err(e) => {
                report_parse_error(&self.origin, None, line, &e);
                self.error_seen = true;
                self.vars.set_status(1);
                return Control::Continue;
            }
        };
        if self.jobs.interactive() {
            // A background store that ended since the prompt was drawn commits before this
            // line runs, so the line sees it (its notice still waits for the next prompt).
            self.jobs.reap_if_signalled();
            self.jobs.settle(&mut self.vars);
        }
        // A line of one simple command keeps its text as typed for `jobs`.
        let flow = match list.single_simple() {
            Some((body, background)) => self.run_simple(line, body, background),
            None => self.run_list(&list),
        };
        let keep_warning = list
            .single_simple()
            .is_some_and(|(b, _)| keeps_exit_warning(b));
        let control = match flow {
            Flow::Exit(code) => Control::Exit(code),
            _ => self.run_traps(),
        };
        if control == Control::Continue && !keep_warning {
            self.jobs.control.forget_exit_warning();
        }
        control
    }

    /// Runs `text` as marsh source in this shell, as `eval` does: its assignments stay, its
    /// pipelines are jobs as a typed line's are, and how it ended goes to the caller's list (a
    /// job killed by ctrl-c drops the rest of the caller's line too). A parse error is
    /// reported with `op` named and ends it with `STATUS` 1.
    fn run_source(&mut self, op: &str, text: &str) -> Flow {
        let list = match syntax::parse_list(text) {
            Ok(l) => l,
            Err(e) => {
                report_parse_error(&self.origin, Some(op), text, &e);
                self.error_seen = true;
                self.vars.set_status(1);
                return Flow::Next;
            }
        };
        self.vars.set_status(0);
        match list.single_simple() {
            Some((body, background)) => self.run_simple(text, body, background),
            None => self.run_list(&list),
        }
    }

    /// Runs a parsed simple command; `line` is its text, which `jobs` shows.
    pub fn run_command(&mut self, line: &str, command: &Command) -> Control {
        match self.run_simple(line, &command.body, command.background) {
            Flow::Exit(code) => Control::Exit(code),
            _ => Control::Continue,
        }
    }

    /// Runs an assignment or a pipeline; `line` is its text, which `jobs` shows.
    fn run_simple(&mut self, line: &str, body: &CommandBody, background: bool) -> Flow {
        match body {
            CommandBody::Empty => Flow::Next,
            CommandBody::Assign { .. } if background => self.fail(&OpError::new(
                "&",
                "an assignment runs in the shell and cannot be put in the background",
            )),
            CommandBody::Assign { name, value } => {
                let expansions = self.expansions();
                let value = expansions.assign_value(value);
                // `x = $(P)` leaves P's STATUS, as POSIX's `x=$(P)` does.
                let substituted = expansions.substituted.get();
                let result = value.and_then(|value| self.assign(name, &value));
                let flow = self.finish(result);
                if let (Flow::Next, Some(status)) = (flow, substituted) {
                    self.vars.set_status(status);
                }
                flow
            }
            CommandBody::Pipeline(p) if background && runs_substitution_in_copy(p) => {
                // Its `$(P)` must not hold up the shell: the whole command runs in a copy.
                let list = List {
                    items: vec![ListItem {
                        and_or: AndOr {
                            first: Unit::Simple(body.clone()),
                            rest: Vec::new(),
                        },
                        background: false,
                    }],
                };
                self.run_in_copy(
                    line.trim().trim_end_matches('&').trim_end(),
                    list,
                    None,
                    true,
                )
            }
            CommandBody::Pipeline(p) => {
                let p = match self.expansions().pipeline(p) {
                    Ok(p) => p.into_owned(),
                    Err(e) => return self.fail(&e),
                };
                let p = &p;
                if let Some(flow) = self.try_builtin(p, background) {
                    return flow;
                }
                if background || self.jobs.interactive() {
                    let text = line.trim().trim_end_matches('&').trim_end();
                    let session = self.session.as_ref().map_err(String::as_str);
                    return match self.jobs.run(&mut self.vars, session, text, p, background) {
                        Ok(halt) => {
                            self.vars.set_status(halt.status());
                            Flow::after(halt)
                        }
                        Err(e) => self.fail(&e),
                    };
                }
                match self.run_pipeline(p) {
                    Ok(outcome) => {
                        self.vars.set_status(outcome.status);
                        Flow::Next
                    }
                    Err(e) => self.fail(&e),
                }
            }
        }
    }

    /// What `$...` expands to now.
    fn expansions(&self) -> expand::Context<'_> {
        expand::Context::new(&self.vars, self.jobs.last_background)
    }

    fn assign(&mut self, name: &str, value: &AssignValue) -> Result<(), OpError> {
        if name == STATUS {
            return Err(OpError::new(
                "",
                "STATUS is set by the shell and cannot be assigned",
            ));
        }
        let v = match value {
            AssignValue::Word(w) => Value::str(&w.text),
            AssignValue::Expr(e) => {
                expr::eval(e, &self.vars).map_err(|err| OpError::from_eval(name, &err))?
            }
        };
        exports::assigned(name, &v);
        self.vars.set(name, Var::Value(v));
        Ok(())
    }

    /// Builds and runs a pipeline, its source and its sink; commits a store that ran to its
    /// end and rolls back one that did not.
    fn run_pipeline(&mut self, p: &Pipeline) -> Result<Outcome, OpError> {
        let p = streams::normalize(p)?;
        let reporter = Reporter::new();
        let source = p
            .source
            .as_ref()
            .map(|s| streams::source(&self.vars, s))
            .transpose()?;
        let pieces = exec::build(&p.stages, source.is_some(), &self.vars, &reporter)?;
        let (output, pending) = match &p.sink {
            None => match &self.output {
                Some(shared) => (Output::Sink(Box::new(shared.clone())), None),
                None => (Output::Terminal, None),
            },
            Some(AstSink::File { path, append }) => (
                Output::File(exec::sinks::FileWriter::open_word(path, *append)?),
                None,
            ),
            Some(AstSink::Reservoir { name, append }) => {
                streams::check_store_target(&self.vars, name, *append)?;
                let session = self.session.as_ref().map_err(String::as_str);
                let pending = streams::begin_store(session, name)?;
                let sink = streams::StoreSink::new(&pending)?;
                (Output::Sink(Box::new(sink)), Some((pending, *append)))
            }
        };
        let mut outcome = exec::run(source, pieces, output, &reporter, exec::Runner::Shell);
        if let Some((pending, append)) = pending {
            if outcome.completed {
                if let Err(e) = streams::commit(&mut self.vars, pending, append) {
                    exec::report(&e);
                    outcome.status = 1;
                }
            } else if let Err(e) = pending.rollback() {
                exec::report(&OpError::new(
                    ">$",
                    format!("removing the unfinished store: {e}"),
                ));
            }
        }
        Ok(outcome)
    }

    /// Runs `p` in the shell if it is a builtin standing alone.
    fn try_builtin(&mut self, p: &Pipeline, background: bool) -> Option<Flow> {
        let [
            Stage::Op {
                env,
                name,
                args,
                redirects,
            },
        ] = p.stages.as_slice()
        else {
            return None;
        };
        let spec = exec::op_for(name)?;
        let builtin = spec.builtin()?;
        if !env.is_empty() {
            return Some(self.fail(&exec::prefix_before_op(spec.name, env)));
        }
        if p.source.is_some() || p.sink.is_some() {
            return Some(self.fail(&OpError::new(
                spec.name,
                "must stand alone, not in a pipeline",
            )));
        }
        if let Some(r) = redirects.first() {
            return Some(self.fail(&OpError::new(
                spec.name,
                format!(
                    "runs in the shell and takes no '{}'",
                    exec::redirect::spelling(r)
                ),
            )));
        }
        if background {
            return Some(self.fail(&OpError::new(
                spec.name,
                "runs in the shell and cannot be put in the background",
            )));
        }
        let result = builtins::run(self, builtin, spec, args);
        Some(match result {
            Ok(builtins::Done::Status(status)) => {
                self.vars.set_status(status);
                Flow::Next
            }
            Ok(builtins::Done::Ran(flow)) => flow,
            Ok(builtins::Done::Interrupted) => {
                self.vars.set_status(130);
                Flow::Abandon
            }
            Ok(builtins::Done::Trapped(sig)) => {
                self.vars.set_status(128 + sig as i32);
                Flow::Next
            }
            Ok(builtins::Done::Exit(status)) => match self.request_exit(status) {
                Control::Exit(code) => Flow::Exit(code),
                Control::Continue => Flow::Next,
            },
            Err(e) => self.fail(&e),
        })
    }

    fn finish(&mut self, result: Result<(), OpError>) -> Flow {
        match result {
            Ok(()) => {
                self.vars.set_status(0);
                Flow::Next
            }
            Err(e) => self.fail(&e),
        }
    }

    /// Reports `e`; `STATUS` 1, or 130 when ctrl-c gave up an expression, which then ends
    /// the rest of the line as a command killed by ctrl-c does (and runs a trapped INT's
    /// action).
    fn fail(&mut self, e: &OpError) -> Flow {
        exec::report_from(&self.origin, e);
        self.error_seen = true;
        let interrupted = e.kind() == crate::ops::ErrorKind::Interrupted
            && signals::take_interrupt(self.jobs.system());
        if interrupted {
            // A trapped INT still runs its action (after this line is dropped).
            self.traps.catch(|s| s == crate::job::Signal::SIGINT);
        }
        self.vars.set_status(if interrupted { 130 } else { 1 });
        if interrupted {
            Flow::Abandon
        } else {
            Flow::Next
        }
    }
}

/// Whether a background pipeline runs in a forked copy of the shell, so that its `$(P)` runs
/// there: one that stores into a reservoir is expanded in the shell, since a copy cannot store.
fn runs_substitution_in_copy(p: &Pipeline) -> bool {
    expand::has_substitution(p) && !matches!(p.sink, Some(AstSink::Reservoir { .. }))
}

/// Whether a command keeps a pending exit warning: `exit` itself, and `jobs` (looking at the
/// jobs the warning was about is not a reason to warn again — bash's rule).
fn keeps_exit_warning(body: &CommandBody) -> bool {
    matches!(body, CommandBody::Pipeline(p)
        if matches!(p.stages.as_slice(), [Stage::Op { name, .. }]
            if !name.quoted && (name.text == "exit" || name.text == "jobs")))
}

/// A parse error: the message with its column (after `op: ` when an op such as `eval` parsed
/// the text), then the line it is on and a caret under the spot (a command of several lines
/// shows the one the error is on).
pub fn report_parse_error(origin: &origin::Origin, op: Option<&str>, text: &str, e: &ParseError) {
    let at = e.position.min(text.len());
    let start = text
        .get(..at)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |n| n + 1);
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    let line = &text[start..end];
    let column = text
        .get(start..at)
        .map_or(at - start, |s| s.chars().count());
    let below = text[..start].matches('\n').count();
    // A file names the error's own line in its prefix; elsewhere the line within the command.
    let what = if origin.is_file() || below == 0 && !text.contains('\n') {
        format!("parse error at column {}: {}", column + 1, e.message)
    } else {
        format!(
            "parse error at line {}, column {}: {}",
            below + 1,
            column + 1,
            e.message
        )
    };
    let what = match op {
        Some(op) => format!("{op}: {what}"),
        None => what,
    };
    let origin = origin.down(below);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{origin}: {}", crate::ops::one_line(&what));
    let _ = writeln!(err, "  {line}");
    let _ = writeln!(err, "  {}^", " ".repeat(column));
}

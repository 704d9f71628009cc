//! Host programs: any word that is not an op runs a program found on PATH (or by path).
//!
//! First in a pipeline, a program's output lines become string items; later in a pipeline, the
//! items before it are written to its stdin one per line, and its output lines come back. A
//! program that stands last and prints to the terminal gets the terminal itself, so `vim`,
//! `less` and `ls --color` behave as in any shell. stderr always passes through.

use crate::ops::{
    ArgValue, Flow, OpError, Sink, Source, glob_paths, io_reason, is_glob, push_lines,
};
use crate::syntax::ast::EnvPrefix;
use crate::value::Value;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};

/// A resolved program and its expanded arguments, ready to spawn.
#[derive(Debug)]
pub struct HostCommand {
    /// The word the user typed, for messages and `jobs`.
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Its `NAME=VALUE` prefixes, put in its environment on top of the exported one.
    pub env: Vec<EnvVar>,
    /// Its own redirections (`2> f`, `< f`, `2>&1`), opened.
    pub redirects: super::redirect::Redirects,
}

impl HostCommand {
    /// The program and its (expanded) arguments as one line, for `jobs -l`.
    pub fn command_line(&self) -> String {
        let mut line = self.name.clone();
        for arg in &self.args {
            line.push(' ');
            line.push_str(&arg.to_string_lossy());
        }
        line
    }

    /// Resolves `name` on PATH (a `PATH=...` prefix in `env` first) and expands `args` (globs,
    /// `~`). An unknown name is one line.
    pub fn resolve(
        name: &str,
        args: Vec<ArgValue>,
        env: Vec<EnvVar>,
    ) -> Result<HostCommand, OpError> {
        let path = env.iter().rev().find(|v| v.name == "PATH");
        let program =
            find_program_in(name, path.map(|v| v.value.as_os_str())).ok_or_else(|| {
                if name.contains('/') {
                    OpError::new("", format!("{name}: no such program"))
                } else {
                    OpError::new("", format!("unknown op or program: {name}"))
                }
            })?;
        let mut expanded = Vec::new();
        for arg in args {
            match arg {
                // A word's held bytes (from `$NAME` of an environment value) go back as
                // they came.
                ArgValue::Word(w, true) => expanded.push(crate::environ::os_text(&w)),
                ArgValue::Word(w, false) => {
                    let w = expand_tilde(&w);
                    if is_glob(&w) {
                        let matches = glob_paths(&w).map_err(|e| OpError::new(name, e))?;
                        if matches.is_empty() {
                            // As POSIX shells do: an unmatched pattern is passed on as written.
                            expanded.push(OsString::from(w));
                        } else {
                            expanded.extend(matches.into_iter().map(PathBuf::into_os_string));
                        }
                    } else {
                        expanded.push(crate::environ::os_text(&w));
                    }
                }
                ArgValue::Value(v) => expanded.push(value_word(&v)),
                ArgValue::Func(_) => {
                    return Err(OpError::new(
                        name,
                        "a program cannot take a function as an argument",
                    ));
                }
            }
        }
        Ok(HostCommand {
            name: name.to_string(),
            program,
            args: expanded,
            env,
            redirects: Default::default(),
        })
    }

    /// The program as a `Command` reading `stdin` and writing `stdout`, for a caller that
    /// starts it itself (the shell, through its `System`). Its redirections apply after
    /// `stdin` and `stdout` are in place; then `stdout_after`, if given, becomes its stdout
    /// (the pipeline's `> f` after a program's own redirections). The files must stay open
    /// until the program has started.
    pub fn command(&self, stdin: Stdio, stdout: Stdio, stdout_after: Option<&File>) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).stdin(stdin).stdout(stdout);
        // argv[0] is the word the user typed, as shells do.
        cmd.arg0(&self.name);
        crate::environ::apply(
            &mut cmd,
            self.env
                .iter()
                .map(|v| (v.name.as_os_str(), v.value.as_os_str())),
        );
        if !self.redirects.is_empty() || stdout_after.is_some() {
            let mut plan = self.redirects.plan(stdout_after);
            // SAFETY: the closure makes only async-signal-safe calls (fcntl, dup2) and does not
            // allocate: the plan is built here, before the fork.
            unsafe {
                cmd.pre_exec(move || super::redirect::apply_in_child(&mut plan));
            }
        }
        cmd
    }

    /// The error to show when the program could not be started.
    pub fn spawn_error(&self, e: &std::io::Error) -> OpError {
        OpError::new(&self.name, io_reason(e))
    }

    /// Spawns the program. `before_exec` runs in the child between fork and exec (job control
    /// puts the child in its process group there); signal dispositions are reset there too.
    pub fn spawn(
        &self,
        (stdin, stdout, stdout_after): (Stdio, Stdio, Option<&File>),
        before_exec: Option<ChildSetup>,
    ) -> Result<Child, OpError> {
        let mut cmd = self.command(stdin, stdout, stdout_after);
        // SAFETY: the closure only makes async-signal-safe calls (sigaction, setpgid, prctl).
        unsafe {
            cmd.pre_exec(move || {
                if let Some(setup) = &before_exec {
                    setup();
                }
                reset_signals();
                Ok(())
            });
        }
        cmd.spawn().map_err(|e| self.spawn_error(&e))
    }
}

/// A [`ChildSetup`] that asks for SIGKILL when the spawning process (a job's leader) dies, so
/// no program outlives the job that started it.
pub fn die_with_spawner() -> ChildSetup {
    std::sync::Arc::new(|| {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    })
}

/// Extra work in a forked child before exec (async-signal-safe calls only): joining the job's
/// process group, taking the terminal, arranging to die with the job.
pub type ChildSetup = std::sync::Arc<dyn Fn() + Send + Sync>;

pub use crate::job::system::reset_signals;

/// One variable of a program's own environment, from a `NAME=VALUE` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: OsString,
    pub value: OsString,
}

impl EnvVar {
    /// An expanded prefix; a `~` that starts the value or follows a `:` is the home directory,
    /// as in POSIX assignments (`PATH=~/bin:$PATH`).
    pub fn from_prefix(prefix: &EnvPrefix) -> EnvVar {
        let value = prefix
            .value
            .text
            .split(':')
            .map(expand_tilde)
            .collect::<Vec<_>>()
            .join(":");
        EnvVar {
            name: OsString::from(&prefix.name),
            value: crate::environ::os_text(&value),
        }
    }
}

/// Finds an executable: a name with a slash is a path; otherwise each PATH directory in turn.
pub fn find_program(name: &str) -> Option<PathBuf> {
    find_program_in(name, None)
}

/// [`find_program`] with `path` in place of the exported PATH, when given.
fn find_program_in(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let p = PathBuf::from(expand_tilde(name));
        return is_executable(&p).then_some(p);
    }
    let path = path
        .map(OsString::from)
        .or_else(|| crate::environ::get("PATH"))
        .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// `~` and `~/rest` become the home directory.
pub fn expand_tilde(word: &str) -> String {
    if (word == "~" || word.starts_with("~/"))
        && let Some(home) = crate::environ::get("HOME")
    {
        let mut out = home.into_vec();
        out.extend_from_slice(&word.as_bytes()[1..]);
        return String::from_utf8_lossy(&out).into_owned();
    }
    word.to_string()
}

/// A value passed as a program's argument: its text, a string's held bytes given back.
fn value_word(v: &Value) -> OsString {
    crate::environ::value_text(v)
}

/// The status a finished program leaves in `STATUS`: its exit code, or 128 + the signal.
pub fn status_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    }
}

/// Feeds items to a program's stdin, one line each. The program closing its stdin (EPIPE)
/// stops the upstream, as `head` does.
pub struct StdinWriter {
    name: String,
    out: Option<std::io::BufWriter<ChildStdin>>,
}

impl StdinWriter {
    pub fn new(name: &str, stdin: ChildStdin) -> StdinWriter {
        StdinWriter {
            name: name.to_string(),
            out: Some(std::io::BufWriter::with_capacity(64 * 1024, stdin)),
        }
    }

    fn result(&mut self, r: std::io::Result<()>) -> Result<Flow, OpError> {
        match r {
            Ok(()) => Ok(Flow::Continue),
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                // Drop without flushing again: the reader is gone.
                if let Some(w) = self.out.take() {
                    let (_, _) = w.into_parts();
                }
                Ok(Flow::Stop)
            }
            Err(e) => Err(OpError::new(
                &self.name,
                format!("writing to its input: {}", io_reason(&e)),
            )),
        }
    }
}

impl Sink for StdinWriter {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        let Some(out) = self.out.as_mut() else {
            return Ok(Flow::Stop);
        };
        let r = super::sinks::write_item(out, &item);
        self.result(r)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        // Flush, then close the pipe so the program sees end of input.
        let r = match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        };
        let flow = self.result(r);
        self.out = None;
        flow.map(|_| ())
    }
}

/// A program's output lines as string items. Dropping it closes the pipe, so a program whose
/// reader stopped early ends by SIGPIPE at its next write.
pub struct StdoutLines {
    pub name: String,
    pub stdout: Option<ChildStdout>,
    /// Set when the downstream stopped before the program's output ended.
    pub closed_early: bool,
}

impl Source for StdoutLines {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        let Some(stdout) = self.stdout.take() else {
            return Ok(());
        };
        let name = self.name.clone();
        let complete = push_lines(BufReader::with_capacity(64 * 1024, stdout), sink, |e| {
            OpError::new(&name, format!("reading its output: {}", io_reason(&e)))
        })?;
        self.closed_early = !complete;
        Ok(())
    }
}

//! The `marsh` command: `marsh -c COMMAND [ARGS...]`, `marsh FILE [ARGS...]`, or commands from
//! stdin.
//!
//! `ARGV` holds the ARGS (a list of str, maybe empty; in every mode), and a script's path is
//! in `SCRIPT`. `-c` and stdin go on after a failing line, as a terminal does; a script stops
//! at the first error the shell reports (a line that does not parse, a command that cannot
//! run), which it reports as `FILE:LINE: message`, and marsh exits with status 1. A program's
//! non-zero status is no error: the script goes on, as in POSIX shells.
//!
//! An interactive marsh first runs its startup file ([`startup_file`]).

use crate::shell::origin::Origin;
use crate::shell::{Control, Shell};
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

/// How marsh was asked to run.
pub enum Mode {
    /// `-c COMMAND ARGS...`: one command per line.
    Command { text: String, args: Vec<OsString> },
    /// `marsh FILE ARGS...`: one command per line.
    Script { path: PathBuf, args: Vec<OsString> },
    /// Lines from stdin (a terminal or not).
    Stdin,
}

/// What to do after a line fails.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnError {
    GoOn,
    Stop,
}

/// Runs marsh and returns the process's exit status: the last command's status.
pub fn run(mode: Mode) -> i32 {
    if matches!(mode, Mode::Stdin) && std::io::stdin().is_terminal() {
        let mut shell = Shell::interactive();
        shell.bind_arguments(None, &[]);
        let code = match run_startup(&mut shell) {
            Some(code) => code,
            None => crate::interactive::run(&mut shell),
        };
        return shell.run_exit_trap(code);
    }
    let mut shell = Shell::new();
    shell.install_batch_signals();
    let ended = match mode {
        Mode::Command { text, args } => {
            shell.bind_arguments(None, &args);
            let lines = text.lines().map(|l| Ok(l.to_string()));
            run_lines(&mut shell, lines, OnError::GoOn)
        }
        Mode::Script { path, args } => match std::fs::File::open(&path) {
            Ok(f) => {
                shell.bind_arguments(Some(&path), &args);
                shell.origin = Origin::file(path.display().to_string());
                let lines = lines_of(std::io::BufReader::new(f));
                run_lines(&mut shell, lines, OnError::Stop)
            }
            Err(e) => {
                eprintln!("marsh: {}: {}", path.display(), crate::ops::io_reason(&e));
                return 127;
            }
        },
        Mode::Stdin => {
            shell.bind_arguments(None, &[]);
            run_lines(&mut shell, lines_of(std::io::stdin().lock()), OnError::GoOn)
        }
    };
    let code = ended.unwrap_or_else(|| shell.status());
    shell.run_exit_trap(code)
}

/// The lines of `input` as marsh text: bytes that are not UTF-8 held losslessly
/// (`value::raw`), so they reach programs unchanged.
fn lines_of(input: impl BufRead) -> impl Iterator<Item = std::io::Result<String>> {
    input.split(b'\n').map(|line| {
        line.map(|mut bytes| {
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            crate::value::raw::decode(&bytes).into_owned()
        })
    })
}

/// Runs lines until the input ends (`None`), `exit`, or (`OnError::Stop`) the first error
/// (`Some` exit status). An unfinished command (an open brace, a trailing `|`, `&&`, `||` or
/// `\`) takes the next lines until it is complete, as at the prompt; a wrong one inside an
/// open brace takes them up to that brace's close, so the mistake is reported once; errors
/// name the line it starts on.
fn run_lines(
    shell: &mut Shell,
    lines: impl Iterator<Item = std::io::Result<String>>,
    on_error: OnError,
) -> Option<i32> {
    let mut pending = String::new();
    let mut start = 0;
    let mut lines = lines.enumerate().peekable();
    while let Some((number, line)) = lines.next() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{}: reading input: {e}", shell.origin);
                return Some(1);
            }
        };
        if pending.is_empty() {
            start = number + 1;
        } else {
            pending.push('\n');
        }
        pending.push_str(&line);
        if lines.peek().is_some() && crate::syntax::needs_more_lines(&pending) {
            continue;
        }
        let text = std::mem::take(&mut pending);
        shell.origin.at(start);
        if let Control::Exit(code) = shell.run_line(&text) {
            return Some(code);
        }
        if shell.take_error() && on_error == OnError::Stop {
            return Some(1);
        }
        if !shell.jobs.interactive() {
            // Background jobs that ended meanwhile commit their stores now; a script prints
            // no job notices.
            let _ = shell.jobs.control.reap();
            shell.jobs.settle(&mut shell.vars);
        }
    }
    None
}

/// Runs the startup file of an interactive shell, if there is one (see [`startup_file`]). An
/// error in it is reported with its line and the rest of it still runs, as bash does with its
/// rc file; `exit` in it ends marsh (`Some` status).
fn run_startup(shell: &mut Shell) -> Option<i32> {
    let (path, named) = startup_file()?;
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        // The default file is optional; one named by MARSH_STARTUP is not.
        Err(e) if !named && e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            let reason = crate::ops::io_reason(&e);
            eprintln!("marsh: startup file {}: {reason}", path.display());
            return None;
        }
    };
    shell.origin = Origin::file(path.display().to_string());
    let ended = run_lines(
        shell,
        lines_of(std::io::BufReader::new(file)),
        OnError::GoOn,
    );
    shell.origin = Origin::default();
    shell.take_error();
    ended
}

/// The startup file: `$MARSH_STARTUP` when set and not empty (`true`: named, so a missing one
/// is reported), else `$XDG_CONFIG_HOME/marsh/startup.msh` (an absolute XDG_CONFIG_HOME only,
/// as the XDG spec says), else `~/.config/marsh/startup.msh`. `MARSH_STARTUP=/dev/null`
/// starts with none.
pub fn startup_file() -> Option<(PathBuf, bool)> {
    let var = |name| crate::environ::get(name).filter(|v| !v.is_empty());
    if let Some(named) = var("MARSH_STARTUP") {
        return Some((PathBuf::from(named), true));
    }
    let config = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some((config.join("marsh").join("startup.msh"), false))
}

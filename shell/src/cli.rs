//! The `marsh` command: `marsh -c COMMAND [ARGS...]`, `marsh FILE [ARGS...]`, or commands from
//! stdin.
//!
//! `ARGV` holds the ARGS (a list of str, maybe empty; in every mode), and a script's path is
//! in `SCRIPT`. `-c` and stdin go on after a failing line, as a terminal does; a script stops
//! at the first error the shell reports (a line that does not parse, a command that cannot
//! run), which it reports as `FILE:LINE: message`, and marsh exits with status 1. A program's
//! non-zero status is no error: the script goes on, as in POSIX shells.

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
        return crate::interactive::run(&mut shell);
    }
    let mut shell = Shell::new();
    shell.install_batch_signals();
    match mode {
        Mode::Command { text, args } => {
            shell.bind_arguments(None, &args);
            let lines = text.lines().map(|l| Ok(l.to_string()));
            run_lines(&mut shell, lines, OnError::GoOn)
        }
        Mode::Script { path, args } => match std::fs::File::open(&path) {
            Ok(f) => {
                shell.bind_arguments(Some(&path), &args);
                shell.origin = Origin::file(path.display().to_string());
                run_lines(
                    &mut shell,
                    lines_of(std::io::BufReader::new(f)),
                    OnError::Stop,
                )
            }
            Err(e) => {
                eprintln!("marsh: {}: {}", path.display(), crate::ops::io_reason(&e));
                127
            }
        },
        Mode::Stdin => {
            shell.bind_arguments(None, &[]);
            run_lines(&mut shell, lines_of(std::io::stdin().lock()), OnError::GoOn)
        }
    }
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

/// Runs lines until the input ends, `exit`, or (`OnError::Stop`) the first error.
fn run_lines(
    shell: &mut Shell,
    lines: impl Iterator<Item = std::io::Result<String>>,
    on_error: OnError,
) -> i32 {
    for (number, line) in lines.enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{}: reading input: {e}", shell.origin);
                return 1;
            }
        };
        shell.origin.at(number + 1);
        if let Control::Exit(code) = shell.run_line(&line) {
            return code;
        }
        if shell.take_error() && on_error == OnError::Stop {
            return 1;
        }
        // Background jobs that ended meanwhile commit their stores now; a script prints no
        // job notices.
        let _ = shell.jobs.control.reap();
        shell.jobs.settle(&mut shell.vars);
    }
    shell.status()
}

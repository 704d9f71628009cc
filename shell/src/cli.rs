//! The `marsh` command: `marsh -c COMMAND`, `marsh FILE`, or commands from stdin.

use crate::shell::{Control, Shell};
use std::io::{BufRead, IsTerminal};

/// How marsh was asked to run.
pub enum Mode {
    /// `-c COMMAND`: one command line.
    Command(String),
    /// `marsh FILE`: one command per line.
    Script(std::path::PathBuf),
    /// Lines from stdin (a terminal or not).
    Stdin,
}

/// Runs marsh and returns the process's exit status: the last command's status.
pub fn run(mode: Mode) -> i32 {
    if matches!(mode, Mode::Stdin) && std::io::stdin().is_terminal() {
        let mut shell = Shell::interactive();
        return crate::interactive::run(&mut shell);
    }
    let mut shell = Shell::new();
    shell.install_batch_signals();
    match mode {
        Mode::Command(text) => run_lines(&mut shell, text.lines().map(|l| Ok(l.to_string()))),
        Mode::Script(path) => match std::fs::File::open(&path) {
            Ok(f) => run_lines(&mut shell, std::io::BufReader::new(f).lines()),
            Err(e) => {
                eprintln!("marsh: {}: {}", path.display(), crate::ops::io_reason(&e));
                127
            }
        },
        Mode::Stdin => run_lines(&mut shell, std::io::stdin().lock().lines()),
    }
}

/// Runs lines until the input ends or `exit`; a failing command does not stop the rest. An
/// unfinished command (an open brace, a trailing `|`, `&&`, `||` or `\`) takes the next lines
/// until it is complete, as at the prompt.
fn run_lines(shell: &mut Shell, lines: impl Iterator<Item = std::io::Result<String>>) -> i32 {
    let mut pending = String::new();
    let mut lines = lines.peekable();
    while let Some(line) = lines.next() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("marsh: reading input: {e}");
                return 1;
            }
        };
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(&line);
        if lines.peek().is_some() && crate::syntax::is_unfinished(&pending) {
            continue;
        }
        let text = std::mem::take(&mut pending);
        if let Control::Exit(code) = shell.run_line(&text) {
            return code;
        }
        // Background jobs that ended meanwhile commit their stores now; a script prints no
        // job notices.
        let _ = shell.jobs.control.reap();
        shell.jobs.settle(&mut shell.vars);
    }
    shell.status()
}

//! The `marsh` command: `marsh -c COMMAND`, `marsh FILE`, or commands from stdin.

use crate::shell::{Control, Shell};
use std::io::{BufRead, IsTerminal, Write};

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
    let mut shell = Shell::new();
    match mode {
        Mode::Command(text) => {
            run_lines(&mut shell, text.lines().map(|l| Ok(l.to_string())), false)
        }
        Mode::Script(path) => match std::fs::File::open(&path) {
            Ok(f) => run_lines(&mut shell, std::io::BufReader::new(f).lines(), false),
            Err(e) => {
                eprintln!("marsh: {}: {}", path.display(), crate::ops::io_reason(&e));
                127
            }
        },
        Mode::Stdin => {
            let interactive = std::io::stdin().is_terminal();
            run_lines(&mut shell, std::io::stdin().lock().lines(), interactive)
        }
    }
}

fn run_lines(
    shell: &mut Shell,
    lines: impl Iterator<Item = std::io::Result<String>>,
    prompt: bool,
) -> i32 {
    if prompt {
        show_prompt();
    }
    for line in lines {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("marsh: reading input: {e}");
                return 1;
            }
        };
        if let Control::Exit(code) = shell.run_line(&line) {
            return code;
        }
        if prompt {
            show_prompt();
        }
    }
    shell.status()
}

fn show_prompt() {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b"marsh> ");
    let _ = out.flush();
}

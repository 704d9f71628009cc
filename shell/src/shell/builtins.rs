//! The ops that run in the shell itself because they change or report on it: `cd`, `pwd`,
//! `env`, `help`, `version`, `exit`, and the job-control builtins `jobs`, `fg`, `bg`, `kill`,
//! `wait`.

use super::Shell;
use super::jobs::say;
use crate::job::{ListFormat, Signal, StateFilter, WaitOutcome};
use crate::ops::{ArgValue, OpArgs, OpError, Reporter, help_text, int_arg};
use crate::syntax::ast::Arg;
use crate::value::Value;
use std::io::Write;

/// How a builtin ended.
pub enum Done {
    /// Go on; `STATUS` becomes this.
    Status(i32),
    /// `exit` with this status (the shell still checks for jobs first).
    Exit(i32),
}

pub fn run(shell: &mut Shell, op: &str, args: &[Arg]) -> Result<Done, OpError> {
    let reporter = Reporter::new();
    let values = OpArgs {
        op,
        args,
        globals: &shell.vars,
        reporter: &reporter,
    }
    .words_and_values()?;
    let words: Vec<String> = values
        .iter()
        .map(|v| word(op, v))
        .collect::<Result<_, _>>()?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let job_error = |e: crate::job::JobError| OpError::new("", e.to_string());
    match (op, words.as_slice()) {
        ("cd", []) => {
            let home = std::env::var("HOME").map_err(|_| OpError::new("cd", "HOME is not set"))?;
            change_dir(&home)?;
        }
        ("cd", [dir]) => change_dir(&crate::exec::host::expand_tilde(dir))?,
        ("pwd", []) => {
            let dir = std::env::current_dir()
                .map_err(|e| OpError::new("pwd", crate::ops::io_reason(&e)))?;
            print(&format!("{}\n", dir.display()));
        }
        ("env", []) => print(&shell.vars.listing()),
        ("env", ["-d", name]) => {
            if *name == super::STATUS {
                return Err(OpError::new("env", "STATUS cannot be deleted"));
            }
            if shell.vars.remove(name).is_none() {
                return Err(OpError::new("env", format!("no variable named {name}")));
            }
        }
        ("help", []) => print(&help_text(None)?),
        ("help", [name]) => print(&help_text(Some(name))?),
        ("version", []) => print(&format!("marsh {}\n", env!("CARGO_PKG_VERSION"))),
        ("exit", []) => return Ok(Done::Exit(shell.status())),
        ("exit", [code]) => {
            let code = int_arg("exit", "STATUS", &ArgValue::Word(code.to_string(), false))?;
            return Ok(Done::Exit((code & 0xff) as i32));
        }
        ("jobs", rest) => {
            let mut format = ListFormat::Standard;
            let mut filter = StateFilter::All;
            let mut specs = Vec::new();
            for w in rest {
                match *w {
                    "-l" => format = ListFormat::Long,
                    "-p" => format = ListFormat::Pgids,
                    "-r" => filter = StateFilter::Running,
                    "-s" => filter = StateFilter::Stopped,
                    spec => specs.push(spec),
                }
            }
            shell.jobs.control.reap().map_err(job_error)?;
            let lines = shell
                .jobs
                .control
                .jobs(format, filter, &specs)
                .map_err(job_error)?;
            shell.jobs.settle(&mut shell.vars);
            for line in lines {
                say(&line);
            }
        }
        ("fg", [] | [_]) => {
            let mut out = std::io::stdout();
            let result = shell.jobs.control.fg(words.first().copied(), &mut out);
            shell.jobs.settle(&mut shell.vars);
            let outcome = result.map_err(job_error)?;
            if let Some(notice) = &outcome.notice {
                say(notice);
            }
            return Ok(Done::Status(outcome.status()));
        }
        ("bg", [] | [_]) => {
            let line = shell
                .jobs
                .control
                .bg(words.first().copied())
                .map_err(job_error)?;
            say(&line);
        }
        ("kill", rest) => {
            let (signal, targets) = kill_args(rest)?;
            if targets.is_empty() {
                return Err(OpError::new(
                    "kill",
                    "usage: kill [-s SIGNAL | -SIGNAL] %JOB|PID...",
                ));
            }
            for target in targets {
                shell.jobs.control.kill(target, signal).map_err(job_error)?;
            }
        }
        ("wait", [] | [_]) => {
            let sys = *shell.jobs.system();
            let mut interrupted = || super::signals::take_interrupt(&sys);
            let result = shell
                .jobs
                .control
                .wait(words.first().copied(), &mut interrupted);
            shell.jobs.settle(&mut shell.vars);
            return match result.map_err(job_error)? {
                WaitOutcome::Done(status) => Ok(Done::Status(status)),
                WaitOutcome::Interrupted => Ok(Done::Status(130)),
            };
        }
        _ => {
            let usage = crate::ops::find(op).map_or("", |s| s.usage);
            return Err(OpError::new(op, format!("usage: {usage}")));
        }
    }
    Ok(Done::Status(0))
}

/// An argument as a word: builtins take words (`%1`, `-9`, a path), or values printed as one.
fn word(op: &str, v: &ArgValue) -> Result<String, OpError> {
    match v {
        ArgValue::Word(w, _) => Ok(w.clone()),
        ArgValue::Value(Value::Str(s)) => Ok(s.to_string()),
        ArgValue::Value(Value::Int(i)) => Ok(i.to_string()),
        other => Err(OpError::new(
            op,
            format!("expected a word, got {}", other.describe()),
        )),
    }
}

/// `kill [-s SIG | -SIG | -N] target...`: the signal (SIGTERM by default) and the targets.
fn kill_args<'a>(args: &[&'a str]) -> Result<(Signal, Vec<&'a str>), OpError> {
    let mut signal = Signal::SIGTERM;
    let mut rest = args;
    match args {
        ["-s", name, tail @ ..] => {
            signal = parse_signal(name)?;
            rest = tail;
        }
        [flag, tail @ ..]
            if flag.len() > 1 && flag.starts_with('-') && !flag[1..].starts_with('-') =>
        {
            // `-9`, `-KILL`, `-SIGKILL`; but `-1234` after a signal would be a group, so only
            // the first argument is read as a signal.
            signal = parse_signal(&flag[1..])?;
            rest = tail;
        }
        _ => {}
    }
    let rest = match rest {
        ["--", tail @ ..] => tail,
        other => other,
    };
    Ok((signal, rest.to_vec()))
}

/// A signal by number (`9`) or name (`KILL`, `SIGKILL`, `kill`).
fn parse_signal(name: &str) -> Result<Signal, OpError> {
    if let Ok(n) = name.parse::<i32>() {
        return Signal::try_from(n)
            .map_err(|_| OpError::new("kill", format!("{name}: invalid signal specification")));
    }
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    full.parse::<Signal>()
        .map_err(|_| OpError::new("kill", format!("{name}: invalid signal specification")))
}

fn change_dir(dir: &str) -> Result<(), OpError> {
    std::env::set_current_dir(dir)
        .map_err(|e| OpError::new("cd", format!("{dir}: {}", crate::ops::io_reason(&e))))
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_reads_signal_forms() {
        assert_eq!(kill_args(&["%1"]).unwrap(), (Signal::SIGTERM, vec!["%1"]));
        assert_eq!(
            kill_args(&["-9", "%1"]).unwrap(),
            (Signal::SIGKILL, vec!["%1"])
        );
        assert_eq!(
            kill_args(&["-KILL", "%1", "%2"]).unwrap(),
            (Signal::SIGKILL, vec!["%1", "%2"])
        );
        assert_eq!(
            kill_args(&["-s", "hup", "42"]).unwrap(),
            (Signal::SIGHUP, vec!["42"])
        );
        assert_eq!(
            kill_args(&["-SIGSTOP", "--", "-42"]).unwrap(),
            (Signal::SIGSTOP, vec!["-42"])
        );
        assert!(kill_args(&["-NOPE", "%1"]).is_err());
    }
}

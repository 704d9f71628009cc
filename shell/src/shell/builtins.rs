//! The ops that run in the shell itself because they change or report on it: `cd`,
//! `pushd`, `popd`, `dirs`, `env`, `export`, `unset`, `help`, `version`, `exit`, `eval`, and the
//! job-control builtins `jobs`, `fg`, `bg`, `kill`, `wait`, `disown`, and `trap`.

use super::Shell;
use super::flow::Flow;
use super::jobs::say;
use crate::job::{
    JobError, KillTarget, ListFormat, Pgid, Pid, Signal, Spec, StateFilter, System, WaitFor,
    WaitOutcome,
};
use crate::ops::{ArgValue, Builtin, OpArgs, OpError, OpSpec, Reporter, help_text, int_arg};
use crate::syntax::ast::Arg;
use crate::value::Value;
use std::io::Write;
use std::path::Path;

/// How a builtin ended.
pub enum Done {
    /// Go on; `STATUS` becomes this.
    Status(i32),
    /// `exit` with this status (the shell still checks for jobs first).
    Exit(i32),
    /// Given up on ctrl-c (`wait`): `STATUS` 130, and the rest of the line is dropped.
    Interrupted,
    /// Given up on a trapped signal (`wait`): `STATUS` 128 + its number; the line goes on
    /// once its trap has run.
    Trapped(Signal),
    /// Ran shell code (`eval`), which set `STATUS`; the caller's list goes on as it says.
    Ran(Flow),
}

/// Runs builtin `b` (the op `spec`) with its arguments, as words.
pub fn run(
    shell: &mut Shell,
    b: Builtin,
    spec: &'static OpSpec,
    args: &[Arg],
) -> Result<Done, OpError> {
    let reporter = Reporter::new();
    let values = OpArgs {
        op: spec.name,
        args,
        globals: &shell.vars,
        reporter: &reporter,
    }
    .words_and_values()?;
    let words: Vec<String> = values
        .iter()
        .map(|v| word(spec.name, v))
        .collect::<Result<_, _>>()?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let done = match b {
        Builtin::Cd => cd(shell, &words),
        Builtin::Pushd => pushd(shell, &words),
        Builtin::Popd => popd(shell, &words),
        Builtin::Dirs => dirs(shell, &words),
        Builtin::Env => env(shell, &words),
        Builtin::Export => export(shell, &words),
        Builtin::Unset => unset(shell, &words),
        Builtin::Help => help(&words),
        Builtin::Version => version(&words),
        Builtin::Exit => exit(shell, &words),
        Builtin::Jobs => jobs(shell, &words),
        Builtin::Fg => fg(shell, &words),
        Builtin::Bg => bg(shell, &words),
        Builtin::Kill => kill(shell, &words),
        Builtin::Wait => wait(shell, &words),
        Builtin::Trap => trap(shell, &words),
        Builtin::Disown => disown(shell, &words),
        Builtin::Eval => Ok(Done::Ran(shell.run_source("eval", &words.join(" ")))),
    };
    done.map_err(|e| match e {
        Fail::Usage => OpError::new(spec.name, format!("usage: {}", spec.usage)),
        Fail::Op(e) => e,
    })
}

/// Why a builtin failed: its arguments do not fit its usage line, or it went wrong.
enum Fail {
    Usage,
    Op(OpError),
}

impl From<OpError> for Fail {
    fn from(e: OpError) -> Self {
        Fail::Op(e)
    }
}

impl From<super::jobs::DisownError> for Fail {
    fn from(e: super::jobs::DisownError) -> Self {
        Fail::Op(OpError::new("", e.to_string()))
    }
}

impl From<JobError> for Fail {
    fn from(e: JobError) -> Self {
        Fail::Op(OpError::new("", e.to_string()))
    }
}

type Outcome = Result<Done, Fail>;

const OK: Outcome = Ok(Done::Status(0));

/// At most one argument, for `fg`, `bg` and `wait`.
fn optional<'a>(words: &[&'a str]) -> Result<Option<&'a str>, Fail> {
    match words {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(Fail::Usage),
    }
}

/// `cd [DIR]` (default: home), `cd -` (the previous directory, printed as bash does).
fn cd(shell: &mut Shell, words: &[&str]) -> Outcome {
    match words {
        [] => {
            let home = crate::environ::get("HOME")
                .map(|h| h.to_string_lossy().into_owned())
                .ok_or_else(|| OpError::new("cd", "HOME is not set"))?;
            shell.dirs.change("cd", Path::new(&home))?;
        }
        ["-"] => {
            let dir = shell.dirs.back()?;
            print(&format!("{}\n", dir.display()));
        }
        [dir] => shell
            .dirs
            .change("cd", Path::new(&crate::exec::host::expand_tilde(dir)))?,
        _ => return Err(Fail::Usage),
    }
    OK
}

/// `pushd DIR` goes there and stacks the current directory; `pushd` alone swaps the two top
/// ones. Both print the stack as `dirs` does.
fn pushd(shell: &mut Shell, words: &[&str]) -> Outcome {
    match words {
        [] => shell.dirs.swap()?,
        [dir] => shell
            .dirs
            .push(Path::new(&crate::exec::host::expand_tilde(dir)))?,
        _ => return Err(Fail::Usage),
    }
    dirs(shell, &[])
}

/// `popd` goes to the top of the stack and drops it, then prints the stack.
fn popd(shell: &mut Shell, words: &[&str]) -> Outcome {
    if !words.is_empty() {
        return Err(Fail::Usage);
    }
    shell.dirs.pop()?;
    dirs(shell, &[])
}

/// `dirs` prints the current directory and the stack, one per line, top first; `dirs -c`
/// empties the stack.
fn dirs(shell: &mut Shell, words: &[&str]) -> Outcome {
    match words {
        [] => {
            let mut text = String::new();
            for dir in shell.dirs.listing("dirs")? {
                text.push_str(&format!("{}\n", dir.display()));
            }
            print(&text);
        }
        ["-c"] => shell.dirs.clear(),
        _ => return Err(Fail::Usage),
    }
    OK
}

/// `env` lists the variables, `env -d NAME` deletes one.
fn env(shell: &mut Shell, words: &[&str]) -> Outcome {
    match words {
        [] => print(&shell.vars.listing()),
        ["-x"] => super::exports::print_listing(),
        ["-d", name] if *name == super::STATUS => {
            return Err(OpError::new("env", "STATUS cannot be deleted").into());
        }
        ["-d", name] => {
            if shell.vars.remove(name).is_none() {
                return Err(OpError::new("env", format!("no variable named {name}")).into());
            }
        }
        _ => return Err(Fail::Usage),
    }
    OK
}

/// `export [NAME=VALUE | NAME]...`; alone, the environment as `env -x` prints it.
fn export(shell: &mut Shell, words: &[&str]) -> Outcome {
    if words.is_empty() {
        super::exports::print_listing();
        return OK;
    }
    super::exports::export(&mut shell.vars, words)
        .map_err(|e| OpError::new("export", e.to_string()))?;
    OK
}

/// `unset NAME...`.
fn unset(shell: &mut Shell, words: &[&str]) -> Outcome {
    if words.is_empty() {
        return Err(Fail::Usage);
    }
    super::exports::unset(&mut shell.vars, words)
        .map_err(|e| OpError::new("unset", e.to_string()))?;
    OK
}

fn help(words: &[&str]) -> Outcome {
    print(&help_text(optional(words)?)?);
    OK
}

fn version(words: &[&str]) -> Outcome {
    if !words.is_empty() {
        return Err(Fail::Usage);
    }
    print(&format!("marsh {}\n", env!("CARGO_PKG_VERSION")));
    OK
}

/// `exit [STATUS]` (default: the current STATUS).
fn exit(shell: &Shell, words: &[&str]) -> Outcome {
    match optional(words)? {
        None => Ok(Done::Exit(shell.status())),
        Some(code) => {
            let code = int_arg("exit", "STATUS", &ArgValue::Word(code.to_string(), false))?;
            Ok(Done::Exit((code & 0xff) as i32))
        }
    }
}

/// `jobs [-l|-p] [-r|-s] [%JOB...]`.
fn jobs(shell: &mut Shell, words: &[&str]) -> Outcome {
    let mut format = ListFormat::Standard;
    let mut filter = StateFilter::All;
    let mut specs = Vec::new();
    for w in words {
        match *w {
            "-l" => format = ListFormat::Long,
            "-p" => format = ListFormat::Pgids,
            "-r" => filter = StateFilter::Running,
            "-s" => filter = StateFilter::Stopped,
            spec => specs.push(Spec::parse(spec)),
        }
    }
    shell.jobs.control.reap()?;
    let lines = shell.jobs.control.jobs(format, filter, &specs);
    shell.jobs.settle(&mut shell.vars);
    // One write for the whole listing, as for the notices: a flush per line made `jobs` with
    // 100 jobs take twice bash's time.
    let lines = lines?;
    if !lines.is_empty() {
        say(&lines.join("\n"));
    }
    OK
}

/// `fg [%JOB]`: STATUS becomes the job's.
fn fg(shell: &mut Shell, words: &[&str]) -> Outcome {
    let spec = optional(words)?.map_or_else(Spec::current, Spec::parse);
    let mut out = std::io::stdout();
    let result = shell.jobs.control.fg(&spec, &mut out);
    shell.jobs.settle(&mut shell.vars);
    let outcome = result?;
    if let Some(notice) = &outcome.notice {
        say(notice);
    }
    Ok(Done::Status(outcome.status()))
}

/// `bg [%JOB]`.
fn bg(shell: &mut Shell, words: &[&str]) -> Outcome {
    let spec = optional(words)?.map_or_else(Spec::current, Spec::parse);
    let line = shell.jobs.control.bg(&spec)?;
    say(&line);
    OK
}

/// `kill [-s SIG | -SIG] %JOB|PID...`: every target gets the signal; the first failure ends it.
fn kill(shell: &mut Shell, words: &[&str]) -> Outcome {
    let (signal, targets) = kill_args(words)?;
    if targets.is_empty() {
        return Err(Fail::Usage);
    }
    for target in targets {
        shell.jobs.control.kill(&kill_target(target)?, signal)?;
    }
    OK
}

/// `wait [%JOB|PID]`, `wait -n [%JOB|PID...]`: ctrl-c ends the wait with STATUS 130 and
/// leaves the jobs running; a trapped signal ends it with 128 + its number, and its trap runs
/// after.
fn wait(shell: &mut Shell, words: &[&str]) -> Outcome {
    let sys = *shell.jobs.system();
    let traps = &mut shell.traps;
    let mut trapped = None;
    let mut interrupted = || {
        if let Some(sig) = traps.catch(|s| sys.take_caught(s)) {
            trapped.get_or_insert(sig);
        }
        trapped.is_some() || super::signals::take_interrupt(&sys)
    };
    let result = match words {
        ["-n", ids @ ..] => {
            let targets: Vec<WaitFor> = ids
                .iter()
                .map(|t| wait_target(t))
                .collect::<Result<_, _>>()?;
            shell.jobs.control.wait_next(&targets, &mut interrupted)
        }
        _ => {
            let target = match optional(words)? {
                None => WaitFor::Background,
                Some(t) => wait_target(t)?,
            };
            shell.jobs.control.wait(&target, &mut interrupted)
        }
    };
    shell.jobs.settle(&mut shell.vars);
    Ok(match (result?, trapped) {
        (WaitOutcome::Done(status), _) => Done::Status(status),
        (WaitOutcome::NoJob, _) => Done::Status(127),
        (WaitOutcome::Interrupted, Some(sig)) => Done::Trapped(sig),
        (WaitOutcome::Interrupted, None) => Done::Interrupted,
    })
}

/// `trap ['LIST' | '' | -] SIG...`, or `trap` alone: the table.
fn trap(shell: &mut Shell, words: &[&str]) -> Outcome {
    use super::traps::Request;
    let failed = |e: &dyn std::fmt::Display| Fail::Op(OpError::new("trap", e.to_string()));
    match Request::parse(words).map_err(|e| failed(&e))? {
        Request::List => print(&shell.traps.listing()),
        Request::Set(action, conditions) => {
            for condition in conditions {
                shell
                    .set_trap(condition, action.clone())
                    .map_err(|e| failed(&e))?;
            }
        }
        Request::Reset(conditions) => {
            for condition in conditions {
                shell.reset_trap(condition).map_err(|e| failed(&e))?;
            }
        }
    }
    OK
}

/// `disown [-a] [%JOB...]` (default: the current job): the shell forgets the jobs without
/// signalling them (see `shell::jobs::disown`); the first refusal ends it. A stopped job stays
/// stopped, with a warning that says how to continue it.
fn disown(shell: &mut Shell, words: &[&str]) -> Outcome {
    let specs = match words {
        [] => vec![Spec::current()],
        ["-a"] => shell.jobs.control.all_jobs(),
        specs if specs.iter().all(|w| !w.starts_with('-')) => {
            specs.iter().map(|w| Spec::parse(w)).collect()
        }
        _ => return Err(Fail::Usage),
    };
    for spec in specs {
        let disowned = shell.jobs.disown(&spec)?;
        if disowned.stopped {
            let _ = writeln!(
                std::io::stderr(),
                "{}: disown: warning: job {} is stopped and stays stopped (kill -CONT -{} continues it)",
                shell.origin,
                disowned.number,
                disowned.pgid
            );
        }
    }
    OK
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

/// A `kill` argument: `%spec`, a positive pid, or `-pgid`.
fn kill_target(arg: &str) -> Result<KillTarget, OpError> {
    if arg.starts_with('%') {
        return Ok(KillTarget::Job(Spec::parse(arg)));
    }
    Ok(match arg.strip_prefix('-') {
        Some(digits) => KillTarget::Group(Pgid::led_by(positive("kill", arg, digits)?)),
        None => KillTarget::Process(positive("kill", arg, arg)?),
    })
}

/// A `wait` argument: `%spec` or a positive pid.
fn wait_target(arg: &str) -> Result<WaitFor, OpError> {
    if arg.starts_with('%') {
        return Ok(WaitFor::Job(Spec::parse(arg)));
    }
    positive("wait", arg, arg).map(WaitFor::Process)
}

/// `digits` (part of `arg`) as a pid, or the one-line complaint about `arg`.
fn positive(builtin: &str, arg: &str, digits: &str) -> Result<Pid, OpError> {
    digits
        .parse::<i32>()
        .ok()
        .and_then(Pid::new)
        .ok_or_else(|| {
            OpError::new(
                builtin,
                format!("{arg}: arguments must be process or job IDs"),
            )
        })
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

    #[test]
    fn targets_are_typed_before_the_job_core_sees_them() {
        let pid = |n| Pid::new(n).unwrap();
        assert_eq!(
            kill_target("%2").unwrap(),
            KillTarget::Job(Spec::parse("%2"))
        );
        assert_eq!(kill_target("42").unwrap(), KillTarget::Process(pid(42)));
        assert_eq!(
            kill_target("-42").unwrap(),
            KillTarget::Group(Pgid::led_by(pid(42)))
        );
        for bad in ["abc", "0", "-0", "--5", "4x"] {
            assert_eq!(
                kill_target(bad).unwrap_err().to_string(),
                format!("kill: {bad}: arguments must be process or job IDs")
            );
        }
        assert_eq!(
            wait_target("-42").unwrap_err().to_string(),
            "wait: -42: arguments must be process or job IDs"
        );
    }
}

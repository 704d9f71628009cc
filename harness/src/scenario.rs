//! Scenario files: parsing and running one scenario against one shell.
//!
//! The format is documented in `fixtures/README.md`. Invariants: parsing is strict (an unknown
//! step is an error with its line number); a step restricted to some shells (`type[fish] …`,
//! `type[!fish] …`) runs only for them; every wait has a deadline; after the last step the
//! universal checks run (terminal owned by a living shell, no leftover process; for marsh, the
//! reservoir directory agrees with `env`, or is gone once the shell has ended).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::session::{Failure, Key, Options, Session};
use crate::shells::{Adapter, JobState};

/// Oils-style annotation of a shell's behaviour in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Differs from the others as expected; runs normally.
    Ok,
    /// A known bug: runs; a failure is reported as the known bug, a pass as "fixed?".
    Bug,
    /// Not implemented: the pair is ignored.
    NotImplemented,
}

/// An annotation with its reason.
#[derive(Clone, Debug)]
pub struct Annotation {
    pub verdict: Verdict,
    pub reason: String,
}

/// Whom a signal goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Foreground,
    Shell,
    Job,
}

/// One action.
#[derive(Clone, Debug)]
pub enum Action {
    Type(String),
    Key(Vec<u8>),
    Signal(Signal, Target),
    Pause(Duration),
    Hangup,
    WaitPrompt,
    WaitOutput(String),
    WaitFg(Vec<String>),
    WaitBg(Vec<String>),
    WaitProcess(String),
    WaitBusy,
    WaitIdle,
    WaitJob {
        stopped: bool,
        count: usize,
    },
    WaitJobGone,
    WaitExit,
    /// The shell is blocked waiting for a child (its `wait` builtin, say).
    WaitShellWaiting,
    ExpectOutput(String),
    ExpectNoOutput(String),
    ExpectStatus(String),
    ExpectJobs(Vec<JobState>),
    /// The session's processes other than a living shell are exactly these commands (empty:
    /// none); they are then killed, so the final checks see a clean session.
    ExpectSurvivors(Vec<String>),
    Snapshot,
    CheckClean,
    CheckTty,
    CheckReservoirs,
}

/// A step with its shell restriction.
#[derive(Clone, Debug)]
pub struct Step {
    pub line: usize,
    /// `Some(list)`: only these shells; prefixed `!` entries exclude.
    pub only: Option<Vec<String>>,
    pub except: Vec<String>,
    pub action: Action,
}

impl Step {
    /// Whether this step runs for `shell`.
    pub fn applies(&self, shell: &str) -> bool {
        if self.except.iter().any(|s| s == shell) {
            return false;
        }
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == shell))
    }
}

/// A parsed scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Path under `fixtures/` without extension, e.g. `posix/stop-pipeline-one-job`.
    pub name: String,
    pub title: String,
    /// Group of the catalogue (`group: A. Foreground Ctrl-C`), for reports.
    pub group: Option<String>,
    pub path: PathBuf,
    /// Shells the scenario is meant for (`None`: all).
    pub shells: Option<Vec<String>>,
    pub annotations: BTreeMap<String, Annotation>,
    pub steps: Vec<Step>,
    /// Deadline of every wait (`timeout: 3s`; default the session's).
    pub timeout: Option<Duration>,
}

/// Scenario file extension.
pub const EXT: &str = "jc";

fn parse_key(s: &str) -> Option<Vec<u8>> {
    let k = match s {
        "ctrl-c" | "^C" => Key::CtrlC.byte(),
        "ctrl-z" | "^Z" => Key::CtrlZ.byte(),
        "ctrl-\\" | "^\\" => Key::CtrlBackslash.byte(),
        "ctrl-d" | "^D" => Key::CtrlD.byte(),
        "enter" => Key::Enter.byte(),
        hex if hex.starts_with("0x") => u8::from_str_radix(&hex[2..], 16).ok()?,
        _ => return None,
    };
    Some(vec![k])
}

fn parse_duration(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    s.strip_suffix('s')?
        .parse::<f64>()
        .ok()
        .map(Duration::from_secs_f64)
}

fn parse_state(s: &str) -> Option<JobState> {
    Some(match s.to_ascii_lowercase().as_str() {
        "running" => JobState::Running,
        "stopped" => JobState::Stopped,
        "done" => JobState::Done,
        "terminated" => JobState::Terminated,
        _ => return None,
    })
}

/// Parse a scenario's text; `name` is its path under `fixtures/` without extension.
pub fn parse(name: &str, path: &Path, text: &str) -> Result<Scenario, String> {
    let mut scn = Scenario {
        name: name.to_string(),
        title: String::new(),
        group: None,
        path: path.to_path_buf(),
        shells: None,
        annotations: BTreeMap::new(),
        steps: Vec::new(),
        timeout: None,
    };
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |m: &str| format!("{}:{line_no}: {m}: {line}", path.display());
        let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        if let Some(t) = line.strip_prefix("title:") {
            scn.title = t.trim().to_string();
            continue;
        }
        if let Some(t) = line.strip_prefix("group:") {
            scn.group = Some(t.trim().to_string());
            continue;
        }
        if let Some(t) = line.strip_prefix("timeout:") {
            scn.timeout = Some(parse_duration(t.trim()).ok_or_else(|| err("bad duration"))?);
            continue;
        }
        if let Some(t) = line.strip_prefix("shells:") {
            scn.shells = Some(t.split_whitespace().map(String::from).collect());
            continue;
        }
        let verdict = match head {
            "OK" => Some(Verdict::Ok),
            "BUG" => Some(Verdict::Bug),
            "N-I" => Some(Verdict::NotImplemented),
            _ => None,
        };
        if let Some(verdict) = verdict {
            let (shells, reason) = rest
                .split_once(':')
                .ok_or_else(|| err("want `OK shell: reason`"))?;
            for sh in shells.split_whitespace() {
                scn.annotations.insert(
                    sh.to_string(),
                    Annotation {
                        verdict,
                        reason: reason.trim().to_string(),
                    },
                );
            }
            continue;
        }
        // keyword[shells]
        let (kw, only, except) = match head.split_once('[') {
            Some((kw, list)) => {
                let list = list.strip_suffix(']').ok_or_else(|| err("unclosed ["))?;
                let mut only = Vec::new();
                let mut except = Vec::new();
                for s in list.split(',') {
                    match s.strip_prefix('!') {
                        Some(x) => except.push(x.to_string()),
                        None => only.push(s.to_string()),
                    }
                }
                (kw, (!only.is_empty()).then_some(only), except)
            }
            None => (head, None, Vec::new()),
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let action = match (kw, words.as_slice()) {
            ("type", _) => Action::Type(rest.to_string()),
            ("key", [k]) => Action::Key(parse_key(k).ok_or_else(|| err("unknown key"))?),
            ("send", _) => Action::Key(
                rest.split_whitespace()
                    .map(|h| u8::from_str_radix(h.trim_start_matches("0x"), 16))
                    .collect::<Result<_, _>>()
                    .map_err(|_| err("want hex bytes"))?,
            ),
            ("signal", [sig, to]) => {
                let n = crate::probe::parse_signal(sig).ok_or_else(|| err("unknown signal"))?;
                let sig = Signal::try_from(n).map_err(|_| err("unknown signal"))?;
                let to = match *to {
                    "fg" => Target::Foreground,
                    "shell" => Target::Shell,
                    "job" => Target::Job,
                    _ => return Err(err("target is fg, shell or job")),
                };
                Action::Signal(sig, to)
            }
            ("pause", [d]) => Action::Pause(parse_duration(d).ok_or_else(|| err("bad duration"))?),
            ("hangup", []) => Action::Hangup,
            ("wait", ["prompt"]) => Action::WaitPrompt,
            ("wait", ["output", ..]) => {
                Action::WaitOutput(rest["output".len()..].trim().to_string())
            }
            ("wait", ["fg", cmds @ ..]) if !cmds.is_empty() => {
                Action::WaitFg(cmds.iter().map(|s| s.to_string()).collect())
            }
            ("wait", ["bg", cmds @ ..]) if !cmds.is_empty() => {
                Action::WaitBg(cmds.iter().map(|s| s.to_string()).collect())
            }
            ("wait", ["busy"]) => Action::WaitBusy,
            ("wait", ["idle"]) => Action::WaitIdle,
            ("wait", ["process", cmd]) => Action::WaitProcess(cmd.to_string()),
            ("wait", ["stopped", n]) => Action::WaitJob {
                stopped: true,
                count: n.parse().map_err(|_| err("bad count"))?,
            },
            ("wait", ["running", n]) => Action::WaitJob {
                stopped: false,
                count: n.parse().map_err(|_| err("bad count"))?,
            },
            ("wait", ["gone"]) => Action::WaitJobGone,
            ("wait", ["exit"]) => Action::WaitExit,
            ("wait", ["shell-waiting"]) => Action::WaitShellWaiting,
            ("expect", ["output", ..]) => {
                Action::ExpectOutput(rest["output".len()..].trim().to_string())
            }
            ("expect", ["no-output", ..]) => {
                Action::ExpectNoOutput(rest["no-output".len()..].trim().to_string())
            }
            ("expect", ["status", s]) => Action::ExpectStatus(s.to_string()),
            ("expect", ["jobs", states @ ..]) => Action::ExpectJobs(
                states
                    .iter()
                    .filter(|s| **s != "none")
                    .map(|s| parse_state(s).ok_or_else(|| err("unknown job state")))
                    .collect::<Result<_, _>>()?,
            ),
            ("expect", ["survivors", cmds @ ..]) if !cmds.is_empty() => Action::ExpectSurvivors(
                cmds.iter()
                    .filter(|c| **c != "none")
                    .map(|c| c.to_string())
                    .collect(),
            ),
            ("snapshot", []) => Action::Snapshot,
            ("check", ["clean"]) => Action::CheckClean,
            ("check", ["tty"]) => Action::CheckTty,
            ("check", ["reservoirs"]) => Action::CheckReservoirs,
            _ => return Err(err("unknown step")),
        };
        scn.steps.push(Step {
            line: line_no,
            only,
            except,
            action,
        });
    }
    Ok(scn)
}

/// Load every scenario under `dir` (recursively), sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, String> {
    let mut files = Vec::new();
    collect(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(&f).with_extension("");
        let name = rel.to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        out.push(parse(&name, &f, &text)?);
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "snapshots") {
                collect(&p, out)?;
            }
        } else if p.extension().is_some_and(|x| x == EXT) {
            out.push(p);
        }
    }
    Ok(())
}

/// Why a (scenario, shell) pair is not run, if it is not; `availability` is
/// [`Adapter::availability`] (computed once per shell by the caller).
pub fn skip_reason(
    scn: &Scenario,
    adapter: &Adapter,
    availability: &Result<String, String>,
) -> Option<String> {
    if let Some(a) = scn.annotations.get(&adapter.name)
        && a.verdict == Verdict::NotImplemented
    {
        return Some(format!("N-I: {}", a.reason));
    }
    if let Some(list) = &scn.shells
        && !list.iter().any(|s| s == &adapter.name)
    {
        return Some(format!("scenario is for {}", list.join(", ")));
    }
    let checks_status = scn
        .steps
        .iter()
        .any(|st| st.applies(&adapter.name) && matches!(st.action, Action::ExpectStatus(_)));
    if checks_status && adapter.status_line().is_none() {
        return Some(format!(
            "N-I: the {} adapter knows no status command",
            adapter.name
        ));
    }
    availability.as_ref().err().cloned()
}

/// What a run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The text to compare with the `<scenario>@<shell>` snapshot (`None`: no snapshot step).
    pub snapshot: Option<String>,
}

/// Snapshot name for a pair: `<scenario>@<shell>` with `/` as `__` (file-name safe).
pub fn snapshot_name(scn: &Scenario, shell: &str) -> String {
    format!("{}@{shell}", scn.name.replace('/', "__"))
}

/// Run one scenario against one shell.
pub fn run(scn: &Scenario, adapter: &Adapter, mut opts: Options) -> Result<Outcome, Failure> {
    opts.name = snapshot_name(scn, &adapter.name);
    if let Some(t) = scn.timeout {
        opts.timeout = t;
    }
    let mut s = Session::spawn_with(adapter, opts)?;
    s.wait_prompt()?;
    let mut cmd_start = s.output().len();
    let mut job: Option<i32> = None;
    let mut snaps: Vec<String> = Vec::new();
    let shell = adapter.name.clone();
    for step in scn.steps.iter().filter(|st| st.applies(&shell)) {
        let at = format!("{}:{}", scn.path.display(), step.line);
        let fail = |s: &Session, m: String| s.failure(&format!("{at}: {m}"));
        match &step.action {
            Action::Type(line) => {
                cmd_start = s.output().len();
                s.type_line(line)?;
            }
            Action::Key(bytes) => s.send(bytes)?,
            Action::Signal(sig, to) => match to {
                Target::Foreground => {
                    s.signal_foreground(*sig)?;
                }
                Target::Shell => s.signal_shell(*sig)?,
                Target::Job => {
                    let g = job.ok_or_else(|| fail(&s, "no job waited for yet".into()))?;
                    s.signal_pgid(g, *sig)?;
                }
            },
            Action::Pause(d) => std::thread::sleep(*d),
            Action::Hangup => s.hangup(),
            Action::WaitPrompt => {
                s.wait_prompt().map_err(|f| prefix(f, &at))?;
            }
            Action::WaitOutput(re) => {
                s.wait_output(re).map_err(|f| prefix(f, &at))?;
            }
            Action::WaitFg(cmds) => {
                let c: Vec<&str> = cmds.iter().map(String::as_str).collect();
                job = Some(s.wait_foreground_job(&c).map_err(|f| prefix(f, &at))?);
            }
            Action::WaitBg(cmds) => {
                let c: Vec<&str> = cmds.iter().map(String::as_str).collect();
                job = Some(s.wait_background_job(&c).map_err(|f| prefix(f, &at))?);
            }
            Action::WaitBusy => s.wait_busy().map_err(|f| prefix(f, &at))?,
            Action::WaitIdle => s.wait_idle().map_err(|f| prefix(f, &at))?,
            Action::WaitProcess(cmd) => {
                let shell_pid = s.shell_pid();
                s.wait_until(&format!("a process running {cmd}"), |s| {
                    s.processes()
                        .iter()
                        .any(|p| p.pid != shell_pid && &p.comm == cmd)
                        .then_some(())
                })
                .map_err(|f| prefix(f, &at))?;
            }
            Action::WaitJob { stopped, count } => {
                let g = job.ok_or_else(|| fail(&s, "no job waited for yet".into()))?;
                if *stopped {
                    s.wait_group_state(g, *count, "stopped", |c| c == 'T')
                } else {
                    s.wait_group_state(g, *count, "running", |c| c == 'S' || c == 'R')
                }
                .map_err(|f| prefix(f, &at))?;
            }
            Action::WaitJobGone => {
                let g = job.ok_or_else(|| fail(&s, "no job waited for yet".into()))?;
                s.wait_until("the job to be gone", |s| {
                    s.group(g).is_empty().then_some(())
                })
                .map_err(|f| prefix(f, &at))?;
            }
            Action::WaitExit => {
                s.wait_exit().map_err(|f| prefix(f, &at))?;
            }
            Action::WaitShellWaiting => {
                s.wait_shell_waiting_for_child()
                    .map_err(|f| prefix(f, &at))?;
            }
            Action::ExpectOutput(re) | Action::ExpectNoOutput(re) => {
                let want = matches!(step.action, Action::ExpectOutput(_));
                let r = regex::Regex::new(re).map_err(|e| fail(&s, format!("bad regex: {e}")))?;
                let out = crate::session::strip_ansi(&s.output()[cmd_start..]);
                if r.is_match(&out) != want {
                    let verb = if want { "no" } else { "unexpected" };
                    return Err(fail(
                        &s,
                        format!("{verb} output matching /{re}/ since the last typed line"),
                    ));
                }
            }
            Action::ExpectStatus(want) => {
                let cmd = adapter
                    .status_command
                    .clone()
                    .unwrap_or_else(|| "echo $?".into());
                let got = s.run(&cmd)?;
                let status = adapter.parse_status(&got);
                if status.map(|n| n.to_string()).as_deref() != Some(want.as_str()) {
                    return Err(fail(
                        &s,
                        format!("status {status:?} in {got:?}, expected {want}"),
                    ));
                }
            }
            Action::ExpectJobs(want) => {
                let got = s.jobs()?;
                let states: Vec<JobState> = got.iter().map(|j| j.state.clone()).collect();
                if &states != want {
                    return Err(fail(&s, format!("jobs {got:?}, expected states {want:?}")));
                }
            }
            Action::ExpectSurvivors(want) => {
                let mut want = want.clone();
                want.sort();
                let shell_pid = s.shell_pid();
                let others = |s: &Session| -> Vec<crate::procfs::Proc> {
                    s.processes()
                        .into_iter()
                        .filter(|p| p.pid != shell_pid)
                        .collect()
                };
                let found = s.wait_until("the expected survivors", |s| {
                    let mut got: Vec<String> = others(s).into_iter().map(|p| p.comm).collect();
                    got.sort();
                    (got == want).then_some(())
                });
                if let Err(f) = found {
                    let table = crate::procfs::format_table(&s.processes());
                    return Err(prefix(
                        f,
                        &format!("{at}: survivors are not exactly {want:?}:\n{table}"),
                    ));
                }
                for p in others(&s) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(p.pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
            // Trailing blanks of a row depend on whether an editor cleared it with spaces.
            Action::Snapshot => snaps.push(
                s.screen()
                    .lines()
                    .map(str::trim_end)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Action::CheckClean => s.check_clean(&[]).map_err(|f| prefix(f, &at))?,
            Action::CheckTty => s
                .check_terminal_owned_by_shell()
                .map_err(|f| prefix(f, &at))?,
            Action::CheckReservoirs => s.check_reservoirs().map_err(|f| prefix(f, &at))?,
        }
    }
    if s.try_status().is_none() && s.foreground().is_some() {
        s.check_terminal_owned_by_shell()
            .map_err(|f| prefix(f, "final check"))?;
    }
    s.check_clean(&[]).map_err(|f| prefix(f, "final check"))?;
    if s.adapter().name == "marsh" {
        // marsh's own universal check: its reservoir directory agrees with `env` while it
        // lives (every job has been reported: the clean check above saw none left), and is gone
        // once it has ended.
        use std::os::unix::process::ExitStatusExt;
        match s.try_status() {
            None => s.check_reservoirs().map_err(|f| prefix(f, "final check"))?,
            Some(st) if st.signal() != Some(libc::SIGKILL) => s
                .check_runtime_removed()
                .map_err(|f| prefix(f, "final check"))?,
            Some(_) => {}
        }
    }
    let snapshot = (!snaps.is_empty()).then(|| {
        let mut text = String::new();
        for (i, sn) in snaps.iter().enumerate() {
            if snaps.len() > 1 {
                text.push_str(&format!("--- snapshot {}\n", i + 1));
            }
            text.push_str(sn);
            text.push('\n');
        }
        text
    });
    Ok(Outcome { snapshot })
}

fn prefix(mut f: Failure, at: &str) -> Failure {
    f.message = format!("{at}: {}", f.message);
    f
}

/// Filters applied to snapshot text (pids and such), as (regex, replacement).
/// fish's `jobs` table rows carry the group id: `1       23424   0%      running sleep 30`.
/// ksh93 prints `[1]     823`, mksh every member's pid, bash `job 1[2945] stopped`.
pub const SNAPSHOT_FILTERS: &[(&str, &str)] = &[
    (r"(?m)^\[(\d+)\](?:[ \t]+\d+)+[ \t]*$", "[$1] <pid>"),
    (r"(job \d+)\[\d+\]", "$1[<pid>]"),
    (r"(?m)^(\d+) +-?\d+ +(\d+%) +", "$1  <pgid>  $2  "),
];

/// Apply [`SNAPSHOT_FILTERS`] (for `jobcheck run`, which has no insta).
pub fn filter_snapshot(text: &str) -> String {
    let mut t = text.to_string();
    for (re, rep) in SNAPSHOT_FILTERS {
        t = regex::Regex::new(re)
            .expect("filter")
            .replace_all(&t, *rep)
            .into_owned();
    }
    t
}

/// The accepted content of an insta snapshot file (`None` if absent).
pub fn read_snapshot(dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.snap"))).ok()?;
    let body = text.strip_prefix("---")?;
    let end = body.find("\n---\n")?;
    Some(body[end + 5..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_and_annotations() {
        let text = "title: t\ngroup: A. x\n# c\ntype sleep 30\ntype[fish] sleep 31\nkey ctrl-z\nwait fg sleep cat\n\
                    wait stopped 2\nexpect jobs Stopped\nsignal INT job\npause 10ms\nOK zsh mksh: wording\nN-I fish: no\n";
        let s = parse("a/b", Path::new("a/b.jc"), text).unwrap();
        assert_eq!(s.steps.len(), 8);
        assert_eq!(s.group.as_deref(), Some("A. x"));
        assert!(s.steps[0].applies("bash"));
        assert!(!s.steps[1].applies("bash") && s.steps[1].applies("fish"));
        assert_eq!(s.annotations["mksh"].verdict, Verdict::Ok);
        assert_eq!(s.annotations["fish"].verdict, Verdict::NotImplemented);
        assert!(parse("x", Path::new("x"), "frobnicate\n").is_err());
        let s = parse("x", Path::new("x"), "type[!fish] a\n").unwrap();
        assert!(s.steps[0].applies("bash") && !s.steps[0].applies("fish"));
    }

    #[test]
    fn filters_pids() {
        assert_eq!(filter_snapshot("[1] 12345\n"), "[1] <pid>\n");
        assert_eq!(
            filter_snapshot("1       23424   0%      running sleep 30\n"),
            "1  <pgid>  0%  running sleep 30\n"
        );
        assert_eq!(filter_snapshot("[2]     823\n"), "[2] <pid>\n");
        assert_eq!(filter_snapshot("[1] 12 13\n"), "[1] <pid>\n");
        assert_eq!(filter_snapshot("[1] + Running  x\n"), "[1] + Running  x\n");
        assert_eq!(
            filter_snapshot("^Z[1] + Stopped  x\n"),
            "^Z[1] + Stopped  x\n"
        );
        assert_eq!(
            filter_snapshot("wait: warning: job 1[2945] stopped"),
            "wait: warning: job 1[<pid>] stopped"
        );
    }
}

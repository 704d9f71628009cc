//! Parsing a scenario file (format: `fixtures/README.md`). Strict: an unknown step, a step with
//! bad arguments (`expect status abc`, a regex that does not compile) is an error naming the
//! file and line; shell names are recorded with their lines, for [`Scenario::check_shells`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::{Action, Annotation, ParseError, Problem, Scenario, ShellRef, Step, Target, Verdict};
use crate::session::Key;
use crate::shells::JobState;

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

/// Record that line `line` names these shells (checked later against the known ones).
fn refer(scn: &mut Scenario, line: usize, names: &[String]) {
    let refs = names.iter().map(|n| ShellRef {
        line,
        name: n.clone(),
    });
    scn.shell_refs.extend(refs);
}

/// Parse a scenario's text; `name` is its path under `fixtures/` without extension.
pub fn parse(name: &str, path: &Path, text: &str) -> Result<Scenario, ParseError> {
    let mut scn = Scenario {
        name: name.to_string(),
        title: String::new(),
        group: None,
        path: path.to_path_buf(),
        shells: None,
        annotations: BTreeMap::new(),
        steps: Vec::new(),
        timeout: None,
        needs: Vec::new(),
        shell_refs: Vec::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |problem: Problem| ParseError {
            path: path.to_path_buf(),
            line: line_no,
            problem,
        };
        let bad = |what: &'static str| {
            err(Problem::BadArguments {
                step: line.to_string(),
                want: what,
            })
        };

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
            let d = parse_duration(t.trim()).ok_or_else(|| bad("a duration such as `3s`"))?;
            scn.timeout = Some(d);
            continue;
        }
        if let Some(t) = line.strip_prefix("needs:") {
            scn.needs.extend(t.split_whitespace().map(String::from));
            continue;
        }
        if let Some(t) = line.strip_prefix("shells:") {
            let shells: Vec<String> = t.split_whitespace().map(String::from).collect();
            refer(&mut scn, line_no, &shells);
            scn.shells = Some(shells);
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
                .ok_or_else(|| bad("shell names, a colon and the reason: `OK zsh: why`"))?;
            let names: Vec<String> = shells.split_whitespace().map(String::from).collect();
            if names.is_empty() {
                return Err(bad("at least one shell name before the colon"));
            }
            refer(&mut scn, line_no, &names);
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
                let list = list
                    .strip_suffix(']')
                    .ok_or_else(|| bad("a closing `]` after the shell names"))?;
                let mut only = Vec::new();
                let mut except = Vec::new();
                for s in list.split(',') {
                    match s.strip_prefix('!') {
                        Some(x) => except.push(x.to_string()),
                        None => only.push(s.to_string()),
                    }
                }
                refer(&mut scn, line_no, &only);
                refer(&mut scn, line_no, &except);
                (kw, (!only.is_empty()).then_some(only), except)
            }
            None => (head, None, Vec::new()),
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let regex = |pattern: &str| -> Result<String, ParseError> {
            match regex::Regex::new(pattern) {
                Ok(_) => Ok(pattern.to_string()),
                Err(e) => Err(err(Problem::BadRegex {
                    pattern: pattern.to_string(),
                    reason: e.to_string(),
                })),
            }
        };
        let action = match (kw, words.as_slice()) {
            ("type", _) => Action::Type(rest.to_string()),
            ("key", [k]) => Action::Key(
                parse_key(k)
                    .ok_or_else(|| bad("a key: ctrl-c, ctrl-z, ctrl-\\, ctrl-d, enter or 0xNN"))?,
            ),
            ("send", _) => Action::Key(
                rest.split_whitespace()
                    .map(|h| u8::from_str_radix(h.trim_start_matches("0x"), 16))
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("hex bytes such as `1b 5b 41`"))?,
            ),
            ("signal", [sig, to]) => {
                let unknown = || bad("a signal name or number (`INT`, `TSTP`, `9`)");
                let n = crate::probe::parse_signal(sig).ok_or_else(unknown)?;
                let sig = Signal::try_from(n).map_err(|_| unknown())?;
                let to = match *to {
                    "fg" => Target::Foreground,
                    "shell" => Target::Shell,
                    "job" => Target::Job,
                    _ => return Err(bad("a target: fg, shell or job")),
                };
                Action::Signal(sig, to)
            }
            ("pause", [d]) => Action::Pause(
                parse_duration(d).ok_or_else(|| bad("a duration such as `250ms` or `1.5s`"))?,
            ),
            ("hangup", []) => Action::Hangup,
            ("wait", ["prompt"]) => Action::WaitPrompt,
            ("wait", ["output", ..]) => Action::WaitOutput(regex(rest["output".len()..].trim())?),
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
                count: n.parse().map_err(|_| bad("a number of processes"))?,
            },
            ("wait", ["running", n]) => Action::WaitJob {
                stopped: false,
                count: n.parse().map_err(|_| bad("a number of processes"))?,
            },
            ("wait", ["gone"]) => Action::WaitJobGone,
            ("wait", ["exit"]) => Action::WaitExit,
            ("wait", ["shell-waiting"]) => Action::WaitShellWaiting,
            ("wait", ["reading"]) => Action::WaitReading(false),
            ("wait", ["reading", "isig-off"]) => Action::WaitReading(true),
            ("wait", ["shell-running"]) => Action::WaitShellRunning,
            ("expect", ["output", ..]) => {
                Action::ExpectOutput(regex(rest["output".len()..].trim())?)
            }
            ("expect", ["no-output", ..]) => {
                Action::ExpectNoOutput(regex(rest["no-output".len()..].trim())?)
            }
            ("expect", ["status", s]) => Action::ExpectStatus(
                s.parse()
                    .map_err(|_| bad("an exit status, a number such as `0` or `130`"))?,
            ),
            ("expect", ["jobs", states @ ..]) => Action::ExpectJobs(
                states
                    .iter()
                    .filter(|s| **s != "none")
                    .map(|s| {
                        parse_state(s).ok_or_else(|| {
                            bad("job states: Running, Stopped, Done, Terminated, or none")
                        })
                    })
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
            ("check", ["reaped"]) => Action::CheckReaped,
            ("check", ["tty"]) => Action::CheckTty,
            ("check", ["reservoirs"]) => Action::CheckReservoirs,
            _ => return Err(err(Problem::UnknownStep(line.to_string()))),
        };
        scn.steps.push(Step {
            line: line_no,
            text: line.to_string(),
            file: None,
            only,
            except,
            action,
        });
    }
    Ok(scn)
}

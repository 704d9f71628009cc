//! Shell adapters: how to start a shell without user configuration, give it a numbered prompt,
//! and read its `jobs` output.
//!
//! Invariants: every adapter's prompt carries a counter that grows at each new prompt (numbers may
//! skip, never repeat), rendered from `prompt` with `{n}` standing for the number; the prompt
//! ends in `$ ` even as root. Adapters are plain data ([`Adapter`]), so a TOML file can add a
//! shell without Rust:
//!
//! ```toml
//! name = "myshell"              # used in test names and --shell
//! program = "myshell"           # looked up in PATH (or an absolute path)
//! args = ["-i"]                 # {home} expands to the session's isolated HOME
//! term = "dumb"                 # TERM for the session (default "dumb")
//! prompt = "myshell {n}$ "      # the prompt as displayed; {n} is the counter
//! version_args = ["--version"]  # first output line is recorded as the version
//! jobs_style = "posix"          # "posix" ([1]+ Stopped  cmd) or "fish"
//! [env]                         # extra environment ({home} expands)
//! PS1 = "myshell $((n=n+1))$ "
//! [files]                       # files written into HOME before start
//! ".myshrc" = "PS1='...'"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

pub mod check;
pub mod init;
mod load;

pub use load::{AdapterError, AdapterProblem, FIELDS};

/// How a shell prints `jobs`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JobsStyle {
    /// `[N] [+-] State command` in some spacing (bash, dash, zsh, mksh, ksh93, marsh).
    #[default]
    Posix,
    /// fish's table: `Job Group CPU State Command`.
    Fish,
}

/// A shell adapter.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Adapter {
    /// Name in test names, `--shell` and annotations.
    pub name: String,
    /// Executable, looked up in `PATH` unless it contains `/`.
    pub program: String,
    /// Arguments that start it interactive and without user configuration (`{home}` expands
    /// to the session's HOME).
    #[serde(default)]
    pub args: Vec<String>,
    /// `TERM` of the session.
    #[serde(default = "default_term")]
    pub term: String,
    /// The prompt as displayed, `{n}` standing for the counter.
    pub prompt: String,
    /// Arguments that print the version on the first line (empty: unknown).
    #[serde(default)]
    pub version_args: Vec<String>,
    /// How its `jobs` prints.
    #[serde(default)]
    pub jobs_style: JobsStyle,
    /// Extra environment (`{home}` expands).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Files written into HOME before start (name to content; `{home}` expands).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// A line that prints the last command's exit status (`None`: the shell has none known,
    /// and scenarios that check a status are not implemented for it).
    #[serde(default = "default_status")]
    pub status_command: Option<String>,
    /// Regex finding the status in that line's output, group 1 the number (default: a line that
    /// is only the number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_pattern: Option<String>,
}

fn default_status() -> Option<String> {
    Some("echo $?".into())
}

fn default_term() -> String {
    "dumb".into()
}

/// Normalised job state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Running (`Running`, zsh `running`, `continued`).
    Running,
    /// Stopped (`Stopped`, `Stopped (tty input)`, zsh `suspended`, tcsh `Suspended`).
    Stopped,
    /// Ended normally (`Done`, `Done(3)`, `Exit 3`).
    Done,
    /// Ended by a signal (`Terminated`, `Killed`, `Interrupt`, `Hangup`).
    Terminated,
    /// Any other state word, as printed.
    Other(String),
}

/// One line of `jobs`, in common terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobEntry {
    /// The job number (`[1]`).
    pub number: u32,
    /// `+` current, `-` previous, `None` otherwise.
    pub mark: Option<char>,
    /// The state, normalised.
    pub state: JobState,
    /// The state as printed.
    pub state_text: String,
    /// The command as printed (pipeline members joined).
    pub command: String,
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JobState::Running => "Running",
            JobState::Stopped => "Stopped",
            JobState::Done => "Done",
            JobState::Terminated => "Terminated",
            JobState::Other(s) => s,
        })
    }
}

fn normalise(state: &str) -> JobState {
    let s = state.to_ascii_lowercase();
    if s.starts_with("running") {
        JobState::Running
    } else if s.starts_with("stopped") || s.starts_with("suspended") {
        JobState::Stopped
    } else if s.starts_with("done") || s.starts_with("exit") {
        JobState::Done
    } else if s.starts_with("terminated") || s.starts_with("killed") || s.starts_with("interrupt") {
        JobState::Terminated
    } else {
        JobState::Other(state.to_string())
    }
}

impl Adapter {
    /// Parse an adapter from TOML text (errors name it `adapter.toml`).
    pub fn from_toml(text: &str) -> Result<Adapter, AdapterError> {
        Adapter::parse(Path::new("adapter.toml"), text)
    }

    /// The line printing the last exit status, if the adapter has one (an empty
    /// `status_command` in TOML means none).
    pub fn status_line(&self) -> Option<&str> {
        self.status_command
            .as_deref()
            .filter(|c| !c.trim().is_empty())
    }

    /// The status in the output of [`Adapter::status_line`], if found.
    pub fn parse_status(&self, output: &str) -> Option<i32> {
        let pat = self
            .status_pattern
            .as_deref()
            .unwrap_or(r"(?m)^\s*(-?\d+)\s*$");
        let re = regex::Regex::new(pat).ok()?;
        re.captures(output)?.get(1)?.as_str().parse().ok()
    }

    /// Where the program is, if installed.
    pub fn find_program(&self) -> Option<PathBuf> {
        find_in_path(&self.program)
    }

    /// Whether the shell is installed.
    pub fn installed(&self) -> bool {
        self.find_program().is_some()
    }

    /// First line of `program version_args`, if installed and it answers.
    pub fn version(&self) -> Option<String> {
        let prog = self.find_program()?;
        if self.version_args.is_empty() {
            return Some(String::from("unknown"));
        }
        let out = Command::new(prog).args(&self.version_args).output().ok()?;
        let text = if out.stdout.is_empty() {
            out.stderr
        } else {
            out.stdout
        };
        let line = String::from_utf8_lossy(&text)
            .lines()
            .next()?
            .trim()
            .to_string();
        Some(line)
    }

    /// `Ok(version)` if the shell can be used; `Err(reason)` if not installed, or if it has
    /// `version_args` and prints nothing for them (e.g. a stub binary that is not a shell yet).
    pub fn availability(&self) -> Result<String, String> {
        if !self.installed() {
            return Err(format!("{} is not installed", self.program));
        }
        match self.version() {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(format!(
                "{} {} printed no version (not a working shell yet?)",
                self.program,
                self.version_args.join(" ")
            )),
        }
    }

    /// Regex matching the prompt, with the counter as capture group `n`.
    pub fn prompt_regex(&self) -> regex::bytes::Regex {
        let mut parts = self.prompt.splitn(2, "{n}");
        let before = regex::escape(parts.next().unwrap_or(""));
        let after = regex::escape(parts.next().unwrap_or(""));
        regex::bytes::Regex::new(&format!("{before}(?P<n>[0-9]+){after}")).expect("prompt regex")
    }

    /// Parse `jobs` output (already stripped of escape codes) into entries.
    pub fn parse_jobs(&self, text: &str) -> Vec<JobEntry> {
        match self.jobs_style {
            JobsStyle::Posix => parse_posix_jobs(text),
            JobsStyle::Fish => parse_fish_jobs(text),
        }
    }
}

/// `[1]+  Stopped                 sleep 30` (bash), `[1] + Stopped   sleep 30` (dash, mksh, ksh),
/// `[1]  + suspended  sleep 30` (zsh). Pipelines printed on several lines (dash, zsh with `-l`)
/// are joined to the entry above.
pub fn parse_posix_jobs(text: &str) -> Vec<JobEntry> {
    let re = regex::Regex::new(
        r"^\[(?P<num>\d+)\]\s*(?P<mark>[+-])?\s+(?P<state>(?:Running|Stopped|Done|Terminated|Killed|Interrupt|Hangup|Exit|Suspended|running|suspended|done|terminated|killed|interrupt|hangup|exit|continued)(?:\s*\([^)]*\)|\(\d+\))?)\s+(?P<cmd>.*?)\s*$",
    )
    .expect("jobs regex");
    let member = regex::Regex::new(
        r"^\s+(?P<state>(?:Running|Stopped|Done|Terminated|Killed|Interrupt|Hangup|Exit|Suspended|running|suspended|done|terminated|killed|interrupt|hangup|exit|continued)(?:\s*\([^)]*\)|\(\d+\))?)\s+(?P<cmd>.*?)\s*$",
    )
    .expect("jobs member regex");
    let mut out: Vec<JobEntry> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(c) = re.captures(line) {
            let state_text = c["state"].to_string();
            out.push(JobEntry {
                number: c["num"].parse().unwrap_or(0),
                mark: c.name("mark").and_then(|m| m.as_str().chars().next()),
                state: normalise(&state_text),
                state_text,
                command: c["cmd"].to_string(),
            });
        } else if let Some(last) = out.last_mut() {
            let cont = line.trim();
            if cont.starts_with('|') {
                last.command.push(' ');
                last.command.push_str(cont);
            } else if let Some(c) = member.captures(line) {
                // zsh and mksh list a pipeline's members with their own states
                // (`[1] + Done  echo x |` / `      Stopped (signal)  jobprobe stop`): the job is
                // as alive as its most alive member.
                let state = normalise(&c["state"]);
                let rank = |s: &JobState| match s {
                    JobState::Running => 2,
                    JobState::Stopped => 1,
                    _ => 0,
                };
                if rank(&state) > rank(&last.state) {
                    last.state = state;
                    last.state_text = c["state"].to_string();
                }
                last.command.push(' ');
                last.command.push_str(c["cmd"].trim());
            }
        }
    }
    out
}

/// fish: `Job\tGroup\tCPU\tState\tCommand` then one row per job, newest first.
pub fn parse_fish_jobs(text: &str) -> Vec<JobEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        if cols.len() < 5 || cols[0] == "Job" {
            continue;
        }
        let Ok(number) = cols[0].trim().parse() else {
            continue;
        };
        out.push(JobEntry {
            number,
            mark: None,
            state: normalise(cols[3].trim()),
            state_text: cols[3].trim().to_string(),
            command: cols[4..].join("\t").trim().to_string(),
        });
    }
    out.sort_by_key(|e| e.number);
    out
}

/// Look a program up in `PATH` (or accept a path with a slash).
pub fn find_in_path(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The built-in adapters, in a stable order, all verified on this project's machines (Debian
/// 12: bash 5.2, dash 0.5.12, zsh 5.9, mksh R59, ksh93u+m 1.0.4, fish 3.6, yash 2.52, busybox
/// ash 1.35, tcsh 6.24). `JOBCHECK_<NAME>_PROGRAM` (e.g. `JOBCHECK_MARSH_PROGRAM=/path/to/marsh`) replaces a
/// built-in adapter's program.
pub fn builtin() -> Vec<Adapter> {
    let mut all = builtin_from_files();
    for a in &mut all {
        let var = format!("JOBCHECK_{}_PROGRAM", a.name.to_ascii_uppercase());
        if let Some(p) = std::env::var_os(var) {
            a.program = p.to_string_lossy().into_owned();
        }
    }
    all
}

/// The built-in adapter files (`harness/adapters/*.toml`), compiled in, in matrix order.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("marsh.toml", include_str!("../../adapters/marsh.toml")),
    ("bash.toml", include_str!("../../adapters/bash.toml")),
    ("dash.toml", include_str!("../../adapters/dash.toml")),
    ("zsh.toml", include_str!("../../adapters/zsh.toml")),
    ("mksh.toml", include_str!("../../adapters/mksh.toml")),
    ("ksh93.toml", include_str!("../../adapters/ksh93.toml")),
    ("fish.toml", include_str!("../../adapters/fish.toml")),
    ("yash.toml", include_str!("../../adapters/yash.toml")),
    ("ash.toml", include_str!("../../adapters/ash.toml")),
    ("tcsh.toml", include_str!("../../adapters/tcsh.toml")),
];

/// Adapter files shipped beside the built-in ones but not in the matrix (shells CI does not
/// install): `jobcheck run --shell harness/adapters/brush.toml`.
/// Their names are known to annotations (the catalogue annotates them), and `--shell NAME`
/// finds them like built-in ones.
pub const SHIPPED_FILES: &[(&str, &str)] =
    &[("brush.toml", include_str!("../../adapters/brush.toml"))];

/// The built-in adapters parsed and checked (a bad built-in file is a bug of this build:
/// the unit tests load every one).
fn builtin_from_files() -> Vec<Adapter> {
    BUILTIN_FILES
        .iter()
        .map(|(file, text)| {
            Adapter::parse(Path::new(file), text).unwrap_or_else(|e| panic!("built-in adapter {e}"))
        })
        .collect()
}

/// The shipped adapters parsed and checked (as [`builtin`]'s, `JOBCHECK_<NAME>_PROGRAM` applies).
pub fn shipped() -> Vec<Adapter> {
    SHIPPED_FILES
        .iter()
        .map(|(file, text)| {
            let mut a = Adapter::parse(Path::new(file), text)
                .unwrap_or_else(|e| panic!("shipped adapter {e}"));
            let var = format!("JOBCHECK_{}_PROGRAM", a.name.to_ascii_uppercase());
            if let Some(p) = std::env::var_os(var) {
                a.program = p.to_string_lossy().into_owned();
            }
            a
        })
        .collect()
}

/// The names annotations may use without a `--shell` file: built-in and shipped adapters.
pub fn known_names() -> Vec<String> {
    builtin()
        .into_iter()
        .chain(shipped())
        .map(|a| a.name)
        .collect()
}

/// A built-in or shipped adapter by name (`ksh` is accepted for `ksh93`).
pub fn by_name(name: &str) -> Option<Adapter> {
    let name = if name == "ksh" { "ksh93" } else { name };
    builtin()
        .into_iter()
        .chain(shipped())
        .find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_adapter_file_loads_and_passes_the_checks() {
        for (file, text) in BUILTIN_FILES.iter().chain(SHIPPED_FILES) {
            if let Err(e) = Adapter::parse(Path::new(file), text) {
                panic!("{e}");
            }
        }
        let names: Vec<String> = builtin().into_iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "marsh", "bash", "dash", "zsh", "mksh", "ksh93", "fish", "yash", "ash", "tcsh"
            ]
        );
    }

    #[test]
    fn parses_bash_and_dash_jobs() {
        let bash = "[1]+  Stopped                 sleep 30 | cat | cat\n[2]-  Running                 sleep 40 &\n";
        let e = parse_posix_jobs(bash);
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].number, e[0].mark, e[0].state.clone()),
            (1, Some('+'), JobState::Stopped)
        );
        assert_eq!(e[0].command, "sleep 30 | cat | cat");
        assert_eq!(e[1].state, JobState::Running);
        let dash = "[1] + Stopped                    sleep 30 | cat | cat\n";
        let e = parse_posix_jobs(dash);
        assert_eq!(
            (e[0].mark, e[0].state.clone()),
            (Some('+'), JobState::Stopped)
        );
        let zsh = "[1]  + suspended  sleep 30\n";
        assert_eq!(parse_posix_jobs(zsh)[0].state, JobState::Stopped);
        let zsh =
            "[1]  + done                echo x | \n       suspended (signal)  jobprobe stop\n";
        let e = parse_posix_jobs(zsh);
        assert_eq!((e.len(), e[0].state.clone()), (1, JobState::Stopped));
        let mksh =
            "[1] + Done                 \\echo x |\n      Stopped (signal)     \\jobprobe stop\n";
        assert_eq!(parse_posix_jobs(mksh)[0].state, JobState::Stopped);
        let tcsh = "[1]  + Suspended (tty input)         cat\n";
        assert_eq!(parse_posix_jobs(tcsh)[0].state, JobState::Stopped);
        let dashtty = "[1] + Stopped (tty input)        cat\n";
        assert_eq!(parse_posix_jobs(dashtty)[0].command, "cat");
    }

    #[test]
    fn parses_fish_jobs() {
        let t = "Job\tGroup\tCPU\tState\tCommand\n2\t123\t0%\trunning\tsleep 40 &\n1\t120\t0%\tstopped\tsleep 30\n";
        let e = parse_fish_jobs(t);
        assert_eq!(e[0].number, 1);
        assert_eq!(e[0].state, JobState::Stopped);
    }

    #[test]
    fn toml_adapter_and_prompt_regex() {
        let a = Adapter::from_toml("name='x'\nprogram='x'\nprompt='x {n}$ '\n").unwrap();
        assert_eq!(a.term, "dumb");
        let re = a.prompt_regex();
        assert_eq!(&re.captures(b"junk x 12$ ").unwrap()["n"], b"12");
        assert!(by_name("bash").is_some() && by_name("ksh").is_some());
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/adapters/bash-posix.toml"
        );
        let a = Adapter::load(Path::new(file)).unwrap();
        assert_eq!(a.name, "bash-posix");
        assert_eq!(a.env["PS1"], "bposix ${JC_N}$ ");
        assert_eq!(a.parse_status("130\n"), Some(130));
        let m = by_name("marsh").unwrap();
        assert_eq!(m.parse_status("A = 1\nSTATUS = 148\nZ = 2\n"), Some(148));
    }
}

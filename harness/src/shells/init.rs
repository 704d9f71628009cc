//! A starting adapter for a new shell (`jobcheck init NAME PROGRAM`): the known ways of
//! giving a shell a numbered prompt without user configuration, each tried under a pty with
//! [`check`](super::check::check); the first that passes every check is the answer, else the
//! one that got furthest (its report says what to change).
//!
//! Invariants: every candidate is an [`Adapter`] named NAME running PROGRAM with the prompt
//! `NAME {n}$ `; the result serialises to TOML that [`Adapter::parse`] reads back unchanged.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use super::check::{self, Outcome, Report};
use super::{Adapter, JobsStyle};
use crate::session::Options;

/// The adapter chosen for a shell, with its check report.
#[derive(Debug)]
pub struct Probed {
    /// The adapter (usable if `report.passed()`).
    pub adapter: Adapter,
    /// The way of counting that it uses (`bash PROMPT_COMMAND`, `ENV file`…).
    pub style: &'static str,
    /// Its check.
    pub report: Report,
}

impl Probed {
    /// The adapter as an adapter file, with a comment saying how it was found.
    pub fn to_toml(&self) -> String {
        let verdict = if self.report.passed() {
            "passes every check of `jobcheck check-adapter`"
        } else {
            "does NOT pass `jobcheck check-adapter` yet: see its report"
        };
        let body = toml::to_string(&self.adapter).expect("an adapter serialises to TOML");
        format!(
            "# Written by `jobcheck init` (prompt counted by: {}); it {verdict}.\n{body}",
            self.style
        )
    }
}

/// One way of giving a shell a counted prompt.
struct Candidate {
    style: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    status: &'static str,
    jobs: JobsStyle,
}

/// The candidates, most common first. `NAME` in a value stands for the shell's name.
const CANDIDATES: &[Candidate] = &[
    Candidate {
        style: "bash PROMPT_COMMAND",
        args: &["-i"],
        env: &[
            ("PROMPT_COMMAND", "JC_N=$((JC_N+1))"),
            ("PS1", "NAME ${JC_N}$ "),
        ],
        files: &[],
        status: "echo $?",
        jobs: JobsStyle::Posix,
    },
    Candidate {
        style: "PS1 arithmetic in an ENV file (ksh, mksh, ash, dash)",
        args: &["-i"],
        env: &[("ENV", "{home}/.jcrc")],
        files: &[(".jcrc", "PS1='NAME $((JC_N+=1))$ '\n")],
        status: "echo $?",
        jobs: JobsStyle::Posix,
    },
    Candidate {
        style: "zsh precmd",
        args: &["-d", "-o", "promptsubst", "-i"],
        env: &[("ZDOTDIR", "{home}")],
        files: &[(
            ".zshrc",
            "precmd() { (( ++JC_N )) }\nPS1='NAME ${JC_N}$ '\n",
        )],
        status: "echo $?",
        jobs: JobsStyle::Posix,
    },
    Candidate {
        style: "yash rc file",
        args: &["--rcfile={home}/.yashrc", "--noprofile", "-i"],
        env: &[],
        files: &[(".yashrc", "PS1='NAME $((JC_N+=1))$ '\n")],
        status: "echo $?",
        jobs: JobsStyle::Posix,
    },
    Candidate {
        style: "fish_prompt event",
        args: &[
            "--no-config",
            "-i",
            "-C",
            "function jc_count --on-event fish_prompt; set -g JC_N (math $JC_N + 1); end; function fish_prompt; printf 'NAME %s$ ' $JC_N; end",
        ],
        env: &[],
        files: &[],
        status: "echo $status",
        jobs: JobsStyle::Fish,
    },
    Candidate {
        style: "tcsh precmd alias",
        args: &["-i"],
        env: &[],
        files: &[(
            ".tcshrc",
            "set JC_N = 0\nalias precmd '@ JC_N++; set prompt = \"NAME ${JC_N}\"'\"'\"'$ '\"'\"\n",
        )],
        status: "echo $status",
        jobs: JobsStyle::Posix,
    },
];

impl Candidate {
    fn adapter(&self, name: &str, program: &str, version_args: &[String]) -> Adapter {
        let put = |s: &str| s.replace("NAME", name);
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), put(v))).collect()
        };
        Adapter {
            name: name.to_string(),
            program: program.to_string(),
            args: self.args.iter().map(|a| put(a)).collect(),
            term: "dumb".into(),
            prompt: format!("{name} {{n}}$ "),
            version_args: version_args.to_vec(),
            jobs_style: self.jobs,
            env: map(self.env),
            files: map(self.files),
            status_command: Some(self.status.to_string()),
            status_pattern: None,
        }
    }
}

/// `--version` if the program answers it with a line and status 0, else nothing.
fn version_args(program: &str) -> Vec<String> {
    let answered = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.trim_ascii().is_empty());
    if answered {
        vec!["--version".into()]
    } else {
        Vec::new()
    }
}

/// How many checks held, for ranking candidates that all failed.
fn held(r: &Report) -> usize {
    r.results
        .iter()
        .filter(|(_, o)| *o == Outcome::Holds)
        .count()
}

/// Probe `program` for an adapter named `name`; `opts` are the sessions' (a short timeout
/// keeps a candidate that shows no prompt cheap).
pub fn probe(name: &str, program: &str, opts: &Options) -> Probed {
    let versions = version_args(program);
    let mut best: Option<Probed> = None;
    for c in CANDIDATES {
        let adapter = c.adapter(name, program, &versions);
        let report = check::check(&adapter, opts.clone());
        let probed = Probed {
            adapter,
            style: c.style,
            report,
        };
        if probed.report.passed() {
            return probed;
        }
        if best
            .as_ref()
            .is_none_or(|b| held(&probed.report) > held(&b.report))
        {
            best = Some(probed);
        }
    }
    best.expect("at least one candidate")
}

//! Failures: one readable sentence (what was expected, what was seen, in the shell's words),
//! where in a scenario it happened, and the evidence as data: the transcript, the rendered
//! screen, the process table, the shell's exit if it died. Rendering and asciicast recordings
//! are built from that data.
//!
//! Invariants: the sentence is one line and never a `Debug` dump; the evidence is captured at
//! the moment of the failure; a [`Failure`] renders the same way wherever it is printed (the
//! sentence, then the step, then the evidence).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Failure, Session};
use crate::pid::{Pgid, Pid};
use crate::procfs::{self, Proc};
use crate::transcript::{self, Event, Kind};

/// Where in a scenario a failure happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StepRef {
    /// The scenario file (or overlay file) holding the step.
    pub file: PathBuf,
    /// Its line (0: not a step of the file, e.g. the checks after the last step).
    pub line: usize,
    /// The step as written (`wait prompt`).
    pub text: String,
}

impl std::fmt::Display for StepRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.text)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.text)
        }
    }
}

/// The session as it was when something failed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Evidence {
    /// The adapter's name.
    pub shell: String,
    /// The session's name (`posix__intr-external@bash.r1`).
    pub session: String,
    /// The shell's pid.
    pub pid: Pid,
    /// The session's `JOBCHECK_SESSION` tag.
    pub tag: String,
    /// Number of the last prompt waited for.
    pub last_prompt: u64,
    /// The terminal's foreground process group (`None`: hung up).
    pub foreground: Option<Pgid>,
    /// How the shell ended, if it had (`exited with status 1`, `killed by SIGSEGV`).
    pub shell_exit: Option<String>,
    /// The whole transcript.
    pub transcript: Vec<Event>,
    /// The rendered screen.
    pub screen: String,
    /// The session's live processes.
    pub processes: Vec<Proc>,
    /// Terminal size and `TERM`, for the recording.
    pub rows: u16,
    /// Terminal width.
    pub cols: u16,
    /// `TERM` of the session.
    pub term: String,
}

/// Events of the transcript shown in a rendered failure.
const TAIL: usize = 40;

impl Failure {
    /// A failure with no session behind it (e.g. the shell could not be started).
    pub fn plain(sentence: impl Into<String>) -> Failure {
        Failure {
            sentence: sentence.into(),
            step: None,
            evidence: None,
            detail: None,
            recording: None,
        }
    }

    /// This failure with `detail` shown between the sentence and the session's evidence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Failure {
        self.detail = Some(detail.into());
        self
    }

    /// The sentence.
    pub fn sentence(&self) -> &str {
        &self.sentence
    }

    /// This failure, located at `step` (a failure already located keeps its step).
    pub fn at(mut self, step: StepRef) -> Failure {
        self.step.get_or_insert_with(|| Box::new(step));
        self
    }

    /// The evidence rendered for people: the shell line, the transcript's tail, the screen, the
    /// process table and the recording's path.
    pub fn details(&self) -> String {
        let Some(e) = &self.evidence else {
            return String::new();
        };
        let mut s = String::new();
        let state = e.shell_exit.as_deref().unwrap_or("alive");
        let fg = e
            .foreground
            .map_or("none (hung up)".to_string(), |g| g.to_string());
        let _ = writeln!(
            s,
            "--- shell {} pid {} ({state}), last prompt {}, terminal's foreground group {fg}, tag {}",
            e.shell, e.pid, e.last_prompt, e.tag
        );
        let _ = writeln!(s, "--- transcript (last events):");
        s.push_str(&transcript::format_tail(&e.transcript, TAIL));
        let _ = writeln!(s, "--- screen:\n{}", e.screen);
        let _ = writeln!(s, "--- processes:");
        s.push_str(&procfs::format_table(&e.processes));
        if let Some(p) = &self.recording {
            let _ = writeln!(s, "--- recording: {}", p.display());
        }
        s
    }

    /// Write the session's asciicast to `path`, ending with a marker that names the failed
    /// step and `verdict` (e.g. `FAIL`, `BUG (known)`); remembers the path.
    pub fn write_recording(&mut self, path: &Path, verdict: &str) -> std::io::Result<()> {
        let Some(e) = &self.evidence else {
            return Ok(());
        };
        let mut events = e.transcript.clone();
        let at = self
            .step
            .as_ref()
            .map_or(String::new(), |s| format!(" at {s}"));
        let t = events.last().map(|ev| ev.t).unwrap_or_default();
        events.push(Event {
            t,
            kind: Kind::Note,
            bytes: format!("{verdict}{at}: {}", self.sentence).into_bytes(),
        });
        let cast = transcript::asciicast(&events, e.rows, e.cols, &e.term, &e.session);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, cast)?;
        self.recording = Some(path.to_path_buf());
        Ok(())
    }
}

impl Session {
    /// A failure saying `sentence`, with the evidence of this moment; when the options ask for
    /// it (the default), the asciicast is written to `<artifacts>/<name>.cast`. If the shell
    /// has exited, the sentence says so.
    pub fn failure(&self, sentence: &str) -> Failure {
        self.reported.set(true);
        let evidence = self.evidence();
        let sentence = match &evidence.shell_exit {
            Some(how) if !sentence.contains("the shell ") => format!("{sentence}; the shell {how}"),
            _ => sentence.to_string(),
        };
        let mut f = Failure {
            sentence,
            step: None,
            evidence: Some(Box::new(evidence)),
            detail: None,
            recording: None,
        };
        if self.opts.record_failures {
            let path = artifacts_dir().join(format!("{}.cast", file_safe(&self.opts.name)));
            let _ = f.write_recording(&path, "FAIL");
        }
        f
    }

    /// The session's state now, as data.
    pub fn evidence(&self) -> Evidence {
        let (transcript, screen) = {
            let st = self.shared.lock();
            (st.events.clone(), st.screen.contents())
        };
        Evidence {
            shell: self.adapter.name.clone(),
            session: self.opts.name.clone(),
            pid: self.shell_pid,
            tag: self.tag.clone(),
            last_prompt: self.last_prompt,
            foreground: self.foreground(),
            shell_exit: self.settled_exit().map(|s| describe_exit(&s)),
            transcript,
            screen,
            processes: self.processes(),
            rows: self.opts.rows,
            cols: self.opts.cols,
            term: self.adapter.term.clone(),
        }
    }

    /// The evidence rendered for people (as in a failure).
    pub fn report(&self) -> String {
        Failure {
            sentence: String::new(),
            step: None,
            evidence: Some(Box::new(self.evidence())),
            detail: None,
            recording: None,
        }
        .details()
    }
}

/// How a shell ended, for a sentence: `exited with status 1`, `was killed by SIGSEGV`.
pub fn describe_exit(s: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (_, Some(sig)) => {
            let name = nix::sys::signal::Signal::try_from(sig)
                .map_or_else(|_| format!("signal {sig}"), |n| n.as_str().to_string());
            let core = if s.core_dumped() {
                " (core dumped)"
            } else {
                ""
            };
            format!("was killed by {name}{core}")
        }
        _ => "ended".to_string(),
    }
}

/// `name` with every character outside `[A-Za-z0-9@._-]` replaced by `_` (a file name).
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '@' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Directory for artifacts: `$JOBCHECK_ARTIFACTS`, else `<target>/jobcheck` found from the
/// running executable (the ancestor holding `CACHEDIR.TAG`), else `jobcheck` in the temp dir.
pub fn artifacts_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("JOBCHECK_ARTIFACTS") {
        return PathBuf::from(d);
    }
    if let Ok(exe) = std::env::current_exe() {
        for a in exe.ancestors() {
            if a.join("CACHEDIR.TAG").is_file() {
                return a.join("jobcheck");
            }
        }
    }
    std::env::temp_dir().join("jobcheck")
}

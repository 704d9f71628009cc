//! A shell session under a pty: spawn, type, signal, wait, observe, check, tear down.
//!
//! Invariants:
//! - The shell is a fresh process (fork + exec through `Command` with a `pre_exec` that only
//!   calls async-signal-safe functions: `setsid`, `TIOCSCTTY`, an empty signal mask, reset of
//!   signal dispositions); its environment is built from nothing but the adapter, an isolated `HOME`/`TMPDIR`/
//!   `MARSH_RUNTIME_DIR`, `LANG=C.UTF-8`, `PATH`, `TERM` and `JOBCHECK_SESSION`.
//! - The parent's copy of the slave is closed once the child has it.
//! - The reader thread runs from spawn to hang-up ([`crate::reader`]).
//! - Every wait has a deadline and fails with a [`Failure`] that carries the transcript tail, the
//!   rendered screen and the process table, and writes an asciicast under `target/jobcheck/`.
//! - The shell's exit status comes from `waitpid` on its pid, never from reading until EOF.
//! - `Drop` (also while panicking) hangs up, SIGCONT+SIGKILLs every process group of the session
//!   (found by session id and by tag) and reaps the shell.
//!
//! This module spawns and tears down; the rest of [`Session`]'s methods live by what they do:
//! `input` (type, keys, signals, hang-up), `observe` (terminal owner, processes, output),
//! `wait` (conditions with deadlines), `check` (what must hold), `failure` (reports and
//! asciicasts), and `ansi` (escape codes stripped for matching).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::interrupt;
use crate::pid::{Pgid, Pid};
use crate::procfs::{self, Proc, SESSION_VAR};
use crate::pty::{self, Pty};
use crate::reader::{self, Shared, State};
use crate::screen::Screen;
use crate::shells::Adapter;
use crate::teardown;
use crate::transcript::Kind;
use crate::wait::DEFAULT_TIMEOUT;

mod ansi;
mod check;
mod failure;
mod input;
mod observe;
mod wait;

pub use ansi::{strip_ansi, strip_ansi_mapped};
pub use failure::{Evidence, StepRef, artifacts_dir, describe_exit, file_safe};
pub use wait::{GroupState, clip, describe_procs, quote_output, secs, state_word};

/// A failed wait or check, with everything needed to understand it (see [`failure`]).
#[derive(Clone, serde::Serialize)]
pub struct Failure {
    /// What was expected and what was seen, in one sentence.
    pub sentence: String,
    /// Where in a scenario it happened (set by the scenario runner).
    pub step: Option<Box<StepRef>>,
    /// The session's state at that moment (`None`: no session, e.g. the shell did not start).
    pub evidence: Option<Box<Evidence>>,
    /// Evidence that is not the session's (a snapshot's differences), shown before it.
    pub detail: Option<String>,
    /// The asciicast written for it, if any.
    pub recording: Option<PathBuf>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.sentence)?;
        if let Some(step) = &self.step {
            writeln!(f, "  at {step}")?;
        }
        if let Some(d) = &self.detail {
            writeln!(f, "{}", d.trim_end())?;
        }
        f.write_str(&self.details())
    }
}
impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
impl std::error::Error for Failure {}

/// Result of harness operations.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Options for a session.
#[derive(Clone, Debug)]
pub struct Options {
    /// Terminal height.
    pub rows: u16,
    /// Terminal width.
    pub cols: u16,
    /// Default deadline of waits.
    pub timeout: Duration,
    /// Extra environment (after the adapter's).
    pub env: Vec<(String, String)>,
    /// Directories put in front of `PATH` (e.g. where `jobprobe` is).
    pub path_prepend: Vec<PathBuf>,
    /// Name used for the asciicast file and in reports.
    pub name: String,
    /// Whether a failure writes the session's asciicast to `<artifacts>/<name>.cast` (the
    /// default); the suite runner writes its own, marked with the verdict.
    pub record_failures: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rows: pty::DEFAULT_ROWS,
            cols: pty::DEFAULT_COLS,
            timeout: DEFAULT_TIMEOUT,
            env: Vec::new(),
            path_prepend: Vec::new(),
            name: String::from("session"),
            record_failures: true,
        }
    }
}

/// Keys the line discipline turns into signals or EOF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// ^C: VINTR, SIGINT to the foreground group.
    CtrlC,
    /// ^Z: VSUSP, SIGTSTP to the foreground group.
    CtrlZ,
    /// ^\\: VQUIT, SIGQUIT to the foreground group.
    CtrlBackslash,
    /// ^D: VEOF (end of input on an empty line).
    CtrlD,
    /// Enter (carriage return).
    Enter,
}

impl Key {
    /// The byte written to the master.
    pub fn byte(self) -> u8 {
        match self {
            Key::CtrlC => 0x03,
            Key::CtrlZ => 0x1a,
            Key::CtrlBackslash => 0x1c,
            Key::CtrlD => 0x04,
            Key::Enter => b'\r',
        }
    }
}

/// A running shell session. It is a guard: dropping it tears the shell and every process of
/// its session down.
#[must_use = "dropping a Session at once tears its shell down"]
pub struct Session {
    adapter: Adapter,
    opts: Options,
    tag: String,
    shared: Arc<Shared>,
    master: Option<Arc<OwnedFd>>,
    wake: Option<OwnedFd>,
    reader: Option<JoinHandle<()>>,
    child: Child,
    shell_pid: Pid,
    /// Path of the terminal's slave (`/dev/pts/N`).
    slave_path: String,
    status: Option<ExitStatus>,
    dir: Option<tempfile::TempDir>,
    prompt_re: regex::bytes::Regex,
    last_prompt: u64,
    prompt_scan: usize,
    last_prompt_start: usize,
    /// Whether the terminal had ISIG on while the shell read its last line (`None`: unknown).
    prompt_isig: Option<bool>,
    mark: usize,
    torn_down: bool,
    /// Its place in the registry of live sessions, which an interruption tears down; dropped
    /// when the teardown has ended.
    live: Option<interrupt::Registration>,
    declared: Vec<Pid>,
    /// A typed line whose echo has not been seen yet: (output offset when typed, needle).
    pending_echo: Option<(usize, Vec<u8>)>,
    /// Output offset when the last line was typed.
    typed_at: usize,
    /// A failure report was already built (the Drop of a panicking test need not repeat it).
    reported: std::cell::Cell<bool>,
}

fn fail_io(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::plain(format!("could not start the session: {what}: {e}"))
}

impl Session {
    /// Spawn `adapter`'s shell with default options.
    pub fn spawn(adapter: &Adapter) -> Result<Session> {
        Session::spawn_with(adapter, Options::default())
    }

    /// Spawn `adapter`'s shell.
    pub fn spawn_with(adapter: &Adapter, opts: Options) -> Result<Session> {
        teardown::sweep_once();
        let program = adapter.find_program().ok_or_else(|| {
            Failure::plain(format!(
                "the shell {} is not installed ({} is not in PATH)",
                adapter.name, adapter.program
            ))
        })?;
        let tag = teardown::new_tag();
        // Named after the tag, so the sweep can remove it when its creator died without Drop.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}{tag}-", teardown::DIR_PREFIX))
            .tempdir()
            .map_err(|e| fail_io("tempdir", e))?;
        teardown::mark_namespace(dir.path()).map_err(|e| fail_io("write", e))?;
        let home = dir.path().join("home");
        let tmp = dir.path().join("tmp");
        let runtime = dir.path().join("runtime");
        for d in [&home, &tmp, &runtime] {
            std::fs::create_dir_all(d).map_err(|e| fail_io("mkdir", e))?;
        }
        let expand = |s: &str| s.replace("{home}", &home.to_string_lossy());
        for (name, content) in &adapter.files {
            let path = home.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| fail_io("mkdir", e))?;
            }
            std::fs::write(path, expand(content)).map_err(|e| fail_io("write", e))?;
        }
        let mut pty = Pty::open(opts.rows, opts.cols).map_err(|e| fail_io("open pty", e))?;
        let slave = pty.take_slave().expect("slave");
        let slave_path = pty.slave_path.clone();
        let mut cmd = Command::new(&program);
        cmd.args(adapter.args.iter().map(|a| expand(a)));
        cmd.env_clear();
        let mut path: Vec<PathBuf> = opts.path_prepend.clone();
        if let Some(p) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&p));
        }
        let path = std::env::join_paths(path).map_err(|e| fail_io("PATH", e))?;
        cmd.env("PATH", path)
            .env("HOME", &home)
            .env("TMPDIR", &tmp)
            .env("MARSH_RUNTIME_DIR", &runtime)
            .env("LANG", "C.UTF-8")
            .env("TERM", &adapter.term)
            .env("COLUMNS", opts.cols.to_string())
            .env("LINES", opts.rows.to_string())
            .env(SESSION_VAR, &tag);
        for (k, v) in &adapter.env {
            cmd.env(k, expand(v));
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        cmd.current_dir(&home);
        let clone = |f: &std::fs::File| f.try_clone().map(Stdio::from);
        cmd.stdin(clone(&slave).map_err(|e| fail_io("dup", e))?);
        cmd.stdout(clone(&slave).map_err(|e| fail_io("dup", e))?);
        cmd.stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(pty::child_setup);
        }
        let started = Instant::now();
        let (child, live) = interrupt::spawn_registered(&mut cmd, &tag, dir.path())
            .map_err(|e| Failure::plain(e.to_string()))?;
        // `cmd` still holds the parent's slave copies: drop them now.
        drop(cmd);
        let shell_pid = Pid::new(child.id() as i32).expect("a child's pid is positive");
        let master = Arc::new(pty.into_master());
        let (wake_r, wake_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| fail_io("pipe", e))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                output: Vec::new(),
                events: Vec::new(),
                screen: Screen::new(opts.rows, opts.cols),
                eof: false,
                start: started,
            }),
            cond: Condvar::new(),
        });
        shared.lock().push(
            Kind::Note,
            format!("spawned {} pid {shell_pid} tag {tag}", program.display()).into_bytes(),
        );
        let (s2, m2) = (shared.clone(), master.clone());
        let reader = std::thread::Builder::new()
            .name("jobcheck-reader".into())
            .spawn(move || reader::run(s2, m2, wake_r))
            .map_err(|e| fail_io("reader thread", e))?;
        Ok(Session {
            prompt_re: adapter.prompt_regex(),
            adapter: adapter.clone(),
            opts,
            tag,
            shared,
            master: Some(master),
            wake: Some(wake_w),
            reader: Some(reader),
            child,
            shell_pid,
            slave_path,
            status: None,
            dir: Some(dir),
            last_prompt: 0,
            prompt_scan: 0,
            last_prompt_start: 0,
            prompt_isig: None,
            mark: 0,
            torn_down: false,
            live: Some(live),
            declared: Vec::new(),
            pending_echo: None,
            typed_at: 0,
            reported: std::cell::Cell::new(false),
        })
    }

    /// The adapter.
    pub fn adapter(&self) -> &Adapter {
        &self.adapter
    }
    /// The shell's pid (also its session's id: the shell is the session leader).
    pub fn shell_pid(&self) -> Pid {
        self.shell_pid
    }
    /// The shell's process group (it leads it: the same number as its pid).
    pub fn shell_pgid(&self) -> Pgid {
        self.shell_pid.led_group()
    }
    /// The `JOBCHECK_SESSION` tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }
    /// The session's isolated directory (`home`, `tmp`, `runtime` inside).
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("dir").path()
    }
    /// Number of the last prompt waited for.
    pub fn last_prompt(&self) -> u64 {
        self.last_prompt
    }

    /// Time since the session started (the transcript's clock).
    pub fn elapsed(&self) -> Duration {
        self.shared.lock().start.elapsed()
    }

    /// Transcript time at which the output byte at `offset` was read (`None` if not yet).
    pub fn output_time(&self, offset: usize) -> Option<Duration> {
        let st = self.shared.lock();
        let mut pos = 0;
        for e in st.events.iter().filter(|e| e.kind == Kind::Out) {
            pos += e.bytes.len();
            if pos > offset {
                return Some(e.t);
            }
        }
        None
    }

    /// Output offset just past the last prompt waited for.
    pub fn prompt_end(&self) -> usize {
        self.prompt_scan
    }

    /// Tear down now (idempotent); returns processes that survived (should be empty).
    #[must_use = "survivors of a teardown are a leak to report"]
    pub fn teardown(&mut self) -> Vec<Proc> {
        if self.torn_down {
            return Vec::new();
        }
        self.torn_down = true;
        self.hangup();
        let left = teardown::kill_session(self.shell_pid, &self.tag, Duration::from_secs(5));
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
        self.live = None;
        left
    }

    /// [`Session::exit_peek`], but once the terminal's output has ended (the shell closed it
    /// while exiting), wait up to a second for the exit to become visible: the master sees the
    /// end before the kernel makes the shell a zombie.
    pub fn settled_exit(&self) -> Option<ExitStatus> {
        if let Some(s) = self.exit_peek() {
            return Some(s);
        }
        if !self.shared.lock().eof {
            return None;
        }
        let deadline = crate::wait::Deadline::after(std::time::Duration::from_secs(1));
        crate::wait::poll_until(deadline, || self.exit_peek())
    }

    /// The shell's exit status if it has exited, without reaping it (`waitid` with
    /// `WNOWAIT`), so that `&self` methods can tell a dead shell.
    pub fn exit_peek(&self) -> Option<ExitStatus> {
        use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
        if let Some(s) = self.status {
            return Some(s);
        }
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(self.shell_pid.into()), flags).ok()? {
            WaitStatus::Exited(_, code) => Some(ExitStatus::from_raw((code & 0xff) << 8)),
            WaitStatus::Signaled(_, sig, core) => Some(ExitStatus::from_raw(
                sig as i32 | if core { 0x80 } else { 0 },
            )),
            _ => None,
        }
    }

    /// Raw master descriptor number (for diagnostics).
    pub fn master_raw(&self) -> Option<i32> {
        self.master.as_ref().map(|m| m.as_raw_fd())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.torn_down && !self.reported.get() {
            eprintln!(
                "jobcheck: session dropped during a panic\n{}",
                self.report()
            );
        }
        let left = self.teardown();
        if !left.is_empty() {
            eprintln!(
                "jobcheck: teardown left processes:\n{}",
                procfs::format_table(&left)
            );
        }
    }
}

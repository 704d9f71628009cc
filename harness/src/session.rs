//! A shell session under a pty: spawn, type, signal, wait, observe, check, tear down.
//!
//! Invariants:
//! - The shell is a fresh process (fork + exec through `Command` with a `pre_exec` that only
//!   calls async-signal-safe functions: `setsid`, `TIOCSCTTY`, reset of signal dispositions); its
//!   environment is built from nothing but the adapter, an isolated `HOME`/`TMPDIR`/
//!   `MARSH_RUNTIME_DIR`, `LANG=C.UTF-8`, `PATH`, `TERM` and `JOBCHECK_SESSION`.
//! - The parent's copy of the slave is closed once the child has it.
//! - The reader thread runs from spawn to hang-up ([`crate::reader`]).
//! - Every wait has a deadline and fails with a [`Failure`] that carries the transcript tail, the
//!   rendered screen and the process table, and writes an asciicast under `target/jobcheck/`.
//! - The shell's exit status comes from `waitpid` on its pid, never from reading until EOF.
//! - `Drop` (also while panicking) hangs up, SIGCONT+SIGKILLs every process group of the session
//!   (found by session id and by tag) and reaps the shell.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::procfs::{self, Proc, SESSION_VAR};
use crate::pty::{self, Pty};
use crate::reader::{self, Shared, State};
use crate::screen::Screen;
use crate::shells::{Adapter, JobEntry};
use crate::teardown;
use crate::transcript::{self, Kind};
use crate::wait::{DEFAULT_TIMEOUT, Deadline, poll_until};

/// A failed wait or check, with everything needed to understand it.
pub struct Failure {
    pub message: String,
    pub report: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.message, self.report)
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
    pub rows: u16,
    pub cols: u16,
    /// Default deadline of waits.
    pub timeout: Duration,
    /// Extra environment (after the adapter's).
    pub env: Vec<(String, String)>,
    /// Directories put in front of `PATH` (e.g. where `jobprobe` is).
    pub path_prepend: Vec<PathBuf>,
    /// Name used for the asciicast file and in reports.
    pub name: String,
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
        }
    }
}

/// Keys the line discipline turns into signals or EOF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    CtrlC,
    CtrlZ,
    CtrlBackslash,
    CtrlD,
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

/// A running shell session.
pub struct Session {
    adapter: Adapter,
    opts: Options,
    tag: String,
    shared: Arc<Shared>,
    master: Option<Arc<OwnedFd>>,
    wake: Option<OwnedFd>,
    reader: Option<JoinHandle<()>>,
    child: Child,
    shell_pid: i32,
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
    declared: Vec<i32>,
    /// A typed line whose echo has not been seen yet: (output offset when typed, needle).
    pending_echo: Option<(usize, Vec<u8>)>,
    /// A failure report was already built (the Drop of a panicking test need not repeat it).
    reported: std::cell::Cell<bool>,
}

fn fail_io(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure {
        message: format!("{what}: {e}"),
        report: String::new(),
    }
}

impl Session {
    /// Spawn `adapter`'s shell with default options.
    pub fn spawn(adapter: &Adapter) -> Result<Session> {
        Session::spawn_with(adapter, Options::default())
    }

    /// Spawn `adapter`'s shell.
    pub fn spawn_with(adapter: &Adapter, opts: Options) -> Result<Session> {
        teardown::sweep_once();
        let program = adapter
            .find_program()
            .ok_or_else(|| fail_io("shell not installed", &adapter.program))?;
        let tag = teardown::new_tag();
        // Named after the tag, so the sweep can remove it when its creator died without Drop.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}{tag}-", teardown::DIR_PREFIX))
            .tempdir()
            .map_err(|e| fail_io("tempdir", e))?;
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
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Every signal, real-time ones included: dispositions ignored by the test
                // process would survive exec. The raw system call, because glibc refuses
                // its internal signals (32, 33), which were seen ignored here.
                let dfl = [0u64; 4]; // kernel sigaction: SIG_DFL, no flags, empty mask
                for sig in 1..65 {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        libc::syscall(
                            libc::SYS_rt_sigaction,
                            sig,
                            dfl.as_ptr(),
                            std::ptr::null_mut::<u64>(),
                            8usize,
                        );
                    }
                }
                Ok(())
            });
        }
        let started = Instant::now();
        let child = cmd.spawn().map_err(|e| fail_io("spawn shell", e))?;
        // `cmd` still holds the parent's slave copies: drop them now.
        drop(cmd);
        let shell_pid = child.id() as i32;
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
            status: None,
            dir: Some(dir),
            last_prompt: 0,
            prompt_scan: 0,
            last_prompt_start: 0,
            prompt_isig: None,
            mark: 0,
            torn_down: false,
            declared: Vec::new(),
            pending_echo: None,
            reported: std::cell::Cell::new(false),
        })
    }

    // ---- identity ----

    /// The adapter.
    pub fn adapter(&self) -> &Adapter {
        &self.adapter
    }
    /// The shell's pid (also its pgid and sid).
    pub fn shell_pid(&self) -> i32 {
        self.shell_pid
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

    // ---- input ----

    fn master_fd(&self) -> Result<&Arc<OwnedFd>> {
        self.master
            .as_ref()
            .ok_or_else(|| self.failure("the session has hung up"))
    }

    /// Write raw bytes to the master.
    ///
    /// Before a byte that the line discipline turns into a signal (^C, ^Z, ^\\), wait for the
    /// echo of the last typed line: the kernel echoes asynchronously, and the signal character
    /// flushes the terminal's output queue, so an echo still queued would be lost from the
    /// transcript and the screen.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.iter().any(|b| matches!(b, 0x03 | 0x1a | 0x1c)) {
            self.wait_pending_echo()?;
            self.wait_signal_keys_on()?;
        }
        let m = self.master_fd()?.clone();
        self.shared.lock().push(Kind::In, bytes.to_vec());
        pty::write_all(m.as_fd(), bytes).map_err(|e| self.failure(&format!("write: {e}")))
    }

    /// While a job owns the terminal, wait until the line discipline turns ^C/^Z/^\ into
    /// signals (ISIG). A shell hands the terminal to a job and then puts back cooked modes; a
    /// key sent in between is read as a character (seen with ksh93's line editor). At a prompt
    /// (the shell owns the terminal) the line editor may keep ISIG off on purpose.
    fn wait_signal_keys_on(&mut self) -> Result<()> {
        if self.foreground() == Some(self.shell_pid) {
            return Ok(());
        }
        let m = self.master_fd()?.clone();
        self.wait_until("the terminal to turn keys into signals (ISIG)", |_| {
            nix::sys::termios::tcgetattr(m.as_fd())
                .ok()
                .filter(|t| t.local_flags.contains(nix::sys::termios::LocalFlags::ISIG))
                .map(|_| ())
        })
    }

    fn wait_pending_echo(&mut self) -> Result<()> {
        let Some((from, needle)) = self.pending_echo.take() else {
            return Ok(());
        };
        let deadline = Deadline::after(self.opts.timeout);
        let seen = self.wait_output_cond(deadline, |out| {
            let (text, _) = strip_ansi_mapped(&out[from.min(out.len())..]);
            text.windows(needle.len())
                .any(|w| w == needle.as_slice())
                .then_some(())
        });
        seen.ok_or_else(|| {
            self.failure(&format!(
                "the echo of the typed line (ending {:?}) never came (terminal echo off?)",
                String::from_utf8_lossy(&needle)
            ))
        })
    }

    /// Type a line and Enter; the output mark moves to here.
    pub fn type_line(&mut self, line: &str) -> Result<()> {
        self.set_mark();
        self.pending_echo = line
            .split_whitespace()
            .last()
            .map(|w| (self.mark, w.as_bytes().to_vec()));
        let mut b = line.as_bytes().to_vec();
        b.push(b'\r');
        self.send(&b)
    }

    /// Press a key.
    pub fn key(&mut self, key: Key) -> Result<()> {
        self.send(&[key.byte()])
    }

    fn note(&self, text: String) {
        self.shared.lock().push(Kind::Note, text.into_bytes());
    }

    /// Send a signal to the terminal's foreground process group.
    pub fn signal_foreground(&mut self, sig: Signal) -> Result<i32> {
        let g = self
            .foreground()
            .ok_or_else(|| self.failure("no foreground group"))?;
        self.signal_pgid(g, sig)?;
        Ok(g)
    }

    /// Send a signal to the shell.
    pub fn signal_shell(&mut self, sig: Signal) -> Result<()> {
        self.note(format!("kill {sig:?} {}", self.shell_pid));
        kill(Pid::from_raw(self.shell_pid), sig).map_err(|e| self.failure(&format!("kill: {e}")))
    }

    /// Send a signal to a process group (must be one of this session's).
    pub fn signal_pgid(&mut self, pgid: i32, sig: Signal) -> Result<()> {
        if pgid <= 1 || !self.processes().iter().any(|p| p.pgid == pgid) {
            return Err(self.failure(&format!("pgid {pgid} is not in this session")));
        }
        self.note(format!("killpg {sig:?} {pgid}"));
        killpg(Pid::from_raw(pgid), sig).map_err(|e| self.failure(&format!("killpg: {e}")))
    }

    /// Hang up: stop the reader and close the master.
    pub fn hangup(&mut self) {
        if let Some(w) = self.wake.take() {
            let _ = nix::unistd::write(w.as_fd(), b"x");
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        if self.master.take().is_some() {
            self.note("hangup: master closed".into());
        }
    }

    // ---- observation ----

    /// The terminal's foreground process group.
    pub fn foreground(&self) -> Option<i32> {
        pty::foreground_pgrp(self.master.as_ref()?.as_fd())
    }

    /// Live processes of the session (by session id and by tag), shell included.
    pub fn processes(&self) -> Vec<Proc> {
        let mut v = teardown::live_session_procs(self.shell_pid, &self.tag);
        v.sort_by_key(|p| p.pid);
        v
    }

    /// Live processes of a process group.
    pub fn group(&self, pgid: i32) -> Vec<Proc> {
        procfs::procs_in_pgid(pgid)
            .into_iter()
            .filter(|p| !p.is_dead())
            .map(|p| procfs::read(p.pid).unwrap_or(p))
            .collect()
    }

    /// All output so far (exact bytes).
    pub fn output(&self) -> Vec<u8> {
        self.shared.lock().output.clone()
    }

    /// Output since the mark, escape sequences removed, `\r` dropped.
    pub fn output_since_mark(&self) -> String {
        let out = self.shared.lock().output[self.mark..].to_vec();
        strip_ansi(&out)
    }

    /// The rendered screen.
    pub fn screen(&self) -> String {
        self.shared.lock().screen.contents()
    }

    /// Output offset of the mark (just past the last match of a wait, or where a line was typed).
    pub fn mark(&self) -> usize {
        self.mark
    }

    /// Move the mark to the end of the output so far.
    pub fn set_mark(&mut self) {
        self.mark = self.shared.lock().output.len();
    }

    /// The shell's exit status, if it has exited (reaps it).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Declare a process as allowed to outlive the checks (e.g. an intentional survivor).
    pub fn declare(&mut self, pid: i32) {
        self.declared.push(pid);
    }

    // ---- waits ----

    /// Wait for the next prompt (number above the last one seen); returns its number and moves
    /// the mark after it.
    pub fn wait_prompt(&mut self) -> Result<u64> {
        self.wait_prompt_for(self.opts.timeout)
    }

    /// [`Session::wait_prompt`] with an explicit deadline.
    pub fn wait_prompt_for(&mut self, timeout: Duration) -> Result<u64> {
        let deadline = Deadline::after(timeout);
        let last = self.last_prompt;
        let re = self.prompt_re.clone();
        let from = self.prompt_scan;
        let found = self.wait_output_cond(deadline, |out| {
            let tail = &out[from.min(out.len())..];
            for c in re.captures_iter(tail) {
                let n: u64 = std::str::from_utf8(&c["n"]).ok()?.parse().unwrap_or(0);
                if n > last {
                    let m = c.get(0).expect("match");
                    return Some((n, from + m.start(), from + m.end()));
                }
            }
            None
        });
        match found {
            Some((n, start, end)) => {
                self.last_prompt = n;
                self.last_prompt_start = start;
                self.prompt_scan = end;
                self.mark = end;
                // The prompt came after the echo in the same output stream.
                self.pending_echo = None;
                self.wait_reading_input(deadline)?;
                self.prompt_isig = self.master.as_ref().and_then(|m| pty::isig(m.as_fd()));
                Ok(n)
            }
            None => Err(self.failure(&format!(
                "no prompt numbered above {last} within {timeout:?} (pattern /{}/)",
                self.prompt_re.as_str()
            ))),
        }
    }

    /// Wait until the shell is busy running a line (not blocked reading input) and the terminal
    /// turns ^C/^Z into signals: a key sent before that may reach a line editor as a plain byte
    /// (mksh's editor reads with ISIG off).
    ///
    /// Busy means: ISIG on, and the shell blocked in a system call (a ^C that arrives while it
    /// still runs shell code can be lost: seen with fish before `wait`), which is not an input
    /// wait, unless its line editor reads with ISIG off (marsh, mksh), where ISIG on already
    /// tells the line is running (marsh waits for jobs in epoll_wait).
    pub fn wait_busy(&mut self) -> Result<()> {
        self.wait_until("the shell to run the line with ISIG on", |s| {
            s.shell_busy().then_some(())
        })
    }

    /// The condition of [`Session::wait_busy`]: ISIG on, and the shell blocked in a system call
    /// that is not an input wait (or any, where the line editor reads with ISIG off).
    fn shell_busy(&self) -> bool {
        let Some(master) = self.master.as_ref() else {
            return false;
        };
        if pty::isig(master.as_fd()) == Some(false) {
            return false;
        }
        let editor_isig = self.prompt_isig != Some(false);
        match procfs::blocked_syscall(self.shell_pid) {
            None => true,
            Some(None) => false,
            Some(Some(nr)) => !editor_isig || !procfs::is_input_syscall(nr),
        }
    }

    /// Wait until the shell is idle at its line editor: blocked reading input (e.g. after typed
    /// text was drawn, before a key that edits it).
    pub fn wait_idle(&mut self) -> Result<()> {
        let pid = self.shell_pid;
        self.wait_until("the shell to wait for input", |_| {
            matches!(procfs::blocked_waiting_for_input(pid), Some(true) | None).then_some(())
        })
    }

    /// Wait until the shell is blocked waiting for input (read/select/poll, from
    /// `/proc/PID/syscall`). A prompt is on screen a moment before the shell reads: bash
    /// (readline) swallows a ^C that arrives in that moment until the next key is typed.
    fn wait_reading_input(&mut self, deadline: Deadline) -> Result<()> {
        let pid = self.shell_pid;
        let ok = poll_until(deadline, || match procfs::blocked_waiting_for_input(pid) {
            Some(true) | None => Some(()),
            Some(false) => None,
        });
        ok.ok_or_else(|| self.failure("the shell showed a prompt but never waited for input"))
    }

    /// Wait until the shell is blocked waiting for a child (e.g. in its `wait` builtin), so a key
    /// sent now reaches a shell that has left its line editor's raw mode.
    pub fn wait_shell_waiting_for_child(&mut self) -> Result<()> {
        let pid = self.shell_pid;
        self.wait_until("the shell to wait for a child", |_| {
            matches!(procfs::blocked_waiting_for_child(pid), Some(true) | None).then_some(())
        })
    }

    /// Wait for output matching `pattern` after the mark; returns the match and moves the mark
    /// after it.
    ///
    /// The echo of a typed line is output too: choose a pattern the echo cannot match.
    pub fn wait_output(&mut self, pattern: &str) -> Result<String> {
        let re = regex::bytes::Regex::new(pattern)
            .map_err(|e| self.failure(&format!("bad regex: {e}")))?;
        let deadline = Deadline::after(self.opts.timeout);
        let from = self.mark;
        let found = self.wait_output_cond(deadline, |out| {
            let (text, map) = strip_ansi_mapped(&out[from.min(out.len())..]);
            re.find(&text).map(|m| {
                let end = if m.end() == 0 {
                    0
                } else {
                    map[m.end() - 1] + 1
                };
                (
                    String::from_utf8_lossy(m.as_bytes()).into_owned(),
                    from + end,
                )
            })
        });
        match found {
            Some((m, end)) => {
                self.mark = end;
                Ok(m)
            }
            None => Err(self.failure(&format!(
                "no output matching /{pattern}/ within {:?} after the mark",
                self.opts.timeout
            ))),
        }
    }

    fn wait_output_cond<T>(
        &self,
        deadline: Deadline,
        mut cond: impl FnMut(&[u8]) -> Option<T>,
    ) -> Option<T> {
        let mut st = self.shared.lock();
        loop {
            if let Some(v) = cond(&st.output) {
                return Some(v);
            }
            if deadline.passed() || st.eof {
                return None;
            }
            let (g, _) = self
                .shared
                .cond
                .wait_timeout(st, deadline.remaining())
                .unwrap_or_else(|e| e.into_inner());
            st = g;
        }
    }

    /// Poll `cond` (at most 1 ms apart) until it yields, or fail with `what`.
    pub fn wait_until<T>(
        &mut self,
        what: &str,
        mut cond: impl FnMut(&Session) -> Option<T>,
    ) -> Result<T> {
        let deadline = Deadline::after(self.opts.timeout);
        let this = &*self;
        match poll_until(deadline, || cond(this)) {
            Some(v) => Ok(v),
            None => Err(self.failure(&format!("timed out waiting for {what}"))),
        }
    }

    /// Wait until the terminal's foreground group is not the shell's and its live processes have
    /// exactly the commands `comms` (in any order), i.e. the job has exec'd its programs, the
    /// terminal turns ^C/^Z into signals (ISIG), and the shell is blocked waiting (see
    /// [`Session::wait_busy`]). Returns the job's pgid.
    pub fn wait_foreground_job(&mut self, comms: &[&str]) -> Result<i32> {
        let mut want: Vec<String> = comms.iter().map(|s| s.to_string()).collect();
        want.sort();
        let shell = self.shell_pid;
        self.wait_until(&format!("a foreground job running {comms:?}"), |s| {
            let g = s.foreground()?;
            if g == shell {
                return None;
            }
            let mut have: Vec<String> = procfs::procs_in_pgid(g)
                .into_iter()
                .filter(|p| !p.is_dead())
                .map(|p| p.comm)
                .collect();
            have.sort();
            if have != want {
                return None;
            }
            // ksh93 at times hands the terminal over before it restores the modes with ISIG, and
            // may change them again before it waits (seen: a ^Z sent in between was echoed and
            // stopped nothing). The job is ready once keys are signals and the shell is done with
            // the terminal: blocked in its wait for the job.
            s.shell_busy().then_some(g)
        })
    }

    /// Wait until a process group of the session other than the shell's and the terminal's
    /// foreground group has live processes with the commands `comms`, others allowed (exec'd:
    /// a signal sent earlier could reach a child still running shell code, with the shell's
    /// dispositions). Returns its pgid.
    pub fn wait_background_job(&mut self, comms: &[&str]) -> Result<i32> {
        let mut want: Vec<String> = comms.iter().map(|s| s.to_string()).collect();
        want.sort();
        let shell = self.shell_pid;
        self.wait_until(&format!("a background job running {comms:?}"), |s| {
            let fg = s.foreground();
            let mut groups: std::collections::BTreeMap<i32, Vec<String>> = Default::default();
            for p in procfs::procs_in_sid(shell) {
                if !p.is_dead() && p.pgid != shell && Some(p.pgid) != fg {
                    groups.entry(p.pgid).or_default().push(p.comm);
                }
            }
            // `want` must be among the group's commands (a shell may keep a process of its own
            // in the job's group, as marsh does for a job's leader).
            groups.into_iter().find_map(|(g, mut have)| {
                for w in &want {
                    let i = have.iter().position(|h| h == w)?;
                    have.swap_remove(i);
                }
                Some(g)
            })
        })
    }

    /// Wait until every live process of group `pgid` is in a state accepted by `ok`, and there
    /// are `count` of them. Returns them.
    pub fn wait_group_state(
        &mut self,
        pgid: i32,
        count: usize,
        what: &str,
        ok: impl Fn(char) -> bool,
    ) -> Result<Vec<Proc>> {
        self.wait_until(
            &format!("{count} process(es) of group {pgid} {what}"),
            |s| {
                let g = s.group(pgid);
                (g.len() == count && g.iter().all(|p| ok(p.state))).then_some(g)
            },
        )
    }

    /// Wait until the terminal belongs to the shell again.
    pub fn wait_shell_foreground(&mut self) -> Result<()> {
        let shell = self.shell_pid;
        self.wait_until("the terminal to return to the shell", |s| {
            (s.foreground() == Some(shell)).then_some(())
        })
    }

    /// Wait for the shell to exit (waitpid on its pid); returns its status.
    pub fn wait_exit(&mut self) -> Result<ExitStatus> {
        let deadline = Deadline::after(self.opts.timeout);
        let mut status = None;
        let child = &mut self.child;
        let got = poll_until(deadline, || child.try_wait().ok().flatten());
        if let Some(s) = got {
            status = Some(s);
        }
        match status {
            Some(s) => {
                self.status = Some(s);
                self.note(format!("shell exited: {s:?}"));
                Ok(s)
            }
            None => Err(self.failure("the shell did not exit")),
        }
    }

    // ---- composite steps ----

    /// Type a line and wait for the next prompt; returns the output between them (escape codes
    /// stripped, the echoed line removed).
    pub fn run(&mut self, line: &str) -> Result<String> {
        self.type_line(line)?;
        let from = self.mark;
        self.wait_prompt()?;
        // A line editor that redraws its prompt after an asynchronous job notice (zsh, fish)
        // can show a numbered prompt that began before the typed line: no output then.
        let end = self.last_prompt_start.max(from);
        let out = self.shared.lock().output[from..end].to_vec();
        let text = strip_ansi(&out);
        let mut lines = text.lines();
        let first = lines.next().unwrap_or("");
        let rest: Vec<&str> = lines.collect();
        if first.trim_end().ends_with(line.trim_end()) {
            Ok(rest.join("\n"))
        } else {
            Ok(text)
        }
    }

    /// Run `jobs` and parse its entries.
    pub fn jobs(&mut self) -> Result<Vec<JobEntry>> {
        let text = self.run("jobs")?;
        Ok(self.adapter.parse_jobs(&text))
    }

    // ---- checks ----

    /// Wait (with the default deadline) until no live process is left but the shell and the
    /// declared ones (and `also`).
    pub fn check_clean(&mut self, also: &[i32]) -> Result<()> {
        self.check_clean_within(self.opts.timeout, also)
    }

    /// [`Session::check_clean`] with an explicit deadline.
    pub fn check_clean_within(&mut self, timeout: Duration, also: &[i32]) -> Result<()> {
        let saved = self.opts.timeout;
        self.opts.timeout = timeout;
        let r = self.check_clean_inner(also);
        self.opts.timeout = saved;
        r
    }

    fn check_clean_inner(&mut self, also: &[i32]) -> Result<()> {
        let allowed: Vec<i32> = self.declared.iter().chain(also).copied().collect();
        let shell = self.shell_pid;
        let shell_alive = self.status.is_none();
        self.wait_until("no leftover processes", |s| {
            let extra: Vec<Proc> = s
                .processes()
                .into_iter()
                .filter(|p| !(allowed.contains(&p.pid) || (shell_alive && p.pid == shell)))
                .collect();
            extra.is_empty().then_some(())
        })
        .map_err(|mut f| {
            f.message = format!(
                "leftover processes:\n{}",
                procfs::format_table(&self.processes())
            );
            f
        })
    }

    /// marsh only, at a prompt once every job has been reported: each reservoir variable that
    /// `env` lists has its files, and the session's runtime directory holds exactly one session
    /// directory with no other file in it.
    pub fn check_reservoirs(&mut self) -> Result<()> {
        let listing = self.run("env")?;
        match self.reservoir_mismatch(&listing) {
            None => Ok(()),
            Some(why) => Err(self.failure(&why)),
        }
    }

    /// How the session directory differs from the reservoir files an `env` listing names
    /// (`None`: it holds exactly them, in the one session directory of the runtime directory).
    pub fn reservoir_mismatch(&self, listing: &str) -> Option<String> {
        let re = regex::Regex::new(r"(?m)^(\S+) = reservoir \d+ items, \d+ bytes: (.*?)\s*$")
            .expect("env regex");
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let mut want = std::collections::BTreeSet::new();
        for c in re.captures_iter(listing) {
            for f in c[2].split_whitespace() {
                want.insert(canon(Path::new(f)));
            }
        }
        let runtime = self.dir().join("runtime");
        let sessions: Vec<PathBuf> = std::fs::read_dir(&runtime)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        if sessions.len() != 1 || !sessions[0].is_dir() {
            return Some(format!(
                "expected one session directory in {}, found {sessions:?}",
                runtime.display()
            ));
        }
        let have: std::collections::BTreeSet<PathBuf> = std::fs::read_dir(&sessions[0])
            .map(|d| d.filter_map(|e| e.ok().map(|e| canon(&e.path()))).collect())
            .unwrap_or_default();
        if want == have {
            return None;
        }
        let missing: Vec<_> = want.difference(&have).collect();
        let extra: Vec<_> = have.difference(&want).collect();
        Some(format!(
            "reservoir files differ from env: missing {missing:?}, not in env {extra:?}\nenv:\n{listing}"
        ))
    }

    /// After a marsh shell has ended (other than by SIGKILL, which leaves its directory for the
    /// next marsh to reap), no session directory is left in its runtime directory.
    pub fn check_runtime_removed(&mut self) -> Result<()> {
        let runtime = self.dir().join("runtime");
        let left: Vec<PathBuf> = std::fs::read_dir(&runtime)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        if left.is_empty() {
            Ok(())
        } else {
            Err(self.failure(&format!(
                "the shell ended but left {left:?} in {}",
                runtime.display()
            )))
        }
    }

    /// The terminal belongs to the shell (call at a prompt).
    pub fn check_terminal_owned_by_shell(&mut self) -> Result<()> {
        self.wait_shell_foreground()
    }

    // ---- failure reporting ----

    /// Build a failure with the report (and write the asciicast).
    pub fn failure(&self, message: &str) -> Failure {
        self.reported.set(true);
        Failure {
            message: format!("[{}] {message}", self.opts.name),
            report: self.report(),
        }
    }

    /// Transcript tail, screen, process table, foreground group; writes the asciicast.
    pub fn report(&self) -> String {
        let (tail, screen, cast) = {
            let st = self.shared.lock();
            (
                transcript::format_tail(&st.events, 40),
                st.screen.contents(),
                transcript::asciicast(
                    &st.events,
                    self.opts.rows,
                    self.opts.cols,
                    &self.adapter.term,
                    &self.opts.name,
                ),
            )
        };
        let cast_path = write_cast(&self.opts.name, &cast);
        format!(
            "--- shell {} pid {} tag {} last prompt {} fg {:?}\n--- transcript (last events):\n{tail}--- screen:\n{screen}\n--- processes:\n{}--- asciicast: {}\n",
            self.adapter.name,
            self.shell_pid,
            self.tag,
            self.last_prompt,
            self.foreground(),
            procfs::format_table(&self.processes()),
            cast_path
                .map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("not written: {e}")),
        )
    }

    /// Tear down now (idempotent); returns processes that survived (should be empty).
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
        left
    }

    /// The shell's exit status as "exit N" / "signal NAME".
    pub fn describe_status(s: ExitStatus) -> String {
        match (s.code(), s.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(sig)) => format!("signal {sig}"),
            _ => format!("{s:?}"),
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

/// Remove escape sequences and carriage returns.
pub fn strip_ansi(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&strip_ansi_mapped(bytes).0).into_owned()
}

/// [`strip_ansi`] on bytes, with the raw offset of every kept byte.
pub fn strip_ansi_mapped(bytes: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut map = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            i += 1;
            match bytes.get(i) {
                Some(b'[') => {
                    i += 1;
                    while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                        i += 1;
                    }
                    i += 1;
                }
                Some(b']') => {
                    while i < bytes.len() && bytes[i] != 0x07 && bytes[i] != b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                Some(_) => i += 1,
                None => {}
            }
            continue;
        }
        if b != b'\r' {
            out.push(b);
            map.push(i);
        }
        i += 1;
    }
    (out, map)
}

/// Directory for artifacts: `$JOBCHECK_ARTIFACTS`, else `<target>/jobcheck` found from the
/// running executable (the ancestor holding `CACHEDIR.TAG`), else the temp dir.
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

fn write_cast(name: &str, cast: &str) -> std::io::Result<PathBuf> {
    let dir = artifacts_dir();
    std::fs::create_dir_all(&dir)?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '@' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{safe}.cast"));
    std::fs::write(&path, cast)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes() {
        assert_eq!(
            strip_ansi(b"\x1b[?2004hbash 1$ \x1b[0m\r\nok"),
            "bash 1$ \nok"
        );
    }
}

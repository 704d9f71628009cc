//! A small ptrace tracer that signals a store job's leader at its K-th system call.
//!
//! [`trace_and_inject`] seizes the interactive shell while it waits at its prompt, follows the
//! shell's next fork to the job's leader, detaches from the shell right after that fork (so the
//! shell itself never stops for the tracer again and is never signalled), and counts the
//! leader's system calls on all its threads. At the K-th system call entry it lets go of every
//! other thread, sends the leader the signal and detaches from it; whatever of the leader still
//! stops for the tracer afterwards is let go at once, with any signal it holds passed on.
//!
//! Built on `nix`: `ptrace::{seize, syscall, cont, detach, interrupt, getevent}`, `waitpid` with
//! `__WALL | __WNOTHREAD` (every tracee of this thread, threads included, and only this thread's:
//! the test's session has children of its own) and `kill`.
//!
//! `waitpid` is polled (`WNOHANG` and short sleeps) rather than blocking, so that the deadline
//! holds even when no tracee ever stops again: a blocking `waitpid` could only be woken by a
//! signal handler, and the harness owns the process's signals.
//!
//! Errors of the ptrace requests made while resuming or letting go are ignored on purpose: they
//! mean the tracee is gone (`ESRCH`), whose end the next `waitpid` reports anyway.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::ptrace::{self, Event};
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// What the tracer saw of the leader.
#[derive(Debug)]
pub struct Traced {
    /// System calls the leader entered (all threads), up to the injection.
    pub syscalls: u64,
    /// Whether the signal was sent (the run had K system calls or more).
    pub injected: bool,
}

/// How long the whole trace may take.
const DEADLINE: Duration = Duration::from_secs(20);
/// The pause between two polls of `waitpid`.
const POLL: Duration = Duration::from_micros(50);

/// Seize `shell` (then `ready` is sent), follow its next fork (the job's leader), and send
/// `sig` to the leader at its `k`-th system call. Must run on a thread of its own: ptrace
/// tracees belong to the thread that traces them.
pub fn trace_and_inject(
    shell: Pid,
    k: u64,
    sig: Signal,
    ready: Sender<Result<(), String>>,
) -> Result<Traced, String> {
    let opts = ptrace::Options::PTRACE_O_TRACESYSGOOD
        | ptrace::Options::PTRACE_O_TRACEFORK
        | ptrace::Options::PTRACE_O_TRACEVFORK
        | ptrace::Options::PTRACE_O_TRACECLONE;
    // SEIZE, unlike ATTACH, does not stop the shell: it goes on waiting at its prompt until the
    // test types the job's line.
    if let Err(e) = ptrace::seize(shell, opts) {
        let e = std::io::Error::from(e).to_string();
        let _ = ready.send(Err(e.clone()));
        return Err(format!("PTRACE_SEIZE: {e}"));
    }
    let _ = ready.send(Ok(()));
    Tracer {
        shell,
        k,
        sig,
        deadline: Instant::now() + DEADLINE,
        shell_traced: true,
        leader: None,
        traced: HashMap::new(),
        early: Vec::new(),
        syscalls: 0,
        injected: false,
    }
    .run()
}

struct Tracer {
    shell: Pid,
    k: u64,
    sig: Signal,
    deadline: Instant,
    /// Until the shell's fork event: after it the tracer detaches from the shell.
    shell_traced: bool,
    /// The job's leader: the shell's child from that fork.
    leader: Option<Pid>,
    /// Traced threads of the leader, with "inside a system call" (syscall stops alternate
    /// between entry and exit; only entries are counted).
    traced: HashMap<Pid, bool>,
    /// Stops of new tracees that came before the shell's fork event told who the leader is.
    early: Vec<Pid>,
    syscalls: u64,
    injected: bool,
}

impl Tracer {
    fn run(mut self) -> Result<Traced, String> {
        loop {
            if !self.shell_traced && self.leader.is_some() && self.traced.is_empty() {
                return Ok(Traced {
                    syscalls: self.syscalls,
                    injected: self.injected,
                });
            }
            let status = match next_status(self.deadline) {
                Ok(Some(status)) => status,
                Ok(None) => {
                    self.abandon();
                    return Err(format!("tracer: no progress within {DEADLINE:?}"));
                }
                Err(Errno::ECHILD) => {
                    // No tracee left: after the fork, the leader and its threads are gone.
                    if self.leader.is_some() {
                        self.traced.clear();
                        self.shell_traced = false;
                        continue;
                    }
                    return Err("tracer: lost the shell".into());
                }
                // EINVAL too if a tracee stopped with a signal `nix` cannot name (a real-time
                // one): marsh and its programs use none.
                Err(e) => return Err(format!("waitpid: {e}")),
            };
            let pid = match status {
                WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _) => {
                    self.traced.remove(&pid);
                    if Some(pid) == self.leader {
                        self.traced.clear();
                    }
                    continue;
                }
                WaitStatus::Stopped(pid, _)
                | WaitStatus::PtraceEvent(pid, _, _)
                | WaitStatus::PtraceSyscall(pid) => pid,
                WaitStatus::Continued(_) | WaitStatus::StillAlive => continue,
            };
            if pid == self.shell && self.shell_traced {
                self.shell_stop(status)?;
                continue;
            }
            let Some(lead) = self.leader else {
                // The new child's first stop may come before the shell's fork event: hold it
                // (it stays stopped) until the event says whether it is the leader.
                self.early.push(pid);
                continue;
            };
            self.leader_stop(lead, pid, status)?;
        }
    }

    /// The shell stopped: at its fork (or vfork, or clone) the child is the job's leader, and
    /// the shell is let go at once, so that it never stops for the tracer again and nothing
    /// sent to the leader can reach it through the tracer. Any other stop resumes it as it was.
    fn shell_stop(&mut self, status: WaitStatus) -> Result<(), String> {
        let shell = self.shell;
        match status {
            WaitStatus::PtraceEvent(_, _, event) if is_fork(event) => {
                let child = ptrace::getevent(shell)
                    .map(|msg| Pid::from_raw(msg as i32))
                    .map_err(|e| format!("PTRACE_GETEVENTMSG: {e}"))?;
                self.leader = Some(child);
                self.traced.insert(child, false);
                let _ = ptrace::detach(shell, None);
                self.shell_traced = false;
                if self.early.contains(&child) {
                    // Its first stop came before the fork event: it waits for us.
                    let _ = ptrace::syscall(child, None);
                }
            }
            WaitStatus::Stopped(_, stopsig) if stopsig != Signal::SIGTRAP => {
                // A signal for the shell: hand it on.
                let _ = ptrace::cont(shell, stopsig);
            }
            _ => {
                let _ = ptrace::cont(shell, None);
            }
        }
        Ok(())
    }

    /// A stop of the leader, one of its threads, or something they spawned.
    fn leader_stop(&mut self, lead: Pid, pid: Pid, status: WaitStatus) -> Result<(), String> {
        if let Entry::Vacant(e) = self.traced.entry(pid) {
            if tgid_of(pid) == Some(lead) && !self.injected {
                e.insert(false);
            } else {
                // A program the leader spawned, or anything after the injection: not ours.
                let _ = ptrace::detach(pid, None);
                return Ok(());
            }
        }
        if self.injected {
            // After the injection: let go of every thread at its next stop, passing a pending
            // signal on.
            let _ = ptrace::detach(pid, pending_signal(status));
            self.traced.remove(&pid);
            return Ok(());
        }
        let resume_sig = match status {
            WaitStatus::PtraceSyscall(_) => {
                let inside = self.traced.get_mut(&pid).expect("traced");
                *inside = !*inside;
                if *inside {
                    self.syscalls += 1;
                    if self.syscalls == self.k {
                        self.inject(lead, pid)?;
                        return Ok(());
                    }
                }
                None
            }
            // A new thread (traced at its first stop) or child process (let go at its first
            // stop): nothing to do here but resume.
            WaitStatus::PtraceEvent(_, _, event) if is_fork(event) => None,
            // Signal-delivery stop: deliver it.
            WaitStatus::Stopped(_, stopsig) => Some(stopsig),
            _ => None,
        };
        let _ = ptrace::syscall(pid, resume_sig);
        Ok(())
    }

    /// The K-th system call entry, by thread `pid` of the leader `lead` (stopped there).
    fn inject(&mut self, lead: Pid, pid: Pid) -> Result<(), String> {
        self.injected = true;
        // Let go of every other thread first: a group stop completed by a traced thread is
        // reported to the tracer, not to the shell (a tracer artifact).
        self.release_others(pid)?;
        // A signal to the leader process (never to a group: early on the leader may still be in
        // the shell's group).
        let _ = signal::kill(lead, self.sig);
        // Only now does the stopped thread go, so the signal is pending when it resumes.
        let _ = ptrace::detach(pid, None);
        self.traced.remove(&pid);
        Ok(())
    }

    /// Detach every traced thread but `keep` (interrupting those that run), passing on signals.
    fn release_others(&mut self, keep: Pid) -> Result<(), String> {
        for &t in self.traced.keys().filter(|&&t| t != keep) {
            let _ = ptrace::interrupt(t);
        }
        while self.traced.keys().any(|&t| t != keep) {
            let status = match next_status(self.deadline) {
                Ok(Some(status)) => status,
                Ok(None) => return Err("tracer: threads did not stop for detaching".into()),
                Err(_) => {
                    // No tracee left to wait for: the others are gone.
                    self.traced.retain(|&t, _| t == keep);
                    break;
                }
            };
            match status {
                WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _) => {
                    self.traced.remove(&pid);
                }
                WaitStatus::Stopped(pid, _)
                | WaitStatus::PtraceEvent(pid, _, _)
                | WaitStatus::PtraceSyscall(pid) => {
                    // `keep` is held at its system call entry: it does not stop again.
                    if pid != keep {
                        let _ = ptrace::detach(pid, pending_signal(status));
                        self.traced.remove(&pid);
                    }
                }
                WaitStatus::Continued(_) | WaitStatus::StillAlive => {}
            }
        }
        Ok(())
    }

    /// The deadline passed: let go of whatever is still traced.
    fn abandon(&self) {
        for &t in self.traced.keys() {
            let _ = ptrace::interrupt(t);
            let _ = ptrace::detach(t, None);
        }
        if self.shell_traced {
            let _ = ptrace::interrupt(self.shell);
        }
    }
}

/// The next stop or end of one of this thread's tracees (threads included), polled until
/// `deadline` (`None` once it has passed).
fn next_status(deadline: Instant) -> Result<Option<WaitStatus>, Errno> {
    let flags = WaitPidFlag::__WALL | WaitPidFlag::__WNOTHREAD | WaitPidFlag::WNOHANG;
    loop {
        if Instant::now() > deadline {
            return Ok(None);
        }
        match waitpid(None, Some(flags))? {
            WaitStatus::StillAlive => std::thread::sleep(POLL),
            status => return Ok(Some(status)),
        }
    }
}

/// The signal a stop holds for its tracee, to pass on when detaching: only a signal-delivery
/// stop holds one (a plain SIGTRAP aside, which would be the tracer's own).
fn pending_signal(status: WaitStatus) -> Option<Signal> {
    match status {
        WaitStatus::Stopped(_, sig) if sig != Signal::SIGTRAP => Some(sig),
        _ => None,
    }
}

/// A fork, vfork or clone event (a new process or thread).
fn is_fork(event: i32) -> bool {
    event == Event::PTRACE_EVENT_FORK as i32
        || event == Event::PTRACE_EVENT_VFORK as i32
        || event == Event::PTRACE_EVENT_CLONE as i32
}

/// The process (thread group) a thread belongs to.
fn tgid_of(tid: Pid) -> Option<Pid> {
    let s = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
        .map(Pid::from_raw)
}

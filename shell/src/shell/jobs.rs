//! Running pipelines as jobs, and the commits that wait for them.
//!
//! # Process model
//!
//! Every pipeline typed at an interactive prompt runs as a job in a process group of its own.
//! A pipeline of host programs only (`sleep 30 | cat`) is spawned directly, each program a
//! member of the job, as any shell does. A pipeline with ops is run by one **forked** marsh
//! process, the job's leader, which runs the ops (on threads when programs stand between them)
//! and spawns the pipeline's programs as its own children, in the same group.
//!
//! Forked, not re-executed: the pipeline is parsed and its functions compiled in the shell, so
//! errors show before anything starts, and the child simply runs the closures it inherits — no
//! serialising of functions, variables or open reservoirs, and about a millisecond less per
//! command than starting marsh again. Forking is safe because the shell is single-threaded
//! whenever it forks (pipeline threads exist only inside job processes); the child never
//! returns into the shell's loop, runs no destructors, and leaves with `_exit`.
//!
//! # Commits
//!
//! Only the shell binds variables. A store's temporary file is created by the shell before
//! the fork; the leader writes it and, if the pipeline ran to its end, writes one byte to a
//! pipe the shell holds ("completed") before exiting. When the shell learns the job has ended
//! (the foreground wait, `fg`, `wait`, or the reaping before a prompt) it commits or rolls back
//! ([`Jobs::settle`]): a leader killed in any way — ctrl-c, `kill -KILL %1`, the hang-up —
//! never wrote the byte, so its file is removed and the variable keeps its value.
//!
//! Two stores into one variable: a completed store commits unless a store *started* after it
//! has already committed (each store gets a sequence number when it starts); so the last
//! started wins when it completes, and a failed later store takes nothing from an earlier one.
//! Appends all commit, in completion order.
//!
//! # Leaders never outlive the shell
//!
//! A leader asks the kernel for SIGKILL when the shell dies (`PR_SET_PDEATHSIG`), and checks
//! right after that the shell is still its parent (the shell may have died in between). The
//! programs a leader spawns ask the same of the leader. So no store or op job survives the
//! shell, even one killed by SIGKILL, and the session directory they would write into is free
//! for the next marsh to reap.

use super::signals;
use super::streams::{self, StoreSink};
use super::vars::Vars;
use crate::exec::host::{ChildSetup, HostCommand};
use crate::exec::{self, Output, Piece};
use crate::job::{JobControl, Launch, Pgid, Pid, RealSystem, child_setup};
use crate::ops::{OpError, Reporter};
use crate::reservoir::{PendingWrite, Reservoir, Session};
use crate::syntax::ast::{Pipeline, Sink as AstSink, Source as AstSource};
use std::collections::HashMap;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Stdio;
use std::sync::Arc;

/// A store waiting for its job to end.
struct PendingStore {
    pgid: Pgid,
    pending: PendingWrite,
    append: bool,
    /// When the store started, among all stores of this shell.
    seq: u64,
    /// Read end of the pipe the leader writes "completed" into.
    done: OwnedFd,
}

/// The shell's jobs: job control itself, and what must happen when each job ends.
pub struct Jobs {
    pub control: JobControl<RealSystem>,
    stores: Vec<PendingStore>,
    /// Reservoirs a running job reads, kept so their files stay while it reads them.
    holds: Vec<(Pgid, Vec<Reservoir>)>,
    /// Groups of jobs not yet settled.
    live: Vec<Pgid>,
    /// The table's [`JobTable::statuses_seen`](crate::job::JobTable::statuses_seen) at the
    /// last settling pass.
    settled_at: Option<u64>,
    next_seq: u64,
    /// Per variable, the sequence number of the store that bound its current value.
    committed: HashMap<String, u64>,
}

impl Jobs {
    pub fn new() -> Jobs {
        Jobs {
            control: JobControl::new(RealSystem::new(0)),
            stores: Vec::new(),
            holds: Vec::new(),
            live: Vec::new(),
            settled_at: None,
            next_seq: 1,
            committed: HashMap::new(),
        }
    }

    /// Whether jobs get the terminal (an interactive shell that took it).
    pub fn interactive(&self) -> bool {
        self.control.has_terminal()
    }

    /// Runs `p` as a job; returns the status for `STATUS`.
    pub fn run(
        &mut self,
        vars: &mut Vars,
        session: Result<&Session, &str>,
        line: &str,
        p: &Pipeline,
        background: bool,
    ) -> Result<i32, OpError> {
        let p = streams::normalize(p)?;
        let foreground = !background;
        let reporter = Reporter::new();
        let mut holds = Vec::new();
        let source = match &p.source {
            Some(AstSource::Reservoir(name)) => {
                holds.push(streams::reservoir_of(vars, name)?.clone());
                Some(streams::source(vars, p.source.as_ref().expect("checked"))?)
            }
            Some(s) => Some(streams::source(vars, s)?),
            None => None,
        };
        let pieces = exec::build(&p.stages, source.is_some(), vars, &reporter)?;
        let only_programs = source.is_none()
            && p.sink.is_none()
            && pieces.iter().all(|p| matches!(p, Piece::Host(_)));
        let started = if only_programs {
            let hosts = pieces.into_iter().filter_map(|p| {
                if let Piece::Host(h) = p {
                    Some(h)
                } else {
                    None
                }
            });
            self.spawn_programs(line, hosts.collect(), foreground)?
        } else {
            let (file_sink, store) = match &p.sink {
                None => (None, None),
                Some(AstSink::File { path, append }) => (
                    Some(exec::sinks::FileWriter::open(&path.text, *append)?),
                    None,
                ),
                Some(AstSink::Reservoir { name, append }) => {
                    streams::check_store_target(vars, name, *append)?;
                    (None, Some((streams::begin_store(session, name)?, *append)))
                }
            };
            self.fork_leader(
                line, source, pieces, file_sink, store, &reporter, foreground,
            )?
        };
        if !holds.is_empty() {
            self.holds.push((started.pgid, holds));
        }
        if background {
            // A script's background jobs are announced to nobody, as in POSIX shells.
            if let Some(text) = started.line.as_ref().filter(|_| self.interactive()) {
                say(text);
            }
            self.settle(vars);
            return Ok(0);
        }
        let outcome = self.control.wait_for_foreground(started.number);
        self.settle(vars);
        let outcome = outcome.map_err(|e| OpError::new("", e.to_string()))?;
        if let Some(notice) = &outcome.notice {
            say(notice);
        }
        Ok(outcome.status())
    }

    /// Spawns a pipeline of programs as the members of one job.
    fn spawn_programs(
        &mut self,
        line: &str,
        hosts: Vec<HostCommand>,
        foreground: bool,
    ) -> Result<crate::job::Started, OpError> {
        let take_terminal = foreground && self.interactive();
        let mut launch = Launch::new(line, foreground);
        let mut previous_output = None;
        let count = hosts.len();
        for (i, host) in hosts.iter().enumerate() {
            let pgid = launch.pgid();
            let setup: ChildSetup =
                Arc::new(move || child_setup(&RealSystem::new(0), pgid, take_terminal));
            let stdin = previous_output.take().map_or(Stdio::inherit(), Stdio::from);
            let stdout = if i + 1 == count {
                Stdio::inherit()
            } else {
                Stdio::piped()
            };
            match host.spawn(stdin, stdout, Some(setup)) {
                Ok(mut child) => {
                    previous_output = child.stdout.take();
                    self.control.add_process(
                        &mut launch,
                        Pid::from_raw(child.id() as i32),
                        &host.command_line(),
                    );
                }
                Err(e) => {
                    // Members already started are ended and reaped as an ordinary job.
                    if let Some(pgid) = launch.pgid() {
                        let _ = nix::sys::signal::killpg(
                            nix::unistd::Pid::from_raw(pgid.as_raw()),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                        let started = self.control.start(launch);
                        let _ = self.control.wait_for_foreground(started.number);
                    }
                    return Err(e);
                }
            }
        }
        let started = self.control.start(launch);
        signals::register_job(started.pgid.as_raw());
        self.live.push(started.pgid);
        Ok(started)
    }

    /// Forks the leader process that runs a pipeline with ops.
    #[allow(clippy::too_many_arguments)]
    fn fork_leader(
        &mut self,
        line: &str,
        source: Option<Box<dyn crate::ops::Source>>,
        pieces: Vec<Piece>,
        file_sink: Option<exec::sinks::FileWriter>,
        store: Option<(PendingWrite, bool)>,
        reporter: &Arc<Reporter>,
        foreground: bool,
    ) -> Result<crate::job::Started, OpError> {
        use nix::unistd::{ForkResult, fork, getpid, getppid};
        let pipe = || {
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| OpError::new("", format!("pipe: {e}")))
        };
        let (done_read, done_write) = pipe()?;
        // The leader says "ready" once it no longer runs the shell's signal handlers; only then
        // may the shell hand it the terminal, or a ctrl-c typed at once would reach a process
        // that still ignores or merely records it.
        let (ready_read, ready_write) = pipe()?;
        let take_terminal = foreground && self.interactive();
        let shell_pid = getpid();
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: the shell is single-threaded here; the child runs the pipeline and `_exit`s.
        match unsafe { fork() } {
            Err(e) => Err(OpError::new("", format!("cannot start the job: {e}"))),
            Ok(ForkResult::Child) => {
                drop(done_read);
                drop(ready_read);
                signals::reset_in_child();
                child_setup(&RealSystem::new(0), None, take_terminal);
                // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number.
                unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
                if getppid() != shell_pid {
                    // The shell died before the request took effect.
                    unsafe { libc::_exit(129) };
                }
                let _ = nix::unistd::write(&ready_write, b"r");
                drop(ready_write);
                let output = match (file_sink, &store) {
                    (Some(f), _) => Output::Sink(Box::new(f)),
                    (None, Some((pending, _))) => match StoreSink::new(pending) {
                        Ok(sink) => Output::Sink(Box::new(sink)),
                        Err(e) => {
                            exec::report(&e);
                            unsafe { libc::_exit(1) };
                        }
                    },
                    (None, None) => Output::Terminal,
                };
                let die_with_leader: ChildSetup = Arc::new(|| unsafe {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                });
                let outcome = exec::run(source, pieces, output, reporter, Some(die_with_leader));
                if outcome.completed {
                    let _ = nix::unistd::write(&done_write, b"c");
                }
                let _ = std::io::stdout().flush();
                let _ = std::io::stderr().flush();
                unsafe { libc::_exit(outcome.status & 0xff) }
            }
            Ok(ForkResult::Parent { child }) => {
                let child = Pid::from_raw(child.as_raw());
                drop(done_write);
                drop(ready_write);
                wait_until_ready(ready_read, child);
                let mut launch = Launch::new(line, foreground);
                self.control.add_process(&mut launch, child, line);
                let started = self.control.start(launch);
                signals::register_job(started.pgid.as_raw());
                self.live.push(started.pgid);
                if let Some((pending, append)) = store {
                    let seq = self.next_seq;
                    self.next_seq += 1;
                    self.stores.push(PendingStore {
                        pgid: started.pgid,
                        pending,
                        append,
                        seq,
                        done: done_read,
                    });
                }
                Ok(started)
            }
        }
    }

    /// Commits or rolls back the stores of jobs that have ended, releases what they held.
    pub fn settle(&mut self, vars: &mut Vars) {
        // Only a recorded status ends a job: with none since the last pass, nothing ended (a job
        // started since then is alive). Most prompts take this way out, whatever the table size.
        let seen = self.control.table().statuses_seen();
        if self.settled_at == Some(seen) {
            return;
        }
        self.settled_at = Some(seen);
        // A job is alive while it is in the table and not finished (the first job of a pgid
        // counts). One pass over the table: looking each job up in it was quadratic, and with
        // 1,000 background jobs every prompt paid for it.
        let mut alive: std::collections::HashMap<Pgid, bool> = std::collections::HashMap::new();
        for j in self.control.table().iter() {
            alive
                .entry(j.pgid())
                .or_insert_with(|| !j.state().is_finished());
        }
        let (ended, live): (Vec<Pgid>, Vec<Pgid>) = self
            .live
            .iter()
            .partition(|&&g| !alive.get(&g).copied().unwrap_or(false));
        self.live = live;
        for pgid in &ended {
            signals::unregister_job(pgid.as_raw());
        }
        self.holds.retain(|(g, _)| !ended.contains(g));
        let mut finished: Vec<PendingStore> = Vec::new();
        let mut i = 0;
        while i < self.stores.len() {
            if ended.contains(&self.stores[i].pgid) {
                finished.push(self.stores.remove(i));
            } else {
                i += 1;
            }
        }
        for store in finished {
            let mut byte = [0u8; 1];
            let completed = matches!(nix::unistd::read(store.done.as_fd(), &mut byte), Ok(1) if byte[0] == b'c');
            let name = store.pending.var().to_string();
            let superseded =
                !store.append && self.committed.get(&name).is_some_and(|&s| s > store.seq);
            if !completed || superseded {
                let _ = store.pending.rollback();
                continue;
            }
            match streams::commit(vars, store.pending, store.append) {
                Ok(()) => {
                    if !store.append {
                        self.committed.insert(name, store.seq);
                    }
                }
                Err(e) => exec::report(&e),
            }
        }
    }

    /// Reaps children that changed state, settles ended jobs, and prints what is due before
    /// the next prompt (finished and stopped background jobs).
    pub fn before_prompt(&mut self, vars: &mut Vars) {
        self.reap_if_signalled();
        self.settle(vars);
        // All notices in one write: stdout is line-buffered, and 1,000 jobs ending at once made
        // 1,000 writes to the terminal.
        let notices = self.control.notices();
        if !notices.is_empty() {
            say(&notices.join("\n"));
        }
    }

    /// Collects status changes if SIGCHLD said there are any.
    pub fn reap_if_signalled(&mut self) {
        if signals::take_child_flag()
            && let Err(e) = self.control.reap()
        {
            exec::report(&OpError::new("", e.to_string()));
        }
    }
}

impl Default for Jobs {
    fn default() -> Jobs {
        Jobs::new()
    }
}

/// Waits for a new leader's "ready" byte (or the end of the pipe, if it died first). A leader
/// stopped before it got there (`kill -STOP`, a debugger) would never write it: then the wait
/// ends too, the stop unconsumed, and the foreground wait reports the job stopped.
fn wait_until_ready(ready: OwnedFd, leader: Pid) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
    loop {
        let mut fds = [PollFd::new(ready.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(20u8)) {
            Ok(n) if n > 0 => {
                let mut byte = [0u8; 1];
                let _ = nix::unistd::read(ready.as_fd(), &mut byte);
                return;
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
        // Peek (WNOWAIT) at whether the leader stopped or ended, leaving the status for the
        // job table.
        let flags = WaitPidFlag::WSTOPPED
            | WaitPidFlag::WEXITED
            | WaitPidFlag::WNOHANG
            | WaitPidFlag::WNOWAIT;
        // An error (EINTR) counts as no change: the next poll of the pipe decides.
        let changed =
            matches!(waitid(Id::Pid(leader.to_nix()), flags), Ok(s) if s != WaitStatus::StillAlive);
        if changed {
            return;
        }
    }
}

/// Prints one line to stdout at once.
pub fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

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
//! Everything here goes through the job core's [`System`], so the protocol below is unit-tested
//! on the simulated system (`jobs/tests.rs`), each test named after the scenario that checks
//! the same on a real terminal.
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
use crate::exec::host::HostCommand;
use crate::exec::{self, Output, Piece};
use crate::job::system::{ChildSetup, ChildTask};
use crate::job::{
    Halt, JobControl, Launch, Pgid, Pid, RealSystem, Signal, Started, System, child_setup,
};
use crate::ops::{OpError, Reporter, Source};
use crate::reservoir::{PendingWrite, Reservoir, Session};
use crate::syntax::ast::{Pipeline, Sink as AstSink, Source as AstSource};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;

mod disown;
#[cfg(test)]
mod tests;

pub use disown::DisownError;

/// What a job not yet settled holds, and what must happen when it ends.
struct Attached<S: System> {
    /// The job's group.
    pgid: Pgid,
    runner: Runner,
    store: Option<PendingStore<S>>,
    /// Reservoirs the job reads, kept so their files stay while it reads them.
    holds: Vec<Reservoir>,
}

/// Who runs a job's commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runner {
    /// Its programs, spawned by the shell.
    Programs,
    /// A forked marsh (a pipeline's leader, a group or loop): it dies with the shell.
    Marsh,
}

/// A store waiting for its job to end.
struct PendingStore<S: System> {
    pending: PendingWrite,
    append: bool,
    /// When the store started, among all stores of this shell.
    seq: u64,
    /// Read end of the pipe the leader writes "completed" into.
    done: S::PipeReader,
}

/// The shell's jobs: job control itself, and what must happen when each job ends.
pub struct Jobs<S: System> {
    pub control: JobControl<S>,
    /// Jobs not yet settled, by group and then by the order they started: a group's number
    /// can come back once its job has ended, and then the oldest entry is the one that ended.
    attached: BTreeMap<(Pgid, u64), Attached<S>>,
    /// The start order of the next job attached.
    next_attach: u64,
    next_seq: u64,
    /// Per variable, the sequence number of the store that bound its current value.
    committed: HashMap<String, u64>,
    /// The last member's pid of the last job started in the background (`$!`).
    pub last_background: Option<i32>,
}

/// A store whose leader was just forked, before it gets its sequence number.
struct NewStore<S: System> {
    pending: PendingWrite,
    append: bool,
    done: S::PipeReader,
}

/// Where a leader sends the pipeline's output.
enum LeaderOutput {
    Terminal,
    File(exec::sinks::FileWriter),
    /// A store's temporary file (a duplicate of its descriptor) and the variable's name.
    Store(File, String),
}

/// What a leader runs.
struct LeaderWork {
    source: Option<Box<dyn Source>>,
    pieces: Vec<Piece>,
    output: LeaderOutput,
    reporter: Arc<Reporter>,
}

impl Jobs<RealSystem> {
    /// The jobs of a shell on the real system.
    pub fn new() -> Self {
        Jobs::on(RealSystem::new(0))
    }
}

impl Default for Jobs<RealSystem> {
    fn default() -> Self {
        Jobs::new()
    }
}

impl<S: System> Jobs<S> {
    /// The jobs of a shell on `sys`.
    pub fn on(sys: S) -> Self {
        Jobs {
            control: JobControl::new(sys),
            attached: BTreeMap::new(),
            next_attach: 0,
            next_seq: 1,
            committed: HashMap::new(),
            last_background: None,
        }
    }

    /// The system the jobs run on.
    pub fn system(&self) -> &S {
        self.control.system()
    }

    /// Whether jobs get the terminal (an interactive shell that took it).
    pub fn interactive(&self) -> bool {
        self.control.has_terminal()
    }

    /// Runs `p` as a job; returns how it stopped or ended (a background job: `Exited(0)`).
    pub fn run(
        &mut self,
        vars: &mut Vars,
        session: Result<&Session, &str>,
        line: &str,
        p: &Pipeline,
        background: bool,
    ) -> Result<Halt, OpError> {
        let p = streams::normalize(p)?;
        let foreground = !background;
        let reporter = Reporter::new();
        let mut holds = Vec::new();
        let source = match &p.source {
            Some(s) => {
                if let AstSource::Reservoir(name) = s {
                    holds.push(streams::reservoir_of(vars, name)?.clone());
                }
                Some(streams::source(vars, s)?)
            }
            None => None,
        };
        let pieces = exec::build(&p.stages, source.is_some(), vars, &reporter)?;
        let only_programs = source.is_none()
            && p.sink.is_none()
            && pieces.iter().all(|p| matches!(p, Piece::Host(_)));
        let (started, store, runner) = if only_programs {
            let hosts = pieces.into_iter().filter_map(|p| match p {
                Piece::Host(h) => Some(h),
                _ => None,
            });
            (
                self.spawn_programs(line, hosts.collect(), foreground)?,
                None,
                Runner::Programs,
            )
        } else {
            let (output, store) = leader_output(vars, session, p.sink.as_ref())?;
            let work = LeaderWork {
                source,
                pieces,
                output,
                reporter,
            };
            let (started, done) = self.fork_leader(line, work, foreground)?;
            let store = store.map(|(pending, append)| NewStore {
                pending,
                append,
                done,
            });
            (started, store, Runner::Marsh)
        };
        self.attach(&started, runner, store, holds);
        self.finish_start(vars, started, background)
    }

    /// Runs `work` as a job in a forked copy of the shell (a list, group or loop run as one
    /// job, as a bash subshell is); returns how it stopped or ended.
    pub fn run_subshell(
        &mut self,
        vars: &mut Vars,
        line: &str,
        work: Box<dyn FnOnce() -> i32>,
        background: bool,
        store: Option<(PendingWrite, bool)>,
    ) -> Result<Halt, OpError> {
        let take_terminal = !background && self.interactive();
        let cannot = |e: crate::job::system::Errno| {
            OpError::new("", format!("cannot start the job: {}", e.desc()))
        };
        // A store is completed when the copy runs its work to the end: it says so on a pipe,
        // as a pipeline's leader does.
        let store = match store {
            None => None,
            Some((pending, append)) => {
                let (done_read, done_write) = self.system().pipe().map_err(cannot)?;
                Some((pending, append, done_read, done_write))
            }
        };
        let started = self.start_subshell(line, !background, take_terminal, work, store)?;
        self.finish_start(vars, started, background)
    }

    /// Forks a copy of the shell that runs `work` as a job, and returns at once. `foreground`:
    /// whether the job counts as started in the foreground; `take_terminal`: whether it takes
    /// the terminal.
    pub fn start_subshell(
        &mut self,
        line: &str,
        foreground: bool,
        take_terminal: bool,
        work: Box<dyn FnOnce() -> i32>,
        store: Option<(PendingWrite, bool, S::PipeReader, S::PipeWriter)>,
    ) -> Result<Started, OpError> {
        let cannot = |e: crate::job::system::Errno| {
            OpError::new("", format!("cannot start the job: {}", e.desc()))
        };
        let sys = self.system();
        let (ready_read, ready_write) = sys.pipe().map_err(cannot)?;
        let shell = sys.getpid();
        let (store, done_write) = match store {
            Some((pending, append, done, done_write)) => {
                (Some((pending, append, done)), Some(done_write))
            }
            None => (None, None),
        };
        let task = ChildTask {
            setup: Box::new(move |sys: &S| {
                signals::reset_in_child(sys);
                child_setup(sys, None, take_terminal);
                sys.die_with_parent(shell);
                let _ = sys.write_byte(&ready_write, b'r');
            }),
            work: Box::new(move |sys: &S| {
                if !sys.die_with_parent(shell) {
                    return 129;
                }
                let status = work();
                if let Some(done) = &done_write {
                    let _ = sys.write_byte(done, b'c');
                }
                status
            }),
        };
        let leader = sys.fork(task).map_err(cannot)?;
        let _ = sys.wait_byte(&ready_read, leader);
        let mut launch = Launch::new(line, foreground);
        self.control.add_process(&mut launch, leader, line);
        let started = self.control.start(launch);
        let store = store.map(|(pending, append, done)| NewStore {
            pending,
            append,
            done,
        });
        self.attach(&started, Runner::Marsh, store, Vec::new());
        Ok(started)
    }

    /// After a job started: announces a background one, or waits for a foreground one.
    pub fn finish_start(
        &mut self,
        vars: &mut Vars,
        started: Started,
        background: bool,
    ) -> Result<Halt, OpError> {
        if background {
            self.last_background = Some(started.last_pid.as_raw());
            // A script's background jobs are announced to nobody, as in POSIX shells.
            if let Some(text) = started.line.as_ref().filter(|_| self.interactive()) {
                say(text);
            }
            self.settle(vars);
            return Ok(Halt::Exited(0));
        }
        let outcome = self.control.wait_for_foreground(started.number);
        self.settle(vars);
        let outcome = outcome.map_err(|e| OpError::new("", e.to_string()))?;
        if let Some(notice) = &outcome.notice {
            say(notice);
        }
        Ok(outcome.halt)
    }

    /// Records what a new job holds, and registers its group for the emergency exit.
    fn attach(
        &mut self,
        started: &Started,
        runner: Runner,
        store: Option<NewStore<S>>,
        holds: Vec<Reservoir>,
    ) {
        self.system().register_job_group(started.pgid);
        let store = store.map(|new| {
            let seq = self.next_seq;
            self.next_seq += 1;
            PendingStore {
                pending: new.pending,
                append: new.append,
                seq,
                done: new.done,
            }
        });
        let order = self.next_attach;
        self.next_attach += 1;
        let job = Attached {
            pgid: started.pgid,
            runner,
            store,
            holds,
        };
        self.attached.insert((started.pgid, order), job);
    }

    /// Spawns a pipeline of programs as the members of one job.
    fn spawn_programs(
        &mut self,
        line: &str,
        hosts: Vec<HostCommand>,
        foreground: bool,
    ) -> Result<Started, OpError> {
        let take_terminal = foreground && self.interactive();
        let mut launch = Launch::new(line, foreground);
        let mut previous_output = None;
        let count = hosts.len();
        for (i, host) in hosts.iter().enumerate() {
            let pgid = launch.pgid();
            let setup: ChildSetup<S> =
                Arc::new(move |sys: &S| child_setup(sys, pgid, take_terminal));
            let stdin = previous_output.take().map_or(Stdio::inherit(), Stdio::from);
            let stdout = if i + 1 == count {
                Stdio::inherit()
            } else {
                Stdio::piped()
            };
            let mut command = host.command(stdin, stdout, None);
            match self.system().spawn(&mut command, setup) {
                Ok(child) => {
                    previous_output = child.stdout;
                    self.control
                        .add_process(&mut launch, child.pid, &host.command_line());
                }
                Err(e) => {
                    self.abandon(launch);
                    return Err(host.spawn_error(&e));
                }
            }
        }
        Ok(self.control.start(launch))
    }

    /// Ends and reaps the members of a job that could not be started whole.
    fn abandon(&mut self, launch: Launch) {
        if let Some(pgid) = launch.pgid() {
            let _ = self.system().killpg(pgid, Signal::SIGKILL);
            let started = self.control.start(launch);
            let _ = self.control.wait_for_foreground(started.number);
        }
    }

    /// Forks the leader process that runs a pipeline with ops; returns the job and the read end
    /// of the pipe its leader writes "completed" into.
    fn fork_leader(
        &mut self,
        line: &str,
        work: LeaderWork,
        foreground: bool,
    ) -> Result<(Started, S::PipeReader), OpError> {
        let cannot = |e: crate::job::system::Errno| {
            OpError::new("", format!("cannot start the job: {}", e.desc()))
        };
        let sys = self.system();
        let (done_read, done_write) = sys.pipe().map_err(cannot)?;
        // The leader says "ready" once it no longer runs the shell's signal handlers; only then
        // may the shell hand it the terminal, or a ctrl-c typed at once would reach a process
        // that still ignores or merely records it.
        let (ready_read, ready_write) = sys.pipe().map_err(cannot)?;
        let take_terminal = foreground && self.interactive();
        let shell = sys.getpid();
        let task = ChildTask {
            setup: Box::new(move |sys: &S| {
                signals::reset_in_child(sys);
                child_setup(sys, None, take_terminal);
                // Asked at once, so no moment of the leader's life outlives the shell; whether
                // the shell was still there is checked when the work begins.
                sys.die_with_parent(shell);
                let _ = sys.write_byte(&ready_write, b'r');
            }),
            work: Box::new(move |sys: &S| run_leader(sys, shell, work, done_write)),
        };
        let leader = sys.fork(task).map_err(cannot)?;
        // A leader stopped before it said ready (`kill -STOP`, a debugger) never will: the wait
        // ends then too, and the foreground wait reports the job stopped.
        let _ = sys.wait_byte(&ready_read, leader);
        let mut launch = Launch::new(line, foreground);
        self.control.add_process(&mut launch, leader, line);
        let started = self.control.start(launch);
        Ok((started, done_read))
    }

    /// Commits or rolls back the stores of jobs that have ended, releases what they held.
    pub fn settle(&mut self, vars: &mut Vars) {
        // Only the jobs the table says finished since the last pass: with 1,000 background
        // jobs, a pass over all of them after each foreground job cost a tenth of a millisecond.
        let finished = self.control.take_finished();
        let mut ended: Vec<(u64, Attached<S>)> = finished
            .into_iter()
            .filter_map(|g| self.detach(g))
            .collect();
        // Jobs that ended together settle in the order they started (appends commit so).
        ended.sort_by_key(|(order, _)| *order);
        for (_, job) in ended {
            self.system().unregister_job_group(job.pgid);
            drop(job.holds);
            if let Some(store) = job.store {
                self.finish_store(vars, store);
            }
        }
    }

    /// Takes the oldest unsettled job of group `pgid`, with its start order.
    fn detach(&mut self, pgid: Pgid) -> Option<(u64, Attached<S>)> {
        let key = *self.attached.range((pgid, 0)..=(pgid, u64::MAX)).next()?.0;
        self.attached.remove(&key).map(|job| (key.1, job))
    }

    /// Commits an ended job's store if its leader completed it and no later store has already
    /// bound the variable; otherwise removes its file.
    fn finish_store(&mut self, vars: &mut Vars, store: PendingStore<S>) {
        let completed = self.system().read_byte_now(&store.done) == Ok(Some(b'c'));
        let name = store.pending.var().to_string();
        let superseded = !store.append && self.committed.get(&name).is_some_and(|&s| s > store.seq);
        if !completed || superseded {
            let _ = store.pending.rollback();
            return;
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
        if self.system().take_caught(Signal::SIGCHLD)
            && let Err(e) = self.control.reap()
        {
            exec::report(&OpError::new("", e.to_string()));
        }
    }
}

/// Where a pipeline with ops sends its output, and the store it begins (with whether it
/// appends).
fn leader_output(
    vars: &Vars,
    session: Result<&Session, &str>,
    sink: Option<&AstSink>,
) -> Result<(LeaderOutput, Option<(PendingWrite, bool)>), OpError> {
    Ok(match sink {
        None => (LeaderOutput::Terminal, None),
        Some(AstSink::File { path, append }) => (
            LeaderOutput::File(exec::sinks::FileWriter::open_word(path, *append)?),
            None,
        ),
        Some(AstSink::Reservoir { name, append }) => {
            streams::check_store_target(vars, name, *append)?;
            let pending = streams::begin_store(session, name)?;
            let file = pending.file().try_clone().map_err(|e| {
                OpError::new(">$", format!("{name}: {}", crate::ops::io_reason(&e)))
            })?;
            (
                LeaderOutput::Store(file, name.clone()),
                Some((pending, *append)),
            )
        }
    })
}

/// The leader's work, in the forked child: runs the pipeline and says "completed" if it ran to
/// its end. Returns the exit status.
fn run_leader<S: System>(sys: &S, shell: Pid, work: LeaderWork, done: S::PipeWriter) -> i32 {
    if !sys.die_with_parent(shell) {
        // The shell died before the set-up's request took effect.
        return 129;
    }
    let output = match work.output {
        LeaderOutput::Terminal => Output::Terminal,
        LeaderOutput::File(f) => Output::File(f),
        LeaderOutput::Store(file, name) => Output::Sink(Box::new(StoreSink::on_file(name, file))),
    };
    let outcome = exec::run(
        work.source,
        work.pieces,
        output,
        &work.reporter,
        exec::Runner::Leader,
    );
    if outcome.completed {
        let _ = sys.write_byte(&done, b'c');
    }
    outcome.status
}

/// Prints one line to stdout at once.
pub fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

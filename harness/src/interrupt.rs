//! Interruption: SIGINT, SIGTERM or SIGHUP of a jobcheck process ends every live session it
//! spawned, then the process (exit status 128 + the signal's number).
//!
//! Invariants:
//! - Every [`crate::Session`] is in the registry from before its shell exists (it is spawned
//!   under the registry's lock, [`spawn_registered`]) until its teardown has ended.
//! - Once interrupted, no session is spawned: [`spawn_registered`] refuses.
//! - The interruption is recorded *before* anything is killed, so code that sees a session
//!   die can ask [`interrupted`] whether that death was the interruption's (and then report
//!   nothing about it).
//! - [`install`] runs while the process has one thread: the three signals are blocked there,
//!   every later thread inherits the mask, and only the watcher thread takes them (`sigwait`).
//!   The shells get an empty mask (`std::process::Command` resets it in the child).
//! - Nothing is killed by name: a session is torn down by its session id and its tag
//!   ([`teardown::kill_session`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};

use crate::pid::Pid;
use crate::teardown;

/// A live session as the registry knows it.
#[derive(Clone, Debug)]
struct Live {
    id: u64,
    /// The shell's pid, which is also its session id (the shell leads its session).
    sid: Pid,
    tag: String,
    dir: PathBuf,
}

#[derive(Debug, Default)]
struct Registry {
    interrupted: Option<Signal>,
    next: u64,
    live: Vec<Live>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    interrupted: None,
    next: 0,
    live: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// A session's place in the registry; dropping it (at the end of its teardown) removes it.
#[derive(Debug)]
pub struct Registration {
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        registry().live.retain(|l| l.id != self.id);
    }
}

/// A session's shell could not be spawned.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The process was interrupted: no new session starts.
    #[error("the run was interrupted by {}: no new session starts", .0.as_str())]
    Interrupted(Signal),
    /// The spawn itself failed.
    #[error("spawn shell: {0}")]
    Io(#[from] std::io::Error),
}

/// Spawn a session's shell (`cmd`, which starts a new session and carries `tag`) and register
/// it with its directory `dir`, unless the process was interrupted.
pub fn spawn_registered(
    cmd: &mut Command,
    tag: &str,
    dir: &Path,
) -> Result<(Child, Registration), SpawnError> {
    let mut reg = registry();
    if let Some(sig) = reg.interrupted {
        return Err(SpawnError::Interrupted(sig));
    }
    let child = cmd.spawn()?;
    let sid = Pid::new(child.id() as i32).expect("a child's pid is positive");
    let id = reg.next;
    reg.next += 1;
    reg.live.push(Live {
        id,
        sid,
        tag: tag.to_string(),
        dir: dir.to_path_buf(),
    });
    Ok((child, Registration { id }))
}

/// The signal that interrupted this process, if one did.
pub fn interrupted() -> Option<Signal> {
    registry().interrupted
}

/// The signals that interrupt a run.
fn signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    set
}

/// How the watcher ended the sessions: how many were live, and the processes that survived
/// their teardown.
#[derive(Debug, Default)]
pub struct Teardown {
    /// Sessions that were live when the signal came.
    pub sessions: usize,
    /// Processes still alive after the teardown (a leak; normally empty).
    pub survivors: Vec<crate::Proc>,
}

/// Record `sig` as the interruption, then tear down every live session and remove its
/// directory. Later calls record nothing and find no session to spawn.
pub fn interrupt(sig: Signal) -> Teardown {
    let live = {
        let mut reg = registry();
        reg.interrupted.get_or_insert(sig);
        reg.live.clone()
    };
    let mut survivors = Vec::new();
    for l in &live {
        survivors.extend(teardown::kill_session(
            l.sid,
            &l.tag,
            Duration::from_secs(5),
        ));
        let _ = std::fs::remove_dir_all(&l.dir);
    }
    Teardown {
        sessions: live.len(),
        survivors,
    }
}

/// Block SIGINT, SIGTERM and SIGHUP and start the thread that waits for them: on the first,
/// it calls [`interrupt`], writes `summary`'s line to stderr and exits with 128 + the signal.
/// Call it while the process has one thread (first thing in `main`).
pub fn install(
    summary: impl FnOnce(Signal, &Teardown) -> String + Send + 'static,
) -> std::io::Result<()> {
    let set = signals();
    set.thread_block().map_err(std::io::Error::from)?;
    std::thread::Builder::new()
        .name("jobcheck-interrupt".into())
        .spawn(move || {
            let sig = loop {
                if let Ok(sig) = set.wait() {
                    break sig;
                }
            };
            let done = interrupt(sig);
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}", summary(sig, &done));
            if !done.survivors.is_empty() {
                let _ = writeln!(
                    err,
                    "jobcheck: teardown left processes:\n{}",
                    crate::procfs::format_table(&done.survivors)
                );
            }
            std::process::exit(128 + sig as i32);
        })?;
    Ok(())
}

/// Wait for the watcher to end the process: for a thread that saw [`interrupted`] and has
/// nothing left to do (it must not write reports of a run cut short).
pub fn park() -> ! {
    loop {
        std::thread::park();
    }
}

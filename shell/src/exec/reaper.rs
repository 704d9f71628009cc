//! A job leader never dies before its programs: [`Reaper`].
//!
//! A leader runs a pipeline's ops and spawns its programs as its own children. Killed outright
//! by ctrl-c, `kill %1` or a hang-up, it would leave them to init as zombies still in the job's
//! group — after the shell had already reaped the leader, reported the job done and drawn the
//! prompt. Under an init that reaps slowly or never (many containers) they linger or pile up.
//! bash reaps every member of a job before it reports it; so must a leader.
//!
//! So while a leader runs programs, the signals that would kill it (SIGINT, SIGTERM, SIGHUP,
//! SIGQUIT) are blocked in every thread and taken by one thread of their own, which:
//! 1. marks the leader dying, under the lock the spawning loop holds while it starts a
//!    program — so no program starts after this point, and every program started is listed;
//! 2. passes the signal on to each program (one sent to the whole group, as ctrl-c is, has
//!    reached them already; `kill -TERM` of the leader alone has not);
//! 3. waits for each of them (another thread may reap one first: `ECHILD` then is fine);
//! 4. only then dies of the same signal, with its default action, so the shell sees the leader
//!    end as before (status 128 + the signal) and the store is rolled back. A pipeline that
//!    finishes meanwhile (its programs gone) waits for that death instead of exiting
//!    ([`Reaper::wait_for_death`]).
//!
//! Order matters at the start too: the signals are blocked before the first thread or program
//! exists, since threads inherit the mask; each program empties it again before exec
//! (`reset_signals`), or ctrl-c would not reach it.
//!
//! SIGKILL cannot be taken: a leader killed by it leaves its programs to die of
//! `PR_SET_PDEATHSIG` and to be reaped by init.

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::unistd::Pid;
use std::sync::{Arc, Mutex, MutexGuard};

/// The signals a leader takes on its own thread.
const FATAL: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// The programs a leader started, and whether it is dying.
#[derive(Debug, Default)]
pub struct Programs {
    pids: Vec<Pid>,
    dying: bool,
}

impl Programs {
    /// Whether the leader is dying: start nothing more.
    pub fn dying(&self) -> bool {
        self.dying
    }

    /// Records a program just started.
    pub fn add(&mut self, pid: u32) {
        self.pids.push(Pid::from_raw(pid as i32));
    }
}

/// The guard of a leader that runs programs: see the module doc.
#[derive(Debug, Clone)]
pub struct Reaper {
    programs: Arc<Mutex<Programs>>,
}

impl Reaper {
    /// Blocks the fatal signals in the calling thread (so in every thread it starts) and starts
    /// the thread that takes them. Call it before any other thread or program exists. None if
    /// the thread cannot be started (the leader then dies as a plain process would).
    pub fn install() -> Option<Reaper> {
        let set = fatal_set();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).ok()?;
        let programs = Arc::new(Mutex::new(Programs::default()));
        let taken = Arc::clone(&programs);
        let started = std::thread::Builder::new()
            .name("reaper".into())
            .spawn(move || take_fatal_signal(&taken, &set));
        if started.is_err() {
            let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&fatal_set()), None);
            return None;
        }
        Some(Reaper { programs })
    }

    /// The list of programs, locked: hold it while starting one, and start none if
    /// [`Programs::dying`].
    pub fn programs(&self) -> MutexGuard<'_, Programs> {
        self.programs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a fatal signal arrived (errors seen from here on are its effects).
    pub fn dying(&self) -> bool {
        self.programs().dying
    }

    /// Waits for the reaper thread to end the process: called by a pipeline that finished
    /// while its leader is dying, so that the leader ends by the signal (status 128 + it) and
    /// not by an exit status of its own that would win the race.
    pub fn wait_for_death(&self) -> ! {
        loop {
            std::thread::park();
        }
    }
}

fn fatal_set() -> SigSet {
    let mut set = SigSet::empty();
    for sig in FATAL {
        set.add(sig);
    }
    set
}

/// The reaper thread: waits for a fatal signal, ends and reaps every program, then dies of it.
fn take_fatal_signal(programs: &Mutex<Programs>, set: &SigSet) {
    let Ok(sig) = set.wait() else {
        return;
    };
    let pids = {
        let mut p = programs.lock().unwrap_or_else(|e| e.into_inner());
        p.dying = true;
        p.pids.clone()
    };
    for &pid in &pids {
        let _ = nix::sys::signal::kill(pid, sig);
        // A stopped program must run to act on the signal.
        let _ = nix::sys::signal::kill(pid, Signal::SIGCONT);
    }
    for pid in pids {
        while nix::sys::wait::waitpid(pid, None) == Err(Errno::EINTR) {}
    }
    die_of(sig);
}

/// Ends the process with `sig`'s default action (as if it had never been blocked).
fn die_of(sig: Signal) -> ! {
    use nix::sys::signal::{SigHandler, signal};
    // SAFETY: installing SIG_DFL is always sound.
    let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    let mut only = SigSet::empty();
    only.add(sig);
    // Unblocked in this thread only: the signal raised here is delivered here.
    let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&only), None);
    let _ = nix::sys::signal::raise(sig);
    // SIGQUIT's default may be ignored by no one here, but should it return: leave as killed.
    // SAFETY: ends the process without running destructors, as the signal would have.
    unsafe { libc::_exit(128 + sig as i32) }
}

//! Reaping in the SIGCHLD handler while the shell waits at the prompt, as bash does.
//!
//! Reaping costs the kernel real work per child (about 15 µs to tear a process down). A shell
//! that reaps only when Enter is pressed pays for every job that ended meanwhile before it can
//! draw the next prompt: 1,000 jobs killed at once cost 17 ms. So while the shell sits in its
//! line editor ([`set`]`(true)`), the SIGCHLD handler reaps each child as it changes state and
//! keeps the status here; [`crate::job::System::waitpid`] hands out kept statuses before it
//! asks the kernel.
//!
//! Invariants:
//! - Only the shell's main thread calls in here, and the handler runs on it (the shell has no
//!   other threads); the consumer blocks SIGCHLD around every access, so handler and consumer
//!   never touch the slots at once.
//! - Eager reaping is on only at the prompt, where the shell makes no other wait. Turning it off
//!   happens with SIGCHLD blocked, so no handler reaps after [`set`]`(false)` returns; statuses
//!   kept before are still handed out, in order, by [`take`] — so a foreground wait for a pid or
//!   a group never misses one the handler took.
//! - A slot's group is read (`getpgid`) while the child is still a zombie, before the handler
//!   reaps it (`waitid(WNOWAIT)` first), so `waitpid(-pgid)` finds kept statuses too.
//! - When the slots are full the handler stops reaping: the rest stay in the kernel, where the
//!   next `waitpid` finds them.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::super::{Pid, WaitTarget};

/// How many statuses can be kept.
const SLOTS: usize = 4096;

/// A kept status: the child, its group, the raw status `waitpid` gave. `pid == 0`: taken.
#[derive(Clone, Copy)]
struct Kept {
    pid: i32,
    pgid: i32,
    status: i32,
}

/// The kept statuses, in the order they were reaped: `slots[head..tail]`.
struct Store {
    slots: [Kept; SLOTS],
    head: usize,
    tail: usize,
}

/// Shared between the handler and the main thread, which never run at once (module doc).
struct Shared(UnsafeCell<Store>);

// SAFETY: accessed only from the main thread, with SIGCHLD blocked by the consumer, or from the
// SIGCHLD handler on that same thread (module invariants).
unsafe impl Sync for Shared {}

static STORE: Shared = Shared(UnsafeCell::new(Store {
    slots: [Kept {
        pid: 0,
        pgid: 0,
        status: 0,
    }; SLOTS],
    head: 0,
    tail: 0,
}));

/// Whether the handler reaps.
static ON: AtomicBool = AtomicBool::new(false);

/// How many statuses are kept (a quick check that needs no signal blocking).
static KEPT: AtomicUsize = AtomicUsize::new(0);

/// Turns eager reaping on (at the prompt) or off (before anything else runs).
pub fn set(on: bool) {
    let _blocked = BlockChld::new();
    ON.store(on, Ordering::Release);
}

/// Called by the SIGCHLD handler: reaps every child with a state change, keeping its status.
/// Async-signal-safe; keeps `errno`.
pub fn on_sigchld() {
    if !ON.load(Ordering::Acquire) {
        return;
    }
    // SAFETY: errno is thread-local; the handler puts back what it changed.
    let saved = unsafe { *libc::__errno_location() };
    // SAFETY: the handler has the store to itself (module invariants).
    let store = unsafe { &mut *STORE.0.get() };
    while store.tail < SLOTS {
        let Some(pid) = next_changed() else { break };
        // SAFETY: plain system calls on a child of ours.
        let pgid = unsafe { libc::getpgid(pid) };
        let mut status = 0;
        let flags = libc::WNOHANG | libc::WUNTRACED | libc::WCONTINUED;
        // SAFETY: `status` is a valid out-pointer.
        if unsafe { libc::waitpid(pid, &mut status, flags) } != pid {
            break;
        }
        store.slots[store.tail] = Kept { pid, pgid, status };
        store.tail += 1;
        KEPT.fetch_add(1, Ordering::Release);
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

/// A child with a state change to report, left unreaped (`WNOWAIT`).
fn next_changed() -> Option<i32> {
    // SAFETY: a zeroed siginfo_t is a valid out-argument; si_pid stays 0 if none changed.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let flags =
            libc::WEXITED | libc::WSTOPPED | libc::WCONTINUED | libc::WNOHANG | libc::WNOWAIT;
        if libc::waitid(libc::P_ALL, 0, &mut info, flags) != 0 {
            return None;
        }
        let pid = info.si_pid();
        (pid > 0).then_some(pid)
    }
}

/// The first kept status for `target`, as (pid, raw status); removes it.
pub fn take(target: WaitTarget) -> Option<(Pid, i32)> {
    if KEPT.load(Ordering::Acquire) == 0 {
        return None;
    }
    let _blocked = BlockChld::new();
    // SAFETY: SIGCHLD is blocked: the handler cannot run (module invariants).
    let store = unsafe { &mut *STORE.0.get() };
    let matches = |k: &Kept| match target {
        WaitTarget::Any => true,
        WaitTarget::Pid(p) => k.pid == p.as_raw(),
        WaitTarget::Group(g) => k.pgid == g.as_raw(),
    };
    let i =
        (store.head..store.tail).find(|&i| store.slots[i].pid != 0 && matches(&store.slots[i]))?;
    let kept = store.slots[i];
    store.slots[i].pid = 0;
    KEPT.fetch_sub(1, Ordering::Release);
    while store.head < store.tail && store.slots[store.head].pid == 0 {
        store.head += 1;
    }
    if store.head == store.tail {
        store.head = 0;
        store.tail = 0;
    }
    Some((Pid::from_raw(kept.pid), kept.status))
}

/// SIGCHLD blocked in the calling thread while it lives.
struct BlockChld(libc::sigset_t);

impl BlockChld {
    fn new() -> BlockChld {
        // SAFETY: sigset operations on local values; the old mask is kept to restore.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGCHLD);
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            BlockChld(old)
        }
    }
}

impl Drop for BlockChld {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `new`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut());
        }
    }
}

//! The real signal handlers behind [`Disposition::Catch`] and [`Disposition::ExitShell`].
//!
//! - Catch: the handler only sets a flag per signal ([`take_caught`] reads and clears it);
//!   for SIGINT it also raises [`crate::expr::INTERRUPTED`], so a long expression the shell is
//!   evaluating gives up. Installed without `SA_RESTART`, so a blocking `waitpid` (the `wait`
//!   builtin) returns `EINTR` and can give up; SIGCHLD alone restarts.
//!   Every signal but SIGCHLD also sets the wake flag ([`set_wake_flag`]) that the line
//!   editor polls, so a trap runs while the shell waits at its prompt.
//! - ExitShell: the shell ends at once, as `exit` would after its warning: every registered job
//!   group gets SIGHUP then SIGCONT, the session directory and every file in it are removed,
//!   the terminal gets its modes and owner back, and the process exits with 128 + the signal.
//!
//! That handler runs at any point, even while the line editor waits for a key, so it does only
//! async-signal-safe work: it reads what it needs from statics set up beforehand (the job
//! groups, the session directory as a C string, the saved terminal modes) and removes the
//! directory with raw `getdents64`/`unlinkat`/`rmdir` calls, which take no locks.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use super::{Disposition, Errno, Signal, SysResult};

/// One flag per signal number, set by the catching handler.
static CAUGHT: [AtomicBool; 65] = [const { AtomicBool::new(false) }; 65];

/// Process groups of live jobs (0 = free slot), for the emergency exit: a fixed array, since
/// the signal handler may not allocate. Room for 4,096 jobs (the many-jobs benchmark starts
/// 1,000); a job beyond that is not hung up by an emergency exit, though an ops leader still
/// dies with the shell (`PR_SET_PDEATHSIG`).
static JOB_GROUPS: [AtomicI32; 4096] = [const { AtomicI32::new(0) }; 4096];

/// The session directory, removed by the emergency exit.
static SESSION_DIR: OnceLock<CString> = OnceLock::new();

/// The terminal state to restore on an emergency exit: the shell's modes and the group that
/// owned the terminal before marsh took it.
static TERMINAL: OnceLock<(libc::termios, libc::pid_t)> = OnceLock::new();

/// Set by the catching handler for every signal but SIGCHLD: the line editor polls it.
static WAKE: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Records the flag the catching handler sets (the first one given stays).
pub fn set_wake_flag(flag: Arc<AtomicBool>) {
    let _ = WAKE.set(flag);
}

/// Whether `sig` was caught since the last call.
pub fn take_caught(sig: Signal) -> bool {
    let caught = CAUGHT[sig as usize].swap(false, Ordering::AcqRel);
    if sig == Signal::SIGINT {
        crate::expr::INTERRUPTED.store(false, Ordering::Release);
    }
    caught
}

/// Records a live job's group, so an emergency exit hangs it up.
pub fn register_job_group(pgid: i32) {
    // A plain load before the atomic exchange: with 1,000 jobs, a locked compare-exchange per
    // slot passed made every job start and end cost microseconds.
    for slot in &JOB_GROUPS {
        if slot.load(Ordering::Relaxed) == 0
            && slot
                .compare_exchange(0, pgid, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return;
        }
    }
}

/// Forgets a job's group once the job has ended.
pub fn unregister_job_group(pgid: i32) {
    for slot in &JOB_GROUPS {
        if slot.load(Ordering::Relaxed) == pgid
            && slot
                .compare_exchange(pgid, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return;
        }
    }
}

/// Records the session directory for the emergency exit.
pub fn set_session_dir(dir: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    if let Ok(c) = CString::new(dir.as_os_str().as_bytes()) {
        let _ = SESSION_DIR.set(c);
    }
}

/// Records the terminal's state to put back on an emergency exit (`original_owner` 0: a group
/// outside this pid namespace, not given back).
pub fn set_terminal(modes: libc::termios, original_owner: libc::pid_t) {
    let _ = TERMINAL.set((modes, original_owner));
}

/// Installs `disposition` for `sig`; returns the old one.
pub fn set_disposition(sig: Signal, disposition: Disposition) -> SysResult<Disposition> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, sigaction};
    let (handler, flags) = match disposition {
        Disposition::Default => (SigHandler::SigDfl, SaFlags::empty()),
        Disposition::Ignore => (SigHandler::SigIgn, SaFlags::empty()),
        Disposition::Catch if sig == Signal::SIGCHLD => {
            (SigHandler::Handler(on_caught), SaFlags::SA_RESTART)
        }
        Disposition::Catch => (SigHandler::Handler(on_caught), SaFlags::empty()),
        Disposition::ExitShell => (SigHandler::Handler(on_exit_shell), SaFlags::empty()),
    };
    if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let action = SigAction::new(handler, flags, SigSet::empty());
    // SAFETY: the handlers only touch atomics and make async-signal-safe calls.
    let old = unsafe { sigaction(sig, &action)? };
    Ok(match old.handler() {
        SigHandler::SigDfl => Disposition::Default,
        SigHandler::SigIgn => Disposition::Ignore,
        SigHandler::Handler(h) if h as usize == on_exit_shell as *const () as usize => {
            Disposition::ExitShell
        }
        _ => Disposition::Catch,
    })
}

extern "C" fn on_caught(sig: libc::c_int) {
    if let Some(flag) = CAUGHT.get(sig as usize) {
        flag.store(true, Ordering::Release);
    }
    if sig == libc::SIGCHLD {
        super::eager::on_sigchld();
    } else if let Some(wake) = WAKE.get() {
        // A plain load and store: no lock, no allocation.
        wake.store(true, Ordering::Release);
    }
    if sig == libc::SIGINT {
        crate::expr::INTERRUPTED.store(true, Ordering::Release);
    }
}

extern "C" fn on_exit_shell(sig: libc::c_int) {
    // SAFETY: only async-signal-safe system calls on data prepared beforehand.
    unsafe {
        for slot in &JOB_GROUPS {
            let pgid = slot.load(Ordering::Acquire);
            if pgid > 0 {
                libc::killpg(pgid, libc::SIGHUP);
                libc::killpg(pgid, libc::SIGCONT);
            }
        }
        if let Some(dir) = SESSION_DIR.get() {
            remove_dir_contents(dir);
            libc::rmdir(dir.as_ptr());
        }
        if let Some((modes, owner)) = TERMINAL.get() {
            libc::tcsetattr(0, libc::TCSANOW, modes);
            if *owner > 0 && *owner != libc::getpgrp() {
                libc::signal(libc::SIGTTOU, libc::SIG_IGN);
                libc::tcsetpgrp(0, *owner);
            }
        }
        libc::_exit(128 + sig);
    }
}

/// Unlinks every entry of `dir` (files only; the session directory has no subdirectories)
/// with raw system calls.
unsafe fn remove_dir_contents(dir: &CString) {
    // SAFETY: the buffer outlives the calls; entries are parsed within the bytes returned.
    unsafe {
        let fd = libc::open(
            dir.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return;
        }
        let mut buf = [0u8; 4096];
        loop {
            let n = libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len());
            if n <= 0 {
                break;
            }
            let mut off = 0usize;
            while off < n as usize {
                // struct linux_dirent64 { u64 ino; i64 off; u16 reclen; u8 type; char name[]; }
                let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
                let name = buf.as_ptr().add(off + 19) as *const libc::c_char;
                let is_dot = *name == b'.' as libc::c_char
                    && (*name.add(1) == 0
                        || (*name.add(1) == b'.' as libc::c_char && *name.add(2) == 0));
                if !is_dot {
                    libc::unlinkat(fd, name, 0);
                }
                off += reclen;
            }
        }
        libc::close(fd);
    }
}

//! The shell's own signal handling.
//!
//! - SIGCHLD sets a flag; the main loop reaps before the next prompt.
//! - SIGINT (interactive) sets [`crate::expr::INTERRUPTED`]; installed without `SA_RESTART`, so
//!   a `wait` blocked in `waitpid` returns and gives up. At the prompt the line editor has the
//!   terminal in raw mode and sees ctrl-c as a key; during a foreground job the job's group,
//!   not the shell's, owns the terminal and gets the signal.
//! - SIGTERM and SIGHUP (and SIGINT when not interactive) end the shell at once, as `exit`
//!   would after its warning: every job's group gets SIGHUP then SIGCONT, the session
//!   directory with every reservoir and temporary file is removed, the terminal gets its modes
//!   and owner back, and the process exits with 128 + the signal.
//!
//! That last handler runs at any point, even while the line editor waits for a key, so it does
//! only async-signal-safe work: it reads what it needs from statics set up beforehand (the job
//! groups, the session directory as a C string, the saved terminal modes) and removes the
//! directory with raw `getdents64`/`unlinkat`/`rmdir` calls, which take no locks.

use std::ffi::CString;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Set by SIGCHLD: some child changed state.
static CHILD: AtomicBool = AtomicBool::new(false);

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

/// Whether some child changed state since the last call.
pub fn take_child_flag() -> bool {
    CHILD.swap(false, Ordering::AcqRel)
}

/// Records a live job's group, so an emergency exit hangs it up.
pub fn register_job(pgid: i32) {
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
pub fn unregister_job(pgid: i32) {
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

/// Records the terminal's state to put back on an emergency exit.
pub fn set_terminal(modes: libc::termios, original_owner: libc::pid_t) {
    let _ = TERMINAL.set((modes, original_owner));
}

/// The terminal modes of fd 0 now, if it is a terminal.
pub fn current_modes() -> Option<libc::termios> {
    let mut t = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: tcgetattr fills the struct when it returns 0.
    (unsafe { libc::tcgetattr(0, t.as_mut_ptr()) } == 0).then(|| unsafe { t.assume_init() })
}

/// Installs the handlers. `interactive`: SIGINT interrupts the shell's own waits instead of
/// ending it.
pub fn install(interactive: bool) {
    // SAFETY: the handlers below only touch atomics and make async-signal-safe calls.
    unsafe {
        set_handler(
            libc::SIGCHLD,
            on_child as *const () as usize,
            libc::SA_RESTART,
        );
        set_handler(libc::SIGTERM, on_terminate as *const () as usize, 0);
        set_handler(libc::SIGHUP, on_terminate as *const () as usize, 0);
        if interactive {
            set_handler(libc::SIGINT, on_interrupt as *const () as usize, 0);
        } else {
            set_handler(libc::SIGINT, on_terminate as *const () as usize, 0);
        }
    }
}

/// Puts back the default dispositions in a forked job process, which must not run the shell's
/// handlers (SIGINT and the stop signals are reset by `job::child_setup`).
pub fn reset_in_child() {
    for sig in [libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        // SAFETY: installing SIG_DFL is always sound.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
}

unsafe fn set_handler(sig: libc::c_int, handler: usize, flags: libc::c_int) {
    // SAFETY: a zeroed sigaction with a valid handler and an empty mask is a valid argument.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = flags;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

extern "C" fn on_child(_: libc::c_int) {
    CHILD.store(true, Ordering::Release);
}

extern "C" fn on_interrupt(_: libc::c_int) {
    crate::expr::INTERRUPTED.store(true, Ordering::Release);
}

extern "C" fn on_terminate(sig: libc::c_int) {
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
            if *owner != libc::getpgrp() {
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

//! The pseudo-terminal pair.
//!
//! Invariants:
//! - The master is opened with `posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)`, so a child spawned
//!   by another test in this process never inherits it (closing our copy must hang the shell up).
//! - The slave is opened `O_NOCTTY | O_CLOEXEC` in the parent only to be handed to the child as
//!   its stdio; the parent drops its copy right after spawning ([`Pty::take_slave`]).
//! - The window size is set on the master before the child starts, so the shell never sees 0x0.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::pty::{PtyMaster, grantpt, posix_openpt, ptsname_r, unlockpt};

/// Window size of every session's terminal unless the caller asks otherwise.
pub const DEFAULT_ROWS: u16 = 24;
/// Window size of every session's terminal unless the caller asks otherwise.
pub const DEFAULT_COLS: u16 = 80;

/// A master with its (not yet handed over) slave. Dropping it closes the master, which hangs
/// the terminal up.
#[must_use = "dropping a Pty closes its master at once"]
pub struct Pty {
    master: OwnedFd,
    slave: Option<File>,
    /// Path of the slave device, e.g. `/dev/pts/7`.
    pub slave_path: String,
}

impl Pty {
    /// Open a new pty pair with the given window size.
    pub fn open(rows: u16, cols: u16) -> std::io::Result<Pty> {
        let master: PtyMaster =
            posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).map_err(io)?;
        grantpt(&master).map_err(io)?;
        unlockpt(&master).map_err(io)?;
        let slave_path = ptsname_r(&master).map_err(io)?;
        let master = OwnedFd::from(master);
        set_winsize(master.as_fd(), rows, cols)?;
        let slave = nix::fcntl::open(
            slave_path.as_str(),
            OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(io)?;
        let slave = File::from(slave);
        Ok(Pty {
            master,
            slave: Some(slave),
            slave_path,
        })
    }

    /// The master descriptor.
    pub fn master(&self) -> BorrowedFd<'_> {
        self.master.as_fd()
    }

    /// Take the parent's copy of the slave (to hand to the child); dropping it closes it.
    pub fn take_slave(&mut self) -> Option<File> {
        self.slave.take()
    }

    /// Consume the pair, keeping only the master (the slave must already be taken).
    pub fn into_master(self) -> OwnedFd {
        self.master
    }
}

/// What a shell's child runs between fork and exec (so: async-signal-safe calls only): a
/// session of its own with the slave, already its fd 0, as controlling terminal; and every
/// signal unblocked and at its default disposition, real-time ones included, since a mask or a
/// disposition of the test process would survive exec (a harness started with `cmd &` from a
/// script has SIGINT ignored, and `jobcheck` blocks SIGINT, SIGTERM and SIGHUP in its threads:
/// the shell and its jobs would then ignore ^C and `kill`). The raw system calls, because glibc
/// refuses its internal signals (32, 33), which were seen ignored here.
pub fn child_setup() -> std::io::Result<()> {
    // SAFETY: setsid, ioctl(TIOCSCTTY), rt_sigprocmask and rt_sigaction with a SIG_DFL action
    // we own are async-signal-safe and touch no memory of the parent.
    unsafe {
        // An empty signal mask: jobcheck blocks SIGINT, SIGTERM and SIGHUP in its own threads
        // (crate::interrupt), and a shell passes its starting mask on to every job.
        let empty = 0u64;
        if libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            std::ptr::null_mut::<u64>(),
            8usize,
        ) < 0
        {
            return Err(std::io::Error::last_os_error());
        }
        if libc::setsid() < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
            return Err(std::io::Error::last_os_error());
        }
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
    }
    Ok(())
}

/// Set the window size of the terminal behind `fd`.
pub fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> std::io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize struct we own.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The terminal's foreground process group, asked of the master.
pub fn foreground_pgrp(master: BorrowedFd<'_>) -> Option<crate::Pgid> {
    crate::Pgid::new(nix::unistd::tcgetpgrp(master).ok()?.as_raw())
}

/// Whether the terminal generates signals from keys (`ISIG` in its local modes); `None` if the
/// modes cannot be read. A line editor turns it off (or not) while reading; a shell that hands
/// the terminal to a job before restoring the job's modes leaves a window where ^Z is a byte.
///
/// With ISIG on, this also asks that ^C and ^Z be the VINTR and VSUSP characters (a shell may
/// restore those separately from the flags).
pub fn isig(fd: BorrowedFd<'_>) -> Option<bool> {
    use nix::sys::termios::SpecialCharacterIndices as Cc;
    let t = nix::sys::termios::tcgetattr(fd).ok()?;
    let on = t.local_flags.contains(nix::sys::termios::LocalFlags::ISIG);
    let cc = &t.control_chars;
    Some(on && cc[Cc::VINTR as usize] == 3 && cc[Cc::VSUSP as usize] == 0x1a)
}

/// How many bytes typed into the terminal its reader has not read yet (`FIONREAD` on the slave
/// `slave_path`, opened for the question only; in canonical mode, the complete lines). `None`
/// if the slave cannot be opened (hung up).
pub fn input_queue_len(slave_path: &str) -> Option<usize> {
    let fd = nix::fcntl::open(
        slave_path,
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ok()?;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int we own.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) };
    (rc == 0).then_some(n.max(0) as usize)
}

/// Write all of `bytes` to the master (retrying on EINTR/EAGAIN).
pub fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => continue,
            Err(e) => return Err(io(e)),
        }
    }
    Ok(())
}

pub(crate) fn io(e: nix::errno::Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e as i32)
}

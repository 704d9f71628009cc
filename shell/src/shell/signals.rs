//! The shell's signal policy, over the job core's [`System`].
//!
//! - SIGCHLD is caught: the main loop reaps before the next prompt
//!   ([`System::take_caught`]`(SIGCHLD)`).
//! - SIGINT, in an interactive shell, is caught: it interrupts a `wait` blocked in `waitpid`
//!   (which gives up) and a long expression (the real system also raises
//!   [`crate::expr::INTERRUPTED`]). At the prompt the line editor has the terminal in raw mode
//!   and sees ctrl-c as a key; during a foreground job the job's group, not the shell's, owns
//!   the terminal and gets the signal.
//! - SIGTERM and SIGHUP (and SIGINT when not interactive) end the shell at once
//!   ([`Disposition::ExitShell`]): every job's group gets SIGHUP then SIGCONT, the session
//!   directory with every reservoir and temporary file is removed, the terminal gets its modes
//!   and owner back, and the process exits with 128 + the signal.
//!
//! The handlers themselves (signal context, async-signal-safe) are the real system's
//! (`job/system/real/signals.rs`).

use crate::job::{Disposition, Signal, System};

/// The signals whose dispositions the shell sets, which its forked job processes put back.
const HANDLED: [Signal; 4] = [
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGINT,
];

/// Installs the shell's dispositions. `interactive`: SIGINT interrupts the shell's own waits
/// instead of ending it.
pub fn install<S: System>(sys: &S, interactive: bool) {
    let sigint = if interactive {
        Disposition::Catch
    } else {
        Disposition::ExitShell
    };
    for (sig, disposition) in [
        (Signal::SIGCHLD, Disposition::Catch),
        (Signal::SIGTERM, Disposition::ExitShell),
        (Signal::SIGHUP, Disposition::ExitShell),
        (Signal::SIGINT, sigint),
    ] {
        let _ = sys.set_disposition(sig, disposition);
    }
}

/// Puts back the default dispositions in a forked job process, which must not run the shell's
/// handlers (SIGINT and the stop signals are then set by `job::child_setup`).
/// Async-signal-safe.
pub fn reset_in_child<S: System>(sys: &S) {
    for sig in HANDLED {
        let _ = sys.set_disposition(sig, Disposition::Default);
    }
}

/// Whether ctrl-c arrived since the last call (and forgets it).
pub fn take_interrupt<S: System>(sys: &S) -> bool {
    sys.take_caught(Signal::SIGINT)
}

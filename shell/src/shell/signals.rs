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
//! - A signal `trap` sets an action on is caught ([`Disposition::Catch`]) and its action
//!   runs between commands ([`super::traps`]); `trap - SIG` puts back the disposition above
//!   ([`own_disposition`]). SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM keep their default action
//!   until trapped.
//!
//! The handlers themselves (signal context, async-signal-safe) are the real system's
//! (`job/system/real/signals.rs`).

use crate::job::{Disposition, Signal, System};

/// The signals whose dispositions the shell sets (itself or by `trap`), which its forked job
/// processes put back.
const HANDLED: [Signal; 8] = [
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
];

/// The disposition the shell gives `sig` when no trap is set on it. `interactive`: SIGINT
/// interrupts the shell's own waits instead of ending it.
pub fn own_disposition(sig: Signal, interactive: bool) -> Disposition {
    match sig {
        Signal::SIGCHLD => Disposition::Catch,
        Signal::SIGINT if interactive => Disposition::Catch,
        Signal::SIGTERM | Signal::SIGHUP | Signal::SIGINT => Disposition::ExitShell,
        _ => Disposition::Default,
    }
}

/// Installs the shell's dispositions.
pub fn install<S: System>(sys: &S, interactive: bool) {
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGINT,
    ] {
        let _ = sys.set_disposition(sig, own_disposition(sig, interactive));
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

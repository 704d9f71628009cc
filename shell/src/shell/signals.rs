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
//!   ([`own_disposition`]). An interactive shell ignores SIGQUIT (`JobControl::take_terminal`);
//!   SIGUSR1, SIGUSR2 and SIGALRM (and SIGQUIT in a script) keep their default action until
//!   trapped.
//!
//! The handlers themselves (signal context, async-signal-safe) are the real system's
//! (`job/system/real/signals.rs`).

use crate::job::{Disposition, Signal, System};

/// The signals whose dispositions the shell sets, which its forked job processes put back:
/// SIGCHLD, and every signal `trap` accepts (the shell sets those itself or by `trap`), so a
/// signal made trappable is reset in children too. Allocation-free (async-signal-safe).
fn handled() -> impl Iterator<Item = Signal> {
    std::iter::once(Signal::SIGCHLD).chain(super::traps::TRAPPABLE)
}

/// The disposition the shell gives `sig` when no trap is set on it. `interactive`: SIGINT
/// interrupts the shell's own waits instead of ending it.
pub fn own_disposition(sig: Signal, interactive: bool) -> Disposition {
    match sig {
        Signal::SIGCHLD => Disposition::Catch,
        Signal::SIGINT if interactive => Disposition::Catch,
        // As `JobControl::take_terminal` leaves it.
        Signal::SIGQUIT if interactive => Disposition::Ignore,
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
    for sig in handled() {
        let _ = sys.set_disposition(sig, Disposition::Default);
    }
}

/// Whether ctrl-c arrived since the last call (and forgets it).
pub fn take_interrupt<S: System>(sys: &S) -> bool {
    sys.take_caught(Signal::SIGINT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::VirtualSystem;
    use crate::job::system::r#virtual::Event;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn own_dispositions_differ_for_a_terminal() {
        assert_eq!(own_disposition(Signal::SIGINT, true), Disposition::Catch);
        assert_eq!(
            own_disposition(Signal::SIGINT, false),
            Disposition::ExitShell
        );
        assert_eq!(own_disposition(Signal::SIGQUIT, true), Disposition::Ignore);
        assert_eq!(
            own_disposition(Signal::SIGQUIT, false),
            Disposition::Default
        );
        assert_eq!(
            own_disposition(Signal::SIGTERM, true),
            Disposition::ExitShell
        );
        assert_eq!(own_disposition(Signal::SIGUSR1, true), Disposition::Default);
    }

    #[test]
    fn a_caught_signal_but_sigchld_wakes_the_prompt_and_is_taken_once() {
        let sys = VirtualSystem::new();
        install(&sys, true);
        let wake = Arc::new(AtomicBool::new(false));
        sys.set_wake_flag(wake.clone());
        let shell = sys.getpid();
        sys.happen(Event::Signal(shell, Signal::SIGCHLD));
        assert!(
            !wake.load(Ordering::Acquire),
            "SIGCHLD is the reaper's, not a trap's"
        );
        let _ = sys.set_disposition(Signal::SIGUSR1, Disposition::Catch);
        sys.happen(Event::Signal(shell, Signal::SIGUSR1));
        assert!(wake.load(Ordering::Acquire));
        assert!(sys.take_caught(Signal::SIGUSR1));
        assert!(!sys.take_caught(Signal::SIGUSR1));
        // Reset: the default action is back, so the signal ends the (simulated) shell.
        let _ = sys.set_disposition(Signal::SIGUSR1, own_disposition(Signal::SIGUSR1, true));
        sys.happen(Event::Signal(shell, Signal::SIGUSR1));
        assert!(sys.state_of(shell).is_some_and(|s| s.is_dead()));
    }
}

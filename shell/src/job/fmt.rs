//! bash's text for jobs: the `jobs` listing, its `-l` and `-p` forms, and the notices.
//!
//! bash prints a job as `"[%d]%c "` then, per pipeline member, `" "`, the state padded to 24
//! columns (`LONGEST_SIGNAL_DESC`), and the command; a running job ends with `" &"`:
//!
//! ```text
//! [1]+  Stopped                 sleep 30
//! [2]-  Running                 sleep 40 | cat &
//! [3]   Exit 2                  false
//! ```
//!
//! `jobs -l` adds a 5-column pid and one line per member; continuation lines are indented to
//! the pid column and put `| ` before the command in the command column (the state is repeated
//! only when it differs from the first member's):
//!
//! ```text
//! [1]+  4626 Running                 sleep 40
//!       4627                       | cat &
//! ```
//!
//! State words (bash, not in POSIX mode): `Running`, `Stopped` (ctrl-z and SIGSTOP),
//! `Stopped(SIGTTIN)` / `Stopped(SIGTTOU)` for a background job stopped on terminal access (the
//! wording bash uses in POSIX mode; plain bash says only `Stopped`, which hides why a job
//! stopped), `Done`, `Exit N`, and for a job killed by a signal the C library's description:
//! `Hangup`, `Interrupt`, `Quit`, `Killed`, `Terminated`, ... followed by `(core dumped)` when
//! it did.
//!
//! Other lines: `[1] 4626` when `&` starts a job (marsh prints the process group, which is the
//! first member's pid; bash prints the last member's pid), `[1]+ sleep 30 &` for `bg`, and for a
//! foreground job killed by a signal other than SIGINT and SIGPIPE, the description alone
//! (`Killed`), as bash does.

use super::{Halt, Job, JobNumber, Marker, Pgid, ProcessState, Signal};

/// Width of the state column (bash's `LONGEST_SIGNAL_DESC`).
pub const STATE_WIDTH: usize = 24;

/// The C library's description of a signal (glibc's `strsignal`, fixed to English).
pub fn signal_description(sig: Signal) -> &'static str {
    use Signal::*;
    match sig {
        SIGHUP => "Hangup",
        SIGINT => "Interrupt",
        SIGQUIT => "Quit",
        SIGILL => "Illegal instruction",
        SIGTRAP => "Trace/breakpoint trap",
        SIGABRT => "Aborted",
        SIGBUS => "Bus error",
        SIGFPE => "Floating point exception",
        SIGKILL => "Killed",
        SIGUSR1 => "User defined signal 1",
        SIGSEGV => "Segmentation fault",
        SIGUSR2 => "User defined signal 2",
        SIGPIPE => "Broken pipe",
        SIGALRM => "Alarm clock",
        SIGTERM => "Terminated",
        SIGCHLD => "Child exited",
        SIGCONT => "Continued",
        SIGSTOP => "Stopped (signal)",
        SIGTSTP => "Stopped",
        SIGTTIN => "Stopped (tty input)",
        SIGTTOU => "Stopped (tty output)",
        SIGURG => "Urgent I/O condition",
        SIGXCPU => "CPU time limit exceeded",
        SIGXFSZ => "File size limit exceeded",
        SIGVTALRM => "Virtual timer expired",
        SIGPROF => "Profiling timer expired",
        SIGWINCH => "Window changed",
        SIGIO => "I/O possible",
        SIGPWR => "Power failure",
        SIGSYS => "Bad system call",
        _ => "Unknown signal",
    }
}

/// The state word of the `jobs` listing.
pub fn state_text(state: ProcessState) -> String {
    let ProcessState::Halted(halt) = state else {
        return "Running".into();
    };
    match halt {
        Halt::Stopped(Signal::SIGTTIN) => "Stopped(SIGTTIN)".into(),
        Halt::Stopped(Signal::SIGTTOU) => "Stopped(SIGTTOU)".into(),
        Halt::Stopped(_) => "Stopped".into(),
        Halt::Exited(0) => "Done".into(),
        Halt::Exited(n) => format!("Exit {n}"),
        Halt::Signaled { signal, .. } => signal_description(signal).into(),
    }
}

fn push_state(line: &mut String, state: ProcessState) {
    line.push_str(&format!("{:<STATE_WIDTH$}", state_text(state)));
    if let ProcessState::Halted(Halt::Signaled {
        core_dumped: true, ..
    }) = state
    {
        line.push_str("(core dumped) ");
    }
}

/// One job as `jobs` and the notices show it: `[1]+  Stopped                 sleep 30`.
pub fn job_line(job: &Job, marker: Marker) -> String {
    let mut line = format!("[{}]{}  ", job.number(), marker.as_char());
    push_state(&mut line, job.state());
    line.push_str(job.command());
    if job.state() == ProcessState::Running {
        line.push_str(" &");
    }
    line
}

/// One job as `jobs -l` shows it: one line per pipeline member, with pids.
pub fn job_lines_long(job: &Job, marker: Marker) -> Vec<String> {
    // A live job's members all show the job's state; a finished job shows each member's end.
    let shown = |p: ProcessState| {
        if job.state().is_finished() {
            p
        } else {
            job.state()
        }
    };
    let procs = job.processes();
    let first_state = shown(procs[0].state());
    let mut lines = Vec::with_capacity(procs.len());
    for (i, p) in procs.iter().enumerate() {
        let mut line = if i == 0 {
            let mut l = format!("[{}]{} {:>5} ", job.number(), marker.as_char(), p.pid());
            push_state(&mut l, first_state);
            l
        } else {
            let mut l = format!("     {:>5} ", p.pid());
            let state = shown(p.state());
            if state_text(state) == state_text(first_state) {
                l.push_str(&" ".repeat(STATE_WIDTH - 2));
            } else {
                push_state(&mut l, state);
            }
            l.push_str("| ");
            l
        };
        line.push_str(p.command());
        if i + 1 == procs.len() && job.state() == ProcessState::Running {
            line.push_str(" &");
        }
        lines.push(line);
    }
    lines
}

/// One job as `jobs -p` shows it: its process group.
pub fn job_pgid_line(job: &Job) -> String {
    job.pgid().to_string()
}

/// The line printed when `&` starts a job: `[1] 4626`.
pub fn started_line(number: JobNumber, pgid: Pgid) -> String {
    format!("[{number}] {pgid}")
}

/// The line `bg` prints: `[1]+ sleep 30 &`.
pub fn bg_line(job: &Job, marker: Marker) -> String {
    format!("[{}]{} {} &", job.number(), marker.as_char(), job.command())
}

/// What the shell prints when a foreground job was killed by a signal: the signal's
/// description, `(core dumped)` added when it did; nothing for SIGINT and SIGPIPE (the user
/// knows, or the pipeline ended as usual), as bash does.
pub fn foreground_signal_notice(halt: Halt) -> Option<String> {
    match halt {
        Halt::Signaled {
            signal,
            core_dumped,
        } => match signal {
            Signal::SIGINT | Signal::SIGPIPE => None,
            _ if core_dumped => Some(format!("{} (core dumped)", signal_description(signal))),
            _ => Some(signal_description(signal).to_string()),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobTable, Pid, WaitStatus};

    fn pid(n: i32) -> Pid {
        Pid::from_raw(n)
    }

    fn one(t: &mut JobTable, p: i32, cmd: &str) -> JobNumber {
        t.add(Pgid::from_raw(p), vec![(pid(p), cmd.into())], cmd, false)
    }

    fn line(t: &JobTable, n: JobNumber) -> String {
        job_line(t.get(n).unwrap(), t.marker(n))
    }

    #[test]
    fn stopped_and_running_lines_match_bash() {
        let mut t = JobTable::new();
        let a = one(&mut t, 4626, "sleep 30");
        t.update(WaitStatus::Stopped(pid(4626), Signal::SIGTSTP));
        let b = one(&mut t, 4700, "sleep 30");
        assert_eq!(line(&t, a), "[1]+  Stopped                 sleep 30");
        assert_eq!(line(&t, b), "[2]-  Running                 sleep 30 &");
        assert_eq!(
            bg_line(t.get(a).unwrap(), Marker::Current),
            "[1]+ sleep 30 &"
        );
        assert_eq!(started_line(b, Pgid::from_raw(4700)), "[2] 4700");
        assert_eq!(job_pgid_line(t.get(b).unwrap()), "4700");
    }

    #[test]
    fn finished_states() {
        let mut t = JobTable::new();
        let cases: [(WaitStatus, &str); 6] = [
            (WaitStatus::Exited(pid(1), 0), "Done                    "),
            (WaitStatus::Exited(pid(1), 2), "Exit 2                  "),
            (
                WaitStatus::Signaled(pid(1), Signal::SIGTERM, false),
                "Terminated              ",
            ),
            (
                WaitStatus::Signaled(pid(1), Signal::SIGKILL, false),
                "Killed                  ",
            ),
            (
                WaitStatus::Signaled(pid(1), Signal::SIGHUP, false),
                "Hangup                  ",
            ),
            (
                WaitStatus::Signaled(pid(1), Signal::SIGQUIT, true),
                "Quit                    (core dumped) ",
            ),
        ];
        for (status, text) in cases {
            let n = one(&mut t, 1, "cmd");
            t.update(status);
            let r = t.take_reports();
            assert_eq!(
                job_line(&r[0].job, r[0].marker),
                format!("[{n}]+  {text}cmd")
            );
        }
    }

    #[test]
    fn tty_stops_say_why() {
        let mut t = JobTable::new();
        let n = one(&mut t, 7, "cat");
        t.update(WaitStatus::Stopped(pid(7), Signal::SIGTTIN));
        assert_eq!(line(&t, n), "[1]+  Stopped(SIGTTIN)        cat");
    }

    #[test]
    fn long_listing_one_line_per_member() {
        let mut t = JobTable::new();
        let n = t.add(
            Pgid::from_raw(4626),
            vec![(pid(4626), "sleep 40".into()), (pid(4627), "cat".into())],
            "sleep 40 | cat",
            false,
        );
        assert_eq!(
            line(&t, n),
            "[1]+  Running                 sleep 40 | cat &"
        );
        assert_eq!(
            job_lines_long(t.get(n).unwrap(), t.marker(n)),
            [
                "[1]+  4626 Running                 sleep 40",
                "      4627                       | cat &",
            ]
        );
        t.update(WaitStatus::Signaled(pid(4626), Signal::SIGPIPE, false));
        t.update(WaitStatus::Exited(pid(4627), 1));
        assert_eq!(
            job_lines_long(t.get(n).unwrap(), t.marker(n)),
            [
                "[1]+  4626 Broken pipe             sleep 40",
                "      4627 Exit 1                  | cat",
            ]
        );
        assert_eq!(line(&t, n), "[1]+  Exit 1                  sleep 40 | cat");
    }

    #[test]
    fn foreground_signal_notices() {
        let sig = |signal, core_dumped| Halt::Signaled {
            signal,
            core_dumped,
        };
        assert_eq!(foreground_signal_notice(sig(Signal::SIGINT, false)), None);
        assert_eq!(foreground_signal_notice(sig(Signal::SIGPIPE, false)), None);
        assert_eq!(
            foreground_signal_notice(sig(Signal::SIGKILL, false)).as_deref(),
            Some("Killed")
        );
        assert_eq!(
            foreground_signal_notice(sig(Signal::SIGSEGV, true)).as_deref(),
            Some("Segmentation fault (core dumped)")
        );
        assert_eq!(foreground_signal_notice(Halt::Exited(1)), None);
    }
}

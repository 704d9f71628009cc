//! Reading the process table from `/proc`.
//!
//! Invariants: a process that vanishes while being read is simply absent (never an error);
//! a session's processes are found both by session id (`/proc/PID/stat` field 6) and by the
//! `JOBCHECK_SESSION` tag in `/proc/PID/environ`, because a process that called `setsid` escapes
//! the first and one started with `env -i` escapes the second.

use std::fmt::Write as _;

use crate::pid::{Pgid, Pid};

/// Name of the environment variable that tags every process of a session.
pub const SESSION_VAR: &str = "JOBCHECK_SESSION";

/// A process's state letter from `/proc/PID/stat`, by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ProcState {
    /// `R`: running or runnable.
    Running,
    /// `S`: sleeping (interruptible), e.g. blocked in `read` or `wait`.
    Sleeping,
    /// `D`: uninterruptible sleep (disk).
    DiskSleep,
    /// `I`: idle kernel thread.
    Idle,
    /// `T`: stopped by a signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU).
    Stopped,
    /// `t`: stopped by a tracer.
    TracingStop,
    /// `Z`: exited, not yet reaped by its parent.
    Zombie,
    /// `X` (or `x`): being torn down.
    Dead,
    /// Any other letter (kept as read).
    Other(char),
}

impl ProcState {
    /// The state of a `/proc/PID/stat` state letter.
    pub fn from_letter(c: char) -> ProcState {
        match c {
            'R' => ProcState::Running,
            'S' => ProcState::Sleeping,
            'D' => ProcState::DiskSleep,
            'I' => ProcState::Idle,
            'T' => ProcState::Stopped,
            't' => ProcState::TracingStop,
            'Z' => ProcState::Zombie,
            'X' | 'x' => ProcState::Dead,
            c => ProcState::Other(c),
        }
    }

    /// The letter `ps` shows.
    pub fn letter(self) -> char {
        match self {
            ProcState::Running => 'R',
            ProcState::Sleeping => 'S',
            ProcState::DiskSleep => 'D',
            ProcState::Idle => 'I',
            ProcState::Stopped => 'T',
            ProcState::TracingStop => 't',
            ProcState::Zombie => 'Z',
            ProcState::Dead => 'X',
            ProcState::Other(c) => c,
        }
    }
}

/// One line of the process table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Proc {
    /// The process.
    pub pid: Pid,
    /// Its parent (`None` for a process whose parent is outside this pid namespace: 0).
    pub ppid: Option<Pid>,
    /// Its process group (`None` when the group's leader is outside this pid namespace: the
    /// kernel reports 0, as for the harness itself when a container started it; never so for a
    /// process of a session the harness started, whose groups are made inside).
    pub pgid: Option<Pgid>,
    /// Its session, named by the session leader's pid (`None` as for `pgid`).
    pub sid: Option<Pid>,
    /// Foreground process group of the process's controlling terminal (`None`: no terminal).
    pub tpgid: Option<Pgid>,
    /// What it is doing.
    pub state: ProcState,
    /// Start time in clock ticks since boot (defeats pid reuse).
    pub starttime: u64,
    /// The command name (`/proc/PID/comm`, at most 15 bytes).
    pub comm: String,
    /// The command line, arguments joined by spaces (empty for a zombie).
    pub cmdline: String,
}

impl Proc {
    /// Dead but not reaped (or being torn down): not a live process.
    pub fn is_dead(&self) -> bool {
        matches!(self.state, ProcState::Zombie | ProcState::Dead)
    }
    /// Dead, and done dying: a zombie whose other threads have all exited too. A
    /// multi-threaded process's main thread shows `Z` while its other threads are still
    /// exiting, and its parent gets SIGCHLD only once the last of them is gone — a shell
    /// cannot have seen the end of such a process yet.
    pub fn has_ended(&self) -> bool {
        self.is_dead() && thread_count(self.pid) <= 1
    }

    /// Stopped by a signal.
    pub fn is_stopped(&self) -> bool {
        self.state == ProcState::Stopped
    }
}

/// Parse the content of `/proc/PID/stat`.
pub fn parse_stat(pid: Pid, text: &str) -> Option<Proc> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // rest[0] = state (field 3), rest[1] = ppid (4), pgrp (5), session (6), tty_nr (7), tpgid (8)
    // starttime is field 22 → rest[19]
    let num = |i: usize| rest.get(i)?.parse::<i32>().ok();
    Some(Proc {
        pid,
        state: ProcState::from_letter(rest.first()?.chars().next()?),
        ppid: Pid::new(num(1)?),
        pgid: Pgid::new(num(2)?),
        sid: Pid::new(num(3)?),
        tpgid: Pgid::new(num(5)?),
        starttime: rest.get(19)?.parse().ok()?,
        comm,
        cmdline: String::new(),
    })
}

/// Read one process (with its command line), `None` if it is gone.
pub fn read(pid: Pid) -> Option<Proc> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut p = parse_stat(pid, &text)?;
    if let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) {
        let parts: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        p.cmdline = parts.join(" ");
    }
    Some(p)
}

/// Start time (clock ticks since boot) of `pid`, if it exists.
pub fn start_time(pid: Pid) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text).map(|p| p.starttime)
}

/// The CPU time `pid` has used, user plus system, in clock ticks (`/proc/PID/stat` fields
/// 14 and 15); `None` if it is gone.
pub fn cpu_ticks(pid: Pid) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
    // rest[0] is field 3 (state), so utime (14) is rest[11] and stime (15) rest[12].
    Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
}

/// Whether `pid` lives in this process's pid namespace. A process of another namespace (a
/// sandboxed CI job's, seen from outside it) carries pids that mean nothing here, so its tags
/// cannot be judged from here. `false` when either link cannot be read.
pub fn in_my_pid_namespace(pid: Pid) -> bool {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    match (ns(&pid.to_string()), ns("self")) {
        (Some(theirs), Some(mine)) => theirs == mine,
        _ => false,
    }
}

/// This process's pid namespace as the kernel names it (`pid:[4026531836]`), if readable.
pub fn my_pid_namespace() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|l| l.to_string_lossy().into_owned())
}

/// Every pid currently in `/proc`.
pub fn all_pids() -> Vec<Pid> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The value of `key` in the environment of `pid`, if readable.
pub fn env_var(pid: Pid, key: &str) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{key}=");
    raw.split(|b| *b == 0).find_map(|kv| {
        kv.strip_prefix(prefix.as_bytes())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}

/// Processes of the session whose leader is `sid`, or tagged with `tag` (live or zombie).
pub fn session_procs(sid: Pid, tag: &str) -> Vec<Proc> {
    let me = Pid::this_process();
    let mut out = Vec::new();
    for pid in all_pids() {
        if pid == me {
            continue;
        }
        let Some(p) = read(pid) else { continue };
        if p.sid == Some(sid) || env_var(pid, SESSION_VAR).as_deref() == Some(tag) {
            out.push(p);
        }
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// Processes whose session id is `sid` (cheap: reads only `stat` files).
pub fn procs_in_sid(sid: Pid) -> Vec<Proc> {
    let mut out: Vec<Proc> = all_pids()
        .into_iter()
        .filter_map(|pid| {
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let p = parse_stat(pid, &text)?;
            (p.sid == Some(sid)).then_some(p)
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// Processes of process group `pgid` (cheap: reads only `stat` files).
pub fn procs_in_pgid(pgid: Pgid) -> Vec<Proc> {
    let mut out: Vec<Proc> = all_pids()
        .into_iter()
        .filter_map(|pid| {
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let p = parse_stat(pid, &text)?;
            (p.pgid == Some(pgid)).then_some(p)
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// System calls in which a shell sits while it waits for a key at its prompt.
fn input_syscalls() -> Vec<i64> {
    #[allow(unused_mut)]
    let mut v = vec![
        libc::SYS_read,
        libc::SYS_pselect6,
        libc::SYS_ppoll,
        libc::SYS_epoll_pwait,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([libc::SYS_select, libc::SYS_poll, libc::SYS_epoll_wait]);
    v
}

/// What `pid` is doing, from `/proc/PID/syscall`: `None` if unreadable, `Some(None)` if running
/// (not in a system call), `Some(Some(nr))` if blocked in system call `nr`.
pub fn blocked_syscall(pid: Pid) -> Option<Option<i64>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let first = text.split_whitespace().next()?;
    if first == "running" {
        return Some(None);
    }
    first.parse().ok().map(Some)
}

/// How many threads of `pid` are still listed in `/proc/PID/task` (0 if none can be read).
pub fn thread_count(pid: Pid) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

/// Whether system call `nr` is one that waits for input (read, select, poll…).
pub fn is_input_syscall(nr: i64) -> bool {
    input_syscalls().contains(&nr)
}

/// Whether `pid` is blocked in a system call that waits for input (read, select, poll…), from
/// `/proc/PID/syscall`; `None` if that file can't be read (then nobody can tell).
pub fn blocked_waiting_for_input(pid: Pid) -> Option<bool> {
    Some(blocked_syscall(pid)?.is_some_and(is_input_syscall))
}

/// Whether `pid` is blocked waiting for a child to change state (wait4, waitid), from
/// `/proc/PID/syscall`; `None` if that file can't be read.
pub fn blocked_waiting_for_child(pid: Pid) -> Option<bool> {
    Some(blocked_syscall(pid)?.is_some_and(|nr| nr == libc::SYS_wait4 || nr == libc::SYS_waitid))
}

/// Render a process table for people.
pub fn format_table(procs: &[Proc]) -> String {
    let mut s = String::from("    PID    PPID    PGID     SID   TPGID S COMMAND\n");
    for p in procs {
        let cmd = if p.cmdline.is_empty() {
            format!("[{}]", p.comm)
        } else {
            p.cmdline.clone()
        };
        let ppid = p.ppid.map_or(0, Pid::as_raw);
        let tpgid = p.tpgid.map_or(-1, Pgid::as_raw);
        let pgid = p.pgid.map_or(0, Pgid::as_raw);
        let sid = p.sid.map_or(0, Pid::as_raw);
        let _ = writeln!(
            s,
            "{:>7} {:>7} {:>7} {:>7} {:>7} {} {}",
            p.pid,
            ppid,
            pgid,
            sid,
            tpgid,
            p.state.letter(),
            cmd
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_parens_in_comm() {
        let line = "42 (a) b) S 1 42 42 34816 42 4194304 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let pid = Pid::new(42).unwrap();
        let p = parse_stat(pid, line).unwrap();
        assert_eq!(p.comm, "a) b");
        assert_eq!(
            (p.state, p.ppid, p.pgid, p.sid, p.tpgid),
            (
                ProcState::Sleeping,
                Pid::new(1),
                Some(pid.led_group()),
                Some(pid),
                Some(pid.led_group())
            )
        );
        assert_eq!(p.starttime, 12345);
    }

    /// In a pid namespace made without a new session (CI sandboxes, `unshare --pid --fork`),
    /// the harness's own group and session leaders are outside: the kernel reports 0 for them.
    #[test]
    fn parses_stat_of_a_process_whose_group_is_outside_the_namespace() {
        let line = "2 (cat) R 1 0 0 0 -1 4194304 75 0 1 0 0 0 0 0 20 0 1 0 1196254 3133440";
        let p = parse_stat(Pid::new(2).unwrap(), line).unwrap();
        assert_eq!((p.pgid, p.sid, p.tpgid), (None, None, None));
        assert_eq!(p.starttime, 1196254);
    }

    #[test]
    fn a_single_threaded_zombie_has_ended() {
        let me = Pid::new(std::process::id() as i32).unwrap();
        assert!(thread_count(me) >= 1, "the test's own threads are listed");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = Pid::new(child.id() as i32).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !read(pid).is_some_and(|p| p.is_dead()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the child never became a zombie"
            );
            std::thread::yield_now();
        }
        assert!(
            read(pid).unwrap().has_ended(),
            "a single-threaded zombie is done"
        );
        child.wait().unwrap();
    }

    #[test]
    fn reads_self() {
        let me = read(Pid::this_process()).unwrap();
        assert_eq!(me.pid, Pid::this_process());
        assert!(start_time(me.pid).is_some());
    }
}

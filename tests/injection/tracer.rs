//! A small ptrace tracer that signals a store job's leader at its K-th system call (see
//! `tests/injection.rs`).

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Traced {
    /// System calls the leader entered (all threads), up to the injection.
    pub syscalls: u64,
    /// Whether the signal was sent (the run had K system calls or more).
    pub injected: bool,
}

fn ptrace(req: libc::c_uint, pid: i32, addr: usize, data: usize) -> libc::c_long {
    // SAFETY: plain ptrace requests on tracees of this thread; addr/data are integers or point
    // to a live u64 (GETEVENTMSG).
    unsafe {
        libc::ptrace(
            req,
            pid,
            addr as *mut libc::c_void,
            data as *mut libc::c_void,
        )
    }
}

fn tgid_of(tid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Detach every traced thread but `keep` (interrupting those that run), passing on signals.
fn release_others(
    keep: i32,
    traced: &mut std::collections::HashMap<i32, bool>,
    deadline: Instant,
) -> Result<(), String> {
    for &t in traced.keys().filter(|&&t| t != keep) {
        ptrace(libc::PTRACE_INTERRUPT, t, 0, 0);
    }
    while traced.keys().any(|&t| t != keep) {
        if Instant::now() > deadline {
            return Err("tracer: threads did not stop for detaching".into());
        }
        let mut status = 0;
        // SAFETY: as in trace_and_inject.
        let pid = unsafe {
            libc::waitpid(
                -1,
                &mut status,
                libc::__WALL | libc::__WNOTHREAD | libc::WNOHANG,
            )
        };
        if pid == 0 {
            std::thread::sleep(Duration::from_micros(50));
            continue;
        }
        if pid < 0 {
            traced.retain(|&t, _| t == keep);
            break;
        }
        if pid == keep {
            continue;
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            traced.remove(&pid);
            continue;
        }
        let stopsig = libc::WSTOPSIG(status);
        let event = status >> 16;
        let pass = if event == 0 && stopsig != libc::SIGTRAP && stopsig != (libc::SIGTRAP | 0x80) {
            stopsig
        } else {
            0
        };
        ptrace(libc::PTRACE_DETACH, pid, 0, pass as usize);
        traced.remove(&pid);
    }
    Ok(())
}

/// Seize `shell` (then `ready` is sent), follow its next fork (the job's leader), and send
/// `sig` to the leader at its `k`-th system call. Must run on a thread of its own: ptrace
/// tracees belong to the thread that traces them.
pub fn trace_and_inject(
    shell: i32,
    k: u64,
    sig: libc::c_int,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) -> Result<Traced, String> {
    let opts = libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE;
    if ptrace(libc::PTRACE_SEIZE, shell, 0, opts as usize) < 0 {
        let e = std::io::Error::last_os_error().to_string();
        let _ = ready.send(Err(e.clone()));
        return Err(format!("PTRACE_SEIZE: {e}"));
    }
    let _ = ready.send(Ok(()));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut shell_traced = true;
    let mut leader: Option<i32> = None;
    // Traced threads of the leader, with "inside a system call".
    let mut traced: std::collections::HashMap<i32, bool> = Default::default();
    let mut syscalls = 0u64;
    let mut injected = false;
    let mut early: Vec<i32> = Vec::new();
    loop {
        if Instant::now() > deadline {
            for &t in traced.keys() {
                ptrace(libc::PTRACE_INTERRUPT, t, 0, 0);
                ptrace(libc::PTRACE_DETACH, t, 0, 0);
            }
            if shell_traced {
                ptrace(libc::PTRACE_INTERRUPT, shell, 0, 0);
            }
            return Err("tracer: no progress within 20 s".into());
        }
        if !shell_traced && leader.is_some() && traced.is_empty() {
            return Ok(Traced { syscalls, injected });
        }
        let mut status = 0;
        // SAFETY: waitpid on this thread's tracees only (__WNOTHREAD).
        let pid = unsafe {
            libc::waitpid(
                -1,
                &mut status,
                libc::__WALL | libc::__WNOTHREAD | libc::WNOHANG,
            )
        };
        if pid == 0 {
            std::thread::sleep(Duration::from_micros(50));
            continue;
        }
        if pid < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ECHILD) {
                if leader.is_some() {
                    traced.clear();
                    shell_traced = false;
                    continue;
                }
                return Err("tracer: lost the shell".into());
            }
            return Err(format!("waitpid: {e}"));
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            traced.remove(&pid);
            if Some(pid) == leader {
                traced.clear();
            }
            continue;
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let stopsig = libc::WSTOPSIG(status);
        let event = status >> 16;
        if pid == shell && shell_traced {
            if event == libc::PTRACE_EVENT_FORK
                || event == libc::PTRACE_EVENT_VFORK
                || event == libc::PTRACE_EVENT_CLONE
            {
                let mut msg: u64 = 0;
                ptrace(
                    libc::PTRACE_GETEVENTMSG,
                    pid,
                    0,
                    &mut msg as *mut u64 as usize,
                );
                leader = Some(msg as i32);
                traced.insert(msg as i32, false);
                ptrace(libc::PTRACE_DETACH, shell, 0, 0);
                shell_traced = false;
                if early.contains(&(msg as i32)) {
                    // Its first stop came before the fork event: it waits for us.
                    ptrace(libc::PTRACE_SYSCALL, msg as i32, 0, 0);
                }
            } else if event == 0 && stopsig != libc::SIGTRAP {
                // A signal for the shell: hand it on.
                ptrace(libc::PTRACE_CONT, shell, 0, stopsig as usize);
            } else {
                ptrace(libc::PTRACE_CONT, shell, 0, 0);
            }
            continue;
        }
        let Some(lead) = leader else {
            // The new child's first stop may come before the shell's fork event: hold it.
            early.push(pid);
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = traced.entry(pid) {
            if tgid_of(pid) == Some(lead) && !injected {
                e.insert(false);
            } else {
                // A program the leader spawned, or anything after the injection: not ours.
                ptrace(libc::PTRACE_DETACH, pid, 0, 0);
                continue;
            }
        }
        if injected {
            // After the injection: let go of every thread at its next stop, passing a pending
            // signal on.
            let pass =
                if event == 0 && stopsig != (libc::SIGTRAP | 0x80) && stopsig != libc::SIGTRAP {
                    stopsig
                } else {
                    0
                };
            ptrace(libc::PTRACE_DETACH, pid, 0, pass as usize);
            traced.remove(&pid);
            continue;
        }
        let mut resume_sig = 0;
        if stopsig == (libc::SIGTRAP | 0x80) {
            let inside = traced.get_mut(&pid).expect("traced");
            *inside = !*inside;
            if *inside {
                syscalls += 1;
                if syscalls == k {
                    injected = true;
                    // Let go of every other thread first: a group stop completed by a traced
                    // thread is reported to the tracer, not to the shell (a tracer artifact).
                    release_others(pid, &mut traced, deadline)?;
                    // SAFETY: a signal to the leader process (never to a group: early on the
                    // leader may still be in the shell's group).
                    unsafe { libc::kill(lead, sig) };
                    ptrace(libc::PTRACE_DETACH, pid, 0, 0);
                    traced.remove(&pid);
                    continue;
                }
            }
        } else if event == libc::PTRACE_EVENT_FORK
            || event == libc::PTRACE_EVENT_VFORK
            || event == libc::PTRACE_EVENT_CLONE
        {
            let mut msg: u64 = 0;
            ptrace(
                libc::PTRACE_GETEVENTMSG,
                pid,
                0,
                &mut msg as *mut u64 as usize,
            );
        } else if event == 0 {
            // Signal-delivery stop: deliver it.
            resume_sig = stopsig;
        }
        ptrace(libc::PTRACE_SYSCALL, pid, 0, resume_sig as usize);
    }
}

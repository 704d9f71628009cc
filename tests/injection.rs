//! Exhaustive signal injection into store jobs.
//!
//! A store job (`gen 200 >$ x`, `gen 200 >>$ x`, into a fresh or an existing `x`, and
//! `gen 200 | cat >$ x` with a host program in the pipeline) runs in an interactive marsh under
//! jobcheck. A small ptrace tracer (`tests/injection/tracer.rs`) seizes the shell while it waits
//! at the prompt, follows its fork to the job's leader, detaches from the shell at once (the
//! shell itself is never signalled), and counts the leader's system calls, on all its threads.
//! At the K-th system call it sends the leader SIGINT, SIGTSTP (followed by `kill %1`) or
//! SIGKILL, and detaches. Then, for every K up to the leader's whole run: the shell is at its
//! prompt with the terminal, `x` is the old or the new value and intact (its count is the old or
//! the new one, and the new one if the job reported success), no temporary file is left in the
//! session directory, the reservoir files are exactly `env`'s, and no process is left but the
//! shell.
//!
//! `JOBCHECK_INJECTION=full` sweeps every K; by default a spread of K per case (strided) runs.
//! The number of injection points covered is printed.

mod common;
#[path = "injection/tracer.rs"]
mod tracer;

use std::time::{Duration, Instant};

use jobcheck::Session;
use nix::sys::signal::Signal;

use tracer::{Traced, trace_and_inject};

/// Injections that met the known marsh bug (the shell hung until the leader was continued).
static HANGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `JOBCHECK_INJECTION_KNOWN_BUGS=1` steps around the bug found so far (fixed: by default it fails).
fn known_bugs() -> bool {
    std::env::var("JOBCHECK_INJECTION_KNOWN_BUGS").is_ok_and(|v| v == "1")
}

// ---- the cases ------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Case {
    line: &'static str,
    append: bool,
    existing: bool,
}

const CASES: [Case; 5] = [
    Case {
        line: "gen 200 >$ x",
        append: false,
        existing: false,
    },
    Case {
        line: "gen 200 >$ x",
        append: false,
        existing: true,
    },
    Case {
        line: "gen 200 >>$ x",
        append: true,
        existing: false,
    },
    Case {
        line: "gen 200 >>$ x",
        append: true,
        existing: true,
    },
    Case {
        line: "gen 200 | cat >$ x",
        append: false,
        existing: true,
    },
];

const OLD: u64 = 7;
const NEW: u64 = 200;

fn session() -> Session {
    common::start("marsh", "injection")
}

/// `x`'s item count from `env` (`None`: unset), and `STATUS`.
fn env_of(s: &mut Session) -> (Option<u64>, i32, String) {
    let out = s.run("env").expect("env");
    let re = regex::Regex::new(r"(?m)^x = reservoir (\d+) items").unwrap();
    let count = re.captures(&out).map(|c| c[1].parse().unwrap());
    let st = regex::Regex::new(r"(?m)^STATUS = (-?\d+)")
        .unwrap()
        .captures(&out)
        .map(|c| c[1].parse().unwrap())
        .unwrap_or(-1);
    (count, st, out)
}

/// The session directory holds exactly `env`'s reservoir files: no temporary file.
fn check_dir(s: &mut Session, env: &str) -> Result<(), String> {
    s.reservoir_mismatch(env).map_or(Ok(()), Err)
}

/// Wait for the next prompt (true), or until the shell looks hung (false): a stopped process
/// in the session while the shell sits in read(2); at most 10 s.
fn prompt_or_hang(s: &mut Session) -> bool {
    let shell = s.shell_pid();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut suspect = 0;
    while Instant::now() < deadline {
        if s.wait_prompt_for(Duration::from_millis(50)).is_ok() {
            return true;
        }
        let stopped = s
            .processes()
            .iter()
            .any(|p| p.pid != shell && p.is_stopped());
        let in_read = std::fs::read_to_string(format!("/proc/{shell}/syscall"))
            .is_ok_and(|t| t.split_whitespace().next() == Some("0"));
        suspect = if stopped && in_read { suspect + 1 } else { 0 };
        if suspect >= 4 {
            return false;
        }
    }
    false
}

/// One injection; returns the tracer's findings.
fn inject_once(s: &mut Session, case: Case, sig: Signal, k: u64) -> Result<Traced, String> {
    let ctx = |m: String| format!("{} sig {sig} K={k}: {m}", case.line);
    // Set x up.
    if case.existing {
        s.run(&format!("gen {OLD} >$ x"))
            .map_err(|e| e.to_string())?;
    } else {
        s.run("env -d x").map_err(|e| e.to_string())?;
    }
    let old = case.existing.then_some(OLD);
    let new = if case.append {
        old.unwrap_or(0) + NEW
    } else {
        NEW
    };
    let shell = s.shell_pid();
    let (tx, rx) = std::sync::mpsc::channel();
    let tracer = std::thread::spawn(move || trace_and_inject(shell.into(), k, sig, tx));
    rx.recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| ctx(format!("seize: {e}")))?;
    s.type_line(case.line).map_err(|e| e.to_string())?;
    let traced = tracer
        .join()
        .map_err(|_| ctx("tracer panicked".into()))?
        .map_err(&ctx)?;
    if !prompt_or_hang(s) {
        // Known marsh bug: a leader stopped before it says "ready" (its first 19 system calls:
        // signal resets, setpgid, taking the terminal, PR_SET_PDEATHSIG) leaves the shell
        // blocked in read(2) on the ready pipe: no prompt ever, and ^C/^Z reach only the
        // stopped leader (or nobody). Continued from outside, it recovers.
        let stopped: Vec<jobcheck::Pgid> = s
            .processes()
            .iter()
            .filter(|p| p.pid != shell && p.is_stopped())
            .filter_map(|p| p.pgid)
            .collect();
        // The shell blocked in read(2) (on the ready pipe; at the prompt it waits in epoll).
        let in_read = std::fs::read_to_string(format!("/proc/{shell}/syscall"))
            .is_ok_and(|t| t.split_whitespace().next() == Some("0"));
        let hung = in_read && !stopped.is_empty();
        if !(hung && known_bugs()) {
            return Err(ctx(format!(
                "no prompt (BUG marsh: leader stopped before it said ready: {hung})\n{}",
                s.report()
            )));
        }
        HANGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for g in stopped {
            s.signal_pgid(g, Signal::SIGCONT)
                .map_err(|e| e.to_string())?;
        }
        s.wait_prompt().map_err(|e| ctx(e.to_string()))?;
    }
    // The store's own status (a foreground job is settled before its prompt).
    let (_, status, _) = env_of(s);
    if sig == Signal::SIGTSTP {
        let jobs = s.jobs().map_err(|e| e.to_string())?;
        if !jobs.is_empty() {
            s.run("kill %1").map_err(|e| e.to_string())?;
            let pgids: Vec<jobcheck::Pgid> = s
                .processes()
                .iter()
                .filter(|p| p.pid != shell)
                .filter_map(|p| p.pgid)
                .collect();
            for g in pgids {
                s.wait_until("the killed job to be gone", |s| {
                    s.group(g).is_empty().then_some(())
                })
                .map_err(|e| ctx(e.to_string()))?;
            }
            s.jobs().map_err(|e| e.to_string())?;
        }
    }
    s.check_terminal_owned_by_shell()
        .map_err(|e| ctx(e.to_string()))?;
    // `jobs` first, so that whatever ended is reported and settled before env.
    s.jobs().map_err(|e| e.to_string())?;
    let (count, _, env) = env_of(s);
    if count != old && count != Some(new) {
        return Err(ctx(format!(
            "x has {count:?} items: neither the old {old:?} nor the new {new}\n{env}"
        )));
    }
    if !traced.injected && count != Some(new) {
        return Err(ctx(format!(
            "no signal was sent (the leader made {} system calls) yet x has {count:?}, not {new}",
            traced.syscalls
        )));
    }
    if status == 0 && count != Some(new) && sig != Signal::SIGTSTP {
        return Err(ctx(format!(
            "STATUS 0 but x has {count:?}, not the new {new}"
        )));
    }
    if let Some(c) = count {
        let out = s.run("x <$ red count").map_err(|e| e.to_string())?;
        if !out.lines().any(|l| l.trim() == c.to_string()) {
            return Err(ctx(format!("x <$ red count says {out:?}, env says {c}")));
        }
    }
    check_dir(s, &env).map_err(&ctx)?;
    s.check_clean_within(Duration::from_secs(5), &[])
        .map_err(|e| ctx(e.to_string()))?;
    Ok(traced)
}

fn sweep(full: bool) {
    let marsh = common::bin_dir().join("marsh");
    if !marsh.is_file() {
        println!("not run: no marsh binary");
        return;
    }
    let started = Instant::now();
    let mut points = 0u64;
    let mut s = session();
    for case in CASES {
        // The leader's whole run, measured with an injection that never comes.
        let whole = inject_once(&mut s, case, Signal::SIGINT, u64::MAX)
            .unwrap_or_else(|e| panic!("{e}"))
            .syscalls;
        let ks: Vec<u64> = if full {
            (1..=whole + 1).collect()
        } else {
            let step = (whole / 12).max(1);
            let mut v: Vec<u64> = (1..=whole).step_by(step as usize).collect();
            v.extend([
                2,
                3,
                whole.saturating_sub(2),
                whole.saturating_sub(1),
                whole,
            ]);
            v.retain(|&k| k >= 1);
            v.sort();
            v.dedup();
            v
        };
        for (sig, name) in [
            (Signal::SIGINT, "SIGINT"),
            (Signal::SIGTSTP, "SIGTSTP+kill"),
            (Signal::SIGKILL, "SIGKILL"),
        ] {
            let mut covered = 0;
            for &k in &ks {
                let t = inject_once(&mut s, case, sig, k).unwrap_or_else(|e| panic!("{e}"));
                if t.injected {
                    covered += 1;
                } else {
                    // The leader's run was shorter this time: K is past its end.
                    println!("K={k}: the run ended after {} system calls", t.syscalls);
                    break;
                }
            }
            points += covered;
            println!(
                "{:<22} existing={:<5} {name:<13} {covered} injection points (whole run {whole} system calls)",
                case.line, case.existing
            );
        }
    }
    s.type_line("exit").unwrap();
    s.wait_exit().unwrap();
    s.check_clean(&[]).unwrap();
    println!(
        "injection: {points} points covered in {:?}; {} met the known bug (BUG marsh: a leader stopped before it says ready hangs the shell) ({})",
        started.elapsed(),
        HANGS.load(std::sync::atomic::Ordering::Relaxed),
        if full {
            "full sweep"
        } else {
            "subset; JOBCHECK_INJECTION=full for every K"
        }
    );
}

#[test]
fn signal_injection_into_store_jobs() {
    let full = std::env::var("JOBCHECK_INJECTION").is_ok_and(|v| v == "full");
    sweep(full);
}

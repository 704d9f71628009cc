//! `jobprobe`: a tiny program for scenarios, run under the shell being tested.
//!
//! It executes its arguments as a list of steps, in order. Every line it prints starts with
//! `jobprobe:` so checks can find it among shell output. Invariants: signal reports are written
//! with `write(2)` from the handler (async-signal-safe); reporting keeps each signal's default
//! effect (SIGINT still ends the probe, SIGTSTP still stops it), so the probe behaves like any
//! program under job control while saying what happened to it.

use std::io::Write as _;
use std::time::Duration;

/// Help text for `jobprobe --help`.
pub const HELP: &str = "\
jobprobe: a helper program for job-control scenarios.

USAGE: jobprobe [STEP]...     (no steps: info report ready pause)
       jobprobe --source-id   (fingerprint of the source it was built from)

Steps run in order; every printed line starts with 'jobprobe:'.
  info            print pid ppid pgid sid tpgid (terminal's foreground group) and the
                  ignored and blocked signals, e.g. 'jobprobe: pid=12 ... ignored=INT,QUIT blocked='
  report          from now on report SIGINT, SIGTSTP and SIGCONT as received
                  ('jobprobe: got SIGTSTP'); their default effect still happens
  ready           print 'jobprobe: ready' (wait on this instead of sleeping)
  ignore SIG      ignore signal SIG (INT, TSTP, HUP, ... or a number)
  stop            stop itself with SIGSTOP (prints 'jobprobe: stopping' first)
  tstp            send itself SIGTSTP (stops unless ignored or in an orphaned group)
  read            read one line from the terminal, print 'jobprobe: read=<line>'
  write TEXT      write 'jobprobe: TEXT' to the terminal
  take-tty        put itself in a new process group and make it the terminal's foreground
  give-tty PGID   make PGID the terminal's foreground group ('parent': the parent's group)
  sleep SECS      sleep (fractions allowed)
  pause           wait for signals forever
  exit N          exit with status N
";

/// A fingerprint of the probe's source (this file), printed by `jobprobe --source-id`: a test
/// that links this library and finds a `jobprobe` binary can tell whether the binary was built
/// from the same source.
pub const SOURCE_ID: u64 = fnv1a(include_bytes!("probe.rs"));

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "jobprobe: {text}");
    let _ = out.flush();
}

extern "C" fn on_signal(sig: libc::c_int) {
    let msg: &[u8] = match sig {
        libc::SIGINT => b"jobprobe: got SIGINT\n",
        libc::SIGTSTP => b"jobprobe: got SIGTSTP\n",
        libc::SIGCONT => b"jobprobe: got SIGCONT\n",
        _ => b"jobprobe: got a signal\n",
    };
    // SAFETY: write(2), signal(2), raise(3) and sigaction are async-signal-safe.
    unsafe {
        libc::write(1, msg.as_ptr().cast(), msg.len());
        if sig == libc::SIGINT || sig == libc::SIGTSTP {
            // Take the default effect now, then (if continued) report again next time.
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
            install(sig);
        }
    }
}

fn install(sig: libc::c_int) {
    // SAFETY: installing a handler that only uses async-signal-safe calls.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// Signal number from a name (`INT`, `SIGINT`) or number.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let s = s.trim_start_matches("SIG").to_ascii_uppercase();
    NAMES.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
}

/// Names of the signals set in a `/proc/PID/status` hex mask.
pub fn mask_names(hex: &str) -> String {
    let mask = u64::from_str_radix(hex.trim(), 16).unwrap_or(0);
    let mut v = Vec::new();
    for sig in 1..64 {
        if mask & (1u64 << (sig - 1)) != 0 {
            match NAMES.iter().find(|(_, n)| *n == sig) {
                Some((name, _)) => v.push(name.to_string()),
                None => v.push(sig.to_string()),
            }
        }
    }
    v.join(",")
}

fn info() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| mask_names(v.trim()))
            .unwrap_or_default()
    };
    // SAFETY: plain getters.
    let (pid, ppid, pgid, sid, tpgid) = unsafe {
        (
            libc::getpid(),
            libc::getppid(),
            libc::getpgrp(),
            libc::getsid(0),
            libc::tcgetpgrp(0),
        )
    };
    format!(
        "pid={pid} ppid={ppid} pgid={pgid} sid={sid} tpgid={tpgid} ignored={} blocked={}",
        field("SigIgn:"),
        field("SigBlk:")
    )
}

fn set_fg(pgid: i32) -> Result<(), String> {
    // SAFETY: tcsetpgrp with SIGTTOU ignored around it, as a shell does.
    unsafe {
        let old = libc::signal(libc::SIGTTOU, libc::SIG_IGN);
        let rc = libc::tcsetpgrp(0, pgid);
        let err = std::io::Error::last_os_error();
        libc::signal(libc::SIGTTOU, old);
        if rc < 0 {
            Err(format!("tcsetpgrp: {err}"))
        } else {
            Ok(())
        }
    }
}

/// Run the probe with `args` (without the program name); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let mut args: Vec<String> = args;
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return 0;
    }
    if args.first().is_some_and(|a| a == "--source-id") {
        println!("{SOURCE_ID:016x}");
        return 0;
    }
    if args.is_empty() {
        args = ["info", "report", "ready", "pause"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    let mut it = args.into_iter();
    while let Some(step) = it.next() {
        let mut arg = |what: &str| {
            it.next()
                .ok_or_else(|| format!("step '{step}' needs {what}"))
        };
        let r: Result<(), String> = (|| {
            match step.as_str() {
                "info" => say(&info()),
                "ready" => say("ready"),
                "report" => {
                    for s in [libc::SIGINT, libc::SIGTSTP, libc::SIGCONT] {
                        install(s);
                    }
                }
                "ignore" => {
                    let name = arg("a signal")?;
                    let sig = parse_signal(&name).ok_or(format!("unknown signal {name}"))?;
                    // SAFETY: setting a disposition.
                    unsafe { libc::signal(sig, libc::SIG_IGN) };
                }
                "stop" => {
                    say("stopping");
                    // SAFETY: plain raise.
                    unsafe { libc::raise(libc::SIGSTOP) };
                }
                "tstp" => {
                    // SAFETY: plain raise.
                    unsafe { libc::raise(libc::SIGTSTP) };
                }
                "read" => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| format!("read: {e}"))?;
                    say(&format!("read={}", line.trim_end_matches('\n')));
                }
                "write" => {
                    let text = arg("text")?;
                    say(&text);
                }
                "take-tty" => {
                    // SAFETY: setpgid on ourselves.
                    unsafe { libc::setpgid(0, 0) };
                    // SAFETY: plain getter.
                    set_fg(unsafe { libc::getpgrp() })?;
                }
                "give-tty" => {
                    let g = arg("a pgid")?;
                    let pgid = if g == "parent" {
                        // SAFETY: plain getters.
                        unsafe { libc::getpgid(libc::getppid()) }
                    } else {
                        g.parse().map_err(|_| format!("bad pgid {g}"))?
                    };
                    set_fg(pgid)?;
                }
                "sleep" => {
                    let s = arg("seconds")?;
                    let secs: f64 = s.parse().map_err(|_| format!("bad seconds {s}"))?;
                    std::thread::sleep(Duration::from_secs_f64(secs));
                }
                "pause" => loop {
                    // SAFETY: pause(2) waits for a signal.
                    unsafe { libc::pause() };
                },
                "exit" => {
                    let n = arg("a status")?;
                    let code: i32 = n.parse().map_err(|_| format!("bad status {n}"))?;
                    let _ = std::io::stdout().flush();
                    std::process::exit(code);
                }
                other => return Err(format!("unknown step '{other}' (see --help)")),
            }
            Ok(())
        })();
        if let Err(e) = r {
            eprintln!("jobprobe: error: {e}");
            return 2;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        assert_eq!(parse_signal("INT"), Some(libc::SIGINT));
        assert_eq!(parse_signal("SIGTSTP"), Some(libc::SIGTSTP));
        assert_eq!(parse_signal("9"), Some(9));
        assert_eq!(mask_names("0000000000000006"), "INT,QUIT");
    }
}

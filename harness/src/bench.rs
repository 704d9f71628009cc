//! The harness's overhead: time from writing ^C to seeing the next prompt, through jobcheck and
//! through a minimal single-threaded raw poll loop on the same shell, same environment.
//!
//! Invariant: both sides wait for the same condition before writing ^C (the foreground job has
//! exec'd `sleep`), so only the path from the master to "prompt seen" differs.

use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::procfs;
use crate::pty::{self, Pty};
use crate::session::{Key, Session};
use crate::shells::Adapter;
use crate::wait::{Deadline, poll_until};

/// Medians (and all samples) of one measurement.
#[derive(Debug)]
pub struct Samples {
    pub what: String,
    pub samples: Vec<Duration>,
}

impl Samples {
    /// Median sample.
    pub fn median(&self) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        s.get(s.len() / 2).copied().unwrap_or_default()
    }
}

/// ^C → prompt through a [`Session`]: when the reader read the prompt, and when `wait_prompt`
/// returned (which also waits for the shell to block reading input).
pub fn jobcheck(adapter: &Adapter, runs: usize) -> Result<(Samples, Samples), String> {
    let mut s = Session::spawn(adapter).map_err(|e| e.to_string())?;
    s.wait_prompt().map_err(|e| e.to_string())?;
    let (mut read, mut returned) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        s.type_line("sleep 30").map_err(|e| e.to_string())?;
        s.wait_foreground_job(&["sleep"])
            .map_err(|e| e.to_string())?;
        let t0 = s.elapsed();
        s.key(Key::CtrlC).map_err(|e| e.to_string())?;
        s.wait_prompt().map_err(|e| e.to_string())?;
        returned.push(s.elapsed() - t0);
        let seen = s.output_time(s.prompt_end() - 1).ok_or("no prompt time")?;
        read.push(seen - t0);
    }
    Ok((
        Samples {
            what: "jobcheck: prompt read by the reader thread".into(),
            samples: read,
        },
        Samples {
            what: "jobcheck: wait_prompt returned (prompt + shell in read)".into(),
            samples: returned,
        },
    ))
}

/// ^C → prompt with a bare loop: one thread, `poll` + `read` on the master, a byte search.
pub fn raw(adapter: &Adapter, runs: usize) -> Result<Samples, String> {
    let prog = adapter.find_program().ok_or("shell not installed")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut p = Pty::open(24, 80).map_err(|e| e.to_string())?;
    let slave = p.take_slave().ok_or("slave")?;
    let mut cmd = Command::new(prog);
    cmd.args(&adapter.args).env_clear();
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("TERM", &adapter.term)
        .env("LANG", "C.UTF-8")
        .env(procfs::SESSION_VAR, crate::teardown::new_tag());
    for (k, v) in &adapter.env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::from(slave.try_clone().map_err(|e| e.to_string())?))
        .stdout(Stdio::from(slave.try_clone().map_err(|e| e.to_string())?))
        .stderr(Stdio::from(slave));
    // SAFETY: async-signal-safe calls only.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    drop(cmd);
    let master = p.into_master();
    let shell = child.id() as i32;
    let re = adapter.prompt_regex();
    let mut out: Vec<u8> = Vec::new();
    let mut last = 0u64;
    let mut buf = [0u8; 4096];
    // Read until a prompt numbered above `last`; returns its number.
    let mut scan = 0usize;
    let mut next_prompt = |out: &mut Vec<u8>, last: u64| -> Result<u64, String> {
        let deadline = Deadline::after(Duration::from_secs(10));
        loop {
            let found = re.captures_iter(&out[scan..]).find_map(|c| {
                let n: u64 = std::str::from_utf8(&c["n"]).ok()?.parse().ok()?;
                (n > last).then(|| (n, c.get(0).map_or(0, |m| m.end())))
            });
            if let Some((n, end)) = found {
                scan += end;
                return Ok(n);
            }
            if deadline.passed() {
                return Err("raw loop: no prompt".into());
            }
            let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(100u16)).map_err(|e| e.to_string())?;
            match nix::unistd::read(master.as_fd(), &mut buf) {
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(nix::errno::Errno::EAGAIN) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    let mut samples = Vec::new();
    last = next_prompt(&mut out, last)?;
    for _ in 0..runs {
        pty::write_all(master.as_fd(), b"sleep 30\r").map_err(|e| e.to_string())?;
        poll_until(Deadline::after(Duration::from_secs(10)), || {
            let g = pty::foreground_pgrp(master.as_fd())?;
            (g != shell && procfs::procs_in_pgid(g).iter().any(|p| p.comm == "sleep")).then_some(())
        })
        .ok_or("raw loop: sleep never in the foreground")?;
        // Drain what is there (the echo), then time ^C → prompt.
        let t0 = Instant::now();
        pty::write_all(master.as_fd(), &[Key::CtrlC.byte()]).map_err(|e| e.to_string())?;
        last = next_prompt(&mut out, last)?;
        samples.push(t0.elapsed());
        poll_until(Deadline::after(Duration::from_secs(10)), || {
            procfs::blocked_waiting_for_input(shell)
                .unwrap_or(true)
                .then_some(())
        });
    }
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(shell),
        nix::sys::signal::Signal::SIGKILL,
    );
    drop(master);
    let _ = child.kill();
    let _ = child.wait();
    Ok(Samples {
        what: "raw poll loop: prompt seen".into(),
        samples,
    })
}

/// Interactive latencies of one shell, each from the moment the harness acts to the moment the
/// next prompt's bytes arrive (read by the reader thread): start → first prompt, a `/bin/true`
/// round trip, ^C → prompt and ^Z → prompt of a foreground `sleep`, and, with `store`, ^C of an
/// endless store (`gen 0 >$ x`) → prompt, which for marsh includes the rollback.
pub fn interactive(adapter: &Adapter, runs: usize, store: bool) -> Result<Vec<Samples>, String> {
    let err = |e: crate::session::Failure| e.to_string();
    let mut start = Vec::new();
    for _ in 0..runs.clamp(1, 20) {
        let mut s = Session::spawn(adapter).map_err(err)?;
        s.wait_prompt().map_err(err)?;
        start.push(s.output_time(s.prompt_end() - 1).ok_or("no prompt time")?);
    }
    let mut s = Session::spawn(adapter).map_err(err)?;
    s.wait_prompt().map_err(err)?;
    let (mut trip, mut intr, mut stop, mut rollback) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let seen = |s: &Session, t0: Duration| -> Result<Duration, String> {
        Ok(s.output_time(s.prompt_end() - 1).ok_or("no prompt time")? - t0)
    };
    for _ in 0..runs {
        let t0 = s.elapsed();
        s.type_line("/bin/true").map_err(err)?;
        s.wait_prompt().map_err(err)?;
        trip.push(seen(&s, t0)?);

        s.type_line("sleep 30").map_err(err)?;
        s.wait_foreground_job(&["sleep"]).map_err(err)?;
        let t0 = s.elapsed();
        s.key(Key::CtrlC).map_err(err)?;
        s.wait_prompt().map_err(err)?;
        intr.push(seen(&s, t0)?);

        s.type_line("sleep 30").map_err(err)?;
        let job = s.wait_foreground_job(&["sleep"]).map_err(err)?;
        let t0 = s.elapsed();
        s.key(Key::CtrlZ).map_err(err)?;
        s.wait_prompt().map_err(err)?;
        stop.push(seen(&s, t0)?);
        s.type_line("kill -KILL %1").map_err(err)?;
        s.wait_until("the stopped job to end", |s| {
            s.group(job).is_empty().then_some(())
        })
        .map_err(err)?;
        s.wait_prompt().map_err(err)?;

        if store {
            s.type_line("gen 0 >$ x").map_err(err)?;
            s.wait_foreground_job(&["marsh"]).map_err(err)?;
            let t0 = s.elapsed();
            s.key(Key::CtrlC).map_err(err)?;
            s.wait_prompt().map_err(err)?;
            rollback.push(seen(&s, t0)?);
        }
    }
    let mut out = vec![
        Samples {
            what: "start -> first prompt".into(),
            samples: start,
        },
        Samples {
            what: "/bin/true round trip".into(),
            samples: trip,
        },
        Samples {
            what: "^C -> prompt (sleep 30)".into(),
            samples: intr,
        },
        Samples {
            what: "^Z -> prompt (sleep 30)".into(),
            samples: stop,
        },
    ];
    if store {
        out.push(Samples {
            what: "^C of gen 0 >$ x -> prompt, rollback done".into(),
            samples: rollback,
        });
    }
    Ok(out)
}

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
    /// Stable identifier for machine output (e.g. `ctrl_c`).
    pub key: String,
    /// What was timed, for people.
    pub what: String,
    /// Every sample, in the order taken.
    pub samples: Vec<Duration>,
}

impl Samples {
    fn new(key: &str, what: impl Into<String>, samples: Vec<Duration>) -> Samples {
        Samples {
            key: key.into(),
            what: what.into(),
            samples,
        }
    }

    /// Machine form: key, description, median/min/max and every sample, in milliseconds.
    pub fn to_json(&self) -> serde_json::Value {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut v = self.samples.clone();
        v.sort();
        serde_json::json!({
            "key": self.key,
            "what": self.what,
            "median_ms": ms(self.median()),
            "min_ms": v.first().copied().map_or(0.0, ms),
            "max_ms": v.last().copied().map_or(0.0, ms),
            "samples_ms": self.samples.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
        })
    }

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
        Samples::new(
            "jobcheck_read",
            "jobcheck: prompt read by the reader thread",
            read,
        ),
        Samples::new(
            "jobcheck_returned",
            "jobcheck: wait_prompt returned (prompt + shell in read)",
            returned,
        ),
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
    // SAFETY: pty::child_setup makes async-signal-safe calls only.
    unsafe {
        cmd.pre_exec(pty::child_setup);
    }
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    drop(cmd);
    let master = p.into_master();
    let shell = crate::Pid::new(child.id() as i32).ok_or("no child pid")?;
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
            // Read only what poll says is there: a blocking read would outlive the deadline.
            if poll(&mut fds, PollTimeout::from(100u16)).map_err(|e| e.to_string())? == 0 {
                continue;
            }
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
            (g != shell.led_group() && procfs::procs_in_pgid(g).iter().any(|p| p.comm == "sleep"))
                .then_some(())
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
    let _ = nix::sys::signal::killpg(shell.led_group().into(), nix::sys::signal::Signal::SIGKILL);
    drop(master);
    let _ = child.kill();
    let _ = child.wait();
    Ok(Samples::new("raw", "raw poll loop: prompt seen", samples))
}

/// Interactive latencies of one shell, each from the moment the harness acts to the moment the
/// awaited bytes arrive (read by the reader thread): start → first prompt, a `/bin/true` round
/// trip, ^C → prompt and ^Z → prompt of a foreground `sleep`, `fg` of a stopped job → its first
/// output (`jobprobe` reports SIGCONT), and, with `store`, ^C of a 10M-item store
/// (`gen 10000000 >$ x`) once it owns the terminal → prompt with the rollback done (no
/// `*.tmp` file left in the session's reservoir directory), which is marsh only.
///
/// A step that fails ends the cycles: the measurements made so far are returned with the
/// failure (e.g. a shell without job control has start and round-trip figures only).
pub fn interactive(
    adapter: &Adapter,
    runs: usize,
    store: bool,
) -> Result<(Vec<Samples>, Option<String>), String> {
    let err = |e: crate::session::Failure| e.to_string();
    let mut start = Vec::new();
    for _ in 0..runs.clamp(1, 20) {
        let mut s = Session::spawn(adapter).map_err(err)?;
        s.wait_prompt().map_err(err)?;
        start.push(s.output_time(s.prompt_end() - 1).ok_or("no prompt time")?);
    }
    let mut s = Session::spawn(adapter).map_err(err)?;
    s.wait_prompt().map_err(err)?;
    let (mut trip, mut intr, mut stop, mut resume, mut rollback) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut late = 0;
    let seen = |s: &Session, t0: Duration| -> Result<Duration, String> {
        Ok(s.output_time(s.prompt_end() - 1).ok_or("no prompt time")? - t0)
    };
    let mut failure = None;
    for _ in 0..runs {
        let mut cycle = || -> Result<(), String> {
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
            // Killed by the harness, not by `kill %1` (fish has no job specs in `kill`).
            s.signal_pgid(job, nix::sys::signal::Signal::SIGKILL)
                .map_err(err)?;
            s.wait_until("the stopped job to end", |s| {
                s.group(job).is_empty().then_some(())
            })
            .map_err(err)?;

            // fg → output resumes: the probe says "got SIGCONT" as soon as it runs again.
            s.type_line("jobprobe report ready pause").map_err(err)?;
            let job = s.wait_foreground_job(&["jobprobe"]).map_err(err)?;
            s.wait_output("jobprobe: ready").map_err(err)?;
            s.key(Key::CtrlZ).map_err(err)?;
            s.wait_group_state(job, 1, crate::GroupState::Stopped)
                .map_err(err)?;
            s.wait_prompt().map_err(err)?;
            let t0 = s.elapsed();
            s.type_line("fg").map_err(err)?;
            s.wait_output("jobprobe: got SIGCONT").map_err(err)?;
            let mark = s.mark();
            resume.push(s.output_time(mark - 1).ok_or("no output time")? - t0);
            s.wait_foreground_job(&["jobprobe"]).map_err(err)?;
            s.key(Key::CtrlC).map_err(err)?;
            s.wait_prompt().map_err(err)?;

            if store {
                s.type_line("gen 10000000 >$ x").map_err(err)?;
                s.wait_foreground_job(&["marsh"]).map_err(err)?;
                let t0 = s.elapsed();
                s.key(Key::CtrlC).map_err(err)?;
                s.wait_prompt().map_err(err)?;
                let prompt = seen(&s, t0)?;
                let names = |s: &Session| -> Vec<String> {
                    s.reservoir_files()
                        .iter()
                        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
                        .collect()
                };
                let clean = s
                    .wait_until("no temporary reservoir file", |s| {
                        (!names(s).iter().any(|f| f.ends_with(".tmp"))).then(|| s.elapsed())
                    })
                    .map_err(err)?;
                if names(&s)
                    .iter()
                    .any(|f| f.starts_with("x.") && f.ends_with(".rsv"))
                {
                    // The store finished before ^C: no rollback to time; drop the variable.
                    late += 1;
                    s.type_line("x = 0").map_err(err)?;
                    s.wait_prompt().map_err(err)?;
                    return Ok(());
                }
                rollback.push(prompt.max(clean - t0));
            }
            Ok(())
        };
        if let Err(e) = cycle() {
            failure = Some(e);
            break;
        }
    }
    let mut out = vec![
        Samples::new("start", "start -> first prompt", start),
        Samples::new("true", "/bin/true round trip", trip),
        Samples::new("ctrl_c", "^C -> prompt (sleep 30)", intr),
        Samples::new("ctrl_z", "^Z -> prompt (sleep 30)", stop),
        Samples::new("fg", "fg -> output resumes (stopped jobprobe)", resume),
    ];
    if store {
        let mut what = String::from("^C of gen 10000000 >$ x -> prompt, rollback done");
        if late > 0 {
            what += &format!(" ({late} of {runs} ^C came after the store had finished)");
        }
        out.push(Samples::new("store_rollback", what, rollback));
    }
    out.retain(|x| !x.samples.is_empty());
    Ok((out, failure))
}

/// SIGTERMs every job `sleeps` finds (by process group, from the harness), waits until all
/// have ended, then times Enter -> the prompt after a `Terminated` notice for each. Returns
/// the time and the Enters pressed.
fn kill_all_and_time_notices(
    s: &mut Session,
    sleeps: &dyn Fn(&Session) -> Vec<crate::procfs::Proc>,
) -> Result<(Duration, usize), String> {
    let err = |e: crate::session::Failure| e.to_string();
    let left: std::collections::BTreeSet<crate::Pgid> =
        sleeps(s).iter().filter_map(|p| p.pgid).collect();
    let from = s.prompt_end();
    for g in &left {
        let _ = nix::sys::signal::killpg((*g).into(), nix::sys::signal::Signal::SIGTERM);
    }
    s.wait_until("every job to end", |s| sleeps(s).is_empty().then_some(()))
        .map_err(err)?;
    let t0 = s.elapsed();
    let mut presses = 0;
    loop {
        s.type_line("").map_err(err)?;
        s.wait_prompt().map_err(err)?;
        presses += 1;
        let out = s.output();
        let text = crate::session::strip_ansi(&out[from..s.prompt_end()]);
        let notices = text.lines().filter(|l| l.contains("Terminated")).count();
        if notices >= left.len() {
            break;
        }
        if presses > 1000 {
            return Err(format!("{notices} of {} notices", left.len()));
        }
    }
    let t = s.output_time(s.prompt_end() - 1).ok_or("no prompt time")? - t0;
    Ok((t, presses))
}

/// Many background jobs in one session: start `n` `sleep 1000 &` jobs (one line each), then time
/// `jobs` → next prompt (`runs` times), `fg %k` → the job owns the terminal and ^C → prompt
/// (k = n/2 and the next `runs - 1`), and the notices (`runs` times): the table topped up to
/// `n` jobs, every job is sent SIGTERM (by process group, from the harness), and once all have
/// ended, Enter → the prompt that follows a "Terminated" notice for each. The session's
/// teardown kills whatever is left.
pub fn many_jobs(adapter: &Adapter, n: usize, runs: usize) -> Result<Vec<Samples>, String> {
    let err = |e: crate::session::Failure| e.to_string();
    let opts = crate::session::Options {
        timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let mut s = Session::spawn_with(adapter, opts).map_err(err)?;
    s.wait_prompt().map_err(err)?;
    let shell = s.shell_pid();
    let seen = |s: &Session, t0: Duration| -> Result<Duration, String> {
        Ok(s.output_time(s.prompt_end() - 1).ok_or("no prompt time")? - t0)
    };
    let mut start = Vec::new();
    for _ in 0..n {
        let t0 = s.elapsed();
        s.type_line("sleep 1000 &").map_err(err)?;
        s.wait_prompt().map_err(err)?;
        start.push(seen(&s, t0)?);
    }
    let sleeps = |_: &Session| -> Vec<crate::procfs::Proc> {
        procfs::procs_in_sid(shell)
            .into_iter()
            .filter(|p| p.comm == "sleep" && !p.is_dead() && p.pgid != Some(shell.led_group()))
            .collect()
    };
    s.wait_until(&format!("{n} sleeps running"), |s| {
        (sleeps(s).len() == n).then_some(())
    })
    .map_err(err)?;

    let mut jobs = Vec::new();
    for _ in 0..runs {
        let t0 = s.elapsed();
        let text = s.run("jobs").map_err(err)?;
        jobs.push(seen(&s, t0)?);
        let listed = text.lines().filter(|l| l.contains("sleep 1000")).count();
        if listed != n {
            return Err(format!("jobs listed {listed} of {n} jobs"));
        }
    }

    let (mut fg, mut intr) = (Vec::new(), Vec::new());
    let first = n / 2;
    for k in first..first + runs.min(n - first) {
        let t0 = s.elapsed();
        s.type_line(&format!("fg %{k}")).map_err(err)?;
        // Spin on tcgetpgrp (one ioctl) rather than poll every 0.5 ms: the figure is sub-ms.
        let deadline = crate::wait::Deadline::after(Duration::from_secs(10));
        while s.foreground().is_none_or(|g| g == shell.led_group()) {
            if deadline.passed() {
                return Err(s.failure("the job never owned the terminal").to_string());
            }
            std::thread::yield_now();
        }
        fg.push(s.elapsed() - t0);
        s.wait_busy().map_err(err)?;
        let t0 = s.elapsed();
        s.key(Key::CtrlC).map_err(err)?;
        s.wait_prompt().map_err(err)?;
        intr.push(seen(&s, t0)?);
    }

    // The notices, `runs` times: top the table up to `n` jobs, SIGTERM them all, wait until
    // every sleep has ended (so the figure does not depend on how the deaths race the keys),
    // then time Enter -> the prompt that follows a `Terminated` notice for each job (a shell
    // that showed some on its own, between prompts, has fewer to print; more Enters are
    // pressed until all are seen).
    let mut notices = Vec::new();
    let mut presses = 0;
    for _ in 0..runs {
        for _ in sleeps(&s).len()..n {
            s.type_line("sleep 1000 &").map_err(err)?;
            s.wait_prompt().map_err(err)?;
        }
        s.wait_until(&format!("{n} sleeps running"), |s| {
            (sleeps(s).len() == n).then_some(())
        })
        .map_err(err)?;
        let (sample, pressed) = kill_all_and_time_notices(&mut s, &sleeps)?;
        notices.push(sample);
        presses = presses.max(pressed);
    }
    Ok(vec![
        Samples::new(
            "start_bg",
            format!("{n} jobs: `sleep 1000 &` -> prompt (each)"),
            start,
        ),
        Samples::new("jobs", format!("{n} jobs: `jobs` -> prompt"), jobs),
        Samples::new(
            "fg",
            format!("{n} jobs: `fg %{first}` -> job owns the terminal"),
            fg,
        ),
        Samples::new(
            "fg_ctrl_c",
            format!("{n} jobs: ^C of that job -> prompt"),
            intr,
        ),
        Samples::new(
            "notices",
            format!(
                "{n} jobs killed, then Enter -> prompt after all notices (at most {presses} Enter)"
            ),
            notices,
        ),
    ])
}

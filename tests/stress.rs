//! Stress: many ^C at random instants into stores and appends; random ^Z / kill / fg / bg
//! sequences on a store; random lines typed into an interactive marsh in a sandbox. After each
//! step `x` is old-or-new and intact, the session directory holds exactly `env`'s reservoir
//! files (no temporary file), and no process is left but the shell.
//!
//! Counts (defaults small, for `cargo test`): `JOBCHECK_STRESS_CTRLC` (40; soak 1000),
//! `JOBCHECK_STRESS_SEQUENCES` (10; soak 200), `JOBCHECK_STRESS_LINES` (200; soak 10000),
//! `JOBCHECK_STRESS_SEED` (default from the clock; printed).

mod common;

use std::time::{Duration, Instant};

use jobcheck::{JobState, Key, Session};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn seed() -> u64 {
    env_u64("JOBCHECK_STRESS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    })
}

fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

fn marsh(name: &str, env: Vec<(String, String)>) -> Session {
    common::start_with("marsh", name, env)
}

/// Swallow prompts drawn after the one waited for (a ^C that reached the shell at its prompt
/// draws another): `Session::run` must not meet a prompt older than its typed line.
fn drain_prompts(s: &mut Session) {
    while s.wait_prompt_for(Duration::from_millis(40)).is_ok() {}
}

/// `env`, in step with the prompts (a ^C that met a prompt may have drawn an extra one):
/// x's count, the STATUS it showed (if this listing is the first after the command), the text.
fn env_sync(s: &mut Session) -> (Option<u64>, Option<i32>, String) {
    let mut first = true;
    let status_re = regex::Regex::new(r"(?m)^STATUS = (-?\d+)").unwrap();
    let count_re = regex::Regex::new(r"(?m)^x = reservoir (\d+) items").unwrap();
    for _ in 0..5 {
        let out = s.run("env").expect("env");
        let status = status_re.captures(&out).map(|c| c[1].parse().unwrap());
        if status.is_some() {
            let count = count_re.captures(&out).map(|c| c[1].parse().unwrap());
            return (count, if first { status } else { None }, out);
        }
        first = false;
    }
    panic!("env never answered\n{}", s.report());
}

/// The session directory holds exactly the reservoir files `env` lists: no temporary file.
fn check_dir(s: &Session, env: &str) -> Result<(), String> {
    s.reservoir_mismatch(env).map_or(Ok(()), Err)
}

fn check_all(
    s: &mut Session,
    old: Option<u64>,
    new: u64,
    status: Option<i32>,
    env: &str,
    count: Option<u64>,
) {
    assert!(
        count == old || count == Some(new),
        "x has {count:?} items: neither the old {old:?} nor the new {new}\n{env}\n{}",
        s.report()
    );
    if status == Some(0) {
        assert_eq!(
            count,
            Some(new),
            "STATUS 0 yet x is not the new value\n{env}"
        );
    }
    if let Some(c) = count {
        let out = s.run("x <$ red count").unwrap();
        assert!(
            out.lines().any(|l| l.trim() == c.to_string()),
            "x <$ red count printed {out:?}, env says {c}"
        );
    }
    if let Err(e) = check_dir(s, env) {
        panic!("{e}\n{}", s.report());
    }
    s.check_clean_within(Duration::from_secs(5), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    s.check_terminal_owned_by_shell().unwrap();
}

/// Set `x` up: fresh (unset) or existing (5 items unless it has some). Returns its count.
fn set_up(s: &mut Session, fresh: bool, cur: Option<u64>) -> Option<u64> {
    if fresh {
        s.run("env -d x").unwrap();
        None
    } else if cur.is_none() {
        s.run("gen 5 >$ x").unwrap();
        Some(5)
    } else {
        cur
    }
}

#[test]
fn ctrl_c_at_random_instants_into_stores() {
    let n = env_u64("JOBCHECK_STRESS_CTRLC").unwrap_or(40);
    let seed = seed();
    println!("{n} ^C into stores, JOBCHECK_STRESS_SEED={seed}");
    let mut r = rng(seed);
    let mut s = marsh("stress-ctrl-c", vec![]);
    let started = Instant::now();
    let (mut cur, mut interrupted, mut completed) = (None, 0, 0);
    let ticker = jobcheck::progress::Ticker::new("stress: ^C into stores", n);
    for i in 0..n {
        ticker.tick();
        let append = i % 2 == 1;
        let fresh = (i / 2) % 2 == 0;
        let old = set_up(&mut s, fresh, cur);
        let items: u64 = r.random_range(20_000..2_000_000);
        let new = if append {
            old.unwrap_or(0) + items
        } else {
            items
        };
        let op = if append { ">>$" } else { ">$" };
        s.type_line(&format!("gen {items} {op} x")).unwrap();
        std::thread::sleep(Duration::from_micros(r.random_range(0..150_000)));
        let pressed = s.foreground() != Some(s.shell_pgid());
        if pressed {
            s.key(Key::CtrlC).unwrap();
        }
        s.wait_prompt().unwrap();
        if pressed {
            drain_prompts(&mut s);
        }
        let (count, status, env) = env_sync(&mut s);
        check_all(&mut s, old, new, status, &env, count);
        if count == Some(new) && count != old {
            completed += 1;
        } else {
            interrupted += 1;
        }
        cur = count;
    }
    assert!(s.jobs().unwrap().is_empty());
    s.type_line("exit").unwrap();
    s.wait_exit().unwrap();
    s.check_clean(&[]).unwrap();
    println!(
        "{n} ^C: {interrupted} left the old value, {completed} the new one, in {:?}",
        started.elapsed()
    );
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Where {
    Fg,
    Stopped,
    Bg,
    Over,
}

/// Until the foreground is a job (Some(pgid)) or the next prompt shows (None).
fn fg_or_prompt(s: &mut Session) -> Option<jobcheck::Pgid> {
    let shell = s.shell_pgid();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(g) = s.foreground().filter(|&g| g != shell) {
            return Some(g);
        }
        if s.wait_prompt_for(Duration::from_millis(2)).is_ok() {
            return None;
        }
    }
    panic!("neither a foreground job nor a prompt\n{}", s.report());
}

#[test]
fn random_ctrl_z_kill_fg_sequences() {
    let n = env_u64("JOBCHECK_STRESS_SEQUENCES").unwrap_or(10);
    let seed = seed();
    println!("{n} ^Z/kill/fg/bg sequences, JOBCHECK_STRESS_SEED={seed}");
    let mut r = rng(seed);
    let mut s = marsh("stress-sequences", vec![]);
    let started = Instant::now();
    let mut cur = None;
    let mut steps = 0;
    let ticker = jobcheck::progress::Ticker::new("stress: ^Z/kill/fg/bg sequences", n);
    for i in 0..n {
        ticker.tick();
        let append = r.random_bool(0.5);
        let old = set_up(&mut s, i % 3 == 0, cur);
        // Slow but small: ~2 ms an item, so that ^Z, bg, fg and kill meet it running.
        let items: u64 = r.random_range(20..300);
        let new = if append {
            old.unwrap_or(0) + items
        } else {
            items
        };
        let op = if append { ">>$" } else { ">$" };
        let line = format!("timer 0.002 | head {items} {op} x");
        s.type_line(&line).unwrap();
        let mut at = if fg_or_prompt(&mut s).is_some() {
            Where::Fg
        } else {
            Where::Over
        };
        let mut log = vec![line];
        for _ in 0..r.random_range(1..7) {
            steps += 1;
            std::thread::sleep(Duration::from_millis(r.random_range(0..80)));
            match (at, r.random_range(0..4)) {
                (Where::Fg, 0 | 1) => {
                    s.key(Key::CtrlZ).unwrap();
                    s.wait_prompt().unwrap();
                    drain_prompts(&mut s);
                    let jobs = s.jobs().unwrap();
                    at = if jobs.iter().any(|j| j.state == JobState::Stopped) {
                        Where::Stopped
                    } else {
                        Where::Over
                    };
                    log.push(format!("^Z ({at:?})"));
                }
                (Where::Fg, _) => {
                    log.push("^C".into());
                    s.key(Key::CtrlC).unwrap();
                    s.wait_prompt().unwrap();
                    drain_prompts(&mut s);
                    at = Where::Over;
                }
                (Where::Stopped, 0) => {
                    log.push("bg".into());
                    s.run("bg").unwrap();
                    at = Where::Bg;
                }
                (Where::Bg, 0) => {
                    log.push("jobs".into());
                    if s.jobs().unwrap().is_empty() {
                        at = Where::Over;
                    }
                }
                (Where::Stopped | Where::Bg, 1) => {
                    log.push("kill %1".into());
                    s.run("kill %1").unwrap();
                    at = Where::Over;
                }
                (Where::Stopped | Where::Bg, _) => {
                    log.push("fg".into());
                    s.type_line("fg").unwrap();
                    at = if fg_or_prompt(&mut s).is_some() {
                        Where::Fg
                    } else {
                        drain_prompts(&mut s);
                        Where::Over
                    };
                }
                (Where::Over, _) => {}
            }
        }
        // Let it end: run to completion in the foreground or the background, or be killed.
        match at {
            Where::Fg => {
                s.wait_prompt().unwrap();
            }
            Where::Bg => {
                s.run("wait %1").unwrap();
            }
            Where::Stopped => {
                s.run("kill %1").unwrap();
            }
            Where::Over => {}
        }
        let shell = s.shell_pid();
        s.wait_until("the job's processes to be gone", |s| {
            s.processes().iter().all(|p| p.pid == shell).then_some(())
        })
        .unwrap();
        s.jobs().unwrap();
        let (count, _, env) = env_sync(&mut s);
        println!("  {log:?}: x {old:?} -> {count:?}");
        check_all(&mut s, old, new, None, &env, count);
        assert!(s.jobs().unwrap().is_empty(), "jobs left after {log:?}");
        cur = count;
    }
    s.type_line("exit").unwrap();
    s.wait_exit().unwrap();
    s.check_clean(&[]).unwrap();
    println!("{n} sequences ({steps} steps) in {:?}", started.elapsed());
}

// ---- random lines in a sandbox ------------------------------------------------------------

/// A PATH of harmless programs only.
fn sandbox_path() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for prog in ["true", "false", "echo", "cat", "sleep"] {
        let p = jobcheck::shells::find_in_path(prog).unwrap();
        std::os::unix::fs::symlink(p, dir.path().join(prog)).unwrap();
    }
    std::os::unix::fs::symlink(
        common::bin_dir().join("jobprobe"),
        dir.path().join("jobprobe"),
    )
    .unwrap();
    dir
}

fn random_line() -> impl Strategy<Value = String> {
    let word = prop::sample::select(
        &[
            "gen 3",
            "gen 50",
            "gen 2000",
            "timer 0.01",
            "ls",
            "ls -r",
            "echo hi",
            "cat",
            "true",
            "false",
            "sleep 0.05",
            "sleep 30",
            "jobprobe ready",
            "jobprobe exit 3",
            "x <$",
            "y <$",
            "< out.txt",
            "(1 + 2)",
            "('a', 1)",
        ][..],
    );
    let stage = prop::sample::select(
        &[
            "map (x: x * 2)",
            "map (x: x / 0)",
            "select (x: x > 1)",
            "head 2",
            "tail 1",
            "sort",
            "sort -r",
            "unique",
            "reverse",
            "red +",
            "red count",
            "red max",
            "cat",
            "expand",
            "window -o 2",
            "map (x: str(x) * 3)",
            "(x: (x, x))",
            "head 0",
            "map (x: x.size)",
            "select (x: len(x))",
            "red (a, b: a + b)",
            "map (x, y: x)",
        ][..],
    );
    let sink = prop::sample::select(
        &[
            "",
            "",
            "",
            ">$ x",
            ">>$ x",
            ">$ y",
            ">>$ y",
            "> out.txt",
            ">> out.txt",
        ][..],
    );
    let pipeline = (
        word,
        prop::collection::vec(stage, 0..4),
        sink,
        prop::bool::weighted(0.2),
    )
        .prop_map(|(w, st, sink, bg)| {
            let mut l = w.to_string();
            for s in st {
                l.push_str(" | ");
                l.push_str(s);
            }
            if !sink.is_empty() {
                l.push(' ');
                l.push_str(sink);
            }
            if bg && !l.starts_with("timer") {
                l.push_str(" &");
            }
            l
        });
    let builtin = (
        prop::sample::select(
            &[
                "jobs",
                "fg %",
                "bg %",
                "kill %",
                "wait %",
                "env",
                "env -d x",
                "env -d y",
                "pwd",
                "cd",
                "help",
                "help gen",
                "version",
                "z = (1 + 2)",
                "z = word",
                "x = (1)",
                "jobs -l",
                "fg",
                "bg",
                "wait",
            ][..],
        ),
        1u32..4,
    )
        .prop_map(|(b, n)| {
            if b.ends_with('%') {
                format!("{b}{n}")
            } else {
                b.to_string()
            }
        });
    // Token soup, without paths (`/`), home (`~`) or exit.
    let soup = prop::collection::vec(
        prop::sample::select(
            &[
                "gen", "map", "(x:", "x", ")", "|", "&", ">$", "<$", "'", "\"", "\\", "+", "1",
                "red", "[", "]", "(", ",", "=", "%1", "fg", "jobs", "é", "🦀", "#", "*", "?",
            ][..],
        ),
        1..8,
    )
    .prop_map(|v| v.join(" "));
    prop_oneof![5 => pipeline, 3 => builtin, 2 => soup]
}

/// Harmless by construction: no path, no `exit`, no `kill` but of job specs, no endless `gen`.
fn harmless(line: &str) -> bool {
    let endless_gen = regex::Regex::new(r"\bgen(\s*$|\s+[^1-9\s])").unwrap();
    let kill_not_job = regex::Regex::new(r"\bkill\s+[^%]").unwrap();
    let bad = line.contains('/')
        || line.contains('~')
        || line.contains("exit")
        || kill_not_job.is_match(line)
        || endless_gen.is_match(line)
        || (line.contains("timer") && line.contains('&'))
        // `wait` on `sleep 30 &` waits 30 s (the model test covers `wait`).
        || line.contains("wait");
    !bad
}

/// Kill every job, wait until only the shell is left, and check the reservoirs.
fn reset_jobs(s: &mut Session) {
    let shell = s.shell_pid();
    for _ in 0..5 {
        let jobs = s.jobs().unwrap();
        let live: Vec<u32> = jobs
            .iter()
            .filter(|j| matches!(j.state, JobState::Running | JobState::Stopped))
            .map(|j| j.number)
            .collect();
        if live.is_empty() && s.processes().iter().all(|p| p.pid == shell) {
            break;
        }
        for n in live {
            s.run(&format!("kill %{n}")).unwrap();
        }
        let _ = s.wait_until("killed jobs to be gone", |s| {
            s.processes().iter().all(|p| p.pid == shell).then_some(())
        });
    }
    s.jobs().unwrap();
    let (_, _, env) = env_sync(s);
    if let Err(e) = check_dir(s, &env) {
        panic!("{e}\n{}", s.report());
    }
    s.check_clean_within(Duration::from_secs(5), &[])
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn random_lines_in_a_sandbox() {
    let n = env_u64("JOBCHECK_STRESS_LINES").unwrap_or(200);
    let seed = seed();
    println!("{n} random lines, JOBCHECK_STRESS_SEED={seed}");
    let bin = sandbox_path();
    let mut s = marsh(
        "stress-lines",
        vec![("PATH".into(), bin.path().to_string_lossy().into_owned())],
    );
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(seed));
    let strategy = random_line();
    let started = Instant::now();
    let (mut typed, mut interrupted) = (0, 0);
    let ticker = jobcheck::progress::Ticker::new("stress: random lines", n);
    while typed < n {
        let line = strategy.new_tree(&mut runner).unwrap().current();
        if !harmless(&line) {
            continue;
        }
        typed += 1;
        ticker.tick();
        s.type_line(&line).unwrap();
        if s.wait_prompt_for(Duration::from_millis(500)).is_err() {
            // A long job in the foreground (or an unfinished line): ^C, then ^Z.
            interrupted += 1;
            s.key(Key::CtrlC).unwrap();
            if s.wait_prompt_for(Duration::from_secs(2)).is_err() {
                s.key(Key::CtrlZ).unwrap();
                s.wait_prompt_for(Duration::from_secs(2))
                    .unwrap_or_else(|e| panic!("no prompt after {line:?}, ^C and ^Z: {e}"));
            }
            drain_prompts(&mut s);
        }
        assert!(
            s.try_status().is_none(),
            "the shell exited after {line:?}\n{}",
            s.report()
        );
        s.check_terminal_owned_by_shell()
            .unwrap_or_else(|e| panic!("after {line:?}: {e}"));
        if typed % 25 == 0 {
            reset_jobs(&mut s);
        }
    }
    reset_jobs(&mut s);
    s.type_line("exit").unwrap();
    s.wait_exit().unwrap();
    s.check_clean(&[]).unwrap();
    println!(
        "{n} lines ({interrupted} interrupted) in {:?}: the shell stayed up and left nothing",
        started.elapsed()
    );
}

//! Model-based random testing of job control and reservoirs.
//!
//! A reference model of the shell's state — jobs (numbers, states, `+`/`-`), variables (their
//! committed item counts) and what the reservoir directory must hold — is checked after every
//! action of a random sequence (proptest), against marsh (the whole model) and against bash (the
//! POSIX part: host programs, ^C/^Z, `fg`/`bg`/`kill`/`wait`/`jobs`, which checks the model
//! itself). After every action: the shell answers, the terminal is the shell's at the prompt,
//! `jobs` equals the model, `env` and the reservoir directory agree, committed counts equal the
//! model's, no process lives outside the job table. At the end every job is killed, the shell
//! exits, and nothing survives.
//!
//! The model: jobs with their numbers (taken from the shell when it prints them: `[n] pid`, the
//! stop notice), states and `+`/`-` marks by bash's `set_current_job`/`reset_current` rules; a
//! background job that ends by itself is Running or Done until reported, a killed one Terminated
//! or already reported; each store's sequence number, so that the last *started* store wins and
//! appends all commit; the item count of `x` and `y`; one temporary file per live store job.
//! Actions come from a pool (foreground and background `sleep`, `jobprobe`, `sleep 30 | cat`,
//! `timer 0.01 | head N`, `gen N`, stores and appends with and without a host program, mixed
//! pipelines; ^C/^Z ending a foreground job; `fg`/`bg`/`kill` with `%N`, `%+`, `%%`, `%-` or no
//! spec; `wait`; `jobs`; `v <$ red count`; pauses).
//!
//! Environment: `JOBCHECK_MODEL_CASES` (cases per shell, default 8), `JOBCHECK_MODEL_SEED`
//! (a u64; default: from the clock, printed), `JOBCHECK_MODEL_SHELLS` (default `marsh bash`),
//! `JOBCHECK_MODEL_SHRINK` (shrink steps, default 300), `JOBCHECK_MODEL_VERBOSE` (print every
//! case), `JOBCHECK_MODEL_KNOWN_BUGS=1` (step around the marsh bugs found so far; all are fixed, so by default they fail).
//! A failure shrinks to a minimal sequence and is written, pauses included, as the scenario
//! `fixtures/regressions/model-<shell>-<seed>.jc` (seed in a comment), which `tests/scenarios.rs`
//! replays from then on (review it: a model error is deleted, a shell bug kept and annotated
//! `BUG`).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jobcheck::{GroupState, JobEntry, JobState, Key, Options, Pgid, Session};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

const VARS: [&str; 2] = ["x", "y"];

// ---------------------------------------------------------------------------------------------
// Actions

/// A command that ends by itself, quickly.
#[derive(Clone, Debug)]
enum Short {
    /// marsh `gen N`; bash `true`.
    Gen(u32),
    /// marsh `gen N >$ v` / `gen N >>$ v` / `gen N | cat >$ v`; bash `sleep 0.01`.
    Store {
        var: usize,
        n: u32,
        append: bool,
        host: bool,
    },
    /// marsh `gen 3 | cat | map (x: x)`; bash `echo hi | cat`.
    Mixed,
    /// marsh `timer 0.01 | head N`; bash `sleep 0.02`.
    TimerHead(u32),
}

/// A command that runs until a signal ends it.
#[derive(Clone, Debug)]
enum Long {
    Sleep,
    Probe,
    SleepCat,
    /// marsh only (bash: `sleep 30`): `timer 0.05 >$ v`, `timer 0.05 >>$ v`, `timer 0.05 | cat >$ v`.
    TimerStore {
        var: usize,
        append: bool,
        host: bool,
    },
    /// marsh only (bash: `sleep 30 | cat`): `timer 0.05 | cat | map (x: x) | select (x: false)`.
    MixedEndless,
}

#[derive(Clone, Copy, Debug)]
enum End {
    CtrlC,
    CtrlZ,
}

/// How a builtin names its job.
#[derive(Clone, Copy, Debug)]
enum Spec {
    /// `%N`, N the number of the i-th suitable job (modulo).
    Num(usize),
    /// No argument: the current job.
    Bare,
    /// `%+` or `%%`: the current job.
    Plus(bool),
    /// `%-`: the previous job.
    Minus,
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        6 => (0usize..4).prop_map(Spec::Num),
        2 => Just(Spec::Bare),
        1 => any::<bool>().prop_map(Spec::Plus),
        1 => Just(Spec::Minus),
    ]
}

#[derive(Clone, Debug)]
enum Action {
    FgShort(Short),
    FgLong(Long, u8, End),
    /// A short job in the background; the model waits until its processes are gone.
    BgShort(Short),
    /// `sleep 0.2 &`: Running or Done until reported.
    BgSleep,
    BgLong(Long),
    /// `fg` (job index; `None`: bare `fg`, the current job), pause, then a key.
    Fg(Spec, u8, End),
    Bg(Spec),
    Kill(Spec),
    Wait(Option<usize>),
    Jobs,
    Read(usize),
    Pause(u8),
}

fn short() -> impl Strategy<Value = Short> {
    prop_oneof![
        (1u32..4).prop_map(Short::Gen),
        (
            0usize..2,
            1u32..40,
            any::<bool>(),
            prop::bool::weighted(0.25)
        )
            .prop_map(|(var, n, append, host)| Short::Store {
                var,
                n,
                append,
                host
            }),
        Just(Short::Mixed),
        (1u32..4).prop_map(Short::TimerHead),
    ]
}

fn long() -> impl Strategy<Value = Long> {
    prop_oneof![
        1 => Just(Long::Sleep),
        1 => Just(Long::Probe),
        1 => Just(Long::SleepCat),
        2 => (0usize..2, any::<bool>(), prop::bool::weighted(0.3))
            .prop_map(|(var, append, host)| Long::TimerStore { var, append, host }),
        1 => Just(Long::MixedEndless),
    ]
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![Just(End::CtrlC), Just(End::CtrlZ)]
}

fn action() -> impl Strategy<Value = Action> {
    let idx = prop::option::weighted(0.7, 0usize..4);
    prop_oneof![
        3 => short().prop_map(Action::FgShort),
        3 => (long(), 0u8..60, end()).prop_map(|(l, p, e)| Action::FgLong(l, p, e)),
        2 => short().prop_map(Action::BgShort),
        1 => Just(Action::BgSleep),
        2 => long().prop_map(Action::BgLong),
        2 => (spec(), 0u8..40, end()).prop_map(|(i, p, e)| Action::Fg(i, p, e)),
        2 => spec().prop_map(Action::Bg),
        2 => spec().prop_map(Action::Kill),
        1 => idx.prop_map(Action::Wait),
        1 => Just(Action::Jobs),
        1 => (0usize..2).prop_map(Action::Read),
        1 => (0u8..80).prop_map(Action::Pause),
    ]
}

// ---------------------------------------------------------------------------------------------
// The model

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    Running,
    Stopped,
    /// May still run, or be done (not reported yet).
    MaybeDone,
    /// Its processes are gone; listed once (`Done`/`Terminated`) or already reported.
    Ended,
}

#[derive(Clone, Debug)]
struct MJob {
    number: u32,
    pgid: Pgid,
    st: St,
    /// Whether it runs until a signal ends it (fg/bg/kill targets).
    long: bool,
    /// The store it will commit if it completes: (var, append, seq).
    store: Option<(usize, bool, u64)>,
    /// Commands of its processes (for `wait fg` in scenarios).
    comms: Vec<&'static str>,
    /// The command line (for failure reports).
    #[allow(dead_code)]
    cmd: String,
}

#[derive(Default, Debug)]
struct Model {
    jobs: Vec<MJob>,
    current: Option<u32>,
    previous: Option<u32>,
    /// Committed item count per variable (`None`: unset).
    vars: [Option<u64>; 2],
    /// Per variable, seq of the store that bound it.
    committed_seq: [u64; 2],
    next_seq: u64,
    /// Marks are not checked (after a known marsh bug; until the table is empty).
    marks_unsure: bool,
}

impl Model {
    fn job(&self, n: u32) -> Option<&MJob> {
        self.jobs.iter().find(|j| j.number == n)
    }
    fn is_stopped(&self, n: u32) -> bool {
        self.job(n).is_some_and(|j| j.st == St::Stopped)
    }
    fn is_running(&self, n: u32) -> bool {
        self.job(n)
            .is_some_and(|j| matches!(j.st, St::Running | St::MaybeDone))
    }
    fn newest(&self, below: Option<u32>, pred: impl Fn(&MJob) -> bool) -> Option<u32> {
        self.jobs
            .iter()
            .filter(|j| below.is_none_or(|b| j.number < b) && pred(j))
            .map(|j| j.number)
            .max()
    }
    fn next_number(&self) -> u32 {
        self.jobs.iter().map(|j| j.number).max().unwrap_or(0) + 1
    }
    /// bash `set_current_job`.
    fn set_current(&mut self, n: u32) {
        if self.current != Some(n) {
            self.previous = self.current;
            self.current = Some(n);
        }
        if let Some(p) = self.previous
            && p != n
            && self.is_stopped(p)
        {
            return;
        }
        if self.is_stopped(n)
            && let Some(c) = self.newest(Some(n), |j| j.st == St::Stopped)
        {
            self.previous = Some(c);
            return;
        }
        let running = |j: &MJob| matches!(j.st, St::Running | St::MaybeDone);
        let cand = if self.is_running(n) {
            self.newest(Some(n), running)
        } else {
            self.newest(None, running)
        };
        self.previous = Some(cand.unwrap_or(n));
    }
    /// bash `reset_current`.
    fn reset_current(&mut self) {
        let cand = if let Some(c) = self.current.filter(|&c| self.is_stopped(c)) {
            Some(c)
        } else if let Some(p) = self.previous.filter(|&p| self.is_stopped(p)) {
            Some(p)
        } else {
            self.newest(None, |j| j.st == St::Stopped)
                .or_else(|| self.newest(None, |j| matches!(j.st, St::Running | St::MaybeDone)))
        };
        match cand {
            Some(c) => self.set_current(c),
            None => {
                self.current = None;
                self.previous = None;
            }
        }
    }
    fn remove(&mut self, n: u32) {
        self.jobs.retain(|j| j.number != n);
        if self.current == Some(n) || self.previous == Some(n) {
            if self.current == Some(n) {
                self.current = None;
            }
            if self.previous == Some(n) {
                self.previous = None;
            }
            self.reset_current();
        }
    }
    fn start_store(&mut self, var: usize, append: bool) -> (usize, bool, u64) {
        self.next_seq += 1;
        (var, append, self.next_seq)
    }
    /// The store of a job that ran to its end, committed as marsh's `Jobs::settle` does.
    fn commit(&mut self, store: (usize, bool, u64), n: u64) {
        let (v, append, seq) = store;
        if append {
            self.vars[v] = Some(self.vars[v].unwrap_or(0) + n);
        } else if self.committed_seq[v] <= seq {
            self.vars[v] = Some(n);
            self.committed_seq[v] = seq;
        }
    }
    /// Live (not ended) jobs, by number.
    fn live(&self) -> impl Iterator<Item = &MJob> {
        self.jobs.iter().filter(|j| j.st != St::Ended)
    }
}

// ---------------------------------------------------------------------------------------------
// Running a sequence

struct Run<'a> {
    s: Session,
    marsh: bool,
    m: Model,
    /// The scenario being written: (steps, ...).
    scn: &'a mut Vec<String>,
}

type R<T = ()> = Result<T, String>;

fn f(e: jobcheck::Failure) -> String {
    e.to_string()
}

impl Run<'_> {
    fn step(&mut self, line: impl Into<String>) {
        self.scn.push(line.into());
    }

    fn type_prompt(&mut self, line: &str) -> R<String> {
        self.step(format!("type {line}"));
        self.step("wait prompt");
        self.s.run(line).map_err(f)
    }

    fn short_line(&self, sh: &Short) -> (String, Option<(usize, bool, u32)>) {
        let v = |i: usize| VARS[i];
        if self.marsh {
            match sh {
                Short::Gen(n) => (format!("gen {n}"), None),
                Short::Store {
                    var,
                    n,
                    append,
                    host,
                } => {
                    let op = if *append { ">>$" } else { ">$" };
                    let pipe = if *host { " | cat" } else { "" };
                    (
                        format!("gen {n}{pipe} {op} {}", v(*var)),
                        Some((*var, *append, *n)),
                    )
                }
                Short::Mixed => ("gen 3 | cat | map (x: x)".into(), None),
                Short::TimerHead(n) => (format!("timer 0.01 | head {n}"), None),
            }
        } else {
            let l = match sh {
                Short::Gen(_) => "true",
                Short::Store { .. } => "sleep 0.01",
                Short::Mixed => "echo hi | cat",
                Short::TimerHead(_) => "sleep 0.02",
            };
            (l.into(), None)
        }
    }

    /// (line, comms, store)
    fn long_line(&self, l: &Long) -> (String, Vec<&'static str>, Option<(usize, bool)>) {
        match l {
            Long::Sleep => ("sleep 30".into(), vec!["sleep"], None),
            Long::Probe => ("jobprobe ready pause".into(), vec!["jobprobe"], None),
            Long::SleepCat => ("sleep 30 | cat".into(), vec!["sleep", "cat"], None),
            Long::TimerStore { var, append, host } if self.marsh => {
                let op = if *append { ">>$" } else { ">$" };
                let (pipe, comms) = if *host {
                    (" | cat", vec!["marsh", "cat"])
                } else {
                    ("", vec!["marsh"])
                };
                (
                    format!("timer 0.05{pipe} {op} {}", VARS[*var]),
                    comms,
                    Some((*var, *append)),
                )
            }
            Long::MixedEndless if self.marsh => (
                "timer 0.05 | cat | map (x: x) | select (x: false)".into(),
                vec!["marsh", "cat"],
                None,
            ),
            Long::TimerStore { .. } => ("sleep 30".into(), vec!["sleep"], None),
            Long::MixedEndless => ("sleep 30 | cat".into(), vec!["sleep", "cat"], None),
        }
    }

    /// The shell numbered a new job `n`: jobs the model still holds as possibly done, numbered
    /// `n` or above, were reported meanwhile (a notice before some prompt) and are gone.
    fn adopt_number(&mut self, n: u32) -> R {
        let gone: Vec<u32> = self
            .m
            .jobs
            .iter()
            .filter(|j| j.number >= n && matches!(j.st, St::MaybeDone | St::Ended))
            .map(|j| j.number)
            .collect();
        for g in gone {
            self.m.remove(g);
        }
        if n != self.m.next_number() {
            return Err(format!(
                "the shell numbered a new job {n}, the model says {} (model {:?})",
                self.m.next_number(),
                self.m.jobs
            ));
        }
        Ok(())
    }

    /// The pgid of the job a `[n] pid` notice names.
    fn bg_pgid(&mut self, out: &str) -> R<(u32, Pgid)> {
        let re = regex::Regex::new(r"\[(\d+)\] (\d+)").unwrap();
        let c = re
            .captures(out)
            .ok_or_else(|| format!("no `[n] pid` notice in {out:?}"))?;
        let n: u32 = c[1].parse().unwrap();
        let pid: jobcheck::Pid = c[2].parse().unwrap();
        let pgid = jobcheck::procfs::read(pid)
            .and_then(|p| p.pgid)
            .unwrap_or(pid.led_group());
        Ok((n, pgid))
    }

    fn wait_group_gone(&mut self, pgid: Pgid) -> R {
        self.s
            .wait_until("the job's processes to be gone", |s| {
                s.group(pgid).is_empty().then_some(())
            })
            .map_err(f)
    }

    fn press(&mut self, pause: u8, e: End) -> R {
        if pause > 0 {
            self.step(format!("pause {pause}ms"));
            std::thread::sleep(Duration::from_millis(pause as u64));
        }
        let (k, name) = match e {
            End::CtrlC => (Key::CtrlC, "ctrl-c"),
            End::CtrlZ => (Key::CtrlZ, "ctrl-z"),
        };
        self.step(format!("key {name}"));
        self.s.key(k).map_err(f)?;
        self.step("wait prompt");
        self.s.wait_prompt().map_err(f)?;
        Ok(())
    }

    /// A foreground job `n` (in the model already, or about to be) got key `e`.
    fn after_fg_key(&mut self, job: MJob, e: End) {
        match e {
            End::CtrlC => {
                // Ended in the foreground: reported there, never listed; a store rolls back.
                self.m.remove(job.number);
            }
            End::CtrlZ => {
                let n = job.number;
                if let Some(j) = self.m.jobs.iter_mut().find(|j| j.number == n) {
                    j.st = St::Stopped;
                } else {
                    let mut j = job;
                    j.st = St::Stopped;
                    self.m.jobs.push(j);
                    self.m.jobs.sort_by_key(|j| j.number);
                }
                self.m.set_current(n);
            }
        }
    }

    /// The job `spec` names and its text, if it is one `pred` accepts. Current and previous
    /// are used only while the model is sure of them (every job Running or Stopped, marks
    /// checked).
    fn resolve(&self, spec: Spec, pred: impl Fn(&MJob) -> bool) -> Option<(u32, String)> {
        let sure = !self.m.marks_unsure
            && self
                .m
                .jobs
                .iter()
                .all(|j| matches!(j.st, St::Running | St::Stopped));
        let ok = |n: u32| self.m.job(n).is_some_and(&pred);
        match spec {
            Spec::Num(i) => self.pick(i, &pred).map(|n| (n, format!("%{n}"))),
            Spec::Bare if sure => self
                .m
                .current
                .filter(|&n| ok(n))
                .map(|n| (n, String::new())),
            Spec::Plus(pct) if sure => {
                let t = if pct { "%%" } else { "%+" };
                self.m.current.filter(|&n| ok(n)).map(|n| (n, t.into()))
            }
            Spec::Minus if sure => self.m.previous.filter(|&n| ok(n)).map(|n| (n, "%-".into())),
            _ => None,
        }
    }

    fn pick(&self, i: usize, pred: impl Fn(&MJob) -> bool) -> Option<u32> {
        let c: Vec<u32> = self
            .m
            .jobs
            .iter()
            .filter(|j| pred(j))
            .map(|j| j.number)
            .collect();
        (!c.is_empty()).then(|| c[i % c.len()])
    }

    fn act(&mut self, a: &Action) -> R {
        match a {
            Action::FgShort(sh) => {
                let (line, store) = self.short_line(sh);
                let st = store.map(|(v, ap, n)| (self.m.start_store(v, ap), n));
                let out = self.type_prompt(&line)?;
                if let Short::Gen(n) = sh
                    && self.marsh
                    && out
                        .lines()
                        .filter(|l| l.trim().parse::<u32>().is_ok())
                        .count()
                        != *n as usize
                {
                    return Err(format!("`{line}` printed {out:?}"));
                }
                if let Some((st, n)) = st {
                    self.m.commit(st, n as u64);
                }
            }
            Action::FgLong(l, pause, e) => {
                let (line, comms, store) = self.long_line(l);
                let store = store.map(|(v, ap)| self.m.start_store(v, ap));
                self.step(format!("type {line}"));
                self.s.type_line(&line).map_err(f)?;
                self.step(format!("wait fg {}", comms.join(" ")));
                let pgid = self.s.wait_foreground_job(&comms).map_err(f)?;
                if matches!(l, Long::Probe) {
                    self.s.wait_output("jobprobe: ready").map_err(f)?;
                }
                let from = self.s.output().len();
                let mut job = MJob {
                    number: self.m.next_number(),
                    pgid,
                    st: St::Running,
                    long: true,
                    store,
                    comms,
                    cmd: line,
                };
                self.press(*pause, *e)?;
                if let End::CtrlZ = e {
                    // Its number shows only now, in the stop notice.
                    let out = jobcheck::session::strip_ansi(&self.s.output()[from..]);
                    let re = regex::Regex::new(r"\[(\d+)\][+-]?\s+Stopped").unwrap();
                    let n: u32 = re
                        .captures_iter(&out)
                        .last()
                        .map(|c| c[1].parse().unwrap())
                        .ok_or_else(|| format!("no stop notice after ^Z in {out:?}"))?;
                    self.adopt_number(n)?;
                    job.number = n;
                }
                self.after_fg_key(job, *e);
            }
            Action::BgShort(sh) => {
                let (line, store) = self.short_line(sh);
                let st = store.map(|(v, ap, n)| (self.m.start_store(v, ap), n));
                let out = self.type_prompt(&format!("{line} &"))?;
                let (n, pgid) = self.bg_pgid(&out)?;
                self.adopt_number(n)?;
                self.m.jobs.push(MJob {
                    number: n,
                    pgid,
                    st: St::Running,
                    long: false,
                    store: None,
                    comms: vec![],
                    cmd: line,
                });
                self.m.reset_current();
                self.step("pause 300ms");
                self.wait_group_gone(pgid)?;
                self.m.jobs.iter_mut().find(|j| j.number == n).unwrap().st = St::Ended;
                if let Some((st, cnt)) = st {
                    self.m.commit(st, cnt as u64);
                }
            }
            Action::BgSleep => {
                let out = self.type_prompt("sleep 0.2 &")?;
                let (n, pgid) = self.bg_pgid(&out)?;
                self.adopt_number(n)?;
                self.m.jobs.push(MJob {
                    number: n,
                    pgid,
                    st: St::MaybeDone,
                    long: false,
                    store: None,
                    comms: vec!["sleep"],
                    cmd: "sleep 0.2".into(),
                });
                self.m.reset_current();
            }
            Action::BgLong(l) => {
                let (line, comms, store) = self.long_line(l);
                let store = store.map(|(v, ap)| self.m.start_store(v, ap));
                let out = self.type_prompt(&format!("{line} &"))?;
                let (n, pgid) = self.bg_pgid(&out)?;
                self.adopt_number(n)?;
                self.step(format!("wait bg {}", comms.join(" ")));
                let c: Vec<&str> = comms.clone();
                self.s.wait_background_job(&c).map_err(f)?;
                self.m.jobs.push(MJob {
                    number: n,
                    pgid,
                    st: St::Running,
                    long: true,
                    store,
                    comms,
                    cmd: line,
                });
                self.m.reset_current();
            }
            Action::Fg(i, pause, e) => {
                let Some((n, arg)) = self.resolve(*i, |j| j.long && j.st != St::Ended) else {
                    return self.act(&Action::Jobs);
                };
                let job = self.m.job(n).unwrap().clone();
                let line = format!("fg {arg}").trim_end().to_string();
                self.step(format!("type {line}"));
                self.s.type_line(&line).map_err(f)?;
                self.step(format!("wait fg {}", job.comms.join(" ")));
                let comms = job.comms.clone();
                let pgid = self.s.wait_foreground_job(&comms).map_err(f)?;
                if pgid != job.pgid {
                    return Err(format!("fg %{n} brought group {pgid}, not {}", job.pgid));
                }
                if let Some(j) = self.m.jobs.iter_mut().find(|j| j.number == n) {
                    j.st = St::Running;
                }
                self.m.set_current(n);
                self.press(*pause, *e)?;
                self.after_fg_key(job, *e);
            }
            Action::Bg(i) => {
                let Some((n, arg)) = self.resolve(*i, |j| j.st == St::Stopped) else {
                    return self.act(&Action::Jobs);
                };
                let line = format!("bg {arg}").trim_end().to_string();
                self.type_prompt(&line)?;
                let job = self.m.job(n).unwrap().clone();
                let count = self.s.group(job.pgid).len();
                self.s
                    .wait_group_state(job.pgid, count, GroupState::Running)
                    .map_err(f)?;
                self.m.jobs.iter_mut().find(|j| j.number == n).unwrap().st = St::Running;
                // bash: a job no longer stopped makes the shell choose its current job again.
                self.m.reset_current();
                if self.marsh && known_bugs() {
                    // BUG marsh (fixtures/regressions/model-marsh-bg-current.jc): `bg` does not
                    // choose the current job again; marks stay unchecked until no job is left.
                    self.m.marks_unsure = true;
                }
            }
            Action::Kill(i) => {
                let spec = match i {
                    Spec::Bare => Spec::Plus(false),
                    s => *s,
                };
                let Some((n, arg)) = self.resolve(spec, |j| j.long && j.st != St::Ended) else {
                    return self.act(&Action::Jobs);
                };
                self.type_prompt(&format!("kill {arg}"))?;
                let pgid = self.m.job(n).unwrap().pgid;
                self.step("pause 300ms");
                self.wait_group_gone(pgid)?;
                self.m.jobs.iter_mut().find(|j| j.number == n).unwrap().st = St::Ended;
            }
            Action::Wait(i) => {
                // Only jobs that end by themselves (waiting for `sleep 30` would hang).
                match i {
                    Some(i) => {
                        let Some(n) = self.pick(*i, |j| !j.long) else {
                            return self.act(&Action::Jobs);
                        };
                        self.type_prompt(&format!("wait %{n}"))?;
                        self.m.jobs.iter_mut().find(|j| j.number == n).unwrap().st = St::Ended;
                    }
                    None => {
                        if self.m.live().any(|j| j.long) {
                            return self.act(&Action::Jobs);
                        }
                        self.type_prompt("wait")?;
                        for j in &mut self.m.jobs {
                            j.st = St::Ended;
                        }
                    }
                }
            }
            Action::Jobs => {
                self.type_prompt("jobs")?;
            }
            Action::Read(v) => {
                if !self.marsh {
                    return self.act(&Action::Jobs);
                }
                let line = format!("{} <$ red count", VARS[*v]);
                let out = self.type_prompt(&line)?;
                if let Some(c) = self.m.vars[*v] {
                    if !out.lines().any(|l| l.trim() == c.to_string()) {
                        return Err(format!("`{line}` printed {out:?}, the model says {c}"));
                    }
                    self.step(format!("expect output (?m)^{c}$"));
                }
            }
            Action::Pause(ms) => {
                self.step(format!("pause {ms}ms"));
                std::thread::sleep(Duration::from_millis(*ms as u64));
            }
        }
        Ok(())
    }

    /// Every invariant, at a prompt.
    fn check(&mut self) -> R {
        if let Some(st) = self.s.try_status() {
            return Err(format!("the shell exited: {st:?}"));
        }
        self.step("check tty");
        self.s.check_terminal_owned_by_shell().map_err(f)?;
        self.check_jobs()?;
        self.check_procs()?;
        if self.marsh {
            self.check_env()?;
        }
        Ok(())
    }

    fn check_jobs(&mut self) -> R {
        let certain = self
            .m
            .jobs
            .iter()
            .all(|j| matches!(j.st, St::Running | St::Stopped));
        let listed = self.s.jobs().map_err(f)?;
        let mut want_states = Vec::new();
        let mut reported = Vec::new();
        // By number, the last line winning: a job that ended while `jobs` ran is listed
        // Running and then announced Done by the notices printed before the next prompt.
        let mut by_number: BTreeMap<u32, &JobEntry> = BTreeMap::new();
        for e in &listed {
            by_number.insert(e.number, e);
        }
        for j in &self.m.jobs {
            let e = by_number.remove(&j.number);
            let ok = match (j.st, e.map(|e| &e.state)) {
                (St::Running, Some(JobState::Running)) => true,
                (St::Stopped, Some(JobState::Stopped)) => true,
                (St::MaybeDone, Some(JobState::Running)) => true,
                (St::MaybeDone | St::Ended, Some(JobState::Done | JobState::Terminated)) => {
                    reported.push(j.number);
                    true
                }
                (St::MaybeDone | St::Ended, None) => {
                    reported.push(j.number);
                    true
                }
                // Its processes are gone but the shell has not noticed yet (bash reaps on
                // SIGCHLD, asynchronously): still listed as it was.
                (St::Ended, Some(JobState::Running | JobState::Stopped)) => true,
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "jobs lists {listed:?}; the model has job {} {:?} (model {:?})",
                    j.number, j.st, self.m.jobs
                ));
            }
            if let Some(e) = e {
                want_states.push(format!("{:?}", e.state));
            }
        }
        if let Some((_, e)) = by_number.into_iter().next() {
            return Err(format!(
                "jobs lists {e:?}, not in the model {:?}",
                self.m.jobs
            ));
        }
        if certain {
            // What the model expects, marks included (written before comparing, so that a
            // regression scenario checks it).
            let marks: Vec<String> = self
                .m
                .jobs
                .iter()
                .filter(|_| !self.m.marks_unsure)
                .map(|j| {
                    let m = if Some(j.number) == self.m.current {
                        r"\+"
                    } else if Some(j.number) == self.m.previous && self.m.jobs.len() > 1 {
                        "-"
                    } else {
                        " "
                    };
                    let st = if j.st == St::Stopped {
                        "Stopped"
                    } else {
                        "Running"
                    };
                    format!(r"\[{}\]{m}\s+{st}", j.number)
                })
                .collect();
            if !marks.is_empty() {
                self.step("type jobs");
                self.step("wait prompt");
                self.step(format!("expect output {}", marks.join(r"[\s\S]*")));
            }
            self.step(if want_states.is_empty() {
                "expect jobs none".to_string()
            } else {
                format!("expect jobs {}", want_states.join(" "))
            });
            for e in listed.iter().filter(|_| !self.m.marks_unsure) {
                let want = if Some(e.number) == self.m.current {
                    Some('+')
                } else if Some(e.number) == self.m.previous {
                    Some('-')
                } else {
                    None
                };
                if e.mark != want {
                    return Err(format!(
                        "jobs marks {listed:?}; the model says current {:?} previous {:?}",
                        self.m.current, self.m.previous
                    ));
                }
            }
        } else {
            self.step("type jobs");
            self.step("wait prompt");
        }
        for n in reported {
            self.m.remove(n);
        }
        if self.m.jobs.is_empty() {
            self.m.marks_unsure = false;
        }
        Ok(())
    }

    fn check_procs(&mut self) -> R {
        let shell = self.s.shell_pid();
        let allowed: Vec<Pgid> = self.m.jobs.iter().map(|j| j.pgid).collect();
        let stray = || {
            let p: Vec<_> = self
                .s
                .processes()
                .into_iter()
                .filter(|p| p.pid != shell && !p.pgid.is_some_and(|g| allowed.contains(&g)))
                .collect();
            p
        };
        // A process may be on its way out (a reaped job's member): give it a moment.
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        loop {
            let p = stray();
            if p.is_empty() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "processes outside the job table:\n{}",
                    jobcheck::procfs::format_table(&p)
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn check_env(&mut self) -> R {
        let out = self.s.run("env").map_err(f)?;
        let re =
            regex::Regex::new(r"(?m)^(\S+) = reservoir (\d+) items, \d+ bytes: (.*?)\s*$").unwrap();
        let mut files = std::collections::BTreeSet::new();
        let mut have: BTreeMap<String, u64> = BTreeMap::new();
        for c in re.captures_iter(&out) {
            have.insert(c[1].to_string(), c[2].parse().unwrap());
            for p in c[3].split_whitespace() {
                files.insert(PathBuf::from(p).file_name().unwrap().to_owned());
            }
        }
        for (i, v) in VARS.iter().enumerate() {
            if have.get(*v).copied() != self.m.vars[i] {
                return Err(format!(
                    "env says {v} = {:?} items, the model says {:?}\n{out}",
                    have.get(*v),
                    self.m.vars[i]
                ));
            }
        }
        // The session directory: env's files, and one temporary file per live store job.
        let runtime = self.s.dir().join("runtime");
        let sessions: Vec<PathBuf> = std::fs::read_dir(&runtime)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        if sessions.len() != 1 {
            return Err(format!("session directories: {sessions:?}"));
        }
        let mut tmps = 0;
        let mut on_disk = std::collections::BTreeSet::new();
        for e in std::fs::read_dir(&sessions[0]).map_err(|e| e.to_string())? {
            let name = e.map_err(|e| e.to_string())?.file_name();
            if name.to_string_lossy().ends_with(".tmp") {
                tmps += 1;
            } else {
                on_disk.insert(name);
            }
        }
        if on_disk != files {
            return Err(format!(
                "reservoir directory {on_disk:?} differs from env's files {files:?}"
            ));
        }
        let stores = self.m.live().filter(|j| j.store.is_some()).count();
        // Ended stores not yet reported may not be settled yet either.
        let ended = self
            .m
            .jobs
            .iter()
            .filter(|j| j.st == St::Ended && j.store.is_some())
            .count();
        if tmps < stores || tmps > stores + ended {
            return Err(format!(
                "{tmps} temporary files in the session directory, {stores} live store jobs, {ended} ended and not reported"
            ));
        }
        if stores == 0 {
            self.step("check reservoirs");
        }
        Ok(())
    }

    /// Kill every job, exit; nothing may survive.
    fn finish(&mut self) -> R {
        let live: Vec<(u32, Pgid)> = self.m.live().map(|j| (j.number, j.pgid)).collect();
        for (n, pgid) in live {
            self.type_prompt(&format!("kill %{n}"))?;
            self.wait_group_gone(pgid)?;
        }
        self.step("type jobs");
        self.step("wait prompt");
        self.s.jobs().map_err(f)?;
        self.step("type exit");
        self.s.type_line("exit").map_err(f)?;
        // A job killed a moment ago may not be reaped yet: marsh then warns ("There are
        // running jobs.") and reports it; the second `exit` leaves.
        if self.s.wait_prompt_for(Duration::from_millis(300)).is_ok() {
            self.step("wait prompt");
            self.step("type exit");
            self.s.type_line("exit").map_err(f)?;
        }
        self.step("wait exit");
        self.s.wait_exit().map_err(f)?;
        self.step("check clean");
        self.s.check_clean(&[]).map_err(f)
    }
}

fn run_sequence(shell: &str, actions: &[Action], scn: &mut Vec<String>) -> R {
    let opts = Options {
        name: format!("model@{shell}"),
        path_prepend: vec![common::bin_dir()],
        timeout: Duration::from_secs(10),
        ..Options::default()
    };
    let adapter = adapter_for(shell);
    let mut s = Session::spawn_with(&adapter, opts).map_err(f)?;
    s.wait_prompt().map_err(f)?;
    let mut run = Run {
        s,
        marsh: shell == "marsh",
        m: Model::default(),
        scn,
    };
    for a in actions {
        run.step(format!("# {a:?}"));
        if let Err(e) = run.act(a).and_then(|()| run.check()) {
            // Best effort, so that a regression scenario ends clean where the shell allows.
            run.step("# failed here; the rest ends the session");
            let _ = run.finish();
            return Err(e);
        }
    }
    run.finish()
}

/// The built-in adapter; marsh is the one this package built.
fn adapter_for(shell: &str) -> jobcheck::Adapter {
    let mut adapter = common::adapter(shell);
    if shell == "marsh" {
        adapter.program = common::bin_dir()
            .join("marsh")
            .to_string_lossy()
            .into_owned();
    }
    adapter
}

/// Whether the model steps around marsh bugs already kept as regression scenarios
/// (`JOBCHECK_MODEL_KNOWN_BUGS=1` to step around them; fixed, so off by default).
fn known_bugs() -> bool {
    std::env::var("JOBCHECK_MODEL_KNOWN_BUGS").is_ok_and(|v| v == "1")
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn write_regression(shell: &str, seed: u64, actions: &[Action], why: &str) -> PathBuf {
    let mut steps = Vec::new();
    let _ = run_sequence(shell, actions, &mut steps);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/regressions");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("model-{shell}-{seed}.jc"));
    let mut text = String::new();
    let first = why.lines().next().unwrap_or("");
    let _ = writeln!(text, "title: model-based test failure ({shell}): {first}");
    let _ = writeln!(text, "shells: {shell}");
    let _ = writeln!(
        text,
        "# found by tests/model.rs with JOBCHECK_MODEL_SEED={seed} JOBCHECK_MODEL_SHELLS={shell}"
    );
    let _ = writeln!(text, "# shrunk actions: {actions:?}");
    for l in why.lines().take(12) {
        let _ = writeln!(text, "# {l}");
    }
    for st in steps {
        let _ = writeln!(text, "{st}");
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn model_test(shell: &str) {
    let shells = std::env::var("JOBCHECK_MODEL_SHELLS").unwrap_or_else(|_| "marsh bash".into());
    if !shells.split_whitespace().any(|s| s == shell) {
        println!("not run: JOBCHECK_MODEL_SHELLS={shells}");
        return;
    }
    if let Err(why) = adapter_for(shell).availability() {
        println!("not run: {why}");
        return;
    }
    let cases = env_u64("JOBCHECK_MODEL_CASES").unwrap_or(8) as u32;
    let seed = env_u64("JOBCHECK_MODEL_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    println!("model test on {shell}: {cases} cases, JOBCHECK_MODEL_SEED={seed}");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let config = Config {
        cases,
        max_shrink_iters: env_u64("JOBCHECK_MODEL_SHRINK").unwrap_or(300) as u32,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng);
    let started = std::time::Instant::now();
    let ran = std::sync::atomic::AtomicUsize::new(0);
    // Counts shrinking steps too: past the total means a failure is being shrunk.
    let ticker = jobcheck::progress::Ticker::new(format!("model on {shell}"), u64::from(cases));
    let result = runner.run(&prop::collection::vec(action(), 1..24), |actions| {
        ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ticker.tick();
        let mut scn = Vec::new();
        let r = run_sequence(shell, &actions, &mut scn);
        if std::env::var_os("JOBCHECK_MODEL_VERBOSE").is_some() {
            println!("--- {} actions, {:?}\n{}", actions.len(), r, scn.join("\n"));
        }
        r.map_err(TestCaseError::fail)
    });
    println!(
        "{shell}: {} sequences run (shrinking included) in {:?}",
        ran.into_inner(),
        started.elapsed()
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, actions)) => {
            let path = write_regression(shell, seed, &actions, why.message());
            panic!(
                "model test failed on {shell} (seed {seed}); minimal sequence {actions:?}\nscenario written: {}\n{why}",
                path.display()
            );
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn model_marsh() {
    model_test("marsh");
}

#[test]
fn model_bash() {
    model_test("bash");
}

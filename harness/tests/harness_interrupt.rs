//! ^C of a foreground `sleep 30` leaves nothing behind and the prompt returns.

mod common;

use std::time::Instant;

use jobcheck::Key;

fn intr_sleep(shell: &str) {
    let mut s = common::start(shell, "intr-sleep");
    s.type_line("sleep 30").unwrap();
    let pgid = s.wait_foreground_job(&["sleep"]).unwrap();
    assert_ne!(pgid, s.shell_pgid());
    let t = Instant::now();
    s.key(Key::CtrlC).unwrap();
    s.wait_prompt().unwrap();
    eprintln!("{shell}: ^C -> prompt {:?}", t.elapsed());
    s.check_terminal_owned_by_shell().unwrap();
    s.check_clean(&[]).unwrap();
    assert_eq!(s.run("echo $?").unwrap().trim(), "130");
    assert!(s.group(pgid).is_empty());
}

#[test]
fn bash_ctrl_c_sleep_leaves_nothing() {
    intr_sleep("bash");
}

#[test]
fn dash_ctrl_c_sleep_leaves_nothing() {
    intr_sleep("dash");
}

/// ^C → prompt latency: 21 cycles, median printed (`--nocapture`). Loose bound: the machine is
/// shared and tests run in parallel; the benchmark proper belongs in `ci/bench`.
fn latency(shell: &str) {
    let mut s = common::start(shell, "intr-latency");
    let (mut seen, mut idle) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        s.type_line("sleep 30").unwrap();
        s.wait_foreground_job(&["sleep"]).unwrap();
        let t0 = s.elapsed();
        s.key(Key::CtrlC).unwrap();
        s.wait_prompt().unwrap();
        idle.push(s.elapsed() - t0);
        seen.push(s.output_time(s.prompt_end() - 1).unwrap() - t0);
    }
    seen.sort();
    idle.sort();
    let (m_seen, m_idle) = (seen[10], idle[10]);
    eprintln!(
        "{shell}: ^C -> prompt read by the harness: median {m_seen:?} (min {:?}, max {:?}); \
         -> shell back in read(): median {m_idle:?}",
        seen[0], seen[20]
    );
    assert!(m_seen.as_millis() < 200, "{shell}: median {m_seen:?}");
    s.check_clean(&[]).unwrap();
}

#[test]
fn bash_ctrl_c_latency() {
    latency("bash");
}

#[test]
fn dash_ctrl_c_latency() {
    latency("dash");
}

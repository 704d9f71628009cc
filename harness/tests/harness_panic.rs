//! A test that panics mid-session leaves no process behind; a test run killed outright (no
//! `Drop`) is cleaned by the sweep of the next run. Both checked from outside the test process.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use jobcheck::wait::{Deadline, poll_until};
use jobcheck::{Key, procfs, teardown};

const CHILD_ENV: &str = "JOBCHECK_TEST_CHILD";
const TAG_FILE_ENV: &str = "JOBCHECK_TEST_TAG_FILE";

/// In the child: start bash with a background job and a foreground job, publish the tag.
fn child_session() -> Option<(jobcheck::Session, PathBuf)> {
    std::env::var_os(CHILD_ENV)?;
    let tag_file = PathBuf::from(std::env::var_os(TAG_FILE_ENV).expect("tag file"));
    let mut s = common::start("bash", "panic-child");
    s.run("sleep 31 &").unwrap();
    // A job that survives the hang-up: only teardown or the sweep can end it.
    s.run("jobprobe ignore HUP ready pause > /dev/null 2>&1 &")
        .unwrap();
    s.wait_until("the HUP-proof probe", |s| {
        s.processes()
            .into_iter()
            .any(|p| p.comm == "jobprobe")
            .then_some(())
    })
    .unwrap();
    s.type_line("sleep 32 | cat").unwrap();
    s.wait_foreground_job(&["sleep", "cat"]).unwrap();
    let tmp = tag_file.with_extension("tmp");
    std::fs::write(&tmp, format!("{} {}", s.tag(), s.shell_pid())).unwrap();
    std::fs::rename(&tmp, &tag_file).unwrap();
    Some((s, tag_file))
}

#[test]
fn child_panics_mid_session() {
    let Some((mut s, _)) = child_session() else {
        return;
    };
    s.key(Key::CtrlZ).unwrap();
    panic!("deliberate panic with a live session");
}

#[test]
fn child_is_killed_mid_session() {
    let Some((_s, tag_file)) = child_session() else {
        return;
    };
    std::fs::write(tag_file.with_extension("wait"), "").unwrap();
    loop {
        std::thread::park();
    }
}

fn run_child(test: &str, dir: &Path) -> (std::process::Child, PathBuf) {
    let tag_file = dir.join(format!("{test}.tag"));
    let child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env(TAG_FILE_ENV, &tag_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, tag_file)
}

fn read_tag(tag_file: &Path) -> (String, jobcheck::Pid) {
    let text = poll_until(Deadline::after(Duration::from_secs(20)), || {
        std::fs::read_to_string(tag_file).ok()
    })
    .expect("child published its session tag");
    let (tag, pid) = text.split_once(' ').unwrap();
    (tag.to_string(), pid.parse().unwrap())
}

fn assert_gone(tag: &str, sid: jobcheck::Pid) {
    let left = poll_until(Deadline::after(Duration::from_secs(10)), || {
        let left = teardown::live_session_procs(sid, tag);
        left.is_empty().then_some(())
    });
    assert!(
        left.is_some(),
        "left behind:\n{}",
        procfs::format_table(&teardown::live_session_procs(sid, tag))
    );
}

/// Both cases in one test, run one after the other: a session start in a concurrent test would
/// sweep the killed child's session before this test could observe that it outlived its creator.
#[test]
fn no_process_outlives_a_failed_test() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();

    // 1. A panic unwinds through the session's Drop: nothing is left.
    let (mut child, tag_file) = run_child("child_panics_mid_session", dir.path());
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child test must fail");
    let (tag, sid) = read_tag(&tag_file);
    assert_gone(&tag, sid);

    // 2. SIGKILL skips Drop: the HUP-proof job outlives its creator until a sweep.
    let (mut child, tag_file) = run_child("child_is_killed_mid_session", dir.path());
    let (tag, sid) = read_tag(&tag_file);
    poll_until(Deadline::after(Duration::from_secs(20)), || {
        tag_file.with_extension("wait").exists().then_some(())
    })
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!teardown::creator_alive(&tag));
    let survivors = teardown::live_session_procs(sid, &tag);
    assert!(
        survivors.iter().any(|p| p.comm == "jobprobe"),
        "the HUP-proof job should outlive a killed creator:\n{}",
        procfs::format_table(&survivors)
    );
    let session_dir = |tag: &str| {
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("jobcheck-{tag}-"))
            })
    };
    assert!(
        session_dir(&tag),
        "the killed child's session directory should be there"
    );
    let swept = teardown::sweep();
    assert!(
        swept.iter().any(|p| p.comm == "jobprobe"),
        "{}",
        procfs::format_table(&swept)
    );
    assert_gone(&tag, sid);
    assert!(
        !session_dir(&tag),
        "the sweep should remove the session directory"
    );
}

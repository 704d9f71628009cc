//! A deliberately leaked process is caught by the leak check, whether it escaped the session id
//! (`setsid`) or the tag (`env -i`); teardown still kills both.

mod common;

use std::time::Duration;

use jobcheck::procfs;

fn leak(shell: &str, how: &str) {
    let mut s = common::start(shell, &format!("leak-{}", how.split(' ').next().unwrap()));
    let probe = common::bin_dir().join("jobprobe");
    s.run(&format!(
        "{how} {} ready pause > /dev/null 2>&1 &",
        probe.display()
    ))
    .unwrap();
    let leaked = s
        .wait_until("the leaked probe to appear", |s| {
            s.processes()
                .into_iter()
                .find(|p| p.comm == "jobprobe")
                .map(|p| p.pid)
        })
        .unwrap();
    let err = s
        .check_clean_within(Duration::from_millis(200), &[])
        .unwrap_err();
    assert!(err.sentence().contains("are left"), "{err}");
    assert!(err.sentence().contains(&leaked.to_string()), "{err}");
    let left = s.teardown();
    assert!(left.is_empty(), "{}", procfs::format_table(&left));
    let p = procfs::read(leaked);
    assert!(p.as_ref().is_none_or(|p| p.is_dead()), "{p:?}");
}

#[test]
fn bash_leak_setsid_is_caught() {
    leak("bash", "setsid");
}

#[test]
fn dash_leak_env_i_is_caught() {
    leak("dash", "env -i");
}

//! A prompt wait that gives up does not consume the prompt it saw: the next wait finds it.

mod common;

use std::time::Duration;

use jobcheck::Key;

#[test]
fn a_prompt_seen_before_the_shell_reads_is_left_to_the_next_wait() {
    let mut s = common::start("bash", "prompt-not-consumed");
    // Something that looks like prompt 2 while the shell still runs the line (`%d`: the echo
    // of the typed line does not look like it).
    s.type_line("printf 'bash %d$ ' 2; sleep 30").unwrap();
    s.wait_output(r"bash 2\$ ").unwrap();
    s.wait_foreground_job(&["sleep"]).unwrap();
    // The shell is in wait4, not reading input: this wait sees "prompt 2" and gives up.
    assert!(s.wait_prompt_for(Duration::ZERO).is_err());
    s.key(Key::CtrlC).unwrap();
    // Now the shell reads input at its real prompt 2: the wait that gave up took nothing.
    assert_eq!(s.wait_prompt().unwrap(), 2);
    s.check_clean(&[]).unwrap();
}

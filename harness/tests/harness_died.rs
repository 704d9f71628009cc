//! A shell that dies while the harness waits for it: the failure says so at once, in its
//! first sentence, with the exit status or the signal (not "no prompt within 10 s").

mod common;

/// Wait for the prompt after `line` killed the shell; the failure's sentence.
fn sentence_after(line: &str) -> String {
    let mut s = common::start("bash", "died");
    s.type_line(line).unwrap();
    let f = s.wait_prompt().unwrap_err();
    let sentence = f.sentence().to_string();
    // It gave up because the shell ended, not because the deadline passed.
    assert!(!sentence.contains("within"), "{sentence}");
    sentence
}

#[test]
fn a_shell_that_exits_says_its_status() {
    let s = sentence_after("exit 3");
    assert!(
        s.starts_with(
            "expected the prompt `bash 2$` (numbered above 1), but the shell exited with status 3"
        ),
        "{s}"
    );
}

#[test]
fn a_shell_killed_by_a_signal_says_which() {
    let s = sentence_after("kill -SEGV $$");
    assert!(s.contains("the shell was killed by SIGSEGV"), "{s}");
}

//! `trap`: actions on signals and at exit, in a shell without a terminal (the interactive
//! cases, at the prompt and in `wait` there, are the `posix/trap-*` and `posix/wait-trap-*`
//! scenarios).

mod common;

use common::marsh;

#[test]
fn a_trapped_signal_runs_its_action_between_commands_and_keeps_status() {
    let run =
        marsh("trap 'echo got $STATUS; false' USR1\nfalse; kill -USR1 $$; echo after $STATUS");
    assert_eq!(run.stdout, "got 0\nafter 0\n", "{}", run.stderr);
    assert_eq!(run.status, 0);
}

#[test]
fn the_listing_types_back_into_the_same_table() {
    let set = "trap 'echo it'\\''s \"$X\"' USR2 TERM\ntrap '' QUIT\ntrap 'echo bye' EXIT\ntrap";
    let first = marsh(set);
    assert_eq!(
        first.stdout,
        "trap -- 'echo bye' EXIT\ntrap -- '' SIGQUIT\n\
         trap -- 'echo it'\\''s \"$X\"' SIGUSR2\ntrap -- 'echo it'\\''s \"$X\"' SIGTERM\nbye\n",
        "{}",
        first.stderr
    );
    let listing = first.stdout.trim_end_matches("bye\n");
    let again = marsh(&format!("{listing}trap"));
    assert_eq!(again.stdout, first.stdout, "{}", again.stderr);
}

#[test]
fn bad_input_is_one_line_with_status_1_and_the_shell_goes_on() {
    for (line, message) in [
        ("trap 'x' NOSUCH", "marsh: trap: NOSUCH: no such signal\n"),
        (
            "trap 'x' KILL",
            "marsh: trap: KILL: SIGKILL and SIGSTOP cannot be caught or ignored\n",
        ),
        (
            "trap 'x' CHLD",
            "marsh: trap: CHLD: cannot be trapped: marsh runs job control on it\n",
        ),
        (
            "trap 'x'",
            "marsh: trap: usage: trap ['LIST' | '' | -] SIG...\n",
        ),
    ] {
        let run = marsh(&format!("{line}\necho $STATUS\ntrap"));
        assert_eq!(run.stderr, message, "{line}");
        assert_eq!(run.stdout, "1\n", "{line}: nothing was set");
    }
    // One bad signal among good ones sets none of them.
    let run = marsh("trap 'x' USR1 NOSUCH\ntrap");
    assert_eq!(run.stdout, "", "{}", run.stderr);
}

#[test]
fn reset_gives_the_signal_its_default_action_back() {
    let run = marsh("trap 'echo got' USR1\ntrap - USR1\ntrap\nkill -USR1 $$\necho unreachable");
    assert_eq!(run.stdout, "", "{}", run.stderr);
    assert_eq!(run.status, -1, "a signal (SIGUSR1) ended the shell");
}

#[test]
fn an_ignored_signal_does_nothing() {
    let run = marsh("trap '' USR1\nkill -USR1 $$\necho alive");
    assert_eq!(run.stdout, "alive\n", "{}", run.stderr);
}

#[test]
fn the_exit_trap_runs_once_and_its_exit_sets_the_status() {
    let run = marsh("trap 'echo bye $STATUS' EXIT\nfalse");
    assert_eq!(run.stdout, "bye 1\n", "{}", run.stderr);
    assert_eq!(run.status, 1);
    let run = marsh("trap 'echo bye; exit 3' 0\nexit 5");
    assert_eq!(run.stdout, "bye\n", "{}", run.stderr);
    assert_eq!(run.status, 3);
}

#[test]
fn a_trapped_signal_interrupts_wait_with_128_plus_its_number() {
    // The helper sends the signal only once the shell sits in wait4 (its wchan is do_wait).
    let run = marsh(
        "trap 'echo got' USR1\n\
         sleep 30 & sh -c 'until grep -q do_wait /proc/$1/wchan; do :; done; kill -USR1 $1' sh $$ & wait; echo status $STATUS\n\
         kill %1",
    );
    assert_eq!(run.stdout, "got\nstatus 138\n", "{}", run.stderr);
}

#[test]
fn a_group_in_the_background_does_not_inherit_traps_but_its_dollar_dollar_is_the_shell() {
    // As in a POSIX subshell: in the group's process USR1 has its default action again.
    let run = marsh(
        "trap 'echo got' USR1\n{ sh -c 'kill -USR1 $PPID'; echo survived } & wait %1\necho $STATUS",
    );
    assert_eq!(run.stdout, "138\n", "{}", run.stderr);
    // `$$` there is still the shell's pid, so the shell gets this one.
    let run = marsh("trap 'echo got' USR1\n{ kill -USR1 $$ } & wait\necho done");
    assert_eq!(run.stdout, "got\ndone\n", "{}", run.stderr);
}

//! The shell language around pipelines: expansion of `$NAME`, `${NAME}`, `$$`, `$!`.

mod common;

use common::marsh;

#[test]
fn dollar_names_expand_outside_single_quotes() {
    let run = marsh("X = hi\necho $X ${X}! \"[$X]\" '$X' \\$X \"\\$X\"");
    assert_eq!(run.stdout, "hi hi! [hi] $X $X $X\n", "{}", run.stderr);
}

#[test]
fn single_quotes_reach_programs_untouched() {
    let run = marsh("echo 'a b' | awk '{print $2}'");
    assert_eq!(run.stdout, "b\n", "{}", run.stderr);
    let run = marsh("sh -c 'X=in; echo $X'");
    assert_eq!(run.stdout, "in\n", "{}", run.stderr);
}

#[test]
fn the_environment_comes_before_marsh_variables() {
    let run = marsh("HOME = nowhere\necho $HOME\nsh -c 'echo $HOME'");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert_ne!(lines[0], "nowhere");
    assert_eq!(lines[0], lines[1]);
}

#[test]
fn marsh_values_print_as_items_do() {
    let run = marsh("n = (40 + 2)\nt = ((1, 'a'))\necho $n $t");
    assert_eq!(run.stdout, "42 (1, 'a')\n", "{}", run.stderr);
}

#[test]
fn unset_expands_to_nothing_and_an_empty_unquoted_word_is_dropped() {
    let run = marsh("printf '[%s]' a $MARSH_SURELY_UNSET b \"$MARSH_SURELY_UNSET\"\necho");
    assert_eq!(run.stdout, "[a][b][]\n", "{}", run.stderr);
}

#[test]
fn shell_pid_and_last_background_pid() {
    let run = marsh("echo $$\nsh -c 'exit 3' &\nwait $!\n(STATUS)");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].parse::<u32>().is_ok(),
        "{:?} {}",
        lines,
        run.stderr
    );
    assert_eq!(lines[1], "3", "{}", run.stderr);
}

#[test]
fn a_file_name_naming_an_unset_variable_is_an_error() {
    let run = marsh("gen 3 > $MARSH_SURELY_UNSET/x\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    assert!(
        run.stderr.contains("$MARSH_SURELY_UNSET is not set"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_reservoir_is_not_a_word() {
    let run = marsh("gen 2 >$ r\necho $r\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    assert!(run.stderr.contains("read it with 'r <$'"), "{}", run.stderr);
}

#[test]
fn glued_store_stays_a_store() {
    let run = marsh("gen 2 >$x\nx <$");
    assert_eq!(run.stdout, "0\n1\n", "{}", run.stderr);
}

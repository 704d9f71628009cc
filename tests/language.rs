//! The shell language around pipelines: expansion of `$NAME`, `${NAME}`, `$$`, `$!`; the
//! environment (`export`, `unset`, `NAME=VALUE prog`, `env -x`); scripts (`ARGV`, `SCRIPT`,
//! `FILE:LINE:` errors).

mod common;

use common::marsh;
use std::os::unix::ffi::OsStrExt;

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
fn an_exported_name_and_its_variable_agree() {
    // HOME is in the environment marsh got, so assigning it exports the new value.
    let run = marsh("HOME = nowhere\necho $HOME\nsh -c 'echo $HOME'");
    assert_eq!(run.stdout, "nowhere\nnowhere\n", "{}", run.stderr);
    // env -d deletes only the marsh variable; $NAME still finds the environment.
    let run = marsh("export E=1\nE = 2\nenv -d E\necho $E\n(E)");
    assert_eq!(run.stdout, "2\n", "{}", run.stderr);
    assert!(run.stderr.contains("E"), "{}", run.stderr);
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

/// The lines of `env -x`'s output that name `name`.
fn exported<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    let prefix = format!("{name}=");
    stdout.lines().filter(|l| l.starts_with(&prefix)).collect()
}

#[test]
fn export_of_a_marsh_variable_reaches_programs() {
    let run = marsh("EDITOR = vim\nsh -c 'echo [$EDITOR]'\nexport EDITOR\nsh -c 'echo [$EDITOR]'");
    assert_eq!(run.stdout, "[]\n[vim]\n", "{}", run.stderr);
}

#[test]
fn export_name_value_and_unset() {
    let run = marsh(
        "export GREETING=hello NOTE='a b=c'\nsh -c 'echo $GREETING; echo $NOTE'\necho $GREETING\n\
         unset GREETING\nsh -c 'echo x${GREETING}x'\necho x${GREETING}x",
    );
    assert_eq!(
        run.stdout, "hello\na b=c\nhello\nxx\nxx\n",
        "{}",
        run.stderr
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn assigning_an_exported_name_exports_the_new_value() {
    let run = marsh("export N=1\nN = (40 + 2)\nsh -c 'echo $N'\n(N + 1)");
    assert_eq!(run.stdout, "42\n43\n", "{}", run.stderr);
}

#[test]
fn env_lists_marsh_variables_and_env_x_the_environment() {
    let run = marsh("only_marsh = 1\nexport ONLY_ENV=2\nenv");
    assert!(run.stdout.contains("only_marsh = '1'\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("ONLY_ENV"), "{}", run.stdout);
    let run = marsh("only_marsh = 1\nexport ONLY_ENV=2\nenv -x");
    assert_eq!(exported(&run.stdout, "ONLY_ENV"), ["ONLY_ENV=2"]);
    assert!(exported(&run.stdout, "only_marsh").is_empty());
    // What env -x lists is what a program gets (sh adds a few of its own).
    let dir = tempfile::tempdir().unwrap();
    let listed = common::marsh_in(dir.path(), "export ONLY_ENV=2\nunset LANG\nenv -x").stdout;
    let seen = common::marsh_in(dir.path(), "export ONLY_ENV=2\nunset LANG\nsh -c env").stdout;
    assert_eq!(exported(&seen, "ONLY_ENV"), ["ONLY_ENV=2"]);
    for line in listed.lines() {
        assert!(seen.lines().any(|l| l == line), "{line} not in {seen}");
    }
    assert!(seen.lines().all(|l| !l.starts_with("LANG=")), "{seen}");
}

#[test]
fn a_prefix_sets_one_programs_environment_only() {
    let run = marsh(
        "A=1 B=\"x y\" C= sh -c 'echo \"[$A][$B][${C-unset}]\"'\nsh -c 'echo \"[$A]\"'\necho \"[$A]\"",
    );
    assert_eq!(run.stdout, "[1][x y][]\n[]\n[]\n", "{}", run.stderr);
    let run = marsh("X = out\nV=$X-${X} sh -c 'echo $V' | map (s: s.upper())");
    assert_eq!(run.stdout, "OUT-OUT\n", "{}", run.stderr);
}

#[test]
fn a_prefix_is_only_for_programs() {
    for line in ["A=1 gen 3", "A=1 cd /", "gen 2 | A=1 map (x: x)"] {
        let run = marsh(&format!("{line}\n(STATUS)"));
        assert_eq!(run.stdout, "1\n", "{line}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{line}: {}", run.stderr);
        assert!(
            run.stderr.contains("an op takes no A=... before it"),
            "{}",
            run.stderr
        );
    }
    let run = marsh("A=1\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    assert!(run.stderr.contains("none follows"), "{}", run.stderr);
    // Quoted, it is a word: the program named `A=1` (there is none).
    let run = marsh("'A=1' x\n(STATUS)");
    assert_eq!(run.stdout, "1\n");
    assert!(
        run.stderr.contains("unknown op or program: A=1"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_names_are_one_line_and_status_1() {
    for line in [
        "export 1X=y",
        "export A-B",
        "unset 'a b'",
        "export STATUS=3",
        "export NEVER_SET_HERE",
    ] {
        let run = marsh(&format!("{line}\n(STATUS)\necho still"));
        assert_eq!(run.stdout, "1\nstill\n", "{line}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{line}: {}", run.stderr);
    }
    let run = marsh("export 1X=y");
    assert_eq!(
        run.stderr,
        "marsh: export: '1X' is not a valid name: a letter or _, then letters, digits or _\n"
    );
}

#[test]
fn changing_path_changes_where_programs_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let tool = bin.join("only-here");
    std::fs::write(&tool, "#!/bin/sh\necho found me\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let b = bin.display();
    let run = common::marsh_in(
        dir.path(),
        &format!(
            "only-here\nPATH={b} only-here\nonly-here\nexport PATH={b}:$PATH\nonly-here\n\
             PATH = /nonexistent\nonly-here\n(STATUS)"
        ),
    );
    assert_eq!(run.stdout, "found me\nfound me\n1\n", "{}", run.stderr);
    let unknown = run
        .stderr
        .matches("unknown op or program: only-here")
        .count();
    assert_eq!(unknown, 3, "{}", run.stderr);
}

#[test]
fn an_exported_name_holds_no_stream() {
    let run = marsh("export S=1\ngen 3 >$ S\n(STATUS)\necho $S");
    assert_eq!(run.stdout, "1\n1\n", "{}", run.stderr);
    assert!(run.stderr.contains("S holds a stream"), "{}", run.stderr);
}

#[test]
fn environment_bytes_pass_through_unchanged() {
    let out = assert_cmd::Command::cargo_bin("marsh")
        .unwrap()
        .arg("-c")
        .arg("echo $RAW | od -An -tx1\nexport COPY=$RAW\nsh -c 'printf %s \"$COPY\"' | od -An -tx1")
        .env("RAW", std::ffi::OsStr::from_bytes(b"a\xffb"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        ["61 ff 62 0a", "61 ff 62"],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `marsh ARGS...` in `dir` (no `-c` added).
fn marsh_args(dir: &std::path::Path, args: &[&str]) -> common::Run {
    let out = assert_cmd::Command::cargo_bin("marsh")
        .unwrap()
        .args(args)
        .current_dir(dir)
        .env("MARSH_RUNTIME_DIR", dir.join(".marsh-runtime"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    common::Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

#[test]
fn a_script_gets_its_arguments_and_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.msh"),
        "echo (len(ARGV)) $SCRIPT\n(ARGV)\nARGV <$ nope\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("each.msh"), "(ARGV) | red +\n").unwrap();
    let run = marsh_args(dir.path(), &["s.msh", "a", "-b", "--help", "c d"]);
    assert_eq!(
        run.stdout, "4 s.msh\n['a', '-b', '--help', 'c d']\n",
        "{}",
        run.stderr
    );
    let run = marsh_args(dir.path(), &["s.msh"]);
    assert!(run.stdout.starts_with("0 s.msh\n[]\n"), "{}", run.stdout);
    let run = marsh_args(dir.path(), &["-c", "echo (ARGV) ${SCRIPT}.", "-x", "y"]);
    assert_eq!(run.stdout, "['-x', 'y'] .\n", "{}", run.stderr);
    let run = marsh_args(dir.path(), &["-c", "(ARGV)"]);
    assert_eq!(run.stdout, "[]\n", "{}", run.stderr);
    let run = marsh_args(dir.path(), &["-c"]);
    assert_eq!(run.status, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn an_error_in_a_script_names_its_line_and_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.msh"),
        "echo one\nsh -c 'exit 3'\necho two (STATUS)\nno-such-program-here x\necho never\n",
    )
    .unwrap();
    let run = marsh_args(dir.path(), &["s.msh"]);
    assert_eq!(run.stdout, "one\ntwo 3\n");
    assert_eq!(
        run.stderr,
        "s.msh:4: unknown op or program: no-such-program-here\n"
    );
    assert_eq!(run.status, 1);
    std::fs::write(
        dir.path().join("p.msh"),
        "# first\n\ngen 3 | | head\necho never\n",
    )
    .unwrap();
    let run = marsh_args(dir.path(), &["p.msh"]);
    assert_eq!(run.stdout, "");
    let first = run.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "p.msh:3: parse error at column 9: empty stage after '|'"
    );
    assert_eq!(run.status, 1);
    // -c goes on after an error, as a terminal does, and keeps marsh's prefix.
    let run = marsh_args(dir.path(), &["-c", "export 1X=y\necho on"]);
    assert_eq!(run.stdout, "on\n");
    assert!(run.stderr.starts_with("marsh: export: "), "{}", run.stderr);
}

#[test]
fn a_missing_script_is_one_line_and_127() {
    let dir = tempfile::tempdir().unwrap();
    let run = marsh_args(dir.path(), &["nope.msh", "a"]);
    assert_eq!(run.status, 127);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn a_substitutions_items_become_words() {
    // One word per item, glued to the text around it; printed as items print.
    let run =
        marsh("printf '[%s]' $(gen 3) x$(gen 2 | map (v: v * 10))y $(true) $((1, 'a'))\necho");
    assert_eq!(
        run.stdout, "[0][1][2][x0][10y][(1, 'a')]\n",
        "{}",
        run.stderr
    );
    // A program's lines are items; an item with spaces stays one word, never globbed.
    let run = marsh("printf '[%s]' $(printf 'a b\\n*\\n\\n')\necho");
    assert_eq!(run.stdout, "[a b][*]\n", "{}", run.stderr);
    // Nested, and inside double quotes: one word, items joined by newlines.
    let run = marsh("printf '[%s]' \"$(gen 3)\" \"<$(echo $(echo in))>\" \"$(true)\"\necho");
    assert_eq!(run.stdout, "[0\n1\n2][<in>][]\n", "{}", run.stderr);
}

#[test]
fn substituted_bytes_arrive_unchanged() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("raw"), b"a\xffb\xc3\n").expect("written");
    let run = common::marsh_in(dir.path(), "printf '%s|' $(cat raw) \"$(cat raw)\" > out");
    assert_eq!(run.stderr, "");
    let out = std::fs::read(dir.path().join("out")).expect("read");
    assert_eq!(out, b"a\xffb\xc3|a\xffb\xc3|");
}

#[test]
fn an_assignment_of_a_substitution_leaves_its_status() {
    let run = marsh("x = $(sh -c 'echo v; exit 3')\n(STATUS)\necho $x\nx = $(true)\n(STATUS)");
    assert_eq!(run.stdout, "3\nv\n0\n", "{}", run.stderr);
    // A command's STATUS is its own, whatever its substitutions did.
    let run = marsh("echo $(false) ok\n(STATUS)");
    assert_eq!(run.stdout, "ok\n0\n", "{}", run.stderr);
    let run = marsh("x = $(gen 3)\n(x)");
    assert_eq!(run.stdout, "0\n1\n2\n", "{}", run.stderr);
}

#[test]
fn a_substitution_that_cannot_run_stops_its_command() {
    let run = marsh("echo $(no-such-program-here) never\n(STATUS)");
    assert_eq!(run.stdout, "1\n", "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "marsh: unknown op or program: no-such-program-here\n"
    );
    let run = marsh("echo $(gen 3 >$ y)\n(STATUS)");
    assert_eq!(run.stdout, "1\n", "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = marsh("echo $(echo a\n(1)");
    assert_eq!(run.status, 1);
    assert!(
        run.stderr.contains("'$(' is never closed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.lines().nth(2).is_some_and(|l| l.trim() == "^"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_background_commands_substitution_does_not_hold_up_the_shell() {
    // `head` reads the fifo only once the shell, going on, writes it: a substitution run
    // before the command went to the background would wait for ever.
    let dir = tempfile::tempdir().expect("a temp dir");
    nix::unistd::mkfifo(&dir.path().join("fifo"), nix::sys::stat::Mode::S_IRWXU).expect("a fifo");
    let run = common::marsh_in(
        dir.path(),
        "echo got $('head' -1 fifo) &\necho before > fifo\nwait $!\n(STATUS)",
    );
    assert_eq!(run.stdout, "got before\n0\n", "{}", run.stderr);
}

#[test]
fn eval_runs_its_words_joined_by_spaces_as_a_line_of_this_shell() {
    let run = marsh(
        "cmd = 'gen 3'\neval $cmd '| map (x: x * 2)'\neval 'y = 5;' 'echo a && echo $y'\necho $y $STATUS",
    );
    assert_eq!(run.stdout, "0\n2\n4\na\n5\n5 0\n", "{}", run.stderr);
    let run = marsh("eval 'sh -c \"exit 3\"'\necho $STATUS\neval\necho $STATUS");
    assert_eq!(run.stdout, "3\n0\n", "{}", run.stderr);
}

#[test]
fn a_parse_error_in_eval_names_eval_and_sets_status_1() {
    let run = marsh("eval 'echo )'\necho after $STATUS");
    assert_eq!(
        run.stderr,
        "marsh: eval: parse error at column 6: unbalanced parenthesis: ')' without '('\n  echo )\n       ^\n"
    );
    // `-c` goes on after a failing line, as a terminal does.
    assert_eq!(run.stdout, "after 1\n");
}

#[test]
fn wait_n_returns_the_status_of_the_first_job_to_end() {
    // The slow job is killed once the fast one has been waited for: `wait -n` returned first.
    let run = marsh(
        "sleep 30 &\nslow = $!\nsh -c 'exit 7' &\nwait -n\necho $STATUS\nkill $slow\nwait -n\necho $STATUS\nwait -n\necho $STATUS",
    );
    assert_eq!(run.stdout, "7\n143\n127\n", "{}", run.stderr);
}

#[test]
fn wait_n_with_ids_and_its_mistakes() {
    let run = marsh("sh -c 'exit 4' &\nwait -n $! %1\necho $STATUS");
    assert_eq!(run.stdout, "4\n", "{}", run.stderr);
    for (line, message) in [
        ("wait -n %9", "marsh: wait: %9: no such job\n"),
        (
            "wait -n 999999",
            "marsh: wait: pid 999999 is not a child of this shell\n",
        ),
        (
            "wait -n x",
            "marsh: wait: x: arguments must be process or job IDs\n",
        ),
    ] {
        let run = marsh(line);
        assert_eq!((run.stderr.as_str(), run.status), (message, 1), "{line}");
    }
}

//! Lists, groups, continuation and control flow: what a script sees.

mod common;

use common::marsh;

fn out(command: &str) -> String {
    let run = marsh(command);
    assert_eq!(run.stderr, "", "{command}");
    run.stdout
}

#[test]
fn lists_run_in_order_and_by_status() {
    assert_eq!(out("echo a; echo b"), "a\nb\n");
    assert_eq!(out("cd /tmp && pwd"), "/tmp\n");
    assert_eq!(out("false && echo no; false || echo yes"), "yes\n");
    assert_eq!(out("true || echo no && echo then"), "then\n");
    assert_eq!(out("sh -c 'exit 4' || (STATUS)"), "4\n");
    // `;` quoted or escaped is a word.
    assert_eq!(out(r"echo 'a;b' \; c"), "a;b ; c\n");
}

#[test]
fn a_background_list_is_one_job() {
    assert_eq!(out("sleep 0.1 & wait; echo X"), "X\n");
    // The whole and-or list runs in the background; its assignments stay in it.
    let run = marsh("v = out\n{ v = in; echo $v } & wait $!\necho $v (STATUS)");
    assert_eq!(run.stdout, "in\nout 0\n", "{}", run.stderr);
    let run = marsh("sh -c 'exit 3' && echo no & wait $!\n(STATUS)");
    assert_eq!(run.stdout, "3\n", "{}", run.stderr);
}

#[test]
fn groups() {
    assert_eq!(out("{ echo a; echo b } && echo c"), "a\nb\nc\n");
    assert_eq!(out("echo {} '{' \"}\""), "{} { }\n");
    assert_eq!(out("{\n  echo in\n}\necho out"), "in\nout\n");
}

#[test]
fn if_else_if_else() {
    let script =
        "n = (5)\nif (n > 7) { echo big } else if (n > 3) { echo mid } else { echo small }";
    assert_eq!(out(script), "mid\n");
    assert_eq!(out("if test -d / { echo dir }"), "dir\n");
    assert_eq!(out("if false { echo no }\n(STATUS)"), "0\n");
    let script = "if true {\n  echo one\n} else {\n  echo two\n}";
    assert_eq!(out(script), "one\n");
}

#[test]
fn while_loops_break_and_continue() {
    let script = "i = (0)\nwhile (i < 5) {\n  i = (i + 1)\n  if (i == 2) { continue }\n  if (i == 4) { break }\n  echo $i\n}\necho end $i";
    assert_eq!(out(script), "1\n3\nend 4\n");
    assert_eq!(out("while false { echo no }; echo done"), "done\n");
}

#[test]
fn for_streams_its_items_with_their_types() {
    assert_eq!(out("for i in gen 3 { echo (i * 10) }"), "0\n10\n20\n");
    // Streamed, not collected first: an endless source ends when the loop breaks.
    assert_eq!(
        out("for i in gen 0 { if (i == 3) { break }; echo $i }; echo after"),
        "0\n1\n2\nafter\n"
    );
    assert_eq!(
        out("for l in printf 'a\\nb\\n' { echo \"[$l]\" }"),
        "[a]\n[b]\n"
    );
    assert_eq!(
        out("for p in gen 2 | map (x: (x, 'v')) {\n  echo (p[1]) (p[0])\n}"),
        "v 0\nv 1\n"
    );
}

#[test]
fn bad_input_is_one_clear_line_and_status_1() {
    for (script, message) in [
        ("{ echo a", "'{' is never closed"),
        ("echo a }", "'}' without '{'"),
        ("echo a; else { b }", "'else' without 'if'"),
        ("break", "'break' outside a loop"),
        ("if true { a }\nelse { b }", "'else' without 'if'"),
        ("echo a &&", "a command must follow '&&'"),
    ] {
        let run = marsh(script);
        assert!(run.stderr.contains(message), "{script}: {}", run.stderr);
        assert!(
            run.stderr.lines().any(|l| l.trim() == "^"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{script}");
        assert_eq!(run.status, 1, "{script}");
    }
    // The shell goes on after the error.
    let run = marsh("break\necho still here");
    assert_eq!(run.stdout, "still here\n");
    // A mistake inside a body of several lines is one error: the body's other lines and its
    // closing brace go with it, and the next command runs.
    let run = marsh("for i in gen 2 {\n  echo a |\n  | bad\n  echo inside\n}\necho after");
    assert_eq!(run.stdout, "after\n", "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("parse error").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("empty stage after '|'"),
        "{}",
        run.stderr
    );
}

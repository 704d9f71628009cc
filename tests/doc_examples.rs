//! The examples of `docs/language.md` run as written.
//!
//! A ```` ```marsh-session ```` block is a transcript: each `$ ` line is a command, the lines
//! after it are what it prints (stdout and stderr as one stream, in order). The block's
//! commands run as one `marsh -c` in a fresh directory (also HOME), with this marsh on PATH,
//! and its output must be the block's output lines exactly. A ```` ```marsh-startup ````
//! block is a startup file, run at a terminal by `tests/interactive.rs`. A
//! ```` ```marsh-example ```` block keeps the two streams apart, for examples whose stdout and
//! stderr interleave at no fixed point: its `$ ` lines run as one script, the lines that start
//! with `marsh: ` are its stderr, the others its stdout, each in order.

mod common;

use std::process::{Command, Stdio};

/// A transcript block's commands and the output it shows.
fn split(block: &str) -> (String, String) {
    let mut commands = String::new();
    let mut output = String::new();
    for line in block.lines() {
        match line.strip_prefix("$ ") {
            Some(command) => {
                commands.push_str(command);
                commands.push('\n');
            }
            None => {
                output.push_str(line);
                output.push('\n');
            }
        }
    }
    (commands, output)
}

/// Runs `commands` with marsh's stdout and stderr on one pipe; what came out.
fn run(commands: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let marsh = env!("CARGO_BIN_EXE_marsh");
    let bin = std::path::Path::new(marsh).parent().unwrap().to_path_buf();
    let mut path = vec![bin];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let mut child = Command::new(marsh)
        .arg("-c")
        .arg(commands)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", dir.path())
        .env("LANG", "C.UTF-8")
        .env("MARSH_RUNTIME_DIR", dir.path().join(".marsh-runtime"))
        .stdin(Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .expect("marsh runs");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut { reader }, &mut out).expect("its output");
    child.wait().expect("marsh ends");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn every_session_example_prints_what_it_shows() {
    let blocks = common::doc_blocks("marsh-session");
    assert!(blocks.len() >= 5, "the docs have their examples");
    let mut failures = Vec::new();
    for (line, block) in &blocks {
        let (commands, expected) = split(block);
        let got = run(&commands);
        if got != expected {
            failures.push(format!(
                "docs/language.md:{line}:\n--- shown\n{expected}--- printed\n{got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_transcript_splits_into_commands_and_output() {
    let (commands, output) = split("$ echo a\na\n$ X = 1\n$ echo $X\n1\n");
    assert_eq!(commands, "echo a\nX = 1\necho $X\n");
    assert_eq!(output, "a\n1\n");
}

// ---- examples with stdout and stderr apart ----------------------------------------------

use std::path::PathBuf;

/// One example block: where it starts in the document, its script and what it prints.
struct Example {
    line: usize,
    script: String,
    stdout: String,
    stderr: String,
}

fn examples(doc: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut current: Option<Example> = None;
    for (n, line) in doc.lines().enumerate() {
        match current.as_mut() {
            None if line.trim_end() == "```marsh-example" => {
                current = Some(Example {
                    line: n + 1,
                    script: String::new(),
                    stdout: String::new(),
                    stderr: String::new(),
                });
            }
            None => {}
            Some(_) if line.trim_end() == "```" => out.extend(current.take()),
            Some(ex) => {
                let target = if line.starts_with("$ ") {
                    &mut ex.script
                } else if line.starts_with("marsh: ") {
                    &mut ex.stderr
                } else {
                    &mut ex.stdout
                };
                target.push_str(line.strip_prefix("$ ").unwrap_or(line));
                target.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an example block is never closed");
    out
}

#[test]
fn every_split_example_prints_what_it_shows() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/language.md");
    let doc = std::fs::read_to_string(&path).expect("docs/language.md");
    let all = examples(&doc);
    assert!(all.len() >= 3, "docs/language.md has its examples");
    let mut failures = Vec::new();
    for ex in &all {
        let run = common::marsh(&ex.script);
        if run.stdout != ex.stdout || run.stderr != ex.stderr {
            failures.push(format!(
                "docs/language.md:{}:\n--- script\n{}--- expected stdout\n{}--- got\n{}--- expected stderr\n{}--- got\n{}",
                ex.line, ex.script, ex.stdout, run.stdout, ex.stderr, run.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

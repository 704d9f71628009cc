//! The examples of docs/language.md run as written.
//!
//! A block fenced as ```` ```marsh-example ```` holds commands, each on a line starting with
//! `$ `, each followed by what it prints. The commands of one block run as one script in a
//! fresh directory (so a later command sees the files and variables of an earlier one); the
//! lines that start with `marsh: ` are what the block writes to stderr, the other lines what it
//! writes to stdout, each in order.

mod common;

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
fn language_md_examples_run_as_written() {
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

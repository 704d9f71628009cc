//! Every example of `docs/language.md` written as a ```` ```marsh ```` block followed by an
//! ```` ```output ```` block runs with `marsh -c` and prints exactly that output.

mod common;

/// The (program, expected output) pairs of a markdown text.
fn examples(doc: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```marsh" {
            continue;
        }
        let program: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let fence = lines.next().unwrap_or_default();
        assert_eq!(
            fence.trim(),
            "```output",
            "a marsh example without its output: {program:?}"
        );
        let output: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        found.push((program.join("\n"), output.join("\n") + "\n"));
    }
    found
}

#[test]
fn language_doc_examples_print_what_they_say() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md"))
        .expect("docs/language.md");
    let examples = examples(&doc);
    assert!(
        examples.len() >= 7,
        "only {} examples found",
        examples.len()
    );
    for (program, output) in examples {
        let run = common::marsh(&program);
        assert_eq!(run.stdout, output, "{program}\n--- stderr\n{}", run.stderr);
        assert_eq!(run.stderr, "", "{program}");
    }
}

//! marsh at a terminal, through jobcheck: history, completion, help.

mod common;

#[test]
fn history_is_kept_in_a_file_and_recalled_with_up() {
    let mut s = common::start("marsh", "history");
    s.type_line("gen 4 | red +").unwrap();
    s.wait_prompt().unwrap();
    // Up recalls the last line; Enter runs it again.
    s.send(b"\x1b[A\r").unwrap();
    s.wait_prompt().unwrap();
    let out = s.run("help head").unwrap();
    assert!(out.contains("head N"), "{out}");
    s.type_line("exit").unwrap();
    s.wait_exit().unwrap();
    let history = std::fs::read_to_string(s.dir().join("home/.local/share/marsh/history")).unwrap();
    assert!(history.lines().any(|l| l == "gen 4 | red +"), "{history}");
    let screen = s.screen();
    assert_eq!(
        screen.lines().filter(|l| l.trim() == "6").count(),
        2,
        "{screen}"
    );
}

#[test]
fn tab_completes_op_names_and_variables() {
    let mut s = common::start("marsh", "completion");
    s.type_line("total = (41)").unwrap();
    s.wait_prompt().unwrap();
    // "(tot" + Tab + "al + 1)" would be wrong: the completion fills "total" itself.
    s.send(b"(tot\t").unwrap();
    s.send(b" + 1)\r").unwrap();
    s.wait_prompt().unwrap();
    s.send(b"gen 3 | rev\t").unwrap();
    s.send(b"\r").unwrap();
    s.wait_prompt().unwrap();
    let screen = s.screen();
    assert!(screen.lines().any(|l| l.trim() == "42"), "{screen}");
    assert!(screen.contains("gen 3 | reverse"), "{screen}");
}

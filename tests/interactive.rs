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

#[test]
fn the_startup_file_runs_before_the_first_prompt_and_its_errors_leave_the_shell_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("startup.msh");
    std::fs::write(
        &file,
        "greeting = from-startup\nno-such-program-xyz\nexport LATER=yes\n",
    )
    .unwrap();
    let env = vec![("MARSH_STARTUP".to_string(), file.display().to_string())];
    let mut s = common::start_with("marsh", "startup", env);
    let out = s.run("echo $greeting $LATER").unwrap();
    assert!(out.contains("from-startup yes"), "{out}");
    let output = s.output();
    let text = String::from_utf8_lossy(&output);
    let error = format!(
        "{}:2: unknown op or program: no-such-program-xyz",
        file.display()
    );
    // The first prompt came after the startup file: it is number 1, after the error.
    let first = text.find("marsh 1$").expect("a first prompt");
    assert!(text.find(&error).is_some_and(|at| at < first), "{text:?}");
    s.type_line("exit").unwrap();
    s.wait_exit().unwrap();
}

#[test]
fn the_default_startup_file_is_under_xdg_config_home() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("marsh")).unwrap();
    std::fs::write(dir.path().join("marsh/startup.msh"), "from_xdg = (1)\n").unwrap();
    let env = vec![
        // Empty: not named, so the default applies (the adapter names /dev/null).
        ("MARSH_STARTUP".to_string(), String::new()),
        (
            "XDG_CONFIG_HOME".to_string(),
            dir.path().display().to_string(),
        ),
    ];
    let mut s = common::start_with("marsh", "startup-xdg", env);
    let out = s.run("(from_xdg + 1)").unwrap();
    assert!(out.lines().any(|l| l.trim() == "2"), "{out}");
}

#[test]
fn the_adapter_starts_marsh_with_no_startup_file() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".config/marsh");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("startup.msh"), "from_home = (41)\n").unwrap();
    let home_var = ("HOME".to_string(), home.path().display().to_string());
    // As the adapter starts it (MARSH_STARTUP=/dev/null), ~/.config/marsh/startup.msh is not read.
    let mut s = common::start_with("marsh", "no-startup", vec![home_var.clone()]);
    let out = s.run("env").unwrap();
    assert!(!out.contains("from_home"), "{out}");
    // Without it, that file is the default.
    let unnamed = ("MARSH_STARTUP".to_string(), String::new());
    let mut s = common::start_with("marsh", "home-startup", vec![home_var, unnamed]);
    let out = s.run("(from_home + 1)").unwrap();
    assert!(out.lines().any(|l| l.trim() == "42"), "{out}");
}

#[test]
fn the_startup_example_of_the_docs_runs() {
    let blocks = common::doc_blocks("marsh-startup");
    let [(_, text)] = blocks.as_slice() else {
        panic!("docs/language.md has one marsh-startup block: {blocks:?}");
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("startup.msh");
    std::fs::write(&file, text).unwrap();
    let env = vec![("MARSH_STARTUP".to_string(), file.display().to_string())];
    let mut s = common::start_with("marsh", "startup-doc", env);
    let out = s.run("sh -c 'echo $EDITOR $LESS'").unwrap();
    assert!(out.contains("vim -R"), "{out}");
    let out = s.run("echo $greeting").unwrap();
    assert!(out.lines().any(|l| l.trim() == "hello"), "{out}");
    assert!(!s.screen().contains("marsh:"), "{}", s.screen());
}

/// Whether `sig` is pending for process `pid` (its shared or its main thread's pending set).
fn pending(pid: i32, sig: nix::sys::signal::Signal) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let bit = 1u64 << (sig as i32 - 1);
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("ShdPnd:")
                .or_else(|| l.strip_prefix("SigPnd:"))
        })
        .any(|mask| u64::from_str_radix(mask.trim(), 16).is_ok_and(|m| m & bit != 0))
}

#[test]
fn a_line_typed_after_a_sigwinch_is_not_lost() {
    // The race of posix/winch-at-prompt, held open where a test can: the resize is taken
    // (its signal handled) while a job runs and the line is typed ahead after it, so the
    // editor finds both ready at once, the resize first, when it next waits. With crossterm's
    // default event source this case was still rescued by the cursor-position answer reedline
    // asks for at each new prompt (new input, a new edge); at an idle prompt nothing rescued
    // it, which only the repeated scenario shows (the race is in the scheduler's hands).
    use nix::sys::signal::Signal;
    let mut s = common::start("marsh", "winch-typeahead");
    s.type_line("sleep 30").unwrap();
    s.wait_foreground_job(&["sleep"]).unwrap();
    s.signal_shell(Signal::SIGWINCH).unwrap();
    let shell = s.shell_pid().as_raw();
    s.wait_until("the shell to take its SIGWINCH", |_| {
        (!pending(shell, Signal::SIGWINCH)).then_some(())
    })
    .unwrap();
    s.send(b"echo alive\r").unwrap();
    s.signal_foreground(Signal::SIGKILL).unwrap();
    s.wait_output("(?m)^alive").unwrap();
    s.wait_prompt().unwrap();
}

#[test]
fn keys_that_arrive_together_are_painted_once() {
    // Typed ahead while a job runs, a whole line waits in the terminal and the editor reads
    // it in one read(2). reedline drains such a batch with zero-timeout polls; crossterm's
    // use-dev-tty source answered those "nothing" while parsed keys sat in its buffer
    // (crossterm#839, patched in vendor/crossterm), so each key was its own batch and its
    // own repaint: 44 redraws before the line ran, which made `fg %k` 2-3x slower than bash.
    let line = "echo the-keys-of-this-line-come-in-one-read";
    let mut s = common::start("marsh", "one-paint");
    s.type_line("sleep 30").unwrap();
    s.wait_foreground_job(&["sleep"]).unwrap();
    s.set_mark();
    let from = s.mark();
    s.send(format!("{line}\r").as_bytes()).unwrap();
    s.signal_foreground(nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    s.wait_output("(?m)^the-keys-of-this-line-come-in-one-read")
        .unwrap();
    s.wait_prompt().unwrap();
    let output = s.output();
    // Every paint of the prompt line starts by hiding the cursor.
    let paints = output[from..]
        .windows(6)
        .filter(|w| w == b"\x1b[?25l")
        .count();
    assert!(
        paints < 8,
        "{paints} paints for one line of {} keys typed ahead",
        line.len() + 1
    );
}

#[test]
fn a_substitution_runs_in_the_shells_group_ctrl_z_does_nothing_and_ctrl_c_ends_the_line() {
    use jobcheck::session::Key;
    let mut s = common::start("marsh", "cmdsub-keys");
    let shell = s.shell_pgid();
    s.type_line("echo $(sleep 30) after; echo rest").unwrap();
    // The substitution's program is no job: it runs in the shell's own group, which keeps
    // the terminal.
    s.wait_until(
        "sleep to run in the shell's group, the terminal still the shell's",
        |s| {
            let in_group = s
                .processes()
                .iter()
                .any(|p| p.comm == "sleep" && p.pgid == Some(shell) && !p.is_stopped());
            (in_group && s.foreground() == Some(shell)).then_some(())
        },
    )
    .unwrap();
    // ^Z reaches sleep before ^C does: had it stopped sleep, ^C could not end it and no
    // prompt would come.
    s.key(Key::CtrlZ).unwrap();
    s.key(Key::CtrlC).unwrap();
    s.wait_prompt().unwrap();
    // What came after the typed line's echo (which the reader may take in only after sleep
    // has started, so an offset taken before the keys could still hold it).
    let output = String::from_utf8_lossy(&s.output()).into_owned();
    let typed = "after; echo rest";
    let echoed = output.find(typed).expect("the typed line is echoed") + typed.len();
    let shown = output[echoed..].to_string();
    assert!(!shown.contains("after"), "echo ran: {shown:?}");
    assert!(
        !shown.contains("rest"),
        "the rest of the line ran: {shown:?}"
    );
    assert!(!shown.contains("Stopped"), "{shown:?}");
    let out = s.run("echo status $STATUS").unwrap();
    assert!(out.contains("status 130"), "{out:?}");
    assert!(s.jobs().unwrap().is_empty());
    s.check_clean(&[]).unwrap();
}

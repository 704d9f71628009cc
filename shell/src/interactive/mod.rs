//! The interactive shell: line editing (reedline), history, completion, the numbered prompt.
//!
//! Keys at the prompt: ctrl-c clears the line and gives a fresh prompt (and runs the INT
//! trap, if one is set); ctrl-z inserts nothing
//! and stops nothing (the terminal is in raw mode while a line is edited, so it reaches the
//! editor as a key, which is bound to nothing); ctrl-d on an empty line acts as `exit`.
//! Enter on an unfinished command (an open brace, a trailing `|`, `&&`, `||` or `\`) starts
//! a further line, shown after `$MARSH_PROMPT2` (default `... `), instead of running it.
//!
//! A trapped signal that arrives while the editor waits runs its action at once: the signal
//! handler sets a flag the editor polls (every [`TRAP_POLL`], only while a trap is set), the
//! editor returns the line typed so far, the action runs below it, and the prompt is drawn
//! again with the line as it was (same number: no command ran).
//!
//! A window resize (SIGWINCH) never costs typed input. reedline reads events through
//! crossterm, whose default event source waits with edge-triggered epoll and returns from the
//! first ready source it handles: when the SIGWINCH pipe and the terminal were ready in the
//! same wakeup, it returned the resize and the terminal's readiness was gone, so a line typed
//! right after the signal stayed unread until the next key (seen 2 times in 125
//! `posix/winch-at-prompt` runs). marsh builds crossterm with `use-dev-tty`, whose source
//! waits with level-triggered poll(2) and reads the terminal first: unread input is reported
//! again at the next wait, whatever came with it.

mod complete;
mod prompt;

pub use complete::MarshCompleter;
pub use prompt::{DEFAULT_PROMPT, DEFAULT_PROMPT2, NumberedPrompt};

/// Tells reedline whether Enter ends the command or starts a further line of it.
struct Continuation;

impl reedline::Validator for Continuation {
    fn validate(&self, line: &str) -> reedline::ValidationResult {
        if crate::syntax::is_unfinished(line) {
            reedline::ValidationResult::Incomplete
        } else {
            reedline::ValidationResult::Complete
        }
    }
}

use crate::shell::{Control, Shell};
use reedline::{
    ColumnarMenu, Emacs, FileBackedHistory, KeyCode, KeyModifiers, MenuBuilder, Reedline,
    ReedlineEvent, ReedlineMenu, Signal, default_emacs_keybindings,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where history is kept: `$MARSH_HISTORY`, else `$XDG_DATA_HOME/marsh/history`, else
/// `~/.local/share/marsh/history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MARSH_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("marsh").join("history"))
}

/// The line editor, configured for marsh.
fn editor(variables: Arc<Mutex<Vec<String>>>) -> Reedline {
    let mut keys = default_emacs_keybindings();
    // reedline binds ctrl-z to undo; at a shell prompt it must do nothing at all.
    keys.add_binding(
        KeyModifiers::CONTROL,
        KeyCode::Char('z'),
        ReedlineEvent::None,
    );
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu("completion".into()),
            ReedlineEvent::MenuNext,
        ]),
    );
    let menu = ColumnarMenu::default().with_name("completion");
    let mut editor = Reedline::create()
        .with_edit_mode(Box::new(Emacs::new(keys)))
        .with_completer(Box::new(MarshCompleter { variables }))
        .with_validator(Box::new(Continuation))
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu)))
        .with_quick_completions(true)
        .with_partial_completions(true);
    if let Some(path) = history_path() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match FileBackedHistory::with_file(10_000, path.clone()) {
            Ok(history) => editor = editor.with_history(Box::new(history)),
            Err(e) => eprintln!("marsh: history {}: {e}", path.display()),
        }
    }
    editor
}

/// How often the line editor looks at the wake flag while a trap is set: the longest a
/// trapped signal at an idle prompt waits for its action.
const TRAP_POLL: Duration = Duration::from_millis(20);

/// Runs the interactive loop until `exit` or ctrl-d; returns the exit status.
pub fn run(shell: &mut Shell) -> i32 {
    let template = std::env::var("MARSH_PROMPT").unwrap_or_else(|_| DEFAULT_PROMPT.to_string());
    let continuation =
        std::env::var("MARSH_PROMPT2").unwrap_or_else(|_| DEFAULT_PROMPT2.to_string());
    let variables = Arc::new(Mutex::new(Vec::new()));
    let mut editor = editor(variables.clone());
    // Set by the signal handler; the editor polls it only once a trap is set, so a shell
    // without traps waits for keys without waking up.
    let wake = Arc::new(AtomicBool::new(false));
    crate::job::System::set_wake_flag(shell.jobs.system(), wake.clone());
    let mut listening = false;
    let mut counter: u64 = 0;
    loop {
        shell.before_prompt();
        // A signal that came while the line ran and had no chance to wake the editor.
        wake.store(false, Ordering::Release);
        if let Control::Exit(code) = shell.run_traps() {
            return code;
        }
        if let Ok(mut names) = variables.lock() {
            *names = shell.vars.names().map(String::from).collect();
        }
        counter += 1;
        if !listening && shell.traps.any_signal_action() {
            editor = editor
                .with_break_signal(wake.clone())
                .with_poll_interval(TRAP_POLL);
            listening = true;
        }
        // A ctrl-c from here on interrupts the line about to be read; an older one is spent.
        crate::shell::signals::take_interrupt(shell.jobs.system());
        let prompt = NumberedPrompt::new(&template, counter).with_continuation(&continuation);
        let read = match read_line(shell, &mut editor, &prompt) {
            Ok(read) => read,
            Err(code) => return code,
        };
        match read {
            Ok(Signal::Success(line)) => {
                if let Control::Exit(code) = shell.run_line(&line) {
                    return code;
                }
            }
            Ok(Signal::CtrlC) => {
                // A trapped INT runs its action; the shell stays up either way.
                if shell.trap_interrupt_key()
                    && let Control::Exit(code) = shell.run_traps()
                {
                    return code;
                }
            }
            Ok(Signal::CtrlD) => {
                if let Control::Exit(code) = shell.request_exit(shell.status()) {
                    return code;
                }
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("marsh: reading the line: {e}");
                return 1;
            }
        }
    }
}

/// Reads one line at `prompt`. A trapped signal that arrives meanwhile runs its action below
/// the line being typed, then the same prompt is drawn again with that line as it was.
/// `Err` when an action ran `exit`.
fn read_line(
    shell: &mut Shell,
    editor: &mut Reedline,
    prompt: &NumberedPrompt,
) -> Result<std::io::Result<Signal>, i32> {
    loop {
        // While the line editor waits, ended jobs are reaped as they end (bash does the same),
        // not all at once when Enter is pressed; off again before the line runs.
        crate::job::System::reap_eagerly(shell.jobs.system(), true);
        let read = editor.read_line(prompt);
        crate::job::System::reap_eagerly(shell.jobs.system(), false);
        let Ok(Signal::ExternalBreak(_)) = read else {
            return Ok(read);
        };
        if shell.trap_pending() {
            // The action's output starts below the line being edited.
            println!();
            if let Control::Exit(code) = shell.run_traps() {
                return Err(code);
            }
        }
    }
}

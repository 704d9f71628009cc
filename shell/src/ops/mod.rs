//! The built-in ops, as push-driven pipeline stages.
//!
//! A pipeline runs by pushing: its source (`gen`, `ls`, a file, a reservoir, a host program's
//! output) calls [`Sink::push`] once per item on the first stage, which pushes to the next, and
//! so on to the final sink (the terminal, a file, a reservoir). A stage that wants no more items
//! (`head`) answers [`Flow::Stop`], which travels back up so the source stops producing: `gen 0 |
//! head 3` ends at once. After the last item every sink gets exactly one [`Sink::finish`] (also
//! after a `Stop`), where ops that gather (`red`, `sort`, `tail`) emit their results.
//!
//! Errors come in two kinds: a per-item evaluation error is reported (op, item, reason) through
//! the [`Reporter`] and the stream goes on; an [`OpError`] stops the whole command.

mod data;
mod red;
mod registry;
mod sets;
mod sources;
mod transforms;

pub use registry::{Builtin, HELP_OVERVIEW, OpSpec, Role, find, help_text, names};
pub use sources::{FileLines, epoch_now, file_info, glob_paths, io_reason, is_glob, push_lines};
pub use transforms::map_with;

use crate::expr::{CompiledFn, Globals};
use crate::syntax::ast::{Arg, Expr};
use crate::value::Value;
use std::fmt;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a sink tells its upstream after taking an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Send more.
    Continue,
    /// Send no more: downstream has all it wants (or its reader went away).
    Stop,
}

/// A stage that receives items.
pub trait Sink: Send {
    /// Takes one item.
    fn push(&mut self, item: Value) -> Result<Flow, OpError>;
    /// The stream has ended; emit what was gathered and pass the end on.
    fn finish(&mut self) -> Result<(), OpError>;

    /// Whether this sink looks at how many items arrive and nothing else (`red count`), so a
    /// producer may call [`Sink::push_uncounted`] instead of making each item.
    fn only_counts(&self) -> bool {
        false
    }

    /// Takes `n` items that were not made, for a sink that [`Sink::only_counts`]. The
    /// default, for any other sink, is a usage mistake of the producer.
    fn push_uncounted(&mut self, n: u64) -> Result<Flow, OpError> {
        let _ = n;
        Err(OpError::new(
            "",
            "internal: items pushed uncounted to a sink that reads them",
        ))
    }
}

/// A stage that produces items: the start of a pipeline.
pub trait Source: Send {
    /// Pushes items into `sink` until the source is exhausted or the sink says stop.
    /// Does not call `finish`; the runner does that.
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError>;

    /// The file this source reads, opened, for a program that reads its bytes directly
    /// (`< f cat`); `None` when the source is not a file. Called instead of `run`.
    fn as_stdin(&mut self) -> Result<Option<std::fs::File>, OpError> {
        Ok(None)
    }
}

/// A stage in the middle of a pipeline, waiting to be joined to its downstream.
pub type Filter = Box<dyn FnOnce(Box<dyn Sink>) -> Box<dyn Sink> + Send>;

/// An error that stops a command: one line, naming the op.
#[derive(Clone, Debug, PartialEq)]
pub struct OpError {
    pub op: String,
    pub message: String,
    kind: ErrorKind,
}

/// Why a command stopped, for what the shell does next (its `STATUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// It failed: `STATUS` 1.
    Failed,
    /// ctrl-c stopped an evaluation: `STATUS` 130, as for a command killed by SIGINT.
    Interrupted,
}

impl OpError {
    /// A failure of `op` (empty: none to name), in words.
    pub fn new(op: &str, message: impl Into<String>) -> OpError {
        OpError {
            op: op.to_string(),
            message: message.into(),
            kind: ErrorKind::Failed,
        }
    }

    /// An evaluation error met by `op`, keeping whether it was an interruption.
    pub fn from_eval(op: &str, e: &crate::expr::EvalError) -> OpError {
        let kind = match e {
            crate::expr::EvalError::Interrupted => ErrorKind::Interrupted,
            crate::expr::EvalError::Failed(_) => ErrorKind::Failed,
        };
        OpError {
            kind,
            ..OpError::new(op, e.to_string())
        }
    }

    /// Why the command stopped.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.op, self.message)
        }
    }
}

impl std::error::Error for OpError {}

/// `text` with its control characters escaped (`\n`, `\t`, `\x1b`...): an error message quotes
/// what the user typed, and must stay one line whatever that was.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// How many items failing the same way (same op, same reason) are shown one by one; the
/// rest are counted and told in one summary line when the reporter is done.
pub const SHOWN_PER_FAILURE: u64 = 5;

/// Reports per-item errors to stderr (or where an op's `2> f` sends them) and counts them, so
/// the command's status can say that something went wrong while the stream went on.
///
/// An error repeated over many items is shown for the first [`SHOWN_PER_FAILURE`] items; the
/// others end in one line, `marsh: map: 99,995 more items failed the same way: division by
/// zero`, written by [`Reporter::summarize`] (or when the reporter is dropped), where the
/// shown ones went.
#[derive(Default, Debug)]
pub struct Reporter {
    /// Shared by every reporter of one pipeline.
    errors: Arc<AtomicU64>,
    /// Where the messages go instead of stderr: an op's `2> f`.
    file: Option<std::sync::Mutex<std::fs::File>>,
    /// Per op and reason, how many items failed that way, in the order first seen.
    repeats: std::sync::Mutex<Repeats>,
}

/// The failures a reporter has seen, by op and reason.
#[derive(Default, Debug)]
struct Repeats {
    seen: std::collections::HashMap<(String, String), u64>,
    order: Vec<(String, String)>,
}

impl Repeats {
    /// Counts one more failure; whether it is among the first few, to be shown.
    fn count(&mut self, op: &str, reason: String) -> bool {
        let key = (op.to_string(), reason);
        let n = match self.seen.get_mut(&key) {
            Some(n) => n,
            None => {
                self.order.push(key.clone());
                self.seen.entry(key).or_default()
            }
        };
        *n += 1;
        *n <= SHOWN_PER_FAILURE
    }
}

/// `n` with a comma between groups of three digits: `99,995`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Reporter {
    pub fn new() -> Arc<Reporter> {
        Arc::new(Reporter::default())
    }

    /// A reporter for one op whose messages go into `file`; it counts with this one.
    pub fn into_file(&self, file: std::fs::File) -> Arc<Reporter> {
        Arc::new(Reporter {
            errors: self.errors.clone(),
            file: Some(std::sync::Mutex::new(file)),
            repeats: Default::default(),
        })
    }

    /// Writes one message line where this reporter's messages go.
    fn say(&self, args: fmt::Arguments<'_>) {
        match &self.file {
            Some(file) => {
                let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let _ = writeln!(file, "{args}");
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{args}");
            }
        }
    }

    fn repeats(&self) -> std::sync::MutexGuard<'_, Repeats> {
        self.repeats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One evaluation error: which op, on which item, and why. Shown for the first few
    /// items that fail the same way, counted for the others.
    pub fn item_error(&self, op: &str, item: &Value, reason: &dyn fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let reason = reason.to_string();
        if !self.repeats().count(op, reason.clone()) {
            return;
        }
        let mut item_text = item.repr();
        if item_text.chars().count() > 60 {
            item_text = item_text.chars().take(57).collect::<String>() + "...";
        }
        self.say(format_args!(
            "marsh: {op}: item {item_text}: {}",
            one_line(&reason)
        ));
    }

    /// One line per failure that was not shown for every item: how many more items failed
    /// that way. Each is told once; a later call tells only what came since.
    pub fn summarize(&self) {
        let repeats = std::mem::take(&mut *self.repeats());
        for key in &repeats.order {
            let n = repeats.seen[key];
            if n > SHOWN_PER_FAILURE {
                let (op, reason) = key;
                let more = n - SHOWN_PER_FAILURE;
                self.say(format_args!(
                    "marsh: {op}: {} more item{} failed the same way: {}",
                    thousands(more),
                    if more == 1 { "" } else { "s" },
                    one_line(reason)
                ));
            }
        }
    }

    /// Any other problem worth a line that does not stop the command.
    pub fn warning(&self, op: &str, message: &dyn fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let message = message.to_string();
        self.say(format_args!("marsh: {op}: {}", one_line(&message)));
    }

    pub fn error_count(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.summarize();
    }
}

/// What a command can read besides its arguments: the variables its functions may read
/// ([`Globals`]) and the streams stored in reservoirs, which ops such as `join` and `union`
/// take as their other input.
pub trait Scope: Globals {
    /// The items of reservoir `name`, for `op`; an error when `name` holds no stream.
    fn stream(&self, op: &str, name: &str) -> Result<Box<dyn Source>, OpError>;
}

impl Scope for crate::expr::NoGlobals {
    fn stream(&self, op: &str, name: &str) -> Result<Box<dyn Source>, OpError> {
        Err(OpError::new(op, format!("no variable named {name}")))
    }
}

/// What an op needs to build its stage: its arguments, the variables its functions may read,
/// the reservoirs it may stream, and where per-item errors go.
pub struct OpArgs<'a> {
    pub op: &'a str,
    pub args: &'a [Arg],
    pub globals: &'a dyn Scope,
    pub reporter: &'a Arc<Reporter>,
}

impl OpArgs<'_> {
    pub fn error(&self, message: impl Into<String>) -> OpError {
        OpError::new(self.op, message)
    }

    /// Splits leading flags (`-r`, `-o 3` is handled by the op) from the rest.
    pub fn words_and_values(&self) -> Result<Vec<ArgValue>, OpError> {
        self.args
            .iter()
            .map(|a| match a {
                Arg::Word(w) => Ok(ArgValue::Word(w.text.clone(), w.quoted)),
                Arg::Expr(e) => self.eval(e).map(ArgValue::Value),
                Arg::Func(f) => crate::expr::compile_function(f, self.globals)
                    .map(|c| ArgValue::Func(Box::new(c)))
                    .map_err(|e| self.error(e.to_string())),
            })
            .collect()
    }

    pub fn eval(&self, e: &Expr) -> Result<Value, OpError> {
        crate::expr::eval(e, self.globals).map_err(|err| OpError::from_eval(self.op, &err))
    }

    /// How to run the program this op shadows with the same arguments: `'join' a b` (a
    /// quoted name never denotes an op).
    pub fn as_program(&self) -> String {
        let mut line = format!("'{}'", self.op);
        for arg in self.args {
            line.push(' ');
            line.push_str(&match arg {
                Arg::Word(w) => w.to_string(),
                Arg::Expr(e) => format!("({e})"),
                Arg::Func(f) => f.to_string(),
            });
        }
        line
    }

    /// Exactly `n` arguments, or a usage error.
    pub fn expect_count(&self, range: std::ops::RangeInclusive<usize>) -> Result<(), OpError> {
        if range.contains(&self.args.len()) {
            Ok(())
        } else {
            Err(self.error(format!("{} (try: help {})", usage_of(self.op), self.op)))
        }
    }
}

/// An argument after evaluation.
pub enum ArgValue {
    /// A word, and whether it was quoted.
    Word(String, bool),
    Value(Value),
    Func(Box<CompiledFn>),
}

impl ArgValue {
    pub fn describe(&self) -> String {
        match self {
            ArgValue::Word(w, _) => format!("'{w}'"),
            ArgValue::Value(v) => v.repr(),
            ArgValue::Func(_) => "a function".into(),
        }
    }
}

fn usage_of(op: &str) -> String {
    match registry::find(op) {
        Some(spec) => format!("usage: {}", spec.usage),
        None => format!("bad arguments to {op}"),
    }
}

/// Reads an integer argument: a word like `3` or a value like `(n * 2)`.
pub fn int_arg(op: &str, what: &str, arg: &ArgValue) -> Result<i64, OpError> {
    match arg {
        ArgValue::Value(Value::Int(i)) => Ok(*i),
        ArgValue::Word(w, _) => w.parse::<i64>().map_err(|_| {
            OpError::new(
                op,
                format!("{what} must be an integer, got {}", arg.describe()),
            )
        }),
        _ => Err(OpError::new(
            op,
            format!("{what} must be an integer, got {}", arg.describe()),
        )),
    }
}

/// Reads a number argument (int or float).
pub fn number_arg(op: &str, what: &str, arg: &ArgValue) -> Result<f64, OpError> {
    match arg {
        ArgValue::Value(Value::Int(i)) => Ok(*i as f64),
        ArgValue::Value(Value::Float(f)) => Ok(*f),
        ArgValue::Word(w, _) => w
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| {
                OpError::new(
                    op,
                    format!("{what} must be a number, got {}", arg.describe()),
                )
            }),
        _ => Err(OpError::new(
            op,
            format!("{what} must be a number, got {}", arg.describe()),
        )),
    }
}

/// Reads a function argument.
pub fn func_arg(op: &str, arg: ArgValue) -> Result<CompiledFn, OpError> {
    match arg {
        ArgValue::Func(f) => Ok(*f),
        other => Err(OpError::new(
            op,
            format!(
                "expected a function like (x: x * 2), got {}",
                other.describe()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(5), "5");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(99_995), "99,995");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn repeated_failures_are_shown_a_few_times_then_counted() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("errs");
        let reporter = Reporter::new().into_file(std::fs::File::create(&path).expect("file"));
        for i in 0..12 {
            reporter.item_error("map", &Value::Int(i), &"division by zero");
        }
        reporter.item_error("map", &Value::Int(0), &"other");
        reporter.summarize();
        assert_eq!(reporter.error_count(), 13);
        drop(reporter);
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert_eq!(lines[4], "marsh: map: item 4: division by zero");
        assert_eq!(lines[5], "marsh: map: item 0: other");
        assert_eq!(
            lines[6],
            "marsh: map: 7 more items failed the same way: division by zero"
        );
    }
}

//! Parameter expansion and command substitution: the `$NAME`, `${NAME}`, `$$`, `$!` and
//! `$(P)` of a command's words, put in just before it runs.
//!
//! `$NAME` is the exported environment variable, else the marsh variable (printed as an item
//! prints), else nothing. An unquoted word that expands to nothing at all is dropped, as in
//! POSIX shells (`"$X"` stays an empty word); a file name that names an unset variable is an
//! error. The values are not split into fields; an unquoted word is still globbed afterwards.
//!
//! `$(P)` runs P ([`substitute`]) and puts in its items, printed as items print, trailing
//! empty items dropped: unquoted in an argument, one word per item (none for no item); inside
//! `"…"` and wherever one word is wanted (a name, an assignment, a file name), one word, the
//! items joined by newlines. Substituted text is never globbed.

use super::substitute::{self, SubstError};
use super::vars::{Var, Vars};
use crate::ops::OpError;
use crate::syntax::ast::{
    Arg, AssignValue, EnvPrefix, Expansion, Param, Pipeline, Quoting, Redirect, RedirectTarget,
    Sink, Source, Stage, Word,
};
use crate::value::Value;
use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;

/// The items of a `$(P)` as one word: joined by newlines, trailing newlines dropped.
fn joined(items: &[Value]) -> String {
    let mut text = items
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    text.truncate(text.trim_end_matches('\n').len());
    text
}

/// The pid `$$` stands for: the shell's, also in the forked copy that runs a background or
/// piped group or loop (as a POSIX subshell's `$$` is its parent's).
static SHELL_PID: OnceLock<u32> = OnceLock::new();

/// Fixes `$$` to the calling process; called when the shell starts, before it forks.
pub fn remember_shell_pid() {
    SHELL_PID.get_or_init(std::process::id);
}

/// Why a word could not be expanded.
#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    /// A file name (after `<`, `>`, `2>` ...) names a variable that is not set.
    #[error("${0} is not set")]
    Unset(String),
    /// `$x` of a reservoir, which is a stream, not a word.
    #[error("${0} is a stream; read it with '{0} <$'")]
    Reservoir(String),
    /// A `$(P)` that could not run or was interrupted.
    #[error(transparent)]
    Substitution(#[from] SubstError),
}

impl ExpandError {
    /// The error as a command's, named after `op`; an interrupted substitution stays an
    /// interruption (`STATUS` 130, the rest of the line dropped).
    pub fn into_op_error(self, op: &str) -> OpError {
        match self {
            ExpandError::Substitution(SubstError::Failed(e)) => e,
            ExpandError::Substitution(SubstError::Interrupted(_)) => {
                OpError::from_eval(op, &crate::expr::EvalError::Interrupted)
            }
            other => OpError::new(op, other.to_string()),
        }
    }
}

/// What expansions read: the variables and the last background job.
pub struct Context<'a> {
    pub vars: &'a Vars,
    /// The pid `$!` stands for.
    pub last_background: Option<i32>,
    /// The `STATUS` of the last `$(P)` run, which an assignment leaves as its own.
    pub substituted: Cell<Option<i32>>,
}

impl Context<'_> {
    /// A context reading `vars`, `$!` standing for `last_background`.
    pub fn new(vars: &Vars, last_background: Option<i32>) -> Context<'_> {
        Context {
            vars,
            last_background,
            substituted: Cell::new(None),
        }
    }

    /// The value of one parameter; `None` when it is not set.
    fn value(&self, param: &Param) -> Result<Option<String>, ExpandError> {
        Ok(match param {
            Param::Pid => Some(SHELL_PID.get_or_init(std::process::id).to_string()),
            Param::LastBackground => self.last_background.map(|p| p.to_string()),
            Param::Var(name) => match crate::environ::text(name) {
                Some(v) => Some(v),
                None => match self.vars.get(name) {
                    Some(Var::Value(v)) => Some(v.to_string()),
                    Some(Var::Reservoir(_)) => return Err(ExpandError::Reservoir(name.clone())),
                    None => None,
                },
            },
            Param::Command { pipeline, .. } => Some(joined(&self.substitute(pipeline)?)),
        })
    }

    /// Runs the pipeline of a `$(P)` (its own words expanded first) and gives its items, the
    /// trailing empty lines dropped (as POSIX drops trailing newlines).
    fn substitute(&self, pipeline: &Pipeline) -> Result<Vec<Value>, ExpandError> {
        let p = self.pipeline(pipeline).map_err(SubstError::Failed)?;
        let captured = substitute::capture(self.vars, &p)?;
        self.substituted.set(Some(captured.status));
        let mut items = captured.items;
        while matches!(items.last(), Some(Value::Str(s)) if s.is_empty()) {
            items.pop();
        }
        Ok(items)
    }

    /// `word` with its expansions put in, as one word (a `$(P)`'s items joined by newlines);
    /// `strict` makes an unset variable an error.
    pub fn word<'w>(&self, word: &'w Word, strict: bool) -> Result<Cow<'w, Word>, ExpandError> {
        if word.expansions.is_empty() {
            return Ok(Cow::Borrowed(word));
        }
        let mut words = self.expand(word, strict, false)?;
        Ok(Cow::Owned(words.pop().expect("one word")))
    }

    /// The words an argument becomes: one, except that an unquoted `$(P)` gives one per item
    /// (the first and last joined to the text around it), and no word at all when an unquoted
    /// word expands to nothing.
    pub fn fields(&self, word: &Word) -> Result<Vec<Word>, ExpandError> {
        if word.expansions.is_empty() {
            return Ok(vec![word.clone()]);
        }
        let mut words = self.expand(word, false, true)?;
        words.retain(|w| w.quoted || !w.text.is_empty());
        Ok(words)
    }

    /// The words `word` becomes; `split`: an unquoted `$(P)` gives a word per item.
    fn expand(&self, word: &Word, strict: bool, split: bool) -> Result<Vec<Word>, ExpandError> {
        let mut words = Vec::new();
        let mut text = String::with_capacity(word.text.len());
        // Substituted text is never globbed: an item stays the word it is.
        let mut quoted = word.quoted;
        let mut from = 0;
        for Expansion { at, param } in &word.expansions {
            let at = (*at).clamp(from, word.text.len());
            text.push_str(word.text.get(from..at).unwrap_or_default());
            from = at;
            match param {
                Param::Command {
                    pipeline,
                    quoting: Quoting::Bare,
                } if split => {
                    for (k, item) in self.substitute(pipeline)?.iter().enumerate() {
                        if k > 0 {
                            words.push(Word {
                                text: std::mem::take(&mut text),
                                quoted: true,
                                expansions: Vec::new(),
                            });
                        }
                        quoted = true;
                        text.push_str(&item.to_string());
                    }
                }
                param => {
                    quoted |= matches!(param, Param::Command { .. });
                    match self.value(param)? {
                        Some(v) => text.push_str(&v),
                        None if strict => {
                            let Param::Var(name) = param else {
                                unreachable!("only a variable can be unset in a file name")
                            };
                            return Err(ExpandError::Unset(name.clone()));
                        }
                        None => {}
                    }
                }
            }
        }
        text.push_str(word.text.get(from..).unwrap_or_default());
        words.push(Word {
            text,
            quoted,
            expansions: Vec::new(),
        });
        Ok(words)
    }

    /// A file name: strict, the error named after the operator `op`.
    fn path(&self, word: &Word, op: &str) -> Result<Word, OpError> {
        self.word(word, true)
            .map(Cow::into_owned)
            .map_err(|e| e.into_op_error(op))
    }

    /// The value of an assignment's word.
    pub fn assign_value(&self, value: &AssignValue) -> Result<AssignValue, OpError> {
        Ok(match value {
            AssignValue::Word(w) => AssignValue::Word(
                self.word(w, false)
                    .map_err(|e| e.into_op_error(""))?
                    .into_owned(),
            ),
            other => other.clone(),
        })
    }

    /// `p` with every word expanded (borrowed when it has nothing to expand).
    pub fn pipeline<'p>(&self, p: &'p Pipeline) -> Result<Cow<'p, Pipeline>, OpError> {
        if !has_expansions(p) {
            return Ok(Cow::Borrowed(p));
        }
        let source = match &p.source {
            Some(Source::File(w)) => Some(Source::File(self.path(w, "<")?)),
            other => other.clone(),
        };
        let stages = p
            .stages
            .iter()
            .map(|s| self.stage(s))
            .collect::<Result<_, _>>()?;
        let sink = match &p.sink {
            Some(Sink::File { path, append }) => Some(Sink::File {
                path: self.path(path, if *append { ">>" } else { ">" })?,
                append: *append,
            }),
            other => other.clone(),
        };
        Ok(Cow::Owned(Pipeline {
            source,
            stages,
            sink,
        }))
    }

    fn stage(&self, stage: &Stage) -> Result<Stage, OpError> {
        let Stage::Op {
            env,
            name,
            args,
            redirects,
        } = stage
        else {
            return Ok(stage.clone());
        };
        let fail = |e: ExpandError| e.into_op_error("");
        let env = env
            .iter()
            .map(|p| {
                Ok(EnvPrefix {
                    name: p.name.clone(),
                    value: self.word(&p.value, false).map_err(fail)?.into_owned(),
                })
            })
            .collect::<Result<_, OpError>>()?;
        let name = self.word(name, false).map_err(fail)?.into_owned();
        let mut expanded = Vec::with_capacity(args.len());
        for arg in args {
            match arg {
                Arg::Word(w) => {
                    expanded.extend(self.fields(w).map_err(fail)?.into_iter().map(Arg::Word));
                }
                other => expanded.push(other.clone()),
            }
        }
        let redirects = redirects
            .iter()
            .map(|r| self.redirect(r))
            .collect::<Result<_, _>>()?;
        Ok(Stage::Op {
            env,
            name,
            args: expanded,
            redirects,
        })
    }

    fn redirect(&self, r: &Redirect) -> Result<Redirect, OpError> {
        let op = crate::exec::redirect::spelling(r);
        let target = match &r.target {
            RedirectTarget::Read(w) => RedirectTarget::Read(self.path(w, &op)?),
            RedirectTarget::Write { path, append } => RedirectTarget::Write {
                path: self.path(path, &op)?,
                append: *append,
            },
            other => other.clone(),
        };
        Ok(Redirect { fd: r.fd, target })
    }
}

/// Whether any word of `p` has something to expand.
fn has_expansions(p: &Pipeline) -> bool {
    any_word(p, |w| !w.expansions.is_empty())
}

/// Whether a word of `p` holds a `$(P)`, which runs a pipeline when it is expanded.
pub fn has_substitution(p: &Pipeline) -> bool {
    any_word(p, |w| {
        w.expansions
            .iter()
            .any(|e| matches!(e.param, Param::Command { .. }))
    })
}

/// Whether `word` holds for any word of `p`.
fn any_word(p: &Pipeline, word: impl Fn(&Word) -> bool) -> bool {
    let source = matches!(&p.source, Some(Source::File(w)) if word(w));
    let sink = matches!(&p.sink, Some(Sink::File { path, .. }) if word(path));
    source
        || sink
        || p.stages.iter().any(|s| match s {
            Stage::Op {
                env,
                name,
                args,
                redirects,
            } => {
                env.iter().any(|p| word(&p.value))
                    || word(name)
                    || args.iter().any(|a| matches!(a, Arg::Word(w) if word(w)))
                    || redirects.iter().any(|r| match &r.target {
                        RedirectTarget::Read(w) => word(w),
                        RedirectTarget::Write { path, .. } => word(path),
                        _ => false,
                    })
            }
            Stage::Func(_) => false,
        })
}

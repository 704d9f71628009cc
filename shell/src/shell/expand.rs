//! Parameter expansion: the `$NAME`, `${NAME}`, `$$` and `$!` of a command's words, put in
//! just before it runs.
//!
//! `$NAME` is the exported environment variable, else the marsh variable (printed as an item
//! prints), else nothing. An unquoted word that expands to nothing at all is dropped, as in
//! POSIX shells (`"$X"` stays an empty word); a file name that names an unset variable is an
//! error. The values are not split into fields; an unquoted word is still globbed afterwards.

use super::vars::{Var, Vars};
use crate::ops::OpError;
use crate::syntax::ast::{
    Arg, AssignValue, EnvPrefix, Expansion, Param, Pipeline, Redirect, RedirectTarget, Sink,
    Source, Stage, Word,
};
use std::borrow::Cow;
use std::sync::OnceLock;

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
}

/// What expansions read: the variables and the last background job.
pub struct Context<'a> {
    pub vars: &'a Vars,
    /// The pid `$!` stands for.
    pub last_background: Option<i32>,
}

impl Context<'_> {
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
        })
    }

    /// `word` with its expansions put in; `strict` makes an unset variable an error.
    pub fn word<'w>(&self, word: &'w Word, strict: bool) -> Result<Cow<'w, Word>, ExpandError> {
        if word.expansions.is_empty() {
            return Ok(Cow::Borrowed(word));
        }
        let mut text = String::with_capacity(word.text.len());
        let mut from = 0;
        for Expansion { at, param } in &word.expansions {
            let at = (*at).clamp(from, word.text.len());
            text.push_str(word.text.get(from..at).unwrap_or_default());
            from = at;
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
        text.push_str(word.text.get(from..).unwrap_or_default());
        Ok(Cow::Owned(Word {
            text,
            quoted: word.quoted,
            expansions: Vec::new(),
        }))
    }

    /// A file name: strict, the error named after the operator `op`.
    fn path(&self, word: &Word, op: &str) -> Result<Word, OpError> {
        self.word(word, true)
            .map(Cow::into_owned)
            .map_err(|e| OpError::new(op, e.to_string()))
    }

    /// The value of an assignment's word.
    pub fn assign_value(&self, value: &AssignValue) -> Result<AssignValue, OpError> {
        Ok(match value {
            AssignValue::Word(w) => AssignValue::Word(
                self.word(w, false)
                    .map_err(|e| OpError::new("", e.to_string()))?
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
        let fail = |e: ExpandError| OpError::new("", e.to_string());
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
                    let w = self.word(w, false).map_err(fail)?;
                    // An unquoted word that expands to nothing is no word at all.
                    if w.quoted || !w.text.is_empty() {
                        expanded.push(Arg::Word(w.into_owned()));
                    }
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
    let word = |w: &Word| !w.expansions.is_empty();
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

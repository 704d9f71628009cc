//! The syntax tree of a command line.
//!
//! A line (with the lines its continuation joins) is a [`List`]: and-or lists ([`AndOr`]) of
//! units, each ended by `;`, `&` (in the background, as one job) or a newline. A unit is a
//! simple command, a `{ LIST }` group, `if`, `while`, `for`, `break` or `continue`.
//!
//! A simple command is one [`Command`]: an assignment, or a pipeline of stages with an optional source
//! (`x <$`, `< file`) and sink (`>$ x`, `>>$ x`, `> file`, `>> file`), possibly run in the
//! background (`&`). A stage that names an op or a program carries its own redirections
//! (`2> f`, `< f`, `2>&1`). Printing a tree with `Display` (see `print.rs`) gives a line that parses
//! back to the same tree.

/// Commands run one after the other: `A; B & C` (newlines separate them too).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    pub items: Vec<ListItem>,
}

impl List {
    /// The one simple command (an assignment or a pipeline) this list is made of, with
    /// whether it ends in `&`; `None` for an empty list, several commands, a connector, a
    /// group or a control-flow form.
    pub fn single_simple(&self) -> Option<(&CommandBody, bool)> {
        match self.items.as_slice() {
            [
                ListItem {
                    and_or:
                        AndOr {
                            first: Unit::Simple(body),
                            rest,
                        },
                    background,
                },
            ] if rest.is_empty() => Some((body, *background)),
            _ => None,
        }
    }
}

/// One and-or list of a [`List`], with how it was ended.
#[derive(Clone, Debug, PartialEq)]
pub struct ListItem {
    pub and_or: AndOr,
    /// Ended by `&`: the whole and-or list runs in the background as one job.
    pub background: bool,
}

/// `A && B || C`: units run left to right, each after the previous by `STATUS`.
#[derive(Clone, Debug, PartialEq)]
pub struct AndOr {
    pub first: Unit,
    pub rest: Vec<(Connector, Unit)>,
}

/// How a unit of an and-or list hangs on the `STATUS` of the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connector {
    /// `&&`: runs when `STATUS` is 0.
    And,
    /// `||`: runs when `STATUS` is not 0.
    Or,
}

impl Connector {
    /// The connector as it is written.
    pub fn symbol(self) -> &'static str {
        match self {
            Connector::And => "&&",
            Connector::Or => "||",
        }
    }
}

/// What an and-or list is made of.
#[derive(Clone, Debug, PartialEq)]
pub enum Unit {
    /// An assignment or a pipeline (never [`CommandBody::Empty`]).
    Simple(CommandBody),
    /// A group or a control-flow form, its output optionally stored or written to a file.
    Compound {
        compound: Compound,
        sink: Option<Sink>,
    },
    /// `break`: leaves the innermost loop.
    Break,
    /// `continue`: goes on with the innermost loop's next round.
    Continue,
}

/// A command made of lists.
#[derive(Clone, Debug, PartialEq)]
pub enum Compound {
    /// `{ LIST }`.
    Group(List),
    /// `if COND { LIST } else if COND { LIST } else { LIST }`: the branches in order.
    If {
        branches: Vec<(Cond, List)>,
        otherwise: Option<List>,
    },
    /// `while COND { LIST }`.
    While { cond: Cond, body: List },
    /// `for NAME in P { LIST }`: `NAME` bound to each item of `P` as it comes.
    For {
        name: String,
        items: Pipeline,
        body: List,
    },
}

/// The condition of `if` and `while`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// `(expr)`: true when the value is.
    Expr(Expr),
    /// A pipeline: true when its `STATUS` is 0.
    Pipeline(Pipeline),
}

/// One simple command.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub body: CommandBody,
    /// A trailing `&`.
    pub background: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CommandBody {
    /// A blank line or a comment.
    Empty,
    /// `x = (expr)` or `x = word`.
    Assign {
        name: String,
        value: AssignValue,
    },
    Pipeline(Pipeline),
}

#[derive(Clone, Debug, PartialEq)]
pub enum AssignValue {
    /// `x = (1 + 2)`: the expression's value.
    Expr(Expr),
    /// `x = hello`: the word as a string.
    Word(Word),
}

/// `[source] stage | stage ... [sink]`. At least one of source and stages is present.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    pub source: Option<Source>,
    pub stages: Vec<Stage>,
    pub sink: Option<Sink>,
}

/// Where a pipeline's stream starts when it does not start with an op.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `x <$ ...`: the items stored in reservoir variable `x`.
    Reservoir(String),
    /// `< path ...`: the lines of a text file.
    File(Word),
}

/// Where a pipeline's stream ends instead of being printed.
#[derive(Clone, Debug, PartialEq)]
pub enum Sink {
    /// `>$ x` (store) or `>>$ x` (append).
    Reservoir { name: String, append: bool },
    /// `> path` or `>> path`: one line per item.
    File { path: Word, append: bool },
}

/// One stage of a pipeline.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    /// An op or host program, its arguments and its redirections: `head 3`, `grep -v x`,
    /// `grep foo < notes.txt 2> errs`. The redirections keep the order they were written in,
    /// which matters (`> f 2>&1` is not `2>&1 > f`). `env` holds the `NAME=VALUE` words
    /// written before the name (`TZ=UTC date`), which only a program accepts.
    Op {
        env: Vec<EnvPrefix>,
        name: Word,
        args: Vec<Arg>,
        redirects: Vec<Redirect>,
    },
    /// A bare function: `(x: x * 2)` means `map (x: x * 2)`; a function without parameters,
    /// `(1 + 2)`, first in a pipeline yields its value.
    Func(Function),
}

/// `NAME=VALUE` before a program's name: NAME is in that program's environment only. The
/// name and the `=` are written unquoted; the value is expanded but never globbed, so it is
/// kept unquoted (`quoted` is always false) and prints back quoted only where it must.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvPrefix {
    pub name: String,
    pub value: Word,
}

/// A redirection of one of a program's file descriptors: `< f`, `2> f`, `2>> f`, `2>&1`.
/// `&> f` is written down as `1> f 2>&1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Redirect {
    /// The descriptor redirected (0 to 9).
    pub fd: u32,
    pub target: RedirectTarget,
}

/// Where a redirected descriptor goes.
#[derive(Clone, Debug, PartialEq)]
pub enum RedirectTarget {
    /// `N< path`: the file, opened for reading.
    Read(Word),
    /// `N> path` (truncate) or `N>> path` (append).
    Write { path: Word, append: bool },
    /// `N>&M` (or `N<&M`): a copy of descriptor M as it is at that point.
    Dup(u32),
    /// `N>&-` (or `N<&-`): closed.
    Close,
}

/// An argument of an op or host program.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Word(Word),
    /// `(expr)`: evaluated once, before the command runs.
    Expr(Expr),
    /// `(x: expr)`, `(x, y: expr)`: a function the op applies per item.
    Func(Function),
}

/// A shell word after quote removal. `quoted` records whether any part was quoted, which
/// turns off glob expansion and keeps a word like `'|'` from being read as an operator.
/// `expansions` are the `$NAME`, `${NAME}`, `$$`, `$!` and `$(P)` written outside single quotes: each
/// is left out of `text` and goes in at its byte offset when the command runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    pub text: String,
    pub quoted: bool,
    pub expansions: Vec<Expansion>,
}

impl Word {
    /// A word with no quotes and nothing to expand.
    pub fn plain(text: &str) -> Word {
        Word {
            text: text.to_string(),
            quoted: false,
            expansions: Vec::new(),
        }
    }

    /// A quoted word with nothing to expand.
    pub fn quoted(text: &str) -> Word {
        Word {
            quoted: true,
            ..Word::plain(text)
        }
    }
}

/// A parameter expanded into a word, at byte offset `at` of the word's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    pub at: usize,
    pub param: Param,
}

/// What a `$` names.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// `$NAME`, `${NAME}`: the environment variable, else the marsh variable, else nothing.
    Var(String),
    /// `$$`: the shell's process id.
    Pid,
    /// `$!`: the process id of the last member of the last background job.
    LastBackground,
    /// `$(P)`: the items pipeline P yields, as words.
    Command {
        pipeline: Box<Pipeline>,
        quoting: Quoting,
    },
}

/// Whether a `$(P)` stands inside `"…"`, which decides how its items become words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    /// Unquoted: one word per item (the first and last joined to the text around them).
    Bare,
    /// Inside `"…"`: one word, the items joined by newlines, trailing newlines dropped.
    Double,
}

/// `(params: body)`; `params` is empty for `(body)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub params: Vec<String>,
    pub body: Expr,
}

/// An expression, Python-like: `x * 2`, `f.size > 1000 and f.suffix == 'rs'`, `s.split(',')[0]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    None,
    /// A parameter, a variable, or a builtin function's name.
    Name(String),
    /// `(a, b)`, `(a,)`, `()`.
    Tuple(Vec<Expr>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{k: v, ...}`: only inside expressions, so it never meets the command level's braces.
    Dict(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a if cond else b`.
    IfElse {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `a[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `a[lo:hi]`, either bound optional.
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    /// `a.name` (a file's field).
    Attr(Box<Expr>, String),
    /// `f(args)`: a builtin (`len(x)`) or a method (`s.upper()`, callee is an `Attr`).
    Call(Box<Expr>, Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Pos,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// `/`: true division, always a float.
    Div,
    /// `//`: floor division.
    FloorDiv,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    In,
    NotIn,
}

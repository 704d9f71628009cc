//! Printing syntax trees as canonical text that parses back to the same tree.

use super::ast::*;
pub use crate::value::fmt::write_quoted;
use std::fmt::{self, Display, Formatter, Write};

/// Whether `text`, written unquoted, would not read back as itself (`then_expansion`: an
/// expansion follows it in the same word).
fn needs_quotes_before(text: &str, then_expansion: bool) -> bool {
    needs_quotes(text) || !dollars_stay(text, then_expansion)
}

/// Whether every `$` in `text` stays a plain `$` when read back unquoted.
fn dollars_stay(text: &str, then_expansion: bool) -> bool {
    text.match_indices('$')
        .all(|(i, _)| match text[i + 1..].chars().next() {
            None => !then_expansion,
            Some(c) => !(c.is_ascii_alphabetic() || matches!(c, '_' | '$' | '!' | '{' | '(')),
        })
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text.starts_with('#')
        || text.chars().any(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '|' | '&' | ';' | '<' | '>' | '(' | ')' | '\'' | '"' | '\\'
                )
        })
}

impl Display for Word {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.expansions.is_empty() {
            // A lone `{` or `}` would read back as a brace.
            let brace = self.text == "{" || self.text == "}";
            return if self.quoted || brace || needs_quotes_before(&self.text, false) {
                write_quoted(&self.text, f)
            } else {
                f.write_str(&self.text)
            };
        }
        // Literal pieces between the expansions, each quoted when it must be; a quoted word
        // with no piece to quote starts with `''`.
        let mut quoted_any = false;
        // A `"$(P)"` quotes the word by itself.
        let mut double_quoted = false;
        let mut piece =
            |f: &mut Formatter<'_>, text: &str, at_start: bool, then_expansion: bool| {
                if text.is_empty() {
                    return Ok(());
                }
                // A `#` starts a comment only at the start of a word.
                let inside = text.strip_prefix('#').filter(|_| !at_start);
                let needs = match inside {
                    Some(rest) => !rest.is_empty() && needs_quotes_before(rest, then_expansion),
                    None => needs_quotes_before(text, then_expansion),
                };
                if self.quoted || needs {
                    quoted_any = true;
                    write_quoted(text, f)
                } else {
                    f.write_str(text)
                }
            };
        // Only the piece before the first expansion starts the word: after an expansion a
        // `#` is plain text even where its offset in `text` is 0 (`$a#`).
        let mut from = 0;
        for (i, e) in self.expansions.iter().enumerate() {
            let at = e.at.clamp(from, self.text.len());
            piece(f, self.text.get(from..at).unwrap_or_default(), i == 0, true)?;
            write!(f, "{}", e.param)?;
            double_quoted |= matches!(
                e.param,
                Param::Command {
                    quoting: Quoting::Double,
                    ..
                }
            );
            from = at;
        }
        piece(f, self.text.get(from..).unwrap_or_default(), false, false)?;
        if self.quoted && !quoted_any && !double_quoted {
            f.write_str("''")?;
        }
        Ok(())
    }
}

impl Display for Param {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Param::Var(name) => write!(f, "${{{name}}}"),
            Param::Pid => f.write_str("$$"),
            Param::LastBackground => f.write_str("$!"),
            Param::Command { pipeline, quoting } => match quoting {
                Quoting::Bare => write!(f, "$({pipeline})"),
                Quoting::Double => write!(f, "\"$({pipeline})\""),
            },
        }
    }
}

impl Display for List {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            write!(f, "{}", item.and_or)?;
            let last = i + 1 == self.items.len();
            match (item.background, last) {
                (true, true) => f.write_str(" &")?,
                (true, false) => f.write_str(" & ")?,
                (false, false) => f.write_str("; ")?,
                (false, true) => {}
            }
        }
        Ok(())
    }
}

impl Display for AndOr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for (connector, unit) in &self.rest {
            write!(f, " {} {unit}", connector.symbol())?;
        }
        Ok(())
    }
}

impl Display for Unit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Unit::Simple(body) => write_body(body, f),
            Unit::Compound { compound, sink } => {
                write!(f, "{compound}")?;
                match sink {
                    Some(Sink::Reservoir { name, append }) => {
                        write!(f, " {} {name}", if *append { ">>$" } else { ">$" })
                    }
                    Some(Sink::File { path, append }) => {
                        write!(f, " {} {path}", if *append { ">>" } else { ">" })
                    }
                    None => Ok(()),
                }
            }
            Unit::Break => f.write_str("break"),
            Unit::Continue => f.write_str("continue"),
        }
    }
}

/// `{ LIST }`, `{ }` when empty.
struct Body<'a>(&'a List);

impl Display for Body<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0.items.is_empty() {
            f.write_str("{ }")
        } else {
            write!(f, "{{ {} }}", self.0)
        }
    }
}

impl Display for Compound {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Compound::Group(list) => write!(f, "{}", Body(list)),
            Compound::If {
                branches,
                otherwise,
            } => {
                for (i, (cond, body)) in branches.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" else ")?;
                    }
                    write!(f, "if {cond} {}", Body(body))?;
                }
                match otherwise {
                    Some(body) => write!(f, " else {}", Body(body)),
                    None => Ok(()),
                }
            }
            Compound::While { cond, body } => write!(f, "while {cond} {}", Body(body)),
            Compound::For { name, items, body } => {
                write!(f, "for {name} in {items} {}", Body(body))
            }
        }
    }
}

impl Display for Cond {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Expr(e) => write!(f, "{}", Group(e)),
            Cond::Pipeline(p) => write!(f, "{p}"),
        }
    }
}

fn write_body(body: &CommandBody, f: &mut Formatter<'_>) -> fmt::Result {
    match body {
        CommandBody::Empty => Ok(()),
        CommandBody::Assign { name, value } => match value {
            AssignValue::Expr(e) => write!(f, "{name} = {}", Group(e)),
            AssignValue::Word(w) => write!(f, "{name} = {w}"),
        },
        CommandBody::Pipeline(p) => write!(f, "{p}"),
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_body(&self.body, f)?;
        if self.background {
            if self.body != CommandBody::Empty {
                f.write_char(' ')?;
            }
            f.write_char('&')?;
        }
        Ok(())
    }
}

impl Display for Pipeline {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        match &self.source {
            Some(Source::Reservoir(name)) => {
                write!(f, "{name} <$")?;
                sep = " ";
            }
            Some(Source::File(w)) => {
                write!(f, "< {w}")?;
                sep = " | ";
            }
            None => {}
        }
        for stage in &self.stages {
            write!(f, "{sep}{stage}")?;
            sep = " | ";
        }
        let space = if self.source.is_some() || !self.stages.is_empty() {
            " "
        } else {
            ""
        };
        match &self.sink {
            Some(Sink::Reservoir { name, append }) => {
                write!(f, "{space}{} {name}", if *append { ">>$" } else { ">$" })
            }
            Some(Sink::File { path, append }) => {
                write!(f, "{space}{} {path}", if *append { ">>" } else { ">" })
            }
            None => Ok(()),
        }
    }
}

impl Display for Stage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Op {
                env,
                name,
                args,
                redirects,
            } => {
                for prefix in env {
                    write!(f, "{prefix} ")?;
                }
                write!(f, "{name}")?;
                // `NAME = ...` would read back as an assignment: the redirections go first.
                let eq_first =
                    matches!(args.first(), Some(Arg::Word(w)) if !w.quoted && w.text == "=");
                if eq_first {
                    for r in redirects {
                        write!(f, " {r}")?;
                    }
                }
                for a in args {
                    write!(f, " {a}")?;
                }
                if !eq_first {
                    for r in redirects {
                        write!(f, " {r}")?;
                    }
                }
                Ok(())
            }
            Stage::Func(func) => write!(f, "{func}"),
        }
    }
}

/// `NAME=VALUE`; an empty value is written as nothing (`NAME= prog`).
impl Display for EnvPrefix {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}=", self.name)?;
        if self.value.text.is_empty() && self.value.expansions.is_empty() {
            Ok(())
        } else {
            write!(f, "{}", self.value)
        }
    }
}

/// `< f` for stdin, `N< f` otherwise; `N> f`, `N>> f` and `N>&M` always name N, so a `1> f`
/// that ends the line is not read back as the pipeline's output.
impl Display for Redirect {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.target {
            RedirectTarget::Read(path) if self.fd == 0 => write!(f, "< {path}"),
            RedirectTarget::Read(path) => write!(f, "{}< {path}", self.fd),
            RedirectTarget::Write { path, append } => {
                let op = if *append { ">>" } else { ">" };
                write!(f, "{}{op} {path}", self.fd)
            }
            RedirectTarget::Dup(to) => write!(f, "{}>&{to}", self.fd),
            RedirectTarget::Close => write!(f, "{}>&-", self.fd),
        }
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Word(w) => write!(f, "{w}"),
            Arg::Expr(e) => write!(f, "{}", Group(e)),
            Arg::Func(func) => write!(f, "{func}"),
        }
    }
}

/// An expression as the content of a `(…)` group.
struct Group<'a>(&'a Expr);

impl Display for Group<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            // A tuple prints its own parentheses, which are the group's.
            Expr::Tuple(_) => write!(f, "{}", self.0),
            e => write!(f, "({e})"),
        }
    }
}

impl Display for Function {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.params.is_empty() {
            write!(f, "{}", Group(&self.body))
        } else {
            write!(f, "({}: {})", self.params.join(", "), self.body)
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_expr(self, 0, f)
    }
}

const P_IF: u8 = 1;
const P_OR: u8 = 2;
const P_AND: u8 = 3;
const P_NOT: u8 = 4;
const P_CMP: u8 = 5;
const P_SUM: u8 = 6;
const P_TERM: u8 = 7;
const P_UNARY: u8 = 8;
const P_POW: u8 = 9;
const P_POSTFIX: u8 = 10;

fn binop_info(op: BinOp) -> (&'static str, u8) {
    match op {
        BinOp::Add => ("+", P_SUM),
        BinOp::Sub => ("-", P_SUM),
        BinOp::Mul => ("*", P_TERM),
        BinOp::Div => ("/", P_TERM),
        BinOp::FloorDiv => ("//", P_TERM),
        BinOp::Mod => ("%", P_TERM),
        BinOp::Pow => ("**", P_POW),
        BinOp::Eq => ("==", P_CMP),
        BinOp::Ne => ("!=", P_CMP),
        BinOp::Lt => ("<", P_CMP),
        BinOp::Le => ("<=", P_CMP),
        BinOp::Gt => (">", P_CMP),
        BinOp::Ge => (">=", P_CMP),
        BinOp::And => ("and", P_AND),
        BinOp::Or => ("or", P_OR),
        BinOp::In => ("in", P_CMP),
        BinOp::NotIn => ("not in", P_CMP),
    }
}

fn prec(e: &Expr) -> u8 {
    match e {
        Expr::IfElse { .. } => P_IF,
        Expr::Binary(op, ..) => binop_info(*op).1,
        Expr::Unary(UnOp::Not, _) => P_NOT,
        Expr::Unary(..) => P_UNARY,
        _ => P_POSTFIX,
    }
}

fn write_list(items: &[Expr], f: &mut Formatter<'_>) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_expr(item, 0, f)?;
    }
    Ok(())
}

/// Writes `e`, in parentheses if it binds less tightly than `min`.
fn write_expr(e: &Expr, min: u8, f: &mut Formatter<'_>) -> fmt::Result {
    if prec(e) < min {
        f.write_char('(')?;
        write_expr(e, 0, f)?;
        return f.write_char(')');
    }
    match e {
        Expr::Int(i) => write!(f, "{i}"),
        Expr::Float(x) => {
            if x.is_finite() {
                write!(f, "{x:?}")
            } else if x.is_nan() {
                f.write_str("(1e999 - 1e999)")
            } else {
                f.write_str("1e999")
            }
        }
        Expr::Str(s) => write_quoted(s, f),
        Expr::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
        Expr::None => f.write_str("none"),
        Expr::Name(n) => f.write_str(n),
        Expr::Tuple(items) => {
            f.write_char('(')?;
            write_list(items, f)?;
            if items.len() == 1 {
                f.write_char(',')?;
            }
            f.write_char(')')
        }
        Expr::List(items) => {
            f.write_char('[')?;
            write_list(items, f)?;
            f.write_char(']')
        }
        Expr::Dict(pairs) => {
            f.write_char('{')?;
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_expr(k, 0, f)?;
                f.write_str(": ")?;
                write_expr(v, 0, f)?;
            }
            f.write_char('}')
        }
        Expr::Unary(op, x) => match op {
            UnOp::Not => {
                f.write_str("not ")?;
                write_expr(x, P_NOT, f)
            }
            UnOp::Neg | UnOp::Pos => {
                f.write_char(if *op == UnOp::Neg { '-' } else { '+' })?;
                write_expr(x, P_UNARY, f)
            }
        },
        Expr::Binary(op, l, r) => {
            let (sym, p) = binop_info(*op);
            let (lp, rp) = match p {
                P_POW => (P_POSTFIX, P_UNARY),
                P_CMP => (P_SUM, P_SUM),
                p => (p, p + 1),
            };
            write_expr(l, lp, f)?;
            write!(f, " {sym} ")?;
            write_expr(r, rp, f)
        }
        Expr::IfElse {
            cond,
            then,
            otherwise,
        } => {
            write_expr(then, P_OR, f)?;
            f.write_str(" if ")?;
            write_expr(cond, P_OR, f)?;
            f.write_str(" else ")?;
            write_expr(otherwise, P_IF, f)
        }
        Expr::Index(x, i) => {
            write_expr(x, P_POSTFIX, f)?;
            f.write_char('[')?;
            write_expr(i, 0, f)?;
            f.write_char(']')
        }
        Expr::Slice(x, lo, hi) => {
            write_expr(x, P_POSTFIX, f)?;
            f.write_char('[')?;
            if let Some(lo) = lo {
                write_expr(lo, 0, f)?;
            }
            f.write_char(':')?;
            if let Some(hi) = hi {
                write_expr(hi, 0, f)?;
            }
            f.write_char(']')
        }
        Expr::Attr(x, name) => {
            write_expr(x, P_POSTFIX, f)?;
            write!(f, ".{name}")
        }
        Expr::Call(callee, args) => {
            write_expr(callee, P_POSTFIX, f)?;
            f.write_char('(')?;
            write_list(args, f)?;
            f.write_char(')')
        }
    }
}

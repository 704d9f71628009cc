//! Parsing tokens into the syntax tree.

use super::ParseError;
use super::ast::*;
use super::lexer::{ETok, Tok, tokenize_expr};

fn err(position: usize, message: impl Into<String>) -> ParseError {
    ParseError::new(position, message)
}

pub const KEYWORDS: [&str; 12] = [
    "and", "or", "not", "in", "if", "else", "true", "false", "none", "True", "False", "None",
];

pub fn is_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_name(s: &str) -> bool {
    is_identifier(s) && !KEYWORDS.contains(&s)
}

/// What a `(…)` group holds.
enum Group {
    Expr(Expr),
    Func(Function),
}

/// Parses the text of a group, whose `(` is at `open`.
fn parse_group(text: &str, open: usize) -> Result<Group, ParseError> {
    let toks = tokenize_expr(text, open + 1)?;
    let mut p = ExprParser {
        toks,
        pos: 0,
        end: open + 1 + text.len(),
        depth: 0,
    };
    // `ident (, ident)* :` starts a function.
    let mut params = Vec::new();
    let mut k = 0;
    let is_func = loop {
        match p.toks.get(k) {
            Some((ETok::Ident(name), _)) if is_name(name) => params.push(name.clone()),
            _ => break false,
        }
        match p.toks.get(k + 1) {
            Some((ETok::Punct(","), _)) => k += 2,
            Some((ETok::Punct(":"), _)) => break true,
            _ => break false,
        }
    };
    if is_func {
        for (i, name) in params.iter().enumerate() {
            if params[..i].contains(name) {
                return Err(err(
                    p.toks[2 * i].1,
                    format!("parameter '{name}' is named twice"),
                ));
            }
        }
        p.pos = 2 * params.len();
        if p.peek().is_none() {
            return Err(err(p.end, "missing function body after ':'"));
        }
        let body = p.expr_list(true)?;
        p.expect_end()?;
        Ok(Group::Func(Function { params, body }))
    } else {
        let e = p.expr_list(true)?;
        p.expect_end()?;
        Ok(Group::Expr(e))
    }
}

/// The expression of a `(…)` group whose `(` is at `open` (a function is an error).
pub fn group_expr(text: &str, open: usize) -> Result<Expr, ParseError> {
    match parse_group(text, open)? {
        Group::Expr(e) => Ok(e),
        Group::Func(_) => Err(err(open, "a condition is an expression, not a function")),
    }
}

/// Parses an expression on its own (as in a group's text); positions are offsets into `text`.
pub fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    let toks = tokenize_expr(text, 0)?;
    let mut p = ExprParser {
        toks,
        pos: 0,
        end: text.len(),
        depth: 0,
    };
    let e = p.expr_list(true)?;
    p.expect_end()?;
    Ok(e)
}

struct ExprParser {
    toks: Vec<(ETok, usize)>,
    pos: usize,
    end: usize,
    /// How deeply the parser has recursed, limited so no input can exhaust the stack.
    depth: usize,
}

/// The deepest nesting of parentheses, brackets, calls and prefix operators.
const MAX_DEPTH: usize = 64;

impl ExprParser {
    fn nested<T>(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(err(self.here(), "expression nested too deeply"));
        }
        self.depth += 1;
        let r = inner(self);
        self.depth -= 1;
        r
    }

    fn peek(&self) -> Option<&ETok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.1)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(ETok::Punct(q)) if *q == p)
    }

    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Some(ETok::Ident(q)) if q == k)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, k: &str) -> bool {
        if self.is_kw(k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self) -> ParseError {
        match self.toks.get(self.pos) {
            None => err(self.end, "unexpected end of expression"),
            Some((t, at)) => err(*at, format!("unexpected {}", describe(t))),
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), ParseError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            match self.toks.get(self.pos) {
                None => Err(err(self.end, format!("expected '{p}' before the end"))),
                Some((t, at)) => Err(err(*at, format!("expected '{p}', found {}", describe(t)))),
            }
        }
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        if self.pos < self.toks.len() {
            Err(self.unexpected())
        } else {
            Ok(())
        }
    }

    /// `e`, or `e, e, ...` (a tuple) when `tuple` allows; an empty list is `()`.
    fn expr_list(&mut self, tuple: bool) -> Result<Expr, ParseError> {
        if tuple && self.peek().is_none() {
            return Ok(Expr::Tuple(vec![]));
        }
        let first = self.expr()?;
        if !(tuple && self.is_punct(",")) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_punct(",") {
            if self.peek().is_none() || self.is_punct(")") {
                break;
            }
            items.push(self.expr()?);
        }
        Ok(Expr::Tuple(items))
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.nested(Self::expr_inner)
    }

    fn expr_inner(&mut self) -> Result<Expr, ParseError> {
        let then = self.or_expr()?;
        if self.eat_kw("if") {
            let cond = self.or_expr()?;
            if !self.eat_kw("else") {
                return Err(match self.toks.get(self.pos) {
                    None => err(self.end, "expected 'else' before the end"),
                    Some((t, at)) => err(*at, format!("expected 'else', found {}", describe(t))),
                });
            }
            let otherwise = self.expr()?;
            return Ok(Expr::IfElse {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            });
        }
        Ok(then)
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.and_expr()?;
        while self.eat_kw("or") {
            let r = self.and_expr()?;
            e = Expr::Binary(BinOp::Or, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.not_expr()?;
        while self.eat_kw("and") {
            let r = self.not_expr()?;
            e = Expr::Binary(BinOp::And, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        if self.eat_kw("not") {
            let e = self.nested(Self::not_expr)?;
            return Ok(Expr::Unary(UnOp::Not, Box::new(e)));
        }
        self.comparison()
    }

    fn comp_op(&mut self) -> Option<BinOp> {
        let op = match self.peek()? {
            ETok::Punct("==") => BinOp::Eq,
            ETok::Punct("!=") => BinOp::Ne,
            ETok::Punct("<") => BinOp::Lt,
            ETok::Punct("<=") => BinOp::Le,
            ETok::Punct(">") => BinOp::Gt,
            ETok::Punct(">=") => BinOp::Ge,
            ETok::Ident(k) if k == "in" => BinOp::In,
            ETok::Ident(k) if k == "not" => {
                if matches!(self.toks.get(self.pos + 1), Some((ETok::Ident(k), _)) if k == "in") {
                    self.pos += 1;
                    BinOp::NotIn
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let l = self.sum()?;
        let Some(op) = self.comp_op() else {
            return Ok(l);
        };
        let r = self.sum()?;
        let at = self.here();
        if self.comp_op().is_some() {
            return Err(err(
                at,
                "comparisons cannot be chained; write 'a < b and b < c' with parentheses or 'and'",
            ));
        }
        Ok(Expr::Binary(op, Box::new(l), Box::new(r)))
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.term()?;
        loop {
            let op = if self.eat_punct("+") {
                BinOp::Add
            } else if self.eat_punct("-") {
                BinOp::Sub
            } else {
                return Ok(e);
            };
            let r = self.term()?;
            e = Expr::Binary(op, Box::new(e), Box::new(r));
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.unary()?;
        loop {
            let op = if self.eat_punct("*") {
                BinOp::Mul
            } else if self.eat_punct("/") {
                BinOp::Div
            } else if self.eat_punct("//") {
                BinOp::FloorDiv
            } else if self.eat_punct("%") {
                BinOp::Mod
            } else {
                return Ok(e);
            };
            let r = self.unary()?;
            e = Expr::Binary(op, Box::new(e), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat_punct("-") {
            return Ok(Expr::Unary(UnOp::Neg, Box::new(self.nested(Self::unary)?)));
        }
        if self.eat_punct("+") {
            return Ok(Expr::Unary(UnOp::Pos, Box::new(self.nested(Self::unary)?)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.postfix()?;
        if self.eat_punct("**") {
            let exp = self.nested(Self::unary)?;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.atom()?;
        loop {
            if self.eat_punct("(") {
                let mut args = Vec::new();
                while !self.is_punct(")") {
                    args.push(self.expr()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                self.expect_punct(")")?;
                e = Expr::Call(Box::new(e), args);
            } else if self.eat_punct("[") {
                let lo = if self.is_punct(":") {
                    None
                } else {
                    Some(Box::new(self.expr()?))
                };
                if self.eat_punct(":") {
                    let hi = if self.is_punct("]") {
                        None
                    } else {
                        Some(Box::new(self.expr()?))
                    };
                    self.expect_punct("]")?;
                    e = Expr::Slice(Box::new(e), lo, hi);
                } else {
                    self.expect_punct("]")?;
                    e = Expr::Index(Box::new(e), lo.expect("an index"));
                }
            } else if self.eat_punct(".") {
                match self.toks.get(self.pos) {
                    Some((ETok::Ident(name), _)) if is_name(name) => {
                        let name = name.clone();
                        self.pos += 1;
                        e = Expr::Attr(Box::new(e), name);
                    }
                    Some((t, at)) => {
                        return Err(err(
                            *at,
                            format!("expected a name after '.', found {}", describe(t)),
                        ));
                    }
                    None => return Err(err(self.end, "expected a name after '.'")),
                }
            } else {
                return Ok(e);
            }
        }
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        let Some((tok, _)) = self.toks.get(self.pos) else {
            return Err(self.unexpected());
        };
        let e = match tok {
            ETok::Int(i) => Expr::Int(*i),
            ETok::Float(f) => Expr::Float(*f),
            ETok::Str(s) => Expr::Str(s.clone()),
            ETok::Ident(k) => match k.as_str() {
                "true" | "True" => Expr::Bool(true),
                "false" | "False" => Expr::Bool(false),
                "none" | "None" => Expr::None,
                k if KEYWORDS.contains(&k) => return Err(self.unexpected()),
                name => Expr::Name(name.to_string()),
            },
            ETok::Punct("(") => {
                self.pos += 1;
                if self.eat_punct(")") {
                    return Ok(Expr::Tuple(vec![]));
                }
                let e = self.expr_list(true)?;
                self.expect_punct(")")?;
                return Ok(e);
            }
            ETok::Punct("[") => {
                self.pos += 1;
                let mut items = Vec::new();
                while !self.is_punct("]") {
                    items.push(self.expr()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                self.expect_punct("]")?;
                return Ok(Expr::List(items));
            }
            ETok::Punct("{") => {
                self.pos += 1;
                return self.dict();
            }
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        Ok(e)
    }
}

impl ExprParser {
    /// The pairs of a dict literal after its `{`: `k: v, ...` up to `}`, a trailing comma
    /// allowed.
    fn dict(&mut self) -> Result<Expr, ParseError> {
        let mut pairs = Vec::new();
        while !self.is_punct("}") {
            let key = self.expr()?;
            self.expect_punct(":")?;
            pairs.push((key, self.expr()?));
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct("}")?;
        Ok(Expr::Dict(pairs))
    }
}

fn describe(t: &ETok) -> String {
    match t {
        ETok::Int(i) => format!("number {i}"),
        ETok::Float(f) => format!("number {f:?}"),
        ETok::Str(_) => "a string".into(),
        ETok::Ident(s) => format!("'{s}'"),
        ETok::Punct(p) => format!("'{p}'"),
    }
}

/// Parses one simple command from its tokens (`toks` holds no list operator, line break or
/// brace); `end` is where the command's text ends.
pub fn parse_simple(
    line: &str,
    toks: &[(Tok, usize)],
    end: usize,
) -> Result<CommandBody, ParseError> {
    if toks.is_empty() {
        return Ok(CommandBody::Empty);
    }
    // Assignment: `name = (expr)` or `name = word`.
    if let (Some((Tok::Word(name), _)), Some((Tok::Word(eq), eq_at))) = (toks.first(), toks.get(1))
        && !name.quoted
        && is_identifier(&name.text)
        && !eq.quoted
        && eq.text == "="
    {
        let value = match toks.get(2) {
            None => return Err(err(eq_at + 1, "missing value after '='")),
            Some((Tok::Word(w), _)) => AssignValue::Word(w.clone()),
            Some((Tok::Group(text), at)) => match parse_group(text, *at)? {
                Group::Expr(e) => AssignValue::Expr(e),
                Group::Func(_) => {
                    return Err(err(*at, "a function cannot be assigned to a variable"));
                }
            },
            Some((t, at)) => {
                return Err(err(
                    *at,
                    format!("expected a value after '=', found {}", t.describe()),
                ));
            }
        };
        if let Some((t, at)) = toks.get(3) {
            return Err(err(
                *at,
                format!("unexpected {} after an assignment", t.describe()),
            ));
        }
        return Ok(CommandBody::Assign {
            name: name.text.clone(),
            value,
        });
    }
    let mut i = 0;
    let mut source = None;
    let mut stages = Vec::new();
    match (toks.first(), toks.get(1)) {
        (Some((Tok::Word(w), at)), Some((Tok::Load, _))) => {
            source = Some(Source::Reservoir(var_name(w, *at)?));
            i = 2;
        }
        (Some((Tok::Load, at)), _) => return Err(err(*at, "missing variable name before '<$'")),
        (Some((Tok::In(None), at)), next) => {
            match next {
                Some((Tok::Word(w), _)) => source = Some(Source::File(w.clone())),
                Some((t, at)) => {
                    return Err(err(
                        *at,
                        format!("expected a file name after '<', found {}", t.describe()),
                    ));
                }
                None => return Err(err(at + 1, "missing file name after '<'")),
            }
            // `< in sort` and `< in | sort` mean the same.
            i = 2;
            if let Some((Tok::Pipe, _)) = toks.get(2) {
                i = 3;
                if toks.get(3).is_none() {
                    return Err(err(end, "empty stage: nothing after '|'"));
                }
            }
        }
        _ => {}
    }
    // Stages.
    while let Some((tok, at)) = toks.get(i) {
        let stage = match tok {
            Tok::Word(_) => {
                let mut env = Vec::new();
                while let Some((Tok::Word(w), wat)) = toks.get(i)
                    && let Some(prefix) = env_prefix(line, w, *wat)
                {
                    env.push(prefix);
                    i += 1;
                }
                let Some((Tok::Word(name), _)) = toks.get(i) else {
                    let (prefix, at) = &toks[i - 1];
                    return Err(err(*at, missing_program(prefix)));
                };
                i += 1;
                let mut args = Vec::new();
                let mut redirects = Vec::new();
                while let Some((t, at)) = toks.get(i) {
                    match t {
                        Tok::Word(w) => args.push(Arg::Word(w.clone())),
                        Tok::Group(text) => args.push(match parse_group(text, *at)? {
                            Group::Expr(e) => Arg::Expr(e),
                            Group::Func(f) => Arg::Func(f),
                        }),
                        t if t.is_redirect() && !is_final_output(toks, i) => {
                            i = redirect(toks, i, end, &mut redirects)?;
                            continue;
                        }
                        _ => break,
                    }
                    i += 1;
                }
                Stage::Op {
                    env,
                    name: name.clone(),
                    args,
                    redirects,
                }
            }
            Tok::Group(text) => {
                i += 1;
                let f = match parse_group(text, *at)? {
                    Group::Expr(body) => Function {
                        params: vec![],
                        body,
                    },
                    Group::Func(f) => f,
                };
                if let Some((t @ (Tok::Word(_) | Tok::Group(_)), at)) = toks.get(i) {
                    return Err(err(
                        *at,
                        format!(
                            "unexpected {} after a function; separate stages with '|'",
                            t.describe()
                        ),
                    ));
                }
                Stage::Func(f)
            }
            Tok::Pipe => return Err(err(*at, "empty stage before '|'")),
            _ if stages.is_empty() && source.is_none() => {
                return Err(err(
                    *at,
                    format!("expected a command, found {}", tok.describe()),
                ));
            }
            _ => break,
        };
        stages.push(stage);
        match toks.get(i) {
            Some((Tok::Pipe, _)) => {
                i += 1;
                match toks.get(i) {
                    None => return Err(err(end, "empty stage: nothing after '|'")),
                    Some((Tok::Word(_) | Tok::Group(_), _)) => {}
                    Some((_, at)) => return Err(err(*at, "empty stage after '|'")),
                }
            }
            _ => break,
        }
    }
    // Sink.
    let mut sink = None;
    if let Some((tok, _)) = toks.get(i) {
        let name_at = toks.get(i + 1).map_or(end, |t| t.1);
        match tok {
            Tok::Store | Tok::StoreAppend => {
                let append = *tok == Tok::StoreAppend;
                let name = match toks.get(i + 1) {
                    Some((Tok::Word(w), wat)) => var_name(w, *wat)?,
                    _ => {
                        return Err(err(
                            name_at,
                            format!("missing variable name after {}", tok.describe()),
                        ));
                    }
                };
                sink = Some(Sink::Reservoir { name, append });
                i += 2;
            }
            Tok::Out(None) | Tok::Append(None) => {
                let append = *tok == Tok::Append(None);
                let path = match toks.get(i + 1) {
                    Some((Tok::Word(w), _)) => w.clone(),
                    _ => {
                        return Err(err(
                            name_at,
                            format!("missing file name after {}", tok.describe()),
                        ));
                    }
                };
                sink = Some(Sink::File { path, append });
                i += 2;
            }
            _ => {}
        }
    }
    if let Some((t, at)) = toks.get(i) {
        let msg = match t {
            _ if sink.is_some() => format!("unexpected {} after the output", t.describe()),
            Tok::Load => "'<$' must follow a variable name at the start of the line".to_string(),
            t if t.is_redirect() && matches!(stages.last(), Some(Stage::Func(_))) => format!(
                "unexpected {}: a bare function takes no redirection; write map (...) {}",
                t.describe(),
                t.describe().trim_matches('\'')
            ),
            t if t.is_redirect() => format!(
                "unexpected {}: only a program or an op can be redirected",
                t.describe()
            ),
            _ => format!("unexpected {}", t.describe()),
        };
        return Err(err(*at, msg));
    }
    if source.is_none() && stages.is_empty() {
        return Err(err(toks[0].1, "a pipeline needs a command or an input"));
    }
    Ok(CommandBody::Pipeline(Pipeline {
        source,
        stages,
        sink,
    }))
}

/// Whether the redirection at `i` is the command's final `> path` or `>> path`, which is the pipeline's output rather than the last program's redirection: ops
/// write their items there, and a program standing last writes into the file after its own
/// redirections are done. A `>` with no word after it is left to report there.
fn is_final_output(toks: &[(Tok, usize)], i: usize) -> bool {
    matches!(toks[i].0, Tok::Out(None) | Tok::Append(None))
        && (!matches!(toks.get(i + 1), Some((Tok::Word(_), _))) || toks.get(i + 2).is_none())
}

/// Parses the redirection at `i` into `out` (`&>` gives two); returns the position after it.
fn redirect(
    toks: &[(Tok, usize)],
    i: usize,
    end: usize,
    out: &mut Vec<Redirect>,
) -> Result<usize, ParseError> {
    let (tok, _) = &toks[i];
    if let Tok::Dup { fd, to } = tok {
        out.push(Redirect {
            fd: *fd,
            target: to.map_or(RedirectTarget::Close, RedirectTarget::Dup),
        });
        return Ok(i + 1);
    }
    let path = match toks.get(i + 1) {
        Some((Tok::Word(w), _)) => w.clone(),
        Some((t, at)) => {
            return Err(err(
                *at,
                format!(
                    "expected a file name after {}, found {}",
                    tok.describe(),
                    t.describe()
                ),
            ));
        }
        None => {
            return Err(err(
                end,
                format!("missing file name after {}", tok.describe()),
            ));
        }
    };
    let write = |fd: &Option<u32>, append| Redirect {
        fd: fd.unwrap_or(1),
        target: RedirectTarget::Write {
            path: path.clone(),
            append,
        },
    };
    match tok {
        Tok::In(fd) => out.push(Redirect {
            fd: fd.unwrap_or(0),
            target: RedirectTarget::Read(path.clone()),
        }),
        Tok::Out(fd) => out.push(write(fd, false)),
        Tok::Append(fd) => out.push(write(fd, true)),
        Tok::Both { append } => {
            out.push(write(&None, *append));
            out.push(Redirect {
                fd: 2,
                target: RedirectTarget::Dup(1),
            });
        }
        _ => unreachable!("a redirection token"),
    }
    Ok(i + 2)
}

/// The `NAME=VALUE` that word `w`, at `at` in `line`, spells when it starts a stage: NAME and
/// `=` must be written unquoted (the line's text there shows it), so `'A=b' prog` and `A\=b`
/// stay words.
fn env_prefix(line: &str, w: &Word, at: usize) -> Option<EnvPrefix> {
    let raw = line.get(at..)?;
    let name_len = raw
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = &raw[..name_len];
    if !is_identifier(name) || !raw[name_len..].starts_with('=') {
        return None;
    }
    let skip = name_len + 1;
    let value = Word {
        text: w.text.get(skip..)?.to_string(),
        quoted: false,
        expansions: w
            .expansions
            .iter()
            .map(|e| Expansion {
                at: e.at.saturating_sub(skip),
                param: e.param.clone(),
            })
            .collect(),
    };
    Some(EnvPrefix {
        name: name.to_string(),
        value,
    })
}

/// Why `NAME=VALUE` with nothing after it is not a command.
fn missing_program(prefix: &Tok) -> String {
    let text = match prefix {
        Tok::Word(w) => w.text.as_str(),
        _ => "",
    };
    let name = text.split('=').next().unwrap_or_default();
    format!(
        "'{text}' sets the environment of a program, and none follows \
         (a variable: {name} = ...; the environment: export {text})"
    )
}

fn var_name(w: &super::ast::Word, at: usize) -> Result<String, ParseError> {
    if w.quoted || !is_identifier(&w.text) {
        return Err(err(at, format!("bad variable name '{}'", w.text)));
    }
    Ok(w.text.clone())
}

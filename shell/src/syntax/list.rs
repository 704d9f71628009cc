//! The line grammar: lists, and-or lists, groups and control flow, around the simple commands
//! that `parser.rs` reads.
//!
//! ```text
//! list     := (and_or (';' | '&' | newline))* [and_or]
//! and_or   := unit (('&&' | '||') unit)*
//! unit     := group | if | while | for | 'break' | 'continue' | simple
//! group    := '{' list '}' [sink]
//! if       := 'if' cond body ('else' 'if' cond body)* ['else' body]   ('else' on the '}' line)
//! while    := 'while' cond body
//! for      := 'for' NAME 'in' pipeline body
//! cond     := '(' expr ')' | pipeline
//! ```
//!
//! Keywords are whole unquoted words at the start of a unit; `{` and `}` are braces wherever
//! they stand unquoted and alone. An error at the very end of the text that more lines could
//! complete is [`ParseError::incomplete`]. Nesting is bounded, so no input exhausts the stack.

use super::ParseError;
use super::ast::*;
use super::lexer::{Tok, tokenize};
use super::parser::{group_expr, is_identifier, parse_simple};

fn err(position: usize, message: impl Into<String>) -> ParseError {
    ParseError::new(position, message)
}

/// The deepest nesting of groups and control-flow bodies.
const MAX_NESTING: usize = 64;

/// Parses a whole text: its list, to the end.
pub fn parse_list(text: &str) -> Result<List, ParseError> {
    let toks = tokenize(text)?;
    let mut p = ListParser {
        text,
        toks,
        pos: 0,
        end: text.len(),
        depth: 0,
        loops: 0,
    };
    let list = p.list()?;
    match p.toks.get(p.pos) {
        None => Ok(list),
        Some((Tok::RBrace, at)) => Err(err(*at, "'}' without '{'")),
        Some((t, at)) => Err(err(*at, format!("unexpected {}", t.describe()))),
    }
}

/// Parses the tokens of a `$(P)` (the `$` at `dollar`, the `)` at `close`, positions into
/// `text`): one pipeline, in the foreground.
pub fn parse_substitution(
    text: &str,
    toks: Vec<(Tok, usize)>,
    dollar: usize,
    close: usize,
) -> Result<Pipeline, ParseError> {
    let mut p = ListParser {
        text,
        toks,
        pos: 0,
        end: close,
        depth: 0,
        loops: 0,
    };
    // The `)` is written: nothing inside is left for more lines to complete.
    let complete = |e: ParseError| ParseError::new(e.position, e.message);
    let list = p.list().map_err(complete)?;
    if let Some((t, at)) = p.toks.get(p.pos) {
        let what = match t {
            Tok::RBrace => "'}' without '{'".to_string(),
            t => format!("unexpected {}", t.describe()),
        };
        return Err(err(*at, what));
    }
    let one = "'$(…)' holds one pipeline (a list or a compound command is not one)";
    match <[ListItem; 1]>::try_from(list.items) {
        Ok(
            [
                ListItem {
                    and_or:
                        AndOr {
                            first: Unit::Simple(CommandBody::Pipeline(pipeline)),
                            rest,
                        },
                    background: false,
                },
            ],
        ) if rest.is_empty() => Ok(pipeline),
        Err(items) if items.is_empty() => Err(err(dollar, "'$()' holds no pipeline")),
        _ => Err(err(dollar, one)),
    }
}

/// Parses a line holding one simple command, possibly ended by `&`.
pub fn parse_simple_line(line: &str) -> Result<Command, ParseError> {
    let list = parse_list(line)?;
    if list.items.is_empty() {
        return Ok(Command {
            body: CommandBody::Empty,
            background: false,
        });
    }
    list.single_simple()
        .map(|(body, background)| Command {
            body: body.clone(),
            background,
        })
        .ok_or_else(|| err(0, "expected one simple command"))
}

struct ListParser<'a> {
    /// The whole text, which token positions index (an environment prefix is told from a
    /// word by how it is written there).
    text: &'a str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
    /// How many loops enclose the current position (`break` needs one).
    loops: usize,
}

impl ListParser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.1)
    }

    /// The keyword at the current position, if a whole unquoted word.
    fn keyword(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Word(w)) if !w.quoted && w.expansions.is_empty() => Some(w.text.as_str()),
            _ => None,
        }
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        match self.toks.get(self.pos) {
            None => ParseError::incomplete(self.end, format!("expected {expected}")),
            Some((t, at)) => err(*at, format!("expected {expected}, found {}", t.describe())),
        }
    }

    /// Items up to the end of the text or a `}` (left for the caller).
    fn list(&mut self) -> Result<List, ParseError> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::RBrace) => break,
                Some(Tok::Newline) => {
                    self.pos += 1;
                    continue;
                }
                Some(t @ (Tok::Semi | Tok::Amp | Tok::AndIf | Tok::OrIf)) => {
                    return Err(err(
                        self.here(),
                        format!("unexpected {}: a command must come before it", t.describe()),
                    ));
                }
                Some(_) => {}
            }
            let and_or = self.and_or()?;
            let background = match self.peek() {
                Some(Tok::Amp) => {
                    self.pos += 1;
                    true
                }
                Some(Tok::Semi | Tok::Newline) => {
                    self.pos += 1;
                    false
                }
                None | Some(Tok::RBrace) => false,
                Some(t) => {
                    return Err(err(self.here(), format!("unexpected {}", t.describe())));
                }
            };
            items.push(ListItem { and_or, background });
        }
        Ok(List { items })
    }

    fn and_or(&mut self) -> Result<AndOr, ParseError> {
        let first = self.unit()?;
        let mut rest = Vec::new();
        loop {
            let connector = match self.peek() {
                Some(Tok::AndIf) => Connector::And,
                Some(Tok::OrIf) => Connector::Or,
                _ => return Ok(AndOr { first, rest }),
            };
            let op_at = self.here();
            self.pos += 1;
            match self.peek() {
                None => {
                    return Err(ParseError::incomplete(
                        self.end,
                        format!("a command must follow '{}'", connector.symbol()),
                    ));
                }
                Some(t) if t.ends_command() && *t != Tok::LBrace => {
                    return Err(err(
                        op_at,
                        format!("a command must follow '{}'", connector.symbol()),
                    ));
                }
                _ => {}
            }
            rest.push((connector, self.unit()?));
        }
    }

    fn unit(&mut self) -> Result<Unit, ParseError> {
        let at = self.here();
        match (self.peek(), self.keyword()) {
            (Some(Tok::LBrace), _) => {
                let body = self.body()?;
                self.compound(Compound::Group(body))
            }
            (Some(Tok::RBrace), _) => Err(err(at, "'}' without '{'")),
            (_, Some("if")) => {
                let c = self.if_form()?;
                self.compound(c)
            }
            (_, Some("while")) => {
                self.pos += 1;
                let cond = self.cond()?;
                let body = self.loop_body()?;
                self.compound(Compound::While { cond, body })
            }
            (_, Some("for")) => {
                let c = self.for_form()?;
                self.compound(c)
            }
            (_, Some("else")) => Err(err(at, "'else' without 'if'")),
            (_, Some(word @ ("break" | "continue"))) => {
                let unit = if word == "break" {
                    Unit::Break
                } else {
                    Unit::Continue
                };
                if self.loops == 0 {
                    return Err(err(at, format!("'{word}' outside a loop")));
                }
                self.pos += 1;
                match self.toks.get(self.pos) {
                    Some((t, _)) if !t.ends_command() || *t == Tok::LBrace => {
                        Err(self.unexpected("the end of the command after 'break'/'continue'"))
                    }
                    _ => Ok(unit),
                }
            }
            _ => self.simple().map(Unit::Simple),
        }
    }

    /// A simple command: the tokens up to the next list operator, line break or brace.
    fn simple(&mut self) -> Result<CommandBody, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|t| !t.ends_command()) {
            self.pos += 1;
        }
        let toks = &self.toks[start..self.pos];
        let at_end = self.pos == self.toks.len();
        let body = parse_simple(self.text, toks, self.here()).map_err(|e| {
            // Only a trailing `|` with nothing wrong before it waits for more lines.
            if at_end && e.position == self.end && matches!(toks.last(), Some((Tok::Pipe, _))) {
                ParseError::incomplete(e.position, e.message)
            } else {
                e
            }
        })?;
        if body == CommandBody::Empty {
            return Err(self.unexpected("a command"));
        }
        Ok(body)
    }

    /// A pipeline that must be followed by `{` (a condition, a `for`'s items).
    fn pipeline(&mut self, what: &str) -> Result<Pipeline, ParseError> {
        let at = self.here();
        match self.simple()? {
            CommandBody::Pipeline(p) if self.peek() == Some(&Tok::LBrace) => Ok(p),
            CommandBody::Pipeline(_) => Err(self.unexpected(&format!("'{{' after {what}"))),
            _ => Err(err(at, format!("{what} must be a pipeline"))),
        }
    }

    fn cond(&mut self) -> Result<Cond, ParseError> {
        if let (Some((Tok::Group(text), open)), Some((Tok::LBrace, _))) =
            (self.toks.get(self.pos), self.toks.get(self.pos + 1))
        {
            let e = group_expr(text, *open)?;
            self.pos += 1;
            return Ok(Cond::Expr(e));
        }
        if self.peek().is_none() {
            return Err(self.unexpected("a condition"));
        }
        self.pipeline("the condition").map(Cond::Pipeline)
    }

    /// `{ LIST }`, at its `{`.
    fn body(&mut self) -> Result<List, ParseError> {
        let open = self.here();
        if self.peek() != Some(&Tok::LBrace) {
            return Err(self.unexpected("'{'"));
        }
        if self.depth >= MAX_NESTING {
            return Err(err(open, "commands nested too deeply"));
        }
        self.pos += 1;
        self.depth += 1;
        let list = self.list();
        self.depth -= 1;
        let list = list?;
        match self.peek() {
            Some(Tok::RBrace) => {
                self.pos += 1;
                Ok(list)
            }
            _ => Err(ParseError::incomplete(open, "'{' is never closed")),
        }
    }

    fn loop_body(&mut self) -> Result<List, ParseError> {
        self.loops += 1;
        let body = self.body();
        self.loops -= 1;
        body
    }

    fn if_form(&mut self) -> Result<Compound, ParseError> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            self.pos += 1; // `if`
            let cond = self.cond()?;
            branches.push((cond, self.body()?));
            if self.keyword() != Some("else") {
                break;
            }
            self.pos += 1;
            if self.keyword() == Some("if") {
                continue;
            }
            otherwise = Some(self.body()?);
            break;
        }
        Ok(Compound::If {
            branches,
            otherwise,
        })
    }

    fn for_form(&mut self) -> Result<Compound, ParseError> {
        self.pos += 1; // `for`
        let name = match self.toks.get(self.pos) {
            Some((Tok::Word(w), _)) if !w.quoted && is_identifier(&w.text) => w.text.clone(),
            _ => return Err(self.unexpected("a variable name after 'for'")),
        };
        self.pos += 1;
        if self.keyword() != Some("in") {
            return Err(self.unexpected("'in' after the variable"));
        }
        self.pos += 1;
        if self.peek().is_none() {
            return Err(self.unexpected("a pipeline after 'in'"));
        }
        let items = self.pipeline("the items")?;
        let body = self.loop_body()?;
        Ok(Compound::For { name, items, body })
    }

    /// A compound command and the sink after it (`>$ x`, `>>$ x`, `> f`, `>> f`).
    fn compound(&mut self, compound: Compound) -> Result<Unit, ParseError> {
        let sink = match self.peek() {
            Some(op @ (Tok::Store | Tok::StoreAppend | Tok::Out(None) | Tok::Append(None))) => {
                let op = op.clone();
                self.pos += 1;
                let Some((Tok::Word(w), wat)) = self.toks.get(self.pos) else {
                    return Err(self.unexpected(&format!("a name after {}", op.describe())));
                };
                let (w, wat) = (w.clone(), *wat);
                self.pos += 1;
                Some(match op {
                    Tok::Store | Tok::StoreAppend => {
                        if w.quoted || !is_identifier(&w.text) {
                            return Err(err(wat, format!("bad variable name '{}'", w.text)));
                        }
                        Sink::Reservoir {
                            name: w.text,
                            append: op == Tok::StoreAppend,
                        }
                    }
                    _ => Sink::File {
                        path: w,
                        append: op == Tok::Append(None),
                    },
                })
            }
            _ => None,
        };
        match self.toks.get(self.pos) {
            Some((Tok::Pipe, at)) => Err(err(
                *at,
                "a group or loop cannot be piped; store its output: { ... } >$ x; x <$ | ...",
            )),
            Some((t, _)) if !t.ends_command() || *t == Tok::LBrace => {
                Err(self.unexpected("';', '&', '&&', '||' or the end of the line"))
            }
            _ => Ok(Unit::Compound { compound, sink }),
        }
    }
}

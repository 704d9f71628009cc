//! Lexing: a command line into words, operators and `(…)` groups, and the text of a group into
//! expression tokens.

use super::ParseError;
use super::ast::{Expansion, Param, Pipeline, Quoting, Word};

fn err(position: usize, message: impl Into<String>) -> ParseError {
    ParseError::new(position, message)
}

/// A token of the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Word(Word),
    /// The text between a balanced pair of parentheses; the position is that of the `(`.
    Group(String),
    Pipe,
    Amp,
    /// `>`, or `N>` with the descriptor number glued to it.
    Out(Option<u32>),
    /// `>>`, `N>>`
    Append(Option<u32>),
    /// `<`, `N<`
    In(Option<u32>),
    /// `>&M`, `N>&M`, `<&M`, `N<&M`: descriptor N (default 1 for `>&`, 0 for `<&`) becomes a
    /// copy of M; `to` is `None` for `N>&-`, which closes N.
    Dup {
        fd: u32,
        to: Option<u32>,
    },
    /// `&>` (append: `&>>`): stdout and stderr into one file.
    Both {
        append: bool,
    },
    /// `>$`
    Store,
    /// `>>$`
    StoreAppend,
    /// `<$`
    Load,
    /// `;`
    Semi,
    /// `&&`
    AndIf,
    /// `||`
    OrIf,
    /// A line break that ends a command (one after `|`, `&&`, `||`, `{` or another break
    /// continues the command and is left out).
    Newline,
    /// `{` as a whole unquoted word.
    LBrace,
    /// `}` as a whole unquoted word.
    RBrace,
}

impl Tok {
    pub fn describe(&self) -> String {
        let fd = |n: &Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        match self {
            Tok::Word(w) => format!("'{}'", w.text),
            Tok::Group(_) => "'('".into(),
            Tok::Pipe => "'|'".into(),
            Tok::Amp => "'&'".into(),
            Tok::Out(n) => format!("'{}>'", fd(n)),
            Tok::Append(n) => format!("'{}>>'", fd(n)),
            Tok::In(n) => format!("'{}<'", fd(n)),
            Tok::Dup { fd: n, to } => match to {
                Some(to) => format!("'{n}>&{to}'"),
                None => format!("'{n}>&-'"),
            },
            Tok::Both { append } => if *append { "'&>>'" } else { "'&>'" }.into(),
            Tok::Store => "'>$'".into(),
            Tok::StoreAppend => "'>>$'".into(),
            Tok::Load => "'<$'".into(),
            Tok::Semi => "';'".into(),
            Tok::AndIf => "'&&'".into(),
            Tok::OrIf => "'||'".into(),
            Tok::Newline => "the end of the line".into(),
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
        }
    }

    /// Whether the token redirects one of a program's descriptors (the `>$` stores do not).
    pub fn is_redirect(&self) -> bool {
        matches!(
            self,
            Tok::Out(_) | Tok::Append(_) | Tok::In(_) | Tok::Dup { .. } | Tok::Both { .. }
        )
    }

    /// Whether the token ends a simple command: a list operator, a line break or a brace.
    pub fn ends_command(&self) -> bool {
        matches!(
            self,
            Tok::Semi
                | Tok::Amp
                | Tok::AndIf
                | Tok::OrIf
                | Tok::Newline
                | Tok::LBrace
                | Tok::RBrace
        )
    }

    /// Whether a line break right after the token continues the command.
    fn continues_over_newline(&self) -> bool {
        matches!(
            self,
            Tok::Pipe | Tok::AndIf | Tok::OrIf | Tok::LBrace | Tok::Newline | Tok::Semi
        )
    }
}

fn is_word_char(c: char) -> bool {
    !(c.is_whitespace()
        || matches!(
            c,
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '\'' | '"' | '\\'
        ))
}

/// Reads an escape after a backslash inside quotes (`chars` is positioned after the
/// backslash). Returns the characters it stands for.
fn read_escape(
    s: &str,
    i: usize,
    backslash_pos: usize,
    out: &mut String,
) -> Result<usize, ParseError> {
    let Some(c) = s[i..].chars().next() else {
        return Err(err(backslash_pos, "unterminated quote"));
    };
    let next = i + c.len_utf8();
    match c {
        '\\' | '\'' | '"' => out.push(c),
        'n' => out.push('\n'),
        't' => out.push('\t'),
        'r' => out.push('\r'),
        '0' => out.push('\0'),
        'x' => {
            let hex = s
                .get(next..next + 2)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
            match hex {
                Some(h) => {
                    let code = u32::from_str_radix(h, 16).expect("hex digits");
                    out.push(char::from_u32(code).expect("a byte is a char"));
                    return Ok(next + 2);
                }
                None => return Err(err(backslash_pos, "bad escape: \\x needs two hex digits")),
            }
        }
        'u' if s[next..].starts_with('{') => {
            return read_unicode_escape(s, next, backslash_pos, out);
        }
        other => {
            // Unknown escapes keep the backslash, as Python does.
            out.push('\\');
            out.push(other);
        }
    }
    Ok(next)
}

/// Reads `{HEX}` after `\\u` (at `brace`): the character with that code point.
fn read_unicode_escape(
    s: &str,
    brace: usize,
    backslash_pos: usize,
    out: &mut String,
) -> Result<usize, ParseError> {
    let bad = || err(backslash_pos, "bad escape: \\u{...} needs a hex code point");
    let close = s[brace..].find('}').ok_or_else(bad)? + brace;
    let hex = &s[brace + 1..close];
    if hex.is_empty() || hex.len() > 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let code = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
    out.push(char::from_u32(code).ok_or_else(bad)?);
    Ok(close + 1)
}

/// Reads a quoted string starting at the quote at `start`; returns its text and the position
/// after the closing quote.
pub fn read_quoted(s: &str, start: usize) -> Result<(String, usize), ParseError> {
    let quote = s[start..].chars().next().expect("a quote");
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let Some(c) = s[i..].chars().next() else {
            return Err(err(start, "unterminated quote"));
        };
        if c == quote {
            return Ok((out, i + 1));
        }
        if c == '\\' {
            i = read_escape(s, i + 1, i, &mut out)?;
        } else {
            out.push(c);
            i += c.len_utf8();
        }
    }
}

/// Splits a command line into tokens, each with its byte position.
pub fn tokenize(line: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    lex(line, 0, None).map(|(toks, _)| toks)
}

/// How deep `$(…)` may nest, so that no input exhausts the stack.
const MAX_SUBSTITUTION_DEPTH: usize = 32;

/// Where lexing stops: at the end of the line, or (`Some`) at the `)` that closes a `$(` at
/// that position, `depth` levels deep.
#[derive(Clone, Copy)]
struct Nested {
    dollar: usize,
    depth: usize,
}

/// Tokenizes `line` from `start`: to its end (`nested` is `None`), or to the `)` that closes
/// the `$(` of `nested`. Returns the tokens and the position where lexing stopped.
fn lex(
    line: &str,
    start: usize,
    nested: Option<Nested>,
) -> Result<(Vec<(Tok, usize)>, usize), ParseError> {
    let depth = nested.map_or(0, |n| n.depth);
    let mut toks = Vec::new();
    let mut i = start;
    while let Some(c) = line[i..].chars().next() {
        if c == '\n' {
            let continued = toks
                .last()
                .is_none_or(|(t, _): &(Tok, usize)| t.continues_over_newline());
            if !continued {
                toks.push((Tok::Newline, i));
            }
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        if line[i..].starts_with("\\\n") {
            i += 2;
            continue;
        }
        match c {
            '#' => i = line[i..].find('\n').map_or(line.len(), |n| i + n),
            '|' if line[i + 1..].starts_with('|') => {
                toks.push((Tok::OrIf, start));
                i += 2;
            }
            '|' => {
                toks.push((Tok::Pipe, start));
                i += 1;
            }
            ';' => {
                toks.push((Tok::Semi, start));
                i += 1;
            }
            '&' if line[i + 1..].starts_with('&') => {
                toks.push((Tok::AndIf, start));
                i += 2;
            }
            '&' => {
                let (tok, len) = match (
                    line[i + 1..].starts_with(">>"),
                    line[i + 1..].starts_with('>'),
                ) {
                    (true, _) => (Tok::Both { append: true }, 3),
                    (false, true) => (Tok::Both { append: false }, 2),
                    _ => (Tok::Amp, 1),
                };
                toks.push((tok, start));
                i += len;
            }
            '<' | '>' => {
                let (tok, len) = lex_redirect(line, i, None)?;
                toks.push((tok, start));
                i += len;
            }
            ')' if nested.is_some() => return Ok((toks, start)),
            ')' => return Err(err(start, "unbalanced parenthesis: ')' without '('")),
            '(' => {
                let end = group_end(line, start)?;
                toks.push((Tok::Group(line[start + 1..end].to_string()), start));
                i = end + 1;
            }
            _ => {
                let (word, end) = read_word(line, start, depth)?;
                match fd_number(&word, &line[end..]) {
                    Some(fd) => {
                        let fd = fd.ok_or_else(|| err(start, FD_RANGE))?;
                        let (tok, len) = lex_redirect(line, end, Some(fd))?;
                        toks.push((tok, start));
                        i = end + len;
                    }
                    None => {
                        toks.push((brace_or_word(word), start));
                        i = end;
                    }
                }
            }
        }
    }
    match nested {
        None => Ok((toks, i)),
        Some(n) => Err(ParseError::incomplete(
            n.dollar,
            "'$(' is never closed by a ')'",
        )),
    }
}

/// `{` and `}` standing alone and unquoted are braces; any other word is a word.
fn brace_or_word(word: Word) -> Tok {
    let bare = !word.quoted && word.expansions.is_empty();
    match word.text.as_str() {
        "{" if bare => Tok::LBrace,
        "}" if bare => Tok::RBrace,
        _ => Tok::Word(word),
    }
}

/// The message for a descriptor number out of range.
const FD_RANGE: &str = "file descriptor numbers go from 0 to 9";

/// The highest descriptor a redirection may name, as in the Bourne shell: the shell's own
/// files stay above it, out of the way.
pub const MAX_FD: u32 = 9;

/// Whether `word`, followed by `rest`, is a descriptor number glued to a redirection (`2>`,
/// `0<`), as POSIX reads it: unquoted digits only, right before `<` or `>`. `2>$x` stays the
/// word `2` stored into `x`, and `a2>f` the word `a2` and `>`. The inner `None` is a number out
/// of range.
fn fd_number(word: &Word, rest: &str) -> Option<Option<u32>> {
    let is_number = !word.quoted
        && word.expansions.is_empty()
        && !word.text.is_empty()
        && word.text.bytes().all(|b| b.is_ascii_digit());
    let glued = (rest.starts_with('>') && !rest.starts_with(">$") && !rest.starts_with(">>$"))
        || (rest.starts_with('<') && !rest.starts_with("<$"));
    (is_number && glued).then(|| word.text.parse().ok().filter(|n| *n <= MAX_FD))
}

/// Lexes the operator at `i` (it starts with `<` or `>`); `fd` is a number glued before it.
/// Returns the token and its length.
fn lex_redirect(line: &str, i: usize, fd: Option<u32>) -> Result<(Tok, usize), ParseError> {
    let rest = &line[i..];
    let tok = if let Some(after) = rest.strip_prefix("<&").or_else(|| rest.strip_prefix(">&")) {
        let default = if rest.starts_with('<') { 0 } else { 1 };
        let (to, len) = copy_source(after, i, &rest[..2], fd)?;
        let fd = fd.unwrap_or(default);
        (Tok::Dup { fd, to }, 2 + len)
    } else if rest.starts_with('<') {
        match fd {
            None if rest.starts_with("<$") => (Tok::Load, 2),
            _ => (Tok::In(fd), 1),
        }
    } else if fd.is_none() && rest.starts_with(">>$") {
        (Tok::StoreAppend, 3)
    } else if rest.starts_with(">>") {
        (Tok::Append(fd), 2)
    } else if fd.is_none() && rest.starts_with(">$") {
        (Tok::Store, 2)
    } else {
        (Tok::Out(fd), 1)
    };
    Ok(tok)
}

/// The `M` of `N>&M` / `N<&M` at the start of `after` (`None` for `-`, which closes N), and
/// its length. `op` is `>&` or `<&`, at `i`.
fn copy_source(
    after: &str,
    i: usize,
    op: &str,
    fd: Option<u32>,
) -> Result<(Option<u32>, usize), ParseError> {
    if after.starts_with('-') {
        return Ok((None, 1));
    }
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        let n = fd.map(|n| n.to_string()).unwrap_or_default();
        return Err(err(
            i,
            format!("expected a file descriptor number or '-' after '{n}{op}'"),
        ));
    }
    let to = after[..digits]
        .parse()
        .ok()
        .filter(|n| *n <= MAX_FD)
        .ok_or_else(|| err(i + 2, FD_RANGE))?;
    Ok((Some(to), digits))
}

/// The position of the `)` matching the `(` at `open`.
fn group_end(line: &str, open: usize) -> Result<usize, ParseError> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(c) = line[i..].chars().next() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            '\'' | '"' => {
                let (_, end) = read_quoted(line, i)?;
                i = end;
                continue;
            }
            _ => {}
        }
        i += c.len_utf8();
    }
    Err(err(open, "unbalanced parenthesis: '(' is never closed"))
}

fn read_word(line: &str, start: usize, depth: usize) -> Result<(Word, usize), ParseError> {
    let mut word = Word::plain("");
    let mut i = start;
    while let Some(c) = line[i..].chars().next() {
        match c {
            '\'' => {
                let (part, end) = read_quoted(line, i)?;
                word.text.push_str(&part);
                word.quoted = true;
                i = end;
            }
            '"' => {
                i = read_double_quoted(line, i, &mut word, depth)?;
                word.quoted = true;
            }
            '\\' => {
                let Some(n) = line[i + 1..].chars().next() else {
                    return Err(ParseError::incomplete(
                        i,
                        "a backslash at the end of the line escapes nothing",
                    ));
                };
                if n != '\n' {
                    // A backslash-newline joins two lines and stands for nothing.
                    word.text.push(n);
                    word.quoted = true;
                }
                i += 1 + n.len_utf8();
            }
            '$' => i = read_dollar(line, i, &mut word, Quoting::Bare, depth)?,
            c if is_word_char(c) => {
                word.text.push(c);
                i += c.len_utf8();
            }
            _ => break,
        }
    }
    Ok((word, i))
}

/// Reads a `"…"` part of a word at `start` into `word`: escapes as in `'…'` (and `\$` for a
/// plain `$`), and `$` expansions. Returns the position after the closing quote.
fn read_double_quoted(
    line: &str,
    start: usize,
    word: &mut Word,
    depth: usize,
) -> Result<usize, ParseError> {
    let mut i = start + 1;
    loop {
        let Some(c) = line[i..].chars().next() else {
            return Err(err(start, "unterminated quote"));
        };
        match c {
            '"' => return Ok(i + 1),
            '\\' if line[i + 1..].starts_with('$') => {
                word.text.push('$');
                i += 2;
            }
            '\\' => i = read_escape(line, i + 1, i, &mut word.text)?,
            '$' => i = read_dollar(line, i, word, Quoting::Double, depth)?,
            c => {
                word.text.push(c);
                i += c.len_utf8();
            }
        }
    }
}

/// Reads what the `$` at `i` stands for into `word`: `$NAME`, `${NAME}`, `$$`, `$!` and
/// `$(P)` become expansions, any other `$` is itself. `quoting` says whether the `$` stands
/// inside `"…"`; `depth` is how many `$(` enclose it. Returns the position after it.
fn read_dollar(
    line: &str,
    i: usize,
    word: &mut Word,
    quoting: Quoting,
    depth: usize,
) -> Result<usize, ParseError> {
    let rest = &line[i + 1..];
    if rest.starts_with('(') {
        let (pipeline, end) = read_substitution(line, i, depth + 1)?;
        word.expansions.push(Expansion {
            at: word.text.len(),
            param: Param::Command {
                pipeline: Box::new(pipeline),
                quoting,
            },
        });
        return Ok(end + 1);
    }
    let (param, len) = if rest.starts_with('$') {
        (Param::Pid, 1)
    } else if rest.starts_with('!') {
        (Param::LastBackground, 1)
    } else if let Some(inner) = rest.strip_prefix('{') {
        let name_len = inner
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let name = &inner[..name_len];
        if !inner[name_len..].starts_with('}') || !super::parser::is_identifier(name) {
            return Err(err(
                i,
                "bad substitution: write ${NAME} with NAME a variable name",
            ));
        }
        (Param::Var(name.to_string()), name_len + 2)
    } else if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        (Param::Var(rest[..n].to_string()), n)
    } else {
        word.text.push('$');
        return Ok(i + 1);
    };
    word.expansions.push(Expansion {
        at: word.text.len(),
        param,
    });
    Ok(i + 1 + len)
}

/// Reads the pipeline of the `$(` at `dollar`, `depth` levels deep; returns it and the
/// position of its `)`.
fn read_substitution(
    line: &str,
    dollar: usize,
    depth: usize,
) -> Result<(Pipeline, usize), ParseError> {
    if depth > MAX_SUBSTITUTION_DEPTH {
        return Err(err(dollar, "command substitutions nest too deeply"));
    }
    let (toks, close) = lex(line, dollar + 2, Some(Nested { dollar, depth }))?;
    let pipeline = super::list::parse_substitution(line, toks, dollar, close)?;
    Ok((pipeline, close))
}

/// A token of an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ETok {
    Int(i64),
    Float(f64),
    Str(String),
    /// A name or keyword.
    Ident(String),
    /// Punctuation: `( ) [ ] , : . + - * / // % ** == != < <= > >=`.
    Punct(&'static str),
}

const PUNCTS: [&str; 23] = [
    "**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ":", ".", "+", "-", "*",
    "/", "%", "<", ">", "=",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The most tokens one expression may have: a bound on the depth of the trees it yields.
const MAX_TOKENS: usize = 1000;

/// Splits expression text into tokens; positions are `base` plus the offset into `s`.
pub fn tokenize_expr(s: &str, base: usize) -> Result<Vec<(ETok, usize)>, ParseError> {
    let mut toks = Vec::new();
    let mut i = 0;
    let b = s.as_bytes();
    while let Some(c) = s[i..].chars().next() {
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let (tok, end) = read_number(s, i, base)?;
            toks.push((tok, base + start));
            i = end;
        } else if is_ident_start(c) {
            while s[i..].chars().next().is_some_and(is_ident_char) {
                i += 1;
            }
            toks.push((ETok::Ident(s[start..i].to_string()), base + start));
        } else if c == '\'' || c == '"' {
            let (text, end) = read_quoted(s, i).map_err(|e| err(base + e.position, e.message))?;
            toks.push((ETok::Str(text), base + start));
            i = end;
        } else if let Some(p) = PUNCTS.iter().find(|p| s[i..].starts_with(**p)) {
            if *p == "=" {
                return Err(err(
                    base + start,
                    "'=' is not an operator here; did you mean '=='?",
                ));
            }
            toks.push((ETok::Punct(p), base + start));
            i += p.len();
        } else {
            return Err(err(base + start, format!("unexpected character '{c}'")));
        }
        if toks.len() > MAX_TOKENS {
            return Err(err(base + start, "expression too long"));
        }
    }
    Ok(toks)
}

fn read_number(s: &str, start: usize, base: usize) -> Result<(ETok, usize), ParseError> {
    let b = s.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
    };
    let tok;
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X')) {
        i += 2;
        let h = i;
        while b.get(i).is_some_and(u8::is_ascii_hexdigit) {
            i += 1;
        }
        if h == i {
            return Err(err(base + start, "bad hex literal"));
        }
        let v = i64::from_str_radix(&s[h..i], 16)
            .map_err(|_| err(base + start, "integer literal too large"))?;
        tok = ETok::Int(v);
    } else {
        digits(&mut i);
        let mut float = false;
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            float = true;
            i += 1;
            digits(&mut i);
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                float = true;
                i = j;
                digits(&mut i);
            }
        }
        let text = &s[start..i];
        if float {
            let v: f64 = text.parse().map_err(|_| err(base + start, "bad number"))?;
            if v.is_infinite() {
                return Err(err(base + start, "float literal too large"));
            }
            tok = ETok::Float(v);
        } else {
            let v: i64 = text
                .parse()
                .map_err(|_| err(base + start, "integer literal too large"))?;
            tok = ETok::Int(v);
        }
    }
    if s[i..].chars().next().is_some_and(is_ident_char) {
        return Err(err(base + start, "bad number literal"));
    }
    Ok((tok, i))
}

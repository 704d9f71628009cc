//! `read` and `write`: files of records and JSON documents in, formatted lines out (the
//! formats and their mapping to values are [`crate::data`]'s).

use super::sources::{glob_paths, io_reason, is_glob, push_lines};
use super::{ArgValue, Filter, Flow, OpArgs, OpError, Reporter, Sink, Source};
use crate::data::csv::{ReadOptions, RecordWriter, Records};
use crate::data::json::{self, JsonLines};
use crate::data::template::Template;
use crate::data::{Format, ReadError};
use crate::value::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

// ---- read ------------------------------------------------------------------------------------

/// What `read` was asked for: a format and its options.
#[derive(Clone, Copy, Debug)]
struct Reading {
    format: Format,
    headers: bool,
    numbers: bool,
}

/// Parses `read`'s flags; the other arguments are paths.
fn reading(a: &OpArgs) -> Result<(Reading, Vec<PathBuf>), OpError> {
    let mut format = None;
    let mut headers = false;
    let mut numbers = false;
    let mut paths = Vec::new();
    for arg in a.words_and_values()? {
        match arg {
            ArgValue::Word(w, false) if w.starts_with("--") => {
                if let Some(f) = Format::from_flag(&w) {
                    if format.is_some_and(|g| g != f) {
                        return Err(a.error("give one format: --csv, --tsv, --json or --jsonl"));
                    }
                    format = Some(f);
                } else if w == "--headers" {
                    headers = true;
                } else if w == "--numbers" {
                    numbers = true;
                } else {
                    return Err(a.error(format!("unknown flag {w} (try: help read)")));
                }
            }
            ArgValue::Word(w, quoted) if !quoted && is_glob(&w) => {
                let mut matched = glob_paths(&w).map_err(|e| a.error(e))?;
                if matched.is_empty() {
                    return Err(a.error(format!("no match for {w}")));
                }
                paths.append(&mut matched);
            }
            ArgValue::Word(w, _) => paths.push(PathBuf::from(w)),
            ArgValue::Value(v) => match path_of(&v) {
                Some(p) => paths.push(p),
                None => {
                    return Err(a.error(format!(
                        "FILE must be a word, a string or a file, got {}",
                        v.repr()
                    )));
                }
            },
            ArgValue::Func(_) => return Err(a.error("FILE must be a word, not a function")),
        }
    }
    let format = format.unwrap_or(Format::Lines);
    if (headers || numbers) && format.delimiter().is_none() {
        return Err(a.error("--headers and --numbers go with --csv or --tsv"));
    }
    Ok((
        Reading {
            format,
            headers,
            numbers,
        },
        paths,
    ))
}

/// The path an item names: a file value's, or a string's text.
fn path_of(v: &Value) -> Option<PathBuf> {
    match v {
        Value::File(f) => Some(PathBuf::from(&f.path)),
        Value::Str(s) => Some(PathBuf::from(&**s)),
        _ => None,
    }
}

/// `read ... FILE...` first in a pipeline.
pub fn read_source(a: &OpArgs) -> Result<Box<dyn Source>, OpError> {
    let (how, paths) = reading(a)?;
    if paths.is_empty() {
        return Err(a.error("needs a FILE, or file items from upstream: ls *.csv | read --csv"));
    }
    Ok(Box::new(ReadFiles { how, paths }))
}

/// `... | read ...`: reads each upstream file, or parses upstream text.
pub fn read_filter(a: &OpArgs) -> Result<Filter, OpError> {
    let (how, paths) = reading(a)?;
    if !paths.is_empty() {
        return Err(a.error(
            "takes its files from upstream or from its arguments, not both (FILE starts a pipeline)",
        ));
    }
    let reporter = a.reporter.clone();
    Ok(Box::new(move |next| {
        Box::new(ReadEach {
            how,
            next: Some(next),
            text: None,
            reporter,
        })
    }))
}

struct ReadFiles {
    how: Reading,
    paths: Vec<PathBuf>,
}

impl Source for ReadFiles {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        for path in &self.paths {
            if read_file(self.how, path, sink)? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }
}

/// `... | read`: file items are read as files; strings are text in the format (a program's
/// output, the lines of `< file`), parsed as one input on a thread of its own.
struct ReadEach {
    how: Reading,
    /// Downstream, while no text is being parsed (the parser owns it meanwhile).
    next: Option<Box<dyn Sink>>,
    text: Option<TextFeed>,
    reporter: Arc<Reporter>,
}

/// How upstream text reaches its parser: written into a pipe that the parser's thread
/// reads, so the file readers serve text too. The thread gives the sink back when it ends.
struct TextFeed {
    pipe: Option<std::io::BufWriter<std::io::PipeWriter>>,
    parser: std::thread::JoinHandle<(Box<dyn Sink>, Result<Flow, OpError>)>,
}

/// What names upstream text in messages: `<input>:3:1: ...`.
const TEXT_SOURCE: &str = "<input>";

impl ReadEach {
    fn next(&mut self) -> &mut dyn Sink {
        &mut **self.next.as_mut().expect("no parser owns the sink")
    }

    /// Writes one line of text to the parser, starting it first.
    fn feed(&mut self, line: &str) -> Result<Flow, OpError> {
        if self.text.is_none() {
            let (reader, writer) = std::io::pipe()
                .map_err(|e| OpError::new("read", format!("a pipe: {}", io_reason(&e))))?;
            let mut sink = self.next.take().expect("the sink is here");
            let how = self.how;
            let parser = std::thread::spawn(move || {
                let input = std::io::BufReader::with_capacity(64 * 1024, reader);
                let flow = read_input(how, TEXT_SOURCE, input, &mut *sink);
                (sink, flow)
            });
            self.text = Some(TextFeed {
                pipe: Some(std::io::BufWriter::with_capacity(64 * 1024, writer)),
                parser,
            });
        }
        let feed = self.text.as_mut().expect("started above");
        let pipe = feed.pipe.as_mut().expect("open until the end");
        let bytes = crate::value::raw::encode(line);
        match pipe.write_all(&bytes).and_then(|()| pipe.write_all(b"\n")) {
            Ok(()) => Ok(Flow::Continue),
            // The parser stopped reading: downstream wants no more, or the text is malformed.
            Err(_) => self.end_text(),
        }
    }

    /// Closes the parser's input and waits for it; the sink comes back.
    fn end_text(&mut self) -> Result<Flow, OpError> {
        let Some(mut feed) = self.text.take() else {
            return Ok(Flow::Continue);
        };
        if let Some(mut pipe) = feed.pipe.take() {
            let _ = pipe.flush();
        }
        let (sink, flow) = feed
            .parser
            .join()
            .map_err(|_| OpError::new("read", "the parser of the input panicked"))?;
        self.next = Some(sink);
        flow
    }
}

impl Sink for ReadEach {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match &item {
            Value::Str(line) if self.how.format == Format::Lines => {
                let line = Value::Str(line.clone());
                self.next().push(line)
            }
            Value::Str(line) => self.feed(line),
            Value::File(f) if self.text.is_none() => {
                let path = PathBuf::from(&f.path);
                let how = self.how;
                read_file(how, &path, self.next())
            }
            _ => {
                let why = if self.text.is_some() {
                    "a file among lines of text: read takes one or the other"
                } else {
                    "not a file or a line of text"
                };
                self.reporter.item_error("read", &item, &why);
                Ok(Flow::Continue)
            }
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.end_text()?;
        self.next().finish()
    }
}

fn failed(e: ReadError) -> OpError {
    OpError::new("read", e.to_string())
}

/// Pushes the items of one file.
fn read_file(how: Reading, path: &Path, sink: &mut dyn Sink) -> Result<Flow, OpError> {
    let file = std::fs::File::open(path).map_err(|e| failed(ReadError::io(path, &e)))?;
    let input = std::io::BufReader::with_capacity(64 * 1024, file);
    read_input(how, &path.display().to_string(), input, sink)
}

/// Pushes the items of `input` in the format, naming it `source` in messages.
fn read_input(
    how: Reading,
    source: &str,
    input: impl std::io::BufRead,
    sink: &mut dyn Sink,
) -> Result<Flow, OpError> {
    match how.format {
        Format::Lines => push_lines(input, sink, |e| failed(ReadError::io_in(source, &e)))
            .map(|ended| if ended { Flow::Continue } else { Flow::Stop }),
        Format::Csv | Format::Tsv => {
            let options = ReadOptions {
                delimiter: how.format.delimiter().expect("a record format"),
                headers: how.headers,
                numbers: how.numbers,
            };
            push_all(Records::new(source.to_string(), input, options), sink)
        }
        Format::Json => push_all(
            json::read_document_from(source, input)
                .map_err(failed)?
                .into_iter()
                .map(Ok),
            sink,
        ),
        Format::Jsonl => push_all(JsonLines::new(source.to_string(), input), sink),
    }
}

fn push_all(
    items: impl Iterator<Item = Result<Value, ReadError>>,
    sink: &mut dyn Sink,
) -> Result<Flow, OpError> {
    for item in items {
        if sink.push(item.map_err(failed)?)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

// ---- write -----------------------------------------------------------------------------------

/// How `write` turns items into lines.
enum Encoder {
    /// As items print.
    Text,
    Records(Box<RecordWriter>),
    /// A JSON array, one element per line: the last element waits for the next one (or the
    /// end) to know whether a comma follows it.
    JsonArray {
        pending: Option<String>,
    },
    JsonLines,
    Template(Template),
}

/// Why `write` cannot write an item.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Json(#[from] json::ToJsonError),
    #[error(transparent)]
    Record(#[from] crate::data::csv::RecordError),
    #[error(transparent)]
    Template(#[from] crate::data::template::FillError),
    #[error("{0}")]
    Serialize(#[from] serde_json::Error),
}

impl Encoder {
    fn lines(&mut self, item: &Value) -> Result<Vec<Value>, WriteError> {
        Ok(match self {
            Encoder::Text => vec![match item {
                Value::Str(_) => item.clone(),
                other => Value::str(&other.to_string()),
            }],
            Encoder::Records(w) => w.lines(item)?,
            Encoder::JsonArray { pending } => {
                let text = serde_json::to_string(&json::to_json(item)?)?;
                match pending.replace(format!("  {text}")) {
                    None => vec![Value::str("[")],
                    Some(before) => vec![utf8_line(&(before + ","))],
                }
            }
            Encoder::JsonLines => vec![utf8_line(&serde_json::to_string(&json::to_json(item)?)?)],
            Encoder::Template(t) => vec![Value::str(&t.fill(item)?)],
        })
    }

    /// The lines that end the output.
    fn end(&mut self) -> Vec<Value> {
        match self {
            Encoder::JsonArray { pending } => match pending.take() {
                None => vec![Value::str("[]")],
                Some(last) => vec![utf8_line(&last), Value::str("]")],
            },
            _ => Vec::new(),
        }
    }
}

/// A line of UTF-8 text as a string that writes back exactly its bytes, even when it holds
/// characters of the range that stands for raw bytes.
fn utf8_line(text: &str) -> Value {
    Value::Str(Arc::from(crate::value::raw::decode(text.as_bytes())))
}

/// `write [--csv|--tsv|--json|--jsonl|--format FMT]`.
pub fn write(a: &OpArgs) -> Result<Filter, OpError> {
    let mut encoder = None;
    let mut set = |e: Encoder| {
        if encoder.replace(e).is_some() {
            Err(a.error("give one format: --csv, --tsv, --json, --jsonl or --format FMT"))
        } else {
            Ok(())
        }
    };
    let mut args = a.words_and_values()?.into_iter();
    while let Some(arg) = args.next() {
        match arg {
            ArgValue::Word(w, false) if w == "--format" => {
                let text = match args.next() {
                    Some(ArgValue::Word(t, _)) => t,
                    Some(ArgValue::Value(Value::Str(t))) => t.to_string(),
                    _ => return Err(a.error("--format needs a template: --format '{} {}'")),
                };
                let t = Template::parse(&text).map_err(|e| a.error(format!("--format: {e}")))?;
                set(Encoder::Template(t))?;
            }
            ArgValue::Word(w, false) => match Format::from_flag(&w) {
                Some(Format::Csv) => set(Encoder::Records(Box::new(RecordWriter::new(b','))))?,
                Some(Format::Tsv) => set(Encoder::Records(Box::new(RecordWriter::new(b'\t'))))?,
                Some(Format::Json) => set(Encoder::JsonArray { pending: None })?,
                Some(Format::Jsonl) => set(Encoder::JsonLines)?,
                _ => return Err(unknown_write_arg(a, &format!("'{w}'"))),
            },
            other => return Err(unknown_write_arg(a, &other.describe())),
        }
    }
    let encoder = encoder.unwrap_or(Encoder::Text);
    let reporter = a.reporter.clone();
    Ok(Box::new(move |next| {
        Box::new(Write {
            encoder,
            next,
            reporter,
        })
    }))
}

/// `write` given what is not one of its flags: most likely the `write` program was meant.
fn unknown_write_arg(a: &OpArgs, what: &str) -> OpError {
    a.error(format!(
        "unknown argument {what} (try: help write; the write program: {})",
        a.as_program()
    ))
}

struct Write {
    encoder: Encoder,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

impl Write {
    fn emit(&mut self, lines: Vec<Value>) -> Result<Flow, OpError> {
        for line in lines {
            if self.next.push(line)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }
}

impl Sink for Write {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match self.encoder.lines(&item) {
            Ok(lines) => self.emit(lines),
            Err(e) => {
                self.reporter.item_error("write", &item, &e);
                Ok(Flow::Continue)
            }
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        let end = self.encoder.end();
        self.emit(end)?;
        self.next.finish()
    }
}

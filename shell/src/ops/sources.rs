//! Ops that start a pipeline: `gen`, `timer`, `ls`, and the lines of a text file (`< file`).

use super::{ArgValue, Flow, OpArgs, OpError, Sink, Source, int_arg, number_arg};
use crate::value::{FileInfo, Value};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `gen [COUNT [START]]`.
pub fn generate(a: &OpArgs) -> Result<Box<dyn Source>, OpError> {
    a.expect_count(0..=2)?;
    let args = a.words_and_values()?;
    let count = match args.first() {
        Some(arg) => int_arg("gen", "COUNT", arg)?,
        None => 0,
    };
    if count < 0 {
        return Err(a.error(format!("COUNT must not be negative, got {count}")));
    }
    let start = match args.get(1) {
        Some(arg) => int_arg("gen", "START", arg)?,
        None => 0,
    };
    if count > 0 && start.checked_add(count - 1).is_none() {
        return Err(a.error("START + COUNT is beyond the largest int"));
    }
    Ok(Box::new(Gen {
        count: count as u64,
        start,
    }))
}

struct Gen {
    /// 0: endless.
    count: u64,
    start: i64,
}

impl Source for Gen {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        if self.count == 0 {
            let mut i = self.start;
            loop {
                if sink.push(Value::Int(i))? == Flow::Stop {
                    return Ok(());
                }
                i = i
                    .checked_add(1)
                    .ok_or_else(|| OpError::new("gen", "int overflow"))?;
            }
        }
        let end = self.start + (self.count - 1) as i64;
        for i in self.start..=end {
            if sink.push(Value::Int(i))? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }
}

/// `timer INTERVAL`.
pub fn timer(a: &OpArgs) -> Result<Box<dyn Source>, OpError> {
    a.expect_count(1..=1)?;
    let args = a.words_and_values()?;
    let secs = number_arg("timer", "INTERVAL", &args[0])?;
    if secs <= 0.0 || secs > 1e9 {
        return Err(a.error(format!(
            "INTERVAL must be a positive number of seconds, got {secs}"
        )));
    }
    Ok(Box::new(Timer {
        interval: Duration::from_secs_f64(secs),
    }))
}

struct Timer {
    interval: Duration,
}

/// Seconds since the Unix epoch, as `now()` and `timer` give them.
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Source for Timer {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        // Ticks are scheduled from the start, so a slow consumer does not make the timer drift.
        let start = Instant::now();
        let mut tick: u32 = 1;
        loop {
            let due = start + self.interval * tick;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if sink.push(Value::Float(epoch_now()))? == Flow::Stop {
                return Ok(());
            }
            tick = tick.saturating_add(1);
        }
    }
}

/// `ls [-r] [-f|-d] [PATH...]`.
pub fn ls(a: &OpArgs) -> Result<Box<dyn Source>, OpError> {
    let mut recursive = false;
    let mut files_only = false;
    let mut dirs_only = false;
    let mut paths = Vec::new();
    for arg in a.words_and_values()? {
        match arg {
            ArgValue::Word(w, false) if w.starts_with('-') && w.len() > 1 => {
                for flag in w[1..].chars() {
                    match flag {
                        'r' => recursive = true,
                        'f' => files_only = true,
                        'd' => dirs_only = true,
                        other => {
                            return Err(a.error(format!(
                                "unknown flag -{other} (usage: ls [-r] [-f|-d] [PATH...])"
                            )));
                        }
                    }
                }
            }
            ArgValue::Word(w, quoted) => {
                if !quoted && is_glob(&w) {
                    let mut matched = glob_paths(&w).map_err(|e| a.error(e))?;
                    if matched.is_empty() {
                        return Err(a.error(format!("no match for {w}")));
                    }
                    paths.append(&mut matched);
                } else {
                    paths.push(PathBuf::from(w));
                }
            }
            ArgValue::Value(Value::Str(s)) => paths.push(PathBuf::from(&*s)),
            ArgValue::Value(Value::File(f)) => paths.push(PathBuf::from(&f.path)),
            other => {
                return Err(a.error(format!(
                    "PATH must be a word or a string, got {}",
                    other.describe()
                )));
            }
        }
    }
    if files_only && dirs_only {
        return Err(a.error("-f and -d exclude each other"));
    }
    Ok(Box::new(Ls {
        paths,
        recursive,
        files_only,
        dirs_only,
        reporter: a.reporter.clone(),
    }))
}

/// `pwd`: one file value, the current directory.
pub fn pwd(a: &OpArgs) -> Result<Box<dyn Source>, OpError> {
    a.expect_count(0..=0)?;
    Ok(Box::new(Pwd))
}

struct Pwd;

impl Source for Pwd {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        let dir = std::env::current_dir().map_err(|e| OpError::new("pwd", io_reason(&e)))?;
        let info = file_info(&dir)
            .ok_or_else(|| OpError::new("pwd", format!("{}: cannot be read", dir.display())))?;
        sink.push(Value::File(Arc::new(info)))?;
        Ok(())
    }
}

/// Whether an unquoted word holds glob characters.
pub fn is_glob(word: &str) -> bool {
    word.contains(['*', '?', '['])
}

/// The paths a glob pattern matches, sorted.
pub fn glob_paths(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let paths = glob::glob(pattern).map_err(|e| format!("bad pattern {pattern}: {e}"))?;
    Ok(paths.filter_map(Result::ok).collect())
}

struct Ls {
    paths: Vec<PathBuf>,
    recursive: bool,
    files_only: bool,
    dirs_only: bool,
    reporter: Arc<super::Reporter>,
}

impl Ls {
    fn wanted(&self, f: &FileInfo) -> bool {
        !(self.files_only && f.is_dir || self.dirs_only && !f.is_dir)
    }

    /// Pushes `dir`'s entries (and, with -r, theirs). Returns false once the sink said stop.
    fn list_dir(&self, dir: &Path, sink: &mut dyn Sink) -> Result<bool, OpError> {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| display_path(dir, &e.file_name()))
                .collect(),
            Err(e) => {
                self.reporter
                    .warning("ls", &format_args!("{}: {}", dir.display(), io_reason(&e)));
                return Ok(true);
            }
        };
        entries.sort();
        for path in entries {
            let Some(info) = file_info(&path) else {
                continue;
            };
            let descend = self.recursive && info.is_dir && !info.is_link;
            if self.wanted(&info) && sink.push(Value::File(Arc::new(info)))? == Flow::Stop {
                return Ok(false);
            }
            if descend && !self.list_dir(&path, sink)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn display_path(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

impl Source for Ls {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        let paths = if self.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            self.paths.clone()
        };
        for path in paths {
            match std::fs::symlink_metadata(&path) {
                Err(e) => self
                    .reporter
                    .warning("ls", &format_args!("{}: {}", path.display(), io_reason(&e))),
                Ok(meta) if meta.is_dir() || (meta.is_symlink() && path.is_dir()) => {
                    if !self.list_dir(&path, sink)? {
                        return Ok(());
                    }
                }
                Ok(_) => {
                    if let Some(info) = file_info(&path)
                        && self.wanted(&info)
                        && sink.push(Value::File(Arc::new(info)))? == Flow::Stop
                    {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

/// The file value for `path` (not following a final symlink, except for `is_dir`/`is_file`).
pub fn file_info(path: &Path) -> Option<FileInfo> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let is_link = meta.is_symlink();
    let target = if is_link {
        std::fs::metadata(path).ok()
    } else {
        None
    };
    let facts = target.as_ref().unwrap_or(&meta);
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let text = path.to_string_lossy().into_owned();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| text.clone());
    Some(FileInfo {
        path: text,
        name,
        size: meta.len(),
        mtime,
        is_dir: facts.is_dir(),
        is_file: facts.is_file(),
        is_link,
        mode: meta.permissions().mode() & 0o7777,
    })
}

/// An I/O error as one short phrase ("No such file or directory").
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `< path`: the lines of a text file, as strings without their line ends.
pub struct FileLines {
    pub path: PathBuf,
}

impl FileLines {
    fn open(&self) -> Result<std::fs::File, OpError> {
        std::fs::File::open(&self.path)
            .map_err(|e| OpError::new("<", format!("{}: {}", self.path.display(), io_reason(&e))))
    }
}

impl Source for FileLines {
    fn as_stdin(&mut self) -> Result<Option<std::fs::File>, OpError> {
        self.open().map(Some)
    }

    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        let file = self.open()?;
        let path = self.path.display().to_string();
        push_lines(
            std::io::BufReader::with_capacity(64 * 1024, file),
            sink,
            |e| OpError::new("<", format!("{path}: {}", io_reason(&e))),
        )?;
        Ok(())
    }
}

/// The reader's next bytes; a read interrupted by a signal the shell catches (ctrl-c during a
/// `$(P)` it runs itself) is tried again.
fn fill(reader: &mut impl BufRead) -> std::io::Result<&[u8]> {
    while let Err(e) = reader.fill_buf() {
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    reader.fill_buf()
}

/// Pushes each line of `reader` as a string item, stopping early when the sink says so.
/// Returns whether the reader was read to its end.
///
/// Only the `\n` ending a line is taken off: a `\r` before it stays in the string, and bytes
/// that are not UTF-8 are held losslessly ([`crate::value::raw`]), so writing the items back
/// one per line gives the same bytes (plus a final newline if the input had none).
///
/// Lines are cut straight out of the reader's buffer, which is checked for UTF-8 once for all
/// the whole lines it holds; only a line that straddles two buffers is copied first.
pub fn push_lines(
    mut reader: impl BufRead,
    sink: &mut dyn Sink,
    on_io_error: impl Fn(std::io::Error) -> OpError,
) -> Result<bool, OpError> {
    if sink.only_counts() {
        return count_lines(reader, sink, on_io_error);
    }
    // The start of a line whose end is not in the buffer yet.
    let mut partial: Vec<u8> = Vec::new();
    loop {
        let chunk = fill(&mut reader).map_err(&on_io_error)?;
        let len = chunk.len();
        if len == 0 {
            return Ok(partial.is_empty() || push_line(&partial, sink)? == Flow::Continue);
        }
        let Some(last) = chunk.iter().rposition(|b| *b == b'\n') else {
            partial.extend_from_slice(chunk);
            reader.consume(len);
            continue;
        };
        let (mut whole, rest) = chunk.split_at(last + 1);
        let mut flow = Flow::Continue;
        if !partial.is_empty() {
            let end = whole
                .iter()
                .position(|b| *b == b'\n')
                .expect("whole ends a line");
            partial.extend_from_slice(&whole[..end]);
            flow = push_line(&partial, sink)?;
            partial.clear();
            whole = &whole[end + 1..];
        }
        if flow == Flow::Continue {
            flow = push_whole_lines(whole, sink)?;
        }
        partial.extend_from_slice(rest);
        reader.consume(len);
        if flow == Flow::Stop {
            return Ok(false);
        }
    }
}

/// `push_lines` for a sink that only counts (`prog | red count`): the lines are counted in
/// the buffer, never made into strings.
fn count_lines(
    mut reader: impl BufRead,
    sink: &mut dyn Sink,
    on_io_error: impl Fn(std::io::Error) -> OpError,
) -> Result<bool, OpError> {
    // Whether the bytes so far end inside a line (a last line without its `\n` counts too).
    let mut open_line = false;
    loop {
        let chunk = fill(&mut reader).map_err(&on_io_error)?;
        let len = chunk.len();
        if len == 0 {
            return Ok(!open_line || sink.push_uncounted(1)? == Flow::Continue);
        }
        let lines = chunk.iter().filter(|b| **b == b'\n').count() as u64;
        open_line = chunk[len - 1] != b'\n';
        reader.consume(len);
        if lines > 0 && sink.push_uncounted(lines)? == Flow::Stop {
            return Ok(false);
        }
    }
}

/// Pushes one line (without its `\n`).
fn push_line(line: &[u8], sink: &mut dyn Sink) -> Result<Flow, OpError> {
    sink.push(Value::Str(Arc::from(crate::value::raw::decode(line))))
}

/// Pushes the lines of `text`, each ended by a `\n` (its last byte, when not empty).
fn push_whole_lines(text: &[u8], sink: &mut dyn Sink) -> Result<Flow, OpError> {
    let Some(body) = text.strip_suffix(b"\n") else {
        return Ok(Flow::Continue);
    };
    if !body.contains(&crate::value::raw::ESCAPE_LEAD)
        && let Ok(body) = std::str::from_utf8(body)
    {
        // A byte loop: lines are short, and `str::split` pays a search set-up per line.
        let mut start = 0;
        for (i, b) in body.bytes().enumerate() {
            if b == b'\n' {
                if sink.push(Value::str(&body[start..i]))? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
                start = i + 1;
            }
        }
        return sink.push(Value::str(&body[start..]));
    }
    for line in body.split(|b| *b == b'\n') {
        if push_line(line, sink)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Gathers items, asking for no more after `limit`.
    struct Take {
        items: Vec<Value>,
        limit: usize,
    }

    impl Sink for Take {
        fn push(&mut self, item: Value) -> Result<Flow, OpError> {
            self.items.push(item);
            Ok(if self.items.len() >= self.limit {
                Flow::Stop
            } else {
                Flow::Continue
            })
        }
        fn finish(&mut self) -> Result<(), OpError> {
            Ok(())
        }
    }

    /// The lines `push_lines` gives for `bytes` read through a buffer of `capacity`.
    fn lines(bytes: &[u8], capacity: usize, limit: usize) -> (Vec<Vec<u8>>, bool) {
        let mut sink = Take {
            items: Vec::new(),
            limit,
        };
        let reader = std::io::BufReader::with_capacity(capacity, bytes);
        let ended = push_lines(reader, &mut sink, |e| OpError::new("", e.to_string()))
            .expect("no I/O error");
        let got = sink
            .items
            .iter()
            .map(|v| match v {
                Value::Str(s) => crate::value::raw::encode(s).into_owned(),
                other => panic!("not a string: {other:?}"),
            })
            .collect();
        (got, ended)
    }

    /// What splitting at each `\n` gives, without an empty piece after a final `\n`.
    fn expected(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut parts: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        if parts.last().is_some_and(Vec::is_empty) {
            parts.pop();
        }
        parts
    }

    #[test]
    fn lines_across_buffers() {
        let input = b"ab\ncdefgh\n\n\xffx\r\nlast";
        for capacity in [1, 2, 3, 5, 64] {
            let (got, ended) = lines(input, capacity, usize::MAX);
            assert_eq!(got, expected(input), "capacity {capacity}");
            assert!(ended);
        }
        let (got, ended) = lines(input, 4, 2);
        assert_eq!(got, vec![b"ab".to_vec(), b"cdefgh".to_vec()]);
        assert!(!ended);
    }

    /// Counts items, made or not.
    struct Counter(u64);

    impl Sink for Counter {
        fn push(&mut self, _: Value) -> Result<Flow, OpError> {
            panic!("a counting sink is not given items");
        }
        fn finish(&mut self) -> Result<(), OpError> {
            Ok(())
        }
        fn only_counts(&self) -> bool {
            true
        }
        fn push_uncounted(&mut self, n: u64) -> Result<Flow, OpError> {
            self.0 += n;
            Ok(Flow::Continue)
        }
    }

    proptest! {
        #[test]
        fn counting_lines_counts_what_splitting_gives(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'a'), any::<u8>()],
                0..120,
            ),
            capacity in 1usize..20,
        ) {
            let mut counter = Counter(0);
            let reader = std::io::BufReader::with_capacity(capacity, &bytes[..]);
            let ended = push_lines(reader, &mut counter, |e| OpError::new("", e.to_string()))
                .expect("no I/O error");
            prop_assert!(ended);
            prop_assert_eq!(counter.0, expected(&bytes).len() as u64);
        }

        #[test]
        fn any_bytes_split_into_their_lines(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'a'), Just(0xff_u8), Just(0xf4_u8), any::<u8>()],
                0..120,
            ),
            capacity in 1usize..20,
        ) {
            let (got, ended) = lines(&bytes, capacity, usize::MAX);
            prop_assert_eq!(got, expected(&bytes));
            prop_assert!(ended);
        }
    }
}

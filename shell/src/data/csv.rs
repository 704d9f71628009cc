//! CSV and TSV records to values and back, with the `csv` crate doing the parsing and quoting.
//!
//! Reading: a record is a tuple of its fields; with a header, a dict from the header's names,
//! all rows sharing one key table (see [`crate::value::dict`]). Without a header records may
//! have any number of fields (as Python's `csv.reader` allows); with one, a record with another
//! number of fields is an error that names its line. Writing: a tuple or list is a record of
//! its fields, a dict a record of its values under a header written before the first one, any
//! other value a record of one field.

use super::ReadError;
use crate::value::{Dict, KeyTable, Value, raw};
use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

/// How to read a file's records.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    pub delimiter: u8,
    /// The first record names the fields: each later record is a dict.
    pub headers: bool,
    /// Fields that are numbers become ints and floats.
    pub numbers: bool,
}

/// The names of a header, as dicts take them.
enum Header {
    /// Distinct names: one table for every row.
    Shared(Arc<KeyTable>),
    /// A name given twice: each row is built pair by pair, the later field winning.
    Repeated(Vec<Value>),
}

/// The records of one file (or other input), as items.
pub struct Records<R> {
    /// What names the input in messages: the file's name.
    source: String,
    reader: csv::Reader<R>,
    record: csv::ByteRecord,
    options: ReadOptions,
    header: Option<Header>,
}

impl<R: Read> Records<R> {
    /// The records of `input`, named `source` in messages.
    pub fn new(source: String, input: R, options: ReadOptions) -> Self {
        let reader = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(64 * 1024)
            .from_reader(input);
        Records {
            source,
            reader,
            record: csv::ByteRecord::new(),
            options,
            header: None,
        }
    }

    fn error(&self, e: csv::Error) -> ReadError {
        let (line, message) = match e.kind() {
            csv::ErrorKind::Io(io) => return ReadError::io_in(&self.source, io),
            _ => (e.position().map_or(1, csv::Position::line), e.to_string()),
        };
        ReadError::Syntax {
            file: self.source.clone(),
            line,
            column: 1,
            message,
        }
    }

    fn field(&self, bytes: &[u8]) -> Value {
        if self.options.numbers
            && let Some(n) = number(bytes)
        {
            return n;
        }
        Value::Str(Arc::from(raw::decode(bytes)))
    }

    /// The record's fields as values. A record that is valid UTF-8 throughout (the usual
    /// case) is checked once, not field by field.
    fn fields(&self) -> Vec<Value> {
        let all = self.record.as_slice();
        if !all.contains(&raw::ESCAPE_LEAD)
            && let Ok(text) = std::str::from_utf8(all)
        {
            return (0..self.record.len())
                .map(|i| {
                    let field = &text[self.record.range(i).expect("a field of the record")];
                    if self.options.numbers
                        && let Some(n) = number(field.as_bytes())
                    {
                        return n;
                    }
                    Value::str(field)
                })
                .collect();
        }
        self.record.iter().map(|f| self.field(f)).collect()
    }

    fn take_header(&mut self) {
        let names: Vec<Value> = self
            .record
            .iter()
            .map(|f| Value::Str(Arc::from(raw::decode(f))))
            .collect();
        self.header = Some(match KeyTable::distinct(names.clone()) {
            Some(table) => Header::Shared(Arc::new(table)),
            None => Header::Repeated(names),
        });
    }

    fn row(&self, header: &Header) -> Result<Value, ReadError> {
        let names = match header {
            Header::Shared(t) => t.len(),
            Header::Repeated(names) => names.len(),
        };
        if self.record.len() != names {
            return Err(ReadError::Syntax {
                file: self.source.clone(),
                line: self.record.position().map_or(1, csv::Position::line),
                column: 1,
                message: format!(
                    "a record of {} field{}, but the header has {names}",
                    self.record.len(),
                    if self.record.len() == 1 { "" } else { "s" }
                ),
            });
        }
        let values = self.fields();
        Ok(Value::dict(match header {
            Header::Shared(table) => {
                Dict::with_table(table.clone(), values).expect("one value per header name")
            }
            Header::Repeated(names) => Dict::from_pairs(names.iter().cloned().zip(values)),
        }))
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = Result<Value, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => return Some(Err(self.error(e))),
            }
            if !self.options.headers {
                return Some(Ok(Value::tuple(self.fields())));
            }
            match self.header.take() {
                None => self.take_header(),
                Some(header) => {
                    let row = self.row(&header);
                    self.header = Some(header);
                    return Some(row);
                }
            }
        }
    }
}

/// The number a field holds: an int when it is one, else a finite float written with digits
/// (not `inf` or `nan`, which stay strings).
fn number(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty()
        || !bytes.iter().any(u8::is_ascii_digit)
        || !bytes
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Int(i));
    }
    text.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .map(Value::Float)
}

/// A value that cannot be written as a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("key {0} is not in the header (the first dict's keys)")]
    NotInHeader(String),
    #[error("a dict after records without a header")]
    DictWithoutHeader,
}

/// The bytes a `csv::Writer` writes, shared so each record can be taken out as it is written
/// (the writer gives no mutable access to what it writes into).
#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes items as CSV or TSV lines.
pub struct RecordWriter {
    writer: csv::Writer<Shared>,
    out: Shared,
    /// The header's names once a dict has been written; `Some(empty)` never happens.
    header: Option<Arc<KeyTable>>,
    /// Whether a record that is not a dict was written (then no header can follow).
    wrote_plain: bool,
}

impl RecordWriter {
    pub fn new(delimiter: u8) -> RecordWriter {
        let out = Shared::default();
        RecordWriter {
            writer: csv::WriterBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(out.clone()),
            out,
            header: None,
            wrote_plain: false,
        }
    }

    /// The lines of `item`: its record, after the header when it is the first dict. A record
    /// holding a quoted line break is one line with the break inside.
    pub fn lines(&mut self, item: &Value) -> Result<Vec<Value>, RecordError> {
        let mut out = Vec::with_capacity(1);
        match item {
            Value::Dict(d) => {
                let header = match &self.header {
                    Some(h) => h.clone(),
                    None if self.wrote_plain => return Err(RecordError::DictWithoutHeader),
                    None => {
                        let h = d.table().clone();
                        out.push(self.record(h.keys().iter()));
                        self.header = Some(h.clone());
                        h
                    }
                };
                if let Some(extra) = d.keys().iter().find(|k| !header.contains(k)) {
                    return Err(RecordError::NotInHeader(extra.repr()));
                }
                let none = Value::None;
                out.push(self.record(header.keys().iter().map(|k| d.get(k).unwrap_or(&none))));
            }
            Value::Tuple(fields) | Value::List(fields) => {
                self.wrote_plain = true;
                out.push(self.record(fields.iter()));
            }
            other => {
                self.wrote_plain = true;
                out.push(self.record(std::iter::once(other)));
            }
        }
        Ok(out)
    }

    /// One record's line, without its line end.
    fn record<'a>(&mut self, fields: impl Iterator<Item = &'a Value>) -> Value {
        let fields: Vec<Cow<'_, [u8]>> = fields.map(field_bytes).collect();
        // Writing into memory cannot fail.
        let _ = self.writer.write_record(&fields);
        let _ = self.writer.flush();
        let mut buf = self.out.lock();
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let line = Value::Str(Arc::from(raw::decode(&buf)));
        buf.clear();
        line
    }
}

/// The bytes of a field: a string's own bytes, nothing for `none`, the printed form of others.
fn field_bytes(v: &Value) -> Cow<'_, [u8]> {
    match v {
        Value::Str(s) => raw::encode(s),
        Value::None => Cow::Borrowed(b""),
        other => Cow::Owned(other.to_string().into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_numbers_only_when_they_look_it() {
        assert_eq!(number(b"12"), Some(Value::Int(12)));
        assert_eq!(number(b"-1.5e3"), Some(Value::Float(-1500.0)));
        assert_eq!(number(b"1e999"), None);
        assert_eq!(number(b"inf"), None);
        assert_eq!(number(b"1-2"), None);
        assert_eq!(number(b""), None);
        assert_eq!(number(b"."), None);
    }

    #[test]
    fn records_quote_what_needs_it() {
        let mut w = RecordWriter::new(b',');
        let item = Value::tuple(vec![
            Value::str("a,b"),
            Value::str("say \"hi\""),
            Value::str("two\nlines"),
            Value::None,
            Value::Int(3),
        ]);
        let lines = w.lines(&item).expect("a record");
        assert_eq!(
            lines,
            vec![Value::str("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,3")]
        );
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #[test]
        fn what_is_written_reads_back(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::collection::vec(
                        proptest::prop_oneof![
                            proptest::strategy::Just(b",".to_vec()),
                            proptest::strategy::Just(b"\"".to_vec()),
                            proptest::strategy::Just(b"\r\n".to_vec()),
                            proptest::strategy::Just(b"\n".to_vec()),
                            proptest::strategy::Just(b"\r".to_vec()),
                            proptest::strategy::Just(b"\t".to_vec()),
                            proptest::strategy::Just(b" ".to_vec()),
                            proptest::strategy::Just(b"\xff".to_vec()),
                            proptest::strategy::Just("é日".as_bytes().to_vec()),
                            "[a-z0-9]{1,3}".prop_map(String::into_bytes),
                        ],
                        0..5,
                    ),
                    1..5,
                ),
                0..6,
            ),
            tsv in proptest::bool::ANY,
        ) {
            let delimiter = if tsv { b'\t' } else { b',' };
            let rows: Vec<Vec<Value>> = rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|pieces| Value::Str(Arc::from(raw::decode(&pieces.concat()))))
                        .collect()
                })
                .collect();
            let mut w = RecordWriter::new(delimiter);
            let mut bytes = Vec::new();
            for row in &rows {
                for line in w.lines(&Value::tuple(row.clone())).expect("a record") {
                    let Value::Str(s) = line else { panic!("a line is a string") };
                    bytes.extend_from_slice(&raw::encode(&s));
                    bytes.push(b'\n');
                }
            }
            let options = ReadOptions { delimiter, headers: false, numbers: false };
            let back: Vec<Value> = Records::new("t.csv".into(), &bytes[..], options)
                .collect::<Result<_, _>>()
                .expect("reads");
            let want: Vec<Value> = rows.into_iter().map(Value::tuple).collect();
            proptest::prop_assert_eq!(back, want);
        }
    }

    #[test]
    fn dicts_get_a_header_once() {
        let mut w = RecordWriter::new(b'\t');
        let row = |a: i64| {
            Value::dict(Dict::from_pairs([
                (Value::str("a"), Value::Int(a)),
                (Value::str("b"), Value::str("x")),
            ]))
        };
        assert_eq!(
            w.lines(&row(1)).expect("first"),
            vec![Value::str("a\tb"), Value::str("1\tx")]
        );
        assert_eq!(w.lines(&row(2)).expect("second"), vec![Value::str("2\tx")]);
        let extra = Value::dict(Dict::from_pairs([(Value::str("c"), Value::None)]));
        assert!(matches!(w.lines(&extra), Err(RecordError::NotInHeader(_))));
    }
}

//! The reservoir file format, version 1: a compact, streaming binary encoding of a sequence of
//! [`Value`]s, with a footer so that a file cut short is always detected.
//!
//! # Layout
//!
//! ```text
//! header   "MARSHRSV" (8 bytes)  version: u16 little-endian (= 1)
//! items    one encoded value per item, back to back
//! footer   0x0F  count: u64 LE  offset: u64 LE  "MARSHEND"        (25 bytes)
//! ```
//!
//! `count` is the number of items; `offset` is the byte offset of the footer's own `0x0F` tag,
//! so a footer copied into the middle of a file (say, inside a stored string) does not look
//! like the end of that file. Nothing may follow the footer.
//!
//! # Values
//!
//! Every value starts with one tag byte. Varints are unsigned LEB128 (7 bits per byte, low
//! groups first, at most 10 bytes); signed ints are zigzag-mapped first
//! (`0, -1, 1, -2, … → 0, 1, 2, 3, …`).
//!
//! | tag | value | payload |
//! |---|---|---|
//! | `0x00` | none | — |
//! | `0x01` / `0x02` | false / true | — |
//! | `0x03` | int | zigzag varint |
//! | `0x04` | float | 8 bytes: the IEEE-754 bits, LE (NaN payloads and `-0.0` kept bit-exact) |
//! | `0x05` | str | varint byte length, UTF-8 bytes |
//! | `0x06` / `0x07` | tuple / list | varint count, then the items |
//! | `0x09` | dict | varint count, then each key and its value (tag added without a version bump: every older file still reads; an older marsh meeting a dict reports its unknown tag) |
//! | `0x08` | file | path (len + UTF-8), name (len + UTF-8), size varint, mtime 8 bytes, flags byte (bit 0 dir, bit 1 file, bit 2 link), mode varint |
//! | `0x0F` | end of items | the rest of the footer |
//! | `0x10`–`0x1F` | tuple of 0–15 fields | the fields (count in the low 4 bits) |
//! | `0x20`–`0x2F` | list of 0–15 items | the items |
//! | `0x40`–`0x7F` | str of 0–63 bytes | the bytes (length in the low 6 bits) |
//! | `0x80`–`0xFF` | int −64…63 | none: the low 7 bits are the zigzag-mapped int |
//!
//! Every other tag is an error. Sizes: an int in −64…63 takes **1 byte**, up to ±8191 3
//! bytes, up to ±1 048 575 4 bytes, and 0…9 999 999 (`gen 10000000`) at most 5 bytes (4.89 on
//! average: a 48.9 MB file). A 1-tuple adds one byte. A float takes 9, a short string 1 + its
//! length.
//!
//! Nesting deeper than [`MAX_DEPTH`] is refused by both the writer and the reader, so a corrupt
//! file can't overflow the stack.
//!
//! # Errors
//!
//! Reading never panics and never stops short silently: a wrong magic, another version, an
//! unknown tag, invalid UTF-8, a file that ends before its footer, and a footer that disagrees
//! with what was read are each a [`ReadError`] whose message a caller prefixes with the
//! variable's name (`x: truncated: …`).
//!
//! # Durability
//!
//! [`ReservoirWriter::finish`] flushes but does not fsync: reservoirs live in a session
//! directory that is deleted when the session ends and reaped when it dies, so they never need to
//! survive a machine crash, and atomicity against a writer killed mid-way comes from the footer
//! plus the rename done by the committing shell, not from fsync.
//! [`ReservoirWriter::finish_sync`] adds an `fdatasync` for callers who want it anyway.

use crate::value::{FileInfo, Value};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::sync::Arc;

/// The 8 magic bytes every reservoir file starts with.
pub const MAGIC: &[u8; 8] = b"MARSHRSV";
/// The format version this code writes and reads.
pub const VERSION: u16 = 1;
/// The 8 bytes every complete reservoir file ends with.
pub const END_MAGIC: &[u8; 8] = b"MARSHEND";
/// Length of the header: magic + version.
pub const HEADER_LEN: u64 = 10;
/// Length of the footer: end tag + count + offset + end magic.
pub const FOOTER_LEN: u64 = 25;
/// The deepest nesting of tuples and lists a reservoir may hold. Small enough that decoding,
/// which recurses, fits in the stack of any thread (2 MiB, debug build) with room to spare.
pub const MAX_DEPTH: usize = 128;

const T_NONE: u8 = 0x00;
const T_FALSE: u8 = 0x01;
const T_TRUE: u8 = 0x02;
const T_INT: u8 = 0x03;
const T_FLOAT: u8 = 0x04;
const T_STR: u8 = 0x05;
const T_TUPLE: u8 = 0x06;
const T_LIST: u8 = 0x07;
const T_FILE: u8 = 0x08;
const T_DICT: u8 = 0x09;
const T_END: u8 = 0x0F;
const T_TUPLE_SMALL: u8 = 0x10;
const T_LIST_SMALL: u8 = 0x20;
const T_STR_SMALL: u8 = 0x40;
const T_INT_SMALL: u8 = 0x80;

/// How much the writer buffers before writing, and the reader asks for at a time.
const BUF_LEN: usize = 64 * 1024;

/// Why a reservoir file could not be read. The messages are phrased to follow a variable's
/// name: `format!("{var}: {err}")`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a marsh reservoir file (wrong magic bytes)")]
    WrongMagic,
    #[error("written by format version {found}, this marsh reads version {VERSION}")]
    WrongVersion { found: u16 },
    #[error("corrupt: unknown item tag 0x{tag:02x} at byte {offset}")]
    UnknownTag { tag: u8, offset: u64 },
    #[error("corrupt: invalid UTF-8 in a string at byte {offset}")]
    InvalidUtf8 { offset: u64 },
    #[error(
        "truncated: the file ends at byte {offset}, after {items} items, before its end marker"
    )]
    Truncated { offset: u64, items: u64 },
    #[error("truncated or corrupt: expected {footer} items, but {read} were read")]
    CountMismatch { footer: u64, read: u64 },
    #[error("corrupt at byte {offset}: {what}")]
    Corrupt { offset: u64, what: &'static str },
    #[error("read error: {0}")]
    Io(#[from] io::Error),
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes values to `W` in the reservoir format, buffered. Nothing marks the file complete until
/// [`finish`](Self::finish): a writer dropped (or a process killed) before that leaves a file that
/// every reader and the commit check reject.
pub struct ReservoirWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    items: u64,
    /// Bytes already handed to `inner`.
    flushed: u64,
    /// Set after a write error: what reached `inner` is unknown, so nothing more may be written.
    failed: bool,
}

impl<W: Write> ReservoirWriter<W> {
    /// A writer that starts a new reservoir file on `inner` (the header is written with the
    /// first flush).
    pub fn new(inner: W) -> ReservoirWriter<W> {
        let mut buf = Vec::with_capacity(BUF_LEN + 1024);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&VERSION.to_le_bytes());
        ReservoirWriter {
            inner,
            buf,
            items: 0,
            flushed: 0,
            failed: false,
        }
    }

    /// Appends one item. Fails on a write error (and on every call after one), or for a value
    /// nested deeper than [`MAX_DEPTH`] (then nothing of it is written).
    #[inline]
    pub fn push(&mut self, value: &Value) -> io::Result<()> {
        if self.failed {
            return Err(poisoned());
        }
        // The hot case, a small int, without the general encoder.
        if let Value::Int(i) = value {
            let z = zigzag(*i);
            if z < 0x80 {
                self.buf.push(T_INT_SMALL | z as u8);
            } else {
                // Fixed-size writes, then cut back to the varint's length.
                let len = self.buf.len();
                self.buf.resize(len + 11, 0);
                let out: &mut [u8; 11] = (&mut self.buf[len..len + 11]).try_into().unwrap();
                out[0] = T_INT;
                let n = varint_into(&mut out[1..], z);
                self.buf.truncate(len + 1 + n);
            }
        } else {
            let start = self.buf.len();
            if !encode(&mut self.buf, value, 0) {
                self.buf.truncate(start);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("a value nested deeper than {MAX_DEPTH} levels can't be stored"),
                ));
            }
        }
        self.items += 1;
        if self.buf.len() >= BUF_LEN {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Items pushed so far.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Bytes of the file so far (written or buffered).
    pub fn bytes(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        if self.failed {
            return Err(poisoned());
        }
        match self.inner.write_all(&self.buf) {
            Ok(()) => {
                self.flushed += self.buf.len() as u64;
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Writes the footer and flushes; returns the number of items written. Only after this does
    /// the file count as complete.
    pub fn finish(self) -> io::Result<u64> {
        self.finish_into_inner().map(|(n, _)| n)
    }

    /// Like [`finish`](Self::finish), also giving back the underlying writer.
    pub fn finish_into_inner(mut self) -> io::Result<(u64, W)> {
        if self.failed {
            return Err(poisoned());
        }
        let offset = self.bytes();
        self.buf.push(T_END);
        self.buf.extend_from_slice(&self.items.to_le_bytes());
        self.buf.extend_from_slice(&offset.to_le_bytes());
        self.buf.extend_from_slice(END_MAGIC);
        self.flush_buf()?;
        if let Err(e) = self.inner.flush() {
            self.failed = true;
            return Err(e);
        }
        let items = self.items;
        // Move `inner` out without running our (absent) Drop logic.
        Ok((items, self.inner))
    }
}

impl<W: Write + AsFd> ReservoirWriter<W> {
    /// [`finish`](Self::finish), then `fdatasync` the file. Not needed for atomicity (see the
    /// module docs); costs a disk flush on a real disk, nothing on tmpfs.
    pub fn finish_sync(self) -> io::Result<u64> {
        let (items, inner) = self.finish_into_inner()?;
        nix::unistd::fdatasync(inner.as_fd()).map_err(io::Error::from)?;
        Ok(items)
    }
}

fn poisoned() -> io::Error {
    io::Error::other("an earlier write to this reservoir failed")
}

#[inline]
fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

#[inline]
fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Writes `u` as a varint at the start of `out` (at least 10 bytes); returns its length.
#[inline]
fn varint_into(out: &mut [u8], mut u: u64) -> usize {
    let mut n = 0;
    while u >= 0x80 {
        out[n] = (u as u8) | 0x80;
        u >>= 7;
        n += 1;
    }
    out[n] = u as u8;
    n + 1
}

#[inline]
fn put_varint(buf: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        buf.push((u as u8) | 0x80);
        u >>= 7;
    }
    buf.push(u as u8);
}

#[inline]
fn encode_int(buf: &mut Vec<u8>, i: i64) {
    let z = zigzag(i);
    if z < 0x80 {
        buf.push(T_INT_SMALL | z as u8);
    } else {
        buf.push(T_INT);
        put_varint(buf, z);
    }
}

fn encode_str(buf: &mut Vec<u8>, s: &str) {
    if s.len() < 64 {
        buf.push(T_STR_SMALL | s.len() as u8);
    } else {
        buf.push(T_STR);
        put_varint(buf, s.len() as u64);
    }
    buf.extend_from_slice(s.as_bytes());
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// Encodes `v` into `buf`; false when nested too deep.
fn encode(buf: &mut Vec<u8>, v: &Value, depth: usize) -> bool {
    match v {
        Value::None => buf.push(T_NONE),
        Value::Bool(false) => buf.push(T_FALSE),
        Value::Bool(true) => buf.push(T_TRUE),
        Value::Int(i) => encode_int(buf, *i),
        Value::Float(x) => {
            buf.push(T_FLOAT);
            buf.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Value::Str(s) => encode_str(buf, s),
        Value::Tuple(items) | Value::List(items) => {
            if depth >= MAX_DEPTH {
                return false;
            }
            let tuple = matches!(v, Value::Tuple(_));
            if items.len() < 16 {
                let base = if tuple { T_TUPLE_SMALL } else { T_LIST_SMALL };
                buf.push(base | items.len() as u8);
            } else {
                buf.push(if tuple { T_TUPLE } else { T_LIST });
                put_varint(buf, items.len() as u64);
            }
            for item in items.iter() {
                if !encode(buf, item, depth + 1) {
                    return false;
                }
            }
        }
        Value::Dict(d) => {
            if depth >= MAX_DEPTH {
                return false;
            }
            buf.push(T_DICT);
            put_varint(buf, d.len() as u64);
            for (k, v) in d.iter() {
                if !encode(buf, k, depth + 1) || !encode(buf, v, depth + 1) {
                    return false;
                }
            }
        }
        Value::File(f) => {
            buf.push(T_FILE);
            put_str(buf, &f.path);
            put_str(buf, &f.name);
            put_varint(buf, f.size);
            buf.extend_from_slice(&f.mtime.to_bits().to_le_bytes());
            let flags = f.is_dir as u8 | (f.is_file as u8) << 1 | (f.is_link as u8) << 2;
            buf.push(flags);
            put_varint(buf, f.mode as u64);
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads a reservoir file item by item, never further ahead than one buffer (64 KiB): reading
/// the first 3 items of a 10M-item file reads only its first block.
///
/// Yields `Ok(value)` per item, then `None` after a verified footer — or one `Err` and then
/// `None` when the file is damaged.
pub struct ReservoirReader<R: Read> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    items: u64,
    done: bool,
}

type Res<T> = Result<T, ReadError>;

impl<R: Read> ReservoirReader<R> {
    /// Starts reading: checks the header (magic and version) right away.
    pub fn new(inner: R) -> Result<ReservoirReader<R>, ReadError> {
        let mut r = ReservoirReader {
            inner,
            buf: vec![0u8; BUF_LEN].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            items: 0,
            done: false,
        };
        let mut header = [0u8; HEADER_LEN as usize];
        let got = r.read_upto(&mut header)?;
        if header[..got.min(8)] != MAGIC[..got.min(8)] {
            return Err(ReadError::WrongMagic);
        }
        if got < header.len() {
            return Err(ReadError::Truncated {
                offset: got as u64,
                items: 0,
            });
        }
        let version = u16::from_le_bytes([header[8], header[9]]);
        if version != VERSION {
            return Err(ReadError::WrongVersion { found: version });
        }
        Ok(r)
    }

    /// Items read so far.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// After the end or an error: nothing more is read.
    fn stop(&mut self) {
        self.done = true;
        self.base += self.pos as u64;
        self.pos = 0;
        self.end = 0;
    }

    #[inline]
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Refills the buffer; false at end of file.
    fn fill(&mut self) -> Res<bool> {
        debug_assert!(self.pos == self.end);
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    fn truncated(&self) -> ReadError {
        ReadError::Truncated {
            offset: self.offset(),
            items: self.items,
        }
    }

    /// Copies up to `out.len()` bytes; returns how many (fewer only at end of file).
    fn read_upto(&mut self, out: &mut [u8]) -> Res<usize> {
        let mut got = 0;
        while got < out.len() {
            if self.pos == self.end && !self.fill()? {
                break;
            }
            let n = (self.end - self.pos).min(out.len() - got);
            out[got..got + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            got += n;
        }
        Ok(got)
    }

    fn read_exact(&mut self, out: &mut [u8]) -> Res<()> {
        if self.read_upto(out)? < out.len() {
            return Err(self.truncated());
        }
        Ok(())
    }

    #[inline]
    fn byte(&mut self) -> Res<u8> {
        if self.pos == self.end && !self.fill()? {
            return Err(self.truncated());
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn u64_le(&mut self) -> Res<u64> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    #[inline]
    fn varint(&mut self) -> Res<u64> {
        let start = self.offset();
        let mut out = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                break;
            }
            out |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(ReadError::Corrupt {
            offset: start,
            what: "a number longer than 64 bits",
        })
    }

    fn string(&mut self, len: u64) -> Res<Arc<str>> {
        let start = self.offset();
        let bytes: Vec<u8>;
        let slice: &[u8] = if (self.end - self.pos) as u64 >= len {
            let s = &self.buf[self.pos..self.pos + len as usize];
            self.pos += len as usize;
            s
        } else {
            // Grow as the bytes arrive rather than trusting the length: a corrupt length must
            // give "truncated", not an allocation failure.
            let mut v = Vec::with_capacity(len.min(BUF_LEN as u64) as usize);
            let mut left = len;
            while left > 0 {
                if self.pos == self.end && !self.fill()? {
                    return Err(self.truncated());
                }
                let n = ((self.end - self.pos) as u64).min(left) as usize;
                v.extend_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                left -= n as u64;
            }
            bytes = v;
            &bytes
        };
        match std::str::from_utf8(slice) {
            Ok(s) => Ok(Arc::from(s)),
            Err(_) => Err(ReadError::InvalidUtf8 { offset: start }),
        }
    }

    fn seq(&mut self, count: u64, depth: usize) -> Res<Arc<[Value]>> {
        if depth >= MAX_DEPTH {
            return Err(ReadError::Corrupt {
                offset: self.offset(),
                what: "tuples or lists nested too deep",
            });
        }
        let mut items = Vec::with_capacity(count.min(1024) as usize);
        for _ in 0..count {
            let tag = self.byte()?;
            items.push(self.value(tag, depth + 1)?);
        }
        Ok(Arc::from(items))
    }

    fn value(&mut self, tag: u8, depth: usize) -> Res<Value> {
        Ok(match tag {
            T_INT_SMALL..=0xFF => Value::Int(unzigzag((tag & 0x7f) as u64)),
            T_STR_SMALL..=0x7F => Value::Str(self.string((tag & 0x3f) as u64)?),
            T_TUPLE_SMALL..=0x1F => Value::Tuple(self.seq((tag & 0x0f) as u64, depth)?),
            T_LIST_SMALL..=0x2F => Value::List(self.seq((tag & 0x0f) as u64, depth)?),
            T_NONE => Value::None,
            T_FALSE => Value::Bool(false),
            T_TRUE => Value::Bool(true),
            T_INT => Value::Int(unzigzag(self.varint()?)),
            T_FLOAT => Value::Float(f64::from_bits(self.u64_le()?)),
            T_STR => {
                let len = self.varint()?;
                Value::Str(self.string(len)?)
            }
            T_TUPLE => {
                let n = self.varint()?;
                Value::Tuple(self.seq(n, depth)?)
            }
            T_LIST => {
                let n = self.varint()?;
                Value::List(self.seq(n, depth)?)
            }
            T_FILE => Value::File(Arc::new(self.file()?)),
            T_DICT => {
                let n = self.varint()?;
                Value::dict(self.dict(n, depth)?)
            }
            _ => {
                return Err(ReadError::UnknownTag {
                    tag,
                    offset: self.offset() - 1,
                });
            }
        })
    }

    fn dict(&mut self, count: u64, depth: usize) -> Res<crate::value::Dict> {
        if depth >= MAX_DEPTH {
            return Err(ReadError::Corrupt {
                offset: self.offset(),
                what: "tuples or lists nested too deep",
            });
        }
        let mut pairs = Vec::with_capacity(count.min(1024) as usize);
        for _ in 0..count {
            let tag = self.byte()?;
            let key = self.value(tag, depth + 1)?;
            let tag = self.byte()?;
            pairs.push((key, self.value(tag, depth + 1)?));
        }
        Ok(crate::value::Dict::from_pairs(pairs))
    }

    fn file(&mut self) -> Res<FileInfo> {
        let len = self.varint()?;
        let path = self.string(len)?.to_string();
        let len = self.varint()?;
        let name = self.string(len)?.to_string();
        let size = self.varint()?;
        let mtime = f64::from_bits(self.u64_le()?);
        let at = self.offset();
        let flags = self.byte()?;
        if flags & !7 != 0 {
            return Err(ReadError::Corrupt {
                offset: at,
                what: "unknown file flags",
            });
        }
        let at = self.offset();
        let mode = u32::try_from(self.varint()?).map_err(|_| ReadError::Corrupt {
            offset: at,
            what: "a file mode wider than 32 bits",
        })?;
        Ok(FileInfo {
            path,
            name,
            size,
            mtime,
            is_dir: flags & 1 != 0,
            is_file: flags & 2 != 0,
            is_link: flags & 4 != 0,
            mode,
        })
    }

    /// Checks the rest of the footer (its tag was just read) and that nothing follows it.
    fn footer(&mut self) -> Res<()> {
        let at = self.offset() - 1;
        let count = self.u64_le()?;
        let offset = self.u64_le()?;
        let mut magic = [0u8; 8];
        self.read_exact(&mut magic)?;
        if &magic != END_MAGIC || offset != at {
            return Err(ReadError::Corrupt {
                offset: at,
                what: "a damaged end marker",
            });
        }
        if count != self.items {
            return Err(ReadError::CountMismatch {
                footer: count,
                read: self.items,
            });
        }
        let mut extra = [0u8; 1];
        if self.read_upto(&mut extra)? != 0 {
            return Err(ReadError::Corrupt {
                offset: self.offset() - 1,
                what: "data after the end marker",
            });
        }
        Ok(())
    }

    fn next_item(&mut self) -> Res<Option<Value>> {
        let tag = if self.pos < self.end {
            let b = self.buf[self.pos];
            self.pos += 1;
            b
        } else {
            self.byte()?
        };
        if tag >= T_INT_SMALL {
            self.items += 1;
            return Ok(Some(Value::Int(unzigzag((tag & 0x7f) as u64))));
        }
        if tag == T_END {
            self.footer()?;
            return Ok(None);
        }
        let v = self.value(tag, 0)?;
        self.items += 1;
        Ok(Some(v))
    }
}

impl<R: Read> Iterator for ReservoirReader<R> {
    type Item = Result<Value, ReadError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_int() {
            Some(i) => Some(Ok(Value::Int(i))),
            None => self.next_slow(),
        }
    }
}

impl<R: Read> ReservoirReader<R> {
    /// The hot case: the next item is an int, whole in the buffer (its tag and at most 10 varint
    /// bytes). Returns it, or `None` having consumed nothing.
    #[inline]
    pub(super) fn next_int(&mut self) -> Option<i64> {
        if self.pos + 11 > self.end {
            return None;
        }
        let window: &[u8; 11] = self.buf[self.pos..self.pos + 11].try_into().unwrap();
        let tag = window[0];
        if tag >= T_INT_SMALL {
            self.pos += 1;
            self.items += 1;
            return Some(unzigzag((tag & 0x7f) as u64));
        }
        if tag == T_INT {
            let mut u = 0u64;
            for (k, &b) in window[1..].iter().enumerate() {
                if k == 9 && b > 1 {
                    return None; // too long: the slow path reports it
                }
                u |= ((b & 0x7f) as u64) << (7 * k);
                if b & 0x80 == 0 {
                    self.pos += 2 + k;
                    self.items += 1;
                    return Some(unzigzag(u));
                }
            }
        }
        None
    }
}

impl<R: Read> ReservoirReader<R> {
    pub(super) fn next_slow(&mut self) -> Option<Result<Value, ReadError>> {
        if self.done {
            return None;
        }
        match self.next_item() {
            Ok(Some(v)) => Some(Ok(v)),
            Ok(None) => {
                self.stop();
                None
            }
            Err(e) => {
                self.stop();
                Some(Err(e))
            }
        }
    }
}

/// Checks, without decoding the items, that a file of `len` bytes whose last [`FOOTER_LEN`]
/// bytes are `tail` ends with a footer that records its own position. Returns the item count.
/// This is what the commit of a store verifies: a writer that was killed or failed before
/// [`ReservoirWriter::finish`] can't pass it.
pub fn check_footer(len: u64, tail: &[u8]) -> Option<u64> {
    if len < HEADER_LEN + FOOTER_LEN || tail.len() != FOOTER_LEN as usize || tail[0] != T_END {
        return None;
    }
    let count = u64::from_le_bytes(tail[1..9].try_into().ok()?);
    let offset = u64::from_le_bytes(tail[9..17].try_into().ok()?);
    (&tail[17..25] == END_MAGIC && offset == len - FOOTER_LEN).then_some(count)
}

#[cfg(test)]
pub(crate) mod tests;

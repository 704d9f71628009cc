//! Storing into reservoir variables, atomically.
//!
//! A reservoir variable is bound to a [`Reservoir`]: one or more *segment* files in the session
//! directory (each a complete file in the [`format`](super::format)) and their total item count.
//! A committed file is never modified, so whatever happens to a writer, the value a variable is
//! bound to stays intact and readable.
//!
//! # Protocol
//!
//! 1. [`Session::begin_store`] creates a new temporary file `x.<n>.tmp` beside the final ones
//!    (`O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`, mode 0600, `<n>` unique in the session) and returns a
//!    [`PendingWrite`]. Used for both `>$` and `>>$`.
//! 2. Someone writes it: this process through [`PendingWrite::writer`], or a forked child, which
//!    inherits the `PendingWrite` (its file and [`path`](PendingWrite::path)) and calls
//!    `writer()` itself. The writer must end with [`ReservoirWriter::finish`].
//! 3. The shell — only the shell — then either
//!    - commits: [`PendingWrite::commit_store`] (`>$`: a new `Reservoir` of just that segment; the
//!      shell binds it and drops the old value) or [`PendingWrite::commit_append`] (`>>$`: the
//!      variable's *current* segments plus the new one). The commit first checks the file is
//!      complete (header, and a footer recording its own position, see
//!      [`check_footer`]), then renames `x.<n>.tmp` to `x.<n>.rsv`.
//!      A file that fails the check (its writer was killed, or failed, or never finished) is
//!      removed and the commit is an error: the variable keeps its old value.
//!    - or rolls back: [`PendingWrite::rollback`], which deletes the temporary file. Dropping a
//!      `PendingWrite` does the same.
//!
//! Concurrent appends to one variable each commit their own segment, in the order the shell
//! commits them (completion order), and none is lost, because each commit starts from the value
//! bound at that moment. Concurrent stores: the last commit wins, and nothing of the others
//! stays on disk.
//!
//! # Lifetime of the files
//!
//! Segments are shared (`Arc`) between the values that contain them: an append's result shares
//! the old value's segments. A segment file is deleted when the last [`Reservoir`] (or
//! [`ReservoirStream`]) holding it is dropped, so "release the old value" is just dropping it, and
//! a stream being read keeps its files. As with [`Session`], files and temporary files are only
//! ever deleted by the process that created them, never by a forked child dropping its copy.
//!
//! So when a job reads `x` in a forked child, the shell must keep a clone of `x`'s `Reservoir`
//! (in its job table, say) until that job has ended: otherwise rebinding `x` meanwhile deletes
//! files the child has not opened yet (segments are opened one at a time, as the stream reaches
//! them, so that a reservoir of thousands of appended segments never holds thousands of
//! descriptors).
//!
//! Every append adds a segment file; a shell that wants to bound their number can compact a
//! reservoir by storing its own stream again (`session.store(var, r.reader()…)`) and binding
//! the result.
//!
//! # Errors
//!
//! A write error during a store — ENOSPC on a small tmpfs, say — is returned by
//! [`ReservoirWriter::push`] or `finish`; the caller then rolls back (or simply commits, which
//! fails the completeness check and removes the file). Either way the old value stays bound and
//! readable and no temporary file remains.
//!
//! # `env`
//!
//! A reservoir prints (its [`Display`](std::fmt::Display)) on one line as
//! `reservoir <N> items: <file> [<file>…]`, e.g. `reservoir 10000000 items: /run/user/1000/marsh/4182-9f3c0a17d2e4b851/x.3.rsv`.
//! The word is always `items` (also for 0 or 1), files are in reading order, separated by one
//! space, printed as they are.

use super::format::{
    FOOTER_LEN, HEADER_LEN, MAGIC, ReadError, ReservoirReader, ReservoirWriter, VERSION,
    check_footer,
};
use super::session::Session;
use crate::value::Value;
use nix::fcntl::{OFlag, openat, renameat};
use nix::sys::stat::Mode;
use nix::unistd::{Pid, getpid};
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Why a store could not be committed (or begun).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store did not finish (no end marker in its {bytes}-byte file); nothing stored")]
    Incomplete { bytes: u64 },
    #[error("the stored file is unreadable ({0}); nothing stored")]
    Damaged(ReadError),
    #[error("can't create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A store in progress: a temporary file that only [`commit_store`](Self::commit_store) or
/// [`commit_append`](Self::commit_append) turns into a value.
#[derive(Debug)]
pub struct PendingWrite {
    var: String,
    dir: PathBuf,
    tmp_name: String,
    final_name: String,
    file: File,
    /// A duplicate of the session directory's descriptor, for `renameat`.
    dir_fd: std::os::fd::OwnedFd,
    owner: Pid,
    done: bool,
}

/// Turns a variable name into a safe file-name stem: ASCII letters, digits, `_` and `-` kept,
/// anything else `_`, at most 48 bytes, never empty. The file's number makes it unique.
fn file_stem(var: &str) -> String {
    let mut s: String = var
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    if s.is_empty() {
        s.push('_');
    }
    s
}

impl Session {
    /// Starts a store (or an append) into `var`: creates the temporary file.
    pub fn begin_store(&self, var: &str) -> Result<PendingWrite, StoreError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let stem = file_stem(var);
        let tmp_name = format!("{stem}.{n}.tmp");
        let final_name = format!("{stem}.{n}.rsv");
        let fd = openat(
            self.dir_fd(),
            tmp_name.as_str(),
            OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| StoreError::Create {
            path: self.dir().join(&tmp_name),
            source: e.into(),
        })?;
        let dir_fd = self.dir_fd().try_clone_to_owned()?;
        Ok(PendingWrite {
            var: var.to_string(),
            dir: self.dir().to_path_buf(),
            tmp_name,
            final_name,
            file: File::from(fd),
            dir_fd,
            owner: self.owner(),
            done: false,
        })
    }

    /// Stores `values` into a new reservoir for `var`, in this process: begin, write, commit
    /// (rolling back on any error).
    pub fn store<I>(&self, var: &str, values: I) -> Result<Reservoir, StoreError>
    where
        I: IntoIterator<Item = Value>,
    {
        let pending = self.begin_store(var)?;
        let mut w = pending.writer()?;
        for v in values {
            w.push(&v)?; // on error `pending` drops: rolled back
        }
        w.finish()?;
        pending.commit_store()
    }
}

impl PendingWrite {
    /// The variable this store is for.
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The temporary file's path (a child may open it instead of using [`file`](Self::file)).
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.tmp_name)
    }

    /// The temporary file, open for reading and writing (`O_CLOEXEC`: a host program doesn't
    /// inherit it).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// A writer on (a duplicate of) the temporary file. Call it in whichever process writes —
    /// this one, a thread, or a forked child.
    pub fn writer(&self) -> io::Result<ReservoirWriter<File>> {
        Ok(ReservoirWriter::new(self.file.try_clone()?))
    }

    /// Checks the file is complete and renames it to its final name; on failure removes it.
    fn commit(mut self) -> Result<Arc<Segment>, StoreError> {
        let result = self.check().and_then(|(items, bytes)| {
            renameat(
                &self.dir_fd,
                self.tmp_name.as_str(),
                &self.dir_fd,
                self.final_name.as_str(),
            )
            .map_err(|e| StoreError::Io(e.into()))?;
            Ok((items, bytes))
        });
        match result {
            Ok((items, bytes)) => {
                self.done = true;
                Ok(Arc::new(Segment {
                    path: self.dir.join(&self.final_name),
                    items,
                    bytes,
                    owner: self.owner,
                }))
            }
            Err(e) => {
                let _ = self.remove();
                Err(e)
            }
        }
    }

    /// Reads the header and the footer (not the items) with `pread`, which doesn't depend on the
    /// file offset a writer (maybe a child sharing the open file) left behind.
    fn check(&self) -> Result<(u64, u64), StoreError> {
        let len = self.file.metadata()?.len();
        let mut header = [0u8; HEADER_LEN as usize];
        let mut tail = [0u8; FOOTER_LEN as usize];
        if len < HEADER_LEN + FOOTER_LEN {
            return Err(StoreError::Incomplete { bytes: len });
        }
        self.file.read_exact_at(&mut header, 0)?;
        if &header[..8] != MAGIC {
            return Err(StoreError::Damaged(ReadError::WrongMagic));
        }
        let version = u16::from_le_bytes([header[8], header[9]]);
        if version != VERSION {
            return Err(StoreError::Damaged(ReadError::WrongVersion {
                found: version,
            }));
        }
        self.file.read_exact_at(&mut tail, len - FOOTER_LEN)?;
        match check_footer(len, &tail) {
            Some(items) => Ok((items, len)),
            None => Err(StoreError::Incomplete { bytes: len }),
        }
    }

    /// `P >$ x`: the new value of `x`, just this store's items. The caller binds it and drops the
    /// old value (which deletes its files unless something still reads them).
    pub fn commit_store(self) -> Result<Reservoir, StoreError> {
        let seg = self.commit()?;
        Ok(Reservoir {
            items: seg.items,
            segments: Arc::from(vec![seg]),
        })
    }

    /// `P >>$ x`: the new value of `x`, its value at commit time (`None` when unbound or not a
    /// reservoir) followed by this store's items.
    pub fn commit_append(self, old: Option<&Reservoir>) -> Result<Reservoir, StoreError> {
        let seg = self.commit()?;
        let mut segments: Vec<Arc<Segment>> = old.map(|r| r.segments.to_vec()).unwrap_or_default();
        let items = old.map_or(0, |r| r.items) + seg.items;
        segments.push(seg);
        Ok(Reservoir {
            items,
            segments: Arc::from(segments),
        })
    }

    /// Abandons the store: deletes the temporary file.
    pub fn rollback(mut self) -> io::Result<()> {
        self.remove()
    }

    fn remove(&mut self) -> io::Result<()> {
        if self.done || getpid() != self.owner {
            self.done = true;
            return Ok(());
        }
        self.done = true;
        match nix::unistd::unlinkat(
            &self.dir_fd,
            self.tmp_name.as_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        ) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

/// One committed file of a reservoir. Deleted when the last value holding it goes.
#[derive(Debug)]
struct Segment {
    path: PathBuf,
    items: u64,
    bytes: u64,
    owner: Pid,
}

impl Drop for Segment {
    fn drop(&mut self) {
        if getpid() == self.owner {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The value of a reservoir variable: its segment files, read in order, and their item count.
/// Cheap to clone; the files go when the last clone (and the last stream reading it) is dropped.
#[derive(Clone, Debug)]
pub struct Reservoir {
    segments: Arc<[Arc<Segment>]>,
    items: u64,
}

impl Reservoir {
    /// How many items it holds.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Its files, in reading order.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.segments.iter().map(|s| s.path.as_path())
    }

    /// The size of its files together, in bytes.
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.bytes).sum()
    }

    /// Streams its items, segment after segment, reading ahead at most one 64 KiB block.
    pub fn reader(&self) -> ReservoirStream {
        ReservoirStream {
            segments: self.segments.clone(),
            next: 0,
            current: None,
            done: false,
        }
    }

    /// Reads everything, returning the item count or the first error.
    pub fn verify(&self) -> Result<u64, ReadError> {
        let mut n = 0;
        for item in self.reader() {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// Drops this value: its files are deleted unless another value (an append's result) or a
    /// stream still holds them.
    pub fn release(self) {}
}

impl fmt::Display for Reservoir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reservoir {} items, {} bytes:", self.items, self.bytes())?;
        for path in self.files() {
            write!(f, " {}", path.display())?;
        }
        Ok(())
    }
}

/// The items of a [`Reservoir`]: `Ok(value)` per item, or one `Err` and then the end.
pub struct ReservoirStream {
    segments: Arc<[Arc<Segment>]>,
    next: usize,
    current: Option<(ReservoirReader<File>, u64)>,
    done: bool,
}

impl ReservoirStream {
    fn open_next(&mut self) -> Result<bool, ReadError> {
        let Some(seg) = self.segments.get(self.next) else {
            return Ok(false);
        };
        self.next += 1;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&seg.path)?;
        self.current = Some((ReservoirReader::new(file)?, seg.items));
        Ok(true)
    }
}

impl Iterator for ReservoirStream {
    type Item = Result<Value, ReadError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some((reader, _)) = &mut self.current
            && let Some(i) = reader.next_int()
        {
            return Some(Ok(Value::Int(i)));
        }
        self.next_slow()
    }
}

impl ReservoirStream {
    /// The hot case of [`Iterator::next`]: the next item is an int already in the buffer.
    /// `None` means "not that case" (call `next`), not the end of the stream. Returning a
    /// bare `i64` spares the caller moving a whole `Result<Value, ReadError>` per item.
    #[inline]
    pub fn next_int(&mut self) -> Option<i64> {
        match &mut self.current {
            Some((reader, _)) => reader.next_int(),
            None => None,
        }
    }

    fn next_slow(&mut self) -> Option<Result<Value, ReadError>> {
        if self.done {
            return None;
        }
        loop {
            if let Some((reader, expected)) = &mut self.current {
                match reader.next_slow() {
                    Some(Ok(v)) => return Some(Ok(v)),
                    Some(Err(e)) => {
                        self.done = true;
                        self.current = None;
                        return Some(Err(e));
                    }
                    None => {
                        let (read, expected) = (reader.items(), *expected);
                        self.current = None;
                        if read != expected {
                            self.done = true;
                            return Some(Err(ReadError::CountMismatch {
                                footer: expected,
                                read,
                            }));
                        }
                    }
                }
            }
            match self.open_next() {
                Ok(true) => continue,
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

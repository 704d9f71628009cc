//! The session directory: where one shell keeps its reservoir files.
//!
//! # Where
//!
//! `$MARSH_RUNTIME_DIR/<session-id>/`, where `MARSH_RUNTIME_DIR` defaults to
//! `$XDG_RUNTIME_DIR/marsh`, else `<temp dir>/marsh-<uid>` (see [`runtime_base`]). The runtime
//! directory is created with mode 0700 (missing parents too). It must be a real directory — the
//! last component is opened with `O_NOFOLLOW`, so a symbolic link planted at `/tmp/marsh-<uid>` is
//! refused — owned by our effective uid and not writable by group or others; otherwise
//! [`Session::open`] refuses with a [`SessionError`] that names the path. Everything below it is
//! reached through that directory's file descriptor (`mkdirat`, `openat(O_NOFOLLOW)`,
//! `renameat`), never by following a name twice.
//!
//! The session id is `<pid>-<16 random hex digits>` (e.g. `4182-9f3c0a17d2e4b851`): the pid makes
//! it easy to match with `ps` and logs, the random part makes it unique. Only names of that shape
//! (and `.new-` + that shape) are ever reaped; anything else in the runtime directory is left
//! alone.
//!
//! # Liveness: a lock, not a pid
//!
//! The live session holds an exclusive `flock` on its directory's own file descriptor (so there is
//! no lock file inside it), opened `O_CLOEXEC` so host programs don't inherit it. A directory is
//! dead exactly when nobody holds that lock: when a shell dies, however it dies, the kernel drops
//! the lock. At start, [`Session::open`] tries `LOCK_EX|LOCK_NB` on each sibling session directory
//! and removes those it gets (holding the lock while it removes, so two starting shells can't
//! trip over each other); a directory whose lock is held is never touched, so pid reuse or pid
//! namespaces can't make it delete a live session's files. (A child forked by the shell and still
//! running shares the lock's open file description, so a job that outlives its shell keeps the
//! directory alive until it ends — which is what it needs, since it may be writing there.)
//!
//! # Creation without a reapable window
//!
//! A directory exists, unlocked, between `mkdir` and `flock`. So a session is created as
//! `.new-<id>`, opened, locked, and only then renamed to `<id>`. A reaper that grabs the lock in
//! that window (and deletes the directory) makes our `flock` fail, or our rename fail, or the
//! device/inode checks before and after the rename differ — in each case we start again with a
//! new id. A `.new-` directory left by a shell killed in that window is unlocked and is reaped
//! like any other dead session.
//!
//! # Removal and fork
//!
//! [`Session::close`] (or drop) removes the directory and everything in it, then releases the
//! lock. It does so only in the process that opened the session: a forked child that drops or
//! closes its copy of the `Session` leaves the directory alone (the owner's pid is recorded at
//! open, and compared with `getpid()`).

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, renameat};
use nix::sys::stat::{FileStat, Mode, fstat, fstatat, mkdirat};
use nix::unistd::{Pid, getpid};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

/// Why the session directory can't be used.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("marsh runtime directory {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("marsh runtime directory {path} is a symbolic link; refusing to use it")]
    Symlink { path: PathBuf },
    #[error("marsh runtime directory {path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("marsh runtime directory {path} is owned by uid {owner}, not by us (uid {uid})")]
    NotOwned { path: PathBuf, owner: u32, uid: u32 },
    #[error(
        "marsh runtime directory {path} is writable by others (mode {mode:o}); refusing to use it"
    )]
    Insecure { path: PathBuf, mode: u32 },
}

/// The runtime directory sessions live in: `$MARSH_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/marsh`,
/// else `<std::env::temp_dir()>/marsh-<uid>`. Empty or relative values of the variables are
/// ignored (a relative path would change meaning with `cd`).
pub fn runtime_base() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(p) = var("MARSH_RUNTIME_DIR") {
        return p;
    }
    if let Some(p) = var("XDG_RUNTIME_DIR") {
        return p.join("marsh");
    }
    std::env::temp_dir().join(format!("marsh-{}", nix::unistd::geteuid()))
}

/// One shell's session directory, locked while this value lives.
#[derive(Debug)]
pub struct Session {
    base: PathBuf,
    id: String,
    dir: PathBuf,
    /// The directory itself, opened `O_DIRECTORY|O_CLOEXEC`, holding the `flock`.
    lock: OwnedFd,
    owner: Pid,
    closed: bool,
    reaped: Vec<PathBuf>,
    /// Numbers the reservoir files (`x.<n>.tmp`, `x.<n>.rsv`).
    pub(super) next: AtomicU64,
}

fn io_err(path: &Path, e: impl Into<io::Error>) -> SessionError {
    SessionError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// `flock(LOCK_EX|LOCK_NB)`: Ok(true) when we got it, Ok(false) when someone else holds it.
fn try_lock(fd: &OwnedFd) -> io::Result<bool> {
    loop {
        // SAFETY: flock on a valid, owned descriptor.
        let r = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            return Ok(true);
        }
        match Errno::last() {
            Errno::EWOULDBLOCK => return Ok(false),
            Errno::EINTR => continue,
            e => return Err(e.into()),
        }
    }
}

fn same_file(a: &FileStat, b: &FileStat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom writes at most buf.len() bytes into buf.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n == 8 {
        return u64::from_ne_bytes(buf);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (std::process::id() as u64).rotate_left(32)
}

/// Whether `name` is a session directory's name (`<pid>-<16 hex>`, or that behind `.new-`).
pub fn is_session_name(name: &str) -> bool {
    let name = name.strip_prefix(".new-").unwrap_or(name);
    let Some((pid, rand)) = name.split_once('-') else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && rand.len() == 16
        && rand.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Creates (if missing) and checks the runtime directory; returns it opened.
fn open_base(base: &Path) -> Result<OwnedFd, SessionError> {
    match std::fs::symlink_metadata(base) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(base)
                .map_err(|e| io_err(base, e))?;
        }
        Err(e) => return Err(io_err(base, e)),
        Ok(_) => {}
    }
    let fd = match nix::fcntl::open(base, dir_flags(), Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ELOOP) => {
            return Err(SessionError::Symlink {
                path: base.to_path_buf(),
            });
        }
        Err(Errno::ENOTDIR) => {
            let link = std::fs::symlink_metadata(base)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            let path = base.to_path_buf();
            return Err(if link {
                SessionError::Symlink { path }
            } else {
                SessionError::NotADirectory { path }
            });
        }
        Err(e) => return Err(io_err(base, e)),
    };
    let st = fstat(&fd).map_err(|e| io_err(base, e))?;
    let uid = nix::unistd::geteuid().as_raw();
    if st.st_uid != uid {
        return Err(SessionError::NotOwned {
            path: base.to_path_buf(),
            owner: st.st_uid,
            uid,
        });
    }
    let mode = st.st_mode & 0o7777;
    if mode & 0o022 != 0 {
        return Err(SessionError::Insecure {
            path: base.to_path_buf(),
            mode,
        });
    }
    Ok(fd)
}

/// Removes every session directory under `base` that no live session holds the lock of.
/// Returns the directories removed. Failures to remove one are skipped (the next start tries
/// again); nothing that isn't named like a session directory, isn't a real directory or isn't
/// ours is touched.
fn reap(base: &Path, base_fd: &OwnedFd) -> Vec<PathBuf> {
    let mut reaped = Vec::new();
    let Ok(entries) = std::fs::read_dir(base) else {
        return reaped;
    };
    let uid = nix::unistd::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name_str) = name.to_str() else {
            continue;
        };
        if !is_session_name(name_str) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.file_type().is_dir() || meta.uid() != uid {
            continue;
        }
        let Ok(fd) = openat(base_fd, name_str, dir_flags(), Mode::empty()) else {
            continue;
        };
        if !matches!(try_lock(&fd), Ok(true)) {
            continue; // alive (or unlockable): never touched
        }
        // Still the directory we locked under that name?
        let (Ok(ours), Ok(now)) = (
            fstat(&fd),
            fstatat(base_fd, name_str, AtFlags::AT_SYMLINK_NOFOLLOW),
        ) else {
            continue;
        };
        if !same_file(&ours, &now) {
            continue;
        }
        let path = base.join(name_str);
        // std's remove_dir_all does not follow symbolic links.
        if std::fs::remove_dir_all(&path).is_ok() {
            reaped.push(path);
        }
        drop(fd); // unlocks
    }
    reaped
}

impl Session {
    /// Opens a new session in [`runtime_base`], reaping dead sessions first.
    pub fn open() -> Result<Session, SessionError> {
        Session::open_in(&runtime_base())
    }

    /// Opens a new session in `base` (created with mode 0700 when missing), reaping dead
    /// sessions there first.
    pub fn open_in(base: &Path) -> Result<Session, SessionError> {
        let base_fd = open_base(base)?;
        let reaped = reap(base, &base_fd);
        let pid = getpid();
        let mut last_err = None;
        for _ in 0..16 {
            let id = format!("{pid}-{:016x}", random_u64());
            let tmp = format!(".new-{id}");
            match mkdirat(&base_fd, tmp.as_str(), Mode::from_bits_truncate(0o700)) {
                Ok(()) => {}
                Err(Errno::EEXIST) => continue,
                Err(e) => return Err(io_err(&base.join(&tmp), e)),
            }
            let attempt = (|| -> Result<Option<OwnedFd>, Errno> {
                let fd = match openat(&base_fd, tmp.as_str(), dir_flags(), Mode::empty()) {
                    Ok(fd) => fd,
                    Err(Errno::ENOENT) => return Ok(None), // reaped in the window
                    Err(e) => return Err(e),
                };
                match try_lock(&fd) {
                    Ok(true) => {}
                    Ok(false) => return Ok(None), // a reaper holds it and will remove it
                    Err(e) => return Err(Errno::from_raw(e.raw_os_error().unwrap_or(0))),
                }
                let ours = fstat(&fd)?;
                match fstatat(&base_fd, tmp.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                    Ok(st) if same_file(&ours, &st) => {}
                    Ok(_) | Err(Errno::ENOENT) => return Ok(None),
                    Err(e) => return Err(e),
                }
                match renameat(&base_fd, tmp.as_str(), &base_fd, id.as_str()) {
                    Ok(()) => {}
                    Err(Errno::ENOENT) => return Ok(None),
                    Err(e) => return Err(e),
                }
                match fstatat(&base_fd, id.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                    Ok(st) if same_file(&ours, &st) => Ok(Some(fd)),
                    Ok(_) | Err(Errno::ENOENT) => Ok(None),
                    Err(e) => Err(e),
                }
            })();
            match attempt {
                Ok(Some(lock)) => {
                    return Ok(Session {
                        base: base.to_path_buf(),
                        dir: base.join(&id),
                        id,
                        lock,
                        owner: pid,
                        closed: false,
                        reaped,
                        next: AtomicU64::new(1),
                    });
                }
                Ok(None) => continue,
                Err(e) => last_err = Some(io_err(&base.join(&tmp), e)),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io_err(
                base,
                io::Error::other("could not create a session directory after 16 attempts"),
            )
        }))
    }

    /// The session id, `<pid>-<16 hex digits>`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The session directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The runtime directory the session lives in.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The dead sessions' directories removed when this one opened.
    pub fn reaped(&self) -> &[PathBuf] {
        &self.reaped
    }

    /// The session directory, opened (it holds the lock; don't close it).
    pub(super) fn dir_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.lock.as_fd()
    }

    pub(super) fn owner(&self) -> Pid {
        self.owner
    }

    /// Removes the session directory and all its files, then releases the lock. In a forked
    /// child (any process but the one that opened the session) it does nothing.
    pub fn close(mut self) -> io::Result<()> {
        self.remove()
    }

    fn remove(&mut self) -> io::Result<()> {
        if self.closed || getpid() != self.owner {
            self.closed = true;
            return Ok(());
        }
        self.closed = true;
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
        // The lock goes when `self.lock` is dropped, after the files are gone.
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

#[cfg(test)]
mod tests;

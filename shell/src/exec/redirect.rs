//! Redirections of a program's descriptors: `< f`, `N> f`, `N>> f`, `N>&M`, `&> f`.
//!
//! The shell opens the files (so a missing input file or a bad descriptor is one line before
//! anything starts); the child, between fork and exec, copies them onto their descriptors in
//! the order they were written, after its stdin and stdout have been joined to the pipeline.
//! So `P 2>&1 | Q` sends P's stderr into the pipe, `P > f 2>&1` both into f, and
//! `P 2>&1 > f` only stdout into f, as in POSIX shells. The program reads and writes the files
//! itself: the bytes are never decoded.

use crate::ops::{OpError, io_reason};
use crate::syntax::ast::{Redirect, RedirectTarget, Word};
use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, RawFd};

/// Why a redirection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RedirectError {
    /// The file could not be opened.
    #[error("{path}: {reason}")]
    Open { path: String, reason: String },
    /// `N>&M` where M is neither 0, 1, 2 nor set by an earlier redirection of the command.
    #[error("file descriptor {0} is not open")]
    NotOpen(u32),
}

/// A redirection's spelling, for messages: `<`, `2>`, `>>`, `5>&9`.
pub fn spelling(r: &Redirect) -> String {
    let fd = |default: u32| {
        if r.fd == default {
            String::new()
        } else {
            r.fd.to_string()
        }
    };
    match &r.target {
        RedirectTarget::Read(_) => format!("{}<", fd(0)),
        RedirectTarget::Write { append, .. } => {
            format!("{}{}", fd(1), if *append { ">>" } else { ">" })
        }
        RedirectTarget::Dup(to) => format!("{}>&{to}", fd(1)),
        RedirectTarget::Close => format!("{}>&-", fd(1)),
    }
}

/// Where one descriptor's new contents come from.
#[derive(Debug)]
enum From {
    /// A file the shell opened.
    File(File),
    /// Another descriptor of the child, as it is at that step.
    Fd(RawFd),
    /// Nothing: the descriptor is closed.
    Closed,
}

/// A command's redirections, opened and checked, in the order they apply.
#[derive(Debug, Default)]
pub struct Redirects {
    steps: Vec<(RawFd, From)>,
}

/// One step as the child performs it.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// `to` becomes a copy of `from`; `file` says whether `from` is a file the shell opened
    /// (rather than one of the child's descriptors 0 to 9).
    Copy { from: RawFd, file: bool, to: RawFd },
    /// The descriptor is closed.
    Close(RawFd),
}

impl Redirects {
    /// Opens the files of `redirects` and checks their descriptors. An error names the
    /// redirection (`<: notes.txt: No such file or directory`).
    pub fn open(redirects: &[Redirect]) -> Result<Redirects, OpError> {
        // 0, 1 and 2 are always there (inherited, or the pipeline's pipes).
        let mut open = [false; 10];
        open[..3].fill(true);
        let mut steps = Vec::with_capacity(redirects.len());
        for r in redirects {
            let from = open_one(r, &open).map_err(|e| OpError::new(&spelling(r), e.to_string()))?;
            open[r.fd as usize] = !matches!(from, From::Closed);
            steps.push((r.fd as RawFd, from));
        }
        Ok(Redirects { steps })
    }

    /// Whether there is nothing to redirect.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The steps for the child, with `stdout` (the pipeline's `> f` when a program with
    /// redirections stands last) copied onto descriptor 1 after them. The files must stay
    /// open until the child has started.
    pub fn plan(&self, stdout: Option<&File>) -> Vec<Step> {
        let mut plan: Vec<Step> = self
            .steps
            .iter()
            .map(|(to, from)| {
                let to = *to;
                match from {
                    From::File(f) => Step::Copy {
                        from: f.as_raw_fd(),
                        file: true,
                        to,
                    },
                    From::Fd(fd) => Step::Copy {
                        from: *fd,
                        file: false,
                        to,
                    },
                    From::Closed => Step::Close(to),
                }
            })
            .collect();
        if let Some(f) = stdout {
            plan.push(Step::Copy {
                from: f.as_raw_fd(),
                file: true,
                to: 1,
            });
        }
        plan
    }
}

/// The file an op's messages go to: ops take `2> f` and `2>> f` only (the last one wins; each
/// is opened, as in POSIX shells), since their output is a stream of items, not bytes.
pub fn op_stderr(op: &str, redirects: &[Redirect]) -> Result<Option<File>, OpError> {
    let mut file = None;
    for r in redirects {
        let write = matches!(r.target, RedirectTarget::Write { .. });
        if !(r.fd == 2 && write) {
            let why = if r.fd == 1 && write {
                "its items go down the pipeline, or into the line's final > FILE"
            } else {
                "it takes 2> FILE or 2>> FILE for its error messages"
            };
            return Err(OpError::new(
                op,
                format!("an op takes no '{}': {why}", spelling(r)),
            ));
        }
        match open_one(r, &[true; 10]) {
            Ok(From::File(f)) => file = Some(f),
            Ok(From::Fd(_) | From::Closed) => unreachable!("a write opens a file"),
            Err(e) => return Err(OpError::new(&spelling(r), e.to_string())),
        }
    }
    Ok(file)
}

/// Opens (or checks) the source of one redirection; `open` says which descriptors the earlier
/// ones have set.
fn open_one(r: &Redirect, open: &[bool; 10]) -> Result<From, RedirectError> {
    let opened = |path: &Word, options: &OpenOptions| {
        let path = path_of(path)?;
        options
            .open(&path)
            .map(From::File)
            .map_err(|e| RedirectError::Open {
                path,
                reason: io_reason(&e),
            })
    };
    match &r.target {
        RedirectTarget::Read(path) => opened(path, OpenOptions::new().read(true)),
        RedirectTarget::Write { path, append } => opened(
            path,
            OpenOptions::new()
                .write(true)
                .create(true)
                .append(*append)
                .truncate(!*append),
        ),
        RedirectTarget::Dup(to) => match open.get(*to as usize) {
            Some(true) => Ok(From::Fd(*to as RawFd)),
            _ => Err(RedirectError::NotOpen(*to)),
        },
        RedirectTarget::Close => Ok(From::Closed),
    }
}

/// Performs `plan` in a forked child before exec: async-signal-safe calls only, no
/// allocation. The shell's files are first moved above the descriptors a redirection may name
/// (0 to 9), so no step overwrites a file a later step still needs.
pub fn apply_in_child(plan: &mut [Step]) -> std::io::Result<()> {
    for step in plan.iter_mut() {
        if let Step::Copy {
            from, file: true, ..
        } = step
            && *from <= crate::syntax::MAX_FD as RawFd
        {
            // SAFETY: fcntl on a descriptor this process holds; the copy closes on exec.
            let high = unsafe { libc::fcntl(*from, libc::F_DUPFD_CLOEXEC, 10) };
            if high < 0 {
                return Err(std::io::Error::last_os_error());
            }
            *from = high;
        }
    }
    for step in plan.iter() {
        match *step {
            // SAFETY: dup2 between descriptors; the target is closed first if open.
            Step::Copy { from, to, .. } if from != to => {
                if unsafe { libc::dup2(from, to) } < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Step::Copy { .. } => {}
            // SAFETY: close of a descriptor number; one not open is no error here (EBADF).
            Step::Close(fd) => {
                unsafe { libc::close(fd) };
            }
        }
    }
    Ok(())
}

/// The file name a redirection word stands for: an unquoted word has `~` expanded; a quoted
/// one is taken as written. (`$NAME` was expanded before, see `shell::expand`.)
pub fn path_of(word: &Word) -> Result<String, RedirectError> {
    if word.quoted {
        return Ok(word.text.clone());
    }
    Ok(super::host::expand_tilde(&word.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect(fd: u32, target: RedirectTarget) -> Redirect {
        Redirect { fd, target }
    }

    #[test]
    fn a_copy_needs_an_open_descriptor() {
        let bad = Redirects::open(&[redirect(5, RedirectTarget::Dup(9))]).unwrap_err();
        assert_eq!(bad.to_string(), "5>&9: file descriptor 9 is not open");
        let dir = tempfile::tempdir().unwrap();
        let path = Word::plain(dir.path().join("f").to_str().unwrap());
        let ok = Redirects::open(&[
            redirect(
                3,
                RedirectTarget::Write {
                    path,
                    append: false,
                },
            ),
            redirect(4, RedirectTarget::Dup(3)),
            redirect(2, RedirectTarget::Dup(1)),
        ]);
        assert!(ok.is_ok());
        let closed = Redirects::open(&[
            redirect(2, RedirectTarget::Close),
            redirect(3, RedirectTarget::Dup(2)),
        ]);
        assert_eq!(
            closed.unwrap_err().to_string(),
            "3>&2: file descriptor 2 is not open"
        );
    }

    #[test]
    fn a_missing_input_file_names_the_redirection() {
        let e = Redirects::open(&[redirect(
            0,
            RedirectTarget::Read(Word::plain("/nonexistent/in")),
        )])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "<: /nonexistent/in: No such file or directory"
        );
    }
}

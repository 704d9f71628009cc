//! Checks: what must hold at a point of a scenario (no leftover process, reservoir files agree
//! with `env`, the terminal is the shell's).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::wait::describe_procs;
use super::{Result, Session};
use crate::pid::Pgid;
use crate::procfs::Proc;

impl Session {
    /// Wait (with the default deadline) until no live process is left but the shell, the
    /// declared ones ([`Session::declare`]) and the members of the process groups `except`
    /// (jobs meant to be alive, e.g. a stopped one).
    pub fn check_clean(&mut self, except: &[Pgid]) -> Result<()> {
        self.check_clean_within(self.opts.timeout, except)
    }

    /// [`Session::check_clean`] with an explicit deadline.
    pub fn check_clean_within(&mut self, timeout: Duration, except: &[Pgid]) -> Result<()> {
        let saved = self.opts.timeout;
        self.opts.timeout = timeout;
        let r = self.check_clean_inner(except);
        self.opts.timeout = saved;
        r
    }

    fn check_clean_inner(&mut self, except: &[Pgid]) -> Result<()> {
        let declared = self.declared.clone();
        let shell = self.shell_pid;
        let shell_alive = self.status.is_none();
        let extra = |s: &Session| -> Vec<Proc> {
            s.processes()
                .into_iter()
                .filter(|p| {
                    !(declared.contains(&p.pid)
                        || p.pgid.is_some_and(|g| except.contains(&g))
                        || (shell_alive && p.pid == shell))
                })
                .collect()
        };
        let but = if shell_alive {
            "but the shell"
        } else {
            "at all"
        };
        self.wait_until_seen(
            &format!("no process of the session left {but}"),
            |s| extra(s).is_empty().then_some(()),
            |s| {
                let left = extra(s);
                format!("these are left: {}", describe_procs(&left))
            },
        )
    }

    /// marsh only, at a prompt once every job has been reported: each reservoir variable that
    /// `env` lists has its files, and the session's runtime directory holds exactly one session
    /// directory with no other file in it.
    pub fn check_reservoirs(&mut self) -> Result<()> {
        let listing = self.run("env")?;
        match self.reservoir_mismatch(&listing) {
            None => Ok(()),
            Some(why) => Err(self.failure(&why)),
        }
    }

    /// How the session directory differs from the reservoir files an `env` listing names
    /// (`None`: it holds exactly them, in the one session directory of the runtime directory).
    pub fn reservoir_mismatch(&self, listing: &str) -> Option<String> {
        let re = regex::Regex::new(r"(?m)^(\S+) = reservoir \d+ items, \d+ bytes: (.*?)\s*$")
            .expect("env regex");
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let mut want = std::collections::BTreeSet::new();
        for c in re.captures_iter(listing) {
            for f in c[2].split_whitespace() {
                want.insert(canon(Path::new(f)));
            }
        }
        let sessions = self.runtime_entries();
        if sessions.len() != 1 || !sessions[0].is_dir() {
            return Some(format!(
                "expected one marsh session directory in {}, but it holds {}",
                self.runtime_dir().display(),
                names(sessions.iter())
            ));
        }
        let have: std::collections::BTreeSet<PathBuf> =
            entries(&sessions[0]).iter().map(|p| canon(p)).collect();
        if want == have {
            return None;
        }
        let missing: Vec<_> = want.difference(&have).collect();
        let extra: Vec<_> = have.difference(&want).collect();
        Some(format!(
            "expected the session directory to hold exactly the reservoir files `env` lists, \
             but {} are missing and {} are not listed",
            names(missing.into_iter()),
            names(extra.into_iter())
        ))
    }

    /// After a marsh shell has ended (other than by SIGKILL, which leaves its directory for the
    /// next marsh to reap), no session directory is left in its runtime directory.
    pub fn check_runtime_removed(&mut self) -> Result<()> {
        let left = self.runtime_entries();
        if left.is_empty() {
            Ok(())
        } else {
            Err(self.failure(&format!(
                "expected marsh to remove its session directory when it ended, but {} holds {}",
                self.runtime_dir().display(),
                names(left.iter())
            )))
        }
    }

    /// marsh's runtime directory for this session (`MARSH_RUNTIME_DIR`): it holds one session
    /// directory per live marsh.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir().join("runtime")
    }

    /// What the runtime directory holds (session directories, normally one).
    pub fn runtime_entries(&self) -> Vec<PathBuf> {
        entries(&self.runtime_dir())
    }

    /// Every file in the session directories under the runtime directory: reservoir segments
    /// and any temporary file of a store in progress.
    pub fn reservoir_files(&self) -> Vec<PathBuf> {
        self.runtime_entries()
            .iter()
            .flat_map(|d| entries(d))
            .collect()
    }

    /// The terminal belongs to the shell (call at a prompt).
    pub fn check_terminal_owned_by_shell(&mut self) -> Result<()> {
        self.wait_shell_foreground()
    }
}

/// File names for a sentence: `x.1.rsv, y.tmp`, or `none`.
fn names<'a>(paths: impl Iterator<Item = &'a PathBuf>) -> String {
    let v: Vec<String> = paths
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The entries of directory `dir` (none if it cannot be read).
fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

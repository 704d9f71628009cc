//! Session tags, teardown and the sweep of sessions whose creator died.
//!
//! Invariants:
//! - Nothing is ever killed by name: only pids and process groups found through a session's
//!   session id or its `JOBCHECK_SESSION` tag.
//! - A tag names its creator (pid and start time from `/proc/PID/stat`), so a sweep can tell a
//!   dead creator from a reused pid, and never touches a session whose creator is alive.
//! - Process group 0, 1, and the caller's own group are never signalled.
//! - A process found by session id but carrying *another* session's tag is not ours.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};

use crate::pid::{Pgid, Pid};
use crate::procfs::{self, Proc, SESSION_VAR};
use crate::wait::{Deadline, poll_until};

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A fresh tag: `jc-<creator pid>-<creator start time>-<sequence>-<nanos>`.
pub fn new_tag() -> String {
    let me = Pid::this_process();
    let start = procfs::start_time(me).unwrap_or(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("jc-{me}-{start}-{seq}-{nanos}")
}

/// The creator (pid, start time) named in a tag.
pub fn parse_tag(tag: &str) -> Option<(Pid, u64)> {
    let mut it = tag.strip_prefix("jc-")?.split('-');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Whether the creator named in `tag` is still alive (same pid *and* start time).
pub fn creator_alive(tag: &str) -> bool {
    match parse_tag(tag) {
        Some((pid, start)) => procfs::start_time(pid) == Some(start),
        None => true, // not ours to judge: leave it alone
    }
}

/// Live processes of a session: same session id (unless tagged for another session), or tagged.
pub fn live_session_procs(sid: Pid, tag: &str) -> Vec<Proc> {
    let me = Pid::this_process();
    let mut out = Vec::new();
    for pid in procfs::all_pids() {
        if pid == me {
            continue;
        }
        let Some(p) = procfs::read(pid) else { continue };
        if p.is_dead() {
            continue;
        }
        let env_tag = procfs::env_var(pid, SESSION_VAR);
        let tagged = env_tag.as_deref() == Some(tag);
        let same_sid = p.sid == Some(sid) && (env_tag.is_none() || tagged);
        if tagged || same_sid {
            out.push(p);
        }
    }
    out
}

fn safe_pgid(pgid: Pgid) -> bool {
    let mine = nix::unistd::getpgrp().as_raw();
    pgid.as_raw() > 1 && pgid.as_raw() != mine
}

/// SIGCONT then SIGKILL to every process group of `procs`, then SIGKILL to each process.
pub fn kill_procs(procs: &[Proc]) {
    let me = Pid::this_process();
    let pgids: BTreeSet<Pgid> = procs
        .iter()
        .filter_map(|p| p.pgid)
        .filter(|g| safe_pgid(*g))
        .collect();
    for &g in &pgids {
        let _ = killpg(g.into(), Signal::SIGCONT);
        let _ = killpg(g.into(), Signal::SIGKILL);
    }
    for p in procs {
        if p.pid.as_raw() > 1 && p.pid != me {
            let _ = kill(p.pid.into(), Signal::SIGKILL);
        }
    }
}

/// Kill everything of a session until nothing live is left (or `timeout` passes).
/// Returns what was still alive at the deadline (empty on success).
///
/// A process that is exiting loses its environment (and so its tag) before it is a zombie: every
/// process killed is therefore followed by pid and start time until it is dead or gone.
#[must_use = "survivors of a teardown are a leak to report"]
pub fn kill_session(sid: Pid, tag: &str, timeout: Duration) -> Vec<Proc> {
    let deadline = Deadline::after(timeout);
    let mut killed: BTreeMap<Pid, u64> = BTreeMap::new();
    let mut left = Vec::new();
    poll_until(deadline, || {
        left = live_session_procs(sid, tag);
        for (&pid, &start) in &killed {
            if left.iter().any(|p| p.pid == pid) {
                continue;
            }
            if let Some(p) = procfs::read(pid)
                && p.starttime == start
                && !p.is_dead()
            {
                left.push(p);
            }
        }
        if left.is_empty() {
            return Some(());
        }
        for p in &left {
            killed.insert(p.pid, p.starttime);
        }
        kill_procs(&left);
        None
    });
    left
}

static SWEEP: Once = Once::new();

/// Once per process: kill sessions whose creator is gone (a run killed by SIGKILL or a timeout
/// skips every `Drop`). Returns nothing; what it killed is written to stderr.
pub fn sweep_once() {
    SWEEP.call_once(|| {
        let killed = sweep();
        if !killed.is_empty() {
            eprintln!(
                "jobcheck: swept {} process(es) of sessions whose creator is gone:\n{}",
                killed.len(),
                procfs::format_table(&killed)
            );
        }
    });
}

/// Prefix of a session's temporary directory, followed by its tag.
pub const DIR_PREFIX: &str = "jobcheck-";

/// The file in a session's directory that names its creator's pid namespace: the sweep only
/// judges (and removes) directories of its own namespace, since a tag's pid means nothing in
/// another one (a sandboxed run sharing this machine's temp dir, or this run seen from inside
/// such a sandbox).
pub const NAMESPACE_FILE: &str = "pid-namespace";

/// Writes [`NAMESPACE_FILE`] into a new session directory.
pub fn mark_namespace(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::write(
        dir.join(NAMESPACE_FILE),
        procfs::my_pid_namespace().unwrap_or_default(),
    )
}

/// Remove session directories (in the temp dir) of this pid namespace ([`NAMESPACE_FILE`])
/// whose creator is gone and whose tag no live process carries (`live_tags`): real
/// directories owned by us only, never a symbolic link.
/// Returns the paths removed.
fn sweep_dirs(live_tags: &BTreeSet<String>) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    let mut removed = Vec::new();
    let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else {
        return removed;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // The directory is named `jobcheck-TAG-XXXXXX`.
        let Some(tag) = name.strip_prefix(DIR_PREFIX) else {
            continue;
        };
        // A session of another pid namespace (its creator's pid means nothing here) still has
        // its shell, which carries the tag: leave its directory alone.
        let carried = live_tags.iter().any(|t| {
            tag == t
                || tag
                    .strip_prefix(t.as_str())
                    .is_some_and(|r| r.starts_with('-'))
        });
        if parse_tag(tag).is_none() || creator_alive(tag) || carried {
            continue;
        }
        let path = e.path();
        let same_namespace = std::fs::read_to_string(path.join(NAMESPACE_FILE))
            .is_ok_and(|ns| !ns.is_empty() && Some(ns) == procfs::my_pid_namespace());
        if !same_namespace {
            continue;
        }
        let ours = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if ours && std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Kill every tagged process of this pid namespace whose creator is gone, and remove such
/// sessions' directories; returns the processes. A tagged process of another pid namespace
/// (seen from outside a sandbox that shares this machine's /proc and temp dir) is never
/// touched: its tag names a creator by a pid of that namespace.
#[must_use = "what a sweep killed is worth reporting"]
pub fn sweep() -> Vec<Proc> {
    let me = Pid::this_process();
    let mut victims = Vec::new();
    let mut live_tags = BTreeSet::new();
    for pid in procfs::all_pids() {
        if pid == me {
            continue;
        }
        let Some(tag) = procfs::env_var(pid, SESSION_VAR) else {
            continue;
        };
        let Some(p) = procfs::read(pid) else { continue };
        if p.is_dead() {
            continue;
        }
        if !procfs::in_my_pid_namespace(pid) || creator_alive(&tag) {
            live_tags.insert(tag);
            continue;
        }
        victims.push(p);
    }
    kill_procs(&victims);
    sweep_dirs(&live_tags);
    victims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_live_creator() {
        let t = new_tag();
        let (pid, _) = parse_tag(&t).unwrap();
        assert_eq!(pid, Pid::this_process());
        assert!(creator_alive(&t));
        assert!(!creator_alive("jc-999999999-1-0-0"));
        assert!(!safe_pgid(Pgid::new(1).unwrap()));
        // None where the test runs in a group from outside its pid namespace (a CI sandbox).
        if let Some(mine) = Pgid::new(nix::unistd::getpgrp().as_raw()) {
            assert!(!safe_pgid(mine));
        }
    }
}

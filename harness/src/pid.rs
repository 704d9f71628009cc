//! Process ids as types: a [`Pid`] names one process, a [`Pgid`] a process group.
//!
//! Invariants: both hold a positive number (the kernel's ids start at 1), so neither can stand
//! for the "every process" or "my group" meanings that 0 and negative numbers have in `kill(2)`.
//! The two are distinct types: a process group is signalled with `killpg`, a process with
//! `kill`, and passing one where the other is meant does not compile. A session is named by its
//! leader's [`Pid`] (the shell's, for a session the harness spawned).

use std::fmt;

/// The id of one process (positive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Pid(i32);

/// The id of a process group (positive): the pid of the process that created it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Pgid(i32);

impl Pid {
    /// `raw` as a pid, if it is positive.
    pub fn new(raw: i32) -> Option<Pid> {
        (raw > 0).then_some(Pid(raw))
    }

    /// This process.
    pub fn this_process() -> Pid {
        Pid(std::process::id() as i32)
    }

    /// The number.
    pub fn as_raw(self) -> i32 {
        self.0
    }

    /// The process group this process leads (whose id is this pid), e.g. the shell's.
    pub fn led_group(self) -> Pgid {
        Pgid(self.0)
    }
}

impl Pgid {
    /// `raw` as a process group id, if it is positive.
    pub fn new(raw: i32) -> Option<Pgid> {
        (raw > 0).then_some(Pgid(raw))
    }

    /// The number.
    pub fn as_raw(self) -> i32 {
        self.0
    }

    /// The pid of the group's leader (which may have exited).
    pub fn leader(self) -> Pid {
        Pid(self.0)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Pgid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Pid> for nix::unistd::Pid {
    fn from(p: Pid) -> Self {
        nix::unistd::Pid::from_raw(p.0)
    }
}

impl From<Pgid> for nix::unistd::Pid {
    fn from(g: Pgid) -> Self {
        nix::unistd::Pid::from_raw(g.0)
    }
}

/// Text that is not a positive process id.
#[derive(Debug, thiserror::Error)]
#[error("not a process id: {0:?}")]
pub struct NotAPid(pub String);

impl std::str::FromStr for Pid {
    type Err = NotAPid;
    /// A pid as `/proc` writes it: a positive decimal number.
    fn from_str(s: &str) -> Result<Pid, NotAPid> {
        s.parse::<i32>()
            .ok()
            .and_then(Pid::new)
            .ok_or_else(|| NotAPid(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_ids_exist() {
        assert_eq!(Pid::new(0), None);
        assert_eq!(Pgid::new(-1), None);
        assert_eq!(Pid::new(7).unwrap().led_group(), Pgid::new(7).unwrap());
        assert_eq!("42".parse::<Pid>().unwrap().as_raw(), 42);
        assert!("0".parse::<Pid>().is_err() && "-3".parse::<Pid>().is_err());
        assert_eq!(Pid::new(5).unwrap().to_string(), "5");
    }
}

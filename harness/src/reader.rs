//! The reader thread: always running while the session lives.
//!
//! Invariants:
//! - It waits event-driven (`poll` on the master and on a wake pipe), never on a timer.
//! - Every byte read is appended, in order, to the output buffer and the transcript, and fed to
//!   the terminal model; cursor-position queries are answered at once, even when no test is
//!   waiting (or a line editor would stall).
//! - It stops when the wake pipe becomes readable (the session hangs up) or the master reports
//!   EOF/EIO (no slave left open); waiters are notified of both through the condvar.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::screen::Screen;
use crate::transcript::{Event, Kind};

/// Everything the reader produces.
pub struct State {
    /// Every output byte so far.
    pub output: Vec<u8>,
    /// The transcript.
    pub events: Vec<Event>,
    /// The terminal model.
    pub screen: Screen,
    /// The master reported EOF or EIO.
    pub eof: bool,
    /// Session start, origin of the transcript's timestamps.
    pub start: Instant,
}

impl State {
    /// Append an event stamped now.
    pub fn push(&mut self, kind: Kind, bytes: Vec<u8>) {
        self.events.push(Event {
            t: self.start.elapsed(),
            kind,
            bytes,
        });
    }
}

/// State shared between the reader and the session.
pub struct Shared {
    /// What the reader produced so far.
    pub state: Mutex<State>,
    /// Notified after every chunk of output and at EOF.
    pub cond: Condvar,
}

impl Shared {
    /// Lock the state, surviving a poisoned lock (a panicking test must still tear down).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Run the reader until woken or EOF.
pub fn run(shared: Arc<Shared>, master: Arc<OwnedFd>, wake: OwnedFd) {
    let mut buf = vec![0u8; 65536];
    loop {
        let mut fds = [
            PollFd::new(master.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
        let wake_ev = fds[1].revents().unwrap_or(PollFlags::empty());
        if !wake_ev.is_empty() {
            return;
        }
        let ev = fds[0].revents().unwrap_or(PollFlags::empty());
        if ev.is_empty() {
            continue;
        }
        match nix::unistd::read(master.as_fd(), &mut buf) {
            Ok(0) | Err(nix::errno::Errno::EIO) => break,
            Ok(n) => {
                let answers = {
                    let mut st = shared.lock();
                    st.output.extend_from_slice(&buf[..n]);
                    st.push(Kind::Out, buf[..n].to_vec());
                    let answers = st.screen.feed(&buf[..n]);
                    for a in &answers {
                        st.push(Kind::In, a.clone());
                    }
                    answers
                };
                for a in answers {
                    let _ = crate::pty::write_all(master.as_fd(), &a);
                }
                shared.cond.notify_all();
            }
            Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => continue,
            Err(_) => break,
        }
    }
    shared.lock().eof = true;
    shared.cond.notify_all();
}

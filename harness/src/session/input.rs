//! Input: typing lines, pressing keys, sending signals, hanging up; and `run`, a typed line
//! with the output it produced.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use nix::sys::signal::{Signal, kill, killpg};

use super::{Key, Result, Session, strip_ansi, strip_ansi_mapped};
use crate::pid::Pgid;
use crate::pty;
use crate::shells::JobEntry;
use crate::transcript::Kind;
use crate::wait::Deadline;

impl Session {
    fn master_fd(&self) -> Result<&Arc<OwnedFd>> {
        self.master
            .as_ref()
            .ok_or_else(|| self.failure("expected to write to the terminal, but it was hung up"))
    }

    /// Write raw bytes to the master.
    ///
    /// Before a byte that the line discipline turns into a signal (^C, ^Z, ^\\), wait for the
    /// echo of the last typed line: the kernel echoes asynchronously, and the signal character
    /// flushes the terminal's output queue, so an echo still queued would be lost from the
    /// transcript and the screen.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.iter().any(|b| matches!(b, 0x03 | 0x1a | 0x1c)) {
            self.wait_pending_echo()?;
            self.wait_signal_keys_on()?;
        }
        let m = self.master_fd()?.clone();
        self.shared.lock().push(Kind::In, bytes.to_vec());
        pty::write_all(m.as_fd(), bytes)
            .map_err(|e| self.failure(&format!("writing to the terminal failed: {e}")))
    }

    /// While a job owns the terminal, wait until the line discipline turns ^C/^Z/^\ into
    /// signals (ISIG). A shell hands the terminal to a job and then puts back cooked modes; a
    /// key sent in between is read as a character (seen with ksh93's line editor). At a prompt
    /// (the shell owns the terminal) the line editor may keep ISIG off on purpose.
    fn wait_signal_keys_on(&mut self) -> Result<()> {
        if self.foreground() == Some(self.shell_pgid()) {
            return Ok(());
        }
        let m = self.master_fd()?.clone();
        self.wait_until("the terminal to turn keys into signals (ISIG)", |_| {
            nix::sys::termios::tcgetattr(m.as_fd())
                .ok()
                .filter(|t| t.local_flags.contains(nix::sys::termios::LocalFlags::ISIG))
                .map(|_| ())
        })
    }

    fn wait_pending_echo(&mut self) -> Result<()> {
        let Some((from, needle)) = self.pending_echo.take() else {
            return Ok(());
        };
        let deadline = Deadline::after(self.opts.timeout);
        let seen = self.wait_output_cond(deadline, |out| {
            let (text, _) = strip_ansi_mapped(&out[from.min(out.len())..]);
            text.windows(needle.len())
                .any(|w| w == needle.as_slice())
                .then_some(())
        });
        seen.ok_or_else(|| {
            self.failure(&format!(
                "expected the echo of the typed line (ending `{}`), but it never came (is the \
                 terminal's echo off?)",
                String::from_utf8_lossy(&needle)
            ))
        })
    }

    /// Type a line and Enter; the output mark moves to here.
    pub fn type_line(&mut self, line: &str) -> Result<()> {
        self.set_mark();
        self.typed_at = self.mark;
        self.pending_echo = line
            .split_whitespace()
            .last()
            .map(|w| (self.mark, w.as_bytes().to_vec()));
        let mut b = line.as_bytes().to_vec();
        b.push(b'\r');
        self.send(&b)
    }

    /// Press a key.
    pub fn key(&mut self, key: Key) -> Result<()> {
        self.send(&[key.byte()])
    }

    /// Adds a note to the transcript (failure reports show it among the output).
    pub(super) fn note(&self, text: String) {
        self.shared.lock().push(Kind::Note, text.into_bytes());
    }

    /// Send a signal to the terminal's foreground process group.
    pub fn signal_foreground(&mut self, sig: Signal) -> Result<Pgid> {
        let g = self.foreground().ok_or_else(|| {
            self.failure("expected a foreground group to signal, but the terminal has none")
        })?;
        self.signal_pgid(g, sig)?;
        Ok(g)
    }

    /// Send a signal to the shell.
    pub fn signal_shell(&mut self, sig: Signal) -> Result<()> {
        self.note(format!("kill -{} {}", sig_name(sig), self.shell_pid));
        kill(self.shell_pid.into(), sig).map_err(|e| {
            self.failure(&format!(
                "sending {} to the shell failed: {e}",
                sig.as_str()
            ))
        })
    }

    /// Send a signal to a process group (must be one of this session's).
    pub fn signal_pgid(&mut self, pgid: Pgid, sig: Signal) -> Result<()> {
        if pgid.as_raw() <= 1 || !self.processes().iter().any(|p| p.pgid == Some(pgid)) {
            return Err(self.failure(&format!(
                "expected process group {pgid} to signal with {}, but no process of the \
                 session is in it",
                sig.as_str()
            )));
        }
        self.note(format!("kill -{} -{pgid}", sig_name(sig)));
        killpg(pgid.into(), sig).map_err(|e| {
            self.failure(&format!(
                "sending {} to group {pgid} failed: {e}",
                sig.as_str()
            ))
        })
    }

    /// Hang up: stop the reader and close the master.
    pub fn hangup(&mut self) {
        if let Some(w) = self.wake.take() {
            let _ = nix::unistd::write(w.as_fd(), b"x");
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        if self.master.take().is_some() {
            self.note("hangup: master closed".into());
        }
    }

    /// Type a line and wait for the next prompt; returns the output between them (escape codes
    /// stripped, the echoed line removed).
    pub fn run(&mut self, line: &str) -> Result<String> {
        self.type_line(line)?;
        let from = self.mark;
        self.wait_prompt()?;
        // A line editor that redraws its prompt after an asynchronous job notice (zsh, fish)
        // can show a numbered prompt that began before the typed line: no output then.
        let end = self.last_prompt_start.max(from);
        let out = self.shared.lock().output[from..end].to_vec();
        let text = strip_ansi(&out);
        let mut lines = text.lines();
        let first = lines.next().unwrap_or("");
        let rest: Vec<&str> = lines.collect();
        if first.trim_end().ends_with(line.trim_end()) {
            Ok(rest.join("\n"))
        } else {
            Ok(text)
        }
    }

    /// Run `jobs` and parse its entries.
    pub fn jobs(&mut self) -> Result<Vec<JobEntry>> {
        let text = self.run("jobs")?;
        Ok(self.adapter.parse_jobs(&text))
    }
}

/// `INT` for SIGINT (as `kill -INT` takes it).
fn sig_name(sig: Signal) -> &'static str {
    sig.as_str().trim_start_matches("SIG")
}

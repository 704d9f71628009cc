//! A simulated [`System`]: processes, process groups, signals and one terminal, in memory.
//!
//! The model keeps what job control depends on and nothing else:
//! - every process has a pid, a process group, a parent, a run state and per-signal
//!   dispositions; children inherit the creator's dispositions as `fork` does;
//! - signals act as on Linux: SIGKILL kills and SIGSTOP stops whatever the disposition; SIGTSTP,
//!   SIGTTIN, SIGTTOU stop unless ignored; SIGCONT continues (and is never ignorable for that);
//!   SIGCHLD, SIGWINCH and SIGURG do nothing by default; every other signal kills. A stopped
//!   process keeps a killing signal pending until SIGCONT (SIGKILL excepted), which is why
//!   `kill` must follow SIGTERM with SIGCONT for a stopped job;
//! - the parent learns of state changes through [`System::waitpid`]: one pending change per
//!   child, a later one replacing an earlier one, an exit being final (Linux keeps one);
//! - the terminal has a foreground group and modes (a number). `tcsetpgrp`/`tcsetattr` from a
//!   background process that does not ignore SIGTTOU raise SIGTTOU on its group and fail with
//!   `EINTR`, and the system counts it ([`VirtualSystem::ttou_violations`]): the real shell
//!   would have stopped itself.
//!
//! Time does not pass by itself. A blocking `waitpid` with nothing to report runs the next
//! scripted [`Event`] (see [`VirtualSystem::script`]) and looks again; with an empty script it
//! fails with `EDEADLK`, so a test that would hang fails instead.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use super::{
    Disposition, Errno, ModesRepr, Pgid, Pid, Signal, SysResult, System, TtyModes, WaitStatus,
    WaitTarget,
};

/// Run state of a simulated process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    Running,
    Stopped(Signal),
    Exited(i32),
    Signaled(Signal),
}

/// One simulated process.
#[derive(Clone, Debug)]
pub struct VProcess {
    pub pid: Pid,
    pub ppid: Pid,
    pub pgid: Pgid,
    pub state: ProcState,
    /// Ignored signals (everything else has its default action).
    pub ignored: Vec<Signal>,
    /// Killing signals received while stopped, acted on at SIGCONT.
    pub pending: Vec<Signal>,
    /// Unreported state change for the parent's `waitpid`.
    change: Option<WaitStatus>,
    /// Every signal ever delivered, in order (for assertions).
    pub received: Vec<Signal>,
}

/// Something that happens "meanwhile", while the shell blocks in `waitpid`.
#[derive(Clone, Debug)]
pub enum Event {
    /// The process exits with this code.
    Exit(Pid, i32),
    /// A signal is sent to one process (by someone other than the shell).
    Signal(Pid, Signal),
    /// The user types the interrupt character: SIGINT to the foreground group.
    CtrlC,
    /// The user types the suspend character: SIGTSTP to the foreground group.
    CtrlZ,
    /// A caught signal interrupts the blocking wait: `waitpid` fails with `EINTR`.
    Interrupt,
    /// The foreground job changes the terminal modes (e.g. `stty -echo`).
    SetModes(u64),
    /// Records the terminal's foreground group and modes (see [`VirtualSystem::snapshots`]).
    Snapshot,
    /// Someone else (an outer shell) makes this group the terminal's foreground group.
    GiveTerminal(Pgid),
}

#[derive(Debug)]
struct State {
    procs: BTreeMap<Pid, VProcess>,
    next_pid: i32,
    fg_pgid: Pgid,
    modes: u64,
    script: VecDeque<Event>,
    ttou_violations: usize,
    /// Every `killpg` the system was asked for, in order.
    killpg_log: Vec<(Pgid, Signal)>,
    snapshots: Vec<(Pgid, u64)>,
}

/// The simulated system. Clones share the same state; each clone acts as one process
/// (the shell by default, see [`VirtualSystem::as_process`]).
#[derive(Clone, Debug)]
pub struct VirtualSystem {
    state: Rc<RefCell<State>>,
    me: Pid,
}

/// The shell's pid in a new virtual system (it leads its own group, in the foreground).
pub const SHELL_PID: Pid = Pid::from_raw(100);

/// The shell's group in a new virtual system.
pub const SHELL_PGID: Pgid = Pgid::led_by(SHELL_PID);

impl Default for VirtualSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualSystem {
    /// A system with one process, the shell (pid 100), leading group 100, which is the
    /// terminal's foreground group; terminal modes are 1.
    pub fn new() -> Self {
        let mut procs = BTreeMap::new();
        procs.insert(
            SHELL_PID,
            new_proc(SHELL_PID, Pid::from_raw(1), SHELL_PGID, Vec::new()),
        );
        VirtualSystem {
            state: Rc::new(RefCell::new(State {
                procs,
                next_pid: 101,
                fg_pgid: SHELL_PGID,
                modes: 1,
                script: VecDeque::new(),
                ttou_violations: 0,
                killpg_log: Vec::new(),
                snapshots: Vec::new(),
            })),
            me: SHELL_PID,
        }
    }

    /// A system where the shell (pid 100) was started by another process, pid 50, and is in
    /// that process's group, which is the terminal's foreground group (a shell started from
    /// another shell without job control, or from a terminal emulator's plain `exec`).
    pub fn with_shell_in_parent_group() -> Self {
        let sys = Self::new();
        {
            let mut st = sys.state.borrow_mut();
            let outer = Pid::from_raw(50);
            let outer_group = Pgid::led_by(outer);
            st.procs.insert(
                outer,
                new_proc(outer, Pid::from_raw(1), outer_group, Vec::new()),
            );
            st.procs.get_mut(&SHELL_PID).expect("shell").pgid = outer_group;
            st.procs.get_mut(&SHELL_PID).expect("shell").ppid = outer;
            st.fg_pgid = outer_group;
        }
        sys
    }

    /// The same system seen from process `pid` (to run child-side code such as
    /// [`crate::job::child_setup`]).
    pub fn as_process(&self, pid: Pid) -> VirtualSystem {
        VirtualSystem {
            state: Rc::clone(&self.state),
            me: pid,
        }
    }

    /// Simulates `fork` by the calling process: a new running child in the caller's group,
    /// with the caller's dispositions. Returns its pid.
    pub fn fork(&self) -> Pid {
        let mut st = self.state.borrow_mut();
        let pid = Pid::from_raw(st.next_pid);
        st.next_pid += 1;
        let parent = &st.procs[&self.me];
        let child = new_proc(pid, self.me, parent.pgid, parent.ignored.clone());
        st.procs.insert(pid, child);
        pid
    }

    /// Queues events to happen while the shell blocks in `waitpid`.
    pub fn script(&self, events: impl IntoIterator<Item = Event>) {
        self.state.borrow_mut().script.extend(events);
    }

    /// Makes an event happen now.
    pub fn happen(&self, event: Event) {
        self.state.borrow_mut().apply(event);
    }

    /// A copy of process `pid` (None once reaped or never existed).
    pub fn process(&self, pid: Pid) -> Option<VProcess> {
        self.state.borrow().procs.get(&pid).cloned()
    }

    /// State of process `pid`.
    pub fn state_of(&self, pid: Pid) -> Option<ProcState> {
        self.process(pid).map(|p| p.state)
    }

    /// The terminal's foreground group.
    pub fn foreground(&self) -> Pgid {
        self.state.borrow().fg_pgid
    }

    /// The terminal's current modes.
    pub fn modes(&self) -> u64 {
        self.state.borrow().modes
    }

    /// Sets the terminal's modes directly (as a job would).
    pub fn set_modes(&self, modes: u64) {
        self.state.borrow_mut().modes = modes;
    }

    /// How many times a background process touched the terminal without ignoring SIGTTOU.
    pub fn ttou_violations(&self) -> usize {
        self.state.borrow().ttou_violations
    }

    /// Every `killpg` so far.
    pub fn killpg_log(&self) -> Vec<(Pgid, Signal)> {
        self.state.borrow().killpg_log.clone()
    }

    /// The terminal states recorded by [`Event::Snapshot`].
    pub fn snapshots(&self) -> Vec<(Pgid, u64)> {
        self.state.borrow().snapshots.clone()
    }

    /// Whether process `pid` ignores `sig`.
    pub fn ignores(&self, pid: Pid, sig: Signal) -> bool {
        self.process(pid).is_some_and(|p| p.ignored.contains(&sig))
    }

    /// Modes as a [`TtyModes`] value (to build expectations).
    pub fn modes_value(modes: u64) -> TtyModes {
        TtyModes(ModesRepr::Virtual(modes))
    }

    fn touch_terminal(&self) -> SysResult<()> {
        let mut st = self.state.borrow_mut();
        let me = &st.procs[&self.me];
        let pgid = me.pgid;
        if pgid != st.fg_pgid && !me.ignored.contains(&Signal::SIGTTOU) {
            st.ttou_violations += 1;
            st.signal_group(pgid, Signal::SIGTTOU);
            return Err(Errno::EINTR);
        }
        Ok(())
    }
}

fn new_proc(pid: Pid, ppid: Pid, pgid: Pgid, ignored: Vec<Signal>) -> VProcess {
    VProcess {
        pid,
        ppid,
        pgid,
        state: ProcState::Running,
        ignored,
        pending: Vec::new(),
        change: None,
        received: Vec::new(),
    }
}

fn is_stop(sig: Signal) -> bool {
    matches!(
        sig,
        Signal::SIGSTOP | Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU
    )
}

fn is_harmless(sig: Signal) -> bool {
    matches!(sig, Signal::SIGCHLD | Signal::SIGWINCH | Signal::SIGURG)
}

impl State {
    fn signal_one(&mut self, pid: Pid, sig: Signal) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        if matches!(p.state, ProcState::Exited(_) | ProcState::Signaled(_)) {
            return;
        }
        p.received.push(sig);
        let ignored = p.ignored.contains(&sig) && !matches!(sig, Signal::SIGKILL | Signal::SIGSTOP);
        if sig == Signal::SIGCONT {
            if let ProcState::Stopped(_) = p.state {
                p.state = ProcState::Running;
                p.change = Some(WaitStatus::Continued(pid));
                let pending = std::mem::take(&mut p.pending);
                for s in pending {
                    self.signal_one(pid, s);
                }
            }
            return;
        }
        if ignored || is_harmless(sig) {
            return;
        }
        if is_stop(sig) {
            if p.state == ProcState::Running {
                p.state = ProcState::Stopped(sig);
                p.change = Some(WaitStatus::Stopped(pid, sig));
            }
            return;
        }
        if sig != Signal::SIGKILL && matches!(p.state, ProcState::Stopped(_)) {
            p.pending.push(sig);
            return;
        }
        p.state = ProcState::Signaled(sig);
        p.change = Some(WaitStatus::Signaled(pid, sig, false));
    }

    fn signal_group(&mut self, pgid: Pgid, sig: Signal) -> bool {
        let members: Vec<Pid> = self
            .procs
            .values()
            .filter(|p| {
                p.pgid == pgid && matches!(p.state, ProcState::Running | ProcState::Stopped(_))
            })
            .map(|p| p.pid)
            .collect();
        for pid in &members {
            self.signal_one(*pid, sig);
        }
        !members.is_empty()
    }

    /// A real process that stops itself sleeps until someone continues it; here, the script
    /// runs until the caller runs again.
    fn run_while_stopped(&mut self, me: Pid) {
        while matches!(
            self.procs.get(&me).map(|p| p.state),
            Some(ProcState::Stopped(_))
        ) {
            let event = self
                .script
                .pop_front()
                .expect("the simulated caller stopped itself and no scripted event continues it");
            self.apply(event);
        }
    }

    /// Applies an event; returns true when it should interrupt a blocking wait.
    fn apply(&mut self, event: Event) -> bool {
        match event {
            Event::Exit(pid, code) => {
                if let Some(p) = self.procs.get_mut(&pid) {
                    p.state = ProcState::Exited(code);
                    p.change = Some(WaitStatus::Exited(pid, code));
                }
            }
            Event::Signal(pid, sig) => self.signal_one(pid, sig),
            Event::CtrlC => {
                let fg = self.fg_pgid;
                self.signal_group(fg, Signal::SIGINT);
            }
            Event::CtrlZ => {
                let fg = self.fg_pgid;
                self.signal_group(fg, Signal::SIGTSTP);
            }
            Event::Interrupt => return true,
            Event::SetModes(m) => self.modes = m,
            Event::GiveTerminal(pgid) => self.fg_pgid = pgid,
            Event::Snapshot => {
                let snap = (self.fg_pgid, self.modes);
                self.snapshots.push(snap);
            }
        }
        false
    }
}

impl System for VirtualSystem {
    fn getpid(&self) -> Pid {
        self.me
    }

    fn getpgrp(&self) -> Pgid {
        self.state.borrow().procs[&self.me].pgid
    }

    fn setpgid(&self, pid: Pid, pgid: Pgid) -> SysResult<()> {
        let mut st = self.state.borrow_mut();
        let target = st.procs.get(&pid).ok_or(Errno::ESRCH)?;
        if pid != self.me && target.ppid != self.me {
            return Err(Errno::ESRCH);
        }
        if pgid != Pgid::led_by(pid) && !st.procs.values().any(|p| p.pgid == pgid) {
            return Err(Errno::EPERM);
        }
        st.procs.get_mut(&pid).expect("checked").pgid = pgid;
        Ok(())
    }

    fn tcgetpgrp(&self) -> SysResult<Pgid> {
        Ok(self.state.borrow().fg_pgid)
    }

    fn tcsetpgrp(&self, pgid: Pgid) -> SysResult<()> {
        self.touch_terminal()?;
        let mut st = self.state.borrow_mut();
        if !st.procs.values().any(|p| {
            p.pgid == pgid && !matches!(p.state, ProcState::Exited(_) | ProcState::Signaled(_))
        }) {
            return Err(Errno::EPERM);
        }
        st.fg_pgid = pgid;
        Ok(())
    }

    fn tcgetattr(&self) -> SysResult<TtyModes> {
        Ok(TtyModes(ModesRepr::Virtual(self.state.borrow().modes)))
    }

    fn tcsetattr(&self, modes: &TtyModes) -> SysResult<()> {
        self.touch_terminal()?;
        match modes.0 {
            ModesRepr::Virtual(m) => {
                self.state.borrow_mut().modes = m;
                Ok(())
            }
            ModesRepr::Real(_) => Err(Errno::EINVAL),
        }
    }

    fn killpg(&self, pgid: Pgid, sig: Signal) -> SysResult<()> {
        let mut st = self.state.borrow_mut();
        st.killpg_log.push((pgid, sig));
        if st.signal_group(pgid, sig) {
            st.run_while_stopped(self.me);
            Ok(())
        } else {
            Err(Errno::ESRCH)
        }
    }

    fn kill(&self, pid: Pid, sig: Signal) -> SysResult<()> {
        let mut st = self.state.borrow_mut();
        match st.procs.get(&pid) {
            Some(p) if matches!(p.state, ProcState::Running | ProcState::Stopped(_)) => {
                st.signal_one(pid, sig);
                st.run_while_stopped(self.me);
                Ok(())
            }
            _ => Err(Errno::ESRCH),
        }
    }

    fn waitpid(&self, target: WaitTarget, block: bool) -> SysResult<WaitStatus> {
        loop {
            let mut st = self.state.borrow_mut();
            let me = self.me;
            let children: Vec<Pid> = st
                .procs
                .values()
                .filter(|p| {
                    p.ppid == me
                        && match target {
                            WaitTarget::Any => true,
                            WaitTarget::Pid(pid) => pid == p.pid,
                            WaitTarget::Group(g) => g == p.pgid,
                        }
                })
                .map(|p| p.pid)
                .collect();
            if children.is_empty() {
                return Err(Errno::ECHILD);
            }
            for c in children {
                let p = st.procs.get_mut(&c).expect("listed");
                if let Some(change) = p.change.take() {
                    if matches!(change, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
                        st.procs.remove(&c);
                    }
                    return Ok(change);
                }
            }
            if !block {
                return Ok(WaitStatus::StillAlive);
            }
            let Some(event) = st.script.pop_front() else {
                return Err(Errno::EDEADLK);
            };
            if st.apply(event) {
                return Err(Errno::EINTR);
            }
        }
    }

    fn set_disposition(&self, sig: Signal, disposition: Disposition) -> SysResult<Disposition> {
        let mut st = self.state.borrow_mut();
        let p = st.procs.get_mut(&self.me).ok_or(Errno::ESRCH)?;
        let old = if p.ignored.contains(&sig) {
            Disposition::Ignore
        } else {
            Disposition::Default
        };
        match disposition {
            Disposition::Ignore => {
                if !p.ignored.contains(&sig) {
                    p.ignored.push(sig);
                }
            }
            Disposition::Default => p.ignored.retain(|s| *s != sig),
            Disposition::Caught => return Err(Errno::EINVAL),
        }
        Ok(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_continue_and_pending_term() {
        let sys = VirtualSystem::new();
        let c = sys.fork();
        let g = Pgid::led_by(c);
        sys.setpgid(c, g).unwrap();
        sys.killpg(g, Signal::SIGTSTP).unwrap();
        assert_eq!(
            sys.waitpid(WaitTarget::Any, false),
            Ok(WaitStatus::Stopped(c, Signal::SIGTSTP))
        );
        sys.killpg(g, Signal::SIGTERM).unwrap();
        assert_eq!(sys.state_of(c), Some(ProcState::Stopped(Signal::SIGTSTP)));
        sys.killpg(g, Signal::SIGCONT).unwrap();
        assert_eq!(
            sys.waitpid(WaitTarget::Any, false),
            Ok(WaitStatus::Signaled(c, Signal::SIGTERM, false))
        );
        assert_eq!(sys.waitpid(WaitTarget::Any, false), Err(Errno::ECHILD));
    }

    #[test]
    fn blocking_wait_runs_the_script_or_fails() {
        let sys = VirtualSystem::new();
        let c = sys.fork();
        assert_eq!(sys.waitpid(WaitTarget::Pid(c), true), Err(Errno::EDEADLK));
        sys.script([Event::Exit(c, 3)]);
        assert_eq!(
            sys.waitpid(WaitTarget::Pid(c), true),
            Ok(WaitStatus::Exited(c, 3))
        );
    }

    #[test]
    fn background_tcsetpgrp_without_ignoring_ttou_is_caught() {
        let sys = VirtualSystem::new();
        let c = sys.fork();
        sys.setpgid(c, Pgid::led_by(c)).unwrap();
        sys.tcsetpgrp(Pgid::led_by(c)).unwrap();
        assert_eq!(sys.tcsetpgrp(SHELL_PGID), Err(Errno::EINTR));
        assert_eq!(sys.ttou_violations(), 1);
        sys.set_disposition(Signal::SIGTTOU, Disposition::Ignore)
            .unwrap();
        sys.tcsetpgrp(SHELL_PGID).unwrap();
        assert_eq!(sys.foreground(), SHELL_PGID);
    }
}

//! A simulated [`System`]: processes, process groups, signals, pipes and one terminal, in memory.
//!
//! The model keeps what job control and the shell's commits depend on and nothing else:
//! - every process has a pid, a process group, a parent, a run state and per-signal
//!   dispositions; [`System::fork`] copies the caller's dispositions, [`System::spawn`] (an
//!   exec) puts caught signals back to their default as the kernel does, and the ones the shell
//!   may have set as `reset_signals` does;
//! - signals act as on Linux: SIGKILL kills and SIGSTOP stops whatever the disposition; SIGTSTP,
//!   SIGTTIN, SIGTTOU stop unless ignored or caught; SIGCONT continues (and is never ignorable
//!   for that); SIGCHLD, SIGWINCH and SIGURG do nothing by default; every other signal kills. A
//!   stopped process keeps a killing signal pending until SIGCONT (SIGKILL excepted), which is
//!   why `kill` must follow SIGTERM with SIGCONT for a stopped job;
//! - a caught signal is recorded for [`System::take_caught`]; one other than SIGCHLD that
//!   arrives while its process blocks in `waitpid` makes that call fail with `EINTR`. A signal
//!   whose disposition is [`Disposition::ExitShell`] ends the process as the real handler does:
//!   registered job groups get SIGHUP and SIGCONT, the session directory is removed (for real:
//!   tests give a temporary one), the terminal gets its modes and owner back;
//! - the parent learns of state changes through [`System::waitpid`]: one pending change per
//!   child, a later one replacing an earlier one, an exit being final (Linux keeps one), and
//!   each change sends the parent SIGCHLD. A process whose parent ended gets pid 1 as its parent,
//!   and this pid 1 never reaps: a zombie left that way stays in its group, as under an init that
//!   reaps slowly. A process that asked for [`System::die_with_parent`] gets SIGKILL when its
//!   parent ends;
//! - the terminal has a foreground group and modes (a number). `tcsetpgrp`/`tcsetattr` from a
//!   background process that does not ignore SIGTTOU raise SIGTTOU on its group and fail with
//!   `EINTR`, and the system counts it ([`VirtualSystem::ttou_violations`]): the real shell
//!   would have stopped itself;
//! - pipes are byte queues; a reader sees end of file once every write end is dropped. A forked
//!   child's [`ChildTask::work`] owns what it captured (write ends included) and drops it when
//!   the child ends, however it ends.
//!
//! Time does not pass by itself. A forked child runs its set-up at once and its work only when
//! an [`Event::Run`] says so. A blocking call with nothing to report runs the next scripted
//! [`Event`] (see [`VirtualSystem::script`]) and looks again; with an empty script `waitpid`
//! fails with `EDEADLK` and `wait_byte` panics, so a test that would hang fails instead.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use super::{
    ChildSetup, ChildTask, Disposition, Errno, ModesRepr, Pgid, Pid, Signal, Spawned, SysResult,
    System, TtyModes, WaitStatus, WaitTarget,
};

/// Run state of a simulated process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    Running,
    Stopped(Signal),
    Exited(i32),
    Signaled(Signal),
}

impl ProcState {
    /// Whether the process has ended (a zombie until its parent reaps it).
    pub fn is_dead(self) -> bool {
        matches!(self, ProcState::Exited(_) | ProcState::Signaled(_))
    }
}

/// One simulated process.
#[derive(Clone, Debug)]
pub struct VProcess {
    pub pid: Pid,
    pub ppid: Pid,
    pub pgid: Pgid,
    pub state: ProcState,
    /// Dispositions other than the default.
    pub dispositions: BTreeMap<Signal, Disposition>,
    /// Caught signals not yet taken by [`System::take_caught`].
    pub caught: BTreeSet<Signal>,
    /// Killing signals received while stopped, acted on at SIGCONT.
    pub pending: Vec<Signal>,
    /// Unreported state change for the parent's `waitpid`.
    change: Option<WaitStatus>,
    /// Every signal ever delivered, in order (for assertions).
    pub received: Vec<Signal>,
    /// Whether it asked for SIGKILL when its parent ends.
    pub dies_with_parent: bool,
    /// The program it runs, for a process made by [`System::spawn`].
    pub program: Option<String>,
}

impl VProcess {
    fn disposition(&self, sig: Signal) -> Disposition {
        self.dispositions
            .get(&sig)
            .copied()
            .unwrap_or(Disposition::Default)
    }
}

/// Something that happens "meanwhile", while the shell blocks.
#[derive(Clone, Debug)]
pub enum Event {
    /// A forked child runs its work (see [`System::fork`]) and exits with its result. Nothing
    /// happens if it ended before; a stopped child cannot run (the test is wrong: it panics).
    Run(Pid),
    /// The process exits with this code (without running its work).
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

/// What [`Disposition::ExitShell`] cleans up, as given to [`System::set_exit_cleanup`].
#[derive(Debug, Default)]
struct ExitCleanup {
    session_dir: Option<PathBuf>,
    terminal: Option<(u64, Option<Pgid>)>,
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
    /// Processes that caught a signal (not SIGCHLD) since they began blocking.
    interrupted: BTreeSet<Pid>,
    job_groups: BTreeSet<Pgid>,
    cleanup: ExitCleanup,
    /// Set when a caught signal other than SIGCHLD arrives ([`System::set_wake_flag`]).
    wake: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// A forked child's work, waiting for its [`Event::Run`].
type Work = Box<dyn FnOnce(&VirtualSystem) -> i32>;

struct Shared {
    state: RefCell<State>,
    /// Kept apart from `state`: running or dropping a work borrows `state` again.
    work: RefCell<BTreeMap<Pid, Work>>,
}

/// The simulated system. Clones share the same state; each clone acts as one process
/// (the shell by default, see [`VirtualSystem::as_process`]).
#[derive(Clone)]
pub struct VirtualSystem {
    shared: Rc<Shared>,
    me: Pid,
}

impl std::fmt::Debug for VirtualSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualSystem")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

/// One simulated pipe: its bytes and how many write ends are open.
#[derive(Debug, Default)]
struct VPipe {
    bytes: RefCell<VecDeque<u8>>,
    writers: Cell<usize>,
}

/// The read end of a simulated pipe.
#[derive(Debug)]
pub struct VPipeReader(Rc<VPipe>);

/// The write end of a simulated pipe; dropping it closes it.
#[derive(Debug)]
pub struct VPipeWriter(Rc<VPipe>);

impl Drop for VPipeWriter {
    fn drop(&mut self) {
        self.0.writers.set(self.0.writers.get() - 1);
    }
}

/// The shell's pid in a new virtual system (it leads its own group, in the foreground).
pub const SHELL_PID: Pid = Pid::from_raw(100);

/// The shell's group in a new virtual system.
pub const SHELL_PGID: Pgid = Pgid::led_by(SHELL_PID);

/// Init: the parent of orphans. It never reaps.
const INIT: Pid = Pid::from_raw(1);

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
        procs.insert(SHELL_PID, new_proc(SHELL_PID, INIT, SHELL_PGID));
        let state = State {
            procs,
            next_pid: 101,
            fg_pgid: SHELL_PGID,
            modes: 1,
            script: VecDeque::new(),
            ttou_violations: 0,
            killpg_log: Vec::new(),
            snapshots: Vec::new(),
            interrupted: BTreeSet::new(),
            job_groups: BTreeSet::new(),
            cleanup: ExitCleanup::default(),
            wake: None,
        };
        VirtualSystem {
            shared: Rc::new(Shared {
                state: RefCell::new(state),
                work: RefCell::new(BTreeMap::new()),
            }),
            me: SHELL_PID,
        }
    }

    /// A system where the shell (pid 100) was started by another process, pid 50, and is in
    /// that process's group, which is the terminal's foreground group (a shell started from
    /// another shell without job control, or from a terminal emulator's plain `exec`).
    pub fn with_shell_in_parent_group() -> Self {
        let sys = Self::new();
        {
            let mut st = sys.state();
            let outer = Pid::from_raw(50);
            let outer_group = Pgid::led_by(outer);
            st.procs.insert(outer, new_proc(outer, INIT, outer_group));
            let shell = st.procs.get_mut(&SHELL_PID).expect("shell");
            shell.pgid = outer_group;
            shell.ppid = outer;
            st.fg_pgid = outer_group;
        }
        sys
    }

    fn state(&self) -> std::cell::RefMut<'_, State> {
        self.shared.state.borrow_mut()
    }

    /// The same system seen from process `pid` (to run child-side code such as
    /// [`crate::job::child_setup`]).
    pub fn as_process(&self, pid: Pid) -> VirtualSystem {
        VirtualSystem {
            shared: Rc::clone(&self.shared),
            me: pid,
        }
    }

    /// A new running child of the calling process, in its group, with its dispositions, and
    /// no work (it runs until an event ends it). Returns its pid.
    pub fn new_child(&self) -> Pid {
        self.state().new_child(self.me)
    }

    /// The pid the next child will get (to script events for a child not made yet).
    pub fn next_pid(&self) -> Pid {
        Pid::from_raw(self.shared.state.borrow().next_pid)
    }

    /// Queues events to happen while the shell blocks.
    pub fn script(&self, events: impl IntoIterator<Item = Event>) {
        self.state().script.extend(events);
    }

    /// Makes an event happen now.
    pub fn happen(&self, event: Event) {
        self.apply(event);
    }

    /// A copy of process `pid` (None once reaped or never existed).
    pub fn process(&self, pid: Pid) -> Option<VProcess> {
        self.shared.state.borrow().procs.get(&pid).cloned()
    }

    /// State of process `pid`.
    pub fn state_of(&self, pid: Pid) -> Option<ProcState> {
        self.process(pid).map(|p| p.state)
    }

    /// Every process of group `pgid`, zombies included (what `ps -g` would list).
    pub fn group_members(&self, pgid: Pgid) -> Vec<VProcess> {
        let st = self.shared.state.borrow();
        st.procs
            .values()
            .filter(|p| p.pgid == pgid)
            .cloned()
            .collect()
    }

    /// The terminal's foreground group.
    pub fn foreground(&self) -> Pgid {
        self.shared.state.borrow().fg_pgid
    }

    /// The terminal's current modes.
    pub fn modes(&self) -> u64 {
        self.shared.state.borrow().modes
    }

    /// Sets the terminal's modes directly (as a job would).
    pub fn set_modes(&self, modes: u64) {
        self.state().modes = modes;
    }

    /// How many times a background process touched the terminal without ignoring SIGTTOU.
    pub fn ttou_violations(&self) -> usize {
        self.shared.state.borrow().ttou_violations
    }

    /// Every `killpg` so far.
    pub fn killpg_log(&self) -> Vec<(Pgid, Signal)> {
        self.shared.state.borrow().killpg_log.clone()
    }

    /// The terminal states recorded by [`Event::Snapshot`].
    pub fn snapshots(&self) -> Vec<(Pgid, u64)> {
        self.shared.state.borrow().snapshots.clone()
    }

    /// The groups registered with [`System::register_job_group`] and not unregistered.
    pub fn job_groups(&self) -> Vec<Pgid> {
        self.shared
            .state
            .borrow()
            .job_groups
            .iter()
            .copied()
            .collect()
    }

    /// Whether process `pid` ignores `sig`.
    pub fn ignores(&self, pid: Pid, sig: Signal) -> bool {
        self.process(pid)
            .is_some_and(|p| p.disposition(sig) == Disposition::Ignore)
    }

    /// Modes as a [`TtyModes`] value (to build expectations).
    pub fn modes_value(modes: u64) -> TtyModes {
        TtyModes(ModesRepr::Virtual(modes))
    }

    fn touch_terminal(&self) -> SysResult<()> {
        let mut st = self.state();
        let me = &st.procs[&self.me];
        let pgid = me.pgid;
        if pgid != st.fg_pgid && me.disposition(Signal::SIGTTOU) != Disposition::Ignore {
            st.ttou_violations += 1;
            st.signal_group(pgid, Signal::SIGTTOU);
            return Err(Errno::EINTR);
        }
        Ok(())
    }

    /// Applies `event`; true when it interrupted a blocking call of this process.
    fn apply(&self, event: Event) -> bool {
        let interrupted = match event {
            Event::Run(pid) => {
                self.run_work(pid);
                false
            }
            other => self.state().apply(other),
        };
        self.bury();
        interrupted || self.state().interrupted.remove(&self.me)
    }

    /// Runs the next scripted event; false when the script is empty.
    fn run_next_event(&self) -> Option<bool> {
        let event = self.state().script.pop_front()?;
        Some(self.apply(event))
    }

    /// Runs child `pid`'s work as that process, then ends it with the work's status.
    fn run_work(&self, pid: Pid) {
        let state = self.state_of(pid);
        assert!(
            !matches!(state, Some(ProcState::Stopped(_))),
            "the script runs process {pid}, which is stopped"
        );
        let work = self.shared.work.borrow_mut().remove(&pid);
        let Some(work) = work.filter(|_| state == Some(ProcState::Running)) else {
            return;
        };
        let status = work(&self.as_process(pid));
        let mut st = self.state();
        if st
            .procs
            .get(&pid)
            .is_some_and(|p| p.state == ProcState::Running)
        {
            st.end(pid, ProcState::Exited(status & 0xff));
        }
    }

    /// Drops the work of children that ended without running it, closing what it owned.
    fn bury(&self) {
        let dead: Vec<Pid> = {
            let st = self.shared.state.borrow();
            let work = self.shared.work.borrow();
            work.keys()
                .copied()
                .filter(|pid| st.procs.get(pid).is_none_or(|p| p.state.is_dead()))
                .collect()
        };
        let buried: Vec<Work> = {
            let mut work = self.shared.work.borrow_mut();
            dead.iter().filter_map(|pid| work.remove(pid)).collect()
        };
        drop(buried);
    }
}

fn new_proc(pid: Pid, ppid: Pid, pgid: Pgid) -> VProcess {
    VProcess {
        pid,
        ppid,
        pgid,
        state: ProcState::Running,
        dispositions: BTreeMap::new(),
        caught: BTreeSet::new(),
        pending: Vec::new(),
        change: None,
        received: Vec::new(),
        dies_with_parent: false,
        program: None,
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
    fn new_child(&mut self, parent: Pid) -> Pid {
        let pid = Pid::from_raw(self.next_pid);
        self.next_pid += 1;
        let parent_proc = &self.procs[&parent];
        let mut child = new_proc(pid, parent, parent_proc.pgid);
        child.dispositions = parent_proc.dispositions.clone();
        self.procs.insert(pid, child);
        pid
    }

    /// Records a state change of `pid` for its parent, and tells the parent (SIGCHLD).
    fn changed(&mut self, pid: Pid, change: WaitStatus) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        p.change = Some(change);
        let parent = p.ppid;
        self.signal_one(parent, Signal::SIGCHLD);
    }

    /// Ends `pid`: its children become init's (those that asked die), its parent is told.
    fn end(&mut self, pid: Pid, how: ProcState) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        p.state = how;
        let change = match how {
            ProcState::Exited(code) => WaitStatus::Exited(pid, code),
            ProcState::Signaled(sig) => WaitStatus::Signaled(pid, sig, false),
            _ => unreachable!("end takes a final state"),
        };
        let orphans: Vec<Pid> = self
            .procs
            .values()
            .filter(|c| c.ppid == pid)
            .map(|c| c.pid)
            .collect();
        for child in orphans {
            let c = self.procs.get_mut(&child).expect("listed");
            c.ppid = INIT;
            if c.dies_with_parent {
                self.signal_one(child, Signal::SIGKILL);
            }
        }
        self.changed(pid, change);
    }

    fn signal_one(&mut self, pid: Pid, sig: Signal) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        if p.state.is_dead() {
            return;
        }
        p.received.push(sig);
        if sig == Signal::SIGCONT {
            if let ProcState::Stopped(_) = p.state {
                p.state = ProcState::Running;
                let pending = std::mem::take(&mut p.pending);
                self.changed(pid, WaitStatus::Continued(pid));
                for s in pending {
                    self.signal_one(pid, s);
                }
            }
            return;
        }
        let disposition = if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            Disposition::Default
        } else {
            p.disposition(sig)
        };
        match disposition {
            Disposition::Ignore => {}
            Disposition::Catch => {
                p.caught.insert(sig);
                if sig != Signal::SIGCHLD {
                    self.interrupted.insert(pid);
                    if let Some(wake) = &self.wake {
                        wake.store(true, std::sync::atomic::Ordering::Release);
                    }
                }
            }
            Disposition::ExitShell => self.exit_shell(pid, sig),
            Disposition::Default => self.default_action(pid, sig),
        }
    }

    fn default_action(&mut self, pid: Pid, sig: Signal) {
        let p = self.procs.get_mut(&pid).expect("checked by signal_one");
        if is_harmless(sig) {
            return;
        }
        if is_stop(sig) {
            if p.state == ProcState::Running {
                p.state = ProcState::Stopped(sig);
                self.changed(pid, WaitStatus::Stopped(pid, sig));
            }
            return;
        }
        if sig != Signal::SIGKILL && matches!(p.state, ProcState::Stopped(_)) {
            p.pending.push(sig);
            return;
        }
        self.end(pid, ProcState::Signaled(sig));
    }

    /// What the real `ExitShell` handler does in process `pid`.
    fn exit_shell(&mut self, pid: Pid, sig: Signal) {
        let groups: Vec<Pgid> = self.job_groups.iter().copied().collect();
        for g in groups {
            self.signal_group(g, Signal::SIGHUP);
            self.signal_group(g, Signal::SIGCONT);
        }
        if let Some(dir) = &self.cleanup.session_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((modes, owner)) = self.cleanup.terminal {
            self.modes = modes;
            if let Some(owner) = owner {
                self.fg_pgid = owner;
            }
        }
        self.end(pid, ProcState::Exited(128 + sig as i32));
    }

    fn signal_group(&mut self, pgid: Pgid, sig: Signal) -> bool {
        let members: Vec<Pid> = self
            .procs
            .values()
            .filter(|p| p.pgid == pgid && !p.state.is_dead())
            .map(|p| p.pid)
            .collect();
        for pid in &members {
            self.signal_one(*pid, sig);
        }
        !members.is_empty()
    }

    /// Applies an event other than [`Event::Run`]; true when it should interrupt a blocking
    /// wait.
    fn apply(&mut self, event: Event) -> bool {
        match event {
            Event::Run(_) => unreachable!("run by VirtualSystem::apply"),
            Event::Exit(pid, code) => {
                if self.procs.get(&pid).is_some_and(|p| !p.state.is_dead()) {
                    self.end(pid, ProcState::Exited(code));
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

impl VirtualSystem {
    /// A real process that stops itself sleeps until someone continues it; here, the script
    /// runs until the caller runs again.
    fn run_while_stopped(&self) {
        while matches!(self.state_of(self.me), Some(ProcState::Stopped(_))) {
            self.run_next_event()
                .expect("the simulated caller stopped itself and no scripted event continues it");
        }
    }

    /// One non-blocking look at the caller's children matching `target`.
    fn take_change(&self, target: WaitTarget) -> SysResult<WaitStatus> {
        let mut st = self.state();
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
        Ok(WaitStatus::StillAlive)
    }
}

impl System for VirtualSystem {
    type PipeReader = VPipeReader;
    type PipeWriter = VPipeWriter;

    fn getpid(&self) -> Pid {
        self.me
    }

    fn getpgrp(&self) -> Option<Pgid> {
        Some(self.shared.state.borrow().procs[&self.me].pgid)
    }

    fn setpgid(&self, pid: Pid, pgid: Pgid) -> SysResult<()> {
        let mut st = self.state();
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

    fn tcgetpgrp(&self) -> SysResult<Option<Pgid>> {
        Ok(Some(self.shared.state.borrow().fg_pgid))
    }

    fn tcsetpgrp(&self, pgid: Pgid) -> SysResult<()> {
        self.touch_terminal()?;
        let mut st = self.state();
        if !st
            .procs
            .values()
            .any(|p| p.pgid == pgid && !p.state.is_dead())
        {
            return Err(Errno::EPERM);
        }
        st.fg_pgid = pgid;
        Ok(())
    }

    fn tcgetattr(&self) -> SysResult<TtyModes> {
        Ok(TtyModes(ModesRepr::Virtual(self.modes())))
    }

    fn tcsetattr(&self, modes: &TtyModes) -> SysResult<()> {
        self.touch_terminal()?;
        match modes.0 {
            ModesRepr::Virtual(m) => {
                self.set_modes(m);
                Ok(())
            }
            ModesRepr::Real(_) => Err(Errno::EINVAL),
        }
    }

    fn killpg(&self, pgid: Pgid, sig: Signal) -> SysResult<()> {
        let found = {
            let mut st = self.state();
            st.killpg_log.push((pgid, sig));
            st.signal_group(pgid, sig)
        };
        self.bury();
        if !found {
            return Err(Errno::ESRCH);
        }
        self.run_while_stopped();
        Ok(())
    }

    fn kill(&self, pid: Pid, sig: Signal) -> SysResult<()> {
        let found = {
            let mut st = self.state();
            let alive = st.procs.get(&pid).is_some_and(|p| !p.state.is_dead());
            if alive {
                st.signal_one(pid, sig);
            }
            alive
        };
        self.bury();
        if !found {
            return Err(Errno::ESRCH);
        }
        self.run_while_stopped();
        Ok(())
    }

    fn waitpid(&self, target: WaitTarget, block: bool) -> SysResult<WaitStatus> {
        // Only a signal that arrives while the call blocks interrupts it.
        self.state().interrupted.remove(&self.me);
        loop {
            let status = self.take_change(target)?;
            if status != WaitStatus::StillAlive || !block {
                return Ok(status);
            }
            match self.run_next_event() {
                None => return Err(Errno::EDEADLK),
                Some(true) => return Err(Errno::EINTR),
                Some(false) => {}
            }
        }
    }

    fn reap_eagerly(&self, _on: bool) {
        // Simulated children are reaped when `waitpid` asks: there is no handler and no cost
        // to move, and the statuses come out in the same order either way.
    }

    fn set_disposition(&self, sig: Signal, disposition: Disposition) -> SysResult<Disposition> {
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            return Err(Errno::EINVAL);
        }
        let mut st = self.state();
        let p = st.procs.get_mut(&self.me).ok_or(Errno::ESRCH)?;
        let old = p.disposition(sig);
        if disposition == Disposition::Default {
            p.dispositions.remove(&sig);
        } else {
            p.dispositions.insert(sig, disposition);
        }
        Ok(old)
    }

    fn take_caught(&self, sig: Signal) -> bool {
        let mut st = self.state();
        st.procs
            .get_mut(&self.me)
            .is_some_and(|p| p.caught.remove(&sig))
    }

    fn pipe(&self) -> SysResult<(VPipeReader, VPipeWriter)> {
        let pipe = Rc::new(VPipe::default());
        pipe.writers.set(1);
        Ok((VPipeReader(Rc::clone(&pipe)), VPipeWriter(pipe)))
    }

    fn write_byte(&self, to: &VPipeWriter, byte: u8) -> SysResult<()> {
        to.0.bytes.borrow_mut().push_back(byte);
        Ok(())
    }

    fn read_byte_now(&self, from: &VPipeReader) -> SysResult<Option<u8>> {
        Ok(from.0.bytes.borrow_mut().pop_front())
    }

    fn wait_byte(&self, from: &VPipeReader, pid: Pid) -> Option<u8> {
        loop {
            if let Some(byte) = from.0.bytes.borrow_mut().pop_front() {
                return Some(byte);
            }
            let child_running = self.state_of(pid) == Some(ProcState::Running);
            if from.0.writers.get() == 0 || !child_running {
                return None;
            }
            self.run_next_event()
                .expect("wait_byte would block for ever: no scripted event is left");
        }
    }

    fn fork(&self, task: ChildTask<Self>) -> SysResult<Pid> {
        let child = self.new_child();
        let ChildTask { setup, work } = task;
        setup(&self.as_process(child));
        self.shared.work.borrow_mut().insert(child, work);
        self.bury();
        Ok(child)
    }

    fn spawn(&self, command: &mut Command, setup: ChildSetup<Self>) -> std::io::Result<Spawned> {
        let child = self.new_child();
        setup(&self.as_process(child));
        let mut st = self.state();
        let p = st.procs.get_mut(&child).expect("just made");
        // exec: caught signals get their default back; `reset_signals` did the rest.
        p.dispositions.clear();
        p.program = Some(command.get_program().to_string_lossy().into_owned());
        Ok(Spawned {
            pid: child,
            stdout: None,
        })
    }

    fn die_with_parent(&self, parent: Pid) -> bool {
        let mut st = self.state();
        let me = st.procs.get_mut(&self.me).expect("the caller exists");
        me.dies_with_parent = true;
        me.ppid == parent
    }

    fn register_job_group(&self, pgid: Pgid) {
        self.state().job_groups.insert(pgid);
    }

    fn unregister_job_group(&self, pgid: Pgid) {
        self.state().job_groups.remove(&pgid);
    }

    fn set_wake_flag(&self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.state().wake = Some(flag);
    }

    fn set_exit_cleanup(
        &self,
        session_dir: Option<&Path>,
        terminal: Option<(TtyModes, Option<Pgid>)>,
    ) {
        let mut st = self.state();
        if let Some(dir) = session_dir {
            st.cleanup.session_dir = Some(dir.to_path_buf());
        }
        if let Some((TtyModes(ModesRepr::Virtual(modes)), owner)) = terminal {
            st.cleanup.terminal = Some((modes, owner));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_continue_and_pending_term() {
        let sys = VirtualSystem::new();
        let c = sys.new_child();
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
        let c = sys.new_child();
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
        let c = sys.new_child();
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

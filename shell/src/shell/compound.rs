//! Running lists, groups and control flow.
//!
//! A foreground list or loop runs in the shell itself; each of its pipelines is a job as a
//! line's pipeline is. After every command the list looks at how it ended ([`Flow`]): a job
//! killed by ctrl-c or stopped by ctrl-z drops the rest of the line, loops included (bash's
//! rule: the stopped job stays in `jobs`, what came after it in the list is not run later).
//!
//! An and-or list ended by `&` that is more than one pipeline — or a group or loop, or one
//! whose output is stored or redirected (`{ ... } >$ x`) — runs as one job in a forked copy of
//! the shell, like a bash subshell: its assignments stay inside it. Every pipeline of the copy
//! writes into one [`SharedOutput`]; a store's temporary file is made by the shell before the
//! fork and commits, as a pipeline leader's does, only if the copy ran to its end. The copy has
//! no reservoir session of its own, so a store *inside* it is refused with a clear error.
//!
//! `for NAME in P { ... }` runs `P` as a job of its own whose items come through a pipe in the
//! reservoir format, so they keep their types and arrive as they are made: `break` closes the
//! pipe, which ends `P` (`for i in gen 0 { ... break }` ends).

use super::flow::Flow;
use super::vars::Var;
use super::{Control, Shell};
use crate::exec::{self, Output};
use crate::expr;
use crate::job::{Signal, System};
use crate::ops::{Flow as Next, Sink};
use crate::ops::{OpError, Reporter};
use crate::reservoir::PendingWrite;
use crate::reservoir::format::{ReservoirReader, ReservoirWriter};
use crate::syntax::ast::{
    AndOr, Compound, Cond, Connector, List, ListItem, Pipeline, Sink as AstSink, Unit,
};
use std::fs::File;
use std::sync::{Arc, Mutex};

impl Shell {
    /// Runs the items of a list in order.
    pub(super) fn run_list(&mut self, list: &List) -> Flow {
        for item in &list.items {
            let flow = if item.background {
                self.run_background(item)
            } else {
                self.run_and_or(&item.and_or)
            };
            if !flow.goes_on() {
                return flow;
            }
            // Between commands: the actions of trapped signals that arrived meanwhile.
            if let Control::Exit(code) = self.run_traps() {
                return Flow::Exit(code);
            }
        }
        Flow::Next
    }

    /// `A && B || C`.
    fn run_and_or(&mut self, and_or: &AndOr) -> Flow {
        let mut flow = self.run_unit(&and_or.first);
        for (connector, unit) in &and_or.rest {
            if !flow.goes_on() {
                return flow;
            }
            let ok = self.status() == 0;
            if ok == (*connector == Connector::And) {
                flow = self.run_unit(unit);
            }
        }
        flow
    }

    fn run_unit(&mut self, unit: &Unit) -> Flow {
        match unit {
            Unit::Simple(body) => self.run_simple(&unit.to_string(), body, false),
            Unit::Compound {
                compound,
                sink: None,
            } => self.run_compound(compound),
            Unit::Compound {
                compound,
                sink: Some(sink),
            } => self.run_in_copy(
                &unit.to_string(),
                compound_list(compound),
                Some(sink),
                false,
            ),
            Unit::Break => Flow::Break,
            Unit::Continue => Flow::Continue,
        }
    }

    fn run_compound(&mut self, compound: &Compound) -> Flow {
        match compound {
            Compound::Group(list) => self.run_list(list),
            Compound::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    match self.test(cond) {
                        Err(flow) => return flow,
                        Ok(true) => return self.run_list(body),
                        Ok(false) => {}
                    }
                }
                match otherwise {
                    Some(body) => self.run_list(body),
                    None => {
                        self.vars.set_status(0);
                        Flow::Next
                    }
                }
            }
            Compound::While { cond, body } => self.run_while(cond, body),
            Compound::For { name, items, body } => self.run_for(name, items, body),
        }
    }

    /// Whether `cond` holds; `Err` with the flow when it could not be told (ctrl-c).
    fn test(&mut self, cond: &Cond) -> Result<bool, Flow> {
        match cond {
            Cond::Expr(e) => match expr::eval(e, &self.vars) {
                Ok(v) => Ok(v.truthy()),
                Err(err) => {
                    let flow = self.fail(&OpError::from_eval("", &err));
                    if flow.goes_on() { Ok(false) } else { Err(flow) }
                }
            },
            Cond::Pipeline(p) => {
                let body = crate::syntax::ast::CommandBody::Pipeline(p.clone());
                let flow = self.run_simple(&p.to_string(), &body, false);
                if flow.goes_on() {
                    Ok(self.status() == 0)
                } else {
                    Err(flow)
                }
            }
        }
    }

    /// Whether ctrl-c reached the shell itself (a loop of shell code, no job in the
    /// foreground): then the loop ends as if a command had been killed, `STATUS` 130.
    fn interrupted(&mut self) -> bool {
        let hit = self.jobs.interactive() && super::signals::take_interrupt(self.jobs.system());
        if hit {
            self.vars.set_status(130);
        }
        hit
    }

    fn run_while(&mut self, cond: &Cond, body: &List) -> Flow {
        let mut status = 0;
        loop {
            if self.interrupted() {
                return Flow::Abandon;
            }
            match self.test(cond) {
                Err(flow) => return flow,
                Ok(false) => break,
                Ok(true) => {}
            }
            match self.run_list(body) {
                Flow::Next | Flow::Continue => status = self.status(),
                Flow::Break => {
                    status = self.status();
                    break;
                }
                flow => return flow,
            }
        }
        self.vars.set_status(status);
        Flow::Next
    }

    fn run_for(&mut self, name: &str, items: &Pipeline, body: &List) -> Flow {
        let (reader, started) = match self.start_items(items) {
            Ok(x) => x,
            Err(e) => return self.fail(&e),
        };
        let mut stream = ReservoirReader::new(reader).ok();
        let mut status = 0;
        let mut flow = Flow::Next;
        while let Some(item) = stream.as_mut().and_then(Iterator::next) {
            let Ok(item) = item else { break };
            if self.interrupted() {
                flow = Flow::Abandon;
                break;
            }
            self.vars.set(name, Var::Value(item));
            match self.run_list(body) {
                Flow::Next | Flow::Continue => status = self.status(),
                Flow::Break => {
                    status = self.status();
                    break;
                }
                other => {
                    flow = other;
                    break;
                }
            }
        }
        // Closing the pipe ends a producer that would go on (`gen 0`); one blocked elsewhere
        // gets the SIGPIPE it would have got.
        drop(stream);
        let _ = self.jobs.system().killpg(started.pgid, Signal::SIGPIPE);
        let _ = self.jobs.control.wait_for_foreground(started.number);
        self.jobs.settle(&mut self.vars);
        if flow.goes_on() {
            self.vars.set_status(status);
        }
        flow
    }

    /// Starts the items of a `for` as a job writing them into a pipe; returns its read end.
    fn start_items(&mut self, items: &Pipeline) -> Result<(File, crate::job::Started), OpError> {
        let p = self.expansions().pipeline(items)?.into_owned();
        let p = super::streams::normalize(&p)?;
        if p.sink.is_some() {
            return Err(OpError::new(
                "for",
                "the items of a for go to its body, not to a sink",
            ));
        }
        let reporter = Reporter::new();
        let source = p
            .source
            .as_ref()
            .map(|s| super::streams::source(&self.vars, s))
            .transpose()?;
        let pieces = exec::build(&p.stages, source.is_some(), &self.vars, &reporter)?;
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| OpError::new("for", format!("cannot make a pipe: {}", e.desc())))?;
        let write = File::from(write);
        let read_fd = std::os::fd::AsRawFd::as_raw_fd(&read);
        let work = Box::new(move || {
            // The copy holds the read end too: closed, so that the shell closing its own ends
            // the stream.
            let _ = nix::unistd::close(read_fd);
            let sink = ItemsSink(Some(ReservoirWriter::new(write)));
            let output = Output::Sink(Box::new(sink));
            exec::run(source, pieces, output, &reporter, exec::Runner::Leader).status
        });
        let started = self
            .jobs
            .start_subshell(&p.to_string(), true, false, work, None)?;
        Ok((File::from(read), started))
    }

    /// An and-or list ended by `&`: one pipeline is a job as always; anything more runs as
    /// one job in a forked copy of the shell.
    fn run_background(&mut self, item: &ListItem) -> Flow {
        let and_or = &item.and_or;
        let text = and_or.to_string();
        match (&and_or.first, and_or.rest.is_empty()) {
            (Unit::Simple(body), true) => self.run_simple(&text, body, true),
            (Unit::Compound { compound, sink }, true) => {
                self.run_in_copy(&text, compound_list(compound), sink.as_ref(), true)
            }
            _ => {
                let list = List {
                    items: vec![ListItem {
                        and_or: and_or.clone(),
                        background: false,
                    }],
                };
                self.run_in_copy(&text, list, None, true)
            }
        }
    }

    /// Runs `list` as one job in a forked copy of the shell, its output into `sink` if given:
    /// a store into a reservoir commits when the job completes and rolls back if it is killed,
    /// exactly as a pipeline's store.
    pub(super) fn run_in_copy(
        &mut self,
        text: &str,
        list: List,
        sink: Option<&AstSink>,
        background: bool,
    ) -> Flow {
        let prepared = match self.prepare_output(sink) {
            Ok(p) => p,
            Err(e) => return self.fail(&e),
        };
        let (output, store) = prepared;
        let mut copy = Shell {
            vars: self.vars.clone(),
            session: Err(
                "a store inside a background or redirected group or loop is not supported yet"
                    .into(),
            ),
            jobs: super::jobs::Jobs::new(),
            output: output.clone(),
            origin: self.origin.clone(),
            error_seen: false,
            dirs: self.dirs.clone(),
            // As in a POSIX subshell, traps are not inherited: the job's process has its
            // signals' default actions back (`signals::reset_in_child`).
            traps: super::traps::Traps::default(),
        };
        let work = Box::new(move || {
            let _ = copy.run_list(&list);
            let status = copy.status();
            match output.map(|o| o.finish()) {
                Some(Err(e)) => {
                    exec::report(&e);
                    // Unfinished, so the shell will not commit it.
                    std::process::exit(1)
                }
                _ => status,
            }
        });
        match self
            .jobs
            .run_subshell(&mut self.vars, text, work, background, store)
        {
            Ok(halt) => {
                self.vars.set_status(halt.status());
                Flow::after(halt)
            }
            Err(e) => self.fail(&e),
        }
    }

    /// The shared output of a copy writing into `sink`, and the store it begins.
    fn prepare_output(
        &mut self,
        sink: Option<&AstSink>,
    ) -> Result<(Option<SharedOutput>, Option<NewStore>), OpError> {
        Ok(match sink {
            None => (None, None),
            Some(AstSink::File { path, append }) => {
                let path = self
                    .expansions()
                    .word(path, true)
                    .map_err(|e| e.into_op_error(">"))?;
                let writer = exec::sinks::FileWriter::open_word(&path, *append)?;
                (Some(SharedOutput::new(Box::new(writer))), None)
            }
            Some(AstSink::Reservoir { name, append }) => {
                super::streams::check_store_target(&self.vars, name, *append)?;
                let session = self.session.as_ref().map_err(String::as_str);
                let pending = super::streams::begin_store(session, name)?;
                let file = pending.file().try_clone().map_err(|e| {
                    OpError::new(">$", format!("{name}: {}", crate::ops::io_reason(&e)))
                })?;
                let sink = super::streams::StoreSink::on_file(name.clone(), file);
                (
                    Some(SharedOutput::new(Box::new(sink))),
                    Some((pending, *append)),
                )
            }
        })
    }
}

/// A store begun for a copy's output, with whether it appends.
type NewStore = (PendingWrite, bool);

/// The list a compound command amounts to when it runs in a copy of the shell.
fn compound_list(compound: &Compound) -> List {
    let unit = Unit::Compound {
        compound: compound.clone(),
        sink: None,
    };
    List {
        items: vec![ListItem {
            and_or: AndOr {
                first: unit,
                rest: Vec::new(),
            },
            background: false,
        }],
    }
}

/// One output that every pipeline of a group or loop writes into in turn; each pipeline's end
/// is not the output's end, which comes with [`finish`](Self::finish).
#[derive(Clone)]
pub struct SharedOutput(Arc<Mutex<Box<dyn Sink>>>);

impl SharedOutput {
    fn new(sink: Box<dyn Sink>) -> SharedOutput {
        SharedOutput(Arc::new(Mutex::new(sink)))
    }

    /// Ends the output (a store's end marker).
    fn finish(&self) -> Result<(), OpError> {
        self.lock().finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn Sink>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Sink for SharedOutput {
    fn push(&mut self, item: crate::value::Value) -> Result<Next, OpError> {
        self.lock().push(item)
    }

    fn finish(&mut self) -> Result<(), OpError> {
        Ok(())
    }
}

/// Writes a `for`'s items into its pipe; the loop leaving early (`break`) closes the pipe,
/// which stops the items quietly.
struct ItemsSink(Option<ReservoirWriter<File>>);

fn items_error(e: std::io::Error) -> Result<(), OpError> {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => Ok(()),
        _ => Err(OpError::new("for", crate::ops::io_reason(&e))),
    }
}

impl Sink for ItemsSink {
    fn push(&mut self, item: crate::value::Value) -> Result<Next, OpError> {
        let Some(w) = self.0.as_mut() else {
            return Ok(Next::Stop);
        };
        match w.push(&item) {
            Ok(()) => Ok(Next::Continue),
            Err(e) => {
                self.0 = None;
                items_error(e).map(|()| Next::Stop)
            }
        }
    }

    fn finish(&mut self) -> Result<(), OpError> {
        match self.0.take() {
            Some(w) => w.finish().map(|_| ()).or_else(items_error),
            None => Ok(()),
        }
    }
}

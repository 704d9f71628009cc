//! The ends of a pipeline that live in the shell: reservoir sources and sinks, text files, and
//! the `store`/`load` spellings of `>$`/`<$`.

use super::vars::{Var, Vars};
use crate::ops::{FileLines, Flow, OpError, Role, Sink, Source};
use crate::reservoir::{PendingWrite, Reservoir, ReservoirWriter, Session};
use crate::syntax::ast::{Arg, Pipeline, Sink as AstSink, Source as AstSource, Stage, Word};
use crate::value::Value;
use std::fs::File;

/// Which reservoir end a stage's op word spells.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Store,
    Load,
}

fn role(name: &Word) -> Option<End> {
    match crate::exec::op_for(name)?.role {
        Role::Store => Some(End::Store),
        Role::Load => Some(End::Load),
        _ => None,
    }
}

/// Rewrites `P | store [-a] x` into `P >$ x` (`>>$ x`), and `load x | P` into `x <$ P`, so
/// the rest of the shell knows one form of each.
pub fn normalize(p: &Pipeline) -> Result<Pipeline, OpError> {
    let mut p = p.clone();
    if let Some(Stage::Op { name, args, .. }) = p.stages.last()
        && role(name) == Some(End::Store)
    {
        let (append, var) = match args.as_slice() {
            [Arg::Word(w)] => (false, w.text.clone()),
            [Arg::Word(flag), Arg::Word(w)] if flag.text == "-a" => (true, w.text.clone()),
            _ => return Err(OpError::new("store", "usage: store [-a] VAR")),
        };
        if p.sink.is_some() {
            return Err(OpError::new("store", "a pipeline has one destination"));
        }
        if p.stages.len() == 1 && p.source.is_none() {
            return Err(OpError::new(
                "store",
                "needs items to store: try gen 3 | store x",
            ));
        }
        p.stages.pop();
        p.sink = Some(AstSink::Reservoir { name: var, append });
    }
    if let Some(Stage::Op { name, args, .. }) = p.stages.first()
        && role(name) == Some(End::Load)
    {
        let [Arg::Word(w)] = args.as_slice() else {
            return Err(OpError::new("load", "usage: load VAR"));
        };
        if p.source.is_some() {
            return Err(OpError::new("load", "a pipeline has one source"));
        }
        p.source = Some(AstSource::Reservoir(w.text.clone()));
        p.stages.remove(0);
    }
    for stage in &p.stages {
        if let Stage::Op { name, .. } = stage
            && let Some(end) = role(name)
        {
            let place = match end {
                End::Store => "end",
                End::Load => "start",
            };
            return Err(OpError::new(
                &name.text,
                format!("belongs at the {place} of a pipeline"),
            ));
        }
    }
    Ok(p)
}

/// The reservoir variable `name`, or a one-line reason why it cannot be read.
pub fn reservoir_of<'a>(vars: &'a Vars, name: &str) -> Result<&'a Reservoir, OpError> {
    match vars.get(name) {
        Some(Var::Reservoir(r)) => Ok(r),
        Some(Var::Value(v)) => Err(OpError::new(
            "<$",
            format!(
                "{name} holds a value ({}), not a stream; print it with ({name})",
                v.type_name()
            ),
        )),
        None => Err(OpError::new("<$", format!("no variable named {name}"))),
    }
}

impl crate::ops::Scope for Vars {
    fn stream(&self, op: &str, name: &str) -> Result<Box<dyn Source>, OpError> {
        let reservoir = reservoir_of(self, name).map_err(|e| OpError::new(op, e.message))?;
        Ok(Box::new(ReservoirSource {
            name: name.to_string(),
            reservoir: reservoir.clone(),
        }))
    }
}

/// The source of a pipeline: a reservoir or a text file.
pub fn source(vars: &Vars, source: &AstSource) -> Result<Box<dyn Source>, OpError> {
    Ok(match source {
        AstSource::File(path) => Box::new(FileLines {
            path: crate::exec::redirect::path_of(path)
                .map_err(|e| OpError::new("<", e.to_string()))?
                .into(),
        }),
        AstSource::Reservoir(name) => Box::new(ReservoirSource {
            name: name.clone(),
            reservoir: reservoir_of(vars, name)?.clone(),
        }),
    })
}

/// `x <$`: the items of a reservoir. It holds its own reference to the reservoir, so the files
/// stay while it reads even if `x` is rebound meanwhile.
pub struct ReservoirSource {
    name: String,
    reservoir: Reservoir,
}

impl Source for ReservoirSource {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        let mut stream = self.reservoir.reader();
        loop {
            let item = match stream.next_int() {
                Some(i) => Value::Int(i),
                None => match stream.next() {
                    None => return Ok(()),
                    Some(item) => {
                        item.map_err(|e| OpError::new("<$", format!("{}: {e}", self.name)))?
                    }
                },
            };
            if sink.push(item)? == Flow::Stop {
                return Ok(());
            }
        }
    }
}

/// Checks that `P >>$ name` may append (the variable is unset or a reservoir) before the
/// pipeline runs.
pub fn check_store_target(vars: &Vars, name: &str, append: bool) -> Result<(), OpError> {
    if name == super::vars::STATUS {
        return Err(OpError::new(
            ">$",
            "STATUS is set by the shell and cannot hold a stream",
        ));
    }
    super::exports::check_store(name).map_err(|e| OpError::new(">$", e.to_string()))?;
    if append && let Some(Var::Value(v)) = vars.get(name) {
        return Err(OpError::new(
            ">>$",
            format!(
                "{name} holds a value ({}), not a stream; store into it with >$ first",
                v.type_name()
            ),
        ));
    }
    Ok(())
}

/// Starts a store: the temporary file. The sink that writes it is made with
/// [`StoreSink::new`] in whichever process writes (a forked job makes its own).
pub fn begin_store(session: Result<&Session, &str>, name: &str) -> Result<PendingWrite, OpError> {
    let session =
        session.map_err(|e| OpError::new(">$", format!("reservoirs are unavailable: {e}")))?;
    session
        .begin_store(name)
        .map_err(|e| OpError::new(">$", format!("{name}: {e}")))
}

/// Writes the stream into a reservoir's temporary file.
pub struct StoreSink {
    name: String,
    writer: Option<ReservoirWriter<File>>,
}

impl StoreSink {
    /// A sink writing into `pending`'s temporary file.
    pub fn new(pending: &PendingWrite) -> Result<StoreSink, OpError> {
        let name = pending.var().to_string();
        let writer = pending
            .writer()
            .map_err(|e| OpError::new(">$", format!("{name}: {e}")))?;
        Ok(StoreSink {
            name,
            writer: Some(writer),
        })
    }

    /// A sink writing into a store's temporary file through `file`, a duplicate of its
    /// descriptor (made before a fork, so the child writes where the shell will look).
    pub fn on_file(name: String, file: File) -> StoreSink {
        StoreSink {
            name,
            writer: Some(ReservoirWriter::new(file)),
        }
    }

    fn error(&self, e: std::io::Error) -> OpError {
        OpError::new(
            ">$",
            format!("{}: {}", self.name, crate::ops::io_reason(&e)),
        )
    }
}

impl Sink for StoreSink {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        let Some(w) = self.writer.as_mut() else {
            return Ok(Flow::Stop);
        };
        match w.push(&item) {
            Ok(()) => Ok(Flow::Continue),
            Err(e) => Err(self.error(e)),
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        match self.writer.take() {
            Some(w) => w.finish().map(|_| ()).map_err(|e| self.error(e)),
            None => Ok(()),
        }
    }
}

/// Binds a completed store: `>$` replaces the variable's value (the old files go once no
/// reader holds them), `>>$` adds the new segment after the variable's current ones.
pub fn commit(vars: &mut Vars, pending: PendingWrite, append: bool) -> Result<(), OpError> {
    let name = pending.var().to_string();
    let result = if append {
        let old = match vars.get(&name) {
            Some(Var::Reservoir(r)) => Some(r),
            _ => None,
        };
        pending.commit_append(old)
    } else {
        pending.commit_store()
    };
    let reservoir = result.map_err(|e| OpError::new(">$", format!("{name}: {e}")))?;
    vars.set(&name, Var::Reservoir(reservoir));
    Ok(())
}

//! Building a pipeline from its syntax and running it.
//!
//! A pipeline is cut at its host programs into chunks of ops. The chunk before the first
//! program (with the pipeline's source) writes into that program's stdin; the chunk after each
//! program reads its output lines; two programs side by side are joined by a plain pipe. Every
//! chunk but the last runs on its own thread, the last on the calling thread, so items flow
//! with no copying between ops and the programs run concurrently, as in any shell.

pub mod host;
pub mod reaper;
pub mod redirect;
pub mod sinks;

use crate::expr::compile_function;
use crate::ops::{self, Filter, Flow, OpArgs, OpError, Reporter, Role, Scope, Sink, Source};
use crate::syntax::ast::{Arg, EnvPrefix, Stage, Word};
use crate::value::Value;
use host::{ChildSetup, HostCommand, StdinWriter, StdoutLines, status_code};
use reaper::Reaper;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::Arc;

/// One built stage.
pub enum Piece {
    Source(Box<dyn Source>),
    Filter(Filter),
    Host(HostCommand),
}

/// Where the stream goes at the end.
pub enum Output {
    /// Print items to stdout; a program standing last writes to stdout directly.
    Terminal,
    /// `> path`, `>> path`: a program standing last writes its bytes straight into the file,
    /// untouched; ops write one line per item.
    File(sinks::FileWriter),
    /// A reservoir writer, or any other sink.
    Sink(Box<dyn Sink>),
}

/// Where the last program's stdout goes when no op stands after it.
enum Direct {
    /// The shell's own stdout.
    Inherit,
    /// An open file (`> f`): the program writes into it directly.
    File(std::fs::File),
    /// Into a pipe that ops or a sink read.
    Piped,
}

impl Direct {
    fn of(output: &Output) -> Result<Direct, OpError> {
        match output {
            Output::Terminal => Ok(Direct::Inherit),
            Output::File(f) => f.raw().map(Direct::File),
            Output::Sink(_) => Ok(Direct::Piped),
        }
    }
}

/// How a pipeline ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// What `STATUS` becomes: 0, 1 for an error, a program's status, 128 + a signal.
    pub status: i32,
    /// Every op and program ran to its end (a program's non-zero exit and per-item errors
    /// included; a fatal op error or a program killed by a signal other than SIGPIPE not).
    /// A store commits only a completed pipeline.
    pub completed: bool,
}

/// Builds the stages of a pipeline. `has_source` says whether a source (`x <$`, `< file`)
/// stands before the first stage.
pub fn build(
    stages: &[Stage],
    has_source: bool,
    globals: &dyn Scope,
    reporter: &Arc<Reporter>,
) -> Result<Vec<Piece>, OpError> {
    let mut pieces = Vec::with_capacity(stages.len());
    for (i, stage) in stages.iter().enumerate() {
        let first = i == 0 && !has_source;
        let piece = match stage {
            Stage::Func(f) => {
                let compiled =
                    compile_function(f, globals).map_err(|e| OpError::new("", e.to_string()))?;
                if first {
                    if compiled.arity() > 0 {
                        return Err(OpError::new(
                            "",
                            "a function needs items to work on: try gen 3 | (x: x * 2)",
                        ));
                    }
                    let value = compiled
                        .call_args(&[])
                        .map_err(|e| OpError::new("", e.to_string()))?;
                    Piece::Source(Box::new(Once(Some(value))))
                } else {
                    Piece::Filter(ops::map_with(compiled, reporter.clone()))
                }
            }
            Stage::Op {
                env,
                name,
                args,
                redirects,
            } => match op_for(name) {
                Some(spec) if !env.is_empty() => return Err(prefix_before_op(spec.name, env)),
                Some(spec) => {
                    let reporter = match redirect::op_stderr(spec.name, redirects)? {
                        Some(file) => reporter.into_file(file),
                        None => reporter.clone(),
                    };
                    build_op(spec, args, first, globals, &reporter)?
                }
                None => {
                    let values = OpArgs {
                        op: &name.text,
                        args,
                        globals,
                        reporter,
                    }
                    .words_and_values()?;
                    let env = env.iter().map(host::EnvVar::from_prefix).collect();
                    let mut host = HostCommand::resolve(&name.text, values, env)?;
                    host.redirects = redirect::Redirects::open(redirects)?;
                    Piece::Host(host)
                }
            },
        };
        pieces.push(piece);
    }
    Ok(pieces)
}

/// Why `NAME=VALUE op` is refused: ops run inside marsh, whose environment a prefix leaves
/// alone; only a program gets one.
pub fn prefix_before_op(op: &str, env: &[EnvPrefix]) -> OpError {
    let first = env.first().map_or("", |p| p.name.as_str());
    OpError::new(
        op,
        format!(
            "an op takes no {first}=... before it: NAME=VALUE sets a program's environment \
             (export {first}=... sets marsh's own)"
        ),
    )
}

/// The stage an op builds, where it stands (`first`: it starts the pipeline).
fn build_op(
    spec: &'static ops::OpSpec,
    args: &[Arg],
    first: bool,
    globals: &dyn Scope,
    reporter: &Arc<Reporter>,
) -> Result<Piece, OpError> {
    let op_args = OpArgs {
        op: spec.name,
        args,
        globals,
        reporter,
    };
    let misplaced = |message: String| Err(OpError::new(spec.name, message));
    match (spec.role, first) {
        (Role::Source(build) | Role::SourceOrFilter(build, _), true) => {
            Ok(Piece::Source(build(&op_args)?))
        }
        (Role::Filter(build) | Role::SourceOrFilter(_, build), false) => {
            Ok(Piece::Filter(build(&op_args)?))
        }
        (Role::Source(_), false) => misplaced("starts a pipeline; it cannot take items".into()),
        (Role::Filter(_), true) => {
            let mut message = format!("needs items to work on: try gen 3 | {}", spec.name);
            if host::find_program(spec.name).is_some() {
                // `join a b` first in a line most likely meant the program the op shadows.
                message.push_str(&format!(
                    "; the {} program: {}",
                    spec.name,
                    op_args.as_program()
                ));
            }
            misplaced(message)
        }
        // `store` and `load` in their places were rewritten before building (streams.rs).
        (Role::Store, _) => misplaced("belongs at the end of a pipeline".into()),
        (Role::Load, _) => misplaced("belongs at the start of a pipeline".into()),
        (Role::Builtin(_), _) => misplaced("must stand alone, not in a pipeline".into()),
    }
}

/// The op a stage's name denotes. A quoted name (`'ls'`) never denotes an op, which is one
/// way to run a program that an op shadows; a path (`/bin/ls`) is the other.
pub fn op_for(name: &Word) -> Option<&'static ops::OpSpec> {
    if name.quoted {
        None
    } else {
        ops::find(&name.text)
    }
}

/// Yields one value: a pipeline that starts with `(expr)`.
struct Once(Option<Value>);

impl Source for Once {
    fn run(&mut self, sink: &mut dyn Sink) -> Result<(), OpError> {
        if let Some(v) = self.0.take() {
            sink.push(v)?;
        }
        Ok(())
    }
}

/// A chunk ready to run: its producer, its ops joined to its consumer, and whether it is the
/// chunk that ends the pipeline (not followed by a program).
type ChunkRun = (Box<dyn Source>, Box<dyn Sink>, bool);

/// A run of ops between two programs.
#[derive(Default)]
struct Chunk {
    source: Option<Box<dyn Source>>,
    filters: Vec<Filter>,
}

/// Which process runs a pipeline, which decides how its programs are started and ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// The shell itself (a script without job control).
    Shell,
    /// A job's leader, forked by the shell: its programs die with it, and it dies of a signal
    /// only after reaping them ([`reaper`]).
    Leader,
}

/// The programs of a pipeline, started, with the pipe ends the ops use.
struct Programs {
    children: Vec<Child>,
    /// Per program, the write end of its stdin when ops feed it.
    stdins: Vec<Option<ChildStdin>>,
    /// Per program, the read end of its stdout when ops read it.
    stdouts: Vec<Option<ChildStdout>>,
}

/// Runs built pieces (optionally after a `source`) into `output`, reporting a fatal error as
/// one line on stderr.
pub fn run(
    source: Option<Box<dyn Source>>,
    pieces: Vec<Piece>,
    output: Output,
    reporter: &Arc<Reporter>,
    runner: Runner,
) -> Outcome {
    let (mut chunks, hosts) = cut_at_programs(source, pieces);
    let first_stdin = match raw_first_stdin(&mut chunks, &hosts) {
        Ok(f) => f,
        Err(e) => {
            report(&e);
            return Outcome {
                status: 1,
                completed: false,
            };
        }
    };
    // Before any thread or program exists: see `reaper`.
    let reaper = match runner {
        Runner::Leader if !hosts.is_empty() => Reaper::install(),
        _ => None,
    };
    let setup = (runner == Runner::Leader).then(host::die_with_spawner);
    let direct = Direct::of(&output);
    let started =
        direct.and_then(|d| start_programs(&chunks, &hosts, (first_stdin, d), setup, &reaper));
    let mut programs = match started {
        Ok(p) => p,
        Err(e) => {
            report(&e);
            return Outcome {
                status: 127,
                completed: false,
            };
        }
    };
    let runs = connect(chunks, &hosts, &mut programs, output);
    let mut errors = run_chunks(runs);
    let (status, completed) = wait_programs(programs, &mut errors);
    reporter.summarize();
    if let Some(reaper) = reaper.as_ref().filter(|r| r.dying()) {
        // The errors seen (broken pipes, children reaped by the reaper) are the signal's
        // effects; the leader is to die of it, not to exit with a status of its own.
        reaper.wait_for_death();
    }
    if !errors.is_empty() {
        errors.iter().for_each(report);
        return Outcome {
            status: 1,
            completed: false,
        };
    }
    let status = if status == 0 && reporter.error_count() > 0 {
        1
    } else {
        status
    };
    Outcome { status, completed }
}

/// Cuts the pieces at the programs: the chunks of ops around them, and the programs.
fn cut_at_programs(
    source: Option<Box<dyn Source>>,
    pieces: Vec<Piece>,
) -> (Vec<Chunk>, Vec<HostCommand>) {
    let mut chunks = vec![Chunk {
        source,
        filters: Vec::new(),
    }];
    let mut hosts = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Source(s) => chunks.last_mut().expect("a chunk").source = Some(s),
            Piece::Filter(f) => chunks.last_mut().expect("a chunk").filters.push(f),
            Piece::Host(h) => {
                hosts.push(h);
                chunks.push(Chunk::default());
            }
        }
    }
    (chunks, hosts)
}

/// When the pipeline's source is a file and a program reads it with no op between (`< f cat`),
/// the opened file, taken out of the first chunk: the program reads its bytes untouched.
fn raw_first_stdin(
    chunks: &mut [Chunk],
    hosts: &[HostCommand],
) -> Result<Option<std::fs::File>, OpError> {
    let first = &mut chunks[0];
    if hosts.is_empty() || !first.filters.is_empty() {
        return Ok(None);
    }
    let Some(source) = first.source.as_mut() else {
        return Ok(None);
    };
    let file = source.as_stdin()?;
    if file.is_some() {
        first.source = None;
    }
    Ok(file)
}

impl Chunk {
    fn is_empty(&self) -> bool {
        self.source.is_none() && self.filters.is_empty()
    }
}

/// Starts every program, joining neighbours directly where no ops stand between them. On an
/// error, the programs already started are killed and reaped.
fn start_programs(
    chunks: &[Chunk],
    hosts: &[HostCommand],
    (mut first_stdin, mut direct): (Option<std::fs::File>, Direct),
    setup: Option<ChildSetup>,
    reaper: &Option<Reaper>,
) -> Result<Programs, OpError> {
    let mut programs = Programs {
        children: Vec::new(),
        stdins: Vec::new(),
        stdouts: Vec::new(),
    };
    let mut pass_on: Option<ChildStdout> = None;
    for (i, host) in hosts.iter().enumerate() {
        let after = &chunks[i + 1];
        let stdin = match pass_on.take() {
            Some(out) => Stdio::from(out),
            None if i == 0 && chunks[0].is_empty() => {
                first_stdin.take().map_or_else(Stdio::inherit, Stdio::from)
            }
            None => Stdio::piped(),
        };
        let last = i + 1 == hosts.len();
        // The pipeline's `> f` goes after a program's own redirections (`P 2>&1 > f`).
        let mut after_redirects = None;
        let stdout = if last && after.filters.is_empty() {
            match std::mem::replace(&mut direct, Direct::Piped) {
                Direct::Inherit => Stdio::inherit(),
                Direct::File(f) if host.redirects.is_empty() => Stdio::from(f),
                Direct::File(f) => {
                    after_redirects = Some(f);
                    Stdio::inherit()
                }
                Direct::Piped => Stdio::piped(),
            }
        } else {
            Stdio::piped()
        };
        // Held while the program starts, so a dying leader's reaper knows every program.
        let mut listed = reaper.as_ref().map(Reaper::programs);
        let started = match &listed {
            Some(l) if l.dying() => Err(OpError::new(&host.name, "not started: the job is ending")),
            _ => host.spawn((stdin, stdout, after_redirects.as_ref()), setup.clone()),
        };
        let mut child = match started {
            Ok(child) => child,
            Err(e) => {
                drop(listed);
                for mut child in programs.children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return Err(e);
            }
        };
        if let Some(l) = listed.as_mut() {
            l.add(child.id());
        }
        programs.stdins.push(child.stdin.take());
        let out = child.stdout.take();
        if !last && after.filters.is_empty() {
            pass_on = out;
            programs.stdouts.push(None);
        } else {
            programs.stdouts.push(out);
        }
        programs.children.push(child);
    }
    Ok(programs)
}

/// Joins each chunk to its producer (the pipeline's source or a program's output) and its
/// consumer (a program's input or the pipeline's output).
fn connect(
    chunks: Vec<Chunk>,
    hosts: &[HostCommand],
    programs: &mut Programs,
    output: Output,
) -> Vec<ChunkRun> {
    let mut output = Some(output);
    let mut runs = Vec::new();
    let n_chunks = chunks.len();
    for (k, chunk) in chunks.into_iter().enumerate() {
        let producer_host = k.checked_sub(1);
        let producer: Option<Box<dyn Source>> = match producer_host {
            None => chunk.source,
            Some(h) => programs.stdouts[h].take().map(|out| {
                Box::new(StdoutLines {
                    name: hosts[h].name.clone(),
                    stdout: Some(out),
                    closed_early: false,
                }) as Box<dyn Source>
            }),
        };
        let consumer: Option<Box<dyn Sink>> = if k + 1 < n_chunks {
            programs.stdins[k]
                .take()
                .map(|stdin| Box::new(StdinWriter::new(&hosts[k].name, stdin)) as Box<dyn Sink>)
        } else {
            match output.take().expect("one output") {
                Output::Terminal
                    if hosts.is_empty() || !chunk.filters.is_empty() || producer.is_some() =>
                {
                    Some(Box::new(sinks::Printer::new(
                        stdout_is_terminal() || !hosts.is_empty(),
                    )))
                }
                Output::Terminal => None,
                Output::File(f) if hosts.is_empty() || !chunk.filters.is_empty() => {
                    Some(Box::new(f))
                }
                // The last program writes into the file itself.
                Output::File(_) => None,
                Output::Sink(s) => Some(s),
            }
        };
        if let (Some(producer), Some(consumer)) = (producer, consumer) {
            let sink = chunk
                .filters
                .into_iter()
                .rev()
                .fold(consumer, |next, f| f(next));
            let ends_pipeline = producer_host.map_or(0, |h| h + 1) + 1 == n_chunks;
            runs.push((producer, sink, ends_pipeline));
        }
    }
    runs
}

/// Runs the chunks: each on its own thread, but the one that ends the pipeline on this thread
/// (a pipeline that ends with a program runs all its chunks on threads). Returns the errors.
fn run_chunks(mut runs: Vec<ChunkRun>) -> Vec<OpError> {
    let here = match runs.last() {
        Some((_, _, true)) => runs.pop(),
        _ => None,
    };
    let mut errors = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|(mut p, mut s, _)| scope.spawn(move || drive(&mut *p, &mut *s)))
            .collect();
        if let Some((mut p, mut s, _)) = here
            && let Err(e) = drive(&mut *p, &mut *s)
        {
            errors.push(e);
        }
        for h in handles {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push(OpError::new(
                    "",
                    "internal error: a pipeline thread panicked",
                )),
            }
        }
    });
    errors
}

/// Closes the pipes still open (their partner is gone) and waits for every program. Returns
/// the last program's status, as in POSIX shells, and whether every program ended normally:
/// one ended by SIGPIPE had its reader stop early (`yes | head 2`), a normal end.
fn wait_programs(programs: Programs, errors: &mut Vec<OpError>) -> (i32, bool) {
    let Programs {
        children,
        stdins,
        stdouts,
    } = programs;
    drop(stdins);
    drop(stdouts);
    let mut status = 0;
    let mut completed = true;
    for mut child in children {
        match child.wait() {
            Ok(st) => {
                use std::os::unix::process::ExitStatusExt;
                let sigpipe = st.signal() == Some(libc::SIGPIPE);
                if st.signal().is_some() && !sigpipe {
                    completed = false;
                }
                status = if sigpipe { 0 } else { status_code(st) };
            }
            Err(e) => {
                errors.push(OpError::new("", format!("waiting for a program: {e}")));
            }
        }
    }
    (status, completed)
}

/// Runs a source into a sink and ends the stream.
fn drive(source: &mut dyn Source, sink: &mut dyn Sink) -> Result<(), OpError> {
    source.run(sink)?;
    sink.finish()
}

/// Prints a command-stopping error as one line on stderr.
pub fn report(e: &OpError) {
    report_from("marsh", e);
}

/// [`report`] with another prefix than `marsh` (a script's `FILE:LINE`).
pub fn report_from(prefix: impl std::fmt::Display, e: &OpError) {
    use std::io::Write;
    let text = e.to_string();
    let _ = writeln!(
        std::io::stderr().lock(),
        "{prefix}: {}",
        ops::one_line(&text)
    );
}

fn stdout_is_terminal() -> bool {
    nix::unistd::isatty(std::io::stdout()).unwrap_or(false)
}

/// A sink that keeps every item: for tests and for the shell's own use.
#[derive(Default)]
pub struct Collect(pub Arc<std::sync::Mutex<Vec<Value>>>);

impl Sink for Collect {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        self.0.lock().expect("not poisoned").push(item);
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        Ok(())
    }
}

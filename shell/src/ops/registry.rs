//! The table of ops: names, usage lines and help texts, and how each stage is built.

use super::{Built, OpArgs, OpError, red, sources, transforms};

/// Where an op may stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Starts a pipeline (`gen`, `ls`, `timer`).
    Source,
    /// Takes items from the stage before it (`map`, `head`).
    Filter,
    /// Changes or reports on the shell itself and runs in the shell (`cd`, `env`, `exit`).
    Builtin,
}

/// Builds an op's stage from its arguments.
pub type Builder = fn(&OpArgs) -> Result<Built, OpError>;

/// One op: its name, kind, usage, one-line summary, longer help, and builder.
pub struct OpSpec {
    pub name: &'static str,
    pub kind: OpKind,
    pub usage: &'static str,
    pub summary: &'static str,
    pub help: &'static str,
    pub build: Option<Builder>,
}

macro_rules! op {
    ($name:literal, $kind:ident, $usage:literal, $summary:literal, $help:literal, $build:expr) => {
        OpSpec {
            name: $name,
            kind: OpKind::$kind,
            usage: $usage,
            summary: $summary,
            help: $help,
            build: $build,
        }
    };
}

static OPS: &[OpSpec] = &[
    op!(
        "gen",
        Source,
        "gen [COUNT [START]]",
        "generate COUNT integers from START (0: endless)",
        "Yields START, START+1, ... COUNT integers in all; COUNT 0 (or none) never ends.\n\
         Example: gen 5 1  ->  1 2 3 4 5",
        Some(sources::generate)
    ),
    op!(
        "timer",
        Source,
        "timer INTERVAL",
        "yield the time every INTERVAL seconds, forever",
        "Yields the current time (seconds since the epoch, a float) every INTERVAL seconds.\n\
         Example: timer 0.5 | head 3",
        Some(sources::timer)
    ),
    op!(
        "ls",
        Source,
        "ls [-r] [-f|-d] [PATH...]",
        "list files as file values",
        "Yields a file value per entry of each PATH (default: the current directory); a PATH\n\
         that is a file yields itself. -r recurses, -f keeps files only, -d directories only.\n\
         Fields: name path size mtime suffix is_dir is_file is_link mode.\n\
         Example: ls -rf | select (f: f.suffix == 'rs') | map (f: (f.name, f.size))",
        Some(sources::ls)
    ),
    op!(
        "map",
        Filter,
        "map FUNCTION",
        "apply a function to each item",
        "Replaces each item by FUNCTION(item). A function of several parameters receives a\n\
         tuple's fields. A bare function in a pipeline means map.\n\
         Example: gen 3 | map (x: (x, x * x))",
        Some(transforms::map)
    ),
    op!(
        "select",
        Filter,
        "select FUNCTION",
        "keep the items for which a function is true",
        "Example: gen 10 | select (x: x % 3 == 0)",
        Some(transforms::select)
    ),
    op!(
        "red",
        Filter,
        "red [-i] REDUCER...",
        "reduce the stream, per column",
        "One REDUCER per field of the items: + * min max count concat and or, a function\n\
         (acc, x: ...), or . to group by that field. With one reducer a whole item is one field.\n\
         -i yields each item with the running values appended instead of the final result.\n\
         Examples: gen 10 | red +    gen 6 | map (x: (x % 2, x)) | red . +",
        Some(red::build)
    ),
    op!(
        "head",
        Filter,
        "head N",
        "keep the first N items, then stop the producer",
        "Example: gen 0 | head 3   (ends at once)",
        Some(transforms::head)
    ),
    op!(
        "tail",
        Filter,
        "tail N",
        "keep the last N items",
        "Example: gen 10 | tail 2",
        Some(transforms::tail)
    ),
    op!(
        "sort",
        Filter,
        "sort [-r] [KEY]",
        "sort the items (by a key function)",
        "Sorts by value (numbers by value, strings by code point, tuples field by field), or\n\
         by KEY(item). -r reverses. Example: ls | sort (f: f.size)",
        Some(transforms::sort)
    ),
    op!(
        "unique",
        Filter,
        "unique",
        "drop repeated items (keeps the first)",
        "Example: gen 10 | map (x: x % 3) | unique",
        Some(transforms::unique)
    ),
    op!(
        "reverse",
        Filter,
        "reverse",
        "reverse the stream",
        "Example: gen 3 | reverse",
        Some(transforms::reverse)
    ),
    op!(
        "expand",
        Filter,
        "expand [POSITION]",
        "spread a tuple or list into items",
        "Without POSITION each tuple or list item becomes its elements, one item each. With\n\
         POSITION the list in that field is spread, the other fields repeated.\n\
         Example: gen 2 | map (x: (x, [1, 2])) | expand 1",
        Some(transforms::expand)
    ),
    op!(
        "window",
        Filter,
        "window -o N | -d N",
        "group items into tuples of N",
        "-o N: overlapping windows (each item starts one); -d N: disjoint windows. Short\n\
         windows at the end are padded with none. Example: gen 5 | window -d 2",
        Some(transforms::window)
    ),
    op!(
        "store",
        Filter,
        "store [-a] VAR",
        "store the stream in reservoir VAR (same as >$ VAR)",
        "P | store x is P >$ x; store -a x is P >>$ x. Example: gen 5 | store x",
        None
    ),
    op!(
        "load",
        Source,
        "load VAR",
        "stream the items of reservoir VAR (same as VAR <$)",
        "Example: load x | head 3",
        None
    ),
    op!(
        "cd",
        Builtin,
        "cd [DIR]",
        "change the current directory (default: home)",
        "",
        None
    ),
    op!(
        "pwd",
        Builtin,
        "pwd",
        "the current directory, as an item",
        "",
        None
    ),
    op!(
        "env",
        Builtin,
        "env [-d NAME]",
        "print the variables, or delete one",
        "Prints one line per variable, sorted by name: NAME = VALUE, where VALUE is a literal\n\
         ('text', 12, 1.5, (1, 'a'), [1, 2], none, true) or, for a reservoir,\n\
         reservoir N items, B bytes: FILE [FILE...]. env -d NAME deletes NAME.",
        None
    ),
    op!(
        "help",
        Builtin,
        "help [OP]",
        "this overview, or the help of one op",
        "",
        None
    ),
    op!(
        "version",
        Builtin,
        "version",
        "print marsh's version",
        "",
        None
    ),
    op!(
        "exit",
        Builtin,
        "exit [STATUS]",
        "leave marsh (warns once when jobs remain)",
        "With stopped or running jobs, the first exit warns; a second one in a row ends them\n\
         (SIGHUP, then SIGCONT) and leaves. ctrl-d on an empty line is exit.",
        None
    ),
    op!(
        "jobs",
        Builtin,
        "jobs [-l|-p] [-r|-s] [%JOB...]",
        "list jobs",
        "One line per job, as bash prints it: [1]+  Stopped                 sleep 30.\n\
         -l adds the pids of every member, -p prints process groups only; -r running\n\
         jobs only, -s stopped ones only. + marks the current job, - the previous.",
        None
    ),
    op!(
        "fg",
        Builtin,
        "fg [%JOB]",
        "continue a job in the foreground",
        "Job specs: %n, %% or %+ (current), %- (previous), %name (command starts with name),\n\
         %?text (command contains text).",
        None
    ),
    op!(
        "bg",
        Builtin,
        "bg [%JOB]",
        "continue a stopped job in the background",
        "",
        None
    ),
    op!(
        "kill",
        Builtin,
        "kill [-s SIG | -SIG] %JOB|PID...",
        "send a signal (default TERM)",
        "A job's whole process group gets the signal; a stopped job sent TERM or HUP is also\n\
         continued, so it can act on it. Example: kill -KILL %1",
        None
    ),
    op!(
        "wait",
        Builtin,
        "wait [%JOB|PID]",
        "wait for a background job (or all of them)",
        "STATUS becomes the job's status. ctrl-c stops waiting (STATUS 130); the jobs go on.",
        None
    ),
];

/// The overview `help` prints before the list of ops.
pub const HELP_OVERVIEW: &str = "\
marsh: pipelines of ops over streams of values.
  gen 5 | map (x: x * 10) | red +      ops joined by |, functions written inline
  gen 3 | (x: (x, x * x))              a bare function means map
  gen 1000 >$ x    x <$ head 3         store a stream in a variable, read it back
  ls -r | select (f: f.suffix == 'rs') | map (f: f.name)
  x = (1 + 2)    name = word            variables; STATUS holds the last status
  grep foo < notes.txt                 any other word runs a program on PATH
Programs whose names are ops run by path: /bin/ls -l. See docs/language.md.
";

/// The op called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static OpSpec> {
    OPS.iter().find(|op| op.name == name)
}

/// Every op name, for completion and `help`.
pub fn names() -> impl Iterator<Item = &'static str> {
    OPS.iter().map(|op| op.name)
}

/// The text `help` prints: the overview, or one op's usage and help.
pub fn help_text(op: Option<&str>) -> Result<String, OpError> {
    match op {
        None => {
            let mut out = String::from(HELP_OVERVIEW);
            out.push_str("\nOps:\n");
            for spec in OPS {
                out.push_str(&format!("  {:<28} {}\n", spec.usage, spec.summary));
            }
            Ok(out)
        }
        Some(name) => {
            let spec =
                find(name).ok_or_else(|| OpError::new("help", format!("no op named '{name}'")))?;
            let mut out = format!("{}\n  {}\n", spec.usage, spec.summary);
            if !spec.help.is_empty() {
                for line in spec.help.lines() {
                    out.push_str(&format!("  {}\n", line.trim_start()));
                }
            }
            Ok(out)
        }
    }
}

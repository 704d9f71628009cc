//! The table of ops: names, usage lines and help texts, and what each op is.
//!
//! An op's [`Role`] says where it may stand and carries what runs it, so the two cannot
//! disagree: a source or filter carries its builder, a builtin names the shell's handler.

use super::{Filter, OpArgs, OpError, Source, data, red, sets, sources, transforms};

/// Builds a source stage from its arguments.
pub type SourceBuilder = fn(&OpArgs) -> Result<Box<dyn Source>, OpError>;
/// Builds a filter stage from its arguments.
pub type FilterBuilder = fn(&OpArgs) -> Result<Filter, OpError>;

/// What an op is: where it may stand in a command, and what runs it.
#[derive(Clone, Copy)]
pub enum Role {
    /// Starts a pipeline (`gen`, `ls`, `timer`).
    Source(SourceBuilder),
    /// Takes items from the stage before it (`map`, `head`).
    Filter(FilterBuilder),
    /// Starts a pipeline from its arguments, or takes items when it stands later (`read`).
    SourceOrFilter(SourceBuilder, FilterBuilder),
    /// `store [-a] VAR`, the word for a pipeline's `>$ VAR` end; rewritten before building.
    Store,
    /// `load VAR`, the word for a pipeline's `VAR <$` start; rewritten before building.
    Load,
    /// Changes or reports on the shell itself and runs in the shell (`cd`, `env`, `exit`).
    Builtin(Builtin),
}

/// The ops that run in the shell itself; `shell::builtins` holds their handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Cd,
    Pushd,
    Popd,
    Dirs,
    Env,
    Export,
    Unset,
    Help,
    Version,
    Exit,
    Jobs,
    Fg,
    Bg,
    Kill,
    Wait,
    Trap,
    Disown,
    Eval,
}

/// One op: its name, role, usage, one-line summary and longer help.
pub struct OpSpec {
    pub name: &'static str,
    pub role: Role,
    pub usage: &'static str,
    pub summary: &'static str,
    pub help: &'static str,
}

impl OpSpec {
    /// The builtin this op is, if it runs in the shell.
    pub fn builtin(&self) -> Option<Builtin> {
        match self.role {
            Role::Builtin(b) => Some(b),
            _ => None,
        }
    }
}

macro_rules! op {
    ($name:literal, $role:expr, $usage:literal, $summary:literal, $help:literal) => {
        OpSpec {
            name: $name,
            role: $role,
            usage: $usage,
            summary: $summary,
            help: $help,
        }
    };
}

static OPS: &[OpSpec] = &[
    op!(
        "gen",
        Role::Source(sources::generate),
        "gen [COUNT [START]]",
        "generate COUNT integers from START (0: endless)",
        "Yields START, START+1, ... COUNT integers in all; COUNT 0 (or none) never ends.\n\
         Example: gen 5 1  ->  1 2 3 4 5"
    ),
    op!(
        "timer",
        Role::Source(sources::timer),
        "timer INTERVAL",
        "yield the time every INTERVAL seconds, forever",
        "Yields the current time (seconds since the epoch, a float) every INTERVAL seconds.\n\
         Example: timer 0.5 | head 3"
    ),
    op!(
        "ls",
        Role::Source(sources::ls),
        "ls [-r] [-f|-d] [PATH...]",
        "list files as file values",
        "Yields a file value per entry of each PATH (default: the current directory); a PATH\n\
         that is a file yields itself. -r recurses, -f keeps files only, -d directories only.\n\
         Fields: name path size mtime suffix is_dir is_file is_link mode.\n\
         Example: ls -rf | select (f: f.suffix == 'rs') | map (f: (f.name, f.size))"
    ),
    op!(
        "read",
        Role::SourceOrFilter(data::read_source, data::read_filter),
        "read [--csv|--tsv|--json|--jsonl] [--headers] [--numbers] [FILE...]",
        "read files as lines, records or JSON values",
        "Reads each FILE, or each file item from upstream: ls *.csv | read --csv. Strings from\n\
         upstream are text in the format, parsed as one input named <input> in messages:\n\
         curl -s URL | read --json, < t.csv read --csv. Without a format flag each line is a\n\
         string. --csv and --tsv give a tuple of strings\n\
         per record (quotes, embedded line breaks and empty fields as Python's csv reads them);\n\
         --headers takes the first record as field names and gives a dict per record (a record\n\
         with another number of fields is an error); --numbers makes fields that are integers\n\
         or decimal numbers ints and floats. --json reads one document: an array gives one item\n\
         per element, anything else one item; --jsonl one item per line (blank lines skipped).\n\
         JSON keeps its types (null is none, objects are dicts in their order). Malformed input\n\
         stops with FILE:LINE:COLUMN: message and STATUS 1.\n\
         Example: read --csv --headers people.csv | select (p: p['city'] == 'Oslo')"
    ),
    op!(
        "write",
        Role::Filter(data::write),
        "write [--csv|--tsv|--json|--jsonl|--format FMT]",
        "format items as CSV, TSV, JSON or a template",
        "Turns each item into lines of text, for the terminal, > file or a program. --csv and\n\
         --tsv: a tuple or list is a record of its fields, a dict a record under a header (the\n\
         first dict's keys, written once), anything else one field; none is an empty field, a\n\
         string its own bytes. --json: one JSON array, an element per line; --jsonl: one JSON\n\
         value per line (tuples and lists are arrays, dicts objects). --format FMT: Python's\n\
         str.format style, {} the next field, {0} field 0, {name} a dict's key, {{ a brace.\n\
         Without a flag, items as they print. An item that cannot be written is reported and\n\
         skipped. Example: gen 3 | map (x: {'n': x}) | write --csv > n.csv"
    ),
    op!(
        "map",
        Role::Filter(transforms::map),
        "map FUNCTION",
        "apply a function to each item",
        "Replaces each item by FUNCTION(item). A function of several parameters receives a\n\
         tuple's fields. A bare function in a pipeline means map.\n\
         Example: gen 3 | map (x: (x, x * x))"
    ),
    op!(
        "select",
        Role::Filter(transforms::select),
        "select FUNCTION",
        "keep the items for which a function is true",
        "Example: gen 10 | select (x: x % 3 == 0)"
    ),
    op!(
        "red",
        Role::Filter(red::build),
        "red [-i] REDUCER...",
        "reduce the stream, per column",
        "One REDUCER per field of the items: + * min max count concat and or, a function\n\
         (acc, x: ...), or . to group by that field. With one reducer a whole item is one field.\n\
         -i yields each item with the running values appended instead of the final result.\n\
         Examples: gen 10 | red +    gen 6 | map (x: (x % 2, x)) | red . +"
    ),
    op!(
        "squish",
        Role::Filter(red::squish),
        "squish [REDUCER]",
        "reduce each item's fields to one value (default +)",
        "A tuple's fields (or a list's elements) are reduced by REDUCER, one of red's: + * min\n\
         max count concat and or, or a function (acc, x: ...). An item with no fields gives\n\
         none (count: 0). Example: gen 3 | map (x: (x, x * 10)) | squish   ->  0 11 22"
    ),
    op!(
        "head",
        Role::Filter(transforms::head),
        "head N",
        "keep the first N items, then stop the producer",
        "Example: gen 0 | head 3   (ends at once)"
    ),
    op!(
        "tail",
        Role::Filter(transforms::tail),
        "tail N",
        "keep the last N items",
        "Example: gen 10 | tail 2"
    ),
    op!(
        "sort",
        Role::Filter(transforms::sort),
        "sort [-r] [KEY]",
        "sort the items (by a key function)",
        "Sorts by value (numbers by value, strings by code point, tuples field by field), or\n\
         by KEY(item). -r reverses. Example: ls | sort (f: f.size)"
    ),
    op!(
        "unique",
        Role::Filter(transforms::unique),
        "unique",
        "drop repeated items (keeps the first)",
        "Example: gen 10 | map (x: x % 3) | unique"
    ),
    op!(
        "reverse",
        Role::Filter(transforms::reverse),
        "reverse",
        "reverse the stream",
        "Example: gen 3 | reverse"
    ),
    op!(
        "expand",
        Role::Filter(transforms::expand),
        "expand [POSITION]",
        "spread a tuple, list or dict into items",
        "Without POSITION each tuple or list item becomes its elements, one item each, and a\n\
         dict one (key, value) tuple per pair, in the dict's order. With POSITION the list\n\
         (or dict) in that field is spread, the other fields repeated.\n\
         Example: gen 2 | map (x: (x, [1, 2])) | expand 1"
    ),
    op!(
        "window",
        Role::Filter(transforms::window),
        "window -o N | -d N",
        "group items into tuples of N",
        "-o N: overlapping windows (each item starts one); -d N: disjoint windows. Short\n\
         windows at the end are padded with none. Example: gen 5 | window -d 2"
    ),
    op!(
        "union",
        Role::Filter(sets::union),
        "union R...",
        "the items of the input, then those of each reservoir R",
        "Duplicates are kept. Example: gen 3 | union r"
    ),
    op!(
        "intersect",
        Role::Filter(sets::intersect),
        "intersect R...",
        "the input's items that every reservoir R holds too",
        "Counted as multisets: an item the input holds 3 times and each R twice comes out\n\
         twice. Items keep the input's order. Example: gen 10 | intersect evens"
    ),
    op!(
        "difference",
        Role::Filter(sets::difference),
        "difference R...",
        "the input's items that no reservoir R holds",
        "Counted as multisets: each copy in an R takes away one copy of the input. Items keep\n\
         the input's order. Example: gen 10 | difference evens"
    ),
    op!(
        "join",
        Role::Filter(sets::join),
        "join [-k] R",
        "join items with reservoir R on their first field",
        "An input item (k, a...) and an item (k, b...) of R give (k, a..., b...), once per\n\
         match in R's order; -k keeps input items that match nothing. A scalar item is its own\n\
         first field; an item with no fields is an error.\n\
         Example: gen 3 | map (x: (x, x * x)) >$ sq    gen 3 | map (x: (x, -x)) | join sq"
    ),
    op!(
        "store",
        Role::Store,
        "store [-a] VAR",
        "store the stream in reservoir VAR (same as >$ VAR)",
        "P | store x is P >$ x; store -a x is P >>$ x. Example: gen 5 | store x"
    ),
    op!(
        "load",
        Role::Load,
        "load VAR",
        "stream the items of reservoir VAR (same as VAR <$)",
        "Example: load x | head 3"
    ),
    op!(
        "cd",
        Role::Builtin(Builtin::Cd),
        "cd [DIR | -]",
        "change the current directory (default: home; -: the previous one)",
        "cd - goes back to where the shell was before its last change of directory (cd,\n\
         pushd or popd) and prints it. Example: cd /tmp; cd -"
    ),
    op!(
        "pwd",
        Role::Source(sources::pwd),
        "pwd",
        "the current directory, as a file item",
        "Yields one file value, the current directory: pwd | map (f: f.name).\n\
         Standing alone it prints the directory's path."
    ),
    op!(
        "pushd",
        Role::Builtin(Builtin::Pushd),
        "pushd [DIR]",
        "go to DIR, keeping the current directory on the stack",
        "Without DIR, swaps the current directory and the top of the stack. Prints the stack as\n\
         dirs does. Example: pushd /tmp; popd"
    ),
    op!(
        "popd",
        Role::Builtin(Builtin::Popd),
        "popd",
        "go to the directory on top of the stack and take it off",
        "Prints the stack as dirs does; an empty stack is an error."
    ),
    op!(
        "dirs",
        Role::Builtin(Builtin::Dirs),
        "dirs [-c]",
        "print the current directory and the directory stack",
        "One directory per line, the current one first, then the stack from its top. -c\n\
         empties the stack."
    ),
    op!(
        "env",
        Role::Builtin(Builtin::Env),
        "env [-x | -d NAME]",
        "print the variables or the environment, or delete a variable",
        "Prints one line per variable, sorted by name: NAME = VALUE, where VALUE is a literal\n\
         ('text', 12, 1.5, (1, 'a'), [1, 2], none, true) or, for a reservoir,\n\
         reservoir N items, B bytes: FILE [FILE...]. env -d NAME deletes NAME.\n\
         env -x prints the exported environment programs get, NAME=VALUE per line."
    ),
    op!(
        "export",
        Role::Builtin(Builtin::Export),
        "export [NAME=VALUE | NAME]...",
        "put variables in the environment of programs",
        "export NAME=VALUE exports VALUE; export NAME exports marsh variable NAME as its text.\n\
         Assigning NAME = ... to an exported name exports the new value. With no argument,\n\
         prints the environment as env -x does. Example: export EDITOR=vim"
    ),
    op!(
        "unset",
        Role::Builtin(Builtin::Unset),
        "unset NAME...",
        "remove names from the environment and the variables",
        "After unset NAME, $NAME expands to nothing and programs no longer see NAME."
    ),
    op!(
        "help",
        Role::Builtin(Builtin::Help),
        "help [OP]",
        "this overview, or the help of one op",
        ""
    ),
    op!(
        "version",
        Role::Builtin(Builtin::Version),
        "version",
        "print marsh's version",
        ""
    ),
    op!(
        "exit",
        Role::Builtin(Builtin::Exit),
        "exit [STATUS]",
        "leave marsh (warns once when jobs remain)",
        "With stopped or running jobs, the first exit warns; a second one in a row ends them\n\
         (SIGHUP, then SIGCONT) and leaves. ctrl-d on an empty line is exit."
    ),
    op!(
        "jobs",
        Role::Builtin(Builtin::Jobs),
        "jobs [-l|-p] [-r|-s] [%JOB...]",
        "list jobs",
        "One line per job, as bash prints it: [1]+  Stopped                 sleep 30.\n\
         -l adds the pids of every member, -p prints process groups only; -r running\n\
         jobs only, -s stopped ones only. + marks the current job, - the previous."
    ),
    op!(
        "fg",
        Role::Builtin(Builtin::Fg),
        "fg [%JOB]",
        "continue a job in the foreground",
        "Job specs: %n, %% or %+ (current), %- (previous), %name (command starts with name),\n\
         %?text (command contains text)."
    ),
    op!(
        "bg",
        Role::Builtin(Builtin::Bg),
        "bg [%JOB]",
        "continue a stopped job in the background",
        ""
    ),
    op!(
        "kill",
        Role::Builtin(Builtin::Kill),
        "kill [-s SIG | -SIG] %JOB|PID...",
        "send a signal (default TERM)",
        "A job's whole process group gets the signal; a stopped job sent TERM or HUP is also\n\
         continued, so it can act on it. Example: kill -KILL %1"
    ),
    op!(
        "wait",
        Role::Builtin(Builtin::Wait),
        "wait [%JOB|PID] | wait -n [%JOB|PID...]",
        "wait for a background job (or all of them; -n: the next to end)",
        "STATUS becomes the job's status. -n returns when the first of the jobs named (or of\n\
         all background jobs) ends, with its status; 127 at once when none is running (a\n\
         stopped job does not count). ctrl-c stops waiting (STATUS 130); the jobs go on.\n\
         A trapped signal stops it too: its trap runs and STATUS is 128 + the signal's number."
    ),
    op!(
        "disown",
        Role::Builtin(Builtin::Disown),
        "disown [-a] [%JOB...]",
        "forget a job (default: the current one; -a: all) without signalling it",
        "The job keeps running, jobs no longer lists it, and exit does not hang it up. A\n\
         stopped job stays stopped (a warning says how to continue it). Only a job of\n\
         programs can be disowned: one that runs ops, or a group or loop, ends with marsh."
    ),
    op!(
        "eval",
        Role::Builtin(Builtin::Eval),
        "eval WORD...",
        "run the words, joined by spaces, as a marsh command line",
        "It runs in this shell: assignments stay, pipelines are jobs as a typed line's are,\n\
         and a job killed by ctrl-c drops the rest of the line eval stands in too.\n\
         Example: cmd = 'gen 3'; eval $cmd '| map (x: x * 2)'"
    ),
    op!(
        "trap",
        Role::Builtin(Builtin::Trap),
        "trap ['LIST' | '' | -] SIG...",
        "run LIST when a signal arrives (or at EXIT)",
        "SIG: HUP INT QUIT USR1 USR2 ALRM TERM (with or without SIG, or the number), or EXIT.\n\
         trap 'echo bye' EXIT    trap '' QUIT (ignore it)    trap - INT (back to marsh's own)\n\
         trap alone lists the traps. LIST runs in the shell between commands or at the prompt;\n\
         STATUS is kept across it. KILL and STOP cannot be trapped."
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
  export EDITOR=vim    TZ=UTC date     the environment of programs (env -x lists it)
  read --csv --headers f.csv | write --json
                                       CSV, TSV, JSON in and out as values
  grep foo < notes.txt                 any other word runs a program on PATH
  make 2> errs    make > log 2>&1      redirections: < > >> N> N>> N>&M N>&- &> 2>&1 |
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_each_builtin_has_one_op() {
        let mut names: Vec<_> = names().collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "an op name appears twice");
        let builtins: Vec<Builtin> = OPS.iter().filter_map(OpSpec::builtin).collect();
        for b in [
            Builtin::Cd,
            Builtin::Pushd,
            Builtin::Popd,
            Builtin::Dirs,
            Builtin::Env,
            Builtin::Export,
            Builtin::Unset,
            Builtin::Help,
            Builtin::Version,
            Builtin::Exit,
            Builtin::Jobs,
            Builtin::Fg,
            Builtin::Bg,
            Builtin::Kill,
            Builtin::Wait,
            Builtin::Trap,
            Builtin::Disown,
            Builtin::Eval,
        ] {
            assert_eq!(builtins.iter().filter(|x| **x == b).count(), 1, "{b:?}");
        }
    }

    #[test]
    fn every_usage_line_starts_with_its_name() {
        for spec in OPS {
            assert!(spec.usage.starts_with(spec.name), "{}", spec.usage);
        }
    }
}

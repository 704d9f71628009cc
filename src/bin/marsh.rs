//! `marsh`: the stream shell. See `docs/language.md`.

use clap::Parser;
use std::os::unix::ffi::OsStrExt;

/// marsh: pipelines of ops over streams of values, with real job control.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Run COMMAND (one command per line), the first operand, instead of a FILE, and exit
    /// with its status.
    #[arg(short = 'c')]
    command: bool,
    /// FILE (or, with -c, COMMAND), then ARGS: the file's path goes in SCRIPT, the ARGS in
    /// ARGV (a list of str). Everything after FILE or COMMAND is an ARG, options included.
    #[arg(
        value_name = "FILE|COMMAND ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<std::ffi::OsString>,
}

fn main() {
    let args = Args::parse();
    let mut rest = args.rest.into_iter();
    let mode = match (args.command, rest.next()) {
        (true, Some(text)) => marsh::cli::Mode::Command {
            // Bytes that are not UTF-8 are held losslessly, as in a script's lines.
            text: marsh::value::raw::decode(text.as_bytes()).into_owned(),
            args: rest.collect(),
        },
        (true, None) => {
            eprintln!("marsh: -c needs a COMMAND (usage: marsh -c COMMAND [ARGS...])");
            std::process::exit(2);
        }
        (false, Some(path)) => marsh::cli::Mode::Script {
            path: path.into(),
            args: rest.collect(),
        },
        (false, None) => marsh::cli::Mode::Stdin,
    };
    std::process::exit(marsh::cli::run(mode));
}

//! `marsh`: the stream shell. See `docs/language.md`.

use clap::Parser;

/// marsh: pipelines of ops over streams of values, with real job control.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Run COMMAND (one command per line) and exit with its status.
    #[arg(short = 'c', value_name = "COMMAND", conflicts_with = "file")]
    command: Option<String>,
    /// Run the commands in FILE, one per line.
    file: Option<std::path::PathBuf>,
}

fn main() {
    let args = Args::parse();
    let mode = match (args.command, args.file) {
        (Some(c), _) => marsh::cli::Mode::Command(c),
        (None, Some(f)) => marsh::cli::Mode::Script(f),
        (None, None) => marsh::cli::Mode::Stdin,
    };
    std::process::exit(marsh::cli::run(mode));
}

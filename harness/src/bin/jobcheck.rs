//! jobcheck: run job-control scenarios against shells under a pty (see `jobcheck --help`).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::{Parser, Subcommand};
use jobcheck::Adapter;
use jobcheck::catalogue::Catalogue;
use jobcheck::report::{self, RunInfo, ScenarioInfo};
use jobcheck::scenario::Verdict;
use jobcheck::suite;
use nix::sys::signal::Signal;

#[derive(Parser)]
#[command(
    name = "jobcheck",
    about = "Drive shells under a pseudo-terminal and check their job control"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run scenarios (all under --fixtures, or those named) against shells.
    Run(RunArgs),
    /// List the shells: installed or not, and their versions. With --shell, only those: an
    /// adapter file is loaded and checked, so this validates a new adapter.
    Shells(ShellsArgs),
    /// Interactive latencies side by side: start, /bin/true round trip, ^C and ^Z -> prompt,
    /// fg -> output resumes (and for marsh, ^C of a 10M-item store -> prompt with the rollback
    /// done). Medians; ratios to the last shell named. A shell that fails is reported and
    /// skipped (exit status 1 at the end).
    Latency(LatencyArgs),
    /// ^C -> prompt latency: jobcheck's driver vs a minimal raw poll loop (medians).
    Bench(BenchArgs),
    /// Many background jobs: start N `sleep 1000 &`, then time `jobs`, `fg %k` + ^C, and the
    /// notices when all are killed (medians).
    ManyJobs(ManyJobsArgs),
    /// Start the shell of an adapter (a file or a built-in name) and check what every scenario
    /// needs: a numbered prompt that grows after a command, after ^C and after ^Z of a
    /// foreground sleep, job control, the status command. Each failure says what to change.
    CheckAdapter(CheckAdapterArgs),
    /// Write a starting adapter NAME.toml for PROGRAM by probing it (then check-adapter it).
    Init(InitArgs),
}

/// The arguments of `jobcheck check-adapter`.
#[derive(clap::Args)]
struct CheckAdapterArgs {
    /// An adapter TOML file or a built-in shell name.
    adapter: String,
    /// Deadline of every wait, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

/// The arguments of `jobcheck init`.
#[derive(clap::Args)]
struct InitArgs {
    /// The shell's name (in test names, annotations and its prompt).
    name: String,
    /// Its executable (in PATH or a path).
    program: String,
    /// Where to write the adapter (default: NAME.toml); an existing file is kept unless --force.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Overwrite the output file.
    #[arg(long)]
    force: bool,
}

/// The arguments of `jobcheck run`.
#[derive(clap::Args)]
struct RunArgs {
    /// A built-in shell (marsh, bash, dash, zsh, mksh, ksh93, fish, yash, ash, tcsh), a
    /// shipped one (brush) or an adapter TOML file; repeatable. Default: every built-in shell.
    #[arg(long = "shell", value_name = "NAME")]
    shells: Vec<String>,
    /// Run each pair N times (flakiness check).
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Run up to N pairs at once (0: as many as there are cores). Output and reports are in
    /// the catalogue's order whatever N is.
    #[arg(long, short, value_name = "N", default_value_t = 1)]
    jobs: usize,
    /// Directory of scenario files (default: the catalogue compiled into jobcheck).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// An expectations overlay (a shell project's annotations, step variants and
    /// snapshots; format: jobcheck::overlay); repeatable.
    #[arg(long = "expectations", value_name = "FILE")]
    expectations: Vec<PathBuf>,
    /// Write snapshots that are new or differ as the accepted ones (into the catalogue's
    /// snapshots/ directory) instead of failing.
    #[arg(long)]
    accept: bool,
    /// Where to write the markdown conformance matrix (default: ARTIFACTS/conformance.md).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Where to write JUnit XML (default: ARTIFACTS/junit.xml).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Directory for the HTML report, DIR/conformance.html: the matrix with every pair's
    /// evidence and replays, one self-contained page (default: ARTIFACTS).
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
    /// Directory for the asciicast recordings of failures and the default reports
    /// (default: $JOBCHECK_ARTIFACTS, else target/jobcheck).
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// On a terminal, print every run's line above the progress line (not only failures').
    /// Elsewhere every line is printed anyway.
    #[arg(long, short)]
    verbose: bool,
    /// Scenario names (e.g. posix/stop-pipeline-one-job); default: all.
    scenarios: Vec<String>,
}

/// The arguments of `jobcheck shells`.
#[derive(clap::Args)]
struct ShellsArgs {
    /// A built-in shell or an adapter TOML file; repeatable. Default: every built-in shell.
    #[arg(long = "shell", value_name = "NAME")]
    shells: Vec<String>,
}

/// The arguments of `jobcheck latency`.
#[derive(clap::Args)]
struct LatencyArgs {
    /// Shells to measure (built-in names or adapter TOML files), e.g. --shell marsh --shell bash.
    #[arg(long = "shell", value_name = "NAME", required = true)]
    shells: Vec<String>,
    /// Cycles per measurement.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Also write every sample as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// The arguments of `jobcheck bench`.
#[derive(clap::Args)]
struct BenchArgs {
    /// Shell (built-in name or adapter TOML file).
    #[arg(long = "shell", default_value = "bash")]
    shell: String,
    /// Cycles per measurement.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Also write every sample as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// The arguments of `jobcheck many-jobs`.
#[derive(clap::Args)]
struct ManyJobsArgs {
    /// Shells (built-in names or adapter TOML files).
    #[arg(long = "shell", value_name = "NAME", required = true)]
    shells: Vec<String>,
    /// Numbers of jobs (repeatable), e.g. --count 100 --count 1000.
    #[arg(long = "count", value_name = "N", required = true)]
    counts: Vec<usize>,
    /// Repetitions of `jobs` and of `fg %k` per count.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also write every sample as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

fn adapter(name: &str) -> Result<Adapter, String> {
    if name.ends_with(".toml") {
        return Adapter::load(std::path::Path::new(name)).map_err(|e| e.to_string());
    }
    jobcheck::shells::by_name(name).ok_or_else(|| {
        let known = jobcheck::shells::known_names();
        let hint = jobcheck::scenario::closest(name, known.iter().map(String::as_str))
            .map_or(String::new(), |c| format!(" (did you mean `{c}`?)"));
        format!(
            "unknown shell `{name}`{hint}: give a built-in name ({}) or an adapter file NAME.toml",
            known.join(", ")
        )
    })
}

/// The adapters `--shell` names (built-in names or adapter files), or every built-in one.
fn adapters_named(shells: &[String]) -> Result<Vec<Adapter>, String> {
    if shells.is_empty() {
        return Ok(jobcheck::shells::builtin());
    }
    shells.iter().map(|s| adapter(s)).collect()
}

/// Writes `doc` to the `--json` file, if one was asked for; a failure is reported here and
/// becomes exit status 2.
fn write_json(path: Option<&std::path::Path>, doc: serde_json::Value) -> Result<(), ExitCode> {
    let Some(path) = path else {
        return Ok(());
    };
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(
            path,
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
        )
    };
    write().map_err(|e| {
        eprintln!("jobcheck: {}: {e}", path.display());
        ExitCode::from(2)
    })
}

/// The catalogue (`--fixtures DIR` or the built-in one) with the overlays applied, and the
/// plan of a run.
fn load_plan(
    fixtures: Option<&std::path::Path>,
    overlays: &[PathBuf],
    shells: &[String],
    scenarios: &[String],
) -> Result<(Catalogue, suite::Plan), String> {
    let mut catalogue = match fixtures {
        Some(dir) => Catalogue::from_dir(dir),
        None => Catalogue::builtin(),
    }
    .map_err(|e| e.to_string())?;
    for path in overlays {
        let overlay = jobcheck::overlay::Overlay::load(path).map_err(|e| e.to_string())?;
        overlay.apply(&mut catalogue).map_err(|e| e.to_string())?;
    }
    let adapters = adapters_named(shells)?;
    let plan = suite::plan(&catalogue, adapters, scenarios).map_err(|e| e.to_string())?;
    Ok((catalogue, plan))
}

/// The line of a skipped pair or of a run (a failure's whole report after its line).
fn event_line(e: &suite::RunEvent<'_>) -> String {
    use suite::{PairOutcome, RunEvent};
    let (pair, run, of, outcome, millis) = match e {
        RunEvent::Skipped { pair, reason } => {
            return format!("SKIP  {}  ({reason})", pair.name);
        }
        RunEvent::Ran {
            pair,
            run,
            of,
            outcome,
            millis,
        } => (*pair, *run, *of, *outcome, *millis),
    };
    let label = if of > 1 {
        format!("{} #{run}", pair.name)
    } else {
        pair.name.clone()
    };
    let bug = pair
        .annotation
        .as_ref()
        .filter(|a| a.verdict == Verdict::Bug);
    match (outcome, bug) {
        (PairOutcome::Passed, Some(_)) => {
            format!("BUG   {label}  {millis:.0} ms (known bug, passed this time)")
        }
        (PairOutcome::Passed, None) => format!("PASS  {label}  {millis:.0} ms"),
        (PairOutcome::Accepted { path }, _) => {
            format!(
                "PASS  {label}  {millis:.0} ms (snapshot accepted: {})",
                path.display()
            )
        }
        (PairOutcome::Failed(_), Some(a)) => format!("BUG   {label}  (known: {})", a.reason),
        (PairOutcome::Failed(f), None) => format!("FAIL  {label}  {millis:.0} ms\n{f}"),
        (PairOutcome::NewSnapshot { name, unwritten }, _) => match unwritten {
            None => format!("NEW   {label}  new snapshot {name} (accept it with --accept)"),
            Some(why) => format!("NEW   {label}  new snapshot {name}, not written: {why}"),
        },
    }
}

/// `jobcheck run …` as typed (program name without its directory), for the report header.
fn command_line() -> String {
    let mut args = std::env::args();
    let prog = args
        .next()
        .map(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or(p)
        })
        .unwrap_or_else(|| "jobcheck".into());
    std::iter::once(prog)
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Under `cargo run --bin jobcheck` in this workspace cargo builds only jobcheck: build what
/// scenarios run beside it (`marsh` of the root package, `jobprobe`) with the same profile, so
/// that the README's first command runs the whole suite on a fresh clone, and never a marsh
/// older than its sources. Installed elsewhere (no cargo, no workspace), this does nothing.
fn build_siblings(dir: &std::path::Path) {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return;
    };
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let in_target = dir.ancestors().any(|a| a.join("CACHEDIR.TAG").is_file());
    if !in_target || !workspace.is_file() {
        return;
    }
    let mut cmd = std::process::Command::new(cargo);
    cmd.args([
        "build", "--quiet", "--locked", "--bin", "marsh", "--bin", "jobprobe",
    ])
    .arg("--manifest-path")
    .arg(&workspace);
    match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(profile) => {
            cmd.args(["--profile", profile]);
        }
    }
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => {
            eprintln!("jobcheck: building marsh and jobprobe failed ({s}); scenarios may fail")
        }
        Err(e) => eprintln!("jobcheck: cannot run cargo to build marsh and jobprobe: {e}"),
    }
}

/// Runs of the current `jobcheck run` finished, and planned (for the line of an interruption).
static RUNS_DONE: AtomicUsize = AtomicUsize::new(0);
static RUNS_PLANNED: AtomicUsize = AtomicUsize::new(0);

/// The line written when a signal ends jobcheck (after its sessions were torn down).
fn interrupted_line(sig: Signal, done: &jobcheck::interrupt::Teardown) -> String {
    let planned = RUNS_PLANNED.load(Ordering::SeqCst);
    let progress = if planned > 0 {
        format!(
            " after {} of {planned} runs",
            RUNS_DONE.load(Ordering::SeqCst)
        )
    } else {
        String::new()
    };
    // On a terminal the progress line is on the current line: start below it.
    let newline = if std::io::stdout().is_terminal() {
        "\n"
    } else {
        ""
    };
    let sessions = match done.sessions {
        1 => "1 live session".to_string(),
        n => format!("{n} live sessions"),
    };
    format!(
        "{newline}jobcheck: interrupted by {}{progress}: {sessions} torn down; run incomplete, no report written",
        sig.as_str()
    )
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // First, while this is the only thread: every later thread inherits the blocked signals.
    if let Err(e) = jobcheck::interrupt::install(interrupted_line) {
        eprintln!("jobcheck: cannot watch for SIGINT/SIGTERM/SIGHUP: {e}");
        return ExitCode::from(2);
    }
    // jobprobe (and a built marsh) live next to this binary: put them first on PATH.
    let mut path_prepend = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        build_siblings(&dir);
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![dir.clone()];
        dirs.extend(std::env::split_paths(&path));
        // SAFETY: the only other thread, the interrupt watcher, reads no environment variable.
        unsafe { std::env::set_var("PATH", std::env::join_paths(dirs).unwrap_or_default()) };
        path_prepend.push(dir);
    }
    match cli.cmd {
        Cmd::Shells(args) => shells_cmd(args),
        Cmd::Latency(args) => latency_cmd(args),
        Cmd::ManyJobs(args) => many_jobs_cmd(args),
        Cmd::Bench(args) => bench_cmd(args),
        Cmd::Run(args) => run_cmd(args, path_prepend),
        Cmd::CheckAdapter(args) => check_adapter_cmd(args, path_prepend),
        Cmd::Init(args) => init_cmd(args, path_prepend),
    }
}

/// `jobcheck check-adapter`: exit status 1 unless every check holds.
fn check_adapter_cmd(args: CheckAdapterArgs, path_prepend: Vec<PathBuf>) -> ExitCode {
    let adapter = match adapter(&args.adapter) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("jobcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = jobcheck::Options {
        timeout: std::time::Duration::from_secs(args.timeout),
        path_prepend,
        name: format!("check-adapter@{}", adapter.name),
        ..jobcheck::Options::default()
    };
    let report = jobcheck::shells::check::check(&adapter, opts);
    print!("{report}");
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `jobcheck init`: probe, write the adapter file, print its check.
fn init_cmd(args: InitArgs, path_prepend: Vec<PathBuf>) -> ExitCode {
    let out = args
        .output
        .unwrap_or_else(|| PathBuf::from(format!("{}.toml", args.name)));
    if out.exists() && !args.force {
        eprintln!(
            "jobcheck: {} exists (give --force to overwrite it)",
            out.display()
        );
        return ExitCode::from(2);
    }
    if jobcheck::shells::find_in_path(&args.program).is_none() {
        eprintln!("jobcheck: {} is not in PATH", args.program);
        return ExitCode::from(2);
    }
    let opts = jobcheck::Options {
        timeout: std::time::Duration::from_secs(3),
        path_prepend,
        name: format!("init@{}", args.name),
        record_failures: false,
        ..jobcheck::Options::default()
    };
    let probed = jobcheck::shells::init::probe(&args.name, &args.program, &opts);
    if let Err(e) = std::fs::write(&out, probed.to_toml()) {
        eprintln!("jobcheck: {}: {e}", out.display());
        return ExitCode::from(2);
    }
    print!("{}", probed.report);
    println!(
        "wrote {} (prompt counted by: {})",
        out.display(),
        probed.style
    );
    if probed.report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `jobcheck shells`.
fn shells_cmd(args: ShellsArgs) -> ExitCode {
    let ShellsArgs { shells } = args;
    let adapters = match adapters_named(&shells) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("jobcheck: {e}");
            return ExitCode::from(2);
        }
    };
    for a in adapters {
        match a.availability() {
            Ok(v) => println!("{:<6} installed  {v}", a.name),
            Err(why) => println!("{:<6} missing    {why}", a.name),
        }
    }
    ExitCode::SUCCESS
}

/// `jobcheck latency`.
fn latency_cmd(args: LatencyArgs) -> ExitCode {
    let LatencyArgs { shells, runs, json } = args;
    let mut table: Vec<(String, Vec<jobcheck::bench::Samples>)> = Vec::new();
    let mut machine = Vec::new();
    let mut failed = false;
    for name in &shells {
        let a = match adapter(name) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("jobcheck: {e}");
                return ExitCode::from(2);
            }
        };
        let version = a.availability().unwrap_or_else(|e| e);
        match jobcheck::bench::interactive(&a, runs, a.name == "marsh") {
            Ok((samples, failure)) => {
                let first = failure
                    .as_ref()
                    .map(|e| e.lines().next().unwrap_or("").to_string());
                if let Some(e) = &failure {
                    eprintln!("jobcheck: {}: stopped measuring: {e}", a.name);
                    failed = true;
                }
                machine.push(serde_json::json!({
                    "name": a.name,
                    "version": version,
                    "samples": samples.iter().map(|s| s.to_json()).collect::<Vec<_>>(),
                    "error": first,
                }));
                table.push((a.name.clone(), samples));
            }
            Err(e) => {
                eprintln!("jobcheck: {}: {e}", a.name);
                let first = e.lines().next().unwrap_or("").to_string();
                machine.push(serde_json::json!({
                    "name": a.name, "version": version, "error": first,
                }));
                failed = true;
            }
        }
    }
    if let Err(code) = write_json(
        json.as_deref(),
        serde_json::json!({ "runs": runs, "shells": machine }),
    ) {
        return code;
    }
    let base = table.last().map(|(n, s)| {
        let medians: Vec<(String, std::time::Duration)> =
            s.iter().map(|x| (x.key.clone(), x.median())).collect();
        (n.clone(), medians)
    });
    println!(
        "== interactive latency, medians of {runs} cycles (ratio to {})",
        base.as_ref().map_or("-", |b| b.0.as_str())
    );
    for (name, samples) in &table {
        for s in samples {
            let ratio = base
                .as_ref()
                .and_then(|b| b.1.iter().find(|(k, _)| *k == s.key).map(|(_, m)| *m))
                .filter(|m| !m.is_zero())
                .map_or(String::from("   -  "), |m| {
                    format!("x{:5.2}", s.median().as_secs_f64() / m.as_secs_f64())
                });
            println!(
                "  {:<6} {:>8.3} ms  {ratio}  {}",
                name,
                s.median().as_secs_f64() * 1000.0,
                s.what
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `jobcheck many-jobs`.
fn many_jobs_cmd(args: ManyJobsArgs) -> ExitCode {
    let ManyJobsArgs {
        shells,
        counts,
        runs,
        json,
    } = args;
    let mut machine = Vec::new();
    let mut failed = false;
    for name in &shells {
        let a = match adapter(name) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("jobcheck: {e}");
                return ExitCode::from(2);
            }
        };
        for &n in &counts {
            println!("== {} with {n} background jobs (medians of {runs})", a.name);
            match jobcheck::bench::many_jobs(&a, n, runs) {
                Ok(samples) => {
                    for s in &samples {
                        println!(
                            "  {:>9.3} ms  {}",
                            s.median().as_secs_f64() * 1000.0,
                            s.what
                        );
                    }
                    machine.push(serde_json::json!({
                        "shell": a.name, "count": n,
                        "samples": samples.iter().map(|s| s.to_json()).collect::<Vec<_>>(),
                    }));
                }
                Err(e) => {
                    eprintln!("jobcheck: {} with {n} jobs: {e}", a.name);
                    let first = e.lines().next().unwrap_or("").to_string();
                    machine.push(serde_json::json!({
                        "shell": a.name, "count": n, "error": first,
                    }));
                    failed = true;
                }
            }
        }
    }
    if let Err(code) = write_json(
        json.as_deref(),
        serde_json::json!({ "runs": runs, "results": machine }),
    ) {
        return code;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `jobcheck bench`.
fn bench_cmd(args: BenchArgs) -> ExitCode {
    let BenchArgs { shell, runs, json } = args;
    let a = match adapter(&shell) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("jobcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let show = |s: &jobcheck::bench::Samples| {
        let mut v = s.samples.clone();
        v.sort();
        println!(
            "  {:>8.3} ms median  ({:.3}..{:.3})  {}",
            s.median().as_secs_f64() * 1000.0,
            v.first().copied().unwrap_or_default().as_secs_f64() * 1000.0,
            v.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
            s.what
        );
    };
    println!("== ^C -> prompt, {} ({runs} cycles each)", a.name);
    let mut machine = Vec::new();
    match jobcheck::bench::raw(&a, runs) {
        Ok(s) => {
            show(&s);
            machine.push(s.to_json());
        }
        Err(e) => println!("  raw loop failed: {e}"),
    }
    match jobcheck::bench::jobcheck(&a, runs) {
        Ok((read, returned)) => {
            show(&read);
            show(&returned);
            machine.push(read.to_json());
            machine.push(returned.to_json());
        }
        Err(e) => println!("  jobcheck failed: {e}"),
    }
    if let Err(code) = write_json(
        json.as_deref(),
        serde_json::json!({ "shell": a.name, "runs": runs, "samples": machine }),
    ) {
        return code;
    }
    ExitCode::SUCCESS
}

/// `jobcheck run`.
fn run_cmd(args: RunArgs, path_prepend: Vec<PathBuf>) -> ExitCode {
    let RunArgs {
        shells,
        repeat,
        jobs,
        fixtures,
        expectations,
        accept,
        markdown,
        junit,
        html,
        artifacts,
        verbose,
        scenarios,
    } = args;
    if let Some(dir) = &artifacts {
        // SAFETY: the only other thread, the interrupt watcher, reads no environment variable.
        unsafe { std::env::set_var("JOBCHECK_ARTIFACTS", dir) };
    }
    let out_dir = jobcheck::session::artifacts_dir();
    let markdown = markdown.unwrap_or_else(|| out_dir.join("conformance.md"));
    let junit = junit.unwrap_or_else(|| out_dir.join("junit.xml"));
    let page = match report::html::prepare(html.as_deref().unwrap_or(&out_dir)) {
        Ok(page) => page,
        Err(e) => {
            eprintln!("jobcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let loaded = load_plan(fixtures.as_deref(), &expectations, &shells, &scenarios);
    let (catalogue, plan) = match loaded {
        Ok(x) => x,
        Err(e) => {
            eprintln!("jobcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = suite::Config {
        repeat,
        accept,
        path_prepend: path_prepend.clone(),
        artifacts: out_dir.clone(),
        jobs: match jobs {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        },
    };
    let started = Instant::now();
    let style = jobcheck::progress::Style::for_stdout(verbose);
    let mut progress = jobcheck::progress::RunProgress::new(&plan, repeat, style);
    let runnable = plan.pairs.iter().filter(|p| p.skip.is_none()).count();
    RUNS_PLANNED.store(runnable * repeat.max(1) as usize, Ordering::SeqCst);
    let pairs = suite::run(&plan, &catalogue, &cfg, |e| {
        if matches!(e, suite::RunEvent::Ran { .. }) {
            RUNS_DONE.fetch_add(1, Ordering::SeqCst);
        }
        progress.event(&plan, &e, &event_line(&e))
    });
    if jobcheck::interrupt::interrupted().is_some() {
        // The watcher is tearing the sessions down and ends the process: no report.
        jobcheck::interrupt::park();
    }
    progress.finish();
    let infos = plan.shell_infos();
    let chosen = &plan.scenarios;
    let seconds = started.elapsed().as_secs_f64();
    let titles: Vec<ScenarioInfo> = chosen
        .iter()
        .map(|s| ScenarioInfo {
            name: s.name.clone(),
            title: s.title.clone(),
            group: s.group.clone(),
        })
        .collect();
    let info = RunInfo {
        command: command_line(),
        repeat,
        seconds,
    };
    let md = report::markdown(&infos, &titles, &pairs, &info);
    let xml = report::junit(&infos, &pairs);
    let web = report::html::html(&infos, &titles, &pairs, &info);
    for (path, text) in [(&markdown, md), (&junit, xml), (&page, web)] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("jobcheck: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    println!();
    let failing = print_totals(&infos, &pairs);
    println!(
        "\n{} pairs in {seconds:.1} s; matrix: {} and {}; JUnit: {}; recordings of failures: {}",
        pairs.len(),
        markdown.display(),
        page.display(),
        junit.display(),
        out_dir.display()
    );
    if failing > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One line of totals per shell; returns how many pairs failed (FAIL, flaky or new snapshot).
fn print_totals(infos: &[report::ShellInfo], pairs: &[report::Pair]) -> usize {
    let mut failing = 0;
    for s in infos {
        let c = report::counts(pairs, &s.name);
        failing += c.fail + c.flaky + c.new;
        let new = if c.new > 0 {
            format!(" {:>3} new snapshot", c.new)
        } else {
            String::new()
        };
        println!(
            "{:<6} {:>3} pass {:>3} OK {:>3} BUG {:>3} n/a {:>3} flaky {:>3} FAIL{new}",
            s.name, c.pass, c.ok, c.bug, c.na, c.flaky, c.fail
        );
    }
    failing
}

//! Runs every scenario under `fixtures/` against every built-in shell, one test per pair
//! (`posix/stop-pipeline-one-job::bash`), planned by `jobcheck::suite`. Every pair is listed;
//! a pair that cannot run (N-I, shell missing, scenario for other shells) is an ignored test,
//! and if run anyway (`--include-ignored`) it reports itself ignored with its reason: it never
//! passes. Expected text lives in insta snapshots named `<scenario>@<shell>` under
//! `fixtures/snapshots/`.
//!
//! The binary speaks the libtest protocol nextest uses (`--list --format terse`, with
//! `--ignored`, and `--exact NAME`), so `cargo nextest run --partition count:K/N` shards the
//! pairs; the trial `nextest-protocol` checks those answers by running this binary again.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use jobcheck::catalogue::Catalogue;
use jobcheck::scenario::{self, Scenario, Verdict};
use jobcheck::suite::{self, Plan, PlannedPair};
use jobcheck::{Adapter, Options};
use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// Run one pair; its snapshot (if any) is an insta assertion.
fn run_pair(
    scn: &Scenario,
    adapter: &Adapter,
    pair: &PlannedPair,
    fixtures: &Path,
) -> Result<(), Failed> {
    if let Some(a) = &pair.annotation {
        println!("{:?} {}: {}", a.verdict, adapter.name, a.reason);
    }
    // No retry, for any shell: a pair that fails once fails. An intermittent bug of a peer
    // shell is annotated `BUG` with its observed rate instead.
    let result = scenario::run(scn, adapter, Options::default());
    let outcome = match (result, pair.annotation.as_ref().map(|a| a.verdict)) {
        (Ok(o), Some(Verdict::Bug)) => {
            println!("annotated BUG but it passed: fixed? remove the annotation");
            o
        }
        (Ok(o), _) => o,
        (Err(f), Some(Verdict::Bug)) => {
            let reason = &pair.annotation.as_ref().expect("a BUG annotation").reason;
            println!("known bug ({reason}), failed as expected:\n{f}");
            return Ok(());
        }
        (Err(f), _) => return Err(f.to_string().into()),
    };
    if let Some(text) = outcome.snapshot {
        assert_snapshot(scn, &adapter.name, &text, fixtures);
    }
    Ok(())
}

fn assert_snapshot(scn: &Scenario, shell: &str, text: &str, fixtures: &Path) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(fixtures.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!(
        "{} (fixtures/{}.{})",
        scn.title,
        scn.name,
        scenario::EXT
    ));
    for (re, rep) in scenario::SNAPSHOT_FILTERS {
        settings.add_filter(re, *rep);
    }
    let name = scenario::snapshot_name(scn, shell);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// One trial per pair: ignored (with its reason) when it cannot run.
fn trial(plan: &Plan, pair: &PlannedPair, fixtures: &Path) -> Trial {
    if let Some(reason) = &pair.skip {
        let reason = reason.clone();
        return Trial::ignorable_test(pair.name.clone(), move || {
            Ok(Completion::ignored_with(reason))
        })
        .with_ignored_flag(true);
    }
    let (scn, adapter) = (plan.scenario(pair).clone(), plan.adapter(pair).clone());
    let (pair, fixtures) = (pair.clone(), fixtures.to_path_buf());
    Trial::test(pair.name.clone(), move || {
        run_pair(&scn, &adapter, &pair, &fixtures)
    })
}

/// This binary's answers to nextest: `--list --format terse` lists every pair, `--ignored`
/// exactly the ones that cannot run, and `--exact NAME` selects that pair alone.
fn check_nextest_protocol(plan: &Plan) -> Result<(), Failed> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let list = |extra: &[&str]| -> Result<Vec<String>, Failed> {
        let out = Command::new(&me)
            .args(["--list", "--format", "terse"])
            .args(extra)
            .output();
        let out = out.map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("{extra:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect())
    };
    let terse = |p: &PlannedPair| format!("{}: test", p.name);
    let mut all: Vec<String> = plan.pairs.iter().map(terse).collect();
    all.push(format!("{PROTOCOL}: test"));
    let ignored: Vec<String> = plan
        .pairs
        .iter()
        .filter(|p| p.skip.is_some())
        .map(terse)
        .collect();
    expect_same("--list --format terse", &list(&[])?, &all)?;
    expect_same(
        "--list --format terse --ignored",
        &list(&["--ignored"])?,
        &ignored,
    )?;
    // A name that is a prefix of others (`a::bash` of `a::bash-posix`, `x` of `x-y`) alone.
    let first = &plan.pairs.first().ok_or("no pair")?.name;
    expect_same(
        "--exact",
        &list(&["--exact", first])?,
        &[format!("{first}: test")],
    )?;
    Ok(())
}

fn expect_same(what: &str, got: &[String], want: &[String]) -> Result<(), Failed> {
    let (mut g, mut w) = (got.to_vec(), want.to_vec());
    g.sort();
    w.sort();
    if g == w {
        return Ok(());
    }
    let missing: Vec<&String> = w.iter().filter(|x| !g.contains(x)).collect();
    let extra: Vec<&String> = g.iter().filter(|x| !w.contains(x)).collect();
    Err(format!(
        "{what}: missing {} lines (first {:?}), {} unexpected (first {:?})",
        missing.len(),
        missing.first(),
        extra.len(),
        extra.first()
    )
    .into())
}

const PROTOCOL: &str = "nextest-protocol";

fn main() {
    let args = Arguments::from_args();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    // The built binaries (marsh, jobprobe) come first on PATH, for adapters and scenarios.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = vec![common::bin_dir()];
    dirs.extend(std::env::split_paths(&path));
    // SAFETY: still single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PATH", std::env::join_paths(dirs).unwrap()) };

    let catalogue = Catalogue::from_dir(&fixtures).unwrap_or_else(|e| panic!("fixtures: {e}"));
    let plan = suite::plan(&catalogue, jobcheck::shells::builtin(), &[])
        .unwrap_or_else(|e| panic!("fixtures: {e}"));
    let mut trials: Vec<Trial> = plan
        .pairs
        .iter()
        .map(|p| trial(&plan, p, &fixtures))
        .collect();
    let for_protocol = plan.clone();
    trials.push(Trial::test(PROTOCOL, move || {
        check_nextest_protocol(&for_protocol)
    }));
    let ignored: Vec<String> = plan
        .pairs
        .iter()
        .filter_map(|p| p.skip.as_ref().map(|why| format!("    {}: {why}", p.name)))
        .collect();
    if !ignored.is_empty() && !args.list {
        println!(
            "ignored pairs (never counted as passed):\n{}",
            ignored.join("\n")
        );
    }
    libtest_mimic::run(&args, trials).exit();
}

//! Runs every scenario under `fixtures/` against every built-in shell, one test per pair
//! (`posix/stop-pipeline-one-job::bash`). Every pair is listed; pairs that cannot run are ignored
//! with the reason printed (libtest-mimic carries no reason text). Expected text lives in insta
//! snapshots named `<scenario>@<shell>` under `fixtures/snapshots/`.

mod common;

use std::path::Path;

use jobcheck::scenario::{self, Scenario, Verdict};
use jobcheck::{Adapter, Options};
use libtest_mimic::{Arguments, Failed, Trial};

fn run_pair(scn: &Scenario, adapter: &Adapter, fixtures: &Path) -> Result<(), Failed> {
    let annotation = scn.annotations.get(&adapter.name).cloned();
    if let Some(a) = &annotation {
        println!("{:?} {}: {}", a.verdict, adapter.name, a.reason);
    }
    // No retry, for any shell: a pair that fails once fails. `jobcheck run --repeat 20` on all
    // seven shells found no flaky pair (docs/conformance.md); an intermittent bug of a peer
    // shell is annotated `BUG` with its observed rate instead.
    let result = scenario::run(scn, adapter, Options::default());
    let outcome = match (result, annotation.as_ref().map(|a| a.verdict)) {
        (Ok(o), Some(Verdict::Bug)) => {
            println!("annotated BUG but it passed: fixed? remove the annotation");
            o
        }
        (Ok(o), _) => o,
        (Err(f), Some(Verdict::Bug)) => {
            println!(
                "known bug ({}), failed as expected:\n{f}",
                annotation.unwrap().reason
            );
            return Ok(());
        }
        (Err(f), _) => return Err(f.to_string().into()),
    };
    if let Some(text) = outcome.snapshot {
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
        let name = scenario::snapshot_name(scn, &adapter.name);
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("fixtures");
    let bin_dir = common::bin_dir();
    // The built binaries (marsh, jobprobe) come first on PATH, for adapters and scenarios.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir];
    dirs.extend(std::env::split_paths(&path));
    // SAFETY: still single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PATH", std::env::join_paths(dirs).unwrap()) };

    let catalogue = jobcheck::catalogue::Catalogue::from_dir(&fixtures)
        .unwrap_or_else(|e| panic!("fixtures: {e}"));
    let scenarios = catalogue.scenarios();
    let adapters: Vec<(Adapter, Result<String, String>)> = jobcheck::shells::builtin()
        .into_iter()
        .map(|a| {
            let avail = a.availability();
            (a, avail)
        })
        .collect();
    let known: Vec<String> = adapters.iter().map(|(a, _)| a.name.clone()).collect();
    catalogue
        .check_shells(&known)
        .unwrap_or_else(|e| panic!("fixtures: {e}"));
    let mut trials = Vec::new();
    let mut ignored = Vec::new();
    for scn in scenarios {
        for (adapter, avail) in &adapters {
            let name = format!("{}::{}", scn.name, adapter.name);
            if let Some(reason) = scenario::skip_reason(scn, adapter, avail) {
                ignored.push(format!("{name}: {reason}"));
                trials.push(Trial::test(name, || Ok(())).with_ignored_flag(true));
                continue;
            }
            let (scn, adapter, fixtures) = (scn.clone(), adapter.clone(), fixtures.clone());
            trials.push(Trial::test(name, move || {
                run_pair(&scn, &adapter, &fixtures)
            }));
        }
    }
    let print_ignored = |ignored: &[String]| {
        if !ignored.is_empty() && !args.list {
            println!("ignored pairs (never counted as passed):");
            for i in ignored {
                println!("    {i}");
            }
        }
    };
    print_ignored(&ignored);
    let conclusion = libtest_mimic::run(&args, trials);
    print_ignored(&ignored);
    conclusion.exit();
}

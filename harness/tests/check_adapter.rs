//! `jobcheck check-adapter` and `jobcheck init` as library functions: the built-in bash adapter
//! passes every check; adapters broken on purpose fail at the property they break, with what
//! to change, and the later checks are not run; `init` finds a working adapter for dash.

mod common;

use std::time::Duration;

use jobcheck::shells::check::{self, Outcome, Property};
use jobcheck::shells::init;
use jobcheck::{Adapter, Options};

fn opts(name: &str) -> Options {
    Options {
        name: name.into(),
        timeout: Duration::from_secs(2),
        path_prepend: vec![common::bin_dir()],
        record_failures: false,
        ..Options::default()
    }
}

/// The bash adapter with `env` replaced.
fn bash_with(name: &str, env: &[(&str, &str)]) -> Adapter {
    let mut a = common::adapter("bash");
    a.name = name.into();
    a.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    a
}

/// The failing property's problem, after checking that it is the only failure and that every
/// later property was not run.
fn only_failure(report: &check::Report, at: Property) -> check::Problem {
    let mut after = false;
    let mut found = None;
    for (p, o) in &report.results {
        match (after, o) {
            (false, Outcome::Holds) => {}
            (false, Outcome::Fails(pr)) if *p == at => {
                found = Some(pr.clone());
                after = true;
            }
            (true, Outcome::NotRun) => {}
            _ => panic!("unexpected {p}: {o:?}\n{report}"),
        }
    }
    found.unwrap_or_else(|| panic!("{at} did not fail\n{report}"))
}

#[test]
fn the_builtin_bash_adapter_passes_every_check() {
    let r = check::check(&common::adapter("bash"), opts("check@bash"));
    assert!(r.passed(), "{r}");
    assert_eq!(r.results.len(), check::PROPERTIES.len());
}

#[test]
fn a_prompt_that_does_not_count_fails_at_the_second_check() {
    let a = bash_with("bash-nocount", &[("PS1", "bash 1$ ")]);
    let r = check::check(&a, opts("check@bash-nocount"));
    let pr = only_failure(&r, Property::GrowsAfterCommand);
    assert!(pr.seen.contains("`bash 2$`"), "{}", pr.seen);
    assert!(pr.fix.contains("PROMPT_COMMAND"), "{}", pr.fix);
    assert!(r.to_string().contains("not usable yet"), "{r}");
}

#[test]
fn job_control_off_is_found() {
    let a = bash_with(
        "bash-nojc",
        &[
            ("PROMPT_COMMAND", "set +m; JC_N=$((JC_N+1))"),
            ("PS1", "bash ${JC_N}$ "),
        ],
    );
    let r = check::check(&a, opts("check@bash-nojc"));
    let pr = only_failure(&r, Property::JobControl);
    assert!(pr.fix.contains("job control"), "{}", pr.fix);
}

#[test]
fn a_status_command_that_shows_no_status_is_found() {
    let mut a = common::adapter("bash");
    a.status_command = Some("echo no status here".into());
    let r = check::check(&a, opts("check@bash-status"));
    let pr = only_failure(&r, Property::StatusCommand);
    assert!(pr.seen.contains("holds no status"), "{}", pr.seen);
    assert!(pr.fix.contains("status_pattern"), "{}", pr.fix);
}

#[test]
fn init_writes_a_dash_adapter_that_reads_back_and_passes() {
    let p = init::probe("mydash", "dash", &opts("init@mydash"));
    assert!(p.report.passed(), "{}", p.report);
    let text = p.to_toml();
    let back = Adapter::parse(std::path::Path::new("mydash.toml"), &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        (back.name.as_str(), back.prompt.as_str()),
        ("mydash", "mydash {n}$ ")
    );
    assert!(check::check(&back, opts("check@mydash")).passed());
}

//! Reports of a suite run: the conformance matrix (markdown, and HTML in [`html`]) and JUnit
//! XML.
//!
//! Layering (nextest/insta style): listing (which pairs exist, [`crate::scenario::load_dir`] and
//! [`crate::scenario::skip_reason`]), running ([`crate::scenario::run`], one pair at a time) and
//! reporting (this module) are separate. This module only turns recorded results into text; it
//! runs nothing and reads no file.
//!
//! Invariants: every (scenario, shell) pair of the run has exactly one cell; a cell's class is
//! decided by [`Pair::cell`] alone:
//! - `n/a`: not run (N-I annotation, shell missing, scenario meant for other shells);
//! - `BUG`: annotated as a known bug, whatever happened (an intermittent bug may pass);
//! - `pass` / `OK`: every run passed (`OK`: annotated as an expected difference);
//! - `flaky k of N`: some runs passed, some failed;
//! - `FAIL`: every run failed.

use std::fmt::Write as _;

use crate::scenario::Verdict;
use crate::session::Failure;

pub mod html;

/// A shell as the run saw it.
#[derive(Clone, Debug)]
pub struct ShellInfo {
    /// The adapter's name.
    pub name: String,
    /// `Ok(version)` if usable, `Err(reason)` if not.
    pub version: Result<String, String>,
}

/// One run of a pair.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Whether it passed.
    pub passed: bool,
    /// How long it took.
    pub millis: f64,
    /// The failure report (first line is the message).
    pub failure: Option<String>,
    /// The steps passed but no accepted snapshot exists (see [`Cell::NewSnapshot`]).
    pub new_snapshot: bool,
    /// The failure as data (sentence, step, transcript, screen, processes), for the evidence
    /// of the HTML report; `None` for a pass or a new snapshot.
    pub evidence: Option<Box<Failure>>,
}

/// Everything recorded about one (scenario, shell) pair.
#[derive(Clone, Debug)]
pub struct Pair {
    /// The scenario's name.
    pub scenario: String,
    /// The shell's name.
    pub shell: String,
    /// Annotation of the scenario for this shell, with its reason.
    pub verdict: Option<(Verdict, String)>,
    /// Why the pair was not run (`None`: it ran).
    pub skipped: Option<String>,
    /// Every run, in order.
    pub runs: Vec<RunResult>,
}

/// The class of a matrix cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Every run passed.
    Pass,
    /// Every run passed, with an annotated expected difference.
    Ok,
    /// A known bug (annotated), whatever happened.
    Bug {
        /// Runs that passed anyway.
        passed: usize,
        /// Runs.
        total: usize,
    },
    /// Not run: N-I, shell missing, scenario meant for other shells.
    NotApplicable,
    /// Some runs passed, some failed.
    Flaky {
        /// Runs that passed.
        passed: usize,
        /// Runs.
        total: usize,
    },
    /// Every run failed.
    Fail,
    /// The steps passed but the pair has no accepted snapshot (every failed run was so): fails
    /// the run until the snapshot is accepted (`--accept`).
    NewSnapshot,
}

impl Pair {
    /// Runs that passed.
    pub fn passed(&self) -> usize {
        self.runs.iter().filter(|r| r.passed).count()
    }

    /// The cell class (see the module invariants).
    pub fn cell(&self) -> Cell {
        if self.skipped.is_some() {
            return Cell::NotApplicable;
        }
        let (passed, total) = (self.passed(), self.runs.len());
        match self.verdict.as_ref().map(|v| v.0) {
            Some(Verdict::NotImplemented) => Cell::NotApplicable,
            Some(Verdict::Bug) => Cell::Bug { passed, total },
            _ if total == 0 => Cell::NotApplicable,
            _ if self.only_new_snapshots() => Cell::NewSnapshot,
            _ if passed == total => {
                if matches!(self.verdict, Some((Verdict::Ok, _))) {
                    Cell::Ok
                } else {
                    Cell::Pass
                }
            }
            _ if passed == 0 => Cell::Fail,
            _ => Cell::Flaky { passed, total },
        }
    }

    /// Whether some run failed and every failed run lacked only an accepted snapshot.
    fn only_new_snapshots(&self) -> bool {
        let mut failed = self.runs.iter().filter(|r| !r.passed).peekable();
        failed.peek().is_some() && failed.all(|r| r.new_snapshot)
    }

    /// Whether this pair makes the run fail (a failure or a flaky pass that is not a known bug).
    pub fn is_failure(&self) -> bool {
        matches!(
            self.cell(),
            Cell::Fail | Cell::Flaky { .. } | Cell::NewSnapshot
        )
    }
}

impl Cell {
    /// Text in the markdown matrix.
    pub fn text(&self) -> String {
        match self {
            Cell::Pass => "pass".into(),
            Cell::Ok => "OK".into(),
            Cell::Bug { passed, total } if *passed > 0 => {
                format!("BUG ({passed} of {total} passed)")
            }
            Cell::Bug { .. } => "BUG".into(),
            Cell::NotApplicable => "n/a".into(),
            Cell::Flaky { passed, total } => format!("flaky {passed} of {total}"),
            Cell::Fail => "**FAIL**".into(),
            Cell::NewSnapshot => "**new snapshot**".into(),
        }
    }
}

/// Per-shell counts of cell classes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// [`Cell::Pass`] cells.
    pub pass: usize,
    /// [`Cell::Ok`] cells.
    pub ok: usize,
    /// [`Cell::Bug`] cells.
    pub bug: usize,
    /// [`Cell::NotApplicable`] cells.
    pub na: usize,
    /// [`Cell::Flaky`] cells.
    pub flaky: usize,
    /// [`Cell::Fail`] cells.
    pub fail: usize,
    /// [`Cell::NewSnapshot`] cells.
    pub new: usize,
}

/// Count the cells of `shell`.
pub fn counts(pairs: &[Pair], shell: &str) -> Counts {
    let mut c = Counts::default();
    for p in pairs.iter().filter(|p| p.shell == shell) {
        match p.cell() {
            Cell::Pass => c.pass += 1,
            Cell::Ok => c.ok += 1,
            Cell::Bug { .. } => c.bug += 1,
            Cell::NotApplicable => c.na += 1,
            Cell::Flaky { .. } => c.flaky += 1,
            Cell::Fail => c.fail += 1,
            Cell::NewSnapshot => c.new += 1,
        }
    }
    c
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A scenario as the report lists it.
#[derive(Clone, Debug)]
pub struct ScenarioInfo {
    /// Its name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// Catalogue group (`A. Foreground Ctrl-C`); rows are grouped by it, in file order.
    pub group: Option<String>,
}

/// What the markdown report says about how it was made.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The command line that produced it (documented regeneration command).
    pub command: String,
    /// Runs per pair.
    pub repeat: u32,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
}

/// The conformance matrix: one row per scenario, one column per shell, then per-shell totals
/// and the reason of every annotation and every skip.
pub fn markdown(
    shells: &[ShellInfo],
    scenarios: &[ScenarioInfo],
    pairs: &[Pair],
    info: &RunInfo,
) -> String {
    let mut out = String::new();
    out.push_str("# Job-control conformance\n\n");
    let _ = writeln!(
        out,
        "Generated by `{}` ({} run(s) per pair, {:.0} s). Do not edit by hand.\n",
        info.command,
        info.repeat.max(1),
        info.seconds
    );
    out.push_str(
        "Cells: **pass**; **OK** passes with an expected, annotated difference; **BUG** a \
         known bug of that shell (annotated; an intermittent one may pass); **n/a** not \
         applicable (feature absent, N-I) or shell not installed; **flaky k of N** passed k \
         of N runs; **FAIL** failed. Reasons are listed below the matrix.\n\n",
    );
    out.push_str("| shell | version |\n|---|---|\n");
    for s in shells {
        let v = match &s.version {
            Ok(v) => md_escape(v),
            Err(e) => format!("not usable: {}", md_escape(e)),
        };
        let _ = writeln!(out, "| {} | {} |", s.name, v);
    }
    out.push_str("\n| scenario |");
    for s in shells {
        let _ = write!(out, " {} |", s.name);
    }
    out.push_str("\n|---|");
    for _ in shells {
        out.push_str("---|");
    }
    out.push('\n');
    let mut ordered: Vec<&ScenarioInfo> = scenarios.iter().collect();
    ordered.sort_by_key(|s| (s.group.is_none(), s.group.clone()));
    let mut last_group: Option<&Option<String>> = None;
    for sc in ordered {
        let (name, title) = (&sc.name, &sc.title);
        if last_group != Some(&sc.group) {
            let label = sc.group.clone().unwrap_or_else(|| "Other".into());
            let _ = write!(out, "| **{}** |", md_escape(&label));
            for _ in shells {
                out.push_str(" |");
            }
            out.push('\n');
            last_group = Some(&sc.group);
        }
        let _ = write!(
            out,
            "| [{name}](../fixtures/{name}.jc \"{}\") |",
            md_escape(title)
        );
        for s in shells {
            let cell = pairs
                .iter()
                .find(|p| &p.scenario == name && p.shell == s.name)
                .map(|p| p.cell().text())
                .unwrap_or_else(|| "n/a".into());
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    for (label, pick) in [
        ("pass", (|c: &Counts| c.pass) as fn(&Counts) -> usize),
        ("OK", |c| c.ok),
        ("BUG", |c| c.bug),
        ("n/a", |c| c.na),
        ("flaky", |c| c.flaky),
        ("FAIL", |c| c.fail),
        ("new snapshot", |c| c.new),
    ] {
        if label == "new snapshot" && shells.iter().all(|s| counts(pairs, &s.name).new == 0) {
            continue;
        }
        let _ = write!(out, "| **{label}** |");
        for s in shells {
            let _ = write!(out, " {} |", pick(&counts(pairs, &s.name)));
        }
        out.push('\n');
    }
    out.push_str("\n## Why\n\n");
    for sc in scenarios {
        let name = &sc.name;
        let notes: Vec<String> = pairs
            .iter()
            .filter(|p| &p.scenario == name)
            .filter_map(|p| {
                let why = match (&p.verdict, &p.skipped) {
                    (Some((v, r)), _) => format!("{} {}: {}", verdict_word(*v), p.shell, r),
                    (None, Some(r)) if !r.starts_with("scenario is for") => {
                        format!("n/a {}: {}", p.shell, r)
                    }
                    _ => return None,
                };
                Some(why)
            })
            .collect();
        let mut dedup: Vec<String> = Vec::new();
        for n in notes {
            if !dedup.contains(&n) {
                dedup.push(n);
            }
        }
        if !dedup.is_empty() {
            let _ = writeln!(out, "- `{name}`");
            for n in dedup {
                let _ = writeln!(out, "  - {}", md_escape(&n));
            }
        }
    }
    out
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "OK",
        Verdict::Bug => "BUG",
        Verdict::NotImplemented => "N-I",
    }
}

/// Text made safe inside XML and HTML, in element content and in quoted attributes: the five
/// markup characters become entities, and the control characters XML 1.0 cannot hold (all but
/// tab, newline and carriage return) become `\xNN`, so a transcript's stray bytes never make
/// a report unreadable.
pub(crate) fn escape_markup(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {
                let _ = write!(o, "\\x{:02x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one `<testsuite>` per shell, one `<testcase>` per pair (`classname` the shell,
/// `name` the scenario); failures and flaky passes are `<failure>`, n/a pairs `<skipped>`,
/// known bugs pass with their reason in `<system-out>`.
pub fn junit(shells: &[ShellInfo], pairs: &[Pair]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total_fail = pairs.iter().filter(|p| p.is_failure()).count();
    let _ = writeln!(
        out,
        "<testsuites name=\"jobcheck\" tests=\"{}\" failures=\"{total_fail}\">",
        pairs.len()
    );
    for s in shells {
        let mine: Vec<&Pair> = pairs.iter().filter(|p| p.shell == s.name).collect();
        let fails = mine.iter().filter(|p| p.is_failure()).count();
        let skipped = mine
            .iter()
            .filter(|p| p.cell() == Cell::NotApplicable)
            .count();
        let secs: f64 = mine
            .iter()
            .flat_map(|p| &p.runs)
            .map(|r| r.millis / 1000.0)
            .sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" skipped=\"{skipped}\" time=\"{secs:.3}\">",
            escape_markup(&s.name),
            mine.len()
        );
        if let Ok(v) = &s.version {
            let _ = writeln!(
                out,
                "    <properties><property name=\"version\" value=\"{}\"/></properties>",
                escape_markup(v)
            );
        }
        for p in mine {
            let secs: f64 = p.runs.iter().map(|r| r.millis / 1000.0).sum();
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{secs:.3}\"",
                escape_markup(&p.shell),
                escape_markup(&p.scenario)
            );
            match p.cell() {
                Cell::NotApplicable => {
                    let why = p
                        .skipped
                        .clone()
                        .or_else(|| p.verdict.as_ref().map(|v| format!("N-I: {}", v.1)))
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape_markup(&why)
                    );
                }
                Cell::Fail | Cell::Flaky { .. } | Cell::NewSnapshot => {
                    let report = p
                        .runs
                        .iter()
                        .find_map(|r| r.failure.clone())
                        .unwrap_or_default();
                    let msg = report.lines().next().unwrap_or("failed").to_string();
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{} ({})\">{}</failure>\n    </testcase>",
                        escape_markup(&msg),
                        escape_markup(&p.cell().text()),
                        escape_markup(&report)
                    );
                }
                Cell::Bug { .. } | Cell::Ok => {
                    let why = p.verdict.as_ref().map(|v| v.1.clone()).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{}: {}</system-out>\n    </testcase>",
                        p.cell().text(),
                        escape_markup(&why)
                    );
                }
                Cell::Pass => out.push_str("/>\n"),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(shell: &str, verdict: Option<Verdict>, skipped: bool, runs: &[bool]) -> Pair {
        Pair {
            scenario: "posix/x".into(),
            shell: shell.into(),
            verdict: verdict.map(|v| (v, "because <y>".into())),
            skipped: skipped.then(|| "zsh is not installed".into()),
            runs: runs
                .iter()
                .map(|&passed| RunResult {
                    passed,
                    millis: 10.0,
                    failure: (!passed).then(|| "x.jc:3: timed out\nmore".into()),
                    new_snapshot: false,
                    evidence: None,
                })
                .collect(),
        }
    }

    #[test]
    fn cells_follow_the_invariants() {
        assert_eq!(pair("a", None, false, &[true, true]).cell(), Cell::Pass);
        assert_eq!(
            pair("a", Some(Verdict::Ok), false, &[true]).cell(),
            Cell::Ok
        );
        assert_eq!(
            pair("a", Some(Verdict::Ok), false, &[false]).cell(),
            Cell::Fail
        );
        assert_eq!(
            pair("a", Some(Verdict::Bug), false, &[true, false]).cell(),
            Cell::Bug {
                passed: 1,
                total: 2
            }
        );
        assert_eq!(
            pair("a", None, false, &[true, false, true]).cell(),
            Cell::Flaky {
                passed: 2,
                total: 3
            }
        );
        assert_eq!(pair("a", None, true, &[]).cell(), Cell::NotApplicable);
        assert_eq!(
            pair("a", Some(Verdict::NotImplemented), true, &[]).cell(),
            Cell::NotApplicable
        );
        assert!(pair("a", None, false, &[true, false]).is_failure());
        assert!(!pair("a", Some(Verdict::Bug), false, &[false]).is_failure());
        assert_eq!(
            Cell::Flaky {
                passed: 19,
                total: 20
            }
            .text(),
            "flaky 19 of 20"
        );
    }

    fn shells() -> Vec<ShellInfo> {
        vec![
            ShellInfo {
                name: "bash".into(),
                version: Ok("GNU bash, version 5.2.15".into()),
            },
            ShellInfo {
                name: "zsh".into(),
                version: Err("zsh is not installed".into()),
            },
        ]
    }

    #[test]
    fn markdown_has_versions_cells_totals_and_reasons() {
        let pairs = vec![
            pair("bash", Some(Verdict::Bug), false, &[false]),
            pair("zsh", None, true, &[]),
        ];
        let scn = vec![ScenarioInfo {
            name: "posix/x".into(),
            title: "a | title".into(),
            group: Some("A. Ctrl-C".into()),
        }];
        let info = RunInfo {
            command: "jobcheck run".into(),
            repeat: 1,
            seconds: 1.0,
        };
        let md = markdown(&shells(), &scn, &pairs, &info);
        assert!(md.contains("| bash | GNU bash, version 5.2.15 |"));
        assert!(md.contains("| zsh | not usable: zsh is not installed |"));
        assert!(md.contains("| scenario | bash | zsh |"));
        assert!(md.contains(" BUG | n/a |"), "{md}");
        assert!(md.contains("| **BUG** | 1 | 0 |"));
        assert!(md.contains("BUG bash: because <y>"));
        assert!(md.contains("n/a zsh: zsh is not installed"));
        assert!(md.contains("a \\| title"));
        assert!(md.contains("| **A. Ctrl-C** | | |"));
    }

    #[test]
    fn junit_marks_failures_skips_and_escapes() {
        let pairs = vec![
            pair("bash", None, false, &[true, false]),
            pair("zsh", None, true, &[]),
        ];
        let xml = junit(&shells(), &pairs);
        assert!(xml.starts_with("<?xml"));
        assert!(xml.contains("<testsuites name=\"jobcheck\" tests=\"2\" failures=\"1\">"));
        assert!(xml.contains("<failure message=\"x.jc:3: timed out (flaky 1 of 2)\">"));
        assert!(xml.contains("<skipped message=\"zsh is not installed\"/>"));
        assert!(xml.contains("value=\"GNU bash, version 5.2.15\""));
        assert_eq!(
            escape_markup("a<b>&\"'\u{1b}"),
            "a&lt;b&gt;&amp;&quot;&#39;\\x1b"
        );
    }
}

//! Expectation overlays: a shell project's own annotations, step variants and snapshots for
//! the catalogue, kept in its repository and passed with `jobcheck run --expectations FILE`.
//!
//! ```toml
//! # myshell.expect.toml
//! shells = ["myshell"]        # the shells this file speaks for (names annotations may use)
//! snapshots = "snapshots"     # accepted snapshots, relative to this file (the default)
//!
//! [scenario."posix/exit-with-running-jobs"]
//! # lines in the scenario format: annotations (OK, BUG, N-I) for the shells above
//! annotate = "OK myshell: exits at once; the running job survives"
//!
//! [[scenario."posix/exit-with-running-jobs".replace]]
//! step = "expect[zsh,fish,marsh] survivors none"   # a step of the scenario, as written
//! with = "expect survivors sleep"                   # scenario-format steps; "" drops it
//! ```
//!
//! Invariants:
//! - An overlay changes the scenarios for its own shells only. A replaced step, whatever its
//!   restriction (`type[!fish] …`, `wait[zsh] …`, or none), stops applying to them, and the
//!   replacement steps run in its place for them (a replacement step with no restriction of
//!   its own is restricted to the overlay's shells; `with = "type[myshell] …"` names them).
//!   Other shells see the catalogue unchanged.
//! - Annotations and step restrictions of an overlay may name only its own `shells`.
//! - An overlay's annotation replaces the catalogue's for that shell and scenario.
//! - Everything is checked at load: unknown scenarios, steps that are not in the scenario (or
//!   written more than once: give `line` instead), malformed annotations and steps, each with
//!   the overlay's file and line.
//! - Accepted snapshots are read from the overlay's directory first, then the catalogue's;
//!   `--accept` writes into the overlay's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::catalogue::Catalogue;
use crate::scenario::{self, ParseError, Scenario, Step};

/// An overlay file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    shells: Vec<String>,
    #[serde(default)]
    snapshots: Option<PathBuf>,
    #[serde(default)]
    scenario: BTreeMap<String, Entry>,
}

/// What an overlay says about one scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(default)]
    annotate: String,
    #[serde(default)]
    replace: Vec<Replace>,
}

/// One step replaced.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Replace {
    /// The step as written in the scenario.
    #[serde(default)]
    step: Option<String>,
    /// Or its line.
    #[serde(default)]
    line: Option<usize>,
    /// The steps in its place (scenario format, one per line; empty: the step is dropped).
    with: String,
}

/// A loaded overlay.
#[derive(Clone, Debug)]
pub struct Overlay {
    /// The file.
    pub path: PathBuf,
    /// The shells it speaks for.
    pub shells: Vec<String>,
    /// Its snapshot directory.
    pub snapshots: PathBuf,
    entries: Vec<(String, Vec<Scenario>, Vec<Replacement>)>,
}

/// A step replacement, parsed.
#[derive(Clone, Debug)]
struct Replacement {
    target: Target,
    /// The overlay's line naming the target.
    line: usize,
    steps: Vec<Step>,
}

#[derive(Clone, Debug)]
enum Target {
    Text(String),
    Line(usize),
}

/// An overlay that cannot be used: where, and why.
#[derive(Debug, thiserror::Error)]
pub enum OverlayError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not an overlay (TOML, an unknown field, a missing `shells`).
    #[error("{}{}: {message}", path.display(), line.map_or(String::new(), |l| format!(":{l}")))]
    Toml {
        /// The file.
        path: PathBuf,
        /// The line, when there is one.
        line: Option<usize>,
        /// The toml crate's words.
        message: String,
    },
    /// A malformed annotation or step (the error names the overlay's file and line).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Something named that the catalogue does not have.
    #[error("{}:{line}: {message}", path.display())]
    NotInCatalogue {
        /// The file.
        path: PathBuf,
        /// The line naming it.
        line: usize,
        /// What is missing, and the closest there is.
        message: String,
    },
}

impl Overlay {
    /// Load and parse an overlay file (names are checked against a catalogue by
    /// [`Overlay::apply`]).
    pub fn load(path: &Path) -> Result<Overlay, OverlayError> {
        let io = |source| OverlayError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let file: File = toml::from_str(&text).map_err(|e| OverlayError::Toml {
            path: path.to_path_buf(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
            message: e.message().trim().to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut entries = Vec::new();
        for (name, entry) in &file.scenario {
            let annotations = block(path, &text, name, &entry.annotate)?;
            annotations.check_shells(&file.shells)?;
            if !annotations.steps.is_empty() {
                let line = annotations.steps[0].line;
                return Err(not_here(
                    path,
                    line,
                    "`annotate` holds annotations only: steps go in `replace`",
                ));
            }
            let mut reps = Vec::new();
            for r in &entry.replace {
                reps.push(replacement(path, &text, name, r, &file.shells)?);
            }
            entries.push((name.clone(), vec![annotations], reps));
        }
        Ok(Overlay {
            path: path.to_path_buf(),
            snapshots: dir.join(file.snapshots.unwrap_or_else(|| PathBuf::from("snapshots"))),
            shells: file.shells,
            entries,
        })
    }

    /// Apply the overlay to `catalogue`'s scenarios (see the module invariants) and make its
    /// snapshot directory the catalogue's first.
    pub fn apply(&self, catalogue: &mut Catalogue) -> Result<(), OverlayError> {
        for (name, annotations, reps) in &self.entries {
            let names: Vec<String> = catalogue
                .scenarios()
                .iter()
                .map(|s| s.name.clone())
                .collect();
            let Some(scn) = catalogue.scenario_mut(name) else {
                let near = scenario::closest(name, names.iter().map(String::as_str));
                let hint = near.map_or(String::new(), |n| format!(" (did you mean {n}?)"));
                let line = line_of(
                    &std::fs::read_to_string(&self.path).unwrap_or_default(),
                    name,
                );
                return Err(not_here(
                    &self.path,
                    line,
                    &format!("no scenario named {name}{hint}"),
                ));
            };
            for a in annotations {
                scn.annotations.extend(a.annotations.clone());
            }
            for r in reps {
                self.replace(scn, r)?;
            }
        }
        catalogue.add_overlay(self.snapshots.clone(), &self.shells);
        Ok(())
    }

    /// Replace one step of `scn` for the overlay's shells.
    fn replace(&self, scn: &mut Scenario, r: &Replacement) -> Result<(), OverlayError> {
        let found: Vec<usize> = scn
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| match &r.target {
                Target::Text(t) => s.text == *t,
                Target::Line(l) => s.line == *l,
            })
            .map(|(i, _)| i)
            .collect();
        let line = r.line;
        let what = match &r.target {
            Target::Text(t) => format!("written `{t}`"),
            Target::Line(l) => format!("on line {l}"),
        };
        let at = match found.as_slice() {
            [i] => *i,
            [] => {
                return Err(not_here(
                    &self.path,
                    line,
                    &format!("{} has no step {what}", scn.path.display()),
                ));
            }
            _ => {
                return Err(not_here(
                    &self.path,
                    line,
                    &format!(
                        "{} has several steps {what}: give `line` instead",
                        scn.path.display()
                    ),
                ));
            }
        };
        scn.steps[at].except.extend(self.shells.iter().cloned());
        for (k, s) in r.steps.iter().enumerate() {
            scn.steps.insert(at + 1 + k, s.clone());
        }
        Ok(())
    }
}

fn not_here(path: &Path, line: usize, message: &str) -> OverlayError {
    OverlayError::NotInCatalogue {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    }
}

/// The 1-based line of the first occurrence of `needle` in `text` (1 if absent).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map_or(1, |at| text[..at].matches('\n').count() + 1)
}

/// Parse a text block of the overlay as scenario lines, numbered as in the overlay file.
fn block(path: &Path, text: &str, name: &str, lines: &str) -> Result<Scenario, ParseError> {
    let first = lines.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let offset = if first.is_empty() {
        0
    } else {
        line_of(text, first.trim()) - 1
    };
    let padded = format!("{}{}", "\n".repeat(offset), lines.trim_start_matches('\n'));
    let mut scn = scenario::parse(name, path, &padded)?;
    for s in &mut scn.steps {
        s.file = Some(path.to_path_buf());
    }
    Ok(scn)
}

/// A `[[…replace]]` entry, parsed; its steps are restricted to `shells`.
fn replacement(
    path: &Path,
    text: &str,
    name: &str,
    r: &Replace,
    shells: &[String],
) -> Result<Replacement, OverlayError> {
    let (target, line) = match (&r.step, r.line) {
        (Some(t), None) => (Target::Text(t.trim().to_string()), line_of(text, t.trim())),
        (None, Some(l)) => (Target::Line(l), line_of(text, &format!("line = {l}"))),
        _ => {
            let line = line_of(text, "replace");
            return Err(not_here(
                path,
                line,
                "a replacement names its step by `step` or by `line`, not both",
            ));
        }
    };
    let mut with = block(path, text, name, &r.with)?;
    with.check_shells(shells)?;
    if let Some(a) = with.annotations.keys().next() {
        let line = line_of(text, a);
        return Err(not_here(
            path,
            line,
            "`with` holds steps only: annotations go in `annotate`",
        ));
    }
    for s in &mut with.steps {
        let mine: Vec<String> = match &s.only {
            Some(list) => list.clone(),
            None => shells.to_vec(),
        };
        s.only = Some(mine);
    }
    Ok(Replacement {
        target,
        line,
        steps: with.steps,
    })
}

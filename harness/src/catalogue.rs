//! The scenario catalogue: the scenarios and their accepted snapshots, either compiled into the
//! library ([`Catalogue::builtin`], what an installed `jobcheck` runs) or read from a directory
//! ([`Catalogue::from_dir`], `--fixtures DIR`).
//!
//! Invariants:
//! - A scenario's name is its path under the catalogue's root without the extension
//!   (`posix/stop-external`), whichever subdirectory was asked for: the root of a directory is
//!   the nearest ancestor (itself included) that holds a `snapshots` directory, else the
//!   directory itself, so `--fixtures fixtures/posix` names `posix/…` as the whole catalogue
//!   does.
//! - Scenarios are sorted by name; names are unique.
//! - The built-in catalogue is read-only (its snapshots are compiled in); a directory's
//!   `snapshots/` is where accepted snapshots are read and written.

use std::path::{Path, PathBuf};

use crate::scenario::{self, Scenario};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));
}

/// Scenario file extension.
pub const EXT: &str = "jc";

/// Where a catalogue came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into this build (from the directory named by [`builtin_source`]).
    Builtin,
    /// Read from this root directory.
    Dir(PathBuf),
}

/// A catalogue could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A scenario file is malformed (the error names the file and line).
    #[error(transparent)]
    Parse(#[from] scenario::ParseError),
    /// The directory holds no scenario.
    #[error("no scenario (*.{EXT}) under {}", .0.display())]
    Empty(PathBuf),
}

/// The scenarios and accepted snapshots of one catalogue.
#[derive(Clone, Debug)]
pub struct Catalogue {
    origin: Origin,
    scenarios: Vec<Scenario>,
    /// Accepted snapshot files of the built-in catalogue: (name without `.snap`, file text).
    embedded_snapshots: Vec<(&'static str, &'static str)>,
    /// An overlay's snapshot directory, read first and written by `--accept`.
    overlay_snapshots: Option<PathBuf>,
    /// Shell names overlays declare (known to annotations).
    declared: Vec<String>,
}

/// The directory the built-in catalogue was compiled from (it may no longer exist).
pub fn builtin_source() -> &'static Path {
    Path::new(embedded::CATALOGUE_SOURCE)
}

impl Catalogue {
    /// The catalogue compiled into this build.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        let source = builtin_source();
        let mut scenarios = Vec::new();
        let mut snapshots = Vec::new();
        for &(rel, text) in embedded::CATALOGUE_FILES {
            if let Some(snap) = rel.strip_prefix("snapshots/") {
                snapshots.push((snap.trim_end_matches(".snap"), text));
                continue;
            }
            let name = rel.trim_end_matches(&format!(".{EXT}"));
            let path = source.join(rel);
            scenarios.push(scenario::parse(name, &path, text)?);
        }
        Ok(Catalogue {
            origin: Origin::Builtin,
            scenarios: sorted(scenarios),
            embedded_snapshots: snapshots,
            overlay_snapshots: None,
            declared: Vec::new(),
        })
    }

    /// The scenarios under `dir` (recursively); names are relative to the catalogue root (see
    /// the module invariants).
    pub fn from_dir(dir: &Path) -> Result<Catalogue, CatalogueError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CatalogueError::Io { path, source }
        };
        let dir = dir.canonicalize().map_err(io(dir))?;
        let root = catalogue_root(&dir);
        let mut files = Vec::new();
        collect(&dir, &mut files).map_err(io(&dir))?;
        let mut scenarios = Vec::new();
        for f in files {
            let rel = f.strip_prefix(&root).unwrap_or(&f).with_extension("");
            let name = rel.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&f).map_err(io(&f))?;
            scenarios.push(scenario::parse(&name, &f, &text)?);
        }
        if scenarios.is_empty() {
            return Err(CatalogueError::Empty(dir));
        }
        Ok(Catalogue {
            origin: Origin::Dir(root),
            scenarios: sorted(scenarios),
            embedded_snapshots: Vec::new(),
            overlay_snapshots: None,
            declared: Vec::new(),
        })
    }

    /// Where it came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The scenarios, sorted by name.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// Every shell name the scenarios use is one of `known` (built-in adapters, `--shell`
    /// files, names an overlay declares): the first that is not is an error with its file, line
    /// and the closest known name.
    pub fn check_shells(&self, known: &[String]) -> Result<(), CatalogueError> {
        for s in &self.scenarios {
            s.check_shells(known)?;
        }
        Ok(())
    }

    /// The scenario named `name`, to change (an overlay's steps and annotations).
    pub fn scenario_mut(&mut self, name: &str) -> Option<&mut Scenario> {
        self.scenarios.iter_mut().find(|s| s.name == name)
    }

    /// Take an overlay's snapshot directory (read first, written by `--accept`) and the shell
    /// names it declares.
    pub fn add_overlay(&mut self, snapshots: PathBuf, shells: &[String]) {
        self.overlay_snapshots = Some(snapshots);
        self.declared.extend(shells.iter().cloned());
    }

    /// Shell names overlays declare.
    pub fn declared_shells(&self) -> &[String] {
        &self.declared
    }

    /// The scenario named `name`.
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// The directory accepted snapshots are written to (`None` for the built-in catalogue,
    /// whose snapshots are compiled in).
    pub fn snapshot_dir(&self) -> Option<PathBuf> {
        if let Some(d) = &self.overlay_snapshots {
            return Some(d.clone());
        }
        match &self.origin {
            Origin::Builtin => None,
            Origin::Dir(root) => Some(root.join("snapshots")),
        }
    }

    /// The accepted snapshot named `name` (`<group>__<scenario>@<shell>`), its body only.
    pub fn accepted_snapshot(&self, name: &str) -> Option<String> {
        if let Some(found) = self
            .overlay_snapshots
            .as_ref()
            .and_then(|d| scenario::read_snapshot(d, name))
        {
            return Some(found);
        }
        match &self.origin {
            Origin::Builtin => self
                .embedded_snapshots
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, text)| scenario::snapshot_body(text)),
            Origin::Dir(root) => scenario::read_snapshot(&root.join("snapshots"), name),
        }
    }
}

/// An accepted snapshot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The built-in catalogue's snapshots are compiled in.
    #[error(
        "the built-in catalogue is read-only: give --expectations FILE (snapshots go beside it) \
         or --fixtures DIR (a copy of the catalogue) to accept snapshots"
    )]
    ReadOnly,
    /// The file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// `text` as a YAML scalar for a snapshot's header: plain where YAML reads it back unchanged,
/// else double-quoted (as insta writes it; a title such as `^Z of cat: …` holds `: `, which a
/// plain scalar cannot, and insta would take the whole file for a missing snapshot).
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && text.trim() == text
        && !text.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c));
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("a string serialises")
    }
}

impl Catalogue {
    /// Write `body` as the accepted snapshot `name` of `scn` (insta's file format, so `cargo
    /// insta` and `tests/scenarios.rs` read it); the file written.
    pub fn accept_snapshot(
        &self,
        scn: &Scenario,
        name: &str,
        body: &str,
    ) -> Result<PathBuf, AcceptError> {
        let dir = self.snapshot_dir().ok_or(AcceptError::ReadOnly)?;
        let path = dir.join(format!("{name}.snap"));
        let description = yaml_scalar(&format!("{} (fixtures/{}.{EXT})", scn.title, scn.name));
        let text = format!(
            "---\nsource: tests/scenarios.rs\ndescription: {description}\n---\n{}\n",
            body.trim_end()
        );
        let write = || {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(&path, text)
        };
        write().map_err(|source| AcceptError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }
}

fn sorted(mut scenarios: Vec<Scenario>) -> Vec<Scenario> {
    scenarios.sort_by(|a, b| a.name.cmp(&b.name));
    scenarios
}

/// The nearest ancestor of `dir` (itself included) holding a `snapshots` directory, else `dir`.
fn catalogue_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|a| a.join("snapshots").is_dir())
        .unwrap_or(dir)
        .to_path_buf()
}

/// Every `*.jc` file under `dir`, skipping `snapshots/`.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "snapshots") {
                collect(&p, out)?;
            }
        } else if p.extension().is_some_and(|x| x == EXT) {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_parses_and_has_snapshots() {
        let c = Catalogue::builtin().unwrap();
        assert!(c.scenario("posix/stop-external").is_some());
        assert!(c.accepted_snapshot("posix__stop-external@bash").is_some());
        assert_eq!(c.snapshot_dir(), None);
    }

    #[test]
    fn the_catalogue_names_only_builtin_and_shipped_shells() {
        let known = crate::shells::known_names();
        Catalogue::builtin().unwrap().check_shells(&known).unwrap();
    }

    #[test]
    fn snapshot_descriptions_are_quoted_where_yaml_needs_it() {
        assert_eq!(yaml_scalar("stop (fixtures/x.jc)"), "stop (fixtures/x.jc)");
        assert_eq!(
            yaml_scalar("^Z of cat: a notice (fixtures/x.jc)"),
            r#""^Z of cat: a notice (fixtures/x.jc)""#
        );
        assert_eq!(yaml_scalar("`jobs` lists"), r#""`jobs` lists""#);
    }

    #[test]
    fn a_subdirectory_keeps_the_catalogue_names() {
        let c = Catalogue::from_dir(&builtin_source().join("posix")).unwrap();
        assert!(
            c.scenario("posix/stop-external").is_some(),
            "names keep posix/"
        );
        assert_eq!(c.origin(), &Origin::Dir(builtin_source().to_path_buf()));
    }
}

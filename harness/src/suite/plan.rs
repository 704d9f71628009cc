//! Planning a suite run: which pairs exist and which can run.

use crate::catalogue::{Catalogue, CatalogueError};
use crate::report::ShellInfo;
use crate::scenario::{self, Annotation, Scenario};
use crate::shells::Adapter;

/// A shell of the plan, with its availability (computed once).
#[derive(Clone, Debug)]
pub struct PlannedShell {
    /// Its adapter.
    pub adapter: Adapter,
    /// `Ok(version)` if usable, `Err(reason)` if not.
    pub availability: Result<String, String>,
}

/// One (scenario, shell) pair of the plan.
#[derive(Clone, Debug)]
pub struct PlannedPair {
    /// Index into [`Plan::scenarios`].
    pub scenario: usize,
    /// Index into [`Plan::shells`].
    pub shell: usize,
    /// `scenario::shell` (`posix/stop-external::bash`): the test name.
    pub name: String,
    /// The scenario's annotation for this shell.
    pub annotation: Option<Annotation>,
    /// Why it is not run (`None`: it runs).
    pub skip: Option<String>,
}

/// Every pair of a run, shell by shell, scenarios in catalogue order.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenarios chosen.
    pub scenarios: Vec<Scenario>,
    /// The shells, in the order given.
    pub shells: Vec<PlannedShell>,
    /// The pairs.
    pub pairs: Vec<PlannedPair>,
}

/// A run cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The catalogue uses a shell name nobody declared.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// A scenario asked for by name does not exist.
    #[error("no scenario named {name}{}", .suggestion.as_ref().map_or(String::new(), |s| format!(" (did you mean {s}?)")))]
    UnknownScenario {
        /// The name asked for.
        name: String,
        /// The closest scenario name.
        suggestion: Option<String>,
    },
}

/// Plan a run of the scenarios named in `only` (all if empty) against `shells`. Shell names
/// in the catalogue must be built-in or shipped adapters, among `shells`, or declared by an
/// overlay.
pub fn plan(
    catalogue: &Catalogue,
    shells: Vec<Adapter>,
    only: &[String],
) -> Result<Plan, PlanError> {
    let mut known = crate::shells::known_names();
    known.extend(shells.iter().map(|a| a.name.clone()));
    known.extend(catalogue.declared_shells().iter().cloned());
    // Each name once, first mention first, so the error's list reads cleanly.
    let mut seen = std::collections::HashSet::new();
    known.retain(|n| seen.insert(n.clone()));
    catalogue.check_shells(&known)?;
    let scenarios = choose(catalogue, only)?;
    let shells: Vec<PlannedShell> = shells
        .into_iter()
        .map(|adapter| PlannedShell {
            availability: adapter.availability(),
            adapter,
        })
        .collect();
    let mut pairs = Vec::new();
    for (shell, sh) in shells.iter().enumerate() {
        for (i, scn) in scenarios.iter().enumerate() {
            pairs.push(PlannedPair {
                scenario: i,
                shell,
                name: format!("{}::{}", scn.name, sh.adapter.name),
                annotation: scn.annotations.get(&sh.adapter.name).cloned(),
                skip: scenario::skip_reason(scn, &sh.adapter, &sh.availability),
            });
        }
    }
    Ok(Plan {
        scenarios,
        shells,
        pairs,
    })
}

/// The scenarios named in `only` (every one if empty), in catalogue order.
fn choose(catalogue: &Catalogue, only: &[String]) -> Result<Vec<Scenario>, PlanError> {
    for n in only {
        if catalogue.scenario(n).is_none() {
            let names = catalogue.scenarios().iter().map(|s| s.name.as_str());
            return Err(PlanError::UnknownScenario {
                name: n.clone(),
                suggestion: scenario::closest(n, names).map(String::from),
            });
        }
    }
    Ok(catalogue
        .scenarios()
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .cloned()
        .collect())
}

impl Plan {
    /// The scenario of `pair`.
    pub fn scenario(&self, pair: &PlannedPair) -> &Scenario {
        &self.scenarios[pair.scenario]
    }

    /// The adapter of `pair`.
    pub fn adapter(&self, pair: &PlannedPair) -> &Adapter {
        &self.shells[pair.shell].adapter
    }

    /// The shells as the reports show them.
    pub fn shell_infos(&self) -> Vec<ShellInfo> {
        self.shells
            .iter()
            .map(|s| ShellInfo {
                name: s.adapter.name.clone(),
                version: s.availability.clone(),
            })
            .collect()
    }
}

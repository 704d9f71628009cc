//! Snapshot names and the filters that make screen text comparable across runs (pids).

use std::path::Path;

use super::Scenario;

/// Snapshot name for a pair: `<scenario>@<shell>` with `/` as `__` (file-name safe).
pub fn snapshot_name(scn: &Scenario, shell: &str) -> String {
    format!("{}@{shell}", scn.name.replace('/', "__"))
}
/// Filters applied to snapshot text (pids and such), as (regex, replacement).
/// fish's `jobs` table rows carry the group id: `1       23424   0%      running sleep 30`.
/// ksh93 prints `[1]     823`, mksh every member's pid, bash `job 1[2945] stopped`.
pub const SNAPSHOT_FILTERS: &[(&str, &str)] = &[
    (r"(?m)^\[(\d+)\](?:[ \t]+\d+)+[ \t]*$", "[$1] <pid>"),
    (r"(job \d+)\[\d+\]", "$1[<pid>]"),
    (r"(?m)^(\d+) +-?\d+ +(\d+%) +", "$1  <pgid>  $2  "),
];

/// Apply [`SNAPSHOT_FILTERS`] (for `jobcheck run`, which has no insta).
pub fn filter_snapshot(text: &str) -> String {
    let mut t = text.to_string();
    for (re, rep) in SNAPSHOT_FILTERS {
        t = regex::Regex::new(re)
            .expect("filter")
            .replace_all(&t, *rep)
            .into_owned();
    }
    t
}

/// The accepted content of an insta snapshot file (`None` if absent).
pub fn read_snapshot(dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.snap"))).ok()?;
    snapshot_body(&text)
}

/// The body of an insta snapshot file's text (after its `---` header).
pub fn snapshot_body(text: &str) -> Option<String> {
    let body = text.strip_prefix("---")?;
    let end = body.find("\n---\n")?;
    Some(body[end + 5..].to_string())
}

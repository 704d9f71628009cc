//! The conformance matrix as one self-contained HTML page: the matrix in colour, grouped like
//! the catalogue, each shell's version in its column header, per-shell totals, filters, a
//! tooltip per cell with the reason of its annotation, and a click opening the pair's
//! evidence (every run's result, the failure sentence, transcript, final screen, process
//! table and an in-page replay of the recording).
//!
//! Invariants:
//! - The page loads nothing: its CSS, its script and the asciinema player (vendored from the
//!   npm registry, `harness/assets/asciinema-player/`) are inlined, recordings are embedded, so
//!   it opens from a `file://` URL with no network.
//! - A cell's CSS class is decided by [`Cell`] alone ([`class`]): `pass`, `ok`, `bug`, `na`,
//!   `flaky`, `fail`, `new`; its text is the markdown's ([`Cell::text`] without emphasis).
//! - Recordings are embedded only for pairs that fail the run (FAIL, flaky, new snapshot),
//!   one per pair (its first failed run with a session), each cut to its last
//!   [`RECORDING_LIMIT`] bytes: the page is bounded by the number of failing pairs.
//! - Every text from a run (sentences, transcripts, screens, recordings) is escaped; nothing
//!   a shell printed can close an element or a script.
//!
//! Like the rest of [`crate::report`] this renders records: it runs nothing and reads no file.

use std::fmt::Write as _;

use super::escape_markup as esc;
use super::{Cell, Counts, Pair, RunInfo, RunResult, ScenarioInfo, ShellInfo, counts};
use crate::procfs;
use crate::scenario::Verdict;
use crate::session::Failure;
use crate::transcript::{self, Event, Kind};

/// The most of a recording a page embeds, in bytes (its end: where the failure is).
pub const RECORDING_LIMIT: usize = 256 * 1024;

/// Events of the transcript shown as text in a pair's evidence (the replay has them all).
const TRANSCRIPT_TAIL: usize = 80;

/// The name of the page a report directory holds (`--html DIR` writes `DIR/conformance.html`).
pub const FILE_NAME: &str = "conformance.html";

const PLAYER_JS: &str = include_str!("../../assets/asciinema-player/asciinema-player.min.js");
const PLAYER_CSS: &str = include_str!("../../assets/asciinema-player/asciinema-player.css");
const PAGE_CSS: &str = include_str!("page.css");
const PAGE_JS: &str = include_str!("page.js");

/// A report directory that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("--html {}: cannot be a directory for the report: {source}", .dir.display())]
pub struct DirError {
    /// The directory asked for.
    pub dir: std::path::PathBuf,
    /// Why it cannot be created.
    pub source: std::io::Error,
}

/// Make sure `dir` is a directory the page can be written to (creating it), before a run
/// starts; the page's path in it.
pub fn prepare(dir: &std::path::Path) -> Result<std::path::PathBuf, DirError> {
    let fail = |source| DirError {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let page = dir.join(FILE_NAME);
    if page.is_dir() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            format!("{FILE_NAME} in it is a directory"),
        )));
    }
    Ok(page)
}

/// The CSS class of a cell (see the module invariants).
pub fn class(cell: &Cell) -> &'static str {
    match cell {
        Cell::Pass => "pass",
        Cell::Ok => "ok",
        Cell::Bug { .. } => "bug",
        Cell::NotApplicable => "na",
        Cell::Flaky { .. } => "flaky",
        Cell::Fail => "fail",
        Cell::NewSnapshot => "new",
    }
}

/// The whole page.
pub fn html(
    shells: &[ShellInfo],
    scenarios: &[ScenarioInfo],
    pairs: &[Pair],
    info: &RunInfo,
) -> String {
    let groups = grouped(scenarios);
    let mut out = String::with_capacity(PLAYER_JS.len() + 64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Job-control conformance</title>\n");
    let _ = writeln!(
        out,
        "<style>\n{PLAYER_CSS}\n{PAGE_CSS}</style>\n</head>\n<body>"
    );
    header(&mut out, shells, &groups, info);
    out.push_str("<main>\n");
    matrix(&mut out, shells, &groups, pairs);
    out.push_str("</main>\n");
    panel(&mut out, scenarios, pairs);
    let _ = writeln!(
        out,
        "<script>\n{PLAYER_JS}\n</script>\n<script>\n{PAGE_JS}</script>"
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// Scenarios by catalogue group, groups in name order (`Other` last), as in the markdown.
fn grouped(scenarios: &[ScenarioInfo]) -> Vec<(String, Vec<&ScenarioInfo>)> {
    let mut ordered: Vec<&ScenarioInfo> = scenarios.iter().collect();
    ordered.sort_by_key(|s| (s.group.is_none(), s.group.clone()));
    let mut groups: Vec<(String, Vec<&ScenarioInfo>)> = Vec::new();
    for sc in ordered {
        let label = sc.group.clone().unwrap_or_else(|| "Other".into());
        match groups.last_mut() {
            Some((g, list)) if *g == label => list.push(sc),
            _ => groups.push((label, vec![sc])),
        }
    }
    groups
}

/// Title, how the page was made, the legend and the filters.
fn header(
    out: &mut String,
    shells: &[ShellInfo],
    groups: &[(String, Vec<&ScenarioInfo>)],
    info: &RunInfo,
) {
    out.push_str("<header>\n<h1>Job-control conformance</h1>\n");
    let _ = writeln!(
        out,
        "<p>Generated by <code>{}</code> ({} run(s) per pair, {:.0} s).</p>",
        esc(&info.command),
        info.repeat.max(1),
        info.seconds
    );
    out.push_str(
        "<p class=\"legend\"><span class=\"cell pass\">pass</span> \
         <span class=\"cell ok\">OK</span> passes with an expected, annotated difference \
         <span class=\"cell bug\">BUG</span> a known bug of that shell (an intermittent one \
         may pass) <span class=\"cell na\">n/a</span> not applicable or shell not installed \
         <span class=\"cell flaky\">flaky k of N</span> passed k of N runs \
         <span class=\"cell fail\">FAIL</span> failed. Hover a cell for its reason, click it \
         for its evidence.</p>\n",
    );
    out.push_str("<form id=\"filters\">\n<label><input type=\"checkbox\" id=\"only-bad\"> only FAIL / flaky / BUG</label>\n");
    out.push_str("<label>group <select id=\"group\"><option value=\"\">every group</option>");
    for (g, _) in groups {
        let _ = write!(out, "<option>{}</option>", esc(g));
    }
    out.push_str("</select></label>\n<label>shell <select id=\"shell\"><option value=\"\">every shell</option>");
    for s in shells {
        let _ = write!(out, "<option>{}</option>", esc(&s.name));
    }
    out.push_str("</select></label>\n</form>\n</header>\n");
}

/// The table: a header row of shells with versions, a body per group, totals in the footer.
fn matrix(
    out: &mut String,
    shells: &[ShellInfo],
    groups: &[(String, Vec<&ScenarioInfo>)],
    pairs: &[Pair],
) {
    out.push_str("<table id=\"matrix\">\n<thead><tr><th>scenario</th>");
    for s in shells {
        let version = match &s.version {
            Ok(v) => esc(v),
            Err(e) => format!("not usable: {}", esc(e)),
        };
        let _ = write!(
            out,
            "<th class=\"shell\" data-shell=\"{0}\">{0}<div class=\"version\">{version}</div></th>",
            esc(&s.name)
        );
    }
    out.push_str("</tr></thead>\n");
    for (group, list) in groups {
        let _ = writeln!(
            out,
            "<tbody data-group=\"{0}\"><tr class=\"group\"><th colspan=\"{1}\">{0}</th></tr>",
            esc(group),
            shells.len() + 1
        );
        for sc in list {
            row(out, shells, sc, pairs);
        }
        out.push_str("</tbody>\n");
    }
    totals(out, shells, pairs);
    out.push_str("</table>\n");
}

/// One scenario's row.
fn row(out: &mut String, shells: &[ShellInfo], sc: &ScenarioInfo, pairs: &[Pair]) {
    let _ = write!(
        out,
        "<tr class=\"scenario\"><th><span title=\"{}\">{}</span></th>",
        esc(&sc.title),
        esc(&sc.name)
    );
    for s in shells {
        let found = pairs
            .iter()
            .enumerate()
            .find(|(_, p)| p.scenario == sc.name && p.shell == s.name);
        let Some((i, p)) = found else {
            let _ = write!(
                out,
                "<td class=\"cell na\" data-shell=\"{}\">n/a</td>",
                esc(&s.name)
            );
            continue;
        };
        let cell = p.cell();
        let _ = write!(
            out,
            "<td class=\"cell {}\" data-shell=\"{}\" data-pair=\"{i}\" data-name=\"{}\" title=\"{}\" tabindex=\"0\">{}{}</td>",
            class(&cell),
            esc(&s.name),
            esc(&pair_name(p)),
            esc(&tooltip(p, &cell)),
            esc(&plain_text(&cell)),
            strip(&p.runs)
        );
    }
    out.push_str("</tr>\n");
}

/// `scenario::shell`, the pair's name everywhere else (test names, recordings).
fn pair_name(p: &Pair) -> String {
    format!("{}::{}", p.scenario, p.shell)
}

/// The markdown's cell text without its emphasis.
fn plain_text(cell: &Cell) -> String {
    cell.text().replace("**", "")
}

/// With several runs, one mark per run (`✓` passed, `✗` failed), in order.
fn strip(runs: &[RunResult]) -> String {
    if runs.len() < 2 {
        return String::new();
    }
    let marks: String = runs
        .iter()
        .map(|r| if r.passed { '✓' } else { '✗' })
        .collect();
    format!("<span class=\"runs\">{marks}</span>")
}

/// What hovering a cell says: the annotation's reason, the skip's, or the first failure.
fn tooltip(p: &Pair, cell: &Cell) -> String {
    if let Some((v, reason)) = &p.verdict {
        return format!("{}: {reason}", verdict_word(*v));
    }
    if let Some(reason) = &p.skipped {
        return format!("n/a: {reason}");
    }
    let first_failure = p
        .runs
        .iter()
        .find_map(|r| r.failure.as_deref())
        .and_then(|f| f.lines().next());
    match (cell, first_failure) {
        (Cell::Fail | Cell::Flaky { .. } | Cell::NewSnapshot, Some(f)) => {
            format!("{}: {f}", plain_text(cell))
        }
        _ => format!(
            "{}: {} of {} run(s)",
            plain_text(cell),
            p.passed(),
            p.runs.len()
        ),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "OK",
        Verdict::Bug => "BUG",
        Verdict::NotImplemented => "N-I",
    }
}

/// A totals row: its label, its class, its count.
type TotalRow = (&'static str, &'static str, fn(&Counts) -> usize);

/// Per-shell totals, one row per class (as in the markdown).
fn totals(out: &mut String, shells: &[ShellInfo], pairs: &[Pair]) {
    let per_shell: Vec<Counts> = shells.iter().map(|s| counts(pairs, &s.name)).collect();
    out.push_str("<tfoot>\n");
    let rows: [TotalRow; 7] = [
        ("pass", "pass", |c| c.pass),
        ("OK", "ok", |c| c.ok),
        ("BUG", "bug", |c| c.bug),
        ("n/a", "na", |c| c.na),
        ("flaky", "flaky", |c| c.flaky),
        ("FAIL", "fail", |c| c.fail),
        ("new snapshot", "new", |c| c.new),
    ];
    for (label, class, pick) in rows {
        if class == "new" && per_shell.iter().all(|c| c.new == 0) {
            continue;
        }
        let _ = write!(out, "<tr class=\"total {class}\"><th>{label}</th>");
        for (s, c) in shells.iter().zip(&per_shell) {
            let _ = write!(out, "<td data-shell=\"{}\">{}</td>", esc(&s.name), pick(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tfoot>\n");
}

/// The evidence panel: one hidden section per pair, shown by a click on its cell.
fn panel(out: &mut String, scenarios: &[ScenarioInfo], pairs: &[Pair]) {
    out.push_str("<aside id=\"panel\" hidden>\n<button type=\"button\" id=\"close\" title=\"close (Esc)\">×</button>\n");
    for (i, p) in pairs.iter().enumerate() {
        let title = scenarios
            .iter()
            .find(|s| s.name == p.scenario)
            .map_or("", |s| s.title.as_str());
        evidence(out, i, p, title);
    }
    out.push_str("</aside>\n");
}

/// One pair's section: its result, every run, and the first failed run's evidence.
fn evidence(out: &mut String, i: usize, p: &Pair, title: &str) {
    let cell = p.cell();
    let _ = writeln!(
        out,
        "<section class=\"evidence\" id=\"ev-{i}\" data-name=\"{}\" hidden>\n<h2>{} <span class=\"cell {}\">{}</span></h2>\n<p class=\"title\">{}</p>",
        esc(&pair_name(p)),
        esc(&pair_name(p)),
        class(&cell),
        esc(&plain_text(&cell)),
        esc(title)
    );
    if let Some((v, reason)) = &p.verdict {
        let _ = writeln!(
            out,
            "<p class=\"reason\">{}: {}</p>",
            verdict_word(*v),
            esc(reason)
        );
    }
    if let Some(reason) = &p.skipped {
        let _ = writeln!(out, "<p class=\"reason\">not run: {}</p>", esc(reason));
    }
    runs(out, &p.runs);
    let first = p
        .runs
        .iter()
        .enumerate()
        .find(|(_, r)| r.evidence.is_some() || r.failure.is_some());
    if let Some((k, run)) = first {
        let replay = p.is_failure();
        failed_run(out, i, k + 1, run, replay);
    }
    out.push_str("</section>\n");
}

/// The list of runs: result, time, and a failed run's sentence.
fn runs(out: &mut String, runs: &[RunResult]) {
    if runs.is_empty() {
        return;
    }
    out.push_str("<ol class=\"runs\">\n");
    for (k, r) in runs.iter().enumerate() {
        let (class, word) = match (r.passed, r.new_snapshot) {
            (true, _) => ("pass", "pass"),
            (false, true) => ("new", "new snapshot"),
            (false, false) => ("fail", "failed"),
        };
        let why = r
            .failure
            .as_deref()
            .and_then(|f| f.lines().next())
            .map_or(String::new(), |f| format!(": {}", esc(f)));
        let _ = writeln!(
            out,
            "<li class=\"{class}\">run {} {word}, {:.0} ms{why}</li>",
            k + 1,
            r.millis
        );
    }
    out.push_str("</ol>\n");
}

/// A failed run in full: the sentence, its step, the detail, the session's evidence and,
/// when `replay`, its recording.
fn failed_run(out: &mut String, pair: usize, k: usize, run: &RunResult, replay: bool) {
    let _ = writeln!(out, "<h3>run {k}</h3>");
    let Some(f) = &run.evidence else {
        if let Some(text) = &run.failure {
            let _ = writeln!(out, "<pre class=\"failure\">{}</pre>", esc(text));
        }
        return;
    };
    let _ = writeln!(out, "<p class=\"sentence\">{}</p>", esc(&f.sentence));
    if let Some(step) = &f.step {
        let _ = writeln!(
            out,
            "<p class=\"step\">at <code>{}</code></p>",
            esc(&step.to_string())
        );
    }
    if let Some(d) = &f.detail {
        let _ = writeln!(out, "<pre class=\"detail\">{}</pre>", esc(d.trim_end()));
    }
    let Some(e) = &f.evidence else {
        return;
    };
    let state = e.shell_exit.as_deref().unwrap_or("alive");
    let fg = e
        .foreground
        .map_or("none (hung up)".to_string(), |g| g.to_string());
    let _ = writeln!(
        out,
        "<p class=\"shell\">shell {} pid {} ({}), last prompt {}, terminal's foreground group {}, tag {}</p>",
        esc(&e.shell),
        e.pid,
        esc(state),
        e.last_prompt,
        esc(&fg),
        esc(&e.tag)
    );
    if replay {
        let _ = writeln!(
            out,
            "<h4>replay</h4>\n<div class=\"replay\" data-cast=\"cast-{pair}\"></div>\n<script type=\"application/x-asciicast\" id=\"cast-{pair}\">{}</script>",
            script_safe(&recording(f))
        );
    }
    let _ = writeln!(
        out,
        "<h4>final screen</h4>\n<pre class=\"screen\">{}</pre>",
        esc(e.screen.trim_end())
    );
    let _ = writeln!(
        out,
        "<h4>transcript (last {TRANSCRIPT_TAIL} events)</h4>\n<pre class=\"transcript\">{}</pre>",
        esc(&transcript::format_tail(&e.transcript, TRANSCRIPT_TAIL))
    );
    let _ = writeln!(
        out,
        "<h4>processes</h4>\n<pre class=\"processes\">{}</pre>",
        esc(&procfs::format_table(&e.processes))
    );
    if let Some(path) = &f.recording {
        let _ = writeln!(
            out,
            "<p class=\"recording\">recording: <code>{}</code></p>",
            esc(&path.display().to_string())
        );
    }
}

/// The failure's asciicast, ending with a marker naming the failed step (as the recording
/// file does), cut to its last [`RECORDING_LIMIT`] bytes.
pub fn recording(f: &Failure) -> String {
    let Some(e) = &f.evidence else {
        return String::new();
    };
    let mut events: Vec<Event> = e.transcript.clone();
    let at = f
        .step
        .as_ref()
        .map_or(String::new(), |s| format!(" at {s}"));
    events.push(Event {
        t: events.last().map(|ev| ev.t).unwrap_or_default(),
        kind: Kind::Note,
        bytes: format!("FAIL{at}: {}", f.sentence).into_bytes(),
    });
    let cast = transcript::asciicast(&events, e.rows, e.cols, &e.term, &e.session);
    cut(&cast, RECORDING_LIMIT)
}

/// An asciicast cut to at most `limit` bytes: its header, a marker saying how many events
/// were cut, then as many of its last events as fit (whole lines only).
pub fn cut(cast: &str, limit: usize) -> String {
    if cast.len() <= limit {
        return cast.to_string();
    }
    let (header, body) = cast.split_once('\n').unwrap_or((cast, ""));
    let lines: Vec<&str> = body.lines().collect();
    // Room for the header and the marker (its text is short and bounded).
    let budget = limit.saturating_sub(header.len() + 1 + 160);
    let mut kept = 0;
    let mut size = 0;
    for line in lines.iter().rev() {
        if size + line.len() + 1 > budget {
            break;
        }
        size += line.len() + 1;
        kept += 1;
    }
    let first = lines.len() - kept;
    let t = lines
        .get(first)
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v.get(0).and_then(serde_json::Value::as_f64))
        .unwrap_or(0.0);
    let marker = serde_json::json!([
        t,
        "m",
        format!(
            "jobcheck: {first} earlier events cut (recordings in a report keep their last {} KB)",
            limit / 1024
        )
    ]);
    let mut out = String::with_capacity(limit);
    out.push_str(header);
    out.push('\n');
    out.push_str(&marker.to_string());
    out.push('\n');
    for line in &lines[first..] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Text safe inside `<script>`: an asciicast is JSON lines, where `<` occurs only inside
/// strings, so writing it as `\u003c` keeps the JSON the same and no `</script>` can occur.
fn script_safe(cast: &str) -> String {
    cast.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_the_header_a_marker_and_the_last_whole_events() {
        let mut cast = String::from("{\"version\":2,\"width\":80,\"height\":24}\n");
        for i in 0..1000 {
            let _ = writeln!(cast, "[{i}.5, \"o\", \"line {i:04} {}\"]", "x".repeat(40));
        }
        let small = cut(&cast, 8 * 1024);
        assert!(small.len() <= 8 * 1024, "{}", small.len());
        let lines: Vec<&str> = small.lines().collect();
        assert_eq!(lines[0], "{\"version\":2,\"width\":80,\"height\":24}");
        let marker: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(marker[1], "m");
        assert!(marker[2].as_str().unwrap().contains("earlier events cut"));
        assert!(lines.last().unwrap().contains("line 0999"));
        for l in &lines[2..] {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
        assert_eq!(cut(&cast, cast.len()), cast);
    }

    fn pair(scenario: &str, verdict: Option<Verdict>, runs: &[bool]) -> Pair {
        Pair {
            scenario: scenario.into(),
            shell: "bash".into(),
            verdict: verdict.map(|v| (v, "because <why>".into())),
            skipped: None,
            runs: runs
                .iter()
                .map(|&passed| RunResult {
                    passed,
                    millis: 10.0,
                    failure: (!passed).then(|| "x.jc:3: timed out\nmore".into()),
                    new_snapshot: false,
                    evidence: (!passed).then(|| Box::new(Failure::plain("timed out <here>"))),
                })
                .collect(),
        }
    }

    #[test]
    fn cells_carry_class_tooltip_and_runs_and_evidence_is_escaped() {
        let shells = vec![ShellInfo {
            name: "bash".into(),
            version: Ok("GNU bash, version 5.2.15".into()),
        }];
        let scenarios: Vec<ScenarioInfo> = ["g/a", "g/b", "g/c"]
            .iter()
            .map(|n| ScenarioInfo {
                name: n.to_string(),
                title: format!("title <{n}>"),
                group: Some("A. Ctrl-C".into()),
            })
            .collect();
        let pairs = vec![
            pair("g/a", Some(Verdict::Bug), &[false, false]),
            pair("g/b", None, &[true, false]),
            pair("g/c", None, &[true, true]),
        ];
        let page = html(&shells, &scenarios, &pairs, &RunInfo::default());
        assert!(page.contains(
            "<td class=\"cell bug\" data-shell=\"bash\" data-pair=\"0\" data-name=\"g/a::bash\" title=\"BUG: because &lt;why&gt;\""
        ));
        assert!(page.contains("title=\"flaky 1 of 2: x.jc:3: timed out\" tabindex=\"0\">flaky 1 of 2<span class=\"runs\">✓✗</span>"));
        assert!(page.contains("<td class=\"cell pass\""));
        assert!(
            page.contains("<tr class=\"total bug\"><th>BUG</th><td data-shell=\"bash\">1</td>")
        );
        assert!(page.contains("GNU bash, version 5.2.15"));
        assert!(page.contains("<tbody data-group=\"A. Ctrl-C\">"));
        assert!(page.contains("<p class=\"sentence\">timed out &lt;here&gt;</p>"));
        assert!(page.contains("<li class=\"fail\">run 2 failed, 10 ms: x.jc:3: timed out</li>"));
        assert!(!page.contains("timed out <here>"));
        assert!(
            !page.contains("application/x-asciicast"),
            "no session, no replay"
        );
    }

    #[test]
    fn script_text_cannot_close_its_element() {
        let cast = "[0.1, \"o\", \"</script><b>\"]\n";
        let safe = script_safe(cast);
        assert!(!safe.contains("</"));
        let v: serde_json::Value = serde_json::from_str(safe.trim()).unwrap();
        assert_eq!(v[2], "</script><b>");
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

//! Tab completion: op names where an op may stand, variable names inside expressions and after
//! `>$`/`<$`, and paths everywhere else.

use reedline::{Completer, CompletionResult, Span, Suggestion};
use std::sync::{Arc, Mutex};

/// Completes from the ops, the shell's current variable names, and the file system.
pub struct MarshCompleter {
    /// The variable names, refreshed by the shell before each prompt.
    pub variables: Arc<Mutex<Vec<String>>>,
}

impl Completer for MarshCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> CompletionResult {
        let pos = pos.min(line.len());
        let before = &line[..pos];
        let in_expr = before.matches('(').count() > before.matches(')').count();
        // Inside an expression a word is a name; elsewhere it runs to the last space or pipe.
        let is_boundary = |c: char| {
            if in_expr {
                !(c.is_alphanumeric() || c == '_')
            } else {
                c.is_whitespace() || c == '|'
            }
        };
        let start = before.rfind(is_boundary).map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
        let word = &before[start..];
        let prev = before[..start].trim_end();
        let span = Span::new(start, pos);
        let mut out: Vec<Suggestion> = Vec::new();
        let vars = self.variables.lock().map(|v| v.clone()).unwrap_or_default();
        let op_position = prev.is_empty() || prev.ends_with('|') || prev.ends_with("<$");
        if prev.ends_with(">$") || prev.ends_with("<$") && word.is_empty() || in_expr {
            out.extend(matching(&vars, word, span));
        }
        if op_position && !in_expr {
            let ops: Vec<String> = crate::ops::names().map(String::from).collect();
            out.extend(matching(&ops, word, span));
            if prev.is_empty() {
                out.extend(matching(&vars, word, span));
            }
        }
        if out.is_empty() && !in_expr {
            out.extend(paths(word, span));
        }
        CompletionResult::fresh(out)
    }
}

fn matching(candidates: &[String], word: &str, span: Span) -> Vec<Suggestion> {
    let mut found: Vec<Suggestion> = candidates
        .iter()
        .filter(|c| c.starts_with(word))
        .map(|c| Suggestion {
            value: c.clone(),
            span,
            append_whitespace: true,
            ..Default::default()
        })
        .collect();
    found.sort_by(|a, b| a.value.cmp(&b.value));
    found.dedup_by(|a, b| a.value == b.value);
    found
}

/// Files and directories starting with `word` (a directory gets a trailing `/`).
fn paths(word: &str, span: Span) -> Vec<Suggestion> {
    let (dir, prefix) = match word.rfind('/') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let read_from = if dir.is_empty() {
        ".".to_string()
    } else {
        crate::exec::host::expand_tilde(dir)
    };
    let Ok(entries) = std::fs::read_dir(&read_from) else {
        return Vec::new();
    };
    let mut out: Vec<Suggestion> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            let value = format!("{dir}{name}{}", if is_dir { "/" } else { "" });
            Some(Suggestion {
                value,
                span,
                append_whitespace: !is_dir,
                ..Default::default()
            })
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(c: &mut MarshCompleter, line: &str) -> Vec<String> {
        c.complete(line, line.len())
            .suggestions()
            .iter()
            .map(|s| s.value.clone())
            .collect()
    }

    #[test]
    fn completes_ops_variables_and_paths() {
        let mut c = MarshCompleter {
            variables: Arc::new(Mutex::new(vec!["total".into(), "tally".into()])),
        };
        assert_eq!(values(&mut c, "ge"), ["gen"]);
        assert_eq!(values(&mut c, "gen 3 | he"), ["head", "help"]);
        assert_eq!(values(&mut c, "gen 3 | map (x: x + ta"), ["tally"]);
        assert_eq!(values(&mut c, "gen 3 >$ to"), ["total"]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        let base = dir.path().display().to_string();
        assert_eq!(
            values(&mut c, &format!("< {base}/no")),
            [format!("{base}/notes.txt")]
        );
        assert_eq!(
            values(&mut c, &format!("ls {base}/ne")),
            [format!("{base}/nested/")]
        );
    }
}

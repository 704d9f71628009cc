//! Failure reports: the message with the transcript tail, the screen and the process table,
//! and an asciicast of the session written under the artifacts directory.

use std::path::PathBuf;

use super::{Failure, Session};
use crate::procfs;
use crate::transcript;

impl Session {
    /// Build a failure with the report (and write the asciicast).
    pub fn failure(&self, message: &str) -> Failure {
        self.reported.set(true);
        Failure {
            message: format!("[{}] {message}", self.opts.name),
            report: self.report(),
        }
    }

    /// Transcript tail, screen, process table, foreground group; writes the asciicast.
    pub fn report(&self) -> String {
        let (tail, screen, cast) = {
            let st = self.shared.lock();
            (
                transcript::format_tail(&st.events, 40),
                st.screen.contents(),
                transcript::asciicast(
                    &st.events,
                    self.opts.rows,
                    self.opts.cols,
                    &self.adapter.term,
                    &self.opts.name,
                ),
            )
        };
        let cast_path = write_cast(&self.opts.name, &cast);
        format!(
            "--- shell {} pid {} tag {} last prompt {} fg {:?}\n--- transcript (last events):\n{tail}--- screen:\n{screen}\n--- processes:\n{}--- asciicast: {}\n",
            self.adapter.name,
            self.shell_pid,
            self.tag,
            self.last_prompt,
            self.foreground(),
            procfs::format_table(&self.processes()),
            cast_path
                .map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("not written: {e}")),
        )
    }
}

/// Directory for artifacts: `$JOBCHECK_ARTIFACTS`, else `<target>/jobcheck` found from the
/// running executable (the ancestor holding `CACHEDIR.TAG`), else the temp dir.
pub fn artifacts_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("JOBCHECK_ARTIFACTS") {
        return PathBuf::from(d);
    }
    if let Ok(exe) = std::env::current_exe() {
        for a in exe.ancestors() {
            if a.join("CACHEDIR.TAG").is_file() {
                return a.join("jobcheck");
            }
        }
    }
    std::env::temp_dir().join("jobcheck")
}

fn write_cast(name: &str, cast: &str) -> std::io::Result<PathBuf> {
    let dir = artifacts_dir();
    std::fs::create_dir_all(&dir)?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '@' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{safe}.cast"));
    std::fs::write(&path, cast)?;
    Ok(path)
}

//! Helpers shared by the integration tests: run `marsh` non-interactively and describe what
//! happened in one text block for a snapshot; start a shell under jobcheck.

#![allow(dead_code)]

use std::path::Path;

/// What one `marsh -c` run printed and returned.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Runs `marsh -c command` in `dir` with a clean, predictable environment.
pub fn marsh_in(dir: &Path, command: &str) -> Run {
    let out = assert_cmd::Command::cargo_bin("marsh")
        .expect("the marsh binary is built")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("LANG", "C.UTF-8")
        .env("MARSH_RUNTIME_DIR", dir.join(".marsh-runtime"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("marsh runs");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

/// Runs `marsh -c command` in a fresh temporary directory.
pub fn marsh(command: &str) -> Run {
    let dir = tempfile::tempdir().expect("a temp dir");
    marsh_in(dir.path(), command)
}

impl Run {
    /// The transcript a snapshot holds: the command, its output, its errors and its status.
    pub fn transcript(&self, command: &str) -> String {
        let mut s = format!("$ {command}\n{}", self.stdout);
        if !self.stderr.is_empty() {
            s.push_str("--- stderr\n");
            s.push_str(&self.stderr);
        }
        s.push_str(&format!("--- status {}\n", self.status));
        s
    }
}

/// Runs each command and joins their transcripts, for one snapshot per group of cases.
pub fn transcripts(commands: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    commands
        .iter()
        .map(|c| marsh_in(dir.path(), c).transcript(c))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- jobcheck sessions -------------------------------------------------------------------

use std::path::PathBuf;

use jobcheck::{Adapter, Options, Session};

/// The built-in adapter for `name` (bash and dash are always installed here).
pub fn adapter(name: &str) -> Adapter {
    let mut a = jobcheck::shells::by_name(name).expect("adapter");
    if name == "marsh" {
        // The marsh this package just built, wherever PATH points.
        a.program = env!("CARGO_BIN_EXE_marsh").into();
    }
    a
}

/// Directory holding this package's binaries (jobprobe, jobcheck).
pub fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jobprobe"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Spawn `shell` with jobprobe on PATH and wait for its first prompt.
pub fn start(shell: &str, name: &str) -> Session {
    start_with(shell, name, Vec::new())
}

/// [`start`] with extra environment variables for the shell.
pub fn start_with(shell: &str, name: &str, env: Vec<(String, String)>) -> Session {
    let opts = Options {
        name: format!("{name}@{shell}"),
        path_prepend: vec![bin_dir()],
        env,
        ..Options::default()
    };
    let mut s = Session::spawn_with(&adapter(shell), opts).expect("spawn");
    s.wait_prompt().expect("first prompt");
    s
}

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

/// The fenced blocks of `docs/language.md` whose info string is `tag`: each block's first line
/// number (from 1) and its text.
pub fn doc_blocks(tag: &str) -> Vec<(usize, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md");
    let doc = std::fs::read_to_string(path).expect("docs/language.md");
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        match &mut open {
            Some(_) if line.trim_end() == "```" => blocks.extend(open.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None if line.trim_end() == format!("```{tag}") => open = Some((i + 2, String::new())),
            None => {}
        }
    }
    assert!(
        open.is_none(),
        "an unclosed ```{tag} block in docs/language.md"
    );
    blocks
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

/// Directory holding the built binaries: this package's `marsh`, and `jobprobe` beside it
/// (checked fresh, see [`ensure_jobprobe`]).
pub fn bin_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_marsh"))
        .parent()
        .expect("a directory")
        .to_path_buf();
    static PROBE: std::sync::Once = std::sync::Once::new();
    PROBE.call_once(|| ensure_jobprobe(&dir));
    dir
}

/// `jobprobe` belongs to the `jobcheck` package, so cargo gives this package's tests no
/// `CARGO_BIN_EXE_jobprobe`. The same target directory holds it: `cargo test` at the workspace
/// root builds it with everything, but `cargo test --test NAME` builds this package alone. So
/// check that `DIR/jobprobe` exists and was built from the probe source this test links
/// (`jobprobe --source-id` equals [`jobcheck::probe::SOURCE_ID`]); if not, build it with cargo
/// (same profile and target directory), and fail with what to run if that does not help.
fn ensure_jobprobe(dir: &Path) {
    let probe = dir.join("jobprobe");
    let want = format!("{:016x}", jobcheck::probe::SOURCE_ID);
    let fresh = || {
        std::process::Command::new(&probe)
            .arg("--source-id")
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == want)
    };
    if fresh() {
        return;
    }
    let target = dir.parent().filter(|t| t.join("CACHEDIR.TAG").is_file());
    if let Some(target) = target {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args([
            "build", "--quiet", "--locked", "-p", "jobcheck", "--bin", "jobprobe",
        ])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target);
        match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(profile) => {
                cmd.args(["--profile", profile]);
            }
        }
        let _ = cmd.status();
    }
    assert!(
        fresh(),
        "{} is missing or was built from other sources than the jobcheck library these tests \
         link, and building it did not help: run `cargo build --locked -p jobcheck --bin \
         jobprobe` (or `cargo test --locked` at the workspace root, which builds it)",
        probe.display()
    );
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

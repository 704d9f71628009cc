//! Helpers shared by the harness integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use jobcheck::{Adapter, Options, Session};

/// The built-in adapter for `name` (bash and dash are always installed here).
pub fn adapter(name: &str) -> Adapter {
    jobcheck::shells::by_name(name).expect("adapter")
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
    let opts = Options {
        name: format!("{name}@{shell}"),
        path_prepend: vec![bin_dir()],
        ..Options::default()
    };
    let mut s = Session::spawn_with(&adapter(shell), opts).expect("spawn");
    s.wait_prompt().expect("first prompt");
    s
}

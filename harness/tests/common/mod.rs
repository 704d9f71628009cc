//! Helpers shared by jobcheck's own integration tests: start a shell under jobcheck with this
//! package's `jobprobe` on PATH.

#![allow(dead_code)]

use std::path::PathBuf;

use jobcheck::{Adapter, Options, Session};

/// The built-in adapter for `name` (bash and dash are installed wherever these tests run:
/// `ci/install-deps`).
pub fn adapter(name: &str) -> Adapter {
    jobcheck::shells::by_name(name).expect("a built-in adapter")
}

/// Directory holding this package's binaries (jobprobe, jobcheck).
pub fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jobprobe"))
        .parent()
        .expect("a directory")
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

//! The `jobcheck` binary as a user meets it: what it refuses at load time and what it says.
//! Runs that start shells use bash (installed wherever these tests run: `ci/install-deps`).

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// `jobcheck ARGS` with its artifacts in `dir` (and no cargo around it: it would build marsh).
fn jobcheck(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobcheck"))
        .env_remove("CARGO")
        .env("JOBCHECK_ARTIFACTS", dir.join("artifacts"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("jobcheck runs")
}

/// Write `files` (path, text) under `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_misspelt_shell_name_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "cat/g/x.jc",
            "title: t\ntype true\nOK zhs: wording\nwait prompt\n",
        )],
    );
    let o = jobcheck(dir.path(), &["run", "--fixtures", "cat", "--shell", "bash"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("x.jc:3: unknown shell `zhs` (did you mean `zsh`?)"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "nothing ran");
}

#[test]
fn a_bad_step_argument_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[("cat/x.jc", "type true\nexpect status abc\n")],
    );
    let o = jobcheck(dir.path(), &["run", "--fixtures", "cat", "--shell", "bash"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("x.jc:2: `expect status abc`: expected an exit status"));
}

#[test]
fn shells_validates_an_adapter_file() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        "name = 'mybash'\nprogram = 'bash'\nprompt = 'mb {n}$ '\nversion_args = ['--version']\n";
    write(
        dir.path(),
        &[
            ("good.toml", good),
            ("bad.toml", "name = 'b'\nprogram = 'bash'\npromt = 'x'\n"),
        ],
    );
    let o = jobcheck(
        dir.path(),
        &["shells", "--shell", "good.toml", "--shell", "bash"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("mybash installed  GNU bash"), "{out}");
    assert_eq!(out.lines().count(), 2, "only the shells asked for: {out}");
    let o = jobcheck(dir.path(), &["shells", "--shell", "bad.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.toml:3: unknown field `promt` (did you mean `prompt`?)"),
        "{}",
        stderr(&o)
    );
    let o = jobcheck(dir.path(), &["shells", "--shell", "bsah"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown shell `bsah` (did you mean `bash`?)"),
        "{}",
        stderr(&o)
    );
}

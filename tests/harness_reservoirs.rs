//! marsh only: the reservoir check finds a stray file in the session directory. Runs when the
//! marsh adapter is usable (a real marsh on PATH, or `JOBCHECK_MARSH_PROGRAM`); otherwise it says
//! why it did nothing.

mod common;

#[test]
fn marsh_stray_file_in_session_dir_is_caught() {
    let marsh = common::adapter("marsh");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![common::bin_dir()];
    dirs.extend(std::env::split_paths(&path));
    let found = std::env::split_paths(&std::env::join_paths(dirs).unwrap())
        .map(|d| d.join(&marsh.program))
        .find(|p| p.is_file());
    let mut marsh = marsh;
    if let Some(p) = found.filter(|_| !marsh.program.contains('/')) {
        marsh.program = p.to_string_lossy().into_owned();
    }
    if let Err(why) = marsh.availability() {
        println!("not run: {why}");
        return;
    }
    let mut s = jobcheck::Session::spawn(&marsh).unwrap();
    s.wait_prompt().unwrap();
    s.run("gen 3 >$ x").unwrap();
    s.check_reservoirs().unwrap();
    let runtime = s.dir().join("runtime");
    let session = std::fs::read_dir(&runtime)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(session.join("stray.rsv"), b"").unwrap();
    let err = s.check_reservoirs().unwrap_err();
    assert!(err.message.contains("stray.rsv"), "{err}");
}

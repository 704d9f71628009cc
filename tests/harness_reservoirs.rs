//! marsh only: the reservoir check finds a stray file in the session directory (the marsh this
//! package builds).

mod common;

#[test]
fn marsh_stray_file_in_session_dir_is_caught() {
    let marsh = common::adapter("marsh");
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
    assert!(err.sentence().contains("stray.rsv"), "{err}");
}

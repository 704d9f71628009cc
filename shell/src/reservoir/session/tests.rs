use super::*;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn open_creates_a_private_directory_and_close_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("a/b/marsh");
    let s = Session::open_in(&base).unwrap();
    assert_eq!(mode(&base), 0o700);
    assert_eq!(mode(&tmp.path().join("a")), 0o700);
    assert_eq!(mode(s.dir()), 0o700);
    assert!(is_session_name(s.id()), "{}", s.id());
    assert!(s.id().starts_with(&format!("{}-", std::process::id())));
    assert_eq!(s.dir(), base.join(s.id()));
    // The lock descriptor is close-on-exec.
    // SAFETY: F_GETFD on a descriptor we own.
    let flags = unsafe { libc::fcntl(s.lock.as_raw_fd(), libc::F_GETFD) };
    assert!(flags & libc::FD_CLOEXEC != 0);
    std::fs::write(s.dir().join("junk"), b"x").unwrap();
    let dir = s.dir().to_path_buf();
    s.close().unwrap();
    assert!(!dir.exists());
    assert!(base.exists());

    let s = Session::open_in(&base).unwrap();
    let dir = s.dir().to_path_buf();
    assert!(dir.exists());
    drop(s);
    assert!(!dir.exists());
}

#[test]
fn symlinked_runtime_dir_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let e = Session::open_in(&link).unwrap_err();
    assert!(matches!(e, SessionError::Symlink { .. }), "{e:?}");
    assert!(e.to_string().contains("symbolic link"), "{e}");
    // Nothing was created through the link.
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);

    // A dangling link too.
    let dangling = tmp.path().join("dangling");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    let e = Session::open_in(&dangling).unwrap_err();
    assert!(matches!(e, SessionError::Symlink { .. }), "{e:?}");
    assert!(!tmp.path().join("nowhere").exists());

    let file = tmp.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let e = Session::open_in(&file).unwrap_err();
    assert!(matches!(e, SessionError::NotADirectory { .. }), "{e:?}");

    let open = tmp.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = Session::open_in(&open).unwrap_err();
    assert!(matches!(e, SessionError::Insecure { .. }), "{e:?}");
}

#[test]
fn runtime_dir_owned_by_someone_else_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(&other, Some(65534), Some(65534)).unwrap();
        let e = Session::open_in(&other).unwrap_err();
        assert!(matches!(e, SessionError::NotOwned { .. }), "{e:?}");
    } else {
        eprintln!("skipped the chown part: not root");
    }
}

#[test]
fn dead_sessions_are_reaped_and_other_things_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("rt");
    std::fs::create_dir(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700)).unwrap();
    let dead = base.join("123-0123456789abcdef");
    std::fs::create_dir_all(dead.join("sub")).unwrap();
    std::fs::write(dead.join("x.1.rsv"), b"data").unwrap();
    let half = base.join(".new-77-fedcba9876543210");
    std::fs::create_dir(&half).unwrap();
    let keep = base.join("keepme");
    std::fs::create_dir(&keep).unwrap();
    let keep_file = base.join("5-0123456789abcdef");
    std::fs::write(&keep_file, b"a file named like a session").unwrap();
    // A symlink named like a session, pointing at a directory with content: neither is touched.
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("precious"), b"!").unwrap();
    let link = base.join("6-0123456789abcdef");
    std::os::unix::fs::symlink(&victim, &link).unwrap();

    let s = Session::open_in(&base).unwrap();
    let mut reaped = s.reaped().to_vec();
    reaped.sort();
    assert_eq!(reaped, vec![half.clone(), dead.clone()]);
    assert!(!dead.exists() && !half.exists());
    assert!(keep.exists() && keep_file.exists());
    assert!(victim.join("precious").exists());
    assert!(std::fs::symlink_metadata(&link).is_ok());
}

#[test]
fn a_live_session_is_never_reaped() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("rt");
    let s1 = Session::open_in(&base).unwrap();
    std::fs::write(s1.dir().join("x.1.rsv"), b"data").unwrap();
    let s2 = Session::open_in(&base).unwrap();
    assert!(s2.reaped().is_empty());
    assert!(s1.dir().join("x.1.rsv").exists());
    assert_ne!(s1.id(), s2.id());
    let d1 = s1.dir().to_path_buf();
    drop(s1);
    assert!(!d1.exists());
    assert!(s2.dir().exists());
}

/// Another process holds the lock on a session directory (whatever its name says about pids):
/// it is left alone until that process dies, then reaped.
#[test]
fn a_directory_locked_by_another_process_is_never_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("rt");
    std::fs::create_dir(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Named with a pid that surely isn't its holder's (pid reuse can't matter).
    let other = base.join("1-00000000deadbeef");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("x.1.rsv"), b"data").unwrap();
    let c_path = CString::new(other.as_os_str().as_encoded_bytes()).unwrap();
    let (rd, wr) = nix::unistd::pipe().unwrap();
    // SAFETY: the child only makes async-signal-safe system calls, then waits to be killed.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => unsafe {
            let fd = libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            if fd < 0 || libc::flock(fd, libc::LOCK_EX) != 0 {
                libc::_exit(1);
            }
            libc::write(wr.as_raw_fd(), b"x".as_ptr().cast(), 1);
            loop {
                libc::pause();
            }
        },
        ForkResult::Parent { child } => {
            drop(wr);
            let mut b = [0u8; 1];
            assert_eq!(nix::unistd::read(&rd, &mut b).unwrap(), 1);
            let s = Session::open_in(&base).unwrap();
            assert!(s.reaped().is_empty());
            assert!(other.join("x.1.rsv").exists());
            kill(child, Signal::SIGKILL).unwrap();
            waitpid(child, None).unwrap();
            let s2 = Session::open_in(&base).unwrap();
            assert_eq!(s2.reaped(), std::slice::from_ref(&other));
            assert!(!other.exists());
            assert!(s.dir().exists());
        }
    }
}

#[test]
fn a_forked_child_never_removes_the_session() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Session::open_in(&tmp.path().join("rt")).unwrap();
    let dir = s.dir().to_path_buf();
    // SAFETY: the child drops its copy of the session (which must do nothing) and exits.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            let r = s.close();
            let code = if r.is_ok() && dir.exists() { 0 } else { 1 };
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            let st = waitpid(child, None).unwrap();
            assert_eq!(st, nix::sys::wait::WaitStatus::Exited(child, 0));
            assert!(dir.exists());
            // The child's exit released nothing we hold: the session is still locked.
            let s2 = Session::open_in(&tmp.path().join("rt")).unwrap();
            assert!(s2.reaped().is_empty());
            assert!(dir.exists());
            drop(s);
            assert!(!dir.exists());
        }
    }
}

#[test]
fn runtime_base_is_absolute() {
    assert!(runtime_base().is_absolute());
}

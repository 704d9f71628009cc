use super::*;
use crate::reservoir::format::tests::{FailAfter, same};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

fn session() -> (tempfile::TempDir, Session) {
    let tmp = tempfile::tempdir().unwrap();
    let s = Session::open_in(&tmp.path().join("rt")).unwrap();
    (tmp, s)
}

fn ints(r: std::ops::Range<i64>) -> Vec<Value> {
    r.map(Value::Int).collect()
}

fn read(r: &Reservoir) -> Vec<Value> {
    r.reader().map(Result::unwrap).collect()
}

/// The names in the session directory, sorted.
fn names(s: &Session) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(s.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn no_tmp(s: &Session) -> bool {
    names(s).iter().all(|n| !n.ends_with(".tmp"))
}

#[test]
fn file_stems_are_safe() {
    assert_eq!(file_stem("x"), "x");
    assert_eq!(file_stem("../a b"), "___a_b");
    assert_eq!(file_stem(""), "_");
    assert_eq!(file_stem(&"é".repeat(100)).len(), 48);
}

#[test]
fn store_read_and_env_form() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..1000)).unwrap();
    assert_eq!(x.items(), 1000);
    assert_eq!(read(&x), ints(0..1000));
    let files: Vec<&Path> = x.files().collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].parent().unwrap(), s.dir());
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("x.") && name.ends_with(".rsv"), "{name}");
    assert_eq!(
        x.to_string(),
        format!(
            "reservoir 1000 items, {} bytes: {}",
            x.bytes(),
            files[0].display()
        )
    );
    assert_eq!(x.verify().unwrap(), 1000);
    assert_eq!(x.bytes(), std::fs::metadata(files[0]).unwrap().len());
    // Mode 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(files[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let empty = s.store("e", Vec::new()).unwrap();
    assert_eq!(empty.items(), 0);
    assert!(read(&empty).is_empty());
}

#[test]
fn store_replaces_and_the_old_files_go_when_released() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..5)).unwrap();
    let old_file = x.files().next().unwrap().to_path_buf();
    let p = s.begin_store("x").unwrap();
    assert!(p.path().exists());
    assert!(p.path().to_str().unwrap().ends_with(".tmp"));
    let mut w = p.writer().unwrap();
    for v in ints(10..20) {
        w.push(&v).unwrap();
    }
    // Not finished yet: the old value is untouched and still readable.
    assert_eq!(read(&x), ints(0..5));
    assert_eq!(w.finish().unwrap(), 10);
    let new = p.commit_store().unwrap();
    // A stream of the old value keeps its file until the stream ends.
    let mut stream = x.reader();
    x.release();
    assert!(old_file.exists());
    assert_eq!(stream.next().unwrap().unwrap(), Value::Int(0));
    drop(stream);
    assert!(!old_file.exists());
    assert_eq!(read(&new), ints(10..20));
    assert_eq!(names(&s).len(), 1);
}

#[test]
fn append_and_concurrent_appends() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..3)).unwrap();
    let a = s.begin_store("x").unwrap();
    let b = s.begin_store("x").unwrap();
    let mut wa = a.writer().unwrap();
    let mut wb = b.writer().unwrap();
    for i in 100..105 {
        wa.push(&Value::Int(i)).unwrap();
        wb.push(&Value::Int(i + 100)).unwrap();
    }
    // b finishes first and commits first.
    wb.finish().unwrap();
    let x1 = b.commit_append(Some(&x)).unwrap();
    drop(x);
    wa.finish().unwrap();
    let x2 = a.commit_append(Some(&x1)).unwrap();
    drop(x1);
    let mut want = ints(0..3);
    want.extend(ints(200..205));
    want.extend(ints(100..105));
    assert_eq!(read(&x2), want);
    assert_eq!(x2.items(), 13);
    assert_eq!(x2.files().count(), 3);
    assert!(x2.to_string().starts_with("reservoir 13 items, "));
    assert_eq!(x2.to_string().split(' ').count(), 5 + 3);
    // Appending to an unbound variable.
    let p = s.begin_store("y").unwrap();
    let mut w = p.writer().unwrap();
    w.push(&Value::str("a")).unwrap();
    w.finish().unwrap();
    let y = p.commit_append(None).unwrap();
    assert_eq!(read(&y), vec![Value::str("a")]);
    // Releasing everything deletes every file.
    drop((x2, y));
    assert!(names(&s).is_empty());
}

#[test]
fn copy_between_reservoirs() {
    let (_t, s) = session();
    let values = vec![
        Value::None,
        Value::Float(-0.0),
        Value::Float(f64::NAN),
        Value::tuple(vec![Value::Int(1), Value::str("ü"), Value::list(vec![])]),
    ];
    let x = s.store("x", values.clone()).unwrap();
    let y = s.store("y", x.reader().map(Result::unwrap)).unwrap();
    let got = read(&y);
    assert_eq!(got.len(), values.len());
    assert!(values.iter().zip(&got).all(|(a, b)| same(a, b)));
    assert_ne!(
        x.files().next().unwrap(),
        y.files().next().unwrap(),
        "a copy is a new file"
    );
}

#[test]
fn a_failing_writer_leaves_the_old_value_and_no_temporary_file() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..3)).unwrap();
    for commit_anyway in [false, true] {
        let p = s.begin_store("x").unwrap();
        let mut w = ReservoirWriter::new(FailAfter {
            inner: p.file().try_clone().unwrap(),
            left: 200_000,
        });
        let err = (0..10_000_000)
            .map(|i| w.push(&Value::Int(i)))
            .find_map(Result::err)
            .expect("the write fails");
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
        assert!(w.finish().is_err());
        if commit_anyway {
            let e = p.commit_store().unwrap_err();
            assert!(matches!(e, StoreError::Incomplete { .. }), "{e:?}");
        } else {
            p.rollback().unwrap();
        }
        assert!(no_tmp(&s), "{:?}", names(&s));
        assert_eq!(read(&x), ints(0..3));
    }
    // Failing in the footer: still not committable.
    let p = s.begin_store("x").unwrap();
    let mut w = ReservoirWriter::new(FailAfter {
        inner: p.file().try_clone().unwrap(),
        left: 20,
    });
    w.push(&Value::Int(1)).unwrap();
    assert!(w.finish().is_err());
    assert!(p.commit_store().is_err());
    assert!(no_tmp(&s));
    assert_eq!(names(&s).len(), 1);
}

#[test]
fn an_unfinished_writer_cannot_be_committed() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..3)).unwrap();
    // Dropped without finish, after some flushes.
    let p = s.begin_store("x").unwrap();
    let mut w = p.writer().unwrap();
    for i in 0..100_000 {
        w.push(&Value::Int(i)).unwrap();
    }
    drop(w);
    assert!(p.file().metadata().unwrap().len() > 0);
    let e = p.commit_store().unwrap_err();
    assert!(matches!(e, StoreError::Incomplete { .. }), "{e:?}");
    assert!(e.to_string().contains("did not finish"), "{e}");
    assert!(no_tmp(&s));
    // Never written at all (0 bytes), and dropped outright.
    let p = s.begin_store("x").unwrap();
    assert!(p.commit_store().is_err());
    let p = s.begin_store("x").unwrap();
    let path = p.path();
    drop(p);
    assert!(!path.exists());
    assert_eq!(read(&x), ints(0..3));
    assert_eq!(names(&s).len(), 1);
}

#[test]
fn a_file_that_is_not_a_reservoir_cannot_be_committed() {
    let (_t, s) = session();
    let p = s.begin_store("x").unwrap();
    use std::io::Write;
    p.file().write_all(&[b'z'; 100]).unwrap();
    let e = p.commit_store().unwrap_err();
    assert!(
        matches!(e, StoreError::Damaged(ReadError::WrongMagic)),
        "{e:?}"
    );
    assert!(no_tmp(&s));
}

#[test]
fn a_damaged_segment_reads_as_an_error_not_a_short_stream() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..100_000)).unwrap();
    let path = x.files().next().unwrap().to_path_buf();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(50_000).unwrap();
    let mut n = 0;
    let mut err = None;
    for item in x.reader() {
        match item {
            Ok(_) => n += 1,
            Err(e) => err = Some(e),
        }
    }
    assert!(n < 100_000);
    let e = err.expect("an error");
    assert!(matches!(e, ReadError::Truncated { .. }), "{e:?}");
    assert!(format!("x: {e}").starts_with("x: truncated: "));
    // A missing file.
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(x.reader().next(), Some(Err(ReadError::Io(_)))));
    assert!(x.verify().is_err());
}

#[test]
fn damage_in_a_later_segment_is_reported() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..10)).unwrap();
    let p = s.begin_store("x").unwrap();
    let mut w = p.writer().unwrap();
    for v in ints(10..20) {
        w.push(&v).unwrap();
    }
    w.finish().unwrap();
    let x = p.commit_append(Some(&x)).unwrap();
    let second = x.files().nth(1).unwrap().to_path_buf();
    let len = std::fs::metadata(&second).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&second)
        .unwrap();
    // Cut just the end marker's last byte: every item is there, the end is not.
    f.set_len(len - 1).unwrap();
    let items: Vec<_> = x.reader().collect();
    assert_eq!(items.len(), 21);
    assert!(items[..20].iter().all(Result::is_ok));
    assert!(
        matches!(items[20], Err(ReadError::Truncated { .. })),
        "{:?}",
        items[20]
    );
    // A whole segment replaced by a valid file with fewer items than committed.
    std::fs::write(
        &second,
        crate::reservoir::format::tests::encode_all(&ints(0..3)),
    )
    .unwrap();
    let items: Vec<_> = x.reader().collect();
    assert_eq!(items.len(), 14);
    assert!(matches!(
        items[13],
        Err(ReadError::CountMismatch {
            footer: 10,
            read: 3
        })
    ));
}

/// The store's writer is a forked child: it finishes, and the parent commits.
#[test]
fn a_forked_child_writes_and_the_parent_commits() {
    let (_t, s) = session();
    let p = s.begin_store("x").unwrap();
    let mut w = p.writer().unwrap();
    // SAFETY: the child only encodes ints into the writer's preallocated buffer and writes.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            let mut ok = true;
            for i in 0..50_000 {
                ok &= w.push(&Value::Int(i)).is_ok();
            }
            ok &= w.finish().is_ok();
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        ForkResult::Parent { child } => {
            drop(w);
            assert_eq!(waitpid(child, None).unwrap(), WaitStatus::Exited(child, 0));
            let x = p.commit_store().unwrap();
            assert_eq!(x.items(), 50_000);
            assert_eq!(read(&x), ints(0..50_000));
        }
    }
}

/// The writer is killed with SIGKILL in the middle of the store.
#[test]
fn a_writer_killed_mid_write_cannot_be_committed() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..3)).unwrap();
    let p = s.begin_store("x").unwrap();
    let mut w = p.writer().unwrap();
    // SAFETY: as above; the child writes until it is killed.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            let mut i = 0;
            loop {
                if w.push(&Value::Int(i)).is_err() {
                    unsafe { libc::_exit(1) }
                }
                i += 1;
            }
        }
        ForkResult::Parent { child } => {
            drop(w);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while p.file().metadata().unwrap().len() < 1_000_000 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the child never wrote"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            kill(child, Signal::SIGKILL).unwrap();
            assert!(matches!(
                waitpid(child, None).unwrap(),
                WaitStatus::Signaled(_, Signal::SIGKILL, _)
            ));
            let e = p.commit_store().unwrap_err();
            assert!(matches!(e, StoreError::Incomplete { .. }), "{e:?}");
            assert!(no_tmp(&s), "{:?}", names(&s));
            assert_eq!(read(&x), ints(0..3));
        }
    }
}

#[test]
fn a_forked_child_dropping_values_deletes_nothing() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..3)).unwrap();
    let p = s.begin_store("y").unwrap();
    let (xf, pf) = (x.files().next().unwrap().to_path_buf(), p.path());
    // SAFETY: the child drops its copies (which must not touch the files) and exits.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            drop(x);
            drop(p);
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            waitpid(child, None).unwrap();
            assert!(xf.exists() && pf.exists());
            drop(p);
            assert!(!pf.exists());
            assert_eq!(read(&x), ints(0..3));
        }
    }
}

#[test]
fn closing_the_session_removes_every_file() {
    let (_t, s) = session();
    let x = s.store("x", ints(0..3)).unwrap();
    let p = s.begin_store("y").unwrap();
    let dir = s.dir().to_path_buf();
    s.close().unwrap();
    assert!(!dir.exists());
    // Values and pending writes outliving the session drop quietly.
    drop(p);
    drop(x);
}

/// ENOSPC on a real, tiny tmpfs (needs root; skipped with a reason otherwise).
#[test]
fn enospc_on_a_small_tmpfs_rolls_back() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: the tmpfs test needs root to mount");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .status();
    if !matches!(st, Ok(s) if s.success()) {
        eprintln!("skipped: mount -t tmpfs failed ({st:?})");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    let s = Session::open_in(&mnt.join("marsh")).unwrap();
    let x = s.store("x", ints(0..100)).unwrap();
    for commit_anyway in [false, true] {
        let p = s.begin_store("x").unwrap();
        let mut w = p.writer().unwrap();
        let err = (0..10_000_000)
            .map(|i| w.push(&Value::Int(i)))
            .find_map(Result::err)
            .expect("a 64k tmpfs fills up");
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        drop(w);
        if commit_anyway {
            assert!(p.commit_store().is_err());
        } else {
            p.rollback().unwrap();
        }
        assert!(no_tmp(&s));
        assert_eq!(read(&x), ints(0..100));
    }
    // The space is back: a small store works again.
    let y = s.store("y", ints(0..10)).unwrap();
    assert_eq!(read(&y), ints(0..10));
    drop((x, y));
    s.close().unwrap();
}

/// `cargo test --release -p marsh --lib speed_store -- --ignored --nocapture`: the whole path
/// the shell takes for `gen 10000000 >$ x`, `x <$ head 3` and `x <$ red count`.
#[test]
#[ignore]
fn speed_store_10m() {
    use std::time::Instant;
    let (_t, s) = session();
    let t = Instant::now();
    let p = s.begin_store("x").unwrap();
    let mut w = p.writer().unwrap();
    for i in 0..10_000_000 {
        w.push(&Value::Int(i)).unwrap();
    }
    w.finish().unwrap();
    let x = p.commit_store().unwrap();
    let store = t.elapsed();
    let t = Instant::now();
    let head: Vec<Value> = x.reader().take(3).map(Result::unwrap).collect();
    let head_t = t.elapsed();
    assert_eq!(head, ints(0..3));
    let t = Instant::now();
    let n = x.reader().try_fold(0u64, |n, r| r.map(|_| n + 1)).unwrap();
    let count = t.elapsed();
    assert_eq!(n, 10_000_000);
    println!(
        "store 10M ints {store:?}, head 3 {head_t:?}, count {count:?}, {} ({} bytes)",
        s.dir().display(),
        x.bytes()
    );
}

#[test]
fn a_store_in_a_removed_session_directory_is_a_clear_error() {
    let (_t, s) = session();
    std::fs::remove_dir_all(s.dir()).unwrap();
    let e = s.begin_store("x").unwrap_err();
    assert!(matches!(e, StoreError::Create { .. }), "{e:?}");
    assert!(e.to_string().starts_with("can't create "), "{e}");
    assert!(e.to_string().contains("x.1.tmp"), "{e}");
}

mod appends {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Any sequence of stores and appends reads back as the concatenation since the last
        /// store, and leaves on disk exactly the files of the final value.
        #[test]
        fn stores_and_appends(ops in prop::collection::vec(
            (any::<bool>(), prop::collection::vec(crate::reservoir::format::tests::value(), 0..8)),
            1..8,
        )) {
            let (_t, s) = session();
            let mut bound: Option<Reservoir> = None;
            let mut want: Vec<Value> = Vec::new();
            for (append, values) in ops {
                let p = s.begin_store("v").unwrap();
                let mut w = p.writer().unwrap();
                for v in &values {
                    w.push(v).unwrap();
                }
                w.finish().unwrap();
                let new = if append {
                    want.extend(values);
                    p.commit_append(bound.as_ref()).unwrap()
                } else {
                    want = values;
                    p.commit_store().unwrap()
                };
                bound = Some(new);
            }
            let r = bound.unwrap();
            prop_assert_eq!(r.items(), want.len() as u64);
            let got = read(&r);
            prop_assert_eq!(got.len(), want.len());
            prop_assert!(want.iter().zip(&got).all(|(a, b)| same(a, b)));
            let mut files: Vec<String> = r
                .files()
                .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
                .collect();
            files.sort();
            prop_assert_eq!(files, names(&s));
        }
    }
}

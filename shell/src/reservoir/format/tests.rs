use super::*;
use proptest::prelude::*;

/// Bit-exact equality: floats by their bits (NaN payloads, -0.0), files by every field.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) | (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        (Value::File(x), Value::File(y)) => {
            x.path == y.path
                && x.name == y.name
                && x.size == y.size
                && x.mtime.to_bits() == y.mtime.to_bits()
                && x.is_dir == y.is_dir
                && x.is_file == y.is_file
                && x.is_link == y.is_link
                && x.mode == y.mode
        }
        _ => false,
    }
}

pub(crate) fn encode_all(values: &[Value]) -> Vec<u8> {
    let mut w = ReservoirWriter::new(Vec::new());
    for v in values {
        w.push(v).unwrap();
    }
    let (n, out) = w.finish_into_inner().unwrap();
    assert_eq!(n, values.len() as u64);
    out
}

pub(crate) fn decode_all(bytes: &[u8]) -> Result<Vec<Value>, ReadError> {
    ReservoirReader::new(bytes)?.collect()
}

fn file_info() -> impl Strategy<Value = FileInfo> {
    (
        ".*",
        ".*",
        any::<u64>(),
        any::<f64>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u32>(),
    )
        .prop_map(
            |(path, name, size, mtime, is_dir, is_file, is_link, mode)| FileInfo {
                path,
                name,
                size,
                mtime,
                is_dir,
                is_file,
                is_link,
                mode,
            },
        )
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::from_bits(0x7ff0_0000_0000_0001)),
        Just(-0.0),
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(f64::MIN),
    ]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -200i64..200,
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-64),
        Just(63),
        Just(64),
        Just(-65),
    ]
}

pub(crate) fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        int().prop_map(Value::Int),
        float().prop_map(Value::Float),
        "\\PC{0,80}".prop_map(|s| Value::str(&s)),
        ".{60,200}".prop_map(|s| Value::str(&s)),
        file_info().prop_map(|f| Value::File(Arc::new(f))),
    ];
    leaf.prop_recursive(4, 64, 20, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..20).prop_map(Value::tuple),
            prop::collection::vec(inner.clone(), 0..20).prop_map(Value::list),
            // Keys are distinct ints, so decoding cannot merge two of them.
            prop::collection::vec(inner, 0..10).prop_map(|vs| Value::dict(
                crate::value::Dict::from_pairs(
                    vs.into_iter()
                        .enumerate()
                        .map(|(i, v)| (Value::Int(i as i64), v))
                )
            )),
        ]
    })
}

proptest! {
    // 100 cases of up to 24 items of up to 64 nodes each: ~3 s in a debug build.
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn round_trip(values in prop::collection::vec(value(), 0..24)) {
        let bytes = encode_all(&values);
        let back = decode_all(&bytes).unwrap();
        prop_assert_eq!(back.len(), values.len());
        for (a, b) in values.iter().zip(back.iter()) {
            prop_assert!(same(a, b), "{:?} came back as {:?}", a, b);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_truncation_is_detected(values in prop::collection::vec(value(), 0..6)) {
        let bytes = encode_all(&values);
        for len in 0..bytes.len() {
            let r = decode_all(&bytes[..len]);
            prop_assert!(matches!(r, Err(ReadError::Truncated { .. })), "len {}: {:?}", len, r);
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut input = MAGIC.to_vec();
        input.extend_from_slice(&VERSION.to_le_bytes());
        input.extend_from_slice(&bytes);
        let _ = decode_all(&input);
    }
}

#[test]
fn small_ints_take_one_byte() {
    let sizes: Vec<(i64, usize)> = [0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, 9_999_999]
        .iter()
        .map(|&i| {
            let mut b = Vec::new();
            encode_int(&mut b, i);
            (i, b.len())
        })
        .collect();
    assert_eq!(
        sizes,
        vec![
            (0, 1),
            (1, 1),
            (-1, 1),
            (63, 1),
            (-64, 1),
            (64, 3),
            (-65, 3),
            (8191, 3),
            (-8192, 3),
            (8192, 4),
            (9_999_999, 5)
        ]
    );
    // gen 10000000 as bare ints: 48 943 104 bytes of items, 4.89 bytes an item.
    let mut total = 0usize;
    let mut b = Vec::with_capacity(16);
    for i in 0..10_000_000 {
        b.clear();
        encode_int(&mut b, i);
        total += b.len();
    }
    assert_eq!(total, 48_943_104);
}

#[test]
fn empty_reservoir() {
    let bytes = encode_all(&[]);
    assert_eq!(bytes.len() as u64, HEADER_LEN + FOOTER_LEN);
    assert!(decode_all(&bytes).unwrap().is_empty());
    assert_eq!(
        check_footer(bytes.len() as u64, &bytes[bytes.len() - 25..]),
        Some(0)
    );
}

#[test]
fn wrong_magic_and_version() {
    let mut bytes = encode_all(&[Value::Int(1)]);
    bytes[8] = 7;
    let e = decode_all(&bytes).unwrap_err();
    assert!(matches!(e, ReadError::WrongVersion { found: 7 }));
    assert_eq!(
        e.to_string(),
        "written by format version 7, this marsh reads version 1"
    );
    let e = decode_all(b"hello world, this is text\n").unwrap_err();
    assert!(matches!(e, ReadError::WrongMagic), "{e:?}");
    let e = decode_all(b"").unwrap_err();
    assert!(matches!(e, ReadError::Truncated { .. }), "{e:?}");
}

#[test]
fn corrupt_files() {
    let good = encode_all(&[Value::Int(1), Value::str("héllo"), Value::Int(1000)]);
    // Unknown tag in place of the first item.
    let mut bad = good.clone();
    bad[10] = 0x33;
    let e = decode_all(&bad).unwrap_err();
    assert!(
        matches!(
            e,
            ReadError::UnknownTag {
                tag: 0x33,
                offset: 10
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "corrupt: unknown item tag 0x33 at byte 10");
    // Invalid UTF-8: break the 'é'.
    let mut bad = good.clone();
    let i = bad.iter().position(|&b| b == 0xc3).unwrap();
    bad[i] = 0xff;
    assert!(matches!(
        decode_all(&bad).unwrap_err(),
        ReadError::InvalidUtf8 { .. }
    ));
    // The footer's count disagrees.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 24] = 9;
    let e = decode_all(&bad).unwrap_err();
    assert!(
        matches!(e, ReadError::CountMismatch { footer: 9, read: 3 }),
        "{e:?}"
    );
    // An item dropped from the middle (the end marker now sits at the wrong offset).
    let mut bad = good.clone();
    bad.remove(10);
    assert!(matches!(
        decode_all(&bad).unwrap_err(),
        ReadError::Corrupt { .. }
    ));
    // Data after the end marker.
    let mut bad = good.clone();
    bad.push(0);
    assert!(matches!(
        decode_all(&bad).unwrap_err(),
        ReadError::Corrupt { .. }
    ));
    // A string claiming an absurd length is "truncated", not an allocation failure.
    let mut bad = MAGIC.to_vec();
    bad.extend_from_slice(&VERSION.to_le_bytes());
    bad.push(T_STR);
    put_varint(&mut bad, u64::MAX / 2);
    bad.extend_from_slice(b"abc");
    assert!(matches!(
        decode_all(&bad).unwrap_err(),
        ReadError::Truncated { .. }
    ));
    // So is a tuple claiming a huge count.
    let mut bad = MAGIC.to_vec();
    bad.extend_from_slice(&VERSION.to_le_bytes());
    bad.push(T_TUPLE);
    put_varint(&mut bad, u64::MAX);
    assert!(matches!(
        decode_all(&bad).unwrap_err(),
        ReadError::Truncated { .. }
    ));
    // Deep nesting is refused, not a stack overflow.
    let mut bad = MAGIC.to_vec();
    bad.extend_from_slice(&VERSION.to_le_bytes());
    bad.extend(std::iter::repeat_n(T_TUPLE_SMALL | 1, 100_000));
    assert!(matches!(
        decode_all(&bad).unwrap_err(),
        ReadError::Corrupt { .. }
    ));
    // A varint that doesn't fit in 64 bits.
    let mut bad = MAGIC.to_vec();
    bad.extend_from_slice(&VERSION.to_le_bytes());
    bad.push(T_INT);
    bad.extend_from_slice(&[0xff; 11]);
    assert!(matches!(
        decode_all(&bad).unwrap_err(),
        ReadError::Corrupt { .. }
    ));
}

#[test]
fn errors_are_reported_once_then_the_reader_stops() {
    let good = encode_all(&[Value::Int(1), Value::Int(2)]);
    let mut r = ReservoirReader::new(&good[..good.len() - 1]).unwrap();
    assert!(matches!(r.next(), Some(Ok(Value::Int(1)))));
    assert!(matches!(r.next(), Some(Ok(Value::Int(2)))));
    assert!(matches!(r.next(), Some(Err(ReadError::Truncated { .. }))));
    assert!(r.next().is_none());
}

#[test]
fn too_deep_values_are_refused_by_the_writer() {
    let mut v = Value::Int(0);
    for _ in 0..MAX_DEPTH + 1 {
        v = Value::tuple(vec![v]);
    }
    let mut w = ReservoirWriter::new(Vec::new());
    w.push(&Value::Int(5)).unwrap();
    assert!(w.push(&v).is_err());
    w.push(&Value::Int(6)).unwrap();
    let (n, out) = w.finish_into_inner().unwrap();
    assert_eq!(n, 2);
    assert_eq!(decode_all(&out).unwrap().len(), 2);
}

/// A writer that fails after `left` bytes, like a disk filling up.
pub(crate) struct FailAfter<W> {
    pub inner: W,
    pub left: usize,
}

impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let n = buf.len().min(self.left);
        let n = self.inner.write(&buf[..n])?;
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn a_failing_writer_fails_and_stays_failed() {
    let mut w = ReservoirWriter::new(FailAfter {
        inner: Vec::new(),
        left: 100_000,
    });
    let mut err = None;
    for i in 0..1_000_000 {
        if let Err(e) = w.push(&Value::Int(i)) {
            err = Some(e);
            break;
        }
    }
    assert_eq!(err.unwrap().raw_os_error(), Some(libc::ENOSPC));
    assert!(w.push(&Value::Int(1)).is_err());
    assert!(w.finish().is_err());
    // Failing at the footer is an error too.
    let mut w = ReservoirWriter::new(FailAfter {
        inner: Vec::new(),
        left: 12,
    });
    w.push(&Value::Int(1)).unwrap();
    assert!(w.finish().is_err());
}

#[test]
fn reading_is_streaming() {
    // A reader over an endless source of small ints returns the first items at once.
    struct Endless(u64);
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            if self.0 == 0 {
                buf[..10].copy_from_slice(b"MARSHRSV\x01\x00");
                n = 10;
            }
            for b in &mut buf[n..] {
                *b = 0x82;
            }
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
    }
    let mut src = Endless(0);
    let first: Vec<Value> = ReservoirReader::new(&mut src)
        .unwrap()
        .take(3)
        .map(Result::unwrap)
        .collect();
    assert_eq!(first, vec![Value::Int(1), Value::Int(1), Value::Int(1)]);
    assert!(src.0 <= BUF_LEN as u64);
}

/// `cargo test --release -p marsh -- --ignored --nocapture speed_10m` prints the numbers.
#[test]
#[ignore]
fn speed_10m_ints() {
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.rsv");
    let t = Instant::now();
    let mut w = ReservoirWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..10_000_000 {
        w.push(&Value::Int(i)).unwrap();
    }
    w.finish().unwrap();
    let enc = t.elapsed();
    let t = Instant::now();
    let mut w = ReservoirWriter::new(std::fs::File::create(dir.path().join("y.rsv")).unwrap());
    for i in 0..10_000_000 {
        w.push(&Value::Int(i)).unwrap();
    }
    w.finish_sync().unwrap();
    let enc_sync = t.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    let t = Instant::now();
    let n = ReservoirReader::new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .try_fold(0u64, |n, r| r.map(|_| n + 1))
        .unwrap();
    let dec = t.elapsed();
    assert_eq!(n, 10_000_000);
    let t = Instant::now();
    let head: Vec<Value> = ReservoirReader::new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .take(3)
        .map(|r| r.unwrap())
        .collect();
    let head_t = t.elapsed();
    assert_eq!(head.len(), 3);
    // The same in memory, without the file system.
    let t = Instant::now();
    let mut w = ReservoirWriter::new(Vec::with_capacity(50_000_000));
    for i in 0..10_000_000 {
        w.push(&Value::Int(i)).unwrap();
    }
    let (_, bytes) = w.finish_into_inner().unwrap();
    let enc_mem = t.elapsed();
    let t = Instant::now();
    let n = ReservoirReader::new(&bytes[..])
        .unwrap()
        .try_fold(0u64, |n, r| r.map(|_| n + 1))
        .unwrap();
    let dec_mem = t.elapsed();
    assert_eq!(n, 10_000_000);
    println!("10M ints in memory: encode {enc_mem:?}, decode+count {dec_mem:?}");
    println!(
        "10M ints: encode {enc:?} ({enc_sync:?} with fdatasync), decode+count {dec:?}, \
         head 3 {head_t:?}, {size} bytes ({:.2} bytes/item), dir {}",
        size as f64 / 1e7,
        dir.path().display()
    );
}

//! In-process reservoir measurements: reading the first items of a big reservoir (which must
//! not read the rest), and streaming all of it.

use criterion::{Criterion, criterion_group, criterion_main};
use marsh::reservoir::Session;
use marsh::value::Value;
use std::hint::black_box;

fn reservoir(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let session = Session::open_in(dir.path()).expect("a session");
    let x = session
        .store("x", (0..10_000_000).map(Value::Int))
        .expect("stored");
    c.bench_function("x <$ head 3 (10M items)", |b| {
        b.iter(|| {
            let mut stream = x.reader();
            for _ in 0..3 {
                black_box(stream.next().expect("an item").expect("readable"));
            }
        })
    });
    let mut g = c.benchmark_group("reservoir 10M items");
    g.sample_size(10);
    g.bench_function("x <$ red count", |b| {
        b.iter(|| {
            let mut stream = x.reader();
            let mut n = 0u64;
            loop {
                if stream.next_int().is_some() {
                    n += 1;
                    continue;
                }
                match stream.next() {
                    Some(item) => {
                        item.expect("readable");
                        n += 1;
                    }
                    None => break,
                }
            }
            assert_eq!(n, 10_000_000);
        })
    });
    g.finish();
}

criterion_group!(benches, reservoir);
criterion_main!(benches);

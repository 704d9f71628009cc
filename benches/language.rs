//! In-process measurements of the language: one compiled function call, and whole pipelines
//! without process start-up.

use criterion::{Criterion, criterion_group, criterion_main};
use marsh::exec::{self, Output};
use marsh::expr::{NoGlobals, compile_function};
use marsh::ops::{Flow, OpError, Reporter, Sink};
use marsh::syntax::{ast::CommandBody, parse};
use marsh::value::Value;
use std::hint::black_box;

/// Swallows items, so only the pipeline is measured.
struct Discard;

impl Sink for Discard {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        black_box(item);
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        Ok(())
    }
}

fn run_pipeline(line: &str) {
    let CommandBody::Pipeline(p) = parse(line).expect("parses").body else {
        panic!("a pipeline")
    };
    let reporter = Reporter::new();
    let pieces = exec::build(&p.stages, false, &NoGlobals, &reporter).expect("builds");
    let outcome = exec::run(
        None,
        pieces,
        Output::Sink(Box::new(Discard)),
        &reporter,
        exec::Runner::Shell,
    );
    assert_eq!(outcome.status, 0);
}

fn language(c: &mut Criterion) {
    let CommandBody::Pipeline(p) = parse("map (x: x * 2)").expect("parses").body else {
        panic!()
    };
    let marsh::syntax::ast::Stage::Op { args, .. } = &p.stages[0] else {
        panic!()
    };
    let marsh::syntax::ast::Arg::Func(f) = &args[0] else {
        panic!()
    };
    let f = compile_function(f, &NoGlobals).expect("compiles");
    let mut i = 0i64;
    c.bench_function("call (x: x * 2)", |b| {
        b.iter(|| {
            i += 1;
            f.call(black_box(&Value::Int(i))).expect("evaluates")
        })
    });
    let mut g = c.benchmark_group("pipelines of 1M items");
    g.sample_size(10);
    g.bench_function("gen 1000000 | red count", |b| {
        b.iter(|| run_pipeline("gen 1000000 | red count"))
    });
    g.bench_function("gen 1000000 | map (x: x * 2) | red +", |b| {
        b.iter(|| run_pipeline("gen 1000000 | map (x: x * 2) | red +"))
    });
    g.finish();
}

criterion_group!(benches, language);
criterion_main!(benches);

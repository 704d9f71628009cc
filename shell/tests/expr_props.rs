//! Property tests of the expression compiler: random trees never panic when compiled and run.

use marsh::Value;
use marsh::expr::{NoGlobals, compile_function};
use marsh::syntax::ast::*;
use proptest::prelude::*;

mod common;

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        prop::sample::select(vec![0i64, 1, 2, 3, 7, 63, 64, i64::MAX, 1 << 40]).prop_map(Expr::Int),
        any::<i64>().prop_map(|i| Expr::Int(i.saturating_abs())),
        prop::sample::select(vec![0.0, 0.5, 1e308, 2.5, f64::MIN_POSITIVE]).prop_map(Expr::Float),
        "[a-c ,é]{0,4}".prop_map(Expr::Str),
        any::<bool>().prop_map(Expr::Bool),
        Just(Expr::None),
        prop::sample::select(vec!["x", "y"]).prop_map(|n| Expr::Name(n.into())),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    common::expr_tree(leaf(), (5, 48, 3), |inner| {
        let b = |e: Expr| Box::new(e);
        vec![
            (
                prop::sample::select(vec![
                    "len", "int", "float", "str", "abs", "min", "max", "round", "bool", "sum",
                    "tuple", "list", "days", "nope",
                ]),
                prop::collection::vec(inner.clone(), 0..3),
            )
                .prop_map(|(f, args)| Expr::Call(Box::new(Expr::Name(f.into())), args))
                .boxed(),
            (
                inner.clone(),
                prop::sample::select(vec![
                    "upper",
                    "lower",
                    "strip",
                    "lstrip",
                    "rstrip",
                    "split",
                    "startswith",
                    "endswith",
                    "replace",
                    "find",
                    "join",
                    "count",
                    "index",
                ]),
                prop::collection::vec(inner.clone(), 0..3),
            )
                .prop_map(move |(o, m, args)| Expr::Call(b(Expr::Attr(b(o), m.into())), args))
                .boxed(),
            (inner, prop::sample::select(vec!["name", "size", "suffix"]))
                .prop_map(move |(x, n)| Expr::Attr(b(x), n.into()))
                .boxed(),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 1]).prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        "[a-c ,é]{0,4}".prop_map(|s| Value::str(&s)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::None),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::tuple),
            prop::collection::vec(inner, 0..3).prop_map(Value::list),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_expressions_never_panic(body in expr(), x in value(), y in value()) {
        let f = Function { params: vec!["x".into(), "y".into()], body };
        if let Ok(c) = compile_function(&f, &NoGlobals) {
            let _ = c.call_args(&[x, y]);
        }
    }
}

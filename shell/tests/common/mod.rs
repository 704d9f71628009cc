//! Strategies shared by the property tests: expression trees built from a test's own leaves,
//! with the compound forms every test wants (tuples, lists, dicts, operators, `if`, indexing,
//! slicing) and the test's own extra forms (calls and attributes differ: the compiler test
//! calls real builtins and methods, the printer test any callee).

use marsh::syntax::ast::{BinOp, Expr, UnOp};
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};

/// Every binary operator.
pub fn binop() -> impl Strategy<Value = BinOp> {
    use BinOp::*;
    prop::sample::select(vec![
        Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Eq, Ne, Lt, Le, Gt, Ge, And, Or, In, NotIn,
    ])
}

/// Trees of `leaf` up to `depth` levels (about `size` nodes, `branch` children per node),
/// each compound node one of the common forms or of `extra(inner)`, all equally likely.
pub fn expr_tree(
    leaf: impl Strategy<Value = Expr> + 'static,
    (depth, size, branch): (u32, u32, u32),
    extra: fn(BoxedStrategy<Expr>) -> Vec<BoxedStrategy<Expr>>,
) -> impl Strategy<Value = Expr> {
    leaf.prop_recursive(depth, size, branch, move |inner| {
        let mut arms = compound(inner.clone());
        arms.extend(extra(inner));
        Union::new(arms)
    })
}

fn b(e: Expr) -> Box<Expr> {
    Box::new(e)
}

fn compound(inner: BoxedStrategy<Expr>) -> Vec<BoxedStrategy<Expr>> {
    let i = || inner.clone();
    vec![
        prop::collection::vec(i(), 0..3)
            .prop_map(Expr::Tuple)
            .boxed(),
        prop::collection::vec(i(), 0..3)
            .prop_map(Expr::List)
            .boxed(),
        prop::collection::vec((i(), i()), 0..3)
            .prop_map(Expr::Dict)
            .boxed(),
        (
            prop::sample::select(vec![UnOp::Neg, UnOp::Pos, UnOp::Not]),
            i(),
        )
            .prop_map(|(op, e)| Expr::Unary(op, b(e)))
            .boxed(),
        (binop(), i(), i())
            .prop_map(|(op, l, r)| Expr::Binary(op, b(l), b(r)))
            .boxed(),
        (i(), i(), i())
            .prop_map(|(c, t, o)| Expr::IfElse {
                cond: b(c),
                then: b(t),
                otherwise: b(o),
            })
            .boxed(),
        (i(), i())
            .prop_map(|(x, n)| Expr::Index(b(x), b(n)))
            .boxed(),
        (i(), prop::option::of(i()), prop::option::of(i()))
            .prop_map(|(x, lo, hi)| Expr::Slice(b(x), lo.map(b), hi.map(b)))
            .boxed(),
    ]
}

//! `red`: reductions per column, with grouping (`.`) and running values (`-i`).
//!
//! Each argument reduces one field of the items: `gen 10 | red +` sums whole items (one
//! reducer, so the whole item is its field); `red . +` groups tuples by their first field and
//! sums the second. Results come out in the order groups first appeared; a result of one
//! column is a bare value, of several a tuple.

use super::{ArgValue, Filter, Flow, OpArgs, OpError, Reporter, Sink};
use crate::expr::{CompiledFn, EvalError, NoGlobals, compile_function};
use crate::syntax::ast::{BinOp, Expr, Function};
use crate::value::{Key, Value, total_cmp};
use std::collections::HashMap;
use std::sync::Arc;

/// How one column is reduced.
enum Reducer {
    /// `.`: the column is part of the group key.
    Group,
    Count,
    And,
    Or,
    Min,
    Max,
    Concat,
    /// `+`, `*` or a user function `(acc, x: ...)`, applied as `f(acc, x)`.
    Fold {
        f: CompiledFn,
        fast: FastPath,
    },
}

/// Int arithmetic done inline, falling back to the compiled function for anything else.
#[derive(Clone, Copy)]
enum FastPath {
    None,
    Add,
    Mul,
}

pub fn build(a: &OpArgs) -> Result<Filter, OpError> {
    let mut running = false;
    let mut reducers = Vec::new();
    for arg in a.words_and_values()? {
        let r = match arg {
            ArgValue::Word(w, false) if w == "-i" && reducers.is_empty() && !running => {
                running = true;
                continue;
            }
            other => reducer(a, other)?,
        };
        reducers.push(r);
    }
    if reducers.is_empty() {
        return Err(a.error("usage: red [-i] REDUCER... (try: help red)"));
    }
    if reducers.iter().all(|r| matches!(r, Reducer::Group)) {
        return Err(a.error("at least one column must be reduced, not only grouped"));
    }
    let reporter = a.reporter.clone();
    Ok(Box::new(move |next| -> Box<dyn Sink> {
        if !running && reducers.len() == 1 {
            let reducer = reducers.pop().expect("one reducer");
            return Box::new(Single {
                reducer,
                count: 0,
                acc: Acc::Empty,
                next,
                reporter,
            });
        }
        let grouped = reducers.iter().any(|r| matches!(r, Reducer::Group));
        let ungrouped = (!grouped).then(|| vec![Acc::Empty; reducers.len()]);
        Box::new(Red {
            reducers,
            running,
            ungrouped,
            scratch: Vec::new(),
            groups: HashMap::new(),
            order: Vec::new(),
            next,
            reporter,
        })
    }))
}

/// One reducer argument: a word (`+`, `min`, `.`...) or a function `(acc, x: ...)`.
fn reducer(a: &OpArgs, arg: ArgValue) -> Result<Reducer, OpError> {
    Ok(match arg {
        ArgValue::Word(w, _) => match w.as_str() {
            "." => Reducer::Group,
            "count" => Reducer::Count,
            "and" => Reducer::And,
            "or" => Reducer::Or,
            "min" => Reducer::Min,
            "max" => Reducer::Max,
            "concat" => Reducer::Concat,
            "+" => Reducer::Fold {
                f: binary(BinOp::Add),
                fast: FastPath::Add,
            },
            "*" => Reducer::Fold {
                f: binary(BinOp::Mul),
                fast: FastPath::Mul,
            },
            other => {
                return Err(a.error(format!(
                    "unknown reducer '{other}' (use + * min max count concat and or . or a function)"
                )));
            }
        },
        ArgValue::Func(f) if f.arity() == 2 => Reducer::Fold {
            f: *f,
            fast: FastPath::None,
        },
        ArgValue::Func(_) => {
            return Err(a.error("a reducer function takes two parameters: (acc, x: ...)"));
        }
        ArgValue::Value(v) => {
            return Err(a.error(format!("expected a reducer, got {}", v.repr())));
        }
    })
}

/// `squish [REDUCER]`: each item's fields (a tuple's fields or a list's elements) reduced to
/// one value by REDUCER (default `+`), as marcel's squish does: `(1, 2, 3)` becomes 6. An
/// item with no fields becomes `none`.
pub fn squish(a: &OpArgs) -> Result<Filter, OpError> {
    a.expect_count(0..=1)?;
    let reducer = match a.words_and_values()?.pop() {
        None => Reducer::Fold {
            f: binary(BinOp::Add),
            fast: FastPath::Add,
        },
        Some(arg) => reducer(a, arg)?,
    };
    if matches!(reducer, Reducer::Group) {
        return Err(a.error("'.' groups columns in red; squish needs a reducer such as + or max"));
    }
    let reporter = a.reporter.clone();
    Ok(Box::new(move |next| -> Box<dyn Sink> {
        Box::new(Squish {
            reducer,
            next,
            reporter,
        })
    }))
}

struct Squish {
    reducer: Reducer,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

impl Squish {
    fn squish(&self, item: &Value) -> Result<Value, EvalError> {
        let fields: &[Value] = match item {
            Value::List(xs) => xs,
            other => other.fields(),
        };
        let mut acc = Acc::Empty;
        for v in fields {
            acc = match (&self.reducer, acc) {
                (Reducer::Fold { f, fast }, Acc::Value(a)) => {
                    Acc::Value(fold_step(f, *fast, &a, v)?)
                }
                (Reducer::Concat, Acc::Items(mut items)) => {
                    items.push(v.clone());
                    Acc::Items(items)
                }
                (Reducer::Concat, _) => Acc::Items(vec![v.clone()]),
                (r, old) => Acc::Value(step(r, old, v)),
            };
        }
        Ok(match (&self.reducer, acc) {
            (Reducer::Count, Acc::Empty) => Value::Int(0),
            (_, acc) => acc.value(),
        })
    }
}

impl Sink for Squish {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match self.squish(&item) {
            Ok(v) => self.next.push(v),
            Err(e) => {
                self.reporter.item_error("squish", &item, &e);
                Ok(Flow::Continue)
            }
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}

/// `(a, b: a OP b)`, compiled by the expression compiler so reductions share its semantics.
fn binary(op: BinOp) -> CompiledFn {
    let body = Expr::Binary(
        op,
        Box::new(Expr::Name("a".into())),
        Box::new(Expr::Name("b".into())),
    );
    compile_function(
        &Function {
            params: vec!["a".into(), "b".into()],
            body,
        },
        &NoGlobals,
    )
    .expect("a binary operator on two parameters compiles")
}

struct Red {
    reducers: Vec<Reducer>,
    running: bool,
    /// Accumulators when nothing is grouped: one per reducer.
    ungrouped: Option<Vec<Acc>>,
    /// Accumulators per group key; one per non-group reducer.
    groups: HashMap<Vec<Key>, Vec<Acc>>,
    /// Group keys with their values, in order of first appearance.
    order: Vec<(Vec<Key>, Vec<Value>)>,
    /// Results of the fallible steps of the item in hand (reused to avoid allocating).
    scratch: Vec<Value>,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

/// One column's running reduction.
#[derive(Clone)]
enum Acc {
    /// No value seen yet.
    Empty,
    Value(Value),
    /// `concat` gathers in place rather than rebuilding a list per item.
    Items(Vec<Value>),
}

impl Acc {
    fn value(&self) -> Value {
        match self {
            Acc::Empty => Value::None,
            Acc::Value(v) => v.clone(),
            Acc::Items(items) => Value::list(items.clone()),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Acc::Empty => Value::None,
            Acc::Value(v) => v,
            Acc::Items(items) => Value::list(items),
        }
    }
}

/// Why an item could not be folded.
enum FoldError {
    /// The items do not fit the reducers (`gen 4 | red min max`): a usage mistake, which
    /// stops the command with one line instead of one per item.
    Shape(String),
    /// This item failed (a fold function's error); the stream goes on.
    Item(String),
}

impl Red {
    fn columns<'a>(&self, item: &'a Value) -> Result<&'a [Value], FoldError> {
        if self.reducers.len() == 1 {
            return Ok(std::slice::from_ref(item));
        }
        let fields = item.fields();
        if fields.len() != self.reducers.len() {
            let mut shown = item.repr();
            if shown.chars().count() > 60 {
                shown = shown.chars().take(57).collect::<String>() + "...";
            }
            return Err(FoldError::Shape(format!(
                "{} reducers, but item {shown} has {} field{}: give one reducer per field",
                self.reducers.len(),
                fields.len(),
                if fields.len() == 1 { "" } else { "s" }
            )));
        }
        Ok(fields)
    }

    /// Folds one item into its group; returns the group's running values for `-i`.
    fn fold(&mut self, item: &Value) -> Result<Option<Vec<Value>>, FoldError> {
        let cols = self.columns(item)?;
        let accs = match &mut self.ungrouped {
            Some(accs) => accs,
            None => {
                let mut key = Vec::new();
                let mut key_values = Vec::new();
                for (r, v) in self.reducers.iter().zip(cols) {
                    if matches!(r, Reducer::Group) {
                        key.push(v.key());
                        key_values.push(v.clone());
                    }
                }
                let n_acc = self.reducers.len() - key.len();
                if !self.groups.contains_key(&key) {
                    self.order.push((key.clone(), key_values));
                    self.groups.insert(key.clone(), vec![Acc::Empty; n_acc]);
                }
                self.groups.get_mut(&key).expect("inserted above")
            }
        };
        let reduced_cols = || {
            self.reducers
                .iter()
                .zip(cols)
                .filter(|(r, _)| !matches!(r, Reducer::Group))
        };
        // Fallible steps (folds) are computed first, so an item that fails changes nothing.
        self.scratch.clear();
        for ((r, v), acc) in reduced_cols().zip(accs.iter()) {
            if let (Reducer::Fold { f, fast }, Acc::Value(a)) = (r, acc) {
                self.scratch
                    .push(fold_step(f, *fast, a, v).map_err(|e| FoldError::Item(e.to_string()))?);
            }
        }
        let mut folded = self.scratch.drain(..);
        for ((r, v), acc) in reduced_cols().zip(accs.iter_mut()) {
            match (r, &mut *acc) {
                (Reducer::Fold { .. }, Acc::Value(_)) => {
                    *acc = Acc::Value(folded.next().expect("one fold result per fold column"));
                }
                (Reducer::Concat, Acc::Items(items)) => items.push(v.clone()),
                (Reducer::Concat, _) => *acc = Acc::Items(vec![v.clone()]),
                (r, _) => {
                    let old = std::mem::replace(acc, Acc::Empty);
                    *acc = Acc::Value(step(r, old, v));
                }
            }
        }
        Ok(if self.running {
            Some(accs.iter().map(Acc::value).collect())
        } else {
            None
        })
    }
}

/// A fold of an accumulator and a value: `acc + v`, `acc * v` or `f(acc, v)`.
fn fold_step(f: &CompiledFn, fast: FastPath, a: &Value, v: &Value) -> Result<Value, EvalError> {
    Ok(match (fast, a, v) {
        (FastPath::Add, Value::Int(x), Value::Int(y)) => Value::Int(
            x.checked_add(*y)
                .ok_or_else(|| EvalError::Failed("int overflow in +".into()))?,
        ),
        (FastPath::Mul, Value::Int(x), Value::Int(y)) => Value::Int(
            x.checked_mul(*y)
                .ok_or_else(|| EvalError::Failed("int overflow in *".into()))?,
        ),
        _ => f.call_args(&[a.clone(), v.clone()])?,
    })
}

/// One infallible reduction step (all but folds and concat) on a non-empty or empty column.
fn step(r: &Reducer, acc: Acc, v: &Value) -> Value {
    match (r, acc) {
        (Reducer::Count, Acc::Value(Value::Int(n))) => Value::Int(n + 1),
        (Reducer::Count, _) => Value::Int(1),
        (Reducer::And, acc) => {
            Value::Bool(!matches!(acc, Acc::Value(ref a) if !a.truthy()) && v.truthy())
        }
        (Reducer::Or, acc) => {
            Value::Bool(matches!(acc, Acc::Value(ref a) if a.truthy()) || v.truthy())
        }
        (Reducer::Min, Acc::Value(a)) if !total_cmp(v, &a).is_lt() => a,
        (Reducer::Max, Acc::Value(a)) if !total_cmp(v, &a).is_gt() => a,
        _ => v.clone(),
    }
}

impl Sink for Red {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match self.fold(&item) {
            Ok(None) => Ok(Flow::Continue),
            Ok(Some(running)) => {
                let mut out = item.fields().to_vec();
                out.extend(running);
                self.next.push(Value::tuple(out))
            }
            Err(FoldError::Item(e)) => {
                self.reporter.item_error("red", &item, &e);
                Ok(Flow::Continue)
            }
            Err(FoldError::Shape(e)) => Err(OpError::new("red", e)),
        }
    }

    fn finish(&mut self) -> Result<(), OpError> {
        if !self.running {
            if let Some(accs) = self.ungrouped.take()
                && accs.iter().any(|a| !matches!(a, Acc::Empty))
            {
                self.order.push((Vec::new(), Vec::new()));
                self.groups.insert(Vec::new(), accs);
            }
            let only_counts = self.reducers.iter().all(|r| matches!(r, Reducer::Count));
            if self.order.is_empty() && only_counts {
                let zeros = vec![Value::Int(0); self.reducers.len()];
                self.next.push(one_or_tuple(zeros))?;
            }
            for (key, key_values) in std::mem::take(&mut self.order) {
                let accs = self.groups.remove(&key).unwrap_or_default();
                let (mut keys, mut accs) = (key_values.into_iter(), accs.into_iter());
                let row: Vec<Value> = self
                    .reducers
                    .iter()
                    .map(|r| match r {
                        Reducer::Group => keys.next().unwrap_or(Value::None),
                        _ => accs.next().map_or(Value::None, Acc::into_value),
                    })
                    .collect();
                if self.next.push(one_or_tuple(row))? == Flow::Stop {
                    break;
                }
            }
        }
        self.next.finish()
    }
}

/// The common case, `red +` or `red count` over whole items, without the bookkeeping of
/// columns and groups: a few nanoseconds per item.
struct Single {
    reducer: Reducer,
    /// Items seen, for `count`.
    count: i64,
    acc: Acc,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

impl Sink for Single {
    fn only_counts(&self) -> bool {
        matches!(self.reducer, Reducer::Count)
    }

    fn push_uncounted(&mut self, n: u64) -> Result<Flow, OpError> {
        let n = i64::try_from(n).map_err(|_| OpError::new("red", "int overflow in count"))?;
        self.count = self
            .count
            .checked_add(n)
            .ok_or_else(|| OpError::new("red", "int overflow in count"))?;
        Ok(Flow::Continue)
    }

    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match (&self.reducer, &mut self.acc) {
            (Reducer::Count, _) => self.count += 1,
            // `red +` over ints, the hottest case: add in place (no Result, no drop of the old
            // accumulator); overflow goes the general way, which reports it.
            (
                Reducer::Fold {
                    fast: FastPath::Add,
                    ..
                },
                Acc::Value(Value::Int(x)),
            ) if let Value::Int(y) = item
                && let Some(sum) = x.checked_add(y) =>
            {
                *x = sum
            }
            (Reducer::Fold { f, fast }, Acc::Value(a)) => match fold_step(f, *fast, a, &item) {
                Ok(v) => *a = v,
                Err(e) => self.reporter.item_error("red", &item, &e),
            },
            (Reducer::Concat, Acc::Items(items)) => items.push(item),
            (Reducer::Concat, acc) => *acc = Acc::Items(vec![item]),
            (r, acc) => {
                let old = std::mem::replace(acc, Acc::Empty);
                *acc = Acc::Value(step(r, old, &item));
            }
        }
        Ok(Flow::Continue)
    }

    fn finish(&mut self) -> Result<(), OpError> {
        let result = match (&self.reducer, std::mem::replace(&mut self.acc, Acc::Empty)) {
            (Reducer::Count, _) => Some(Value::Int(self.count)),
            (_, Acc::Empty) => None,
            (_, acc) => Some(acc.into_value()),
        };
        if let Some(v) = result {
            self.next.push(v)?;
        }
        self.next.finish()
    }
}

fn one_or_tuple(mut row: Vec<Value>) -> Value {
    if row.len() == 1 {
        row.pop().expect("one value")
    } else {
        Value::tuple(row)
    }
}

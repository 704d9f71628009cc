//! The operators on values: checked int arithmetic, Python's floor division and modulo,
//! comparisons, membership. Each has an int fast path first; errors are built out of line.

use super::EvalError;
use crate::value::Value;
use std::cmp::Ordering;
use std::sync::Arc;

/// The most bytes a string built by `*` or `+` may hold.
pub const MAX_STR: usize = 1 << 30;

/// `s * n`, built by doubling, checking for ctrl-c between steps: a big repetition is the one
/// way an expression can keep the shell busy for long, and the shell must stay interruptible.
fn repeat_str(s: &str, n: usize) -> Result<String, EvalError> {
    let total = s.len() * n;
    let mut out = String::with_capacity(total);
    if n == 0 || s.is_empty() {
        return Ok(out);
    }
    out.push_str(s);
    while out.len() < total {
        if crate::expr::interrupted() {
            return Err(EvalError::Interrupted);
        }
        // Copy at most 16 MiB (and at least one copy of `s`) at a time, so an interrupt is
        // seen within milliseconds.
        let chunk = (total - out.len())
            .min(out.len())
            .min((16 << 20).max(s.len()));
        let chunk = chunk - chunk % s.len();
        out.extend_from_within(..chunk);
    }
    Ok(out)
}
/// The most items a tuple or list built by `*` or `+` may hold.
pub const MAX_ITEMS: usize = 1 << 27;

pub type R = Result<Value, EvalError>;

#[cold]
#[inline(never)]
pub fn overflow(op: &str) -> EvalError {
    EvalError::Failed(format!("int overflow in {op}"))
}

#[cold]
#[inline(never)]
pub fn zero_division() -> EvalError {
    EvalError::Failed("division by zero".into())
}

#[cold]
#[inline(never)]
pub fn unsupported(op: &str, a: &Value, b: &Value) -> EvalError {
    EvalError::Failed(format!(
        "unsupported operand types for {op}: '{}' and '{}'",
        a.type_name(),
        b.type_name()
    ))
}

/// A number, with bools counting as ints as in Python.
#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

#[inline]
fn num(v: &Value) -> Option<Num> {
    match v {
        Value::Int(i) => Some(Num::I(*i)),
        Value::Float(f) => Some(Num::F(*f)),
        Value::Bool(b) => Some(Num::I(*b as i64)),
        _ => None,
    }
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

/// Applies an arithmetic operator to two numbers, the int form checked.
#[inline]
fn arith(
    a: &Value,
    b: &Value,
    int: impl Fn(i64, i64) -> Result<i64, EvalError>,
    float: impl Fn(f64, f64) -> Result<f64, EvalError>,
) -> Option<R> {
    match (num(a)?, num(b)?) {
        (Num::I(x), Num::I(y)) => Some(int(x, y).map(Value::Int)),
        (x, y) => Some(float(x.f(), y.f()).map(Value::Float)),
    }
}

fn concat(a: &[Value], b: &[Value]) -> Result<Arc<[Value]>, EvalError> {
    if a.len() + b.len() > MAX_ITEMS {
        return Err(EvalError::Failed("result too long".into()));
    }
    Ok(a.iter().chain(b.iter()).cloned().collect())
}

#[inline]
pub fn add(a: &Value, b: &Value) -> R {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return x
            .checked_add(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("+"));
    }
    add_slow(a, b)
}

fn add_slow(a: &Value, b: &Value) -> R {
    if let Some(r) = arith(
        a,
        b,
        |x, y| x.checked_add(y).ok_or_else(|| overflow("+")),
        |x, y| Ok(x + y),
    ) {
        return r;
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            if x.len() + y.len() > MAX_STR {
                return Err(EvalError::Failed("string too long (over 1 GiB)".into()));
            }
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Ok(Value::Str(Arc::from(s)))
        }
        (Value::Tuple(x), Value::Tuple(y)) => Ok(Value::Tuple(concat(x, y)?)),
        (Value::List(x), Value::List(y)) => Ok(Value::List(concat(x, y)?)),
        _ => Err(unsupported("+", a, b)),
    }
}

#[inline]
pub fn sub(a: &Value, b: &Value) -> R {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return x
            .checked_sub(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("-"));
    }
    arith(
        a,
        b,
        |x, y| x.checked_sub(y).ok_or_else(|| overflow("-")),
        |x, y| Ok(x - y),
    )
    .unwrap_or_else(|| Err(unsupported("-", a, b)))
}

#[inline]
pub fn mul(a: &Value, b: &Value) -> R {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return x
            .checked_mul(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("*"));
    }
    mul_slow(a, b)
}

fn mul_slow(a: &Value, b: &Value) -> R {
    if let Some(r) = arith(
        a,
        b,
        |x, y| x.checked_mul(y).ok_or_else(|| overflow("*")),
        |x, y| Ok(x * y),
    ) {
        return r;
    }
    let (seq, n) = match (a, b) {
        (s, Value::Int(n)) | (Value::Int(n), s) => (s, *n),
        (s, Value::Bool(n)) | (Value::Bool(n), s) => (s, *n as i64),
        _ => return Err(unsupported("*", a, b)),
    };
    let n = n.max(0) as usize;
    match seq {
        Value::Str(s) => {
            if s.len().saturating_mul(n) > MAX_STR {
                return Err(EvalError::Failed(
                    "repeated string too long (over 1 GiB)".into(),
                ));
            }
            Ok(Value::Str(Arc::from(repeat_str(s, n)?)))
        }
        Value::Tuple(t) | Value::List(t) => {
            if t.len().saturating_mul(n) > MAX_ITEMS {
                return Err(EvalError::Failed("repeated sequence too long".into()));
            }
            let n = if t.is_empty() { 0 } else { n };
            let mut items = Vec::with_capacity(t.len() * n);
            for i in 0..n {
                if i % 4096 == 0 && crate::expr::interrupted() {
                    return Err(EvalError::Interrupted);
                }
                items.extend(t.iter().cloned());
            }
            let items: Arc<[Value]> = Arc::from(items);
            Ok(if matches!(seq, Value::Tuple(_)) {
                Value::Tuple(items)
            } else {
                Value::List(items)
            })
        }
        _ => Err(unsupported("*", a, b)),
    }
}

#[inline]
pub fn div(a: &Value, b: &Value) -> R {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => {
            let y = y.f();
            if y == 0.0 {
                return Err(zero_division());
            }
            Ok(Value::Float(x.f() / y))
        }
        _ => Err(unsupported("/", a, b)),
    }
}

#[inline]
pub fn int_floordiv(x: i64, y: i64) -> Result<i64, EvalError> {
    if y == 0 {
        return Err(zero_division());
    }
    let q = x.checked_div(y).ok_or_else(|| overflow("//"))?;
    Ok(if (x % y != 0) && ((x < 0) != (y < 0)) {
        q - 1
    } else {
        q
    })
}

#[inline]
pub fn int_mod(x: i64, y: i64) -> Result<i64, EvalError> {
    if y == 0 {
        return Err(zero_division());
    }
    if y == -1 {
        return Ok(0);
    }
    let r = x % y;
    Ok(if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    })
}

fn float_mod(x: f64, y: f64) -> Result<f64, EvalError> {
    if y == 0.0 {
        return Err(zero_division());
    }
    let r = x % y;
    Ok(if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
        r + y
    } else {
        r
    })
}

#[inline]
pub fn floordiv(a: &Value, b: &Value) -> R {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return int_floordiv(*x, *y).map(Value::Int);
    }
    arith(a, b, int_floordiv, |x, y| {
        if y == 0.0 {
            return Err(zero_division());
        }
        Ok((x / y).floor())
    })
    .unwrap_or_else(|| Err(unsupported("//", a, b)))
}

#[inline]
pub fn modulo(a: &Value, b: &Value) -> R {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return int_mod(*x, *y).map(Value::Int);
    }
    arith(a, b, int_mod, float_mod).unwrap_or_else(|| Err(unsupported("%", a, b)))
}

pub fn pow(a: &Value, b: &Value) -> R {
    let (Some(x), Some(y)) = (num(a), num(b)) else {
        return Err(unsupported("**", a, b));
    };
    match (x, y) {
        (Num::I(x), Num::I(y)) if y >= 0 => {
            let r = match u32::try_from(y) {
                Ok(e) => x.checked_pow(e),
                Err(_) => match x {
                    0 | 1 => Some(x),
                    -1 => Some(if y % 2 == 0 { 1 } else { -1 }),
                    _ => None,
                },
            };
            r.map(Value::Int).ok_or_else(|| overflow("**"))
        }
        (x, y) => {
            let (x, y) = (x.f(), y.f());
            if x == 0.0 && y < 0.0 {
                return Err(zero_division());
            }
            if x < 0.0 && y.fract() != 0.0 && y.is_finite() {
                return Err(EvalError::Failed(
                    "negative number raised to a fractional power".into(),
                ));
            }
            Ok(Value::Float(x.powf(y)))
        }
    }
}

#[inline]
pub fn eq(a: &Value, b: &Value) -> R {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(Value::Bool(x == y));
    }
    Ok(Value::Bool(a == b))
}

#[inline]
pub fn ne(a: &Value, b: &Value) -> R {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(Value::Bool(x != y));
    }
    Ok(Value::Bool(a != b))
}

#[cold]
#[inline(never)]
fn not_comparable(op: &str, a: &Value, b: &Value) -> EvalError {
    EvalError::Failed(format!(
        "'{op}' not supported between {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

/// Orders two values for `<` and friends: `None` for NaN; an error for incompatible types.
pub fn compare(op: &str, a: &Value, b: &Value) -> Result<Option<Ordering>, EvalError> {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return Ok(match (x, y) {
            (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
            (x, y) => x.f().partial_cmp(&y.f()),
        });
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.cmp(y))),
        (Value::Tuple(x), Value::Tuple(y)) | (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                if p != q {
                    return compare(op, p, q);
                }
            }
            Ok(Some(x.len().cmp(&y.len())))
        }
        _ => Err(not_comparable(op, a, b)),
    }
}

macro_rules! ordering_op {
    ($name:ident, $sym:literal, $int:tt, $test:expr) => {
        #[inline]
        pub fn $name(a: &Value, b: &Value) -> R {
            if let (Value::Int(x), Value::Int(y)) = (a, b) {
                return Ok(Value::Bool(x $int y));
            }
            let test: fn(Ordering) -> bool = $test;
            Ok(Value::Bool(compare($sym, a, b)?.is_some_and(test)))
        }
    };
}

ordering_op!(lt, "<", <, |o| o == Ordering::Less);
ordering_op!(le, "<=", <=, |o| o != Ordering::Greater);
ordering_op!(gt, ">", >, |o| o == Ordering::Greater);
ordering_op!(ge, ">=", >=, |o| o != Ordering::Less);

pub fn contains(a: &Value, b: &Value) -> Result<bool, EvalError> {
    match b {
        Value::Str(s) => match a {
            Value::Str(sub) => Ok(s.contains(&**sub)),
            _ => Err(EvalError::Failed(format!(
                "'in <str>' requires str as left operand, not {}",
                a.type_name()
            ))),
        },
        Value::Tuple(t) | Value::List(t) => Ok(t.iter().any(|x| x == a)),
        Value::Dict(d) => Ok(d.contains(a)),
        _ => Err(EvalError::Failed(format!(
            "argument of type '{}' is not iterable",
            b.type_name()
        ))),
    }
}

pub fn is_in(a: &Value, b: &Value) -> R {
    contains(a, b).map(Value::Bool)
}

pub fn not_in(a: &Value, b: &Value) -> R {
    contains(a, b).map(|c| Value::Bool(!c))
}

pub fn neg(a: &Value) -> R {
    match a {
        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| overflow("-")),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Bool(b) => Ok(Value::Int(-(*b as i64))),
        _ => Err(EvalError::Failed(format!(
            "bad operand type for unary -: '{}'",
            a.type_name()
        ))),
    }
}

pub fn pos(a: &Value) -> R {
    match a {
        Value::Int(_) | Value::Float(_) => Ok(a.clone()),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        _ => Err(EvalError::Failed(format!(
            "bad operand type for unary +: '{}'",
            a.type_name()
        ))),
    }
}

pub fn not(a: &Value) -> R {
    Ok(Value::Bool(!a.truthy()))
}

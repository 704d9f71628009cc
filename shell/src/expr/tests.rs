use super::*;
use crate::syntax::parse_expr;
use crate::value::FileInfo;
use std::sync::Arc;

struct Vars;

impl Globals for Vars {
    fn lookup(&self, name: &str) -> Option<Value> {
        match name {
            "n" => Some(Value::Int(10)),
            "s" => Some(Value::str("a,b,c")),
            "f" => Some(Value::File(Arc::new(FileInfo {
                path: "src/main.rs".into(),
                name: "main.rs".into(),
                size: 1234,
                mtime: 1.5e9,
                is_dir: false,
                is_file: true,
                is_link: false,
                mode: 0o644,
            }))),
            _ => None,
        }
    }
}

fn ev(src: &str) -> Result<Value, String> {
    let e = parse_expr(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    eval(&e, &Vars).map_err(|e| e.to_string())
}

fn ok(src: &str) -> Value {
    ev(src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn repr(src: &str) -> String {
    ok(src).repr()
}

fn fails(src: &str) -> String {
    match ev(src) {
        Ok(v) => panic!("{src} gave {v:?}"),
        Err(e) => e,
    }
}

fn func(params: &[&str], body: &str) -> CompiledFn {
    let f = Function {
        params: params.iter().map(|p| p.to_string()).collect(),
        body: parse_expr(body).unwrap(),
    };
    compile_function(&f, &Vars).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn compile_err(params: &[&str], body: &str) -> String {
    let f = Function {
        params: params.iter().map(|p| p.to_string()).collect(),
        body: parse_expr(body).unwrap(),
    };
    match compile_function(&f, &Vars) {
        Ok(_) => panic!("{body} compiled"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn arithmetic() {
    assert_eq!(repr("1 + 2 * 3"), "7");
    assert_eq!(repr("7 - 10"), "-3");
    assert_eq!(repr("7 / 2"), "3.5");
    assert_eq!(repr("6 / 2"), "3.0");
    assert_eq!(repr("7 // 2"), "3");
    assert_eq!(repr("-7 // 2"), "-4");
    assert_eq!(repr("7 // -2"), "-4");
    assert_eq!(repr("-7 % 3"), "2");
    assert_eq!(repr("7 % -3"), "-2");
    assert_eq!(repr("7.5 % 2"), "1.5");
    assert_eq!(repr("-7.5 % 2"), "0.5");
    assert_eq!(repr("7.5 // 2"), "3.0");
    assert_eq!(repr("2 ** 10"), "1024");
    assert_eq!(repr("2 ** -1"), "0.5");
    assert_eq!(repr("-2 ** 2"), "-4");
    assert_eq!(repr("2 ** 3 ** 2"), "512");
    assert_eq!(repr("1 ** 99999999999"), "1");
    assert_eq!(repr("(-1) ** 99999999999"), "-1");
    assert_eq!(repr("4 ** 0.5"), "2.0");
    assert_eq!(repr("1 + 2.5"), "3.5");
    assert_eq!(repr("true + 1"), "2");
    assert_eq!(repr("-(3)"), "-3");
    assert_eq!(repr("+3.5"), "3.5");
    assert_eq!(repr("-true"), "-1");
    assert_eq!(repr("'ab' + 'cd'"), "'abcd'");
    assert_eq!(repr("'ab' * 3"), "'ababab'");
    assert_eq!(repr("2 * 'ab'"), "'abab'");
    assert_eq!(repr("'ab' * -1"), "''");
    assert_eq!(repr("(1, 2) + (3,)"), "(1, 2, 3)");
    assert_eq!(repr("[1] + [2]"), "[1, 2]");
    assert_eq!(repr("[1, 2] * 2"), "[1, 2, 1, 2]");
    assert_eq!(repr("(1,) * 2"), "(1, 1)");
    assert_eq!(repr("-9223372036854775807 - 1"), "-9223372036854775808");
    assert_eq!(repr("(-9223372036854775807 - 1) % -1"), "0");
}

#[test]
fn arithmetic_errors() {
    assert_eq!(fails("9223372036854775807 + 1"), "int overflow in +");
    assert_eq!(fails("-9223372036854775807 - 2"), "int overflow in -");
    assert_eq!(fails("9223372036854775807 * 2"), "int overflow in *");
    assert_eq!(fails("2 ** 64"), "int overflow in **");
    assert_eq!(fails("2 ** 99999999999"), "int overflow in **");
    assert_eq!(fails("-(-9223372036854775807 - 1)"), "int overflow in -");
    assert_eq!(
        fails("(-9223372036854775807 - 1) // -1"),
        "int overflow in //"
    );
    assert_eq!(fails("1 / 0"), "division by zero");
    assert_eq!(fails("1 // 0"), "division by zero");
    assert_eq!(fails("1 % 0"), "division by zero");
    assert_eq!(fails("1.0 / 0"), "division by zero");
    assert_eq!(fails("1.0 % 0.0"), "division by zero");
    assert_eq!(fails("1.0 // 0.0"), "division by zero");
    assert_eq!(fails("0 ** -1"), "division by zero");
    assert_eq!(
        fails("(-8) ** 0.5"),
        "negative number raised to a fractional power"
    );
    assert_eq!(
        fails("1 + 'a'"),
        "unsupported operand types for +: 'int' and 'str'"
    );
    assert_eq!(
        fails("'a' - 'b'"),
        "unsupported operand types for -: 'str' and 'str'"
    );
    assert_eq!(
        fails("'a' * 'b'"),
        "unsupported operand types for *: 'str' and 'str'"
    );
    assert_eq!(
        fails("'a' / 2"),
        "unsupported operand types for /: 'str' and 'int'"
    );
    assert_eq!(
        fails("'a' // 2"),
        "unsupported operand types for //: 'str' and 'int'"
    );
    assert_eq!(
        fails("'a' % 2"),
        "unsupported operand types for %: 'str' and 'int'"
    );
    assert_eq!(
        fails("'a' ** 2"),
        "unsupported operand types for **: 'str' and 'int'"
    );
    assert_eq!(
        fails("(1,) + [2]"),
        "unsupported operand types for +: 'tuple' and 'list'"
    );
    assert_eq!(fails("-'a'"), "bad operand type for unary -: 'str'");
    assert_eq!(fails("+none"), "bad operand type for unary +: 'none'");
    assert_eq!(
        fails("'ab' * 1000000000"),
        "repeated string too long (over 1 GiB)"
    );
    assert_eq!(fails("[1] * 1000000000"), "repeated sequence too long");
}

#[test]
fn comparisons_and_logic() {
    for (src, want) in [
        ("1 == 1.0", true),
        ("1 == 'a'", false),
        ("none == none", true),
        ("(1, 2) == (1, 2)", true),
        ("(1, 2) == [1, 2]", false),
        ("1 != 'a'", true),
        ("1 < 2", true),
        ("2 <= 2", true),
        ("3 > 2.5", true),
        ("2 >= 3", false),
        ("'a' < 'b'", true),
        ("(1, 'a') < (1, 'b')", true),
        ("(1, 2) < (1, 2, 0)", true),
        ("[2] > [1, 5]", true),
        ("true < 2", true),
        ("1.0 < 0.0 / 1", false),
        ("'b' in 'abc'", true),
        ("'x' not in 'abc'", true),
        ("2 in (1, 2)", true),
        ("2.0 in [1, 2]", true),
        ("3 not in [1, 2]", true),
        ("not 0", true),
        ("not 'a'", false),
    ] {
        assert_eq!(ok(src), Value::Bool(want), "{src}");
    }
    assert_eq!(fails("1 < 'a'"), "'<' not supported between int and str");
    assert_eq!(
        fails("none >= 1"),
        "'>=' not supported between none and int"
    );
    assert_eq!(
        fails("(1, 'a') < (1, 2)"),
        "'<' not supported between str and int"
    );
    assert_eq!(
        fails("1 in 'abc'"),
        "'in <str>' requires str as left operand, not int"
    );
    assert_eq!(fails("1 in 5"), "argument of type 'int' is not iterable");
    assert_eq!(repr("0 or 'x'"), "'x'");
    assert_eq!(repr("2 or 1 / 0"), "2");
    assert_eq!(repr("0 and 1 / 0"), "0");
    assert_eq!(repr("1 and 'y'"), "'y'");
    assert_eq!(repr("'a' if 1 > 2 else 'b'"), "'b'");
    assert_eq!(repr("'a' if n else 1 / 0"), "'a'");
    let f = func(&["x"], "x and 1 // x");
    assert_eq!(f.call(&Value::Int(0)).unwrap(), Value::Int(0));
    assert_eq!(f.call(&Value::Int(2)).unwrap(), Value::Int(0));
    let f = func(&["x"], "x or 'empty'");
    assert_eq!(f.call(&Value::str("")).unwrap(), Value::str("empty"));
    let f = func(&["x"], "'big' if x > 5 else 'small'");
    assert_eq!(f.call(&Value::Int(6)).unwrap(), Value::str("big"));
    assert_eq!(f.call(&Value::Int(5)).unwrap(), Value::str("small"));
}

#[test]
fn indexing_and_slicing() {
    assert_eq!(repr("(1, 2, 3)[0]"), "1");
    assert_eq!(repr("[1, 2, 3][-1]"), "3");
    assert_eq!(repr("'héllo'[1]"), "'é'");
    assert_eq!(repr("'hello'[-5]"), "'h'");
    assert_eq!(fails("(1, 2)[2]"), "tuple index out of range");
    assert_eq!(fails("[1, 2][-3]"), "list index out of range");
    assert_eq!(fails("'ab'[5]"), "str index out of range");
    assert_eq!(fails("(1, 2)['a']"), "indices must be integers, not str");
    assert_eq!(fails("5[0]"), "'int' cannot be indexed");
    assert_eq!(repr("(1, 2, 3)[1:]"), "(2, 3)");
    assert_eq!(repr("[1, 2, 3][:-1]"), "[1, 2]");
    assert_eq!(repr("[1, 2, 3][-10:10]"), "[1, 2, 3]");
    assert_eq!(repr("[1, 2, 3][2:1]"), "[]");
    assert_eq!(repr("'hello'[1:3]"), "'el'");
    assert_eq!(repr("'héllo'[1:3]"), "'él'");
    assert_eq!(repr("'hello'[:]"), "'hello'");
    assert_eq!(repr("'hello'[none:2]"), "'he'");
    assert_eq!(fails("5[1:]"), "'int' cannot be sliced");
    assert_eq!(fails("'ab'['a':]"), "indices must be integers, not str");
    assert_eq!(repr("s.split(',')[1]"), "'b'");
}

#[test]
fn builtins() {
    for (src, want) in [
        ("len('héllo')", "5"),
        ("len((1, 2))", "2"),
        ("len([])", "0"),
        ("int('12')", "12"),
        ("int(' -3 ')", "-3"),
        ("int(3.9)", "3"),
        ("int(-3.9)", "-3"),
        ("int(true)", "1"),
        ("int()", "0"),
        ("float('2.5')", "2.5"),
        ("float(2)", "2.0"),
        ("str(12)", "'12'"),
        ("str('a')", "'a'"),
        ("str((1, 'a'))", r"'(1, \'a\')'"),
        ("abs(-3)", "3"),
        ("abs(-2.5)", "2.5"),
        ("min(3, 1, 2)", "1"),
        ("max(3, 1, 2)", "3"),
        ("min((3, 1.5))", "1.5"),
        ("max(['a', 'c', 'b'])", "'c'"),
        ("round(2.5)", "2"),
        ("round(3.5)", "4"),
        ("round(-2.7)", "-3"),
        ("round(7)", "7"),
        ("round(2.675, 1)", "2.7"),
        ("round(1234, -2)", "1200.0"),
        ("bool(0)", "false"),
        ("bool('a')", "true"),
        ("sum((1, 2, 3))", "6"),
        ("sum([1, 2.5])", "3.5"),
        ("sum([], 10)", "10"),
        ("tuple([1, 2])", "(1, 2)"),
        ("list('ab')", "['a', 'b']"),
        ("tuple()", "()"),
        ("days(2)", "172800.0"),
        ("days(0.5)", "43200.0"),
    ] {
        assert_eq!(repr(src), want, "{src}");
    }
    let Value::Float(t) = ok("now()") else {
        panic!("now() is not a float")
    };
    assert!(t > 1.7e9);
    assert!(ok("now() - days(1) < now()").truthy());
    assert_eq!(fails("len(5)"), "object of type 'int' has no len()");
    assert_eq!(fails("int('abc')"), "invalid literal for int(): 'abc'");
    assert_eq!(
        fails("int('99999999999999999999')"),
        "int overflow in int()"
    );
    assert_eq!(fails("int(1e300)"), "int overflow in int()");
    assert_eq!(
        fails("int(float('nan'))"),
        "cannot convert float nan to int"
    );
    assert_eq!(
        fails("float('x')"),
        "could not convert string to float: 'x'"
    );
    assert_eq!(fails("abs('a')"), "bad operand type for abs(): 'str'");
    assert_eq!(
        fails("abs(-9223372036854775807 - 1)"),
        "int overflow in abs"
    );
    assert_eq!(fails("min(())"), "min() of an empty sequence");
    assert_eq!(
        fails("max(5)"),
        "max() of one argument needs a tuple or list, not int"
    );
    assert_eq!(
        fails("min(1, 'a')"),
        "'<' not supported between str and int"
    );
    assert_eq!(fails("round('a')"), "round() needs a number, not str");
    assert_eq!(fails("sum(5)"), "sum() needs a tuple, list or str, not int");
    assert_eq!(
        fails("sum(('a', 'b'))"),
        "unsupported operand types for +: 'int' and 'str'"
    );
    assert_eq!(fails("days('a')"), "days() needs a number, not str");
    assert_eq!(
        compile_err(&[], "len(1, 2)"),
        "len() takes 1 argument, given 2"
    );
    assert_eq!(
        compile_err(&[], "now(1)"),
        "now() takes 0 arguments, given 1"
    );
    assert_eq!(
        compile_err(&[], "round()"),
        "round() takes 1 to 2 arguments, given 0"
    );
    assert_eq!(
        compile_err(&[], "min()"),
        "min() takes at least 1 argument, given 0"
    );
    assert_eq!(compile_err(&[], "foo(1)"), "unknown function 'foo'");
    assert_eq!(compile_err(&["x"], "x(1)"), "'x' is not a function");
    assert_eq!(
        compile_err(&[], "(1)(2)"),
        "only builtin functions and methods can be called"
    );
    assert_eq!(
        compile_err(&[], "len"),
        "'len' is a builtin function; call it as len(...)"
    );
}

#[test]
fn methods() {
    for (src, want) in [
        ("'aBc'.upper()", "'ABC'"),
        ("'aBc'.lower()", "'abc'"),
        ("'  a b  '.strip()", "'a b'"),
        ("'  a  '.lstrip()", "'a  '"),
        ("'  a  '.rstrip()", "'  a'"),
        ("'xxaxx'.strip('x')", "'a'"),
        ("'xyaxy'.lstrip('yx')", "'axy'"),
        ("'a b  c'.split()", "['a', 'b', 'c']"),
        ("'a,b,,c'.split(',')", "['a', 'b', '', 'c']"),
        ("'abc'.startswith('ab')", "true"),
        ("'abc'.endswith('b')", "false"),
        ("'aaa'.replace('a', 'bb')", "'bbbbbb'"),
        ("'héllo'.find('l')", "2"),
        ("'abc'.find('z')", "-1"),
        ("'-'.join(['a', 'b', 'c'])", "'a-b-c'"),
        ("', '.join(())", "''"),
        ("'banana'.count('an')", "2"),
        ("(1, 2, 3).index(2)", "1"),
        ("[1, 2, 2].count(2)", "2"),
        ("s.split(',')[0].upper()", "'A'"),
    ] {
        assert_eq!(repr(src), want, "{src}");
    }
    assert_eq!(fails("5.upper()"), "'int' has no method 'upper'");
    assert_eq!(fails("(1,).upper()"), "'tuple' has no method 'upper'");
    assert_eq!(fails("'a'.index('a')"), "'str' has no method 'index'");
    assert_eq!(fails("'a'.split('')"), "empty separator");
    assert_eq!(
        fails("'a'.startswith(1)"),
        "startswith() needs a str argument, not int"
    );
    assert_eq!(
        fails("'-'.join([1, 2])"),
        "join() needs str items, found int"
    );
    assert_eq!(
        fails("'-'.join(5)"),
        "join() needs a tuple or list, not int"
    );
    assert_eq!(fails("(1, 2).index(5)"), "5 is not in the tuple");
    assert_eq!(compile_err(&[], "'a'.frob()"), "unknown method 'frob'");
    assert_eq!(
        compile_err(&[], "'a'.upper(1)"),
        "upper() takes 0 arguments, given 1"
    );
    assert_eq!(
        compile_err(&[], "'a'.replace('a')"),
        "replace() takes 2 arguments, given 1"
    );
    assert_eq!(
        compile_err(&[], "'a'.find()"),
        "find() takes 1 argument, given 0"
    );
}

#[test]
fn file_attributes() {
    for (src, want) in [
        ("f.name", "'main.rs'"),
        ("f.path", "'src/main.rs'"),
        ("f.size", "1234"),
        ("f.mtime", "1500000000.0"),
        ("f.suffix", "'rs'"),
        ("f.is_dir", "false"),
        ("f.is_file", "true"),
        ("f.is_link", "false"),
        ("f.mode", "420"),
        ("f.size > 1000 and f.suffix == 'rs'", "true"),
    ] {
        assert_eq!(repr(src), want, "{src}");
    }
    assert_eq!(fails("n.size"), "'int' has no attribute 'size'");
    assert_eq!(compile_err(&[], "f.colour"), "unknown attribute 'colour'");
}

#[test]
fn names_and_functions() {
    assert_eq!(compile_err(&[], "foo + 1"), "unknown name 'foo'");
    assert_eq!(
        compile_err(&["x", "x"], "x"),
        "parameter 'x' is named twice"
    );
    // Parameters shadow globals.
    let f = func(&["n"], "n * 2");
    assert_eq!(f.call(&Value::Int(4)).unwrap(), Value::Int(8));
    let f = func(&["x"], "x * n");
    assert_eq!(f.arity(), 1);
    assert_eq!(f.call(&Value::Int(4)).unwrap(), Value::Int(40));
    let f = func(&["x", "y"], "x + y");
    let t = Value::tuple(vec![Value::Int(1), Value::Int(2)]);
    assert_eq!(f.call(&t).unwrap(), Value::Int(3));
    assert_eq!(
        f.call_args(&[Value::Int(5), Value::Int(6)]).unwrap(),
        Value::Int(11)
    );
    assert_eq!(
        f.call(&Value::Int(1)).unwrap_err().to_string(),
        "function takes 2 arguments but the item has 1 field"
    );
    let f = func(&["x"], "(x, x * x)");
    assert_eq!(f.call(&Value::Int(3)).unwrap().repr(), "(3, 9)");
    let f = func(&["x"], "[x, 1]");
    assert_eq!(f.call(&Value::Int(3)).unwrap().repr(), "[3, 1]");
    let f = func(&[], "n + 1");
    assert_eq!(f.call(&Value::str("ignored")).unwrap(), Value::Int(11));
    let f = func(&["x"], "x.upper()[1:]");
    assert_eq!(f.call(&Value::str("abc")).unwrap(), Value::str("BC"));
    let f = func(&["x"], "x * 2");
    assert_eq!(
        f.call(&Value::Int(i64::MAX)).unwrap_err().to_string(),
        "int overflow in *"
    );
    assert_eq!(f.call(&Value::Float(1.5)).unwrap(), Value::Float(3.0));
    assert_eq!(f.call(&Value::str("ab")).unwrap(), Value::str("abab"));
    // A constant error is reported when the expression runs, not when it compiles.
    let f = func(&["x"], "x if x else 1 / 0");
    assert_eq!(f.call(&Value::Int(3)).unwrap(), Value::Int(3));
    assert_eq!(
        f.call(&Value::Int(0)).unwrap_err().to_string(),
        "division by zero"
    );
}

/// `cargo test --release -p marsh -- --ignored --nocapture per_call_cost`
#[test]
#[ignore]
fn per_call_cost() {
    for body in [
        "x * 2",
        "x > 5",
        "x % 2 == 0",
        "x + 1 if x % 2 == 0 else x",
        "x + 1 if x > 5 else x",
        "(x * 2) + 1",
    ] {
        let f = func(&["x"], body);
        let n = 10_000_000i64;
        let start = std::time::Instant::now();
        let mut acc = 0i64;
        for i in 0..n {
            if let Ok(Value::Int(v)) = f.call(std::hint::black_box(&Value::Int(i))) {
                acc = acc.wrapping_add(v);
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        println!("({body}): {ns:.2} ns per call ({acc})");
    }
}

#[test]
fn long_chains_compile_and_run() {
    // The parser's limits bound the tree's depth; the longest chains it accepts must compile,
    // run and drop without exhausting a test thread's stack.
    let body = format!("x{}", " + x".repeat(495));
    let f = func(&["x"], &body);
    assert_eq!(f.call(&Value::Int(1)).unwrap(), Value::Int(496));
    let body = format!("x{}", "[0]".repeat(330));
    let f = func(&["x"], &body);
    assert_eq!(
        f.call(&Value::Int(1)).unwrap_err().to_string(),
        "'int' cannot be indexed"
    );
}

#[test]
fn repetition_of_empty_sequences_is_instant_and_big_ones_are_interruptible() {
    use crate::expr::{NoGlobals, eval};
    use crate::syntax::{ast::CommandBody, parse};
    let value = |text: &str| {
        let CommandBody::Assign {
            value: crate::syntax::ast::AssignValue::Expr(e),
            ..
        } = parse(&format!("v = ({text})")).unwrap().body
        else {
            panic!("an assignment")
        };
        eval(&e, &NoGlobals)
    };
    assert_eq!(value("[] * 1000000000000").unwrap().to_string(), "[]");
    assert_eq!(value("'' * 1000000000000").unwrap().to_string(), "");
    assert_eq!(value("len('ab' * 3000000)").unwrap().to_string(), "6000000");
    crate::expr::INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
    let interrupted = value("'ab' * 300000000");
    crate::expr::INTERRUPTED.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        interrupted.unwrap_err(),
        crate::expr::EvalError::Interrupted
    );
}

#[test]
fn unicode_escapes_and_held_bytes_read_back() {
    assert_eq!(ev("'\\u{e9}\\u{1F600}'"), Ok(Value::str("é😀")));
    // A line holding the byte 0xff prints as a literal that reads back to the same string.
    let held = Value::str(&crate::value::raw::decode(b"a\xffb"));
    assert_eq!(held.repr(), "'a\\u{10ffff}b'");
    assert_eq!(ev(&held.repr()), Ok(held));
}

#[test]
fn dicts() {
    assert_eq!(repr("{'a': 1, 'b': [1, 2]}"), "{'a': 1, 'b': [1, 2]}");
    assert_eq!(repr("{'a': 1, 'b': 2}['b']"), "2");
    assert_eq!(repr("{'a': n}.keys()"), "['a']");
    assert_eq!(repr("{'a': n}.values()"), "[10]");
    assert_eq!(repr("{'a': n, 1: 2}.items()"), "[('a', 10), (1, 2)]");
    assert_eq!(repr("{'a': 1}.get('z')"), "none");
    assert_eq!(repr("{'a': 1}.get('z', 5)"), "5");
    assert_eq!(repr("len({1: 2, 1.0: 3})"), "1");
    assert_eq!(repr("{1: 2, 1.0: 3}"), "{1: 3}");
    assert_eq!(repr("('a' in {'a': 1}, 1 in {'a': 1})"), "(true, false)");
    assert_eq!(repr("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}"), "true");
    assert_eq!(repr("dict([('x', 1), ['y', 2]])"), "{'x': 1, 'y': 2}");
    assert_eq!(repr("list({'x': 1, 'y': 2})"), "['x', 'y']");
    assert_eq!(repr("bool({})"), "false");
    assert_eq!(
        ev("{'a': 1}['b']").unwrap_err(),
        "key 'b' is not in the dict"
    );
    assert!(ev("dict([1])").unwrap_err().contains("(key, value) pairs"));
    assert!(
        ev("{'a': 1}.upper()")
            .unwrap_err()
            .contains("has no method")
    );
    assert!(ev("'s'.keys()").unwrap_err().contains("has no method"));
}

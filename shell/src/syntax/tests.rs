use super::ast::*;
use super::{parse, parse_expr, parse_list};

fn w(s: &str) -> Word {
    Word::plain(s)
}

fn q(s: &str) -> Word {
    Word::quoted(s)
}

fn pipeline(line: &str) -> Pipeline {
    match parse(line).unwrap_or_else(|e| panic!("{line}: {e}")).body {
        CommandBody::Pipeline(p) => p,
        other => panic!("not a pipeline: {other:?}"),
    }
}

fn op(name: &str, args: Vec<Arg>) -> Stage {
    Stage::Op {
        env: vec![],
        name: w(name),
        args,
        redirects: vec![],
    }
}

fn e(s: &str) -> Expr {
    parse_expr(s).unwrap_or_else(|err| panic!("{s}: {err}"))
}

fn err_of(line: &str) -> (usize, String) {
    let e = parse(line).expect_err(line);
    (e.position, e.message)
}

fn roundtrip(line: &str) {
    let c = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    let printed = c.to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
    assert_eq!(c, again, "{line} -> {printed}");
}

fn b(x: Expr) -> Box<Expr> {
    Box::new(x)
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary(op, b(l), b(r))
}

fn name(n: &str) -> Expr {
    Expr::Name(n.into())
}

#[test]
fn empty_and_comments() {
    for line in ["", "   ", "# hello", "  # x | y", "\t"] {
        assert_eq!(parse(line).unwrap().body, CommandBody::Empty, "{line}");
    }
    let p = pipeline("gen 3 # the rest | head");
    assert_eq!(p.stages, vec![op("gen", vec![Arg::Word(w("3"))])]);
    // `#` inside a word is not a comment.
    let p = pipeline("echo a#b");
    assert_eq!(p.stages, vec![op("echo", vec![Arg::Word(w("a#b"))])]);
}

#[test]
fn words_and_quotes() {
    let p = pipeline(r#"echo 'a b' "c\"d" x'y'z \| \n 'it\'s' "\x41\t" --opt=val *.rs ~ red+"#);
    let Stage::Op { args, .. } = &p.stages[0] else {
        panic!()
    };
    let words: Vec<Word> = args
        .iter()
        .map(|a| match a {
            Arg::Word(w) => w.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        words,
        vec![
            q("a b"),
            q("c\"d"),
            q("xyz"),
            q("|"),
            q("n"),
            q("it's"),
            q("A\t"),
            w("--opt=val"),
            w("*.rs"),
            w("~"),
            w("red+")
        ]
    );
    assert_eq!(
        pipeline("red + count").stages[0],
        op("red", vec![Arg::Word(w("+")), Arg::Word(w("count"))])
    );
    assert_eq!(
        pipeline("red .").stages[0],
        op("red", vec![Arg::Word(w("."))])
    );
    assert_eq!(
        pipeline("echo ''").stages[0],
        op("echo", vec![Arg::Word(q(""))])
    );
    assert_eq!(
        pipeline("é 'ü'").stages[0],
        op("é", vec![Arg::Word(q("ü"))])
    );
}

#[test]
fn groups_and_functions() {
    let p = pipeline(
        "gen 3 | map (x: x * 2) | (x, y: x + y) | (5) | select (f.size > 1 and 'a)' in f.name)",
    );
    assert_eq!(p.stages.len(), 5);
    assert_eq!(
        p.stages[1],
        op(
            "map",
            vec![Arg::Func(Function {
                params: vec!["x".into()],
                body: e("x * 2")
            })]
        )
    );
    assert_eq!(
        p.stages[2],
        Stage::Func(Function {
            params: vec!["x".into(), "y".into()],
            body: e("x + y")
        })
    );
    assert_eq!(
        p.stages[3],
        Stage::Func(Function {
            params: vec![],
            body: Expr::Int(5)
        })
    );
    assert_eq!(
        pipeline("gen (n * 2)").stages[0],
        op("gen", vec![Arg::Expr(e("n * 2"))])
    );
    assert_eq!(
        pipeline("f (1, 2) ()").stages[0],
        op("f", vec![Arg::Expr(e("(1, 2)")), Arg::Expr(e("()"))])
    );
    assert_eq!(
        pipeline("f (1,)").stages[0],
        op("f", vec![Arg::Expr(Expr::Tuple(vec![Expr::Int(1)]))])
    );
    // A function body may be a bare tuple.
    assert_eq!(
        pipeline("(x: x, x * x)").stages[0],
        Stage::Func(Function {
            params: vec!["x".into()],
            body: e("(x, x * x)")
        })
    );
    assert_eq!(pipeline("(x: (x, x))").stages, pipeline("(x: x, x)").stages);
    // Nested parentheses and a group glued to a word.
    assert_eq!(
        pipeline("map(x: (x))").stages[0],
        op(
            "map",
            vec![Arg::Func(Function {
                params: vec!["x".into()],
                body: name("x")
            })]
        )
    );
}

#[test]
fn assignments() {
    let c = parse("a = (5)").unwrap();
    assert_eq!(
        c.body,
        CommandBody::Assign {
            name: "a".into(),
            value: AssignValue::Expr(Expr::Int(5))
        }
    );
    let c = parse("a = hello # comment").unwrap();
    assert_eq!(
        c.body,
        CommandBody::Assign {
            name: "a".into(),
            value: AssignValue::Word(w("hello"))
        }
    );
    let c = parse("a = 'x y'").unwrap();
    assert_eq!(
        c.body,
        CommandBody::Assign {
            name: "a".into(),
            value: AssignValue::Word(q("x y"))
        }
    );
    // Not identifiers or a quoted '=': ops.
    assert!(matches!(
        parse("1a = b").unwrap().body,
        CommandBody::Pipeline(_)
    ));
    assert!(matches!(
        parse("a '=' b").unwrap().body,
        CommandBody::Pipeline(_)
    ));
    // `a=b` is an environment prefix waiting for its program.
    assert!(err_of("a=b").1.contains("none follows"));
    assert_eq!(
        err_of("a = b c"),
        (6, "unexpected 'c' after an assignment".into())
    );
    assert_eq!(err_of("a ="), (3, "missing value after '='".into()));
    assert!(parse("a = b &").unwrap().background);
    assert_eq!(
        err_of("a = (x: x)").1,
        "a function cannot be assigned to a variable"
    );
    assert_eq!(err_of("a = | b").1, "expected a value after '=', found '|'");
}

#[test]
fn sources_and_sinks() {
    let p = pipeline("x <$");
    assert_eq!(
        p,
        Pipeline {
            source: Some(Source::Reservoir("x".into())),
            stages: vec![],
            sink: None
        }
    );
    let p = pipeline("x <$ head 3 >$ y");
    assert_eq!(p.source, Some(Source::Reservoir("x".into())));
    assert_eq!(p.stages, vec![op("head", vec![Arg::Word(w("3"))])]);
    assert_eq!(
        p.sink,
        Some(Sink::Reservoir {
            name: "y".into(),
            append: false
        })
    );
    let p = pipeline("x <$ >>$ y");
    assert_eq!(p.stages, vec![]);
    assert_eq!(
        p.sink,
        Some(Sink::Reservoir {
            name: "y".into(),
            append: true
        })
    );
    let p = pipeline("< in.txt | head 3 > 'out file'");
    assert_eq!(p.source, Some(Source::File(w("in.txt"))));
    assert_eq!(
        p.sink,
        Some(Sink::File {
            path: q("out file"),
            append: false
        })
    );
    let p = pipeline("< a >> b");
    assert_eq!(p.stages, vec![]);
    assert_eq!(
        p.sink,
        Some(Sink::File {
            path: w("b"),
            append: true
        })
    );
    // `< in sort` is `< in | sort`.
    assert_eq!(pipeline("< in sort -r > o"), pipeline("< in | sort -r > o"));
    assert_eq!(pipeline("< in sort").stages.len(), 1);
    // POSIX: digits glued to '>' are a descriptor number, so this is `gen` with fd 3 into x.
    let p = pipeline("gen 3>x");
    assert_eq!(p.sink, None);
    assert_eq!(redirects_of(&p, 0), vec![write(3, "x", false)]);
    let p = pipeline("gen 3 >x");
    assert_eq!(
        p.sink,
        Some(Sink::File {
            path: w("x"),
            append: false
        })
    );
    let c = parse("sleep 30 &").unwrap();
    assert!(c.background);
    let c = parse("gen 3 >$ x&").unwrap();
    assert!(c.background);
    let c = parse("gen 3").unwrap();
    assert!(!c.background);
}

#[test]
fn command_errors() {
    assert_eq!(err_of("echo 'abc"), (5, "unterminated quote".into()));
    assert_eq!(err_of("echo \"abc"), (5, "unterminated quote".into()));
    assert_eq!(
        err_of("map (x: x"),
        (4, "unbalanced parenthesis: '(' is never closed".into())
    );
    assert_eq!(
        err_of("map x)"),
        (5, "unbalanced parenthesis: ')' without '('".into())
    );
    assert_eq!(
        err_of("map (x: ')'"),
        (4, "unbalanced parenthesis: '(' is never closed".into())
    );
    assert_eq!(err_of("map (x: ')"), (8, "unterminated quote".into()));
    assert_eq!(
        err_of("gen 3 | | head"),
        (8, "empty stage after '|'".into())
    );
    assert_eq!(err_of("| head").0, 0);
    assert_eq!(
        err_of("gen 3 |"),
        (7, "empty stage: nothing after '|'".into())
    );
    assert_eq!(err_of("x <$ | head").1, "empty stage before '|'");
    assert_eq!(
        err_of("gen 3 & | head"),
        (8, "empty stage before '|'".into())
    );
    assert_eq!(err_of("gen 3 & &").0, 8);
    assert_eq!(err_of("& gen").0, 0);
    assert_eq!(
        err_of("gen 3 >$"),
        (8, "missing variable name after '>$'".into())
    );
    assert_eq!(err_of("gen 3 >>$ |").1, "missing variable name after '>>$'");
    assert_eq!(err_of("gen 3 >").1, "missing file name after '>'");
    assert_eq!(err_of("<$ head").1, "missing variable name before '<$'");
    assert_eq!(err_of("gen 3 >$ '1x'").1, "bad variable name '1x'");
    // A quoted control character is escaped: the message stays one line (found by tests/fuzz.rs).
    assert_eq!(err_of("x>$load'\\n'").1, "bad variable name 'load\\n'");
    assert_eq!(
        err_of("gen 3 >$ x y"),
        (11, "unexpected 'y' after the output".into())
    );
    assert_eq!(
        err_of("(x: x) > a | head").1,
        "unexpected '|' after the output"
    );
    assert_eq!(err_of("< a > b > c").0, 8);
    assert_eq!(
        err_of("head 3 <$ x").1,
        "'<$' must follow a variable name at the start of the line"
    );
    assert_eq!(
        err_of("< x 2> e").1,
        "unexpected '2>': only a program or an op can be redirected"
    );
    assert_eq!(
        err_of("gen 3 | (x: x) 2> e").1,
        "unexpected '2>': a bare function takes no redirection; write map (...) 2>"
    );
    assert_eq!(err_of("<").1, "missing file name after '<'");
    assert_eq!(err_of("< a |").1, "empty stage: nothing after '|'");
    assert_eq!(err_of(">$ x").1, "expected a command, found '>$'");
    assert_eq!(
        err_of("(x: x) y").1,
        "unexpected 'y' after a function; separate stages with '|'"
    );
    assert_eq!(
        err_of("echo \\").1,
        "a backslash at the end of the line escapes nothing"
    );
    assert_eq!(
        err_of("map (x: x +)"),
        (11, "unexpected end of expression".into())
    );
    assert_eq!(err_of("map (x: 1 +* 2)"), (11, "unexpected '*'".into()));
    assert_eq!(
        err_of("gen (99999999999999999999)"),
        (5, "integer literal too large".into())
    );
    assert_eq!(err_of("map (x, x: 1)").1, "parameter 'x' is named twice");
    assert_eq!(err_of("map (x:)").1, "missing function body after ':'");
    assert_eq!(
        err_of("map (a < b < c)").1,
        "comparisons cannot be chained; write 'a < b and b < c' with parentheses or 'and'"
    );
    assert_eq!(
        err_of("map (a = b)").1,
        "'=' is not an operator here; did you mean '=='?"
    );
    assert_eq!(
        err_of("map ('\\xZZ')").1,
        "bad escape: \\x needs two hex digits"
    );
    for bad in ["map ('\\u{}')", "map ('\\u{110000}')", "map ('\\u{12')"] {
        assert_eq!(
            err_of(bad).1,
            "bad escape: \\u{...} needs a hex code point",
            "{bad}"
        );
    }
}

#[test]
fn expression_precedence() {
    use BinOp::*;
    assert_eq!(
        e("-2**2"),
        Expr::Unary(UnOp::Neg, b(bin(Pow, Expr::Int(2), Expr::Int(2))))
    );
    assert_eq!(
        e("2**-1"),
        bin(Pow, Expr::Int(2), Expr::Unary(UnOp::Neg, b(Expr::Int(1))))
    );
    assert_eq!(
        e("2**3**2"),
        bin(Pow, Expr::Int(2), bin(Pow, Expr::Int(3), Expr::Int(2)))
    );
    assert_eq!(
        e("1 + 2 * 3"),
        bin(Add, Expr::Int(1), bin(Mul, Expr::Int(2), Expr::Int(3)))
    );
    assert_eq!(
        e("1 - 2 - 3"),
        bin(Sub, bin(Sub, Expr::Int(1), Expr::Int(2)), Expr::Int(3))
    );
    assert_eq!(
        e("a or b and not c"),
        bin(
            Or,
            name("a"),
            bin(And, name("b"), Expr::Unary(UnOp::Not, b(name("c"))))
        )
    );
    assert_eq!(
        e("not a == b"),
        Expr::Unary(UnOp::Not, b(bin(Eq, name("a"), name("b"))))
    );
    assert_eq!(e("a not in b"), bin(NotIn, name("a"), name("b")));
    assert_eq!(e("a in b"), bin(In, name("a"), name("b")));
    for (s, op) in [
        ("==", Eq),
        ("!=", Ne),
        ("<", Lt),
        ("<=", Le),
        (">", Gt),
        (">=", Ge),
    ] {
        assert_eq!(
            e(&format!("a {s} b + 1")),
            bin(op, name("a"), bin(Add, name("b"), Expr::Int(1)))
        );
    }
    for (s, op) in [("*", Mul), ("/", Div), ("//", FloorDiv), ("%", Mod)] {
        assert_eq!(e(&format!("a {s} b")), bin(op, name("a"), name("b")));
    }
    assert_eq!(
        e("a if c else b if d else e"),
        Expr::IfElse {
            cond: b(name("c")),
            then: b(name("a")),
            otherwise: b(Expr::IfElse {
                cond: b(name("d")),
                then: b(name("b")),
                otherwise: b(name("e"))
            })
        }
    );
    assert_eq!(e("+x"), Expr::Unary(UnOp::Pos, b(name("x"))));
    assert_eq!(e("-5"), Expr::Unary(UnOp::Neg, b(Expr::Int(5))));
}

#[test]
fn expression_atoms_and_postfix() {
    assert_eq!(e("0x1F"), Expr::Int(31));
    assert_eq!(e("1.5"), Expr::Float(1.5));
    assert_eq!(e("1e9"), Expr::Float(1e9));
    assert_eq!(e("2.5e-3"), Expr::Float(2.5e-3));
    assert_eq!(e(".5"), Expr::Float(0.5));
    assert_eq!(e("9223372036854775807"), Expr::Int(i64::MAX));
    assert!(parse_expr("9223372036854775808").is_err());
    assert!(parse_expr("1e999").is_err());
    assert!(parse_expr("12abc").is_err());
    assert_eq!(e("'a\\nb'"), Expr::Str("a\nb".into()));
    assert_eq!(e("\"it's\""), Expr::Str("it's".into()));
    for (s, v) in [
        ("true", Expr::Bool(true)),
        ("True", Expr::Bool(true)),
        ("false", Expr::Bool(false)),
        ("False", Expr::Bool(false)),
        ("none", Expr::None),
        ("None", Expr::None),
    ] {
        assert_eq!(e(s), v);
    }
    assert_eq!(e("()"), Expr::Tuple(vec![]));
    assert_eq!(e("(1,)"), Expr::Tuple(vec![Expr::Int(1)]));
    assert_eq!(e("(1)"), Expr::Int(1));
    assert_eq!(e("(1, 2)"), Expr::Tuple(vec![Expr::Int(1), Expr::Int(2)]));
    assert_eq!(e("[]"), Expr::List(vec![]));
    assert_eq!(e("{}"), Expr::Dict(vec![]));
    assert_eq!(
        e("{'a': 1, x: 2,}"),
        Expr::Dict(vec![
            (Expr::Str("a".into()), Expr::Int(1)),
            (name("x"), Expr::Int(2))
        ])
    );
    assert_eq!(e("[1, 2,]"), Expr::List(vec![Expr::Int(1), Expr::Int(2)]));
    assert_eq!(
        e("f(a, b)"),
        Expr::Call(b(name("f")), vec![name("a"), name("b")])
    );
    assert_eq!(e("f()"), Expr::Call(b(name("f")), vec![]));
    assert_eq!(
        e("a[-1]"),
        Expr::Index(b(name("a")), b(Expr::Unary(UnOp::Neg, b(Expr::Int(1)))))
    );
    assert_eq!(
        e("a[1:]"),
        Expr::Slice(b(name("a")), Some(b(Expr::Int(1))), None)
    );
    assert_eq!(
        e("a[:2]"),
        Expr::Slice(b(name("a")), None, Some(b(Expr::Int(2))))
    );
    assert_eq!(e("a[:]"), Expr::Slice(b(name("a")), None, None));
    assert_eq!(e("f.size"), Expr::Attr(b(name("f")), "size".into()));
    assert_eq!(
        e("s.split(',')[0].upper()"),
        Expr::Call(
            b(Expr::Attr(
                b(Expr::Index(
                    b(Expr::Call(
                        b(Expr::Attr(b(name("s")), "split".into())),
                        vec![Expr::Str(",".into())]
                    )),
                    b(Expr::Int(0))
                )),
                "upper".into()
            )),
            vec![]
        )
    );
    assert_eq!(e("1.x"), Expr::Attr(b(Expr::Int(1)), "x".into()));
    assert!(parse_expr("a.1").is_err());
    assert!(parse_expr("if").is_err());
    assert!(parse_expr("a if b").is_err());
    assert!(parse_expr("[1 2]").is_err());
    assert!(parse_expr("f(1 2)").is_err());
    assert!(parse_expr("a[1:2:3]").is_err());
    assert!(parse_expr("$").is_err());
}

#[test]
fn printing_round_trips() {
    for line in [
        "gen 3 | map (x: x * 2) | red +",
        "x <$ head 3 >$ y",
        "x <$",
        "x <$ >>$ y &",
        "< 'a file' | grep -v x > out",
        "< a >> b",
        "a = (1 + 2)",
        "a = 'hello world'",
        "a = (1, 'x')",
        "echo '' \\| 'a\\'b' \"\\x01\" é",
        "map (x: -2 ** 2) | (x: (-2) ** 2) | (x: 2 ** -x ** 2)",
        "map (x: not a == b) | (x: (not a) == b) | (x: (a < b) == c)",
        "map (x: (a if b else c) if (d if e else f) else g if h else i)",
        "map (x: a - (b - c) - d) | (x: a / (b * c)) | (x: a + -b)",
        "map (x: [1, (2,), (), [], 'a'][1:][:2][0]) | (x: f.name.upper().split(',')) | (x: 1.x + 1.5.y)",
        "map (x: 1e100 + 2.5e-7 + 0.1 + 1.0)",
        "map (x: {'a': 1, x: [{}], (1, 2): {'b': x}}['a'])",
        "sort (f: f.mtime) | (x, y: (x, y)) | f (1,) (())",
        "'#x' '' ab\\#",
    ] {
        roundtrip(line);
    }
    assert_eq!(
        parse("gen 3|map(x:x*2)").unwrap().to_string(),
        "gen 3 | map (x: x * 2)"
    );
    assert_eq!(
        parse("x<$head 3>>$y&").unwrap().to_string(),
        "x <$ head 3 >>$ y &"
    );
    assert_eq!(parse("a = (1, 2)").unwrap().to_string(), "a = (1, 2)");
    assert_eq!(
        parse("map (x: -2**2)").unwrap().to_string(),
        "map (x: -2 ** 2)"
    );
}

#[test]
fn deep_input_is_refused_not_a_crash() {
    let deep = format!("map ({}1{})", "(".repeat(100), ")".repeat(100));
    assert_eq!(err_of(&deep).1, "expression nested too deeply");
    for prefix in ["-", "not ", "[", "f(", "2 ** "] {
        let line = format!("map ({}1)", prefix.repeat(100));
        assert!(parse(&line).is_err(), "{prefix}");
    }
    let long = format!("map ({}1)", "1 + ".repeat(600));
    assert_eq!(err_of(&long).1, "expression too long");
    // Long left-leaning chains within the limit parse, print and parse back.
    for op in ["+", "-", "*", "and", "or"] {
        roundtrip(&format!("map (x: x{})", format!(" {op} x").repeat(300)));
    }
    // Right-leaning chains nest, so they are limited by depth.
    for op in ["if 1 else", "**"] {
        roundtrip(&format!("map (x: x{})", format!(" {op} x").repeat(30)));
        assert!(parse(&format!("map (x: x{})", format!(" {op} x").repeat(100))).is_err());
    }
    roundtrip(&format!("map (x: x{})", ".a".repeat(450)));
    roundtrip(&format!("map (x: x{})", "[0]".repeat(300)));
}

fn redirects_of(p: &Pipeline, stage: usize) -> Vec<Redirect> {
    match &p.stages[stage] {
        Stage::Op { redirects, .. } => redirects.clone(),
        other => panic!("not an op: {other:?}"),
    }
}

fn write(fd: u32, path: &str, append: bool) -> Redirect {
    Redirect {
        fd,
        target: RedirectTarget::Write {
            path: w(path),
            append,
        },
    }
}

fn dup(fd: u32, to: u32) -> Redirect {
    Redirect {
        fd,
        target: RedirectTarget::Dup(to),
    }
}

fn read(fd: u32, path: &str) -> Redirect {
    Redirect {
        fd,
        target: RedirectTarget::Read(w(path)),
    }
}

#[test]
fn descriptor_numbers_are_glued_digits() {
    let p = pipeline("echo a 2>f");
    assert_eq!(
        p.stages,
        vec![Stage::Op {
            env: vec![],
            name: w("echo"),
            args: vec![Arg::Word(w("a"))],
            redirects: vec![write(2, "f", false)],
        }]
    );
    assert_eq!(p.sink, None);
    assert_eq!(
        redirects_of(&pipeline("echo a 2>>f"), 0),
        vec![write(2, "f", true)]
    );
    assert_eq!(redirects_of(&pipeline("cat 0< f"), 0), vec![read(0, "f")]);
    // A space, a quote or a letter makes the digits a word, as in POSIX shells.
    let p = pipeline("echo a 2 >f");
    assert_eq!(
        p.stages,
        vec![op("echo", vec![Arg::Word(w("a")), Arg::Word(w("2"))])]
    );
    let p = pipeline("echo a2>f");
    assert_eq!(p.stages, vec![op("echo", vec![Arg::Word(w("a2"))])]);
    assert!(matches!(p.sink, Some(Sink::File { .. })));
    let p = pipeline("echo '2'>f");
    assert_eq!(p.stages, vec![op("echo", vec![Arg::Word(q("2"))])]);
    assert_eq!(
        err_of("echo 10>f"),
        (5, "file descriptor numbers go from 0 to 9".into())
    );
}

#[test]
fn copies_and_both_streams() {
    assert_eq!(redirects_of(&pipeline("cmd 2>&1"), 0), vec![dup(2, 1)]);
    assert_eq!(redirects_of(&pipeline("cmd >&2"), 0), vec![dup(1, 2)]);
    assert_eq!(
        redirects_of(&pipeline("cmd &>f"), 0),
        vec![write(1, "f", false), dup(2, 1)]
    );
    assert_eq!(
        redirects_of(&pipeline("cmd &>> f"), 0),
        vec![write(1, "f", true), dup(2, 1)]
    );
    assert_eq!(
        redirects_of(&pipeline("cmd 3< f <&3"), 0),
        vec![read(3, "f"), dup(0, 3)]
    );
    let close = |fd| Redirect {
        fd,
        target: RedirectTarget::Close,
    };
    assert_eq!(
        redirects_of(&pipeline("cmd 2>&- >&- <&-"), 0),
        vec![close(2), close(1), close(0)]
    );
    // `2>&1 |`: stderr joins the pipe.
    let p = pipeline("cmd 2>&1 | cat");
    assert_eq!(redirects_of(&p, 0), vec![dup(2, 1)]);
    assert_eq!(p.stages.len(), 2);
    // `> f 2>&1` keeps its order; the line's final plain `> f` is the pipeline's output.
    let p = pipeline("cmd > f 2>&1");
    assert_eq!(redirects_of(&p, 0), vec![write(1, "f", false), dup(2, 1)]);
    assert_eq!(p.sink, None);
    let p = pipeline("cmd 2>&1 > f");
    assert_eq!(redirects_of(&p, 0), vec![dup(2, 1)]);
    assert!(matches!(p.sink, Some(Sink::File { .. })));
    // `&` alone and `&&` keep their meaning: `& >` is not `&>`.
    assert!(parse("sleep 1 &").unwrap().background);
    assert!(parse_list("a && b").is_ok());
    assert_eq!(
        parse_list("a & > f").unwrap_err().message,
        "expected a command, found '>'"
    );
    assert_eq!(
        err_of("cmd 2>&"),
        (
            5,
            "expected a file descriptor number or '-' after '2>&'".into()
        )
    );
}

#[test]
fn redirections_go_anywhere_among_a_programs_words() {
    let p = pipeline("grep foo < notes.txt > out");
    assert_eq!(redirects_of(&p, 0), vec![read(0, "notes.txt")]);
    assert!(matches!(p.sink, Some(Sink::File { .. })));
    let p = pipeline("grep 2> e foo f | cat > o &");
    assert_eq!(
        p.stages[0],
        Stage::Op {
            env: vec![],
            name: w("grep"),
            args: vec![Arg::Word(w("foo")), Arg::Word(w("f"))],
            redirects: vec![write(2, "e", false)],
        }
    );
    let p = pipeline("echo > a b");
    assert_eq!(redirects_of(&p, 0), vec![write(1, "a", false)]);
    assert_eq!(p.sink, None);
}

#[test]
fn stores_stay_stores() {
    // `>$x` glued is a store into x; `> $x` with a space is a file named by the expansion.
    let p = pipeline("gen 3 >$x");
    assert_eq!(
        p.sink,
        Some(Sink::Reservoir {
            name: "x".into(),
            append: false
        })
    );
    let p = pipeline("echo 2>$x");
    assert_eq!(p.stages, vec![op("echo", vec![Arg::Word(w("2"))])]);
    assert_eq!(
        p.sink,
        Some(Sink::Reservoir {
            name: "x".into(),
            append: false
        })
    );
    let p = pipeline("gen 3 > $HOME/x");
    assert_eq!(
        p.sink,
        Some(Sink::File {
            path: Word {
                expansions: vec![Expansion {
                    at: 0,
                    param: Param::Var("HOME".into())
                }],
                ..w("/x")
            },
            append: false
        })
    );
    let p = pipeline("gen 3 >>$x");
    assert_eq!(
        p.sink,
        Some(Sink::Reservoir {
            name: "x".into(),
            append: true
        })
    );
}

#[test]
fn bad_redirections_are_parse_errors() {
    assert_eq!(
        err_of("echo a 2>"),
        (9, "missing file name after '2>'".into())
    );
    assert_eq!(
        err_of("echo a 2> | cat").1,
        "expected a file name after '2>', found '|'"
    );
    assert_eq!(err_of("echo a <").1, "missing file name after '<'");
    assert_eq!(err_of("echo a &>").1, "missing file name after '&>'");
}

#[test]
fn redirections_print_back() {
    for line in [
        "grep foo < notes.txt > out",
        "cmd 2> e 1> f 2>&1",
        "cmd 2>&1 | cat 3< x >> y &",
        "cmd 1>&2 > f",
        "cmd 3< f 0>&3 2>&- > g",
    ] {
        roundtrip(line);
    }
    assert_eq!(parse("cmd &>f").unwrap().to_string(), "cmd 1> f 2>&1");
    assert_eq!(parse("cmd 2>f|cat").unwrap().to_string(), "cmd 2> f | cat");
}

fn expanded(text: &str, quoted: bool, expansions: Vec<(usize, Param)>) -> Word {
    Word {
        text: text.into(),
        quoted,
        expansions: expansions
            .into_iter()
            .map(|(at, param)| Expansion { at, param })
            .collect(),
    }
}

#[test]
fn dollar_expands_outside_single_quotes() {
    let var = |n: &str| Param::Var(n.into());
    let args = |line: &str| match &pipeline(line).stages[0] {
        Stage::Op { args, .. } => args.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        args("echo $A ${B}c \"x$C y\" '$D' $$ $! \\$E \"\\$F\""),
        vec![
            Arg::Word(expanded("", false, vec![(0, var("A"))])),
            Arg::Word(expanded("c", false, vec![(0, var("B"))])),
            Arg::Word(expanded("x y", true, vec![(1, var("C"))])),
            Arg::Word(q("$D")),
            Arg::Word(expanded("", false, vec![(0, Param::Pid)])),
            Arg::Word(expanded("", false, vec![(0, Param::LastBackground)])),
            Arg::Word(q("$E")),
            Arg::Word(q("$F")),
        ]
    );
    // A `$` before no name is itself.
    assert_eq!(
        args("echo a$ $1 $-"),
        vec![Arg::Word(w("a$")), Arg::Word(w("$1")), Arg::Word(w("$-"))]
    );
    assert_eq!(args("awk '{print $1}'"), vec![Arg::Word(q("{print $1}"))]);
    assert!(err_of("echo ${1x}").1.contains("bad substitution"));
    assert!(err_of("echo ${A").1.contains("bad substitution"));
    for line in [
        "echo $A ${B}c \"x$C y\" '$D' $$ $!",
        "echo a$ $1 x$$y '$'$A",
        "gen 3 > $HOME/out",
        "x = $HOME",
    ] {
        roundtrip(line);
    }
}

fn list_roundtrip(text: &str) -> List {
    let l = parse_list(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let printed = l.to_string();
    let again = parse_list(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
    assert_eq!(l, again, "{text} -> {printed}");
    l
}

fn list_err(text: &str) -> super::ParseError {
    parse_list(text).expect_err(text)
}

#[test]
fn lists_and_and_or() {
    let l = list_roundtrip("echo a; echo b && echo c || echo d & sleep 1");
    assert_eq!(l.items.len(), 3);
    assert_eq!(l.items[1].and_or.rest.len(), 2);
    assert_eq!(l.items[1].and_or.rest[0].0, Connector::And);
    assert_eq!(l.items[1].and_or.rest[1].0, Connector::Or);
    assert!(l.items[1].background);
    assert!(!l.items[2].background);
    // `sleep 30 & wait; echo X` is two lists.
    let l = list_roundtrip("sleep 30 & wait; echo X");
    assert_eq!(l.items.len(), 3);
    assert_eq!(list_roundtrip("a;\n\nb\n").items.len(), 2);
    // A quoted `;` and `\;` are words.
    let l = list_roundtrip(r"find . -exec echo {} \; ';'");
    assert_eq!(l.items.len(), 1);
    // Lines continue after `|`, `&&`, `||`.
    assert_eq!(list_roundtrip("gen 3 |\n map (x: x)").items.len(), 1);
    assert_eq!(list_roundtrip("true &&\n echo y").items.len(), 1);
}

#[test]
fn groups_and_braces() {
    let l = list_roundtrip("{ echo a; gen 2 } >$ x & echo b");
    let Unit::Compound { compound, sink } = &l.items[0].and_or.first else {
        panic!("not a compound")
    };
    assert!(matches!(compound, Compound::Group(g) if g.items.len() == 2));
    assert!(matches!(sink, Some(Sink::Reservoir { append: false, .. })));
    assert!(l.items[0].background);
    // `{}` and quoted braces are words; a bare `}` closes the body.
    list_roundtrip("echo {} '{' \"}\"");
    list_roundtrip("{\n echo a\n}\n");
    list_roundtrip("{ }");
    list_roundtrip("{ { echo deep } } > out.txt");
    assert_eq!(list_err("echo a }").message, "'}' without '{'");
}

#[test]
fn control_flow() {
    list_roundtrip("if (x > 3) { echo big } else if test -f f { echo f } else { echo no }");
    list_roundtrip("if true {\n echo y\n} else {\n echo n\n}");
    list_roundtrip("while (i < 10) { i = (i + 1); continue }");
    list_roundtrip("while grep -q x f { break }");
    let l = list_roundtrip("for i in gen 0 | head 3 { echo $i; if (i == 2) { break } }");
    let Unit::Compound {
        compound: Compound::For { name, items, body },
        ..
    } = &l.items[0].and_or.first
    else {
        panic!("not a for")
    };
    assert_eq!(name, "i");
    assert_eq!(items.stages.len(), 2);
    assert_eq!(body.items.len(), 2);
    list_roundtrip("for f in ls { echo (f.name) } >$ names && echo done");
    // Keywords only at the start of a command.
    list_roundtrip("echo if while for else break");
}

#[test]
fn list_errors() {
    let e = list_err("echo a; else { x }");
    assert_eq!((e.position, e.message.as_str()), (8, "'else' without 'if'"));
    let e = list_err("break");
    assert_eq!(e.message, "'break' outside a loop");
    assert_eq!(
        list_err("{ continue }").message,
        "'continue' outside a loop"
    );
    let e = list_err("if true { a }\nelse { b }");
    assert_eq!(e.message, "'else' without 'if'");
    assert_eq!(list_err("; a").position, 0);
    assert_eq!(list_err("a ;; b").position, 3);
    assert!(
        list_err("for 1x in gen 3 { a }")
            .message
            .contains("variable name")
    );
    assert!(list_err("{ a } | sort").message.contains("cannot be piped"));
    assert!(list_err("x = 1 {").message.contains("'{'"));
    assert!(!list_err("gen 3 | ; a").incomplete);
    let deep = format!("{}{}", "{ ".repeat(100), "}".repeat(100));
    assert_eq!(list_err(&deep).message, "commands nested too deeply");
}

#[test]
fn unfinished_text_is_incomplete() {
    for text in [
        "{ echo a",
        "gen 3 |",
        "true &&",
        "false ||",
        "echo a \\",
        "if true {",
        "if true { a } else {",
        "while true",
        "for i in gen 3 {\n echo $i",
    ] {
        let e = list_err(text);
        assert!(e.incomplete, "{text:?}: {e}");
    }
    for text in ["echo }", "else", "gen 3 | | x", "{ a } }"] {
        assert!(!list_err(text).incomplete, "{text:?}");
    }
}
fn env_of(p: &Pipeline, stage: usize) -> Vec<(String, Word)> {
    match &p.stages[stage] {
        Stage::Op { env, .. } => env
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect(),
        other => panic!("not an op: {other:?}"),
    }
}

#[test]
fn env_prefixes_start_a_programs_stage() {
    let p = pipeline("A=1 B='x y' C= prog A=2 | D=$X/b other");
    assert_eq!(
        env_of(&p, 0),
        vec![
            ("A".to_string(), w("1")),
            ("B".to_string(), w("x y")),
            ("C".to_string(), w(""))
        ]
    );
    let Stage::Op { name, args, .. } = &p.stages[0] else {
        panic!()
    };
    assert_eq!(name, &w("prog"));
    assert_eq!(
        args,
        &vec![Arg::Word(w("A=2"))],
        "after the name it is a word"
    );
    let d = &env_of(&p, 1)[0];
    assert_eq!(d.0, "D");
    assert_eq!(d.1.text, "/b");
    assert_eq!(
        d.1.expansions,
        vec![Expansion {
            at: 0,
            param: Param::Var("X".into())
        }]
    );
    // Quoted or escaped, the name and `=` are a word.
    for line in [
        "'A=1' prog",
        "\"A\"=1 prog",
        "A\\=1 prog",
        "1A=x prog",
        "$A=1 prog",
    ] {
        assert!(env_of(&pipeline(line), 0).is_empty(), "{line}");
    }
}

#[test]
fn env_prefixes_round_trip() {
    for line in [
        "A=1 prog",
        "A= prog x",
        "A='' prog",
        "A='a b' B=\"$X-${Y}z\" prog | C=#x sort > out",
        "P=~/bin:$PATH prog &",
        "A=x=y prog",
    ] {
        roundtrip(line);
    }
}

#[test]
fn a_prefix_with_no_program_is_an_error_at_it() {
    let (at, message) = err_of("gen 3 | A=1 B=2");
    assert_eq!(at, 12);
    assert!(
        message.contains("'B=2' sets the environment of a program"),
        "{message}"
    );
    let (at, _) = err_of("A=1 | cat");
    assert_eq!(at, 0);
}

fn subst(line: &str, quoting: Quoting) -> Param {
    Param::Command {
        pipeline: Box::new(pipeline(line)),
        quoting,
    }
}

#[test]
fn command_substitution_parses_nests_and_prints_back() {
    let args = |line: &str| match &pipeline(line).stages[0] {
        Stage::Op { args, .. } => args.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        args("echo $(gen 3) x$(echo a)y \"<$(gen 2 | map (x: x * 2))>\" '$(no)'"),
        vec![
            Arg::Word(expanded(
                "",
                false,
                vec![(0, subst("gen 3", Quoting::Bare))]
            )),
            Arg::Word(expanded(
                "xy",
                false,
                vec![(1, subst("echo a", Quoting::Bare))]
            )),
            Arg::Word(expanded(
                "<>",
                true,
                vec![(1, subst("gen 2 | map (x: x * 2)", Quoting::Double))]
            )),
            Arg::Word(q("$(no)")),
        ]
    );
    // Nesting, quotes and parentheses inside; `)` in quotes closes nothing.
    assert_eq!(
        args("echo $(echo $(echo 'a)' \")\"))"),
        vec![Arg::Word(expanded(
            "",
            false,
            vec![(0, subst("echo $(echo 'a)' \")\")", Quoting::Bare))]
        ))]
    );
    for line in [
        "echo $(gen 3) x$(echo a)y \"<$(gen 2 | map (x: x * 2))>\" '$(no)'",
        "echo $(echo $(echo 'a)' \")\")) \"$(echo \"$(echo b)\")\"",
        "x = $(false)",
        "echo $(< f | grep -v x) $(x <$ head 1) $(date > out)",
        "echo '$'$(echo a) \"$(echo)\"",
        "FOO=$(echo a) env -x",
    ] {
        roundtrip(line);
    }
    list_roundtrip("for i in gen $(echo 3) { echo \"$(echo $i)\" }");
}

#[test]
fn command_substitution_errors_are_one_line_at_the_dollar() {
    let e = list_err("echo $(gen 3");
    assert_eq!(
        (e.position, e.message.as_str()),
        (5, "'$(' is never closed by a ')'")
    );
    assert!(e.incomplete, "more lines can close it");
    let e = list_err("echo a $(echo a; echo b)");
    assert_eq!(e.position, 7);
    assert!(e.message.contains("one pipeline"), "{}", e.message);
    assert!(!e.incomplete);
    assert_eq!(list_err("echo $()").message, "'$()' holds no pipeline");
    assert!(
        list_err("echo $(sleep 1 &)")
            .message
            .contains("one pipeline")
    );
    assert!(
        list_err("echo $({ echo a })")
            .message
            .contains("one pipeline")
    );
    // An error inside is reported where it is, and is not incomplete: the `)` is written.
    let e = list_err("echo $(gen 3 | )");
    assert!(!e.incomplete);
    let deep = format!("echo {}a{}", "$(echo ".repeat(100), ")".repeat(100));
    assert_eq!(
        list_err(&deep).message,
        "command substitutions nest too deeply"
    );
    list_roundtrip(&format!("echo {}a{}", "$(echo ".repeat(20), ")".repeat(20)));
}

//! Compiling an expression into nested closures.
//!
//! Every subexpression becomes a [`Node`]: a constant, a parameter slot, or a closure. Binary
//! operators are monomorphised over their operator function and specialised on the shape of
//! their operands, so `x * 2` becomes one closure that borrows the parameter, matches two ints
//! and does a checked multiply: no clone, no allocation, no dispatch on the operator.

use super::builtins::{self, Attr, Builtin, Method};
use super::ops::{self, R};
use super::{CompileError, Compiled, CompiledFn, EvalError, Globals};
use crate::syntax::ast::{BinOp, Expr, Function, UnOp};
use crate::value::{Dict, Value};

pub enum Node {
    Const(Value),
    Param(usize),
    Dyn(Compiled),
}

impl Node {
    pub fn into_compiled(self) -> Compiled {
        match self {
            Node::Const(v) => Box::new(move |_| Ok(v.clone())),
            Node::Param(i) => Box::new(move |f| Ok(f[i].clone())),
            Node::Dyn(c) => c,
        }
    }
}

pub fn compile_function(
    func: &Function,
    globals: &dyn Globals,
) -> Result<CompiledFn, CompileError> {
    for (i, p) in func.params.iter().enumerate() {
        if func.params[..i].contains(p) {
            return Err(CompileError(format!("parameter '{p}' is named twice")));
        }
    }
    let c = Compiler {
        params: &func.params,
        globals,
    };
    let body = c.compile(&func.body)?.into_compiled();
    Ok(CompiledFn {
        arity: func.params.len(),
        body,
    })
}

struct Compiler<'a> {
    params: &'a [String],
    globals: &'a dyn Globals,
}

/// A closure over a binary operator, specialised on its operands' shapes.
fn binary<F>(l: Node, r: Node, op: F) -> Node
where
    F: Fn(&Value, &Value) -> R + Copy + Send + Sync + 'static,
{
    use Node::*;
    match (l, r) {
        (Const(a), Const(b)) => match op(&a, &b) {
            Ok(v) => Const(v),
            // Keep the error for when the expression runs.
            Err(_) => Dyn(Box::new(move |_| op(&a, &b))),
        },
        (Param(i), Const(b)) => Dyn(Box::new(move |f| op(&f[i], &b))),
        (Const(a), Param(j)) => Dyn(Box::new(move |f| op(&a, &f[j]))),
        (Param(i), Param(j)) => Dyn(Box::new(move |f| op(&f[i], &f[j]))),
        (Param(i), Dyn(r)) => Dyn(Box::new(move |f| op(&f[i], &r(f)?))),
        (Dyn(l), Param(j)) => Dyn(Box::new(move |f| op(&l(f)?, &f[j]))),
        (Const(a), Dyn(r)) => Dyn(Box::new(move |f| op(&a, &r(f)?))),
        (Dyn(l), Const(b)) => Dyn(Box::new(move |f| op(&l(f)?, &b))),
        (Dyn(l), Dyn(r)) => Dyn(Box::new(move |f| op(&l(f)?, &r(f)?))),
    }
}

/// A closure over a unary operator.
fn unary<F>(x: Node, op: F) -> Node
where
    F: Fn(&Value) -> R + Copy + Send + Sync + 'static,
{
    match x {
        Node::Const(a) => match op(&a) {
            Ok(v) => Node::Const(v),
            Err(_) => Node::Dyn(Box::new(move |_| op(&a))),
        },
        Node::Param(i) => Node::Dyn(Box::new(move |f| op(&f[i]))),
        Node::Dyn(c) => Node::Dyn(Box::new(move |f| op(&c(f)?))),
    }
}

/// Evaluates a node to a borrowed or owned value.
macro_rules! eval_node {
    ($node:expr, $f:expr, $tmp:ident) => {
        match $node {
            Node::Const(v) => v,
            Node::Param(i) => &$f[*i],
            Node::Dyn(c) => {
                $tmp = c($f)?;
                &$tmp
            }
        }
    };
}

impl Compiler<'_> {
    /// Compiles one node. The work of each kind is in its own function, so this one, which
    /// recurses, keeps a small stack frame even in debug builds.
    fn compile(&self, e: &Expr) -> Result<Node, CompileError> {
        Ok(match e {
            Expr::Int(i) => Node::Const(Value::Int(*i)),
            Expr::Float(x) => Node::Const(Value::Float(*x)),
            Expr::Str(s) => Node::Const(Value::str(s)),
            Expr::Bool(b) => Node::Const(Value::Bool(*b)),
            Expr::None => Node::Const(Value::None),
            Expr::Name(name) => self.name(name)?,
            Expr::Tuple(items) => self.seq(items, true)?,
            Expr::List(items) => self.seq(items, false)?,
            Expr::Dict(pairs) => self.dict(pairs)?,
            Expr::Unary(op, x) => unary_node(*op, self.compile(x)?),
            Expr::Binary(op, l, r) => {
                let l = self.compile(l)?;
                binary_node(*op, l, self.compile(r)?)
            }
            Expr::IfElse {
                cond,
                then,
                otherwise,
            } => {
                let c = self.compile(cond)?;
                let t = self.compile(then)?;
                if_node(c, t, self.compile(otherwise)?)
            }
            Expr::Index(x, i) => {
                let x = self.compile(x)?;
                index_node(x, self.compile(i)?)
            }
            Expr::Slice(x, lo, hi) => self.slice(x, lo.as_deref(), hi.as_deref())?,
            Expr::Attr(x, name) => self.attr(x, name)?,
            Expr::Call(callee, args) => self.call(callee, args)?,
        })
    }

    #[inline(never)]
    fn name(&self, name: &str) -> Result<Node, CompileError> {
        if let Some(i) = self.params.iter().position(|p| p == name) {
            Ok(Node::Param(i))
        } else if let Some(v) = self.globals.lookup(name) {
            Ok(Node::Const(v))
        } else if Builtin::lookup(name).is_some() {
            Err(CompileError(format!(
                "'{name}' is a builtin function; call it as {name}(...)"
            )))
        } else {
            Err(CompileError(
                self.globals
                    .explain_missing(name)
                    .unwrap_or_else(|| format!("unknown name '{name}'")),
            ))
        }
    }

    #[inline(never)]
    fn seq(&self, items: &[Expr], tuple: bool) -> Result<Node, CompileError> {
        let nodes = items
            .iter()
            .map(|x| self.compile(x))
            .collect::<Result<Vec<_>, _>>()?;
        let make = move |v: Vec<Value>| {
            if tuple {
                Value::tuple(v)
            } else {
                Value::list(v)
            }
        };
        if nodes.iter().all(|n| matches!(n, Node::Const(_))) {
            let vals = nodes
                .into_iter()
                .map(|n| match n {
                    Node::Const(v) => v,
                    _ => unreachable!("all constant"),
                })
                .collect();
            return Ok(Node::Const(make(vals)));
        }
        let cs: Vec<Compiled> = nodes.into_iter().map(Node::into_compiled).collect();
        Ok(Node::Dyn(Box::new(move |f| {
            let mut v = Vec::with_capacity(cs.len());
            for c in &cs {
                v.push(c(f)?);
            }
            Ok(make(v))
        })))
    }

    #[inline(never)]
    fn dict(&self, pairs: &[(Expr, Expr)]) -> Result<Node, CompileError> {
        let mut nodes = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let k = self.compile(k)?;
            nodes.push((k, self.compile(v)?));
        }
        let constant = |n: &Node| match n {
            Node::Const(v) => Some(v.clone()),
            _ => None,
        };
        if let Some(pairs) = nodes
            .iter()
            .map(|(k, v)| Some((constant(k)?, constant(v)?)))
            .collect::<Option<Vec<_>>>()
        {
            return Ok(Node::Const(Value::dict(Dict::from_pairs(pairs))));
        }
        let cs: Vec<(Compiled, Compiled)> = nodes
            .into_iter()
            .map(|(k, v)| (k.into_compiled(), v.into_compiled()))
            .collect();
        Ok(Node::Dyn(Box::new(move |f| {
            let mut pairs = Vec::with_capacity(cs.len());
            for (k, v) in &cs {
                pairs.push((k(f)?, v(f)?));
            }
            Ok(Value::dict(Dict::from_pairs(pairs)))
        })))
    }

    #[inline(never)]
    fn slice(&self, x: &Expr, lo: Option<&Expr>, hi: Option<&Expr>) -> Result<Node, CompileError> {
        let x = self.compile(x)?;
        let lo = lo.map(|b| self.compile(b)).transpose()?;
        let hi = hi.map(|b| self.compile(b)).transpose()?;
        Ok(Node::Dyn(Box::new(move |f| {
            let (t1, t2, t3);
            let xv = eval_node!(&x, f, t1);
            let lv = match &lo {
                Some(n) => Some(eval_node!(n, f, t2)),
                None => None,
            };
            let hv = match &hi {
                Some(n) => Some(eval_node!(n, f, t3)),
                None => None,
            };
            builtins::slice(xv, lv, hv)
        })))
    }

    #[inline(never)]
    fn attr(&self, x: &Expr, name: &str) -> Result<Node, CompileError> {
        let attr = Attr::lookup(name)?;
        let x = self.compile(x)?;
        let name = name.to_string();
        Ok(Node::Dyn(Box::new(move |f| {
            let tmp;
            attr.get(eval_node!(&x, f, tmp), &name)
        })))
    }

    fn args(&self, args: &[Expr]) -> Result<Vec<Compiled>, CompileError> {
        args.iter()
            .map(|a| Ok(self.compile(a)?.into_compiled()))
            .collect()
    }

    #[inline(never)]
    fn call(&self, callee: &Expr, args: &[Expr]) -> Result<Node, CompileError> {
        match callee {
            Expr::Name(name) if !self.params.contains(name) => {
                let Some(b) = Builtin::lookup(name) else {
                    return Err(CompileError(format!("unknown function '{name}'")));
                };
                b.check_arity(name, args.len())?;
                let args = self.args(args)?;
                Ok(match args.len() {
                    0 => Node::Dyn(Box::new(move |_| b.call(&[]))),
                    1 => {
                        let a = args.into_iter().next().expect("one argument");
                        Node::Dyn(Box::new(move |f| b.call(&[a(f)?])))
                    }
                    _ => Node::Dyn(Box::new(move |f| {
                        let vals = args.iter().map(|a| a(f)).collect::<Result<Vec<_>, _>>()?;
                        b.call(&vals)
                    })),
                })
            }
            Expr::Attr(obj, name) => {
                let m = Method::lookup(name, args.len())?;
                let obj = self.compile(obj)?;
                let args = self.args(args)?;
                let name = name.clone();
                Ok(Node::Dyn(Box::new(move |f| {
                    let tmp;
                    let o = eval_node!(&obj, f, tmp);
                    let vals = args
                        .iter()
                        .map(|a| a(f))
                        .collect::<Result<Vec<_>, EvalError>>()?;
                    m.call(&name, o, &vals)
                })))
            }
            Expr::Name(name) => Err(CompileError(format!("'{name}' is not a function"))),
            _ => Err(CompileError(
                "only builtin functions and methods can be called".into(),
            )),
        }
    }
}

#[inline(never)]
fn unary_node(op: UnOp, x: Node) -> Node {
    match op {
        UnOp::Neg => unary(x, ops::neg),
        UnOp::Pos => unary(x, ops::pos),
        UnOp::Not => unary(x, ops::not),
    }
}

#[inline(never)]
fn binary_node(op: BinOp, l: Node, r: Node) -> Node {
    match op {
        BinOp::Add => binary(l, r, ops::add),
        BinOp::Sub => binary(l, r, ops::sub),
        BinOp::Mul => binary(l, r, ops::mul),
        BinOp::Div => binary(l, r, ops::div),
        BinOp::FloorDiv => binary(l, r, ops::floordiv),
        BinOp::Mod => binary(l, r, ops::modulo),
        BinOp::Pow => binary(l, r, ops::pow),
        BinOp::Eq => binary(l, r, ops::eq),
        BinOp::Ne => binary(l, r, ops::ne),
        BinOp::Lt => binary(l, r, ops::lt),
        BinOp::Le => binary(l, r, ops::le),
        BinOp::Gt => binary(l, r, ops::gt),
        BinOp::Ge => binary(l, r, ops::ge),
        BinOp::In => binary(l, r, ops::is_in),
        BinOp::NotIn => binary(l, r, ops::not_in),
        BinOp::And | BinOp::Or => {
            let and = op == BinOp::And;
            if let Node::Const(a) = &l {
                // The left side decides at compile time.
                return if a.truthy() == and { r } else { l };
            }
            let (l, r) = (l.into_compiled(), r.into_compiled());
            Node::Dyn(Box::new(move |f| {
                let a = l(f)?;
                if a.truthy() == and { r(f) } else { Ok(a) }
            }))
        }
    }
}

#[inline(never)]
fn if_node(c: Node, t: Node, o: Node) -> Node {
    if let Node::Const(v) = &c {
        return if v.truthy() { t } else { o };
    }
    let (t, o) = (t.into_compiled(), o.into_compiled());
    Node::Dyn(Box::new(move |f| {
        let tmp;
        if eval_node!(&c, f, tmp).truthy() {
            t(f)
        } else {
            o(f)
        }
    }))
}

#[inline(never)]
fn index_node(x: Node, i: Node) -> Node {
    binary(x, i, builtins::index)
}

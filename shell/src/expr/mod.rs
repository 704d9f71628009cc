//! Expressions and inline functions, compiled once into native closures.
//!
//! A function such as `(x: x * 2)` is compiled when its command starts into a tree of boxed
//! closures; running it per item walks no syntax tree and allocates nothing for ints. Names
//! that are not parameters resolve at compile time: builtin functions first, then the shell's
//! variables, whose current values are captured.

mod builtins;
mod compile;
mod ops;
#[cfg(test)]
mod tests;

use crate::syntax::ast::{Expr, Function};
use crate::value::Value;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the shell's SIGINT handler; long-running builtins (string repetition, ...) check it
/// and give up with [`EvalError::Interrupted`].
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether an interrupt is pending.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// The variables an expression may read, looked up once when it is compiled.
pub trait Globals {
    fn lookup(&self, name: &str) -> Option<Value>;

    /// Why `name` has no value, when there is more to say than "unknown name" (a variable
    /// that holds a stream, say).
    fn explain_missing(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }
}

/// No variables at all.
pub struct NoGlobals;

impl Globals for NoGlobals {
    fn lookup(&self, _: &str) -> Option<Value> {
        None
    }
}

/// An expression that cannot be compiled: an unknown name, a wrong number of arguments to a
/// builtin, a parameter named twice.
#[derive(Clone, Debug, PartialEq)]
pub struct CompileError(pub String);

/// Evaluating an expression failed for one item: `division by zero`, `int overflow`,
/// `unsupported operand types for +: 'int' and 'str'`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// ctrl-c arrived while a long evaluation ran ([`INTERRUPTED`]): the command ends as one
    /// killed by SIGINT would (`STATUS` 130).
    #[error("interrupted")]
    Interrupted,
    /// The evaluation failed, in words for the user.
    #[error("{0}")]
    Failed(String),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

/// A compiled expression over the values bound to its parameters.
pub type Compiled = Box<dyn Fn(&[Value]) -> Result<Value, EvalError> + Send + Sync>;

/// A compiled function, ready to apply to items.
pub struct CompiledFn {
    arity: usize,
    body: Compiled,
}

impl CompiledFn {
    /// The number of parameters.
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Applies the function to one item: one parameter receives the whole item, several
    /// receive a tuple's fields (a count mismatch is an error), none ignore the item.
    #[inline]
    pub fn call(&self, item: &Value) -> Result<Value, EvalError> {
        match self.arity {
            0 => (self.body)(&[]),
            1 => (self.body)(std::slice::from_ref(item)),
            n => {
                let fields = item.fields();
                if fields.len() != n {
                    return Err(EvalError::Failed(format!(
                        "function takes {n} arguments but the item has {} field{}",
                        fields.len(),
                        if fields.len() == 1 { "" } else { "s" }
                    )));
                }
                (self.body)(fields)
            }
        }
    }

    /// Applies the function to explicit arguments (e.g. `red`'s accumulator and item).
    pub fn call_args(&self, args: &[Value]) -> Result<Value, EvalError> {
        if args.len() != self.arity {
            return Err(EvalError::Failed(format!(
                "function takes {} arguments, given {}",
                self.arity,
                args.len()
            )));
        }
        (self.body)(args)
    }
}

/// Compiles a function, resolving free names against `globals`.
pub fn compile_function(
    func: &Function,
    globals: &dyn Globals,
) -> Result<CompiledFn, CompileError> {
    compile::compile_function(func, globals)
}

/// Compiles and evaluates an expression without parameters (`gen (n * 2)`, `x = (1 + 2)`).
pub fn eval(expr: &Expr, globals: &dyn Globals) -> Result<Value, EvalError> {
    let f = compile_function(
        &Function {
            params: vec![],
            body: expr.clone(),
        },
        globals,
    )
    .map_err(|e| EvalError::Failed(e.0))?;
    f.call_args(&[])
}

//! The ops that run in the shell itself because they change or report on it: `cd`, `pwd`,
//! `env`, `help`, `version`, `exit`.

use super::{Control, Shell};
use crate::ops::{ArgValue, OpArgs, OpError, Reporter, help_text, int_arg};
use crate::syntax::ast::Arg;
use crate::value::Value;
use std::io::Write;

pub fn run(shell: &mut Shell, op: &str, args: &[Arg]) -> Result<Control, OpError> {
    let reporter = Reporter::new();
    let values = OpArgs {
        op,
        args,
        globals: &shell.vars,
        reporter: &reporter,
    }
    .words_and_values()?;
    let text = |v: &ArgValue| -> Result<String, OpError> {
        match v {
            ArgValue::Word(w, _) => Ok(w.clone()),
            ArgValue::Value(Value::Str(s)) => Ok(s.to_string()),
            other => Err(OpError::new(
                op,
                format!("expected a word, got {}", other.describe()),
            )),
        }
    };
    match (op, values.as_slice()) {
        ("cd", []) => {
            let home = std::env::var("HOME").map_err(|_| OpError::new("cd", "HOME is not set"))?;
            change_dir(&home)?;
        }
        ("cd", [dir]) => change_dir(&crate::exec::host::expand_tilde(&text(dir)?))?,
        ("pwd", []) => {
            let dir = std::env::current_dir()
                .map_err(|e| OpError::new("pwd", crate::ops::io_reason(&e)))?;
            print(&format!("{}\n", dir.display()));
        }
        ("env", []) => print(&shell.vars.listing()),
        ("env", [ArgValue::Word(flag, false), name]) if flag == "-d" => {
            let name = text(name)?;
            if name == super::STATUS {
                return Err(OpError::new("env", "STATUS cannot be deleted"));
            }
            if shell.vars.remove(&name).is_none() {
                return Err(OpError::new("env", format!("no variable named {name}")));
            }
        }
        ("help", []) => print(&help_text(None)?),
        ("help", [name]) => print(&help_text(Some(&text(name)?))?),
        ("version", []) => print(&format!("marsh {}\n", env!("CARGO_PKG_VERSION"))),
        ("exit", []) => return Ok(Control::Exit(shell.status())),
        ("exit", [code]) => {
            let code = int_arg("exit", "STATUS", code)?;
            return Ok(Control::Exit((code & 0xff) as i32));
        }
        _ => {
            let usage = crate::ops::find(op).map_or("", |s| s.usage);
            return Err(OpError::new(op, format!("usage: {usage}")));
        }
    }
    Ok(Control::Continue)
}

fn change_dir(dir: &str) -> Result<(), OpError> {
    std::env::set_current_dir(dir)
        .map_err(|e| OpError::new("cd", format!("{dir}: {}", crate::ops::io_reason(&e))))
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

//! The shell's directories beside the current one: the previous directory (`cd -`) and the
//! directory stack of `pushd`, `popd` and `dirs`.
//!
//! The current directory is the process's own (`std::env::current_dir`), never a copy: the
//! stack holds only the directories below it, most recent first, so it cannot disagree with
//! where the shell is. Every change of directory goes through [`Dirs::change`], which keeps
//! the previous one.

use crate::ops::{OpError, io_reason};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
pub struct Dirs {
    /// Where the shell was before its last change of directory.
    previous: Option<PathBuf>,
    /// The stack below the current directory, top first.
    stack: Vec<PathBuf>,
}

fn current(op: &str) -> Result<PathBuf, OpError> {
    std::env::current_dir().map_err(|e| OpError::new(op, io_reason(&e)))
}

impl Dirs {
    /// Goes to `dir`, remembering where the shell was for `cd -`.
    pub fn change(&mut self, op: &str, dir: &Path) -> Result<(), OpError> {
        let here = current(op).ok();
        std::env::set_current_dir(dir)
            .map_err(|e| OpError::new(op, format!("{}: {}", dir.display(), io_reason(&e))))?;
        self.previous = here;
        Ok(())
    }

    /// `cd -`: back to the previous directory; returns it.
    pub fn back(&mut self) -> Result<PathBuf, OpError> {
        let dir = self
            .previous
            .clone()
            .ok_or_else(|| OpError::new("cd", "no previous directory"))?;
        self.change("cd", &dir)?;
        Ok(dir)
    }

    /// `pushd DIR`: goes to DIR, the current directory going on the stack.
    pub fn push(&mut self, dir: &Path) -> Result<(), OpError> {
        let here = current("pushd")?;
        self.change("pushd", dir)?;
        self.stack.insert(0, here);
        Ok(())
    }

    /// `pushd` alone: swaps the current directory with the top of the stack.
    pub fn swap(&mut self) -> Result<(), OpError> {
        let top = self
            .stack
            .first()
            .cloned()
            .ok_or_else(|| OpError::new("pushd", "the directory stack is empty"))?;
        let here = current("pushd")?;
        self.change("pushd", &top)?;
        self.stack[0] = here;
        Ok(())
    }

    /// `popd`: goes to the top of the stack and takes it off.
    pub fn pop(&mut self) -> Result<(), OpError> {
        let top = self
            .stack
            .first()
            .cloned()
            .ok_or_else(|| OpError::new("popd", "the directory stack is empty"))?;
        self.change("popd", &top)?;
        self.stack.remove(0);
        Ok(())
    }

    /// `dirs -c`: empties the stack.
    pub fn clear(&mut self) {
        self.stack.clear();
    }

    /// The current directory, then the stack, top first.
    pub fn listing(&self, op: &str) -> Result<Vec<PathBuf>, OpError> {
        let mut all = vec![current(op)?];
        all.extend(self.stack.iter().cloned());
        Ok(all)
    }
}

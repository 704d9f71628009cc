//! Where the line being run comes from, which starts the shell's own error messages:
//! `marsh: ...` for a terminal, `-c` or stdin, `FILE:LINE: ...` for a script or the startup
//! file (LINE counts from 1).

use std::fmt;

/// The source of the commands being run, and the line of the one running now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file's name as given; `None` for a terminal, `-c` or stdin.
    file: Option<String>,
    line: usize,
}

impl Origin {
    /// Lines read from `file`; [`Origin::at`] says which one runs.
    pub fn file(file: impl Into<String>) -> Origin {
        Origin {
            file: Some(file.into()),
            line: 0,
        }
    }

    /// Whether the lines come from a file.
    pub fn is_file(&self) -> bool {
        self.file.is_some()
    }

    /// The same source, `lines` lines further on (a command of several lines names the line
    /// an error is on).
    pub fn down(&self, lines: usize) -> Origin {
        Origin {
            file: self.file.clone(),
            line: self.line + lines,
        }
    }

    /// Line `line` (from 1) runs now.
    pub fn at(&mut self, line: usize) {
        self.line = line;
    }
}

/// The prefix of a message, without its `: `.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}:{}", self.line),
            None => f.write_str("marsh"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(Origin::default().to_string(), "marsh");
        let mut o = Origin::file("s.msh");
        o.at(3);
        assert_eq!(o.to_string(), "s.msh:3");
    }
}

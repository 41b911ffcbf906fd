//! Configuration errors that point at the exact place in the file: `path:line:col: message`,
//! followed by the offending line and a caret, the way compilers report.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line and column; 0 when the problem has no place (a missing file).
    pub line: usize,
    pub col: usize,
    pub message: String,
    /// The offending line of the file, if any.
    pub source_line: Option<String>,
}

impl ConfigError {
    /// An error located at `span` (byte offsets) of `text`.
    pub fn at(
        path: &Path,
        text: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        let (line, col, source_line) = match span {
            Some(span) => locate(text, span.start),
            None => (0, 0, None),
        };
        Self {
            path: path.to_path_buf(),
            line,
            col,
            message: message.into(),
            source_line,
        }
    }

    /// An error about the file as a whole.
    pub fn whole_file(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message: message.into(),
            source_line: None,
        }
    }
}

/// Line and column (1-based, columns counted in characters) of a byte offset.
fn locate(text: &str, offset: usize) -> (usize, usize, Option<String>) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("").to_string();
    (line, col, Some(line_text))
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        if self.line == 0 {
            return write!(f, "{path}: {}", self.message);
        }
        write!(f, "{path}:{}:{}: {}", self.line, self.col, self.message)?;
        if let Some(source_line) = &self.source_line {
            let gutter = self.line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{} | {}\n{:gutter$} | {}^",
                "",
                self.line,
                source_line,
                "",
                " ".repeat(self.col.saturating_sub(1)),
            )?;
        }
        Ok(())
    }
}

/// Every problem found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{error}")?;
        }
        let count = self.0.len();
        write!(
            f,
            "{count} error{} in configuration",
            if count == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for ConfigErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_and_column_and_draws_a_caret() {
        let text = "a = 1\nbb = \"x\"\n";
        let error = ConfigError::at(Path::new("s.toml"), text, Some(11..14), "expected a number");
        assert_eq!((error.line, error.col), (2, 6));
        let shown = error.to_string();
        assert!(
            shown.starts_with("s.toml:2:6: expected a number"),
            "{shown}"
        );
        assert!(shown.contains("2 | bb = \"x\""), "{shown}");
        assert!(shown.ends_with("  |      ^"), "{shown:?}");
    }

    #[test]
    fn counts_columns_in_characters_not_bytes() {
        let text = "name = \"café\" x";
        let error = ConfigError::at(
            Path::new("s.toml"),
            text,
            Some(text.len() - 1..text.len()),
            "m",
        );
        assert_eq!(error.col, 15);
    }
}

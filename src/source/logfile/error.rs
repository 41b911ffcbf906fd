//! Errors of a log tail: each names the path it is about and the OS error.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a poll could not see what it should see.
#[derive(Debug)]
pub enum TailError {
    /// The pattern is not a valid glob.
    Pattern { pattern: String, message: String },
    /// The directory the pattern lives in is missing or cannot be read.
    Directory { path: PathBuf, source: io::Error },
    /// A followed file cannot be opened, inspected or read.
    File { path: PathBuf, source: io::Error },
    /// A file named directly (not through a glob) that was followed is gone.
    Vanished { path: PathBuf },
}

impl TailError {
    /// The path (or pattern) the error is about.
    pub fn path(&self) -> PathBuf {
        match self {
            TailError::Pattern { pattern, .. } => PathBuf::from(pattern),
            TailError::Directory { path, .. }
            | TailError::File { path, .. }
            | TailError::Vanished { path } => path.clone(),
        }
    }
}

impl fmt::Display for TailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TailError::Pattern { pattern, message } => {
                write!(f, "invalid log file pattern {pattern:?}: {message}")
            }
            TailError::Directory { path, source } => {
                write!(f, "cannot read directory {}: {source}", path.display())
            }
            TailError::File { path, source } => {
                write!(f, "cannot read log file {}: {source}", path.display())
            }
            TailError::Vanished { path } => {
                write!(f, "log file {} has disappeared", path.display())
            }
        }
    }
}

impl std::error::Error for TailError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TailError::Directory { source, .. } | TailError::File { source, .. } => Some(source),
            _ => None,
        }
    }
}

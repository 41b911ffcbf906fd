//! One line read from a log file.

use std::path::PathBuf;

/// A complete line read from a followed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Path under which the file was read (for a rotated file, its new name).
    pub path: PathBuf,
    /// Byte offset of the line's start in that file.
    pub offset: u64,
    /// The text, invalid UTF-8 replaced, without the line end. For JSON lines with a
    /// message field, the message.
    pub line: String,
    /// Normalized level (`TRACE`, `DEBUG`, `INFO`, `NOTICE`, `WARN`, `ERROR`, `FATAL`), or the
    /// level as written (upper-cased) when it is not a known word.
    pub level: Option<String>,
    /// Timestamp as written in the line, when one was recognized.
    pub at: Option<String>,
    /// The line was longer than `max_line_bytes` and was cut.
    pub truncated: bool,
    /// The file already held the line when the tail was attached (its first poll), rather
    /// than the line being written afterwards.
    pub history: bool,
}

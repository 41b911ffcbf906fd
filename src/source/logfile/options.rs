//! Settings of a log tail: where to start, how much to read, how to parse lines.

/// How each line is interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LineFormat {
    /// Free text; the level is taken from a leading level word (`ERROR`, `[warn]`, `level=error`).
    #[default]
    Plain,
    /// One JSON object per line. Lines that are not JSON objects fall back to `Plain`.
    JsonLines {
        /// Field holding the message. `None` tries `msg` then `message`.
        message_field: Option<String>,
        /// Field holding the level. `None` tries `level`, `lvl`, `severity`, `log.level`.
        level_field: Option<String>,
    },
}

impl LineFormat {
    /// JSON lines with automatic field detection.
    pub fn json() -> Self {
        LineFormat::JsonLines {
            message_field: None,
            level_field: None,
        }
    }
}

/// Options of a [`crate::source::logfile::LogTail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailOptions {
    /// On the first sight of a file (no stored offset, present at the first poll),
    /// start at its end instead of reading its whole history. Files that appear later,
    /// or replace a known file (rotation), are always read from the beginning.
    pub start_at_end: bool,
    /// Longer lines are cut to this many bytes (on a char boundary) and counted.
    pub max_line_bytes: usize,
    /// Upper bound on the bytes read from all files in one `poll`.
    pub max_bytes_per_poll: usize,
    /// How lines are parsed.
    pub format: LineFormat,
}

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions {
            start_at_end: true,
            max_line_bytes: 16 * 1024,
            max_bytes_per_poll: 8 * 1024 * 1024,
            format: LineFormat::Plain,
        }
    }
}

impl TailOptions {
    /// Limits made consistent: both at least 1, and a line never longer than the poll budget,
    /// so that every poll that reads a file makes progress on it.
    pub(crate) fn normalized(mut self) -> Self {
        self.max_bytes_per_poll = self.max_bytes_per_poll.max(2);
        self.max_line_bytes = self.max_line_bytes.clamp(1, self.max_bytes_per_poll - 1);
        self
    }
}

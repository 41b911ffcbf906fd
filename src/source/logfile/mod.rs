//! Read-only tailing of log files matched by a path or a glob.
//!
//! [`LogTail::poll`] returns the complete lines written since the offsets the caller stored
//! after the previous poll, and updates those offsets. It follows rotation by rename (the old
//! file is finished through its inode), copytruncate, files appearing and disappearing,
//! unterminated last lines, invalid UTF-8 and over-long lines, and bounds the bytes read per
//! call. Files are only ever opened with `File::open`.

mod discover;
mod error;
mod format;
mod json;
mod level;
mod line;
mod offsets;
mod options;
mod reader;
pub(crate) mod recent;
pub mod replay;
mod stamp;
mod tail;
mod text;

pub use error::TailError;
pub use format::parse_line;
pub use level::plain_level;
pub use line::LogLine;
pub use offsets::{FileOffset, Offsets};
pub use options::{LineFormat, TailOptions};
pub use tail::{LogTail, TailStats};

#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod tests;

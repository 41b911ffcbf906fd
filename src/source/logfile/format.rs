//! Turning the raw bytes of one line into a [`LogLine`] according to the line format.

use super::json;
use super::level::{plain_level, plain_timestamp};
use super::line::LogLine;
use super::options::LineFormat;
use super::text::{cut_on_char_boundary, decode};
use std::path::Path;

/// Builds lines for one file.
pub(crate) struct LineBuilder<'a> {
    pub format: &'a LineFormat,
    pub max_line_bytes: usize,
    pub path: &'a Path,
}

impl LineBuilder<'_> {
    /// `bytes` is the line without its `\n`, possibly already cut; `longer` says the
    /// original line was longer than `bytes`.
    pub(crate) fn build(&self, offset: u64, bytes: &[u8], longer: bool) -> LogLine {
        let cut = cut_on_char_boundary(bytes, self.max_line_bytes);
        let truncated = longer || cut.len() < bytes.len();
        let text = decode(cut);
        let (line, level, at) = match self.format {
            LineFormat::JsonLines {
                message_field,
                level_field,
            } if !truncated => {
                match json::parse(&text, message_field.as_deref(), level_field.as_deref()) {
                    Some(f) => (f.message.unwrap_or(text), f.level, f.at),
                    None => plain_parts(text),
                }
            }
            _ => plain_parts(text),
        };
        LogLine {
            path: self.path.to_path_buf(),
            offset,
            line,
            level,
            at,
            truncated,
            history: false,
        }
    }
}

fn plain_parts(text: String) -> (String, Option<String>, Option<String>) {
    let level = plain_level(&text);
    let at = plain_timestamp(&text);
    (text, level, at)
}

/// A line that came from somewhere other than a file (Loki, the journal), read as a file's
/// line in `format` would be: its message, level and timestamp.
pub fn parse_line(path: &Path, text: &str, format: &LineFormat) -> LogLine {
    LineBuilder {
        format,
        max_line_bytes: super::TailOptions::default().max_line_bytes,
        path,
    }
    .build(0, text.as_bytes(), false)
}

//! What an investigation reads of a log feed: its recent lines, read once, without moving the
//! position the watch keeps (the end of a file feed's newest files, a Loki range query, the
//! journal since a moment), and the exact query for the evidence.

use super::{journal_path, line_format, loki_path};
use crate::config::{LogFeed, LogFormat};
use crate::source::logfile::LogLine;
use crate::source::logfile::parse_line;
use crate::source::logfile::recent::recent_lines;
use crate::source::loki::{Direction, LokiResult, level_of};
use crate::source::registry::Sources;
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};

/// Bytes read from the end of a file feed, in all.
const FILE_BYTES: u64 = 1024 * 1024;

/// The newest files of a glob that are read (the live log and the last rotated one).
const FILES: usize = 2;

/// Lines Loki is asked for per page (the source's page cap bounds the pages).
const LOKI_LINES: u32 = 500;

/// The recent lines of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecentRead {
    /// `logs` for files and the journal, `logql` for Loki.
    pub tool: &'static str,
    /// The configured source, for Loki and the journal.
    pub source: Option<String>,
    /// What was read, exactly: the files, or the query and its range.
    pub query: String,
    /// Oldest first.
    pub lines: Vec<LogLine>,
    /// Older (for the journal: newer) lines were left out.
    pub cut: bool,
}

/// The lines of `feed` from `since` to `now` (a file feed: the end of its newest files,
/// whatever their times).
pub(crate) async fn recent(
    feed: &LogFeed,
    format: LogFormat,
    sources: &Sources,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<RecentRead, SourceError> {
    let format = line_format(format);
    match feed {
        LogFeed::Files { pattern } => {
            let glob = pattern.clone();
            let read = tokio::task::spawn_blocking(move || {
                recent_lines(&glob, &format, FILE_BYTES, FILES)
            })
            .await
            .map_err(|e| unreadable(feed, e.to_string()))?
            .map_err(|e| unreadable(feed, e.to_string()))?;
            let files: Vec<String> = read.files.iter().map(|p| p.display().to_string()).collect();
            let query = if files.is_empty() {
                format!(
                    "the last {} KiB of {pattern} (no file matches)",
                    FILE_BYTES / 1024
                )
            } else {
                format!("the last {} KiB of {}", FILE_BYTES / 1024, files.join(", "))
            };
            Ok(RecentRead {
                tool: "logs",
                source: None,
                query,
                lines: read.lines,
                cut: read.cut,
            })
        }
        LogFeed::Loki { source, query, .. } => {
            let loki = sources.loki(source)?;
            let result = loki
                .query_range(query, since, now, LOKI_LINES, Direction::Backward)
                .await?;
            let mut lines: Vec<(DateTime<Utc>, LogLine)> = Vec::new();
            if let LokiResult::Streams(streams) = result {
                for stream in streams {
                    let path = loki_path(source, &stream.labels);
                    let level = level_of(&stream.labels);
                    for (at, text) in stream.entries {
                        let mut line = parse_line(&path, &text, &format);
                        line.level = level.clone().or(line.level);
                        line.at = Some(at.to_rfc3339());
                        lines.push((at, line));
                    }
                }
            }
            lines.sort_by_key(|(at, _)| *at);
            Ok(RecentRead {
                tool: "logql",
                source: Some(source.clone()),
                query: format!(
                    "{query} from {} to {}",
                    since.format("%Y-%m-%d %H:%M:%S UTC"),
                    now.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                lines: lines.into_iter().map(|(_, line)| line).collect(),
                cut: false,
            })
        }
        LogFeed::Journald { source, .. } => {
            let journal = sources.journal(source)?;
            let from = format!("@{}", since.timestamp());
            let read = journal.read_from(None, Some(&from)).await?;
            let lines = read
                .lines
                .into_iter()
                .map(|entry| {
                    let path = journal_path(source, entry.unit, entry.identifier);
                    let mut line = parse_line(&path, &entry.line, &format);
                    line.level = entry.level.or(line.level);
                    line.at = entry.at.map(|at| at.to_rfc3339());
                    line.truncated = entry.truncated;
                    line
                })
                .collect();
            Ok(RecentRead {
                tool: "logs",
                source: Some(source.clone()),
                query: format!(
                    "journalctl --since={from} ({})",
                    since.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                lines,
                cut: read.more,
            })
        }
    }
}

fn unreadable(feed: &LogFeed, detail: String) -> SourceError {
    SourceError::new(&feed.source_label(), SourceErrorKind::Unreachable, detail)
}

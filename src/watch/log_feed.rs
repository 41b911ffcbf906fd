//! Where a log watch's lines come from: tailed files, a Loki tail, or the systemd journal
//! (`new_error` reads one feed, `error_class` an access log and an app log). Each keeps its
//! position in the store (file offsets, a Loki cursor, a journal cursor) under the watch's name
//! and a key prefix, so a restart neither skips nor re-reads lines.

use super::memory::{Memory, store_failure};
use crate::config::{LogFeed, LogFormat};
use crate::source::logfile::replay::ReplayFeed;
use crate::source::logfile::{LineFormat, LogLine, LogTail, Offsets, TailOptions, parse_line};
use crate::source::loki::{Labels, TailCursor};
use crate::source::{SourceError, SourceErrorKind, files};
use crate::watch::kind::Replay;
use crate::watch::{WatchContext, time_before};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

pub(crate) mod recent;

/// An open feed and where it stands.
pub(crate) enum Feed {
    Files {
        /// `None` only while a poll runs on the blocking pool.
        tail: Option<LogTail>,
        offsets: Offsets,
    },
    Loki {
        source: String,
        query: String,
        cursor: TailCursor,
    },
    Journald {
        source: String,
        cursor: Option<String>,
        /// Where a read without a cursor starts (`@<unix seconds>`).
        since: String,
    },
    /// Files read again by their lines' own times (a backtest).
    Replay(ReplayFeed),
}

/// A failed read; `reopen` says the feed lost its state and must be opened again.
pub(crate) struct FeedError {
    pub error: SourceError,
    pub reopen: bool,
}

impl From<SourceError> for FeedError {
    fn from(error: SourceError) -> Self {
        Self {
            error,
            reopen: false,
        }
    }
}

fn line_format(format: LogFormat) -> LineFormat {
    match format {
        LogFormat::Plain => LineFormat::Plain,
        LogFormat::Json => LineFormat::json(),
    }
}

/// The feed's own source could not be read (a file, a tail task).
fn feed_error(feed: &LogFeed, error: impl ToString) -> SourceError {
    SourceError::new(
        &feed.source_label(),
        SourceErrorKind::Unreachable,
        error.to_string(),
    )
}

impl Feed {
    /// Opens `feed` where the watch `watch` left it (or, the first time, where learning starts).
    /// `prefix` tells apart the feeds of one watch in the store (`""`, `"access_"`, `"app_"`).
    pub(crate) async fn open(
        watch: &str,
        prefix: &str,
        feed: &LogFeed,
        format: LogFormat,
        ctx: &WatchContext<'_>,
    ) -> Result<Feed, SourceError> {
        let memory = Memory::of(ctx, watch);
        let stored = |key: &'static str| {
            let memory = &memory;
            async move { memory.load_text("", &format!("{prefix}{key}")).await }
        };
        if let (LogFeed::Files { pattern }, Some(replay)) = (feed, ctx.sources.log_replay()) {
            return ReplayFeed::open(replay.clone(), watch, pattern, &line_format(format))
                .map(Feed::Replay)
                .map_err(|e| feed_error(feed, e));
        }
        match feed {
            LogFeed::Files { pattern } => {
                let offsets = match stored("offsets").await? {
                    Some(json) => Offsets::from_json(&json).unwrap_or_default(),
                    None => Offsets::default(),
                };
                // First sight of a file: read what is there, to learn it.
                let options = TailOptions {
                    start_at_end: false,
                    format: line_format(format),
                    ..TailOptions::default()
                };
                let tail = LogTail::new(pattern, options).map_err(|e| feed_error(feed, e))?;
                Ok(Feed::Files {
                    tail: Some(tail),
                    offsets,
                })
            }
            // First attachment of a log source: read back `history`, as a file is read from
            // its start; what was there is history, learned and never paged.
            LogFeed::Loki {
                source,
                query,
                history,
            } => {
                let cursor = stored("cursor")
                    .await?
                    .and_then(|text| text.parse::<TailCursor>().ok())
                    .unwrap_or_else(|| TailCursor::starting_at(time_before(ctx.now, *history)));
                Ok(Feed::Loki {
                    source: source.clone(),
                    query: query.clone(),
                    cursor,
                })
            }
            LogFeed::Journald { source, history } => Ok(Feed::Journald {
                source: source.clone(),
                cursor: stored("cursor").await?,
                since: format!("@{}", time_before(ctx.now, *history).timestamp()),
            }),
        }
    }

    /// The lines written since the last read, oldest first.
    pub(crate) async fn read(
        &mut self,
        feed: &LogFeed,
        format: LogFormat,
        ctx: &WatchContext<'_>,
    ) -> Result<Vec<LogLine>, FeedError> {
        let format = line_format(format);
        match self {
            Feed::Files { tail, offsets } => {
                if let LogFeed::Files { pattern } = feed
                    && let Err(error) = files::require_some(pattern)
                {
                    // Readable but empty of matching files: the log held nothing when attached,
                    // so every file that appears from now on is written after attachment.
                    if files::newest(pattern).is_ok_and(|found| found.is_none()) {
                        offsets.polled = true;
                    }
                    return Err(error.into());
                }
                let Some(mut polling) = tail.take() else {
                    return Err(FeedError {
                        error: feed_error(feed, "tail unavailable"),
                        reopen: true,
                    });
                };
                let mut at = std::mem::take(offsets);
                let polled = tokio::task::spawn_blocking(move || {
                    let result = polling.poll(&mut at);
                    (polling, at, result)
                })
                .await;
                match polled {
                    Ok((polled_tail, polled_offsets, result)) => {
                        *tail = Some(polled_tail);
                        *offsets = polled_offsets;
                        result.map_err(|e| feed_error(feed, e).into())
                    }
                    Err(join) => Err(FeedError {
                        error: feed_error(feed, join),
                        reopen: true,
                    }),
                }
            }
            Feed::Replay(replay) => Ok(replay.read(ctx.now)),
            Feed::Loki {
                source,
                query,
                cursor,
            } => {
                let loki = ctx.sources.loki(source)?;
                let read = loki.tail_since(query, cursor).await?;
                *cursor = read.cursor;
                Ok(read
                    .lines
                    .into_iter()
                    .map(|entry| {
                        let path = loki_path(source, &entry.labels);
                        let mut line = parse_line(&path, &entry.line, &format);
                        line.level = entry.level.or(line.level);
                        line.at = Some(entry.at.to_rfc3339());
                        line
                    })
                    .collect())
            }
            Feed::Journald {
                source,
                cursor,
                since,
            } => {
                let journal = ctx.sources.journal(source)?;
                let read = journal.read_from(cursor.as_deref(), Some(since)).await?;
                if read.cursor.is_some() {
                    *cursor = read.cursor;
                }
                Ok(read
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
                    .collect())
            }
        }
    }

    /// Whether everything the source held when attached at `attached_at` has been read, after
    /// a read that returned `lines`: a file's length at first sight is reached; a stamping
    /// source returned nothing, or got to lines stamped from `attached_at` on.
    pub(crate) fn history_read(&self, lines: &[LogLine], attached_at: DateTime<Utc>) -> bool {
        match self {
            Feed::Files { offsets, .. } => offsets.history_read(),
            // Learning ends at or before the replay's start: the first read holds it all.
            Feed::Replay(_) => true,
            Feed::Loki { .. } | Feed::Journald { .. } => read_past(lines, attached_at),
        }
    }

    /// Persists where the feed stands (under the `prefix` it was opened with).
    pub(crate) async fn save(
        &self,
        watch: &str,
        prefix: &str,
        ctx: &WatchContext<'_>,
    ) -> Result<(), SourceError> {
        let (key, value) = match self {
            Feed::Files { offsets, .. } => ("offsets", offsets.to_json().map_err(store_failure)?),
            Feed::Loki { cursor, .. } => ("cursor", cursor.to_string()),
            Feed::Journald { cursor, .. } => match cursor {
                Some(cursor) => ("cursor", cursor.clone()),
                None => return Ok(()),
            },
            // A replay starts over every time: nothing to keep.
            Feed::Replay(_) => return Ok(()),
        };
        Memory::of(ctx, watch)
            .save_text("", &format!("{prefix}{key}"), &value)
            .await
    }
}

/// Whether a log watch reading `feeds` can be replayed: files are read again by their lines'
/// own times; a Loki or journal feed is not replayed.
pub(crate) fn replay(feeds: &[&LogFeed]) -> Replay {
    match feeds
        .iter()
        .find(|feed| !matches!(feed, LogFeed::Files { .. }))
    {
        None => Replay::Supported,
        Some(feed) => Replay::Skipped(format!(
            "it reads {}: only log files are replayed (by their lines' own times), not Loki or the journal",
            feed.source_label()
        )),
    }
}

/// Whether lines read oldest first from a stamping source reach `moment`: none were left to
/// read, or the newest is stamped at or after it (or carries no stamp to hold it back).
fn read_past(lines: &[LogLine], moment: DateTime<Utc>) -> bool {
    lines.last().is_none_or(|newest| {
        newest
            .at
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .is_none_or(|at| at >= moment)
    })
}

/// How a Loki stream's lines name where they come from: the source and the stream's selector.
fn loki_path(source: &str, labels: &Labels) -> PathBuf {
    PathBuf::from(format!("{source} {}", selector(labels)))
}

/// How a journal entry's line names where it comes from: the source and the unit (or the
/// syslog identifier).
fn journal_path(source: &str, unit: Option<String>, identifier: Option<String>) -> PathBuf {
    let origin = unit.or(identifier).unwrap_or_default();
    PathBuf::from(format!("{source} {origin}").trim_end())
}

/// A stream's labels as a LogQL selector, `{app="shop", level="error"}`.
fn selector(labels: &Labels) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(at: Option<DateTime<Utc>>) -> LogLine {
        LogLine {
            path: PathBuf::from("loki {app=\"shop\"}"),
            offset: 0,
            line: "ERROR boom".to_string(),
            level: None,
            at: at.map(|at| at.to_rfc3339()),
            truncated: false,
            history: false,
        }
    }

    #[test]
    fn a_stamping_source_has_read_its_history_once_a_read_gets_to_attachment() {
        let attached = DateTime::from_timestamp(1_764_950_400, 0).unwrap();
        let before = attached - chrono::Duration::minutes(5);
        assert!(read_past(&[], attached), "nothing left to read");
        assert!(!read_past(&[stamped(Some(before))], attached));
        assert!(read_past(
            &[stamped(Some(before)), stamped(Some(attached))],
            attached
        ));
        assert!(read_past(&[stamped(None)], attached));
    }

    #[test]
    fn only_file_feeds_are_replayed() {
        let files = LogFeed::Files {
            pattern: "/var/log/app.log".into(),
        };
        let loki = LogFeed::Loki {
            source: "loki".into(),
            query: "{app=\"shop\"}".into(),
            history: std::time::Duration::from_secs(3600),
        };
        assert_eq!(replay(&[&files]), Replay::Supported);
        let Replay::Skipped(reason) = replay(&[&files, &loki]) else {
            panic!("a Loki feed is not replayed");
        };
        assert!(reason.contains("only log files are replayed"), "{reason}");
    }
}

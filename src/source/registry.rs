//! The configured sources by name, and what each can answer. A watch asks for a capability
//! (series, readings, statement statistics, rows of a table, job queues, log lines), not for
//! a kind of source; each kind of source says which capabilities it has and how `sentinel
//! doctor` checks it, in its own module.

use super::http::HttpSource;
use super::journald::JournaldSource;
use super::logfile::replay::LogReplay;
use super::loki::LokiSource;
use super::redis::RedisSource;
use super::series::{ReadingSource, SeriesSource};
use super::sql::database::SqlSource;
use super::sql::statements::StatementStatistics;
use super::{SourceError, SourceErrorKind};
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What `sentinel doctor` found checking one source (or one glob of files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Ok(String),
    /// Reachable, but something needs the operator's attention (a role that can write).
    Warning(String),
    /// The source could not be checked.
    Fail(String),
}

impl Finding {
    /// The printed line for source `name` of kind `kind`.
    pub fn line(&self, name: &str, kind: &str) -> String {
        match self {
            Finding::Ok(text) => format!("ok  {name} ({kind}): {text}"),
            Finding::Warning(text) => format!("WARNING {name} ({kind}): {text}"),
            Finding::Fail(text) => format!("FAIL {name} ({kind}): {text}"),
        }
    }
}

/// One configured source: its kind, its capabilities, and its check.
pub trait Source: Send + Sync {
    /// The kind as configured (`prometheus`, `postgres`, ...).
    fn kind(&self) -> &'static str;

    /// Can Sentinel reach it, read it, and could it do more than read? (`sentinel doctor`)
    fn check(&self) -> BoxFuture<'_, Finding>;

    /// The value of every series now (PromQL, LogQL metric queries).
    fn readings(&self) -> Option<&dyn ReadingSource> {
        None
    }

    /// The points of every series over a range (PromQL, LogQL metric queries, SQL buckets).
    fn series(&self) -> Option<&dyn SeriesSource> {
        None
    }

    /// Per-statement statistics and plans (PostgreSQL's `pg_stat_statements`).
    fn statements(&self) -> Option<&dyn StatementStatistics> {
        None
    }

    /// Read-only SQL through the statement guard (rows of a job table).
    fn database(&self) -> Option<&SqlSource> {
        None
    }

    /// Job queues, read with read-only commands.
    fn queues(&self) -> Option<&RedisSource> {
        None
    }

    /// Log lines from Loki streams.
    fn loki(&self) -> Option<&LokiSource> {
        None
    }

    /// Log lines from the systemd journal.
    fn journal(&self) -> Option<&JournaldSource> {
        None
    }
}

/// Every configured source by name, and the HTTP client of each `http` watch.
#[derive(Clone, Default)]
pub struct Sources {
    by_name: BTreeMap<String, Arc<dyn Source>>,
    http: BTreeMap<String, Arc<HttpSource>>,
    /// In a backtest: log files are read again by their lines' own times, not tailed.
    log_replay: Option<Arc<LogReplay>>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("by_name", &self.by_name.keys().collect::<Vec<_>>())
            .field("http", &self.http.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The blindness of a watch whose source is not in the configuration.
pub(crate) fn not_configured(name: &str) -> SourceError {
    SourceError::new(
        name,
        SourceErrorKind::Unreachable,
        "source is not configured",
    )
}

impl Sources {
    /// Log watches reading files replay them over `replay`'s period instead of tailing them.
    pub fn replay_logs(&mut self, replay: Arc<LogReplay>) {
        self.log_replay = Some(replay);
    }

    /// The log replay, in a backtest.
    pub(crate) fn log_replay(&self) -> Option<&Arc<LogReplay>> {
        self.log_replay.as_ref()
    }

    /// Adds (or replaces) the source `name`.
    pub fn insert(&mut self, name: &str, source: Arc<dyn Source>) {
        self.by_name.insert(name.to_string(), source);
    }

    /// Adds the HTTP client of the `http` watch `watch`.
    pub fn insert_http(&mut self, watch: &str, client: Arc<HttpSource>) {
        self.http.insert(watch.to_string(), client);
    }

    /// The source `name`.
    pub fn get(&self, name: &str) -> Result<&dyn Source, SourceError> {
        self.by_name
            .get(name)
            .map(|source| source.as_ref())
            .ok_or_else(|| not_configured(name))
    }

    /// The names of the configured sources of kind `kind` (`prometheus`, ...), in name order.
    pub(crate) fn names_of_kind(&self, kind: &str) -> Vec<&str> {
        self.by_name
            .iter()
            .filter(|(_, source)| source.kind() == kind)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The HTTP client of the `http` watch `watch`.
    pub fn http(&self, watch: &str) -> Option<&HttpSource> {
        self.http.get(watch).map(|client| client.as_ref())
    }

    /// The source `name` as one that gives readings.
    pub fn readings(&self, name: &str) -> Result<&dyn ReadingSource, SourceError> {
        let source = self.get(name)?;
        source
            .readings()
            .ok_or_else(|| cannot(name, source, "values of series"))
    }

    /// The source `name` as one that gives series over a range.
    pub fn series(&self, name: &str) -> Result<&dyn SeriesSource, SourceError> {
        let source = self.get(name)?;
        source
            .series()
            .ok_or_else(|| cannot(name, source, "series over time"))
    }

    /// The source `name` as one that gives statement statistics.
    pub fn statements(&self, name: &str) -> Result<&dyn StatementStatistics, SourceError> {
        let source = self.get(name)?;
        source
            .statements()
            .ok_or_else(|| cannot(name, source, "statement statistics"))
    }

    /// The source `name` as a SQL database.
    pub fn database(&self, name: &str) -> Result<&SqlSource, SourceError> {
        let source = self.get(name)?;
        source.database().ok_or_else(|| cannot(name, source, "SQL"))
    }

    /// The source `name` as job queues.
    pub fn queues(&self, name: &str) -> Result<&RedisSource, SourceError> {
        let source = self.get(name)?;
        source
            .queues()
            .ok_or_else(|| cannot(name, source, "job queues"))
    }

    /// The source `name` as Loki.
    pub fn loki(&self, name: &str) -> Result<&LokiSource, SourceError> {
        let source = self.get(name)?;
        source
            .loki()
            .ok_or_else(|| cannot(name, source, "Loki streams"))
    }

    /// The source `name` as the systemd journal.
    pub fn journal(&self, name: &str) -> Result<&JournaldSource, SourceError> {
        let source = self.get(name)?;
        source
            .journal()
            .ok_or_else(|| cannot(name, source, "the systemd journal"))
    }
}

/// A watch asked a source for what its kind cannot give: the watch's configuration is wrong.
fn cannot(name: &str, source: &dyn Source, what: &str) -> SourceError {
    SourceError::new(
        name,
        SourceErrorKind::QueryRejected,
        format!("a {} source cannot answer with {what}", source.kind()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_say_ok_warning_or_fail_with_the_source() {
        assert_eq!(
            Finding::Ok("read-only role s".into()).line("app", "postgres"),
            "ok  app (postgres): read-only role s"
        );
        assert!(
            Finding::Warning("x".into())
                .line("app", "mysql")
                .starts_with("WARNING app (mysql): ")
        );
    }
}

//! What the configuration lets the tools read: the sources by kind, the queues, log globs and
//! URLs the watches name, and the repository. Taken once from the validated configuration;
//! the tools never reach anything that is not listed here.

use crate::config::{Config, LogFeed, SourceSpecKind, WatchSpecKind};
use crate::source::http::HttpProbe;
use crate::source::redis::QueueProbe;
use crate::source::sql::guard::SqlDialectKind;
use crate::watch::stuck::spec::StuckSpec;
use std::path::PathBuf;

/// A Redis queue a `stuck` watch measures.
#[derive(Debug, Clone)]
pub(super) struct QueueTarget {
    pub(super) source: String,
    pub(super) watch: String,
    pub(super) probe: QueueProbe,
}

/// The endpoint an `http` watch probes.
#[derive(Debug, Clone)]
pub(super) struct HttpTarget {
    pub(super) watch: String,
    pub(super) probe: HttpProbe,
}

/// Everything the tools may read.
#[derive(Debug, Clone, Default)]
pub(super) struct Setup {
    pub(super) sql: Vec<(String, SqlDialectKind)>,
    pub(super) prometheus: Vec<String>,
    pub(super) loki: Vec<String>,
    pub(super) queues: Vec<QueueTarget>,
    /// Globs of the log files the watches tail.
    pub(super) log_globs: Vec<String>,
    pub(super) http: Vec<HttpTarget>,
    /// The repository, canonical; `None` when not configured or not a directory.
    pub(super) repository: Option<PathBuf>,
}

impl Setup {
    pub(super) fn new(config: &Config) -> Self {
        let mut setup = Setup::default();
        for source in &config.sources {
            let name = source.name.clone();
            match &source.kind {
                SourceSpecKind::Sql(settings) => setup.sql.push((name, settings.policy.dialect)),
                SourceSpecKind::Prometheus { .. } => setup.prometheus.push(name),
                SourceSpecKind::Loki { .. } => setup.loki.push(name),
                SourceSpecKind::Redis { .. } | SourceSpecKind::Journald { .. } => {}
            }
        }
        for watch in &config.watches {
            let feeds: Vec<&LogFeed> = match &watch.kind {
                WatchSpecKind::NewError(spec) => vec![&spec.feed],
                WatchSpecKind::ErrorClass(spec) => std::iter::once(&spec.access_log)
                    .chain(spec.app_log.as_ref())
                    .collect(),
                WatchSpecKind::Stuck(StuckSpec::Redis { source, queue, .. }) => {
                    setup.queues.push(QueueTarget {
                        source: source.clone(),
                        watch: watch.name.clone(),
                        probe: queue.clone(),
                    });
                    Vec::new()
                }
                WatchSpecKind::Http(spec) => {
                    setup.http.push(HttpTarget {
                        watch: watch.name.clone(),
                        probe: spec.probe.clone(),
                    });
                    Vec::new()
                }
                _ => Vec::new(),
            };
            for feed in feeds {
                if let LogFeed::Files { pattern } = feed
                    && !setup.log_globs.contains(pattern)
                {
                    setup.log_globs.push(pattern.clone());
                }
            }
        }
        setup.repository = config.investigator.repository.as_ref().and_then(|path| {
            match path.canonicalize() {
                Ok(root) if root.is_dir() => Some(root),
                Ok(_) | Err(_) => {
                    tracing::warn!(
                        "[investigator] repository {} is not a readable directory: the repository tools are not offered",
                        path.display()
                    );
                    None
                }
            }
        });
        setup
    }

    /// The SQL sources' names.
    pub(super) fn sql_names(&self) -> Vec<&str> {
        self.sql.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The SQL sources as the tools' descriptions name them: `app (PostgreSQL), cache (SQLite)`.
    pub(super) fn sql_described(&self) -> String {
        self.sql
            .iter()
            .map(|(name, dialect)| format!("{name} ({})", dialect_label(*dialect)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The dialect of the SQL source `name`.
    pub(super) fn dialect(&self, name: &str) -> Option<SqlDialectKind> {
        self.sql
            .iter()
            .find(|(source, _)| source == name)
            .map(|(_, dialect)| *dialect)
    }

    /// The Redis sources some `stuck` watch reads queues from, each once.
    pub(super) fn queue_sources(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for target in &self.queues {
            if !names.contains(&target.source.as_str()) {
                names.push(&target.source);
            }
        }
        names
    }
}

/// `names` as a list for a message: `a, b` or `none`.
pub(super) fn listed(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// How a SQL dialect is named to the model.
pub(super) fn dialect_label(dialect: SqlDialectKind) -> &'static str {
    match dialect {
        SqlDialectKind::Postgres => "PostgreSQL",
        SqlDialectKind::MySql => "MySQL/MariaDB",
        SqlDialectKind::Sqlite => "SQLite",
    }
}

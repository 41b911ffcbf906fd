//! Validation of a `stuck` watch (work not draining): a job table, a Redis queue or a series
//! of queue lengths, and the keys each of them takes.

use crate::config::raw::{QueueLayoutName, RawWatch, SourceKind, WrittenKeys};
use crate::config::validate::applicable::{Kind, Section};
use crate::config::validate::{Validator, dur, is_sql};
use crate::config::*;
use crate::source::redis::{QueueLayout, QueueProbe};
use std::collections::BTreeMap;
use std::time::Duration;

/// Keys a stuck watch takes whatever it reads, beyond those of what it reads
/// (`STUCK_ON_*_KEYS`).
pub(crate) const STUCK_KEYS: &[&str] = &["source"];

/// Keys of a stuck watch on a SQL table of jobs.
pub(crate) const STUCK_ON_SQL_KEYS: &[&str] = &[
    "table",
    "state_column",
    "states",
    "since_column",
    "group_by",
    "older_than",
];

/// Keys of a stuck watch on a Redis queue.
pub(crate) const STUCK_ON_REDIS_KEYS: &[&str] =
    &["queue", "layout", "group", "older_than", "stalled_for"];

/// Keys of a stuck watch on PromQL queue lengths.
pub(crate) const STUCK_ON_PROMETHEUS_KEYS: &[&str] = &["query", "step", "stalled_for"];

const STUCK_ON_SQL: Kind = Kind {
    name: "a SQL table",
    takes: &[STUCK_ON_SQL_KEYS],
};

const STUCK_ON_REDIS: Kind = Kind {
    name: "Redis",
    takes: &[STUCK_ON_REDIS_KEYS],
};

const STUCK_ON_PROMETHEUS: Kind = Kind {
    name: "PromQL",
    takes: &[STUCK_ON_PROMETHEUS_KEYS],
};

/// What a stuck watch can read, and the keys each takes.
pub(crate) const STUCK_ON: Section = Section {
    naming: "a stuck watch on {}",
    they_take: "it takes",
    common: STUCK_KEYS,
    kinds: &[STUCK_ON_SQL, STUCK_ON_REDIS, STUCK_ON_PROMETHEUS],
};

fn is_identifier(text: &str) -> bool {
    let part_ok = |part: &str| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() <= 2 && parts.iter().all(|p| part_ok(p))
}

impl Validator<'_> {
    fn identifier(&mut self, value: &Option<toml::Spanned<String>>, default: &str) -> String {
        match value {
            Some(v) if is_identifier(v.get_ref()) => v.get_ref().clone(),
            Some(v) => {
                self.error(
                    v.span(),
                    format!(
                        "{:?} is not a plain table or column name: use letters, digits and _ (schema.table is fine)",
                        v.get_ref()
                    ),
                );
                default.to_string()
            }
            None => default.to_string(),
        }
    }

    fn stalled_for(&mut self, raw: &RawWatch) -> u32 {
        match &raw.stalled_for {
            Some(n) if *n.get_ref() < 2 => {
                self.error(
                    n.span(),
                    "stalled_for counts observations of a length that did not fall: at least 2",
                );
                2
            }
            Some(n) => *n.get_ref(),
            None => 5,
        }
    }

    /// What `stuck` can read: a job table, a Redis queue or PromQL queue lengths.
    const STUCK_SOURCES: [SourceKind; 5] = [
        SourceKind::Postgres,
        SourceKind::Mysql,
        SourceKind::Sqlite,
        SourceKind::Redis,
        SourceKind::Prometheus,
    ];

    pub(crate) fn stuck(
        &mut self,
        raw: &RawWatch,
        written: &WrittenKeys,
        sources: &BTreeMap<String, SourceKind>,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let (source, kind) =
            self.source_of(raw, sources, "stuck", &Self::STUCK_SOURCES, missing)?;
        if is_sql(kind) {
            self.refuse_inapplicable(written, &STUCK_ON, STUCK_ON_SQL.name);
            let Some(table) = &raw.table else {
                missing(self, "table", "\"jobs\"");
                return None;
            };
            let table = self.identifier(&Some(table.clone()), "");
            let Some(since) = &raw.since_column else {
                missing(
                    self,
                    "since_column",
                    "\"updated_at\" (when the row entered its state)",
                );
                return None;
            };
            let since_column = self.identifier(&Some(since.clone()), "");
            let state_column = self.identifier(&raw.state_column, "state");
            let group_by = raw
                .group_by
                .as_ref()
                .map(|g| self.identifier(&Some(g.clone()), ""));
            let states = match &raw.states {
                Some(states) if states.get_ref().is_empty() => {
                    self.error(
                        states.span(),
                        "states must name at least one state, like [\"running\"]",
                    );
                    return None;
                }
                Some(states) => states.get_ref().clone(),
                None => vec!["queued".to_string(), "running".to_string()],
            };
            let older_than = dur(&raw.older_than).unwrap_or(Duration::from_secs(15 * 60));
            if older_than.is_zero()
                && let Some(v) = &raw.older_than
            {
                self.error(v.span(), "older_than must be longer than zero");
            }
            Some(WatchSpecKind::Stuck(StuckSpec::Sql {
                source,
                table,
                state_column,
                states,
                since_column,
                group_by,
                older_than,
            }))
        } else if kind == SourceKind::Redis {
            self.refuse_inapplicable(written, &STUCK_ON, STUCK_ON_REDIS.name);
            let Some(queue) = &raw.queue else {
                missing(
                    self,
                    "queue",
                    "\"default\" (with layout = \"sidekiq\", or the key of a list, stream or sorted set)",
                );
                return None;
            };
            let layout = match raw.layout.as_ref().map(|l| *l.get_ref()) {
                Some(QueueLayoutName::List) | None => QueueLayout::List,
                Some(QueueLayoutName::Stream) => QueueLayout::Stream {
                    group: raw.group.as_ref().map(|g| g.get_ref().clone()),
                },
                Some(QueueLayoutName::SortedSet) => QueueLayout::SortedSet,
                Some(QueueLayoutName::Sidekiq) => QueueLayout::Sidekiq,
                Some(QueueLayoutName::Bullmq) => QueueLayout::BullMq,
                Some(QueueLayoutName::Celery) => QueueLayout::Celery,
                Some(QueueLayoutName::Rq) => QueueLayout::Rq,
            };
            if let Some(group) = &raw.group
                && !matches!(layout, QueueLayout::Stream { .. })
            {
                self.error(
                    group.span(),
                    "`group` (a consumer group) applies only to layout = \"stream\"",
                );
            }
            let stalled_for = self.stalled_for(raw);
            Some(WatchSpecKind::Stuck(StuckSpec::Redis {
                source,
                queue: QueueProbe::new(queue.get_ref(), layout),
                older_than: dur(&raw.older_than).filter(|d| !d.is_zero()),
                stalled_for,
            }))
        } else {
            self.refuse_inapplicable(written, &STUCK_ON, STUCK_ON_PROMETHEUS.name);
            let Some(query) = &raw.query else {
                missing(
                    self,
                    "query",
                    "\"<PromQL of queue lengths, one series per queue>\"",
                );
                return None;
            };
            let stalled_for = self.stalled_for(raw);
            let step = dur(&raw.step).unwrap_or(Duration::from_secs(60));
            if step.is_zero()
                && let Some(v) = &raw.step
            {
                self.error(v.span(), "step must be longer than zero");
            }
            Some(WatchSpecKind::Stuck(StuckSpec::Prometheus {
                source,
                query: query.get_ref().clone(),
                step,
                stalled_for,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_identifier;

    #[test]
    fn identifiers_are_plain_names() {
        assert!(is_identifier("jobs"));
        assert!(is_identifier("public.jobs"));
        assert!(is_identifier("_x1"));
        assert!(!is_identifier("jobs; drop table x"));
        assert!(!is_identifier("a.b.c"));
        assert!(!is_identifier("1jobs"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("\"jobs\""));
    }
}

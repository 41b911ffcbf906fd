//! Validation of the `stuck` (work not draining) and `jump` (a series leaving its baseline)
//! watches, and of which kinds of source each may read.

use super::applicable::{Kind, Section};
use super::{Validator, dur};
use crate::config::raw::{
    DirectionName, QueueLayoutName, RawWatch, SeasonalityName, SourceKind, WrittenKeys,
};
use crate::config::*;
use crate::source::redis::{QueueLayout, QueueProbe};
use crate::watch::jump::detector::{BaselineWindow, Direction, JumpConfig, Seasonality};
use std::collections::BTreeMap;

/// Keys a stuck watch takes whatever it reads, beyond those of what it reads
/// (`STUCK_ON_*_KEYS`).
pub(super) const STUCK_KEYS: &[&str] = &["source"];

/// Keys of a stuck watch on a SQL table of jobs.
pub(super) const STUCK_ON_SQL_KEYS: &[&str] = &[
    "table",
    "state_column",
    "states",
    "since_column",
    "group_by",
    "older_than",
];

/// Keys of a stuck watch on a Redis queue.
pub(super) const STUCK_ON_REDIS_KEYS: &[&str] =
    &["queue", "layout", "group", "older_than", "stalled_for"];

/// Keys of a stuck watch on PromQL queue lengths.
pub(super) const STUCK_ON_PROMETHEUS_KEYS: &[&str] = &["query", "step", "stalled_for"];

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
pub(super) const STUCK_ON: Section = Section {
    naming: "a stuck watch on {}",
    they_take: "it takes",
    common: STUCK_KEYS,
    kinds: &[STUCK_ON_SQL, STUCK_ON_REDIS, STUCK_ON_PROMETHEUS],
};

pub(super) const JUMP_KEYS: &[&str] = &[
    "source",
    "query",
    "step",
    "baseline",
    "seasonality",
    "direction",
    "min_change",
    "sensitivity",
];

pub(super) const ERROR_CLASS_KEYS: &[&str] = &[
    "path",
    "source",
    "query",
    "history",
    "access_format",
    "app_log",
    "app_query",
    "min_count",
    "window",
];

pub(super) const SLOW_QUERY_KEYS: &[&str] = &["source", "ratio", "min_increase", "min_calls"];

/// A table or column name that can be put into generated SQL as it is.
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

fn is_sql(kind: SourceKind) -> bool {
    matches!(
        kind,
        SourceKind::Postgres | SourceKind::Mysql | SourceKind::Sqlite
    )
}

impl Validator<'_> {
    /// The watch's `source`, which must exist and be of one of `accepted` kinds.
    pub(super) fn source_of(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        accepted: &[SourceKind],
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<(String, SourceKind)> {
        let wanted = accepted
            .iter()
            .map(|k| format!("{k:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ");
        let Some(source) = &raw.source else {
            missing(
                self,
                "source",
                &format!("\"<name of a [sources.NAME] of kind {wanted}>\""),
            );
            return None;
        };
        match sources.get(source.get_ref()) {
            Some(kind) if accepted.contains(kind) => Some((source.get_ref().clone(), *kind)),
            Some(kind) => {
                self.error(
                    source.span(),
                    format!(
                        "source `{}` is of kind {}; a {kind_name} watch reads a source of kind {wanted}",
                        source.get_ref(),
                        format!("{kind:?}").to_lowercase()
                    ),
                );
                None
            }
            None => {
                let known: Vec<&str> = sources.keys().map(String::as_str).collect();
                let hint = if known.is_empty() {
                    "no sources are defined".to_string()
                } else {
                    format!("defined sources: {}", known.join(", "))
                };
                self.error(
                    source.span(),
                    format!("source `{}` is not defined ({hint})", source.get_ref()),
                );
                None
            }
        }
    }

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

    /// Where `jump` reads a series: SQL, PromQL, or a LogQL metric query.
    const SERIES_SOURCES: [SourceKind; 5] = [
        SourceKind::Postgres,
        SourceKind::Mysql,
        SourceKind::Sqlite,
        SourceKind::Prometheus,
        SourceKind::Loki,
    ];

    /// What `stuck` can read: a job table, a Redis queue or PromQL queue lengths.
    const STUCK_SOURCES: [SourceKind; 5] = [
        SourceKind::Postgres,
        SourceKind::Mysql,
        SourceKind::Sqlite,
        SourceKind::Redis,
        SourceKind::Prometheus,
    ];

    pub(super) fn stuck(
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

    /// A glob of log files, `${VAR}` expanded.
    fn log_glob(&mut self, value: &toml::Spanned<String>) -> Option<String> {
        let pattern = self.expanded(value)?;
        if let Err(error) = glob::Pattern::new(&pattern) {
            self.error(value.span(), format!("invalid glob pattern: {error}"));
        }
        Some(pattern)
    }

    pub(super) fn error_class(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        use crate::config::raw::AccessFormatName;
        use crate::logs::access::AccessFormat;
        let access_log = self.log_feed(
            raw,
            sources,
            "error_class",
            "/var/log/nginx/access.log",
            missing,
        )?;
        let app_log = match (&raw.app_log, &raw.app_query, &access_log) {
            (Some(app_log), None, _) => Some(LogFeed::Files {
                pattern: self.log_glob(app_log)?,
            }),
            (
                None,
                Some(app_query),
                LogFeed::Loki {
                    source, history, ..
                },
            ) => {
                let query = app_query.get_ref().trim().to_string();
                if !query.starts_with('{') {
                    self.error(
                        app_query.span(),
                        "app_query is a LogQL log query: a stream selector such as {app=\"shop\"}",
                    );
                }
                Some(LogFeed::Loki {
                    source: source.clone(),
                    query,
                    history: *history,
                })
            }
            (None, Some(app_query), _) => {
                self.error(
                    app_query.span(),
                    "app_query reads the app's log from the same Loki `source` as the access log; with files, use app_log",
                );
                None
            }
            (Some(app_log), Some(_), _) => {
                self.error(
                    app_log.span(),
                    "the app's log comes from files (app_log) or from Loki (app_query), not both",
                );
                None
            }
            (None, None, _) => None,
        };
        if let Some(min_count) = &raw.min_count
            && *min_count.get_ref() == 0
        {
            self.error(min_count.span(), "min_count must be at least 1");
        }
        Some(WatchSpecKind::ErrorClass(ErrorClassSpec {
            access_log,
            access_format: match raw.access_format.as_ref().map(|f| *f.get_ref()) {
                Some(AccessFormatName::Combined) => AccessFormat::Combined,
                Some(AccessFormatName::Json) => AccessFormat::Json,
                Some(AccessFormatName::Auto) | None => AccessFormat::Auto,
            },
            app_log,
            min_count: raw.min_count.as_ref().map_or(3, |c| *c.get_ref()),
            window: dur(&raw.window).unwrap_or(Duration::from_secs(600)),
        }))
    }

    pub(super) fn slow_query(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let (source, _) =
            self.source_of(raw, sources, "slow_query", &[SourceKind::Postgres], missing)?;
        let mut judge = crate::watch::slow_query::core::SlowQueryConfig::default();
        if let Some(ratio) = &raw.ratio {
            if !(ratio.get_ref().is_finite() && *ratio.get_ref() > 1.0) {
                self.error(
                    ratio.span(),
                    "ratio must be above 1 (3.0: three times the usual time per call)",
                );
            }
            judge.ratio = *ratio.get_ref();
        }
        if let Some(increase) = dur(&raw.min_increase) {
            judge.min_increase_ms = increase.as_secs_f64() * 1000.0;
        }
        if let Some(calls) = &raw.min_calls {
            if *calls.get_ref() == 0 {
                self.error(calls.span(), "min_calls must be at least 1");
            }
            judge.min_calls = i64::from(*calls.get_ref());
        }
        Some(WatchSpecKind::SlowQuery(SlowQuerySpec { source, judge }))
    }

    pub(super) fn jump(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let (source, kind) =
            self.source_of(raw, sources, "jump", &Self::SERIES_SOURCES, missing)?;
        let Some(query) = &raw.query else {
            let example = if is_sql(kind) {
                "\"SELECT day AS time, sum(amount) AS value FROM charges GROUP BY day\""
            } else if kind == SourceKind::Loki {
                "'sum(count_over_time({app=\"shop\"} |= \"error\" [1h]))'"
            } else {
                "\"sum(increase(charges_total[1h]))\""
            };
            missing(self, "query", example);
            return None;
        };
        let step = dur(&raw.step).unwrap_or(Duration::from_secs(3600));
        let baseline = dur(&raw.baseline).unwrap_or(Duration::from_secs(7 * 86_400));
        for value in [&raw.step, &raw.baseline].into_iter().flatten() {
            if value.get_ref().0.is_zero() {
                self.error(value.span(), "must be longer than zero");
            }
        }
        let seasonality = match raw.seasonality.as_ref().map(|s| *s.get_ref()) {
            Some(SeasonalityName::Daily) => Seasonality::Daily,
            Some(SeasonalityName::Weekly) => Seasonality::Weekly,
            Some(SeasonalityName::None) | None => Seasonality::None,
        };
        let direction = match raw.direction.as_ref().map(|d| *d.get_ref()) {
            Some(DirectionName::Up) => Direction::Up,
            Some(DirectionName::Down) => Direction::Down,
            Some(DirectionName::Both) | None => Direction::Both,
        };
        let mut detector = JumpConfig {
            window: BaselineWindow::Seconds(i64::try_from(baseline.as_secs()).unwrap_or(i64::MAX)),
            seasonality,
            direction,
            ..JumpConfig::default()
        };
        if let Some(min_change) = &raw.min_change {
            detector.min_abs_change = *min_change.get_ref();
        }
        if let Some(sensitivity) = &raw.sensitivity {
            detector.threshold = *sensitivity.get_ref();
        }
        if let Err(problem) = detector.validate() {
            let span = raw
                .min_change
                .as_ref()
                .map(|v| v.span())
                .or(raw.sensitivity.as_ref().map(|v| v.span()))
                .unwrap_or(raw.kind.span());
            self.error(span, format!("invalid jump settings: {problem}"));
            return None;
        }
        let season = seasonality.period_seconds().unwrap_or(0).max(0) as u64;
        let seasons = season * detector.seasonal_periods as u64;
        let lookback = Duration::from_secs(baseline.as_secs().max(seasons) + step.as_secs());
        Some(WatchSpecKind::Jump(JumpSpec {
            source,
            query: query.get_ref().clone(),
            step,
            lookback,
            detector,
        }))
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

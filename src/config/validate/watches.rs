//! Validation of `[watches.NAME]`: the settings every watch shares, the keys each kind
//! takes (the heartbeat, freshness, threshold and new_error kinds' own here, the others' next
//! to where they are validated), and those four kinds.

use super::applicable::{Kind, Section};
use super::http::HTTP_KEYS;
use super::queue_and_series::{
    ERROR_CLASS_KEYS, JUMP_KEYS, SLOW_QUERY_KEYS, STUCK_KEYS, STUCK_ON_PROMETHEUS_KEYS,
    STUCK_ON_REDIS_KEYS, STUCK_ON_SQL_KEYS,
};
use super::{Validator, dur, intake::ALERTMANAGER_KEYS};
use crate::config::raw::{RawWatch, SourceKind, WatchKind, WrittenKeys};
use crate::config::*;
use crate::watch::certificate::spec::CERTIFICATE_KEYS;
use std::collections::BTreeMap;
use std::str::FromStr;
use toml::Spanned;

/// Keys every watch takes, whatever its kind.
pub(super) const WATCH_COMMON_KEYS: &[&str] = &[
    "kind",
    "description",
    "severity",
    "interval",
    "timeout",
    "for",
    "keep_firing_for",
    "renotify",
    "notify_resolved",
    "channels",
];

pub(super) const HEARTBEAT_KEYS: &[&str] = &["token", "period", "schedule", "tz", "grace"];

pub(super) const FRESHNESS_KEYS: &[&str] = &["source", "query", "path", "max_age"];

pub(super) const THRESHOLD_KEYS: &[&str] = &["source", "query"];

pub(super) const NEW_ERROR_KEYS: &[&str] = &[
    "path",
    "source",
    "query",
    "format",
    "min_count",
    "window",
    "learn_for",
    "history",
    "patterns",
];

/// Every kind of watch and the keys it takes.
pub(super) const WATCHES: Section = Section {
    naming: "{} watches",
    they_take: "they take",
    common: WATCH_COMMON_KEYS,
    kinds: &[
        Kind {
            name: "heartbeat",
            takes: &[HEARTBEAT_KEYS],
        },
        Kind {
            name: "freshness",
            takes: &[FRESHNESS_KEYS],
        },
        Kind {
            name: "threshold",
            takes: &[THRESHOLD_KEYS],
        },
        Kind {
            name: "new_error",
            takes: &[NEW_ERROR_KEYS],
        },
        Kind {
            name: "stuck",
            takes: &[
                STUCK_KEYS,
                STUCK_ON_SQL_KEYS,
                STUCK_ON_REDIS_KEYS,
                STUCK_ON_PROMETHEUS_KEYS,
            ],
        },
        Kind {
            name: "jump",
            takes: &[JUMP_KEYS],
        },
        Kind {
            name: "error_class",
            takes: &[ERROR_CLASS_KEYS],
        },
        Kind {
            name: "slow_query",
            takes: &[SLOW_QUERY_KEYS],
        },
        Kind {
            name: "alertmanager",
            takes: &[ALERTMANAGER_KEYS],
        },
        Kind {
            name: "http",
            takes: &[HTTP_KEYS],
        },
        Kind {
            name: "certificate",
            takes: &[CERTIFICATE_KEYS],
        },
    ],
};

/// How long an `http` watch's endpoint must keep failing before it pages, unless `for` says.
const HTTP_DEFAULT_FOR: Duration = Duration::from_secs(180);

/// Ping tokens are capabilities in a URL: they must not be guessable.
const MIN_TOKEN_LEN: usize = 16;

impl Validator<'_> {
    pub(super) fn watch(
        &mut self,
        name: &Spanned<String>,
        raw: &RawWatch,
        written: &WrittenKeys,
        engine: &EngineConfig,
        sources: &BTreeMap<String, SourceKind>,
        channels: &[String],
    ) -> Option<WatchSpec> {
        let name_ok = self.name_ok(name, "watch");
        let kind = *raw.kind.get_ref();
        let kind_name = kind.name();
        self.refuse_inapplicable(written, &WATCHES, kind_name);
        if let Some(list) = &raw.channels {
            for channel in list.get_ref() {
                if !channels.contains(channel.get_ref()) {
                    self.error(channel.span(), format!("channel `{}` is not defined: add a [channels.{}] section or remove it here", channel.get_ref(), channel.get_ref()));
                }
            }
        }
        for value in [&raw.interval, &raw.timeout].into_iter().flatten() {
            if value.get_ref().0.is_zero() {
                self.error(value.span(), "must be longer than zero");
            }
        }
        let missing = |v: &mut Self, key: &str, example: &str| {
            v.error(
                raw.kind.span(),
                format!(
                    "{kind_name} watch `{}` needs {key} = {example}",
                    name.get_ref()
                ),
            );
        };
        let spec_kind = match kind {
            WatchKind::Heartbeat => self.heartbeat(raw, &missing)?,
            WatchKind::Stuck => self.stuck(raw, written, sources, &missing)?,
            WatchKind::Jump => self.jump(raw, sources, &missing)?,
            WatchKind::ErrorClass => self.error_class(raw, sources, &missing)?,
            WatchKind::SlowQuery => self.slow_query(raw, sources, &missing)?,
            WatchKind::Alertmanager => self.alertmanager(raw)?,
            WatchKind::Certificate => self.certificate(raw, &missing)?,
            WatchKind::Http => {
                self.http(raw, dur(&raw.timeout).unwrap_or(engine.timeout), &missing)?
            }
            WatchKind::Threshold => {
                let source = self.source_of(
                    raw,
                    sources,
                    kind_name,
                    &[SourceKind::Prometheus, SourceKind::Loki],
                    &missing,
                );
                let Some(query) = &raw.query else {
                    missing(
                        self,
                        "query",
                        "\"<PromQL, or a LogQL metric query, returning the broken series>\"",
                    );
                    return None;
                };
                let (source, _) = source?;
                WatchSpecKind::Threshold(ThresholdSpec {
                    source,
                    query: query.get_ref().clone(),
                })
            }
            WatchKind::NewError => {
                let feed =
                    self.log_feed(raw, sources, kind_name, "/var/log/app/*.log", &missing)?;
                if let Some(min_count) = &raw.min_count
                    && *min_count.get_ref() == 0
                {
                    self.error(min_count.span(), "min_count must be at least 1");
                }
                WatchSpecKind::NewError(NewErrorSpec {
                    feed,
                    format: raw
                        .format
                        .as_ref()
                        .map_or(LogFormat::Plain, |f| *f.get_ref()),
                    min_count: raw.min_count.as_ref().map_or(3, |c| *c.get_ref()),
                    window: dur(&raw.window).unwrap_or(Duration::from_secs(600)),
                    learn_for: dur(&raw.learn_for).unwrap_or(Duration::from_secs(3600)),
                    patterns: raw
                        .patterns
                        .as_ref()
                        .map(|p| p.get_ref().clone())
                        .unwrap_or_default(),
                })
            }
            WatchKind::Freshness => {
                let Some(max_age) = dur(&raw.max_age) else {
                    missing(self, "max_age", "\"26h\"");
                    return None;
                };
                let target = match (&raw.path, &raw.query) {
                    (Some(path), None) => {
                        if let Some(source) = &raw.source {
                            self.error(source.span(), "a freshness watch on files takes `path` only; `source` is for `query`");
                        }
                        let pattern = self.expanded(path)?;
                        if let Err(error) = glob::Pattern::new(&pattern) {
                            self.error(path.span(), format!("invalid glob pattern: {error}"));
                        }
                        FreshnessTarget::Files { pattern }
                    }
                    (None, Some(query)) => FreshnessTarget::Query {
                        source: self.prometheus_ref(raw, sources, kind_name, &missing)?,
                        query: query.get_ref().clone(),
                    },
                    (Some(path), Some(_)) => {
                        self.error(path.span(), "give either `path` (newest matching file) or `query` (PromQL timestamps), not both");
                        return None;
                    }
                    (None, None) => {
                        missing(
                            self,
                            "path",
                            "\"/var/backups/*.sql.gz\" (or source + query)",
                        );
                        return None;
                    }
                };
                WatchSpecKind::Freshness(FreshnessSpec { target, max_age })
            }
        };
        if !name_ok {
            return None;
        }
        let description = raw
            .description
            .as_ref()
            .map(|d| d.get_ref().clone())
            .unwrap_or_else(|| name.get_ref().replace(['-', '_'], " "));
        Some(WatchSpec {
            name: name.get_ref().clone(),
            description,
            severity: raw
                .severity
                .as_ref()
                .map(|s| *s.get_ref())
                .unwrap_or_default(),
            interval: dur(&raw.interval).unwrap_or(engine.interval),
            timeout: dur(&raw.timeout).unwrap_or(engine.timeout),
            // One failed probe is a blip; an endpoint that stays down for minutes is not.
            for_: dur(&raw.for_).unwrap_or(if kind == WatchKind::Http {
                HTTP_DEFAULT_FOR
            } else {
                Duration::ZERO
            }),
            keep_firing_for: dur(&raw.keep_firing_for).unwrap_or(Duration::ZERO),
            renotify: dur(&raw.renotify),
            notify_resolved: raw.notify_resolved.as_ref().is_some_and(|v| *v.get_ref()),
            channels: raw
                .channels
                .as_ref()
                .map(|list| list.get_ref().iter().map(|c| c.get_ref().clone()).collect()),
            kind: spec_kind,
        })
    }

    /// The watch's `source`, which must be a Prometheus-compatible endpoint.
    pub(super) fn prometheus_ref(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<String> {
        self.source_of(raw, sources, kind_name, &[SourceKind::Prometheus], missing)
            .map(|(name, _)| name)
    }

    pub(super) fn heartbeat(
        &mut self,
        raw: &RawWatch,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let Some(token) = &raw.token else {
            missing(self, "token", "\"<a UUID; `sentinel init` makes one>\"");
            return None;
        };
        let token_text = self.expanded(token)?;
        if token_text.len() < MIN_TOKEN_LEN
            || !token_text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.error(token.span(), format!("ping tokens must be unguessable: at least {MIN_TOKEN_LEN} letters, digits, - or _ (a UUID works)"));
        }
        let schedule = match (&raw.period, &raw.schedule) {
            (Some(period), None) => {
                if let Some(tz) = &raw.tz {
                    self.error(
                        tz.span(),
                        "`tz` applies only to a cron `schedule`, not to `period`",
                    );
                }
                if period.get_ref().0.is_zero() {
                    self.error(period.span(), "period must be longer than zero");
                }
                Schedule::Period(period.get_ref().0)
            }
            (None, Some(schedule)) => {
                let tz = match &raw.tz {
                    Some(tz) => match chrono_tz::Tz::from_str(tz.get_ref()) {
                        Ok(tz) => tz,
                        Err(_) => {
                            self.error(tz.span(), format!("unknown time zone {:?}: expected an IANA name like \"Europe/Berlin\" or \"UTC\"", tz.get_ref()));
                            chrono_tz::UTC
                        }
                    },
                    None => chrono_tz::UTC,
                };
                let fields = schedule.get_ref().split_whitespace().count();
                let parsed = if fields == 5 {
                    croner::Cron::from_str(schedule.get_ref()).map_err(|e| e.to_string())
                } else {
                    Err(format!(
                        "expected 5 fields (minute hour day-of-month month day-of-week), found {fields}"
                    ))
                };
                match parsed {
                    Ok(expression) => Schedule::Cron {
                        expression: Box::new(expression),
                        text: schedule.get_ref().clone(),
                        tz,
                    },
                    Err(reason) => {
                        self.error(schedule.span(), format!("invalid cron expression {:?}: {reason}; example: \"0 3 * * *\" for 03:00 daily", schedule.get_ref()));
                        return None;
                    }
                }
            }
            (Some(period), Some(_)) => {
                self.error(
                    period.span(),
                    "give either `period` or a cron `schedule`, not both",
                );
                return None;
            }
            (None, None) => {
                missing(self, "period", "\"1d\" (or schedule = \"0 3 * * *\")");
                return None;
            }
        };
        Some(WatchSpecKind::Heartbeat(HeartbeatSpec {
            token: token_text,
            schedule,
            grace: dur(&raw.grace).unwrap_or(Duration::from_secs(3600)),
        }))
    }
}

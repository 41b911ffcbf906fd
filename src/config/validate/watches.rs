//! Validation of `[watches.NAME]`: the settings every watch shares, the table of the keys each
//! kind takes (each kind lists its own in its folder, `src/watch/<kind>/`, where it is
//! validated), and the dispatch to each kind's validation.

use super::applicable::{Kind, Section};
use super::{Validator, dur};
use crate::config::raw::{RawWatch, SourceKind, WatchKind, WrittenKeys};
use crate::config::*;
use crate::watch::alertmanager::validate::ALERTMANAGER_KEYS;
use crate::watch::certificate::validate::CERTIFICATE_KEYS;
use crate::watch::error_class::validate::ERROR_CLASS_KEYS;
use crate::watch::freshness::validate::FRESHNESS_KEYS;
use crate::watch::heartbeat::validate::HEARTBEAT_KEYS;
use crate::watch::http::validate::HTTP_KEYS;
use crate::watch::jump::validate::JUMP_KEYS;
use crate::watch::new_error::validate::NEW_ERROR_KEYS;
use crate::watch::slow_query::validate::SLOW_QUERY_KEYS;
use crate::watch::stuck::validate::{
    STUCK_KEYS, STUCK_ON_PROMETHEUS_KEYS, STUCK_ON_REDIS_KEYS, STUCK_ON_SQL_KEYS,
};
use crate::watch::threshold::validate::THRESHOLD_KEYS;
use std::collections::BTreeMap;
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
            WatchKind::Threshold => self.threshold(raw, sources, kind_name, &missing)?,
            WatchKind::NewError => self.new_error(raw, sources, kind_name, &missing)?,
            WatchKind::Freshness => self.freshness(raw, sources, kind_name, &missing)?,
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
    pub(crate) fn prometheus_ref(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<String> {
        self.source_of(raw, sources, kind_name, &[SourceKind::Prometheus], missing)
            .map(|(name, _)| name)
    }
}

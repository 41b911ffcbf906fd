//! Watches: one expectation each about the world, read from sources. A watch only observes;
//! it never decides who hears about it (that is the tracker's job) and never writes to what
//! it watches.

pub mod alertmanager;
pub mod error_class;
pub mod freshness;
pub mod heartbeat;
pub mod http;
pub mod jump;
pub mod jump_detector;
pub mod log_feed;
pub mod new_error;
pub mod observation;
pub mod slow_query;
pub mod slow_query_core;
pub mod sql_values;
pub mod stuck;
pub mod threshold;

use crate::config::{WatchSpec, WatchSpecKind};
use crate::source::prometheus::PrometheusSource;
use crate::store::Store;
use chrono::{DateTime, Utc};
use observation::Evaluation;
use std::collections::BTreeMap;

/// The read-only connections every watch may use, by configured name.
#[derive(Clone, Default, Debug)]
pub struct Sources {
    pub prometheus: BTreeMap<String, PrometheusSource>,
    pub sql: BTreeMap<String, crate::source::sql::database::SqlSource>,
    pub redis: BTreeMap<String, std::sync::Arc<crate::source::redis::RedisSource>>,
    pub loki: BTreeMap<String, std::sync::Arc<crate::source::loki::LokiSource>>,
    pub journald: BTreeMap<String, std::sync::Arc<crate::source::journald::JournaldSource>>,
    /// Simulated statement statistics standing in for a SQL source (the demo), by source name.
    pub simulated_statements: BTreeMap<String, std::sync::Arc<dyn slow_query::SimulatedStatements>>,
    /// One HTTP client per `http` watch, by watch name.
    pub http: BTreeMap<String, std::sync::Arc<crate::source::http::HttpSource>>,
}

impl Sources {
    pub fn prometheus(&self, name: &str) -> Result<&PrometheusSource, crate::source::SourceError> {
        self.prometheus
            .get(name)
            .ok_or_else(|| not_configured(name))
    }

    pub fn loki(
        &self,
        name: &str,
    ) -> Result<&crate::source::loki::LokiSource, crate::source::SourceError> {
        self.loki
            .get(name)
            .map(|source| source.as_ref())
            .ok_or_else(|| not_configured(name))
    }
}

/// The moment `back` before `now`; the Unix epoch when that is out of range.
pub(crate) fn time_before(now: DateTime<Utc>, back: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(back)
        .ok()
        .and_then(|back| now.checked_sub_signed(back))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// The blindness of a watch whose source is not in the configuration.
pub(crate) fn not_configured(name: &str) -> crate::source::SourceError {
    crate::source::SourceError::new(
        name,
        crate::source::SourceErrorKind::Unreachable,
        "source is not configured",
    )
}

/// What a watch may look at while it evaluates.
pub struct WatchContext<'a> {
    pub store: &'a Store,
    pub sources: &'a Sources,
    /// What stateful watches carry from one evaluation to the next.
    pub states: &'a WatchStates,
    pub now: DateTime<Utc>,
}

/// Per-watch memory that lives between evaluations (a tail position, a template miner).
#[derive(Default)]
pub struct WatchStates {
    new_error: StateMap<new_error::State>,
    slow_query: StateMap<slow_query::State>,
    error_class: StateMap<error_class::State>,
}

/// The memory of every watch of one kind, by watch name; each behind its own lock, so one
/// watch's evaluation never waits for another's.
struct StateMap<T>(
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<T>>>>,
);

impl<T> Default for StateMap<T> {
    fn default() -> Self {
        Self(std::sync::Mutex::default())
    }
}

impl<T: Default> StateMap<T> {
    fn of(
        &self,
        watch: &str,
    ) -> Result<std::sync::Arc<tokio::sync::Mutex<T>>, crate::source::SourceError> {
        let unavailable = || {
            crate::source::SourceError::new(
                watch,
                crate::source::SourceErrorKind::BadResponse,
                "watch state unavailable",
            )
        };
        let mut map = self.0.lock().map_err(|_| unavailable())?;
        Ok(map.entry(watch.to_string()).or_default().clone())
    }
}

/// Runs one evaluation of a watch.
pub async fn evaluate(spec: &WatchSpec, ctx: &WatchContext<'_>) -> Evaluation {
    let states = ctx.states;
    match &spec.kind {
        WatchSpecKind::Heartbeat(heartbeat) => heartbeat::evaluate(spec, heartbeat, ctx).await,
        WatchSpecKind::Freshness(freshness) => freshness::evaluate(spec, freshness, ctx).await,
        WatchSpecKind::Threshold(threshold) => threshold::evaluate(spec, threshold, ctx).await,
        WatchSpecKind::Stuck(stuck) => stuck::evaluate(spec, stuck, ctx).await,
        WatchSpecKind::Jump(jump) => jump::evaluate(spec, jump, ctx).await,
        WatchSpecKind::Alertmanager(_) => alertmanager::evaluate(spec, ctx).await,
        WatchSpecKind::Http(http) => http::evaluate(spec, http, ctx).await,
        WatchSpecKind::ErrorClass(error_class) => match states.error_class.of(&spec.name) {
            Ok(state) => {
                error_class::evaluate(spec, error_class, ctx, &mut *state.lock().await).await
            }
            Err(error) => Evaluation::Blind(error),
        },
        WatchSpecKind::SlowQuery(slow_query) => match states.slow_query.of(&spec.name) {
            Ok(state) => {
                slow_query::evaluate(spec, slow_query, ctx, &mut *state.lock().await).await
            }
            Err(error) => Evaluation::Blind(error),
        },
        WatchSpecKind::NewError(new_error) => match states.new_error.of(&spec.name) {
            Ok(state) => new_error::evaluate(spec, new_error, ctx, &mut *state.lock().await).await,
            Err(error) => Evaluation::Blind(error),
        },
    }
}

/// The name of the source a watch depends on, for blindness alerts.
pub fn source_label(spec: &WatchSpec) -> Option<String> {
    match &spec.kind {
        WatchSpecKind::Freshness(crate::config::FreshnessSpec {
            target: crate::config::FreshnessTarget::Files { pattern },
            ..
        }) => Some(crate::source::files::source_name(pattern)),
        WatchSpecKind::NewError(new_error) => Some(new_error.feed.source_label()),
        WatchSpecKind::ErrorClass(error_class) => Some(error_class.access_log.source_label()),
        _ => spec.source_name().map(str::to_string),
    }
}

/// Formats a value for a page: integers without decimals, others with up to 3 significant decimals.
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::format_value;

    #[test]
    fn values_are_short() {
        assert_eq!(format_value(97.0), "97");
        assert_eq!(format_value(0.0312), "0.031");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(f64::NAN), "NaN");
    }
}

//! Watches: one expectation each about the world, read from sources. A watch only observes;
//! it never decides who hears about it (that is the tracker's job) and never writes to what
//! it watches.

pub(crate) mod alertmanager;
pub(crate) mod certificate;
pub mod error_class;
pub(crate) mod freshness;
pub(crate) mod heartbeat;
pub(crate) mod http;
pub mod jump;
pub(crate) mod kind;
pub(crate) mod log_feed;
pub(crate) mod memory;
pub(crate) mod new_error;
pub mod observation;
pub mod slow_query;
pub(crate) mod stuck;
pub(crate) mod threshold;

use crate::config::WatchSpec;
pub use crate::source::registry::Sources;
use crate::store::Store;
use chrono::{DateTime, Utc};
use observation::Evaluation;

/// The moment `back` before `now`; the Unix epoch when that is out of range.
pub(crate) fn time_before(now: DateTime<Utc>, back: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(back)
        .ok()
        .and_then(|back| now.checked_sub_signed(back))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// What a watch may look at while it evaluates.
pub struct WatchContext<'a> {
    pub store: &'a Store,
    pub sources: &'a Sources,
    /// What stateful watches carry from one evaluation to the next.
    pub states: &'a WatchStates,
    pub now: DateTime<Utc>,
}

/// Per-watch memory that lives between evaluations (a tail position, a template miner), by
/// watch name; each behind its own lock, so one watch's evaluation never waits for another's.
/// Each kind keeps its own type of state here.
#[derive(Default)]
pub struct WatchStates(
    std::sync::Mutex<
        std::collections::HashMap<String, std::sync::Arc<dyn std::any::Any + Send + Sync>>,
    >,
);

impl WatchStates {
    /// The state of the watch `watch`, locked for one evaluation; a new one on first use.
    pub(crate) async fn of<T: Default + Send + 'static>(
        &self,
        watch: &str,
    ) -> Result<tokio::sync::OwnedMutexGuard<T>, crate::source::SourceError> {
        let unavailable = || {
            crate::source::SourceError::new(
                watch,
                crate::source::SourceErrorKind::BadResponse,
                "watch state unavailable",
            )
        };
        let state = {
            let mut map = self.0.lock().map_err(|_| unavailable())?;
            map.entry(watch.to_string())
                .or_insert_with(|| std::sync::Arc::new(tokio::sync::Mutex::new(T::default())))
                .clone()
        };
        let state = state
            .downcast::<tokio::sync::Mutex<T>>()
            .map_err(|_| unavailable())?;
        Ok(state.lock_owned().await)
    }
}

/// Runs one evaluation of a watch.
pub async fn evaluate(spec: &WatchSpec, ctx: &WatchContext<'_>) -> Evaluation {
    spec.kind.watch().evaluate(spec, ctx).await
}

/// The name of the source a watch depends on, for blindness alerts.
pub fn source_label(spec: &WatchSpec) -> Option<String> {
    spec.kind.watch().blind_label()
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

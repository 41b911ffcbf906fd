//! Whether the metric sources hold the start of the period at all. Prometheus answers a query
//! about a moment older than its retention (or before it started) with no series, which a
//! threshold would read as all clear: such a start is reported as a gap instead.

use chrono::{DateTime, Utc};

use crate::config::{Config, SourceSpecKind};
use crate::source::logfile::replay::ReplayNote;
use crate::source::registry::Sources;

/// Any series at all, as of a moment.
const ANY_SERIES: &str = "count({__name__=~\".+\"})";

/// A gap note for every replayed watch whose Prometheus holds nothing at `from`.
pub(super) async fn gaps(
    replayed: &Config,
    sources: &Sources,
    from: DateTime<Utc>,
) -> Vec<ReplayNote> {
    let mut notes = Vec::new();
    for source in &replayed.sources {
        if !matches!(source.kind, SourceSpecKind::Prometheus { .. }) {
            continue;
        }
        let watches: Vec<&str> = replayed
            .watches
            .iter()
            .filter(|w| w.source_name() == Some(source.name.as_str()))
            .map(|w| w.name.as_str())
            .collect();
        if watches.is_empty() {
            continue;
        }
        let Ok(readings) = sources.readings(&source.name) else {
            continue;
        };
        let empty = match readings.readings(ANY_SERIES, from).await {
            Ok(series) => series.is_empty(),
            // Unreachable now: each evaluation will say so as blindness.
            Err(_) => false,
        };
        if empty {
            for watch in watches {
                notes.push(ReplayNote {
                    watch: watch.to_string(),
                    gap: true,
                    note: format!(
                        "Prometheus `{}` holds no samples at {} (older than its retention, or before it started): what the replay shows before its oldest sample is not an all-clear",
                        source.name,
                        from.format("%Y-%m-%d %H:%M UTC")
                    ),
                });
            }
        }
    }
    notes
}

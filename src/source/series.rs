//! Numbers over time, whatever source holds them. A watch that judges numbers asks for a
//! capability, not for a kind of source: [`ReadingSource`] answers "what is every series' value
//! now" (PromQL, a LogQL metric query), [`SeriesSource`] answers "every series' points over
//! this range" (the same two, and a SQL query returning `time` and `value` columns, optionally
//! `subject`, one point per row).

use super::loki::LokiSource;
use super::prometheus::{PrometheusSource, Series, subject_of};
use super::sql::database::SqlSource;
use super::sql::values::{blindness, parse_number, parse_time};
use super::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;
use std::time::Duration;

/// Points of one series, `(unix seconds, value)`, oldest first.
pub(crate) type Points = Vec<(i64, f64)>;

/// Every series a range query returned, by subject (its labels, see [`subject_of`]).
pub(crate) type SeriesBySubject = BTreeMap<String, Points>;

/// The points of `subject`; for the empty subject (a watch of one series), the only series
/// there is, whatever its labels. Empty when there is none.
pub(crate) fn points_of(found: &SeriesBySubject, subject: &str) -> Points {
    found
        .get(subject)
        .cloned()
        .or_else(|| match found.len() {
            1 if subject.is_empty() => found.values().next().cloned(),
            _ => None,
        })
        .unwrap_or_default()
}

/// A source that answers with the value of every series at one moment.
pub trait ReadingSource: Send + Sync {
    /// Every series `query` returns at `at`, with its labels and value.
    fn readings<'a>(
        &'a self,
        query: &'a str,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Series>, SourceError>>;
}

/// A source that answers with the points of every series over a range.
pub trait SeriesSource: Send + Sync {
    /// Every series `query` returns between `start` and `end`, a point every `step` where the
    /// source computes points itself.
    fn series<'a>(
        &'a self,
        query: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> BoxFuture<'a, Result<SeriesBySubject, SourceError>>;

    /// Whether each point is a bucket that fills as time passes (the newest one is usually
    /// still filling), rather than a value the source computed at that instant.
    fn buckets_fill(&self) -> bool {
        false
    }
}

impl ReadingSource for PrometheusSource {
    fn readings<'a>(
        &'a self,
        query: &'a str,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Series>, SourceError>> {
        Box::pin(self.instant(query, at.timestamp()))
    }
}

impl SeriesSource for PrometheusSource {
    fn series<'a>(
        &'a self,
        query: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> BoxFuture<'a, Result<SeriesBySubject, SourceError>> {
        Box::pin(async move {
            let found = self
                .range(
                    query,
                    start.timestamp(),
                    end.timestamp(),
                    step.as_secs_f64(),
                )
                .await?;
            Ok(found
                .into_iter()
                .map(|(labels, samples)| {
                    let points = samples.into_iter().map(|(t, v)| (t as i64, v)).collect();
                    (subject_of(&labels), points)
                })
                .collect())
        })
    }
}

impl ReadingSource for LokiSource {
    fn readings<'a>(
        &'a self,
        query: &'a str,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<Series>, SourceError>> {
        Box::pin(async move {
            match self.query(query, at).await?.latest_values() {
                Some(values) => Ok(values
                    .into_iter()
                    .map(|(labels, value)| Series { labels, value })
                    .collect()),
                // A log query (lines, not numbers) is the watch's mistake.
                None => Err(SourceError::new(
                    self.name(),
                    SourceErrorKind::QueryRejected,
                    "a threshold on Loki needs a metric query that returns numbers, such as \
                     sum by (app) (count_over_time({app=\"shop\"} |= \"timeout\" [5m])) > 10; \
                     this one returns log lines",
                )),
            }
        })
    }
}

impl SeriesSource for LokiSource {
    fn series<'a>(
        &'a self,
        query: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> BoxFuture<'a, Result<SeriesBySubject, SourceError>> {
        Box::pin(async move {
            let found = self.metric_range(query, start, end, step).await?;
            Ok(found
                .into_iter()
                .map(|series| {
                    let points = series
                        .samples
                        .into_iter()
                        .map(|(at, value)| (at.timestamp(), value))
                        .collect();
                    (subject_of(&series.labels), points)
                })
                .collect())
        })
    }
}

impl SeriesSource for SqlSource {
    fn buckets_fill(&self) -> bool {
        true
    }

    /// The rows of `query` whose `time` falls within `[start, end]`, one point each, grouped
    /// by the `subject` column when there is one. The query itself decides the buckets (`step`
    /// is for sources that compute points themselves).
    fn series<'a>(
        &'a self,
        query: &'a str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        _step: Duration,
    ) -> BoxFuture<'a, Result<SeriesBySubject, SourceError>> {
        Box::pin(async move {
            let result = self
                .query(query)
                .await
                .map_err(|error| blindness(self.name(), error))?;
            let position = |name: &str| {
                result
                    .columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name))
            };
            let (Some(time), Some(value)) = (position("time"), position("value")) else {
                return Err(SourceError::new(
                    self.name(),
                    SourceErrorKind::QueryRejected,
                    format!(
                        "a jump query must return columns named `time` and `value` (and optionally `subject`); it returned: {}",
                        result.columns.join(", ")
                    ),
                ));
            };
            let subject = position("subject");
            let mut series = SeriesBySubject::new();
            for row in &result.rows {
                let at = row
                    .get(time)
                    .and_then(|c| c.as_deref())
                    .and_then(parse_time);
                let number = parse_number(row.get(value).and_then(|c| c.as_deref()));
                let (Some(at), Some(number)) = (at, number) else {
                    continue;
                };
                if at.timestamp() < start.timestamp() || at > end {
                    continue;
                }
                let name = subject
                    .and_then(|i| row.get(i).cloned().flatten())
                    .unwrap_or_default();
                series
                    .entry(name)
                    .or_default()
                    .push((at.timestamp(), number));
            }
            for points in series.values_mut() {
                points.sort_by_key(|(t, _)| *t);
            }
            Ok(series)
        })
    }
}

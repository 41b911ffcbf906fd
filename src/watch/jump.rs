//! `jump`: a series (spend, signups, e-mails sent, errors) departs from its own recent baseline.
//! The points come from a Prometheus range query (every series judged on its own) or from a SQL
//! query returning `time` and `value` columns (and optionally `subject`); the judging is the
//! robust detector in [`super::jump_detector`]. How long a jump must last is the tracker's `for`.

use super::jump_detector::JumpDetector;
use super::observation::{Evaluation, Observation};
use super::sql_values::{blindness, parse_number, parse_time};
use super::{WatchContext, format_value};
use crate::config::{JumpSpec, WatchSpec};
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Points of one subject, oldest first.
type Points = Vec<(i64, f64)>;

pub async fn evaluate(spec: &WatchSpec, jump: &JumpSpec, ctx: &WatchContext<'_>) -> Evaluation {
    let series = if jump.sql {
        sql_series(jump, ctx).await
    } else {
        prometheus_series(jump, ctx).await
    };
    match series {
        Ok(series) => Evaluation::Complete(judge(spec, jump, &series, ctx.now)),
        Err(error) => Evaluation::Blind(error),
    }
}

async fn prometheus_series(
    jump: &JumpSpec,
    ctx: &WatchContext<'_>,
) -> Result<BTreeMap<String, Points>, SourceError> {
    let prometheus = ctx.sources.prometheus(&jump.source)?;
    let end = ctx.now.timestamp();
    let start = end - i64::try_from(jump.lookback.as_secs()).unwrap_or(i64::MAX / 2);
    let found = prometheus
        .range(&jump.query, start, end, jump.step.as_secs_f64())
        .await?;
    Ok(found
        .into_iter()
        .map(|(labels, samples)| {
            let subject = crate::source::prometheus::Series { labels, value: 0.0 }.subject();
            let points = samples.into_iter().map(|(t, v)| (t as i64, v)).collect();
            (subject, points)
        })
        .collect())
}

async fn sql_series(
    jump: &JumpSpec,
    ctx: &WatchContext<'_>,
) -> Result<BTreeMap<String, Points>, SourceError> {
    let database = ctx.sources.sql.get(&jump.source).ok_or_else(|| {
        SourceError::new(
            &jump.source,
            SourceErrorKind::Unreachable,
            "source is not configured",
        )
    })?;
    let result = database
        .query(&jump.query)
        .await
        .map_err(|error| blindness(&jump.source, error))?;
    let position = |name: &str| {
        result
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    };
    let (Some(time), Some(value)) = (position("time"), position("value")) else {
        return Err(SourceError::new(
            &jump.source,
            SourceErrorKind::QueryRejected,
            format!(
                "a jump query must return columns named `time` and `value` (and optionally `subject`); it returned: {}",
                result.columns.join(", ")
            ),
        ));
    };
    let subject = position("subject");
    let since = ctx.now.timestamp() - i64::try_from(jump.lookback.as_secs()).unwrap_or(0);
    let mut series: BTreeMap<String, Points> = BTreeMap::new();
    for row in &result.rows {
        let at = row
            .get(time)
            .and_then(|c| c.as_deref())
            .and_then(parse_time);
        let number = parse_number(row.get(value).and_then(|c| c.as_deref()));
        let (Some(at), Some(number)) = (at, number) else {
            continue;
        };
        if at.timestamp() < since || at > ctx.now {
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
}

/// One observation per series: broken when its latest point is a jump.
pub fn judge(
    spec: &WatchSpec,
    jump: &JumpSpec,
    series: &BTreeMap<String, Points>,
    now: DateTime<Utc>,
) -> Vec<Observation> {
    let mut detector = JumpDetector::new(jump.detector.clone());
    let stale_after = now.timestamp() - 2 * i64::try_from(jump.step.as_secs()).unwrap_or(0);
    series
        .iter()
        .map(|(subject, points)| {
            // A series that stopped reporting is not judged on its last old point.
            let fresh = points.last().is_some_and(|(t, _)| *t >= stale_after);
            match detector.judge_latest(points) {
                Ok(verdict) if verdict.is_jump && fresh => {
                    let name = if subject.is_empty() {
                        spec.description.clone()
                    } else {
                        format!("{} {subject}", spec.description)
                    };
                    Observation::broken(subject.clone(), verdict.describe(&name))
                        .with_fact(format!(
                            "usual {} (spread {}), now {}",
                            format_value(verdict.baseline_median),
                            format_value(verdict.baseline_mad),
                            format_value(verdict.value)
                        ))
                        .with_fact(format!("query: {}", jump.query))
                        .with_value(verdict.value)
                }
                _ => Observation::held(subject.clone()),
            }
        })
        .collect()
}

//! `jump`: a series (spend, signups, e-mails sent, errors) departs from its own recent baseline.
//! The points come from a Prometheus range query or a LogQL metric range query on Loki (every
//! series judged on its own), or from a SQL query returning `time` and `value` columns (and
//! optionally `subject`); the judging is the
//! robust detector in [`super::jump::detector`]. How long a jump must last is the tracker's `for`.

pub mod detector;
mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::jump::detector::JumpDetector;
use super::kind::Watch;
use super::observation::{Evaluation, Observation};
use super::{WatchContext, format_value};
use crate::config::{JumpSpec, WatchSpec};
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;

use crate::source::series::Points;

pub async fn evaluate(spec: &WatchSpec, jump: &JumpSpec, ctx: &WatchContext<'_>) -> Evaluation {
    let series = match ctx.sources.series(&jump.source) {
        Ok(source) => {
            let start = super::time_before(ctx.now, jump.lookback);
            let filling = source.buckets_fill();
            (source.series(&jump.query, start, ctx.now, jump.step).await).map(|s| (s, filling))
        }
        Err(error) => Err(error),
    };
    match series {
        Ok((series, filling)) => Evaluation::Complete(judge(spec, jump, &series, filling, ctx.now)),
        Err(error) => Evaluation::Blind(error),
    }
}

/// One observation per series: broken when its latest point is a jump.
///
/// A series whose points are buckets (`buckets_fill`, SQL's: each row's `time` is the start of
/// a bucket `step` long) usually has its newest bucket still filling. Its value so far only ever grows, so it can prove an
/// upward jump (already above the usual: a jump whatever comes next) but never a downward one
/// (every bucket starts low). When it proves nothing, the last complete bucket is judged.
pub fn judge(
    spec: &WatchSpec,
    jump: &JumpSpec,
    series: &BTreeMap<String, Points>,
    buckets_fill: bool,
    now: DateTime<Utc>,
) -> Vec<Observation> {
    let mut detector = JumpDetector::new(jump.detector.clone());
    let step = i64::try_from(jump.step.as_secs()).unwrap_or(i64::MAX / 4);
    let stale_after = now.timestamp() - 2 * step;
    series
        .iter()
        .map(|(subject, points)| {
            let open_since = points
                .last()
                .map(|(t, _)| *t)
                .filter(|t| buckets_fill && t.saturating_add(step) > now.timestamp());
            let (judged, partial) = match open_since {
                Some(since) => match detector.judge_latest(points) {
                    Ok(verdict) if verdict.is_jump && verdict.change_abs > 0.0 => {
                        (Some(verdict), Some(since))
                    }
                    _ => (
                        detector.judge_latest(&points[..points.len() - 1]).ok(),
                        None,
                    ),
                },
                None => (detector.judge_latest(points).ok(), None),
            };
            // A series that stopped reporting is not judged on its last old point.
            let fresh = points.last().is_some_and(|(t, _)| *t >= stale_after);
            match judged {
                Some(verdict) if verdict.is_jump && fresh => {
                    let name = if subject.is_empty() {
                        spec.description.clone()
                    } else {
                        format!("{} {subject}", spec.description)
                    };
                    let mut observation =
                        Observation::broken(subject.clone(), verdict.describe(&name));
                    if let Some(since) = partial {
                        observation = observation.with_fact(open_bucket_fact(
                            since,
                            step,
                            verdict.value,
                            now,
                        ));
                    }
                    observation
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

/// "so far: 5m into the 1h from 11:00 UTC, on pace for 72.90", for a bucket still filling.
fn open_bucket_fact(since: i64, step: i64, value: f64, now: DateTime<Utc>) -> String {
    let elapsed = (now.timestamp() - since).clamp(1, step.max(1));
    let pace = value * step as f64 / elapsed as f64;
    let from = DateTime::<Utc>::from_timestamp(since, 0)
        .map(|t| t.format("%H:%M UTC").to_string())
        .unwrap_or_default();
    format!(
        "so far: {} into the {} from {from}, on pace for {}",
        crate::humanize::duration_secs(elapsed),
        crate::humanize::duration_secs(step),
        format_value(pace)
    )
}

impl Watch for JumpSpec {
    /// A range ending at the replayed moment: Prometheus and Loki compute it as of then; a
    /// SQL query's buckets are kept up to then (its own `WHERE` must reach back that far).
    fn replay(&self, _sources: &[crate::config::SourceSpec]) -> super::kind::Replay {
        super::kind::Replay::Supported
    }

    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(evaluate(spec, self, ctx))
    }

    fn source_name(&self) -> Option<&str> {
        Some(&self.source)
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn describe(&self, hold: &str) -> String {
        format!(
            "departures from the usual (median of the last {}){hold}",
            crate::humanize::duration(self.lookback)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Severity;
    use crate::config::WatchSpecKind;
    use crate::watch::jump::detector::{BaselineWindow, Direction, JumpConfig};
    use std::time::Duration;

    const HOUR: i64 = 3600;

    /// A watch judging series from SQL (`sql`: buckets that fill) or not.
    fn spec(sql: bool, direction: Direction) -> (WatchSpec, JumpSpec, bool) {
        let jump = JumpSpec {
            source: "app".into(),
            query: "SELECT hour AS time, sum(cost) AS value FROM spend GROUP BY 1".into(),
            step: Duration::from_secs(3600),
            lookback: Duration::from_secs(49 * 3600),
            detector: JumpConfig {
                window: BaselineWindow::Seconds(48 * HOUR),
                direction,
                min_abs_change: 1.0,
                ..JumpConfig::default()
            },
        };
        let watch = WatchSpec {
            name: "spend".into(),
            description: "Spend per hour".into(),
            severity: Severity::Warning,
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            for_: Duration::ZERO,
            keep_firing_for: Duration::ZERO,
            renotify: None,
            notify_resolved: false,
            channels: None,
            kind: WatchSpecKind::Jump(jump.clone()),
        };
        (watch, jump, sql)
    }

    /// Two days of hourly buckets worth about 10 (a little noise), the newest `last` complete
    /// bucket values, then the bucket now open holding `so_far`, `into` seconds after it began.
    fn series(last: &[f64], so_far: f64, into: i64) -> (BTreeMap<String, Points>, DateTime<Utc>) {
        let open = 1_790_000_000 / HOUR * HOUR;
        let complete = 48 + last.len() as i64;
        let mut points: Points = (0..48)
            .map(|i| (open - (complete - i) * HOUR, 10.0 + (i % 3) as f64 * 0.1))
            .collect();
        for (i, value) in last.iter().enumerate() {
            points.push((open - (last.len() - i) as i64 * HOUR, *value));
        }
        points.push((open, so_far));
        let now = DateTime::<Utc>::from_timestamp(open + into, 0).unwrap();
        (BTreeMap::from([(String::new(), points)]), now)
    }

    fn broken(observations: &[Observation]) -> Option<&Observation> {
        observations
            .iter()
            .find(|o| o.health == crate::watch::observation::Health::Broken)
    }

    proptest::proptest! {
        #[test]
        fn an_ordinary_hour_still_filling_never_pages(
            so_far in 0.0f64..10.2,
            into in 1i64..3600,
            last in 9.8f64..10.3,
        ) {
            let (watch, jump, filling) = spec(true, Direction::Both);
            let (points, now) = series(&[last], so_far, into);
            let judged = judge(&watch, &jump, &points, filling, now);
            proptest::prop_assert!(broken(&judged).is_none(), "{:?}", judged);
        }
    }

    #[test]
    fn a_bucket_still_filling_is_no_drop() {
        // Five minutes into the hour only 0.8 is spent: every hour starts like this.
        let (watch, jump, filling) = spec(true, Direction::Both);
        let (points, now) = series(&[10.1], 0.8, 300);
        let judged = judge(&watch, &jump, &points, filling, now);
        assert!(broken(&judged).is_none(), "{judged:?}");
    }

    #[test]
    fn a_bucket_already_far_above_usual_pages_with_its_pace() {
        let (watch, jump, filling) = spec(true, Direction::Up);
        let (points, now) = series(&[10.0], 25.0, 300);
        let judged = judge(&watch, &jump, &points, filling, now);
        let page = broken(&judged).expect("25 in five minutes is a jump already");
        assert!(page.title.contains("25.00 is 2.5x its usual"), "{page:?}");
        let facts = page.facts.join("\n");
        assert!(facts.contains("so far: 5m into the 1h"), "{facts}");
        assert!(facts.contains("on pace for 300"), "{facts}");
    }

    #[test]
    fn a_drop_shows_in_the_last_complete_bucket() {
        let (watch, jump, filling) = spec(true, Direction::Both);
        let (points, now) = series(&[0.0], 0.0, 300);
        let judged = judge(&watch, &jump, &points, filling, now);
        let page = broken(&judged).expect("a whole hour at 0 is a drop");
        assert!(
            page.title.contains("0.00 is 100% below its usual"),
            "{page:?}"
        );
        assert!(!page.facts.join("\n").contains("so far"), "{page:?}");
    }

    #[test]
    fn prometheus_points_are_judged_as_they_are() {
        // A range query's points are whole readings, not buckets: the newest one counts.
        let (watch, jump, filling) = spec(false, Direction::Both);
        let (points, now) = series(&[10.1], 0.8, 300);
        let judged = judge(&watch, &jump, &points, filling, now);
        assert!(broken(&judged).is_some(), "{judged:?}");
    }

    #[test]
    fn a_series_that_stopped_reporting_is_not_judged() {
        let (watch, jump, filling) = spec(true, Direction::Both);
        let (points, open_now) = series(&[10.0], 90.0, 300);
        let later = open_now + chrono::Duration::hours(3);
        assert!(broken(&judge(&watch, &jump, &points, filling, open_now)).is_some());
        assert!(broken(&judge(&watch, &jump, &points, filling, later)).is_none());
    }
}

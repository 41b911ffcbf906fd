//! `threshold`: a query that returns exactly the broken things, PromQL on Prometheus or a LogQL
//! metric query on Loki (`sum by (app) (count_over_time({app="shop"} |= "timeout" [5m])) > 10`).
//! Every series it returns is a broken subject named by its labels; a series that disappears
//! has healed.

use super::observation::{Evaluation, Observation};
use super::{WatchContext, format_value};
use crate::config::{ThresholdSpec, WatchSpec};
use crate::source::prometheus::Series;
use crate::source::{SourceError, SourceErrorKind};

pub async fn evaluate(
    spec: &WatchSpec,
    threshold: &ThresholdSpec,
    ctx: &WatchContext<'_>,
) -> Evaluation {
    let series = if threshold.loki {
        loki_series(threshold, ctx).await
    } else {
        match ctx.sources.prometheus(&threshold.source) {
            Ok(prometheus) => {
                prometheus
                    .instant(&threshold.query, ctx.now.timestamp())
                    .await
            }
            Err(error) => Err(error),
        }
    };
    match series {
        Ok(series) => Evaluation::Complete(judge(&spec.description, &threshold.query, &series)),
        Err(error) => Evaluation::Blind(error),
    }
}

/// The series of a LogQL metric query at `ctx.now`. A log query (lines, not numbers) is the
/// watch's mistake, reported as a rejected query.
async fn loki_series(
    threshold: &ThresholdSpec,
    ctx: &WatchContext<'_>,
) -> Result<Vec<Series>, SourceError> {
    let loki = ctx.sources.loki(&threshold.source)?;
    let values = loki.query(&threshold.query, ctx.now).await?.latest_values();
    match values {
        Some(values) => Ok(values
            .into_iter()
            .map(|(labels, value)| Series { labels, value })
            .collect()),
        None => Err(SourceError::new(
            &threshold.source,
            SourceErrorKind::QueryRejected,
            "a threshold on Loki needs a metric query that returns numbers, such as \
             sum by (app) (count_over_time({app=\"shop\"} |= \"timeout\" [5m])) > 10; \
             this one returns log lines",
        )),
    }
}

/// One broken observation per returned series.
pub fn judge(description: &str, query: &str, series: &[Series]) -> Vec<Observation> {
    series
        .iter()
        .map(|s| {
            let subject = s.subject();
            let title = if subject.is_empty() {
                format!("{description}: {}", format_value(s.value))
            } else {
                format!("{description} on {subject}: {}", format_value(s.value))
            };
            Observation::broken(subject, title)
                .with_fact(format!("query: {query}"))
                .with_value(s.value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::observation::Health;

    #[test]
    fn every_series_is_a_broken_subject_named_by_its_labels() {
        let series = vec![
            Series {
                labels: [("mount".to_string(), "/var".to_string())]
                    .into_iter()
                    .collect(),
                value: 0.031,
            },
            Series {
                labels: [("mount".to_string(), "/".to_string())]
                    .into_iter()
                    .collect(),
                value: 0.01,
            },
        ];
        let seen = judge("Disk space", "free < 0.05", &series);
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|o| o.health == Health::Broken));
        assert_eq!(seen[0].subject, "{mount=\"/var\"}");
        assert_eq!(seen[0].title, "Disk space on {mount=\"/var\"}: 0.031");
        assert!(judge("x", "q", &[]).is_empty());
    }
}

//! `threshold`: a query that returns exactly the broken things, PromQL on Prometheus or a LogQL
//! metric query on Loki (`sum by (app) (count_over_time({app="shop"} |= "timeout" [5m])) > 10`).
//! Every series it returns is a broken subject named by its labels; a series that disappears
//! has healed.

mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::kind::Watch;
use super::observation::{Evaluation, Observation};
use super::{WatchContext, format_value};
use crate::config::{ThresholdSpec, WatchSpec};
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::source::prometheus::Series;
use futures_util::future::BoxFuture;

pub(crate) async fn evaluate(
    spec: &WatchSpec,
    threshold: &ThresholdSpec,
    ctx: &WatchContext<'_>,
) -> Evaluation {
    let series = match ctx.sources.readings(&threshold.source) {
        Ok(readings) => readings.readings(&threshold.query, ctx.now).await,
        Err(error) => Err(error),
    };
    match series {
        Ok(series) => Evaluation::Complete(judge(&spec.description, &threshold.query, &series)),
        Err(error) => Evaluation::Blind(error),
    }
}

/// One broken observation per returned series.
pub(crate) fn judge(description: &str, query: &str, series: &[Series]) -> Vec<Observation> {
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

impl Watch for ThresholdSpec {
    /// Prometheus answers an instant query as of any moment it holds.
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

    fn describe(&self, hold: &str) -> String {
        format!("threshold {}{hold}", self.query)
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }
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

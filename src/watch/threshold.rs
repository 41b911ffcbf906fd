//! `threshold`: a PromQL expression that returns exactly the broken things. Every series it
//! returns is a broken subject named by its labels; a series that disappears has healed.

use super::observation::{Evaluation, Observation};
use super::{WatchContext, format_value};
use crate::config::{ThresholdSpec, WatchSpec};
use crate::source::prometheus::Series;

pub async fn evaluate(
    spec: &WatchSpec,
    threshold: &ThresholdSpec,
    ctx: &WatchContext<'_>,
) -> Evaluation {
    let prometheus = match ctx.sources.prometheus(&threshold.source) {
        Ok(p) => p,
        Err(error) => return Evaluation::Blind(error),
    };
    match prometheus
        .instant(&threshold.query, ctx.now.timestamp())
        .await
    {
        Ok(series) => Evaluation::Complete(judge(&spec.description, &threshold.query, &series)),
        Err(error) => Evaluation::Blind(error),
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

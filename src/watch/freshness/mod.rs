//! `freshness`: something must have happened recently: the newest file matching a glob (a
//! backups folder), or a timestamp a PromQL query returns, must be younger than `max_age`.

mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::WatchContext;
use super::kind::{Watch, WatchedFiles};
use super::observation::{Evaluation, Observation};
use crate::config::{FreshnessSpec, FreshnessTarget, WatchSpec};
use crate::humanize;
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::source::files;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

pub(crate) async fn evaluate(
    spec: &WatchSpec,
    freshness: &FreshnessSpec,
    ctx: &WatchContext<'_>,
) -> Evaluation {
    match &freshness.target {
        FreshnessTarget::Files { pattern } => {
            let pattern_owned = pattern.clone();
            let found = tokio::task::spawn_blocking(move || files::newest(&pattern_owned)).await;
            match found {
                Ok(Ok(newest)) => Evaluation::Complete(vec![judge_file(
                    &spec.description,
                    pattern,
                    freshness,
                    newest.as_ref(),
                    ctx.now,
                )]),
                Ok(Err(error)) => Evaluation::Blind(error),
                Err(join) => Evaluation::Blind(crate::source::SourceError::new(
                    &files::source_name(pattern),
                    crate::source::SourceErrorKind::BadResponse,
                    join.to_string(),
                )),
            }
        }
        FreshnessTarget::Query { source, query } => {
            let readings = match ctx.sources.readings(source) {
                Ok(readings) => readings,
                Err(error) => return Evaluation::Blind(error),
            };
            match readings.readings(query, ctx.now).await {
                Ok(series) => {
                    let stamps: Vec<(String, f64)> =
                        series.iter().map(|s| (s.subject(), s.value)).collect();
                    Evaluation::Complete(judge_timestamps(
                        &spec.description,
                        freshness,
                        &stamps,
                        ctx.now,
                    ))
                }
                Err(error) => Evaluation::Blind(error),
            }
        }
    }
}

fn age_words(age_seconds: i64, freshness: &FreshnessSpec) -> String {
    format!(
        "{} old (limit {})",
        humanize::duration_secs(age_seconds),
        humanize::duration(freshness.max_age)
    )
}

/// Judges the newest file of a glob.
pub(crate) fn judge_file(
    description: &str,
    pattern: &str,
    freshness: &FreshnessSpec,
    newest: Option<&files::NewestFile>,
    now: DateTime<Utc>,
) -> Observation {
    let Some(newest) = newest else {
        return Observation::broken("", format!("{description}: no file matches {pattern}"));
    };
    let age = (now - newest.modified).num_seconds();
    let max = i64::try_from(freshness.max_age.as_secs()).unwrap_or(i64::MAX);
    if age <= max {
        return Observation::held("").with_value(age as f64);
    }
    Observation::broken(
        "",
        format!(
            "{description} is stale: newest file is {}",
            age_words(age, freshness)
        ),
    )
    .with_fact(format!(
        "{} modified {}",
        newest.path.display(),
        humanize::moment(newest.modified, now, &Utc)
    ))
    .with_value(age as f64)
}

/// Judges PromQL-returned Unix timestamps, one per subject. No series at all is itself a break:
/// the thing never reported.
pub(crate) fn judge_timestamps(
    description: &str,
    freshness: &FreshnessSpec,
    stamps: &[(String, f64)],
    now: DateTime<Utc>,
) -> Vec<Observation> {
    if stamps.is_empty() {
        return vec![
            Observation::broken(
                "",
                format!("{description}: the query returned no timestamp"),
            )
            .with_fact("the metric is absent: it never reported, or stopped being exported"),
        ];
    }
    let max = i64::try_from(freshness.max_age.as_secs()).unwrap_or(i64::MAX);
    let mut observations: Vec<Observation> = stamps
        .iter()
        .map(|(subject, stamp)| {
            if !stamp.is_finite() {
                return Observation::broken(
                    subject.clone(),
                    format!("{description}: timestamp is {stamp}"),
                );
            }
            let age = now.timestamp() - *stamp as i64;
            if age <= max {
                Observation::held(subject.clone()).with_value(age as f64)
            } else {
                let at = DateTime::from_timestamp(*stamp as i64, 0).unwrap_or_default();
                let what = if subject.is_empty() {
                    description.to_string()
                } else {
                    format!("{description} on {subject}")
                };
                Observation::broken(
                    subject.clone(),
                    format!(
                        "{what} is stale: last at {}, {}",
                        humanize::moment(at, now, &Utc),
                        age_words(age, freshness)
                    ),
                )
                .with_value(age as f64)
            }
        })
        .collect();
    // The "no timestamp" alert (subject "") heals once timestamps come back, unless "" is
    // itself a real subject (an aggregate without labels).
    if stamps.iter().all(|(subject, _)| !subject.is_empty()) {
        observations.push(Observation::held(""));
    }
    observations
}

impl Watch for FreshnessSpec {
    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(evaluate(spec, self, ctx))
    }

    fn source_name(&self) -> Option<&str> {
        match &self.target {
            FreshnessTarget::Query { source, .. } => Some(source),
            FreshnessTarget::Files { .. } => None,
        }
    }

    fn blind_label(&self) -> Option<String> {
        match &self.target {
            FreshnessTarget::Files { pattern } => Some(files::source_name(pattern)),
            FreshnessTarget::Query { source, .. } => Some(source.clone()),
        }
    }

    fn describe(&self, hold: &str) -> String {
        format!(
            "newest file younger than {}{hold}",
            crate::humanize::duration(self.max_age)
        )
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn files(&self) -> Vec<WatchedFiles<'_>> {
        match &self.target {
            FreshnessTarget::Files { pattern } => vec![WatchedFiles::Folder(pattern)],
            FreshnessTarget::Query { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::observation::Health;
    use std::time::Duration;

    fn spec(hours: u64) -> FreshnessSpec {
        FreshnessSpec {
            target: FreshnessTarget::Files {
                pattern: "/b/*.gz".into(),
            },
            max_age: Duration::from_secs(hours * 3600),
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_file_older_than_max_age_is_stale_and_a_young_one_holds() {
        let file = files::NewestFile {
            path: "/b/app.sql.gz".into(),
            modified: at(0),
            matched: 3,
        };
        assert_eq!(
            judge_file("Backup", "/b/*.gz", &spec(26), Some(&file), at(26 * 3600)).health,
            Health::Held
        );
        let stale = judge_file("Backup", "/b/*.gz", &spec(26), Some(&file), at(27 * 3600));
        assert_eq!(stale.health, Health::Broken);
        assert_eq!(
            stale.title,
            "Backup is stale: newest file is 1d 3h old (limit 1d 2h)"
        );
        assert_eq!(stale.value, Some(27.0 * 3600.0));
    }

    #[test]
    fn no_matching_file_is_broken() {
        let seen = judge_file("Backup", "/b/*.gz", &spec(26), None, at(0));
        assert_eq!(seen.health, Health::Broken);
        assert!(seen.title.contains("no file matches /b/*.gz"));
    }

    #[test]
    fn query_timestamps_are_judged_per_subject_and_absence_is_a_break() {
        let now = at(0);
        let stamps = vec![
            ("{db=\"a\"}".to_string(), (now.timestamp() - 3600) as f64),
            (
                "{db=\"b\"}".to_string(),
                (now.timestamp() - 30 * 3600) as f64,
            ),
        ];
        let seen = judge_timestamps("Backup", &spec(26), &stamps, now);
        let health: Vec<(&str, Health)> = seen
            .iter()
            .map(|o| (o.subject.as_str(), o.health))
            .collect();
        assert!(health.contains(&("{db=\"a\"}", Health::Held)));
        assert!(health.contains(&("{db=\"b\"}", Health::Broken)));
        assert!(
            health.contains(&("", Health::Held)),
            "absence alert heals when data returns"
        );

        let absent = judge_timestamps("Backup", &spec(26), &[], now);
        assert_eq!(absent.len(), 1);
        assert_eq!(absent[0].health, Health::Broken);
    }
}

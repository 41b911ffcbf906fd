//! The freshness playbook: the newest files of the glob with their times and sizes (or, for a
//! query of timestamps, the moments the timestamp last moved to), and what they say: something
//! new arrived since the page, nothing ever arrived, the usual arrival is overdue, or the last
//! file is much smaller than the ones before it.

use crate::config::{FreshnessSpec, FreshnessTarget, WatchSpec};
use crate::humanize;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::source::files;
use crate::watch::format_value;
use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

/// How many arrivals the evidence shows.
const ARRIVALS_SHOWN: usize = 10;
/// A newest file under this share of the usual size counts as cut short.
const SMALL_SHARE: f64 = 0.5;
/// Points a timestamp's history is read in.
const HISTORY_POINTS: i64 = 240;

/// One thing that arrived: a file, or a success a timestamp recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arrival {
    pub(crate) at: DateTime<Utc>,
    /// The file's path, or the series.
    pub(crate) what: String,
    /// The file's size in bytes; `None` for a timestamp.
    pub(crate) size: Option<u64>,
}

fn clock(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn bytes(size: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    })
}

/// The arrivals as evidence text, newest first.
fn arrivals_text(arrivals: &[Arrival], matched: Option<usize>) -> String {
    let mut text = match matched {
        Some(n) => format!("{n} files match; newest first:\n"),
        None => format!("{} distinct timestamps; newest first:\n", arrivals.len()),
    };
    if arrivals.is_empty() {
        text.push_str("none\n");
    }
    for arrival in arrivals.iter().take(ARRIVALS_SHOWN) {
        let size = arrival
            .size
            .map(|s| format!(" {}", bytes(s)))
            .unwrap_or_default();
        let _ = writeln!(text, "{}{size} {}", clock(arrival.at), arrival.what);
    }
    text
}

/// The steps that find out why nothing new arrived.
fn steps_for(target: &FreshnessTarget) -> Vec<Step> {
    match target {
        FreshnessTarget::Files { pattern } => {
            let folder = Path::new(pattern)
                .parent()
                .map(|p| p.display().to_string())
                .filter(|p| !p.is_empty() && !p.contains(['*', '?', '[']))
                .unwrap_or_else(|| ".".into());
            vec![
                Step::run(
                    "Check that the job writing these files is scheduled and ran",
                    "systemctl list-timers --all; crontab -l; grep CRON /var/log/syslog | tail -20",
                ),
                Step::run(
                    "Check the folder and the room left on its disk",
                    format!("ls -lt {folder} | head; df -h {folder}"),
                ),
            ]
        }
        FreshnessTarget::Query { source, query } => vec![
            Step::run(
                "Look at the timestamps the query returns",
                format!("sentinel query {source} '{query}'"),
            ),
            Step::say(
                "Check that the job behind the timestamp ran and that its exporter still reports it.",
            ),
        ],
    }
}

/// Judges the arrivals (newest first) against the watch's `max_age`. Pure: the playbook reads,
/// this reasons.
pub(crate) fn judge(
    finding: &mut Finding,
    description: &str,
    freshness: &FreshnessSpec,
    arrivals: Option<(&[Arrival], &str)>,
    now: DateTime<Utc>,
) {
    let limit = humanize::duration(freshness.max_age);
    let Some((arrivals, arrivals_id)) = arrivals else {
        finding.summary = format!(
            "{description}: what arrived could not be read, so whether it is still stale is unknown."
        );
        finding.verdict = Verdict::Inconclusive;
        finding.confidence = Confidence::LOW;
        finding.steps.extend(steps_for(&freshness.target));
        return;
    };
    let Some(newest) = arrivals.first() else {
        finding.summary = match &freshness.target {
            FreshnessTarget::Files { pattern } => {
                format!("{description}: no file matches {pattern} at all.")
            }
            FreshnessTarget::Query { .. } => {
                format!("{description}: the query returns no timestamp at all.")
            }
        };
        finding.hypotheses.push(Hypothesis::known(
            "Nothing has arrived: the job never wrote here, writes elsewhere, or its output was removed.",
            &[arrivals_id],
        ));
        finding.classification = Classification::OpsOrConfig;
        finding.verdict = Verdict::ActionNeeded;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.extend(steps_for(&freshness.target));
        return;
    };
    let age = (now - newest.at).num_seconds().max(0);
    let max = i64::try_from(freshness.max_age.as_secs()).unwrap_or(i64::MAX);
    if age <= max {
        finding.summary = format!(
            "{description} is fresh again: {} arrived at {} ({} old, limit {limit}).",
            newest.what,
            clock(newest.at),
            humanize::duration_secs(age)
        );
        finding.hypotheses.clear();
        finding.hypotheses.push(Hypothesis::known(
            format!("Something new arrived at {}: it healed.", clock(newest.at)),
            &[arrivals_id],
        ));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(Step::say(
            "Nothing now. If it keeps arriving late, reply to the page to ask why.",
        ));
        return;
    }
    finding.summary = format!(
        "{description}: the newest is {} from {}, {} old (limit {limit}); nothing newer arrived.",
        newest.what,
        clock(newest.at),
        humanize::duration_secs(age)
    );
    finding.hypotheses.push(Hypothesis::known(
        format!(
            "Nothing arrived after {} ({} ago).",
            clock(newest.at),
            humanize::duration_secs(age)
        ),
        &[arrivals_id],
    ));
    finding.classification = Classification::OpsOrConfig;
    finding.verdict = Verdict::ActionNeeded;
    finding.confidence = Confidence::MEDIUM;
    let mut gaps: Vec<f64> = arrivals
        .windows(2)
        .map(|pair| (pair[0].at - pair[1].at).num_seconds() as f64)
        .filter(|gap| *gap > 0.0)
        .collect();
    if gaps.len() >= 2
        && let Some(usual) = median(&mut gaps)
    {
        let due = chrono::Duration::try_seconds(usual as i64)
            .and_then(|every| newest.at.checked_add_signed(every))
            .unwrap_or(newest.at);
        let missed = ((now - newest.at).num_seconds() as f64 / usual).floor();
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "They usually arrive every {}; the next was due by {} and {} expected arrival{} did not come.",
                humanize::duration_secs(usual as i64),
                clock(due),
                format_value(missed),
                if missed == 1.0 { "" } else { "s" }
            ),
            &[arrivals_id],
        ));
        finding.summary = format!(
            "{} They usually arrive every {}.",
            finding.summary,
            humanize::duration_secs(usual as i64)
        );
    }
    let mut earlier_sizes: Vec<f64> = arrivals[1..]
        .iter()
        .filter_map(|a| a.size)
        .map(|s| s as f64)
        .collect();
    if let (Some(size), Some(usual)) = (newest.size, median(&mut earlier_sizes))
        && usual > 0.0
        && (size as f64) < SMALL_SHARE * usual
    {
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The newest file is only {} against a usual {}: the last run likely stopped part-way.",
                bytes(size),
                bytes(usual as u64)
            ),
            &[arrivals_id],
        ));
        finding.summary = format!(
            "{} The newest file is only {} (usually {}): the last run likely failed part-way.",
            finding.summary,
            bytes(size),
            bytes(usual as u64)
        );
        finding.confidence = Confidence::HIGH;
    }
    finding.hypotheses.push(Hypothesis::guessed(
        "The job that produces them stopped running (schedule, host down) or fails before it writes.",
        &[],
    ));
    finding.steps.extend(steps_for(&freshness.target));
}

/// The newest files of `pattern`, newest first, and how many match.
async fn read_files(pattern: &str) -> Result<(Vec<Arrival>, usize), String> {
    let owned = pattern.to_string();
    let found = tokio::task::spawn_blocking(move || files::newest_files(&owned, ARRIVALS_SHOWN))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())?;
    let (seen, matched) = found;
    let arrivals = seen
        .into_iter()
        .map(|file| Arrival {
            at: file.modified,
            what: file.path.display().to_string(),
            size: Some(file.size),
        })
        .collect();
    Ok((arrivals, matched))
}

/// The distinct values a timestamp series took, as arrivals, newest first.
fn timestamps_as_arrivals(subject: &str, points: &[(i64, f64)]) -> Vec<Arrival> {
    let mut stamps: Vec<i64> = points
        .iter()
        .filter(|(_, v)| v.is_finite() && *v > 0.0)
        .map(|(_, v)| *v as i64)
        .collect();
    stamps.sort_unstable_by(|a, b| b.cmp(a));
    stamps.dedup();
    stamps
        .into_iter()
        .filter_map(|stamp| DateTime::from_timestamp(stamp, 0))
        .take(ARRIVALS_SHOWN)
        .map(|at| Arrival {
            at,
            what: if subject.is_empty() {
                "the timestamp".to_string()
            } else {
                subject.to_string()
            },
            size: None,
        })
        .collect()
}

/// Reads what arrived, then judges it.
pub(crate) async fn run(
    spec: &WatchSpec,
    freshness: &FreshnessSpec,
    ctx: &PlaybookContext<'_>,
) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let read = match &freshness.target {
        FreshnessTarget::Files { pattern } => match read_files(pattern).await {
            Ok((arrivals, matched)) => {
                let id = finding.evidence.add(
                    "files",
                    None,
                    format!("the {ARRIVALS_SHOWN} newest files matching {pattern}"),
                    &arrivals_text(&arrivals, Some(matched)),
                    ctx.now,
                );
                Some((arrivals, id))
            }
            Err(error) => {
                finding
                    .gaps
                    .push(format!("the files could not be listed: {error}"));
                None
            }
        },
        FreshnessTarget::Query { source, query } => {
            read_timestamps(
                &mut finding,
                source,
                query,
                &alert.subject,
                freshness.max_age,
                ctx,
            )
            .await
        }
    };
    judge(
        &mut finding,
        &spec.description,
        freshness,
        read.as_ref()
            .map(|(arrivals, id)| (arrivals.as_slice(), id.as_str())),
        ctx.now,
    );
    finding
}

/// The timestamps the query took over a span of several `max_age`s, through the series the
/// source gives; a gap when it cannot.
async fn read_timestamps(
    finding: &mut Finding,
    source: &str,
    query: &str,
    subject: &str,
    max_age: Duration,
    ctx: &PlaybookContext<'_>,
) -> Option<(Vec<Arrival>, String)> {
    let series = match ctx.sources.series(source) {
        Ok(series) => series,
        Err(error) => {
            finding
                .gaps
                .push(format!("the timestamps could not be read: {error}"));
            return None;
        }
    };
    let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX / 8);
    let span = (max_age.saturating_mul(4)).clamp(86_400, 14 * 86_400);
    let step = (span / HISTORY_POINTS).max(15);
    let start = ctx.now - chrono::Duration::seconds(span);
    match series
        .series(
            query,
            start,
            ctx.now,
            Duration::from_secs(step.unsigned_abs()),
        )
        .await
    {
        Ok(found) => {
            let points = crate::source::series::points_of(&found, subject);
            let arrivals = timestamps_as_arrivals(subject, &points);
            let id = finding.evidence.add(
                "promql",
                Some(source),
                format!(
                    "{query} over the last {}, step {}",
                    humanize::duration_secs(span),
                    humanize::duration_secs(step)
                ),
                &arrivals_text(&arrivals, None),
                ctx.now,
            );
            Some((arrivals, id))
        }
        Err(error) => {
            finding
                .gaps
                .push(format!("the timestamps could not be read: {error}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn files_spec(hours: u64) -> FreshnessSpec {
        FreshnessSpec {
            target: FreshnessTarget::Files {
                pattern: "/backups/*.sql.gz".into(),
            },
            max_age: Duration::from_secs(hours * 3600),
        }
    }

    /// Files `hours_ago` old, newest first, with their sizes.
    fn files(list: &[(i64, u64)]) -> Vec<Arrival> {
        list.iter()
            .map(|(hours_ago, size)| Arrival {
                at: now() - chrono::Duration::hours(*hours_ago),
                what: format!("/backups/db-{hours_ago}.sql.gz"),
                size: Some(*size),
            })
            .collect()
    }

    fn judged(spec: &FreshnessSpec, arrivals: &[Arrival]) -> Finding {
        let mut finding = Finding::open("");
        let id = finding.evidence.add("files", None, "ls", "..", now());
        judge(&mut finding, "Backups", spec, Some((arrivals, &id)), now());
        finding.settle();
        finding
    }

    #[test]
    fn files_that_could_not_be_listed_leave_it_inconclusive() {
        let mut finding = Finding::open("");
        finding.hypotheses.push(Hypothesis::guessed("stale", &[]));
        finding.verdict = Verdict::ActionNeeded;
        judge(&mut finding, "Backups", &files_spec(26), None, now());
        finding.settle();
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert_eq!(finding.confidence, Confidence::LOW);
        assert!(finding.steps.iter().any(|s| s.command.is_some()));
    }

    #[test]
    fn a_daily_file_two_days_late_names_the_last_one_and_the_usual_rhythm() {
        let arrivals = files(&[(50, 900), (74, 910), (98, 905), (122, 900)]);
        let finding = judged(&files_spec(26), &arrivals);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.classification, Classification::OpsOrConfig);
        assert!(
            finding.summary.contains("/backups/db-50.sql.gz"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("2d 2h old"), "{}", finding.summary);
        assert!(
            finding.summary.contains("usually arrive every 1d"),
            "{}",
            finding.summary
        );
        let rhythm = finding
            .hypotheses
            .iter()
            .find(|h| h.statement.starts_with("They usually arrive"))
            .unwrap();
        assert!(
            rhythm.statement.contains("2 expected arrivals"),
            "{}",
            rhythm.statement
        );
        assert!(finding.steps.iter().any(|s| {
            s.command
                .as_deref()
                .is_some_and(|c| c.contains("df -h /backups"))
        }));
    }

    #[test]
    fn a_newest_file_much_smaller_than_usual_is_a_run_cut_short() {
        let arrivals = files(&[(30, 12), (54, 900_000), (78, 910_000)]);
        let finding = judged(&files_spec(26), &arrivals);
        assert!(finding.summary.contains("only 12 B"), "{}", finding.summary);
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.basis == Basis::Known && h.statement.contains("stopped part-way"))
        );
    }

    #[test]
    fn a_file_that_arrived_since_the_page_means_it_healed() {
        let arrivals = files(&[(1, 900), (27, 900)]);
        let finding = judged(&files_spec(26), &arrivals);
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
        assert!(
            finding.summary.contains("fresh again"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn no_file_at_all_is_a_job_that_never_wrote_here() {
        let finding = judged(&files_spec(26), &[]);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(
            finding
                .summary
                .contains("no file matches /backups/*.sql.gz")
        );
    }

    #[test]
    fn a_single_old_file_says_nothing_of_a_rhythm() {
        let finding = judged(&files_spec(26), &files(&[(40, 100)]));
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(!finding.summary.contains("usually"), "{}", finding.summary);
    }

    #[test]
    fn timestamps_become_their_distinct_moments_newest_first() {
        let points = [
            (10, 500.0),
            (20, 500.0),
            (30, 900.0),
            (40, 900.0),
            (50, f64::NAN),
        ];
        let arrivals = timestamps_as_arrivals("{db=\"shop\"}", &points);
        let moments: Vec<i64> = arrivals.iter().map(|a| a.at.timestamp()).collect();
        assert_eq!(moments, [900, 500]);
        assert!(arrivals.iter().all(|a| a.size.is_none()));
    }

    #[test]
    fn sizes_read_in_their_unit() {
        assert_eq!(bytes(12), "12 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GB");
    }
}

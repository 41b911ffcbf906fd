//! The jump playbook: the series over the watch's lookback, its baseline, when it departed from
//! it, and, where the query is a sum the source can split (`sum by (...) (inner)` in PromQL or
//! LogQL), the series inside the sum that moved most between the last usual point and now: the
//! jump's source.

use crate::config::{JumpSpec, WatchSpec};
use crate::humanize;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::source::prometheus::subject_of;
use crate::watch::format_value;
use crate::watch::jump::detector::{JumpDetector, JumpVerdict, NotJudged};
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// How many contributors the evidence and the report name.
const CONTRIBUTORS_SHOWN: usize = 5;
/// Share of the whole change from which one contributor is the jump's source.
const SOURCE_SHARE: f64 = 0.5;

/// What the series' points say about its latest value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Analysis {
    /// The query returned no points for the subject.
    NoPoints,
    /// The series stopped reporting at `last`.
    Stale { last: i64 },
    /// Too little history to have a baseline.
    Learning { have: usize, need: usize },
    /// The latest point is within its usual range again.
    Usual { at: i64, value: f64, median: f64 },
    /// The latest point is still far from the median, but the departure has lasted long enough
    /// to enter the baseline's range: the detector takes it for usual now.
    Shifted {
        at: i64,
        value: f64,
        median: f64,
        since: i64,
    },
    /// The latest point departs from the baseline.
    Jump {
        verdict: JumpVerdict,
        /// When the latest point was taken.
        at: i64,
        /// The first point of the departure that lasts until now.
        since: i64,
        /// The last point before the departure, when there is one.
        before: Option<(i64, f64)>,
        /// The latest point is a bucket still filling (already beyond the usual).
        open_bucket: bool,
    },
}

/// Judges the subject's points as the watch does (a bucket still filling counts only when it
/// already jumped upwards) and finds where the departure began: the earliest point of the run,
/// ending now, of points departing as far as the latest one must (same direction, the
/// detector's threshold of spreads, and at least `min_change`). Pure.
pub(crate) fn analyse(
    jump: &JumpSpec,
    points: &[(i64, f64)],
    buckets_fill: bool,
    now: DateTime<Utc>,
) -> Analysis {
    let Some(&(last_at, _)) = points.last() else {
        return Analysis::NoPoints;
    };
    let step = i64::try_from(jump.step.as_secs()).unwrap_or(i64::MAX / 4);
    if last_at < now.timestamp() - 2 * step {
        return Analysis::Stale { last: last_at };
    }
    let mut detector = JumpDetector::new(jump.detector.clone());
    let open = buckets_fill && last_at.saturating_add(step) > now.timestamp();
    let (judged, open_bucket) = match detector.judge_latest(points) {
        Ok(verdict) if open && verdict.is_jump && verdict.change_abs > 0.0 => (points, true),
        _ if open => (&points[..points.len() - 1], false),
        _ => (points, false),
    };
    let verdict = match detector.judge_latest(judged) {
        Ok(verdict) => verdict,
        Err(NotJudged::Learning { have, need }) => return Analysis::Learning { have, need },
        Err(_) => return Analysis::NoPoints,
    };
    let at = judged.last().map_or(last_at, |p| p.0);
    let spread = if verdict.score != 0.0 {
        (verdict.change_abs / verdict.score).abs()
    } else {
        0.0
    };
    let needed = (jump.detector.threshold * spread).max(jump.detector.min_abs_change);
    let departs = |value: f64| {
        let change = value - verdict.baseline_median;
        change * verdict.change_abs > 0.0 && change.abs() >= needed
    };
    let mut first = judged.len() - 1;
    while first > 0 && departs(judged[first - 1].1) {
        first -= 1;
    }
    if !verdict.is_jump {
        return if departs(verdict.value) {
            Analysis::Shifted {
                at,
                value: verdict.value,
                median: verdict.baseline_median,
                since: judged[first].0,
            }
        } else {
            Analysis::Usual {
                at,
                value: verdict.value,
                median: verdict.baseline_median,
            }
        };
    }
    Analysis::Jump {
        verdict,
        at,
        since: judged[first].0,
        before: first.checked_sub(1).map(|i| judged[i]),
        open_bucket,
    }
}

/// A sum the source can split into the series it adds up: `sum by (labels) (inner)` or
/// `sum(inner) by (labels)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sum {
    pub(crate) by: Vec<String>,
    pub(crate) inner: String,
}

/// The index of the parenthesis closing the one at `open`, skipping quoted text.
fn closing(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in text[open..].char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + at);
                }
            }
            _ => {}
        }
    }
    None
}

/// The labels of `by (a, b)` at the start of `text`, and the rest.
fn by_clause(text: &str) -> Option<(Vec<String>, &str)> {
    let rest = text.trim_start().strip_prefix("by")?.trim_start();
    if !rest.starts_with('(') {
        return None;
    }
    let end = closing(rest, 0)?;
    let labels = rest[1..end]
        .split(',')
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    Some((labels, &rest[end + 1..]))
}

/// The sum `query` is, when it is one as a whole.
pub(crate) fn split_sum(query: &str) -> Option<Sum> {
    let rest = query.trim().strip_prefix("sum")?;
    let (mut by, rest) = match by_clause(rest) {
        Some((labels, rest)) => (labels, rest.trim_start()),
        None => (Vec::new(), rest.trim_start()),
    };
    if !rest.starts_with('(') {
        return None;
    }
    let end = closing(rest, 0)?;
    let inner = rest[1..end].trim().to_string();
    let tail = rest[end + 1..].trim();
    if !tail.is_empty() {
        let (labels, after) = by_clause(tail)?;
        if !after.trim().is_empty() || !by.is_empty() {
            return None;
        }
        by = labels;
    }
    (!inner.is_empty()).then_some(Sum { by, inner })
}

/// One series inside the sum: its value at the last usual point and now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Contribution {
    pub(crate) series: String,
    pub(crate) before: f64,
    pub(crate) now: f64,
}

impl Contribution {
    fn change(&self) -> f64 {
        self.now - self.before
    }
}

/// Pairs the inner series read at two moments (a series missing at one counts as 0 there),
/// keeping those of the alert's subject (`by` labels as the subject names them).
pub(crate) fn contributions(
    by: &[String],
    subject: &str,
    before: &[crate::source::prometheus::Series],
    now: &[crate::source::prometheus::Series],
) -> Vec<Contribution> {
    let ours = |series: &crate::source::prometheus::Series| {
        by.iter().all(|label| {
            series
                .labels
                .get(label)
                .is_some_and(|value| subject.contains(&format!("{label}=\"{value}\"")))
        })
    };
    let mut paired: std::collections::BTreeMap<String, Contribution> = Default::default();
    for (series, is_now) in before
        .iter()
        .map(|s| (s, false))
        .chain(now.iter().map(|s| (s, true)))
    {
        if !ours(series) || !series.value.is_finite() {
            continue;
        }
        let name = subject_of(&series.labels);
        let entry = paired.entry(name.clone()).or_insert(Contribution {
            series: name,
            before: 0.0,
            now: 0.0,
        });
        if is_now {
            entry.now = series.value;
        } else {
            entry.before = series.value;
        }
    }
    paired.into_values().collect()
}

fn clock(at: i64) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| at.to_string())
}

fn signed(value: f64) -> String {
    if value >= 0.0 {
        format!("+{}", format_value(value))
    } else {
        format_value(value)
    }
}

/// The points as evidence text: the span and the last dozen points.
fn points_text(points: &[(i64, f64)]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return "no points".to_string();
    };
    let mut text = format!(
        "{} points from {} to {}; the last ones:\n",
        points.len(),
        clock(first.0),
        clock(last.0)
    );
    for (at, value) in &points[points.len().saturating_sub(12)..] {
        let _ = writeln!(text, "{} {}", clock(*at), format_value(*value));
    }
    text
}

/// Contributions as evidence text, largest change first.
fn contributions_text(list: &[Contribution]) -> String {
    if list.is_empty() {
        return "no series inside the sum".to_string();
    }
    let mut sorted: Vec<&Contribution> = list.iter().collect();
    sorted.sort_by(|a, b| b.change().abs().total_cmp(&a.change().abs()));
    let mut text = format!(
        "{} series; largest change first (before -> now):\n",
        list.len()
    );
    for c in sorted.iter().take(12) {
        let _ = writeln!(
            text,
            "{} {} -> {} ({})",
            c.series,
            format_value(c.before),
            format_value(c.now),
            signed(c.change())
        );
    }
    text
}

/// Judges the analysis of the series and, when the sum could be split, its contributors.
/// Pure: the playbook reads, this reasons.
pub(crate) fn judge(
    finding: &mut Finding,
    description: &str,
    subject: &str,
    analysis: &Analysis,
    series_id: &str,
    contributors: Option<(&[Contribution], &str)>,
) {
    let name = if subject.is_empty() {
        description.to_string()
    } else {
        format!("{description} {subject}")
    };
    match analysis {
        Analysis::NoPoints => {
            finding.summary =
                format!("{name}: the query returns no points for it now, so it cannot be judged.");
            finding.hypotheses.push(Hypothesis::guessed(
                "The series stopped existing (its labels changed, or nothing reports it).",
                &[series_id],
            ));
            finding.verdict = Verdict::Inconclusive;
            finding.confidence = Confidence::LOW;
        }
        Analysis::Stale { last } => {
            finding.summary = format!(
                "{name} stopped reporting at {}: whether it is still off its usual is unknown.",
                clock(*last)
            );
            finding.hypotheses.push(Hypothesis::guessed(
                "What feeds the series stopped (an exporter, a job writing the rows).",
                &[series_id],
            ));
            finding.verdict = Verdict::Inconclusive;
            finding.confidence = Confidence::LOW;
        }
        Analysis::Learning { have, need } => {
            finding.summary = format!(
                "{name}: only {have} points of history where {need} are needed for a baseline; the jump cannot be judged again."
            );
            finding.verdict = Verdict::Inconclusive;
            finding.confidence = Confidence::LOW;
        }
        Analysis::Usual { at, value, median } => {
            finding.summary = format!(
                "{name} is back to its usual: {} at {} (usual {}).",
                format_value(*value),
                clock(*at),
                format_value(*median)
            );
            finding.hypotheses.clear();
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "The latest point, {}, is within the usual range around {}: it healed.",
                    format_value(*value),
                    format_value(*median)
                ),
                &[series_id],
            ));
            finding.verdict = Verdict::NoAction;
            finding.classification = Classification::Transient;
            finding.confidence = Confidence::MEDIUM;
            finding.steps.push(Step::say(
                "Nothing now. If it keeps jumping, reply to the page to ask why.",
            ));
        }
        Analysis::Shifted {
            at,
            value,
            median,
            since,
        } => {
            finding.summary = format!(
                "{name} has stayed at a new level since {}: {} at {} against {} before; the watch now takes it for usual.",
                clock(*since),
                format_value(*value),
                clock(*at),
                format_value(*median)
            );
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "It moved from about {} to about {} at {} and stayed there for {}.",
                    format_value(*median),
                    format_value(*value),
                    clock(*since),
                    humanize::duration_secs(at - since)
                ),
                &[series_id],
            ));
            finding.hypotheses.push(Hypothesis::discarded(
                "It went back to its usual.",
                &[series_id],
            ));
            finding.verdict = Verdict::ActionSuggested;
            finding.confidence = Confidence::MEDIUM;
            finding.steps.push(Step::say(format!(
                "Decide whether the new level is expected; check what changed around {}.",
                clock(*since)
            )));
        }
        Analysis::Jump {
            verdict,
            at,
            since,
            before,
            open_bucket,
        } => {
            let lasted = humanize::duration_secs(at - since);
            let so_far = if *open_bucket {
                " (a bucket still filling)"
            } else {
                ""
            };
            finding.summary = format!(
                "{} since {}{so_far}.",
                verdict.describe(&name),
                clock(*since)
            );
            let stayed = if at > since {
                format!(" and has stayed off it for {lasted}")
            } else {
                ", with the latest point".to_string()
            };
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "It departed from its usual {} (spread {}) at {}{stayed}: {} now{so_far}.",
                    format_value(verdict.baseline_median),
                    format_value(verdict.baseline_mad),
                    clock(*since),
                    format_value(verdict.value)
                ),
                &[series_id],
            ));
            if let Some((at, value)) = before {
                finding.hypotheses.push(Hypothesis::discarded(
                    format!(
                        "It has been off its usual for long (the point at {} was still {}).",
                        clock(*at),
                        format_value(*value)
                    ),
                    &[series_id],
                ));
            }
            finding.verdict = Verdict::ActionNeeded;
            finding.confidence = Confidence::MEDIUM;
            match contributors {
                Some((list, id)) => judge_contributors(finding, verdict, list, id),
                None => finding.hypotheses.push(Hypothesis::guessed(
                    format!(
                        "Something that changed at {} caused it: a deploy, a campaign, a retry loop, a job.",
                        clock(*since)
                    ),
                    &[],
                )),
            }
            finding.steps.push(Step::say(format!(
                "Check what changed around {}: deploys, configuration, scheduled jobs, traffic.",
                clock(*since)
            )));
        }
    }
}

/// Names the series inside the sum that moved the most, in the jump's direction.
fn judge_contributors(
    finding: &mut Finding,
    verdict: &JumpVerdict,
    list: &[Contribution],
    id: &str,
) {
    let direction = verdict.change_abs.signum();
    let total: f64 = list.iter().map(Contribution::change).sum();
    let mut along: Vec<&Contribution> = list
        .iter()
        .filter(|c| c.change() * direction > 0.0)
        .collect();
    along.sort_by(|a, b| (b.change() * direction).total_cmp(&(a.change() * direction)));
    let Some(top) = along.first() else {
        finding.hypotheses.push(Hypothesis::guessed(
            "No single series inside the sum moved with the jump between the two moments read.",
            &[id],
        ));
        return;
    };
    let share = if total * direction > 0.0 {
        top.change() / total
    } else {
        1.0
    };
    let names: Vec<String> = along
        .iter()
        .take(CONTRIBUTORS_SHOWN)
        .map(|c| format!("{} ({})", c.series, signed(c.change())))
        .collect();
    if share >= SOURCE_SHARE {
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The jump comes from {}: {} -> {} ({} of {} in all, {:.0}%).",
                top.series,
                format_value(top.before),
                format_value(top.now),
                signed(top.change()),
                signed(total),
                share * 100.0
            ),
            &[id],
        ));
        finding.summary = format!("{} Its source: {}.", finding.summary, top.series);
        finding.confidence = Confidence::HIGH;
    } else {
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The jump is spread over several series, none more than {:.0}% of it: {}.",
                share * 100.0,
                names.join(", ")
            ),
            &[id],
        ));
        finding.summary = format!(
            "{} Spread over several series; the largest: {}.",
            finding.summary, top.series
        );
    }
}

/// Reads the series and, where the sum can be split, its contributors; then judges them.
pub(crate) async fn run(spec: &WatchSpec, jump: &JumpSpec, ctx: &PlaybookContext<'_>) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let subject = alert.subject.as_str();
    let source = jump.source.as_str();
    let tool = match ctx.sources.get(source).map(|s| s.kind()) {
        Ok("prometheus") => "promql",
        Ok("loki") => "logql",
        _ => "sql",
    };
    let series = match ctx.sources.series(source) {
        Ok(series) => series,
        Err(error) => {
            finding
                .gaps
                .push(format!("the series could not be read: {error}"));
            finding.verdict = Verdict::Inconclusive;
            return finding;
        }
    };
    let start = crate::watch::time_before(ctx.now, jump.lookback);
    let found = match series.series(&jump.query, start, ctx.now, jump.step).await {
        Ok(found) => found,
        Err(error) => {
            finding
                .gaps
                .push(format!("the series could not be read: {error}"));
            finding.verdict = Verdict::Inconclusive;
            return finding;
        }
    };
    let points = found.get(subject).cloned().unwrap_or_default();
    let series_id = finding.evidence.add(
        tool,
        Some(source),
        format!(
            "{} over the last {}, step {}",
            jump.query,
            humanize::duration(jump.lookback),
            humanize::duration(jump.step)
        ),
        &points_text(&points),
        ctx.now,
    );
    let analysis = analyse(jump, &points, series.buckets_fill(), ctx.now);
    let contributors = match (&analysis, split_sum(&jump.query)) {
        (Analysis::Jump { before, at, .. }, Some(sum)) => {
            read_contributors(&mut finding, source, tool, &sum, subject, *before, *at, ctx).await
        }
        (Analysis::Jump { .. }, None) => {
            finding.gaps.push(
                "The query is not a sum the source can split (`sum by (...) (...)` in PromQL or LogQL), so the series behind the jump were not read."
                    .into(),
            );
            None
        }
        _ => None,
    };
    judge(
        &mut finding,
        &spec.description,
        subject,
        &analysis,
        &series_id,
        contributors
            .as_ref()
            .map(|(list, id)| (list.as_slice(), id.as_str())),
    );
    if let Some(sum) = split_sum(&jump.query) {
        finding.steps.push(Step::run(
            "See the largest series inside the sum now",
            format!(
                "sentinel query {source} 'topk({CONTRIBUTORS_SHOWN}, {})'",
                sum.inner
            ),
        ));
    } else {
        finding.steps.push(Step::run(
            "See the series as the watch reads it",
            format!("sentinel query {source} '{}'", jump.query),
        ));
    }
    finding
}

/// The inner series of the sum at the last usual point and at the latest one.
#[allow(clippy::too_many_arguments)]
async fn read_contributors(
    finding: &mut Finding,
    source: &str,
    tool: &str,
    sum: &Sum,
    subject: &str,
    before: Option<(i64, f64)>,
    at: i64,
    ctx: &PlaybookContext<'_>,
) -> Option<(Vec<Contribution>, String)> {
    let Some((before_at, _)) = before else {
        finding.gaps.push(
            "No usual point before the jump to compare the series inside the sum with.".into(),
        );
        return None;
    };
    let readings = match ctx.sources.readings(source) {
        Ok(readings) => readings,
        Err(error) => {
            finding.gaps.push(format!(
                "the series inside the sum could not be read: {error}"
            ));
            return None;
        }
    };
    let moment = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or(ctx.now);
    let read_before = readings.readings(&sum.inner, moment(before_at)).await;
    let read_now = readings.readings(&sum.inner, moment(at)).await;
    match (read_before, read_now) {
        (Ok(earlier), Ok(latest)) => {
            let list = contributions(&sum.by, subject, &earlier, &latest);
            let id = finding.evidence.add(
                tool,
                Some(source),
                format!("{} at {} and at {}", sum.inner, clock(before_at), clock(at)),
                &contributions_text(&list),
                ctx.now,
            );
            Some((list, id))
        }
        (Err(error), _) | (_, Err(error)) => {
            finding.gaps.push(format!(
                "the series inside the sum could not be read: {error}"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;
    use crate::source::prometheus::Series;
    use crate::watch::jump::detector::{BaselineWindow, Direction, JumpConfig};
    use std::time::Duration;

    const HOUR: i64 = 3600;

    fn spec() -> JumpSpec {
        JumpSpec {
            source: "prom".into(),
            query: "sum by (app) (rate(requests_total[5m]))".into(),
            step: Duration::from_secs(3600),
            lookback: Duration::from_secs(49 * 3600),
            detector: JumpConfig {
                window: BaselineWindow::Seconds(48 * HOUR),
                direction: Direction::Both,
                min_abs_change: 1.0,
                ..JumpConfig::default()
            },
        }
    }

    /// Hourly points around 10 for two days, then `last` values, the newest at `now`.
    fn series(last: &[f64]) -> (Vec<(i64, f64)>, DateTime<Utc>) {
        let end = 1_790_000_000 / HOUR * HOUR;
        let total = 48 + last.len() as i64;
        let values: Vec<f64> = (0..48)
            .map(|i| 10.0 + (i % 3) as f64 * 0.1)
            .chain(last.iter().copied())
            .collect();
        let points = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (end - (total - 1 - i as i64) * HOUR, v))
            .collect();
        (points, DateTime::from_timestamp(end + 60, 0).unwrap())
    }

    fn judged(analysis: &Analysis, contributors: Option<&[Contribution]>) -> Finding {
        let mut finding = Finding::open("");
        let series_id = finding
            .evidence
            .add("promql", None, "range", "..", Utc::now());
        let contributors_id = contributors.map(|_| {
            finding
                .evidence
                .add("promql", None, "inner", "..", Utc::now())
        });
        judge(
            &mut finding,
            "Requests",
            "{app=\"shop\"}",
            analysis,
            &series_id,
            contributors.zip(contributors_id.as_deref()),
        );
        finding.settle();
        finding
    }

    #[test]
    fn a_level_that_stayed_up_until_the_baseline_took_it_in_is_a_shift() {
        // Three points up: within the baseline's upper tail now, so no longer a jump, but far
        // from the median all the same.
        let (points, now) = series(&[10.1, 60.0, 70.0, 65.0]);
        let analysis = analyse(&spec(), &points, false, now);
        let Analysis::Shifted { since, .. } = analysis else {
            panic!("{analysis:?}");
        };
        assert_eq!(since, points[points.len() - 3].0);
        let finding = judged(&analysis, None);
        assert_eq!(finding.verdict, Verdict::ActionSuggested);
        assert!(finding.summary.contains("new level"), "{}", finding.summary);
    }

    #[test]
    fn the_departure_starts_at_the_first_point_of_the_run_that_lasts_until_now() {
        let (points, now) = series(&[10.1, 60.0, 70.0]);
        let analysis = analyse(&spec(), &points, false, now);
        let Analysis::Jump {
            since,
            before,
            verdict,
            ..
        } = analysis
        else {
            panic!("{analysis:?}");
        };
        assert_eq!(since, points[points.len() - 2].0);
        assert_eq!(before, Some(points[points.len() - 3]));
        assert_eq!(verdict.value, 70.0);
    }

    #[test]
    fn a_series_back_to_its_usual_has_healed() {
        let (points, now) = series(&[60.0, 10.1]);
        let analysis = analyse(&spec(), &points, false, now);
        assert!(matches!(analysis, Analysis::Usual { .. }), "{analysis:?}");
        let finding = judged(&analysis, None);
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
    }

    #[test]
    fn an_open_bucket_counts_only_when_it_already_jumped_up() {
        let (points, now) = series(&[10.0, 1.0]);
        // `now` is a minute into the newest bucket: 1.0 so far is no drop.
        let analysis = analyse(&spec(), &points, true, now);
        assert!(matches!(analysis, Analysis::Usual { .. }), "{analysis:?}");
        let (points, now) = series(&[10.0, 90.0]);
        let analysis = analyse(&spec(), &points, true, now);
        assert!(
            matches!(
                analysis,
                Analysis::Jump {
                    open_bucket: true,
                    ..
                }
            ),
            "{analysis:?}"
        );
    }

    #[test]
    fn a_series_silent_for_two_steps_or_too_young_is_inconclusive() {
        let (points, now) = series(&[10.0]);
        let later = now + chrono::Duration::hours(3);
        let stale = analyse(&spec(), &points, false, later);
        assert!(matches!(stale, Analysis::Stale { .. }), "{stale:?}");
        assert_eq!(judged(&stale, None).verdict, Verdict::Inconclusive);
        let young = analyse(&spec(), &points[points.len() - 3..], false, now);
        assert!(matches!(young, Analysis::Learning { .. }), "{young:?}");
        let finding = judged(&young, None);
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert_eq!(finding.confidence, Confidence::LOW);
        assert_eq!(
            judged(&Analysis::NoPoints, None).verdict,
            Verdict::Inconclusive
        );
    }

    #[test]
    fn one_series_carrying_most_of_the_jump_is_its_source() {
        let (points, now) = series(&[10.1, 60.0, 70.0]);
        let analysis = analyse(&spec(), &points, false, now);
        let contributors = [
            Contribution {
                series: "{app=\"shop\",route=\"/checkout\"}".into(),
                before: 2.0,
                now: 58.0,
            },
            Contribution {
                series: "{app=\"shop\",route=\"/\"}".into(),
                before: 8.0,
                now: 12.0,
            },
        ];
        let finding = judged(&analysis, Some(&contributors));
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(
            finding
                .summary
                .contains("Its source: {app=\"shop\",route=\"/checkout\"}"),
            "{}",
            finding.summary
        );
        let source = finding
            .hypotheses
            .iter()
            .find(|h| h.statement.starts_with("The jump comes from"))
            .unwrap();
        assert_eq!(source.basis, Basis::Known);
        assert!(
            source.statement.contains("+56 of +60"),
            "{}",
            source.statement
        );
    }

    #[test]
    fn a_jump_spread_evenly_names_no_single_source() {
        let (points, now) = series(&[10.1, 60.0]);
        let analysis = analyse(&spec(), &points, false, now);
        let contributors: Vec<Contribution> = (0..4)
            .map(|i| Contribution {
                series: format!("{{pod=\"{i}\"}}"),
                before: 2.5,
                now: 15.0,
            })
            .collect();
        let finding = judged(&analysis, Some(&contributors));
        assert!(
            finding.summary.contains("Spread over several series"),
            "{}",
            finding.summary
        );
        assert!(
            !finding.summary.contains("Its source"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn without_contributors_the_cause_stays_a_guess() {
        let (points, now) = series(&[10.1, 60.0]);
        let analysis = analyse(&spec(), &points, false, now);
        let finding = judged(&analysis, None);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.confidence, Confidence::MEDIUM);
        assert!(finding.hypotheses.iter().any(|h| h.basis == Basis::Guessed));
    }

    #[test]
    fn sums_are_split_in_both_spellings_and_other_queries_are_not() {
        assert_eq!(
            split_sum("sum by (app, env) (rate(x{a=\")\"}[5m]))"),
            Some(Sum {
                by: vec!["app".into(), "env".into()],
                inner: "rate(x{a=\")\"}[5m])".into()
            })
        );
        assert_eq!(
            split_sum("sum(rate(x[5m])) by (app)").unwrap().by,
            vec!["app".to_string()]
        );
        assert_eq!(split_sum("sum(x)").unwrap().by, Vec::<String>::new());
        assert!(split_sum("sum(x) / sum(y)").is_none());
        assert!(split_sum("rate(x[5m])").is_none());
        assert!(split_sum("SELECT 1 AS value").is_none());
        assert!(split_sum("sum without (pod) (x)").is_none());
    }

    #[test]
    fn contributions_pair_the_two_moments_and_keep_the_subjects_series() {
        let series = |app: &str, route: &str, value: f64| Series {
            labels: [("app", app), ("route", route)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        };
        let before = [series("shop", "/a", 1.0), series("blog", "/a", 5.0)];
        let now = [
            series("shop", "/a", 2.0),
            series("shop", "/b", 7.0),
            series("blog", "/a", 50.0),
        ];
        let list = contributions(&["app".to_string()], "{app=\"shop\"}", &before, &now);
        assert_eq!(
            list,
            vec![
                Contribution {
                    series: "{app=\"shop\",route=\"/a\"}".into(),
                    before: 1.0,
                    now: 2.0
                },
                Contribution {
                    series: "{app=\"shop\",route=\"/b\"}".into(),
                    before: 0.0,
                    now: 7.0
                },
            ]
        );
    }
}

//! The threshold playbook: the broken series now and over its recent history (a range query of
//! the compared side of the query, so the values before the crossing show too), and what they
//! say: healed since the page, broken since when and getting worse or better, or hovering around
//! the bound.

use crate::config::{ThresholdSpec, WatchSpec};
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::source::prometheus::Series;
use crate::watch::format_value;
use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::time::Duration;

/// How many points the history asks for.
const HISTORY_POINTS: i64 = 60;
/// The shortest history read, in seconds.
const MIN_HISTORY: i64 = 6 * 3600;
/// The longest history read, in seconds.
const MAX_HISTORY: i64 = 7 * 86_400;
/// Separate broken stretches in the history from which the series counts as hovering around
/// its bound.
const FLAPPING_RUNS: usize = 3;

/// A comparison with a number that ends a query: `free_ratio < 0.05`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bound {
    /// The compared expression.
    pub(crate) left: String,
    pub(crate) operator: String,
    pub(crate) value: f64,
}

impl Bound {
    /// Whether `value` breaks the expectation (the comparison holds, so the query returns it).
    fn broken(&self, value: f64) -> bool {
        match self.operator.as_str() {
            "<" => value < self.value,
            "<=" => value <= self.value,
            ">" => value > self.value,
            ">=" => value >= self.value,
            "==" => value == self.value,
            "!=" => value != self.value,
            _ => false,
        }
    }

    /// +1 when larger values are worse, -1 when smaller are, 0 when neither.
    fn worse_sign(&self) -> f64 {
        match self.operator.as_str() {
            ">" | ">=" => 1.0,
            "<" | "<=" => -1.0,
            _ => 0.0,
        }
    }
}

/// The last top-level comparison of `query` with a number, when the query ends with one (`bool`
/// comparisons return every series, so they are left alone).
pub(crate) fn split_comparison(query: &str) -> Option<Bound> {
    let bytes = query.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut last: Option<(usize, usize)> = None;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if let Some(open) = quote {
            if byte == b'\\' && open != b'`' {
                at += 2;
                continue;
            }
            if byte == open {
                quote = None;
            }
            at += 1;
            continue;
        }
        match byte {
            b'"' | b'\'' | b'`' => quote = Some(byte),
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            b'<' | b'>' | b'=' | b'!' if depth == 0 => {
                let next = bytes.get(at + 1).copied();
                let width = match (byte, next) {
                    (b'<' | b'>' | b'=' | b'!', Some(b'=')) => 2,
                    (b'<' | b'>', _) => 1,
                    _ => 0,
                };
                if width > 0 {
                    last = Some((at, width));
                    at += width;
                    continue;
                }
            }
            _ => {}
        }
        at += 1;
    }
    let (at, width) = last?;
    let left = query[..at].trim();
    let right = query[at + width..].trim();
    let value: f64 = right.parse().ok()?;
    if left.is_empty() || !value.is_finite() {
        return None;
    }
    Some(Bound {
        left: left.to_string(),
        operator: query[at..at + width].to_string(),
        value,
    })
}

/// The subject's value in an instant answer; with no subject (an aggregate), the only series.
fn value_of(series: &[Series], subject: &str) -> Option<f64> {
    series
        .iter()
        .find(|s| s.subject() == subject)
        .or(match series {
            [only] if subject.is_empty() => Some(only),
            _ => None,
        })
        .map(|s| s.value)
}

/// What the query returns now for the alert's subject: its value, or `None` when it no longer
/// returns it (the expectation holds again, or the series is gone).
pub(crate) struct Now<'a> {
    pub(crate) value: Option<f64>,
    pub(crate) id: &'a str,
    /// When the query no longer returns the subject: what its compared side alone returns
    /// for it (a value within the bound, or `None` when the series stopped reporting).
    pub(crate) compared: Option<Compared<'a>>,
}

/// The compared side of the query read alone for the subject.
pub(crate) struct Compared<'a> {
    pub(crate) value: Option<f64>,
    pub(crate) id: &'a str,
}

/// The subject's recent points, `(unix seconds, value)` oldest first, `step` seconds apart.
pub(crate) struct History<'a> {
    pub(crate) points: &'a [(i64, f64)],
    pub(crate) step: i64,
    pub(crate) id: &'a str,
}

/// Stretches of consecutive broken points, as `(first, last)` indexes into `points`. Without a
/// bound every returned point is broken (the query returns only broken series) and a missing
/// step ends a stretch.
fn broken_runs(points: &[(i64, f64)], step: i64, bound: Option<&Bound>) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<usize> = None;
    for (index, (at, value)) in points.iter().enumerate() {
        let broken = bound.is_none_or(|b| b.broken(*value));
        let contiguous =
            index > 0 && at - points[index - 1].0 <= step + step / 2 && open == Some(index - 1);
        match (broken, open) {
            (true, Some(_)) if contiguous => open = Some(index),
            (true, _) => {
                if let Some(end) = open {
                    close(&mut runs, end);
                }
                runs.push((index, index));
                open = Some(index);
            }
            (false, Some(end)) => {
                close(&mut runs, end);
                open = None;
            }
            (false, None) => {}
        }
    }
    if let Some(end) = open {
        close(&mut runs, end);
    }
    runs
}

fn close(runs: &mut [(usize, usize)], end: usize) {
    if let Some(run) = runs.last_mut() {
        run.1 = end;
    }
}

fn clock(at: i64) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| at.to_string())
}

/// The history as evidence text: its span, range and a few points.
fn history_text(points: &[(i64, f64)], step: i64) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return "no points".to_string();
    };
    let min = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let mut text = format!(
        "{} points, step {}, {} to {}; min {}, max {}\n",
        points.len(),
        crate::humanize::duration_secs(step),
        clock(first.0),
        clock(last.0),
        format_value(min),
        format_value(max)
    );
    let every = (points.len() / 12).max(1);
    for (index, (at, value)) in points.iter().enumerate() {
        if index % every == 0 || index + 1 == points.len() {
            let _ = writeln!(text, "{} {}", clock(*at), format_value(*value));
        }
    }
    text
}

/// Judges the subject's value now and its history. Pure: the playbook reads, this reasons.
pub(crate) fn judge(
    finding: &mut Finding,
    spec: &ThresholdSpec,
    subject: &str,
    now_value: Option<Now<'_>>,
    history: Option<History<'_>>,
    now: DateTime<Utc>,
) {
    let bound = split_comparison(&spec.query);
    let shown = bound.as_ref().map_or(spec.query.as_str(), |b| &b.left);
    let what = if subject.is_empty() {
        "The series".to_string()
    } else {
        format!("The series {subject}")
    };
    let look = Step::run(
        "Look at the series and its recent values",
        format!("sentinel query {} '{}'", spec.source, shown),
    );
    if let Some(Now {
        value: None,
        id,
        compared,
    }) = &now_value
    {
        if let Some(Compared {
            value: None,
            id: gone,
        }) = compared
        {
            finding.summary = format!(
                "{what} stopped reporting: the query no longer returns it, and neither does {shown} alone, so whether it is still broken is unknown."
            );
            finding.hypotheses.clear();
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "Neither the query nor {shown} returns {} now: the series stopped reporting.",
                    label(subject)
                ),
                &[id, gone],
            ));
            finding.hypotheses.push(Hypothesis::guessed(
                "The exporter or the target behind the series stopped, or its labels changed.",
                &[gone],
            ));
            finding.verdict = Verdict::Inconclusive;
            finding.classification = Classification::Unknown;
            finding.confidence = Confidence::LOW;
            finding.steps.push(Step::say(
                "Check that the exporter or target behind the series is up and scraped (its `up` series, its logs): until it reports again, nothing says whether the problem is over.",
            ));
            finding.steps.push(look);
            return;
        }
        let value_words = match compared {
            Some(Compared {
                value: Some(value), ..
            }) => format!(" ({} now)", format_value(*value)),
            _ => String::new(),
        };
        let ids: Vec<&str> = [Some(*id), compared.as_ref().map(|c| c.id)]
            .into_iter()
            .flatten()
            .collect();
        finding.summary = format!(
            "{what} is back within its bound{value_words}: the query no longer returns it, so the alert resolves at the next evaluation."
        );
        finding.hypotheses.clear();
        finding.hypotheses.push(Hypothesis::known(
            format!("The query no longer returns {}: it healed.", label(subject)),
            &ids,
        ));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(Step::say(
            "Nothing now. If it keeps coming back, reply to the page to ask why.",
        ));
        return;
    }
    let Some(history) = history.filter(|h| !h.points.is_empty()) else {
        match now_value {
            Some(Now {
                value: Some(value),
                id,
                ..
            }) => {
                finding.summary = format!(
                    "{what} is still broken at {}; its history could not be read.",
                    format_value(value)
                );
                finding.hypotheses.push(Hypothesis::known(
                    format!("It is still broken now, at {}.", format_value(value)),
                    &[id],
                ));
                finding.verdict = Verdict::ActionNeeded;
                finding.confidence = Confidence::MEDIUM;
            }
            _ => {
                finding.summary =
                    format!("{what} could not be read: whether it is still broken is unknown.");
                finding.verdict = Verdict::Inconclusive;
                finding.confidence = Confidence::LOW;
            }
        }
        finding.steps.push(look);
        return;
    };
    let points = history.points;
    let step = history.step.max(1);
    let runs = broken_runs(points, step, bound.as_ref());
    let last = points[points.len() - 1];
    let fresh = last.0 >= now.timestamp() - 2 * step - 60;
    let broken_now = match &now_value {
        Some(Now { value: Some(_), .. }) => true,
        _ => fresh && runs.last().is_some_and(|run| run.1 == points.len() - 1),
    };
    let ids: Vec<&str> = [Some(history.id), now_value.as_ref().map(|n| n.id)]
        .into_iter()
        .flatten()
        .collect();
    let span = crate::humanize::duration_secs(last.0 - points[0].0);
    if !fresh && now_value.is_none() {
        finding.summary = format!(
            "{what} stopped reporting at {}: whether it is still broken is unknown.",
            clock(last.0)
        );
        finding.hypotheses.push(Hypothesis::guessed(
            "The exporter or the target behind the series stopped, or its labels changed.",
            &[history.id],
        ));
        finding.verdict = Verdict::Inconclusive;
        finding.confidence = Confidence::LOW;
        finding.steps.push(look);
        return;
    }
    if !broken_now {
        finding.summary = format!(
            "{what} was back within its bound at {} ({}).",
            clock(last.0),
            format_value(last.1)
        );
        finding.hypotheses.clear();
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The latest point, {} at {}, is within the bound.",
                format_value(last.1),
                clock(last.0)
            ),
            &[history.id],
        ));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(look);
        return;
    }
    let current = runs
        .last()
        .copied()
        .unwrap_or((points.len() - 1, points.len() - 1));
    let since = points[current.0];
    let value = match &now_value {
        Some(Now {
            value: Some(value), ..
        }) => *value,
        _ => last.1,
    };
    let bound_words = bound
        .as_ref()
        .map(|b| format!(" (bound {} {})", b.operator, format_value(b.value)))
        .unwrap_or_default();
    finding.summary = format!(
        "{what} is {}{bound_words}, broken since {}.",
        format_value(value),
        clock(since.0)
    );
    finding.hypotheses.push(Hypothesis::known(
        format!(
            "Broken since {}: {} then, {} now.",
            clock(since.0),
            format_value(since.1),
            format_value(value)
        ),
        &ids,
    ));
    finding.verdict = Verdict::ActionNeeded;
    finding.confidence = Confidence::MEDIUM;
    if runs.len() >= FLAPPING_RUNS {
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "It crossed the bound {} times in the last {span}: the bound sits within the series' ordinary range.",
                runs.len()
            ),
            &[history.id],
        ));
        finding.summary = format!(
            "{} It crossed the bound {} times in {span}: the bound or the watch's `for` is too tight for this series.",
            finding.summary,
            runs.len()
        );
        finding.verdict = Verdict::ActionSuggested;
        finding.classification = Classification::OpsOrConfig;
        finding.steps.push(look);
        finding.steps.push(Step::say(
            "If these crossings are not worth a page, move the bound or give the watch a `for` longer than a crossing lasts.",
        ));
        return;
    }
    if points.len() >= FLAPPING_RUNS * 2 {
        finding.hypotheses.push(Hypothesis::discarded(
            format!("It keeps crossing back and forth (it broke once in the last {span})."),
            &[history.id],
        ));
    }
    let hours = (last.0 - since.0) as f64 / 3600.0;
    if let Some(bound) = bound.as_ref().filter(|b| b.worse_sign() != 0.0)
        && hours > 0.0
    {
        let rate = (last.1 - since.1) / hours;
        let worsening = rate * bound.worse_sign() > 0.0;
        let rate_words = format!(
            "{}{} an hour",
            if rate >= 0.0 { "+" } else { "" },
            format_value(rate)
        );
        if worsening {
            finding.hypotheses.push(Hypothesis::known(
                format!("It is getting worse: {rate_words} since it broke."),
                &[history.id],
            ));
            finding.summary = format!("{} Getting worse: {rate_words}.", finding.summary);
        } else if rate != 0.0 {
            let back_in = ((bound.value - last.1) / rate * 3600.0).max(0.0);
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "It is recovering: {rate_words}; at this pace back within the bound in about {}.",
                    crate::humanize::duration_secs(back_in as i64)
                ),
                &[history.id],
            ));
            finding.summary = format!("{} Recovering: {rate_words}.", finding.summary);
            finding.verdict = Verdict::ActionSuggested;
        }
    }
    finding.steps.push(look);
}

fn label(subject: &str) -> String {
    if subject.is_empty() {
        "the series".to_string()
    } else {
        subject.to_string()
    }
}

/// How far back the history reaches and its step: three times the alert's age, between 6 hours
/// and 7 days, in about [`HISTORY_POINTS`] points.
fn history_window(broken_since: DateTime<Utc>, now: DateTime<Utc>) -> (i64, i64) {
    let age = (now - broken_since).num_seconds().max(0);
    let span = (age * 3).clamp(MIN_HISTORY, MAX_HISTORY);
    let step = (span / HISTORY_POINTS).max(15);
    (span, step)
}

/// Reads the series now and its history, then judges them.
pub(crate) async fn run(
    spec: &WatchSpec,
    threshold: &ThresholdSpec,
    ctx: &PlaybookContext<'_>,
) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let subject = alert.subject.as_str();
    let source = threshold.source.as_str();
    let bound = split_comparison(&threshold.query);
    let now_value = match ctx.sources.readings(source) {
        Ok(readings) => match readings.readings(&threshold.query, ctx.now).await {
            Ok(series) => {
                let mut text = format!("{} series returned\n", series.len());
                for s in series.iter().take(10) {
                    let _ = writeln!(text, "{} {}", s.subject(), format_value(s.value));
                }
                let id =
                    finding
                        .evidence
                        .add("promql", Some(source), &threshold.query, &text, ctx.now);
                Some((value_of(&series, subject), id))
            }
            Err(error) => {
                finding
                    .gaps
                    .push(format!("the query could not be read now: {error}"));
                None
            }
        },
        Err(error) => {
            finding
                .gaps
                .push(format!("the source could not be read: {error}"));
            None
        }
    };
    let compared = match (&now_value, &bound) {
        (Some((None, _)), Some(bound)) => {
            read_compared(&mut finding, source, &bound.left, subject, ctx).await
        }
        _ => None,
    };
    let history_query = bound.as_ref().map_or(threshold.query.as_str(), |b| &b.left);
    let (span, step) = history_window(alert.broken_since, ctx.now);
    let history = match ctx.sources.series(source) {
        Ok(series) => {
            let start = ctx.now - chrono::Duration::seconds(span);
            let step_duration = Duration::from_secs(step.unsigned_abs());
            match series
                .series(history_query, start, ctx.now, step_duration)
                .await
            {
                Ok(found) => {
                    let points = crate::source::series::points_of(&found, subject);
                    let text = if points.is_empty() {
                        format!(
                            "no points for {} ({} other series)",
                            label(subject),
                            found.len()
                        )
                    } else {
                        history_text(&points, step)
                    };
                    let id = finding.evidence.add(
                        "promql",
                        Some(source),
                        format!(
                            "{history_query} over the last {}, step {}",
                            crate::humanize::duration_secs(span),
                            crate::humanize::duration_secs(step)
                        ),
                        &text,
                        ctx.now,
                    );
                    Some((points, id))
                }
                Err(error) => {
                    finding
                        .gaps
                        .push(format!("the series' history could not be read: {error}"));
                    None
                }
            }
        }
        Err(error) => {
            finding
                .gaps
                .push(format!("the series' history could not be read: {error}"));
            None
        }
    };
    if now_value.is_none() && history.is_none() {
        finding.gaps.push(format!(
            "Only the alert's own facts were read for watch {}.",
            spec.name
        ));
    }
    judge(
        &mut finding,
        threshold,
        subject,
        now_value.as_ref().map(|(value, id)| Now {
            value: *value,
            id,
            compared: compared
                .as_ref()
                .map(|(value, id)| Compared { value: *value, id }),
        }),
        history
            .as_ref()
            .map(|(points, id)| History { points, step, id }),
        ctx.now,
    );
    finding
}

/// The compared side `left` of the query read alone now: the subject's value, or `None` when
/// it returns nothing for it; recorded as evidence. A read that fails is a gap.
async fn read_compared(
    finding: &mut Finding,
    source: &str,
    left: &str,
    subject: &str,
    ctx: &PlaybookContext<'_>,
) -> Option<(Option<f64>, String)> {
    let read = match ctx.sources.readings(source) {
        Ok(readings) => readings.readings(left, ctx.now).await,
        Err(error) => Err(error),
    };
    match read {
        Ok(series) => {
            let value = value_of(&series, subject);
            let text = match value {
                Some(value) => format!("{} {}", label(subject), format_value(value)),
                None => format!("no series for {} ({} others)", label(subject), series.len()),
            };
            let id = finding
                .evidence
                .add("promql", Some(source), left, &text, ctx.now);
            Some((value, id))
        }
        Err(error) => {
            finding.gaps.push(format!(
                "{left} could not be read alone, so whether the series healed or stopped reporting is not known: {error}"
            ));
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

    fn spec(query: &str) -> ThresholdSpec {
        ThresholdSpec {
            source: "prom".into(),
            query: query.into(),
        }
    }

    /// One point every 6 minutes ending now, values from `values`.
    fn points(values: &[f64]) -> Vec<(i64, f64)> {
        let end = now().timestamp();
        let n = values.len() as i64;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (end - (n - 1 - i as i64) * 360, *v))
            .collect()
    }

    fn judged(query: &str, now_value: Option<Option<f64>>, history: Option<&[f64]>) -> Finding {
        let mut finding = Finding::open("");
        let alert = finding.evidence.add("store", None, "alert", "..", now());
        finding
            .hypotheses
            .push(Hypothesis::known("still broken per the alert", &[&alert]));
        let now_id = now_value.map(|_| finding.evidence.add("promql", None, "now", "..", now()));
        let history_points = history.map(points);
        let history_id =
            history.map(|_| finding.evidence.add("promql", None, "range", "..", now()));
        judge(
            &mut finding,
            &spec(query),
            "{mount=\"/var\"}",
            now_value.zip(now_id.as_deref()).map(|(value, id)| Now {
                value,
                id,
                compared: None,
            }),
            history_points
                .as_deref()
                .zip(history_id.as_deref())
                .map(|(points, id)| History {
                    points,
                    step: 360,
                    id,
                }),
            now(),
        );
        finding.settle();
        finding
    }

    #[test]
    fn the_comparison_is_split_from_its_bound_outside_braces_and_strings() {
        let bound = split_comparison("node_free{mount!=\"/\",x=~\"a<b\"} / 2 <= 0.05").unwrap();
        assert_eq!(bound.left, "node_free{mount!=\"/\",x=~\"a<b\"} / 2");
        assert_eq!(bound.operator, "<=");
        assert_eq!(bound.value, 0.05);
        assert_eq!(
            split_comparison(
                "sum by (app) (count_over_time({app=\"shop\"} |= \"timeout\" [5m])) > 10"
            )
            .unwrap()
            .left,
            "sum by (app) (count_over_time({app=\"shop\"} |= \"timeout\" [5m]))"
        );
        assert_eq!(split_comparison("up == 0").unwrap().operator, "==");
        assert!(
            split_comparison("a > b").is_none(),
            "no number to compare with"
        );
        assert!(split_comparison("a > bool 3").is_none());
        assert!(split_comparison("rate(x[5m])").is_none());
    }

    #[test]
    fn a_series_the_query_no_longer_returns_has_healed() {
        let finding = judged("free < 0.05", Some(None), Some(&[0.03, 0.04, 0.06]));
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
        assert!(
            finding.summary.contains("back within its bound"),
            "{}",
            finding.summary
        );
    }

    /// The query returns nothing for the subject; its compared side alone returns `compared`.
    fn judged_gone(compared: Option<f64>) -> Finding {
        let mut finding = Finding::open("");
        let alert = finding.evidence.add("store", None, "alert", "..", now());
        finding
            .hypotheses
            .push(Hypothesis::known("still broken per the alert", &[&alert]));
        let now_id = finding.evidence.add("promql", None, "now", "..", now());
        let side_id = finding.evidence.add("promql", None, "left", "..", now());
        let history = points(&[350.0, 600.0, 900.0]);
        let history_id = finding.evidence.add("promql", None, "range", "..", now());
        judge(
            &mut finding,
            &spec("lag_seconds > 300"),
            "{instance=\"db-2\"}",
            Some(Now {
                value: None,
                id: &now_id,
                compared: Some(Compared {
                    value: compared,
                    id: &side_id,
                }),
            }),
            Some(History {
                points: &history,
                step: 360,
                id: &history_id,
            }),
            now(),
        );
        finding.settle();
        finding
    }

    #[test]
    fn a_series_gone_from_its_compared_side_too_stopped_reporting_and_is_not_called_healed() {
        let finding = judged_gone(None);
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert!(finding.confidence < Confidence::MEDIUM);
        assert!(
            finding.summary.contains("stopped reporting")
                && finding.summary.contains("lag_seconds alone"),
            "{}",
            finding.summary
        );
        assert!(
            !finding.summary.contains("back within"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .all(|h| !h.statement.contains("healed")),
            "{:?}",
            finding.hypotheses
        );
    }

    #[test]
    fn a_series_its_compared_side_still_reports_within_the_bound_has_healed() {
        let finding = judged_gone(Some(12.0));
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert!(
            finding.summary.contains("back within its bound (12 now)"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn a_steady_fall_below_the_bound_is_broken_since_the_crossing_and_getting_worse() {
        let values = [0.09, 0.08, 0.07, 0.06, 0.05, 0.045, 0.04, 0.035, 0.03];
        let finding = judged("free < 0.05", Some(Some(0.03)), Some(&values));
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        // The crossing is the point at 0.045 (0.05 itself is within `< 0.05`), three steps
        // before now.
        let crossing = clock(now().timestamp() - 3 * 360);
        assert!(finding.summary.contains(&crossing), "{}", finding.summary);
        assert!(
            finding.summary.contains("Getting worse"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.contains("crossing back and forth"))
        );
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.command.as_deref() == Some("sentinel query prom 'free'"))
        );
        assert!(finding.confidence >= Confidence::MEDIUM);
    }

    #[test]
    fn a_series_climbing_back_is_recovering_and_says_when_it_will_be_within_the_bound() {
        let values = [0.09, 0.01, 0.02, 0.03, 0.04];
        let finding = judged("free < 0.05", Some(Some(0.04)), Some(&values));
        assert_eq!(finding.verdict, Verdict::ActionSuggested);
        let recovering = finding
            .hypotheses
            .iter()
            .find(|h| h.statement.starts_with("It is recovering"))
            .expect("a recovery");
        // +0.01 per 6 minutes is +0.1 an hour: 0.01 to go takes 6 minutes.
        assert!(
            recovering.statement.contains("+0.1 an hour"),
            "{}",
            recovering.statement
        );
        assert!(
            recovering.statement.contains("about 6m"),
            "{}",
            recovering.statement
        );
    }

    #[test]
    fn a_series_that_keeps_crossing_is_a_bound_too_tight_for_it() {
        let values = [0.04, 0.06, 0.04, 0.06, 0.06, 0.04, 0.06, 0.04];
        let finding = judged("free < 0.05", Some(Some(0.04)), Some(&values));
        assert_eq!(finding.verdict, Verdict::ActionSuggested);
        assert_eq!(finding.classification, Classification::OpsOrConfig);
        assert!(
            finding.summary.contains("crossed the bound 4 times"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn without_a_bound_every_returned_point_is_broken_and_gaps_end_a_stretch() {
        let history = [(0, 5.0), (360, 6.0), (1080, 7.0), (1440, 8.0)];
        let runs = broken_runs(&history, 360, None);
        assert_eq!(runs, vec![(0, 1), (2, 3)]);
    }

    #[test]
    fn with_nothing_read_it_is_inconclusive_and_claims_no_certainty() {
        let finding = judged("free < 0.05", None, None);
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert_eq!(finding.confidence, Confidence::LOW);
        assert!(
            finding.summary.contains("could not be read"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn with_only_the_value_now_it_is_still_broken_but_its_course_unknown() {
        let finding = judged("free < 0.05", Some(Some(0.02)), None);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(finding.summary.contains("history could not be read"));
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.basis == Basis::Known && h.statement.contains("0.02"))
        );
    }
}

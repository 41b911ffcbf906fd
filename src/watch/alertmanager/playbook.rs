//! The alertmanager playbook: the alert as Alertmanager last sent it, the other alerts firing
//! on the same machine or service, and the history of the rule's own expression (from the
//! generator URL) on a configured Prometheus: whether the condition still holds, since when,
//! and at what value.

use super::{is_firing, subject};
use crate::config::WatchSpec;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::logs::redact::redact;
use crate::source::series::SeriesBySubject;
use crate::store::intake::IntakeAlert;
use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::time::Duration;

/// Labels that name a machine or a service: alerts sharing one are likely related.
const IDENTITY_LABELS: &[&str] = &[
    "instance",
    "host",
    "node",
    "job",
    "service",
    "namespace",
    "pod",
    "deployment",
    "app",
];

/// Related alerts listed at most.
const RELATED_SHOWN: usize = 10;

/// Series of the expression described at most.
const SERIES_SHOWN: usize = 8;

/// The range read of the rule's expression: from half an hour before the alert started (at
/// least the last hour), at most this far back.
const HISTORY_AT_MOST: chrono::Duration = chrono::Duration::hours(6);

/// Points asked for over the range (the step follows, at least [`MIN_STEP`]).
const POINTS: i64 = 60;
const MIN_STEP: i64 = 15;

/// What the rule's expression returned over the range read.
pub(crate) struct Condition<'a> {
    pub expr: &'a str,
    pub series: &'a SeriesBySubject,
    /// Seconds between points.
    pub step: i64,
    pub id: &'a str,
}

/// One series of the expression: holding now (its latest point is recent) or not, since when.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeriesState {
    pub subject: String,
    pub holds_now: bool,
    pub value: f64,
    /// Holding: the start of its unbroken run up to now; not holding: its last point.
    pub at: i64,
}

/// Each series' state at `now`: a series holds when its latest point is at most two steps
/// old (an alert expression returns a series only while its condition holds).
pub(crate) fn states(series: &SeriesBySubject, step: i64, now: i64) -> Vec<SeriesState> {
    let step = step.max(1);
    let mut states: Vec<SeriesState> = series
        .iter()
        .filter_map(|(subject, points)| {
            let (last_at, value) = *points.last()?;
            let holds_now = now - last_at <= 2 * step;
            let mut since = last_at;
            for pair in points.windows(2).rev() {
                if pair[1].0 - pair[0].0 > 2 * step {
                    break;
                }
                since = pair[0].0;
            }
            Some(SeriesState {
                subject: subject.clone(),
                holds_now,
                value,
                at: if holds_now { since } else { last_at },
            })
        })
        .collect();
    states.sort_by_key(|s| (!s.holds_now, std::cmp::Reverse(s.at)));
    states
}

fn clock(at: i64) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| at.to_string())
}

fn series_name(subject: &str) -> &str {
    if subject.is_empty() { "{}" } else { subject }
}

/// What was read besides the page's own alert.
pub(crate) struct Seen<'a> {
    /// The evidence of the page's alert.
    pub alert_id: &'a str,
    /// The alert as Alertmanager last sent it, and its evidence.
    pub stored: Option<(&'a IntakeAlert, &'a str)>,
    /// Other firing alerts sharing a machine or service label, and their evidence.
    pub related: Option<(&'a [String], &'a str)>,
    pub condition: Option<Condition<'a>>,
}

/// Judges what Alertmanager and Prometheus say about the alert. Pure: the playbook reads,
/// this reasons.
pub(crate) fn judge(finding: &mut Finding, name: &str, seen: &Seen<'_>, now: DateTime<Utc>) {
    let Some((stored, stored_id)) = seen.stored else {
        finding.gaps.push(format!(
            "Alertmanager's copy of {name} is no longer stored (resolved alerts are kept a week)."
        ));
        finding.verdict = Verdict::Inconclusive;
        return;
    };
    let firing = is_firing(stored, now);
    if !firing {
        let when = stored
            .ends_at
            .map(|at| format!(" at {}", at.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        finding.summary = format!("{name} is over: Alertmanager says it ended{when}.");
        finding.overtake(seen.alert_id, stored_id);
        finding.hypotheses.push(Hypothesis::known(
            format!("Alertmanager no longer reports {name} as firing (it ended{when})."),
            &[stored_id],
        ));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(Step::say(
            "Nothing now: the page resolves at the watch's next check.",
        ));
        return;
    }
    let since = stored
        .starts_at
        .map(|at| format!(" since {}", at.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default();
    finding.summary = format!("{name} is firing{since}.");
    finding.hypotheses.push(Hypothesis::known(
        format!("Alertmanager still reports {name} as firing{since}."),
        &[stored_id],
    ));
    finding.verdict = Verdict::ActionNeeded;
    finding.confidence = Confidence::LOW;
    if let Some(condition) = &seen.condition {
        judge_condition(finding, name, condition, seen.alert_id, now);
    }
    if let Some((related, id)) = seen.related
        && !related.is_empty()
    {
        finding.hypotheses.push(Hypothesis::guessed(
            format!(
                "It is part of a wider problem: {} other alert{} firing on the same machine or service ({}).",
                related.len(),
                if related.len() == 1 { " is" } else { "s are" },
                related.join("; ")
            ),
            &[id],
        ));
    }
    let annotation = |key: &str| {
        stored
            .annotations
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    if let Some(runbook) = annotation("runbook_url").or(annotation("runbook")) {
        finding.steps.push(Step::say(format!(
            "Follow the rule's runbook: {}",
            redact(runbook)
        )));
    }
    if let Some(condition) = &seen.condition {
        finding.steps.push(Step::run(
            "Run the rule's expression in Prometheus to see where it stands now",
            condition.expr,
        ));
    } else if !stored.generator_url.is_empty() {
        finding.steps.push(Step::say(format!(
            "See the rule in Prometheus: {}",
            redact(&stored.generator_url)
        )));
    }
}

fn judge_condition(
    finding: &mut Finding,
    name: &str,
    condition: &Condition<'_>,
    alert_id: &str,
    now: DateTime<Utc>,
) {
    let states = states(condition.series, condition.step, now.timestamp());
    let holding: Vec<&SeriesState> = states.iter().filter(|s| s.holds_now).collect();
    if let Some(first) = holding.first() {
        let others = match holding.len() {
            1 => String::new(),
            n => format!(" (and {} more series)", n - 1),
        };
        finding.summary = format!(
            "{name} is firing and its condition still holds: {} = {} since {}{others}.",
            series_name(&first.subject),
            first.value,
            clock(first.at)
        );
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The rule's condition still holds now: `{}` returns {} for {} since {}{others}.",
                condition.expr,
                first.value,
                series_name(&first.subject),
                clock(first.at)
            ),
            &[condition.id],
        ));
        finding.hypotheses.push(Hypothesis::discarded(
            "It cleared and only the resolved notification is late.",
            &[condition.id],
        ));
        finding.confidence = Confidence::MEDIUM;
    } else if let Some(last) = states.first() {
        finding.summary = format!(
            "{name}'s condition no longer holds: the rule's expression last returned {} at {}; Alertmanager's resolved notification should follow.",
            last.value,
            clock(last.at)
        );
        finding.overtake(alert_id, condition.id);
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The rule's condition cleared: `{}` returned nothing after {}.",
                condition.expr,
                clock(last.at)
            ),
            &[condition.id],
        ));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(Step::say(
            "Nothing now; if Alertmanager keeps it firing, check its resolve_timeout and that Prometheus reaches it.",
        ));
    } else {
        finding.hypotheses.push(Hypothesis::guessed(
            "The expression returned nothing over the range read: this Prometheus may not be the one that evaluates the rule, or lacks its labels.",
            &[condition.id],
        ));
        finding.verdict = Verdict::Inconclusive;
    }
}

/// The evidence text of the expression's history.
fn describe_condition(series: &SeriesBySubject, step: i64, now: i64) -> String {
    let states = states(series, step, now);
    if states.is_empty() {
        return "no series in the range".to_string();
    }
    let mut text = String::new();
    for state in states.iter().take(SERIES_SHOWN) {
        let name = series_name(&state.subject);
        let points = series.get(&state.subject).map_or(0, Vec::len);
        let plural = if points == 1 { "" } else { "s" };
        let _ = if state.holds_now {
            writeln!(
                text,
                "{name}: holds now, {} (since {}, {points} point{plural})",
                state.value,
                clock(state.at)
            )
        } else {
            writeln!(
                text,
                "{name}: cleared, last {} at {} ({points} point{plural})",
                state.value,
                clock(state.at)
            )
        };
    }
    if states.len() > SERIES_SHOWN {
        let _ = writeln!(text, "... {} more series", states.len() - SERIES_SHOWN);
    }
    text
}

fn describe_stored(alert: &IntakeAlert) -> String {
    let mut text = format!(
        "status: {}\n",
        if alert.firing { "firing" } else { "resolved" }
    );
    if let Some(at) = alert.starts_at {
        let _ = writeln!(text, "startsAt: {}", at.to_rfc3339());
    }
    if let Some(at) = alert.ends_at {
        let _ = writeln!(text, "endsAt: {}", at.to_rfc3339());
    }
    let labels: Vec<String> = alert
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let _ = writeln!(text, "labels: {}", labels.join(", "));
    for (key, value) in &alert.annotations {
        let value: String = value.chars().take(300).collect();
        let _ = writeln!(text, "{key}: {}", redact(value.trim()));
    }
    if !alert.generator_url.is_empty() {
        let _ = writeln!(text, "generatorURL: {}", redact(&alert.generator_url));
    }
    text
}

/// The other firing alerts that share a machine or service label with `alert`.
fn related(alert: &IntakeAlert, all: &[IntakeAlert], now: DateTime<Utc>) -> Vec<String> {
    let shared = |other: &IntakeAlert| {
        IDENTITY_LABELS.iter().find_map(|label| {
            let value = alert.labels.get(*label)?;
            (other.labels.get(*label) == Some(value)).then(|| format!("{label}={value}"))
        })
    };
    all.iter()
        .filter(|other| other.fingerprint != alert.fingerprint && is_firing(other, now))
        .filter_map(|other| {
            Some(format!(
                "{}, sharing {}",
                subject(&other.labels),
                shared(other)?
            ))
        })
        .take(RELATED_SHOWN)
        .collect()
}

/// The rule's expression, from a Prometheus generator URL (`/graph?g0.expr=...`).
pub(crate) fn expression(generator_url: &str) -> Option<String> {
    let url = reqwest::Url::parse(generator_url).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == "g0.expr")
        .map(|(_, expr)| expr.trim().to_string())
        .filter(|expr| !expr.is_empty())
}

/// The range read of the expression: start, end and step in seconds.
fn range(alert: &IntakeAlert, now: DateTime<Utc>) -> (DateTime<Utc>, i64) {
    let hour_ago = now - chrono::Duration::hours(1);
    let start = alert
        .starts_at
        .map(|at| at - chrono::Duration::minutes(30))
        .map_or(hour_ago, |at| at.min(hour_ago))
        .max(now - HISTORY_AT_MOST);
    let step = ((now - start).num_seconds() / POINTS).max(MIN_STEP);
    (start, step)
}

/// Reads the stored alert, its neighbours and its expression's history, then judges them.
pub(crate) async fn run(spec: &WatchSpec, ctx: &PlaybookContext<'_>) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let name = alert.subject.clone();
    let all = match ctx.store.intake_alerts(&spec.name).await {
        Ok(all) => all,
        Err(error) => {
            finding
                .gaps
                .push(format!("Alertmanager's alerts could not be read: {error}"));
            return finding;
        }
    };
    let stored = all.iter().find(|a| subject(&a.labels) == name);
    let stored_id = stored.map(|stored| {
        finding.evidence.add(
            "store",
            None,
            format!("the alert {name} as Alertmanager last sent it"),
            &describe_stored(stored),
            ctx.now,
        )
    });
    let related = stored.map(|stored| related(stored, &all, ctx.now));
    let related_id = related.as_ref().map(|related| {
        let text = if related.is_empty() {
            "none".to_string()
        } else {
            related.join("\n")
        };
        finding.evidence.add(
            "store",
            None,
            format!(
                "other firing alerts of watch {} sharing a machine or service label",
                spec.name
            ),
            &text,
            ctx.now,
        )
    });
    let mut history: Option<(String, SeriesBySubject, i64, String)> = None;
    let prometheus = ctx.sources.names_of_kind("prometheus");
    if let Some(stored) = stored {
        if prometheus.len() > 1 {
            finding.gaps.push(format!(
                "Several Prometheus sources are configured; the rule's expression was read on {} only.",
                prometheus[0]
            ));
        }
        match (expression(&stored.generator_url), prometheus.first()) {
            (None, _) => finding.gaps.push(
                "The alert's generator URL names no expression: the rule's history was not read."
                    .into(),
            ),
            (Some(_), None) => finding.gaps.push(
                "No Prometheus source is configured: the rule's expression was not read.".into(),
            ),
            (Some(expr), Some(source)) => {
                let (start, step) = range(stored, ctx.now);
                let read = match ctx.sources.series(source) {
                    Ok(series) => {
                        series
                            .series(&expr, start, ctx.now, Duration::from_secs(step as u64))
                            .await
                    }
                    Err(error) => Err(error),
                };
                match read {
                    Ok(series) => {
                        let id = finding.evidence.add(
                            "promql",
                            Some(source),
                            format!(
                                "{expr} from {} to {}, step {step}s",
                                start.format("%Y-%m-%d %H:%M:%S UTC"),
                                ctx.now.format("%Y-%m-%d %H:%M:%S UTC")
                            ),
                            &describe_condition(&series, step, ctx.now.timestamp()),
                            ctx.now,
                        );
                        history = Some((expr, series, step, id));
                    }
                    Err(error) => finding.gaps.push(format!(
                        "The rule's expression could not be read from {source}: {}",
                        error.detail
                    )),
                }
            }
        }
    }
    let alert_id = finding
        .evidence
        .items()
        .first()
        .map(|item| item.id.clone())
        .unwrap_or_default();
    let seen = Seen {
        alert_id: &alert_id,
        stored: stored.zip(stored_id.as_deref()),
        related: related.as_deref().zip(related_id.as_deref()),
        condition: history.as_ref().map(|(expr, series, step, id)| Condition {
            expr,
            series,
            step: *step,
            id,
        }),
    };
    judge(&mut finding, &name, &seen, ctx.now);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;
    use std::collections::BTreeMap;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        t("2026-11-27T10:00:00Z")
    }

    fn alert(name: &str, instance: &str) -> IntakeAlert {
        let labels: BTreeMap<String, String> = [("alertname", name), ("instance", instance)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        IntakeAlert {
            fingerprint: format!("{name}{instance}"),
            firing: true,
            labels,
            annotations: [("runbook_url".to_string(), "https://wiki/disk".to_string())]
                .into_iter()
                .collect(),
            generator_url: "http://prom:9090/graph?g0.expr=node_filesystem_avail_bytes+%2F+node_filesystem_size_bytes+%3C+0.05&g0.tab=1".into(),
            starts_at: Some(t("2026-11-27T09:00:00Z")),
            ends_at: None,
        }
    }

    /// A series with a point every minute from `from` to `to` (minutes before now).
    fn series(from: i64, to: i64, value: f64) -> Vec<(i64, f64)> {
        (to..=from)
            .rev()
            .map(|m| (now().timestamp() - m * 60, value))
            .collect()
    }

    fn judged(
        stored: Option<&IntakeAlert>,
        condition: Option<&SeriesBySubject>,
        related: &[String],
    ) -> Finding {
        let mut finding = Finding::open("");
        let alert_id = finding.evidence.add("store", None, "alerts", "..", now());
        finding.hypotheses.push(Hypothesis::known(
            "The expectation is still broken.",
            &[&alert_id],
        ));
        let stored_id = finding.evidence.add("store", None, "alert", "..", now());
        let related_id = finding.evidence.add("store", None, "related", "..", now());
        let condition_id = finding
            .evidence
            .add("promql", Some("prom"), "expr", "..", now());
        let seen = Seen {
            alert_id: &alert_id,
            stored: stored.map(|a| (a, stored_id.as_str())),
            related: Some((related, related_id.as_str())),
            condition: condition.map(|series| Condition {
                expr: "node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05",
                series,
                step: 60,
                id: &condition_id,
            }),
        };
        judge(&mut finding, "DiskFull{instance=\"db\"}", &seen, now());
        finding.settle();
        finding
    }

    #[test]
    fn the_expression_comes_from_the_generator_url() {
        assert_eq!(
            expression(&alert("DiskFull", "db").generator_url).as_deref(),
            Some("node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05")
        );
        assert_eq!(expression("http://prom:9090/graph"), None);
        assert_eq!(expression("not a url"), None);
    }

    #[test]
    fn a_series_holds_while_its_points_reach_now_and_since_its_unbroken_run() {
        let mut series_by = SeriesBySubject::new();
        let mut gappy = series(50, 40, 1.0);
        gappy.extend(series(20, 0, 2.0));
        series_by.insert("{mount=\"/var\"}".into(), gappy);
        series_by.insert("{mount=\"/\"}".into(), series(50, 30, 0.5));
        let seen = states(&series_by, 60, now().timestamp());
        assert_eq!(seen.len(), 2);
        assert!(seen[0].holds_now);
        assert_eq!(seen[0].subject, "{mount=\"/var\"}");
        assert_eq!(
            seen[0].at,
            now().timestamp() - 20 * 60,
            "since the gap closed"
        );
        assert!(!seen[1].holds_now);
        assert_eq!(seen[1].at, now().timestamp() - 30 * 60, "its last point");
    }

    #[test]
    fn a_condition_that_still_holds_needs_action_with_its_value_and_runbook() {
        let mut series_by = SeriesBySubject::new();
        series_by.insert("{mount=\"/var\"}".into(), series(60, 0, 0.03));
        let a = alert("DiskFull", "db");
        let finding = judged(Some(&a), Some(&series_by), &[]);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(
            finding.summary.contains("{mount=\"/var\"} = 0.03"),
            "{}",
            finding.summary
        );
        assert!(finding.hypotheses.iter().any(|h| !h.kept));
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.text.contains("https://wiki/disk"))
        );
        assert!(finding.confidence >= Confidence::MEDIUM);
    }

    #[test]
    fn a_condition_that_cleared_needs_nothing() {
        let mut series_by = SeriesBySubject::new();
        series_by.insert("{mount=\"/var\"}".into(), series(60, 15, 0.03));
        let a = alert("DiskFull", "db");
        let finding = judged(Some(&a), Some(&series_by), &[]);
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
        assert!(
            finding.summary.contains("no longer holds"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.contains("still broken")),
            "the page's claim is overtaken: {:?}",
            finding.hypotheses
        );
    }

    #[test]
    fn an_alert_alertmanager_ended_needs_nothing() {
        let mut a = alert("DiskFull", "db");
        a.firing = false;
        a.ends_at = Some(t("2026-11-27T09:40:00Z"));
        let finding = judged(Some(&a), None, &[]);
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert!(finding.summary.contains("09:40"), "{}", finding.summary);
    }

    #[test]
    fn an_empty_expression_or_a_missing_alert_is_inconclusive() {
        let a = alert("DiskFull", "db");
        let empty = SeriesBySubject::new();
        let finding = judged(Some(&a), Some(&empty), &[]);
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert!(finding.hypotheses.iter().any(|h| h.basis == Basis::Guessed));

        let gone = judged(None, None, &[]);
        assert_eq!(gone.verdict, Verdict::Inconclusive);
        assert!(!gone.gaps.is_empty());
    }

    #[test]
    fn alerts_on_the_same_machine_are_named_as_related() {
        let main = alert("DiskFull", "db");
        let all = vec![
            main.clone(),
            alert("HighLoad", "db"),
            alert("HighLoad", "web"),
        ];
        let found = related(&main, &all, now());
        assert_eq!(found, ["HighLoad{instance=\"db\"}, sharing instance=db"]);
        let finding = judged(Some(&main), None, &found);
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.statement.contains("1 other alert is firing"))
        );
        assert_eq!(finding.confidence, Confidence::LOW, "no condition read");
    }
}

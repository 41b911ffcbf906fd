//! What every playbook starts from, and the playbook of a kind that has none of its own.
//!
//! A playbook (`Watch::playbook`, one per kind, in the kind's folder) gathers the first
//! evidence for an investigation through the same read-only paths the watch itself reads, and
//! states what it found as hypotheses with the evidence for and against. It runs before any
//! model, and its finding stands on its own: with no model, it is the report.

use super::case::Case;
use super::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::alert::tracker::{AlertRecord, AlertState};
use crate::config::WatchSpec;
use crate::humanize;
use crate::source::registry::Sources;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::path::Path;

/// What a playbook may look at.
pub struct PlaybookContext<'a> {
    pub case: &'a Case,
    pub store: &'a Store,
    pub sources: &'a Sources,
    pub now: DateTime<Utc>,
    /// A local clone of the app's repository, when one is configured.
    pub repository: Option<&'a Path>,
}

/// One alert as evidence text.
fn describe_alert(alert: &AlertRecord, now: DateTime<Utc>) -> String {
    let mut text = String::new();
    let subject = if alert.subject.is_empty() {
        String::new()
    } else {
        format!(" [{}]", alert.subject)
    };
    let _ = writeln!(
        text,
        "{}{}: {} (incident {})",
        alert.state.as_str(),
        subject,
        alert.title,
        alert.incident
    );
    let _ = writeln!(
        text,
        "broken since {}",
        humanize::moment(alert.broken_since, now, &chrono_tz::UTC)
    );
    if let Some(at) = alert.fired_at {
        let _ = writeln!(text, "fired {}", humanize::moment(at, now, &chrono_tz::UTC));
    }
    if let Some(at) = alert.resolved_at {
        let _ = writeln!(
            text,
            "resolved {}",
            humanize::moment(at, now, &chrono_tz::UTC)
        );
    }
    for fact in &alert.facts {
        let _ = writeln!(text, "- {fact}");
    }
    if let Some(value) = alert.value {
        let _ = writeln!(text, "value {value}");
    }
    text
}

/// Records the case's alerts as the first item of evidence; its id, or `None` when the case
/// has no alert.
pub fn alert_evidence(finding: &mut Finding, ctx: &PlaybookContext<'_>) -> Option<String> {
    let case = ctx.case;
    let watch = case.watch.as_deref()?;
    if case.alerts.is_empty() {
        return None;
    }
    let text: String = case
        .alerts
        .iter()
        .map(|alert| describe_alert(alert, ctx.now))
        .collect::<Vec<_>>()
        .join("\n");
    Some(finding.evidence.add(
        "store",
        None,
        format!("alerts of watch {watch}"),
        &text,
        ctx.now,
    ))
}

/// How long the main alert was broken, when it has healed.
fn healed_after(alert: &AlertRecord) -> Option<std::time::Duration> {
    let resolved = alert.resolved_at?;
    (resolved - alert.broken_since).to_std().ok()
}

/// The finding every kind starts from: what the alert says, whether it has healed, and the
/// first steps. A kind's playbook adds its own evidence and sharpens the verdict.
pub fn from_alert(spec: Option<&WatchSpec>, ctx: &PlaybookContext<'_>) -> Finding {
    let case = ctx.case;
    let Some(alert) = case.main_alert().cloned() else {
        let mut finding = Finding::open(match &case.watch {
            Some(watch) => format!("The store holds no alert of watch {watch} to investigate."),
            None => "No page has been sent yet, so there is no alert to investigate.".to_string(),
        });
        finding.gaps.push(
            "No alert to start from: ask about a page (reply to it), or name the watch."
                .to_string(),
        );
        return finding;
    };
    let mut finding = Finding::open(alert.title.clone());
    let Some(seen) = alert_evidence(&mut finding, ctx) else {
        return finding;
    };
    let since = humanize::moment(alert.broken_since, ctx.now, &chrono_tz::UTC);
    match alert.state {
        AlertState::Resolved => {
            let lasted = healed_after(&alert)
                .map(humanize::duration)
                .unwrap_or_else(|| "a while".into());
            finding.summary = format!(
                "{} — it broke {since} and healed by itself after {lasted}.",
                alert.title
            );
            finding.hypotheses.push(Hypothesis::known(
                format!("The problem healed by itself after {lasted}."),
                &[&seen],
            ));
            finding.verdict = Verdict::NoAction;
            finding.classification = Classification::Transient;
            finding.confidence = Confidence::MEDIUM;
            finding.steps.push(Step::say(
                "Nothing now. If it keeps coming back, reply to the page to ask why.",
            ));
        }
        AlertState::Pending | AlertState::Firing => {
            finding.summary = format!("{} — broken since {since}, still broken.", alert.title);
            finding.hypotheses.push(Hypothesis::known(
                format!("The expectation is still broken: {}.", alert.title),
                &[&seen],
            ));
            finding.verdict = Verdict::ActionNeeded;
            finding.confidence = Confidence::LOW;
        }
    }
    if let Some(spec) = spec {
        finding.gaps.push(format!(
            "Only the alert's own facts were read for watch {} ({}).",
            spec.name,
            spec.kind.watch().describe("")
        ));
    }
    finding
}

/// Where every kind's playbook begins: the finding from the alert, and the open alert to dig
/// into; no alert when the finding is to be reported as it is (there is no alert, or it healed
/// and its own record says enough).
pub fn begin(ctx: &PlaybookContext<'_>) -> (Finding, Option<AlertRecord>) {
    let finding = from_alert(None, ctx);
    let open = ctx
        .case
        .main_alert()
        .filter(|alert| alert.is_open() && !finding.evidence.is_empty())
        .cloned();
    (finding, open)
}

/// The offline answer to a question about nothing in particular: what is open now.
pub async fn overview(ctx: &PlaybookContext<'_>) -> Finding {
    let mut finding = Finding::open(String::new());
    let alerts = match ctx.store.all_alerts().await {
        Ok(alerts) => alerts,
        Err(error) => {
            finding.summary = "The store could not be read.".into();
            finding.gaps.push(format!("the store: {error}"));
            return finding;
        }
    };
    let open: Vec<&AlertRecord> = alerts.iter().filter(|a| a.is_open()).collect();
    let text = if open.is_empty() {
        "no open alerts".to_string()
    } else {
        open.iter()
            .map(|alert| format!("{}: {}", alert.watch, describe_alert(alert, ctx.now)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let id = finding
        .evidence
        .add("store", None, "open alerts", &text, ctx.now);
    if open.is_empty() {
        finding.summary = "Nothing is broken right now: no watch has an open alert.".into();
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Unknown;
        finding.hypotheses.push(Hypothesis::known(
            "Every watch's expectation holds.",
            &[&id],
        ));
        finding.confidence = Confidence::MEDIUM;
    } else {
        finding.summary = format!(
            "{} open alert{}: {}.",
            open.len(),
            if open.len() == 1 { "" } else { "s" },
            open.iter()
                .map(|a| a.title.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        finding.verdict = Verdict::Inconclusive;
        finding
            .gaps
            .push("The question named no page: reply to a page to have it investigated.".into());
    }
    finding
}

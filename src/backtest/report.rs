//! What a backtest found: the pages that would have gone out, in time order, a summary per
//! watch, the watches that could not be replayed and why, what the replayed logs lacked (gaps,
//! unreadable lines), as text or JSON.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::window::Window;
use crate::alert::notice::{Notice, NoticeKind};
use crate::config::Config;
use crate::source::logfile::replay::ReplayNote;

/// One page that would have been sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageLine {
    pub at: DateTime<Utc>,
    pub watch: String,
    pub subject: String,
    pub title: String,
}

/// One watch over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct WatchSummary {
    pub watch: String,
    /// Pages sent (a grouped page counts once).
    pub pages: usize,
    /// Distinct incidents paged (subject and incident number).
    pub incidents: usize,
    /// Incidents that ended within the period.
    pub resolved: usize,
}

/// The whole backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub pages: Vec<PageLine>,
    pub watches: Vec<WatchSummary>,
    /// Watches not replayed, with the reason.
    pub skipped: Vec<(String, String)>,
    pub evaluations: usize,
    /// Evaluations whose source could not be read as of that moment (gaps in history).
    pub blind_evaluations: usize,
    /// What the replayed log files lacked, per watch: stretches they do not cover (gaps, not
    /// all-clears), lines without a readable time, lines out of order.
    pub notes: Vec<ReplayNote>,
    /// The replay beside the pages the store says were really sent, when it holds any.
    pub comparison: Option<super::compare::Comparison>,
}

pub(super) fn outcome(
    window: Window,
    replayed: &Config,
    notices: Vec<Notice>,
    skipped: Vec<(String, String)>,
    evaluations: usize,
    blind_evaluations: usize,
) -> Outcome {
    let mut summaries: BTreeMap<String, WatchSummary> = replayed
        .watches
        .iter()
        .map(|w| {
            (
                w.name.clone(),
                WatchSummary {
                    watch: w.name.clone(),
                    ..WatchSummary::default()
                },
            )
        })
        .collect();
    let mut incidents: BTreeMap<String, BTreeSet<(String, i64)>> = BTreeMap::new();
    let mut pages = Vec::new();
    for notice in &notices {
        let summary = summaries
            .entry(notice.watch.clone())
            .or_insert_with(|| WatchSummary {
                watch: notice.watch.clone(),
                ..WatchSummary::default()
            });
        match notice.kind {
            NoticeKind::Firing => {
                summary.pages += 1;
                let seen = incidents.entry(notice.watch.clone()).or_default();
                for subject in &notice.subjects {
                    seen.insert((subject.subject.clone(), subject.incident));
                }
                pages.push(PageLine {
                    at: notice.at,
                    watch: notice.watch.clone(),
                    subject: notice.subject.clone(),
                    title: notice.title.clone(),
                });
            }
            NoticeKind::Resolved => summary.resolved += notice.subjects.len().max(1),
            NoticeKind::Reminder => {}
        }
    }
    for (watch, seen) in incidents {
        if let Some(summary) = summaries.get_mut(&watch) {
            summary.incidents = seen.len();
        }
    }
    pages.sort_by(|a, b| (a.at, &a.watch).cmp(&(b.at, &b.watch)));
    Outcome {
        from: window.from,
        to: window.to,
        pages,
        watches: summaries.into_values().collect(),
        skipped,
        evaluations,
        blind_evaluations,
        notes: Vec::new(),
        comparison: None,
    }
}

/// The outcome for people.
pub fn text(outcome: &Outcome) -> String {
    let mut lines = vec![format!(
        "Backtest {} to {}: {} pages would have been sent ({} evaluations, {} of them blind).",
        outcome.from.format("%Y-%m-%d %H:%M UTC"),
        outcome.to.format("%Y-%m-%d %H:%M UTC"),
        outcome.pages.len(),
        outcome.evaluations,
        outcome.blind_evaluations
    )];
    if !outcome.pages.is_empty() {
        lines.push(String::new());
        let rows: Vec<Vec<String>> = outcome
            .pages
            .iter()
            .map(|p| {
                vec![
                    p.at.format("%Y-%m-%d %H:%M").to_string(),
                    p.watch.clone(),
                    p.subject.clone(),
                    p.title.clone(),
                ]
            })
            .collect();
        lines.push(crate::text_table::aligned(
            &header(&["time (UTC)", "watch", "subject", "title"]),
            &rows,
        ));
    }
    lines.push(String::new());
    let rows: Vec<Vec<String>> = outcome
        .watches
        .iter()
        .map(|w| {
            vec![
                w.watch.clone(),
                w.pages.to_string(),
                w.incidents.to_string(),
                w.resolved.to_string(),
            ]
        })
        .collect();
    lines.push(crate::text_table::aligned(
        &header(&["watch", "pages", "incidents", "resolved"]),
        &rows,
    ));
    for (watch, reason) in &outcome.skipped {
        lines.push(format!("skipped {watch}: {reason}"));
    }
    if outcome.blind_evaluations > 0 {
        lines.push(format!(
            "{} evaluations could not read their source as of that moment: those stretches are gaps, not all-clears",
            outcome.blind_evaluations
        ));
    }
    for note in &outcome.notes {
        let kind = if note.gap { "gap" } else { "note" };
        lines.push(format!("{kind} {}: {}", note.watch, note.note));
    }
    if let Some(comparison) = &outcome.comparison {
        lines.push(String::new());
        lines.push(format!(
            "Against what was really sent: {} the same, {} only in the replay, {} only in reality{}.",
            comparison.same.len(),
            comparison.only_in_replay.len(),
            comparison.only_in_reality.len(),
            if comparison.not_replayed > 0 {
                format!(" ({} real pages of watches not replayed)", comparison.not_replayed)
            } else {
                String::new()
            }
        ));
        for page in &comparison.only_in_replay {
            lines.push(format!(
                "  only in replay:  {} {} {}",
                page.at.format("%Y-%m-%d %H:%M"),
                page.watch,
                page.subject
            ));
        }
        for page in &comparison.only_in_reality {
            lines.push(format!(
                "  only in reality: {} {} {}",
                page.at.format("%Y-%m-%d %H:%M"),
                page.watch,
                page.subject
            ));
        }
    }
    lines.join("\n")
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

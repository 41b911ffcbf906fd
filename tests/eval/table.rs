//! The evaluation as a table: one row per scenario (facts found, verdict, certainty, evidence
//! tokens, steps, model tokens, cost, time, who reasoned), the totals, and every failure in
//! words.

use super::lab::{Outcome, reasoned_by};
use std::fmt::Write;

const HEADERS: [&str; 10] = [
    "scenario",
    "facts",
    "verdict",
    "certainty ok",
    "evidence tokens",
    "steps",
    "tokens",
    "cost",
    "time",
    "by",
];

/// The table of `outcomes`, with totals and the failures listed under it.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut rows: Vec<[String; 10]> = Vec::new();
    let (mut found, mut expected, mut verdicts, mut certain, mut steps) = (0, 0, 0, 0, 0u64);
    let (mut tokens, mut cost, mut time, mut max_evidence) = (0u64, 0.0f64, 0.0f64, 0usize);
    let mut graded = 0;
    for outcome in outcomes {
        match &outcome.result {
            Ok(run) => {
                let grade = &run.grade;
                let report = &run.report;
                graded += 1;
                found += grade.facts_found;
                expected += grade.facts_expected;
                verdicts += usize::from(grade.verdict_right);
                certain += usize::from(grade.false_certainty.is_none());
                steps += u64::from(report.cost.steps);
                let used = report.cost.input_tokens + report.cost.output_tokens;
                tokens += used;
                cost += report.cost.dollars;
                time += run.took.as_secs_f64();
                max_evidence = max_evidence.max(grade.evidence_tokens);
                rows.push([
                    outcome.name.to_string(),
                    format!("{}/{}", grade.facts_found, grade.facts_expected),
                    format!(
                        "{}{}",
                        report.finding.verdict.label(),
                        if grade.verdict_right { "" } else { " ✗" }
                    ),
                    if grade.false_certainty.is_none() {
                        "yes".into()
                    } else {
                        "NO".into()
                    },
                    grade.evidence_tokens.to_string(),
                    report.cost.steps.to_string(),
                    used.to_string(),
                    format!("${:.4}", report.cost.dollars),
                    format!("{:.1}s", run.took.as_secs_f64()),
                    reasoned_by(report),
                ]);
            }
            Err(why) => rows.push([
                outcome.name.to_string(),
                "-".into(),
                "set-up failed".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                shorten(why, 60),
            ]),
        }
    }
    rows.push([
        format!("total ({graded} of {} graded)", outcomes.len()),
        format!("{found}/{expected}"),
        format!("{verdicts}/{graded} right"),
        format!("{certain}/{graded}"),
        format!("max {max_evidence}"),
        steps.to_string(),
        tokens.to_string(),
        format!("${cost:.4}"),
        format!("{time:.1}s"),
        String::new(),
    ]);
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", line(&HEADERS.map(String::from)));
    let _ = writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-")
    );
    let (body, totals) = rows.split_at(rows.len() - 1);
    for row in body {
        let _ = writeln!(out, "{}", line(row));
    }
    let _ = writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-")
    );
    let _ = writeln!(out, "{}", line(&totals[0]));
    let failures = failures(outcomes);
    if !failures.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for failure in failures {
            let _ = writeln!(out, "- {failure}");
        }
    }
    out
}

/// Every failure of every scenario, prefixed with its name.
pub fn failures(outcomes: &[Outcome]) -> Vec<String> {
    let mut list = Vec::new();
    for outcome in outcomes {
        match &outcome.result {
            Ok(run) => {
                for failure in run.grade.failures(outcome.expected) {
                    list.push(format!("{}: {failure}", outcome.name));
                }
            }
            Err(why) => list.push(format!("{}: {why}", outcome.name)),
        }
    }
    list
}

fn shorten(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= max {
        line.to_string()
    } else {
        format!("{}…", line.chars().take(max).collect::<String>())
    }
}

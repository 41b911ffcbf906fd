//! The full report as Markdown: verdict first, then the cause, what to do, the evidence with
//! each exact query and excerpt, what could not be finished, and the footer.

use super::{footer, hypothesis_mark};
use crate::investigate::report::Report;
use std::fmt::Write;

/// A fence for `text` that `text` cannot close: one backtick more than its longest run.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn block(out: &mut String, text: &str) {
    let fence = fence(text);
    let _ = writeln!(out, "{fence}\n{text}\n{fence}");
}

/// The whole report.
pub fn markdown(report: &Report) -> String {
    let finding = &report.finding;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Investigation #{}: {}\n",
        report.request_id, report.title
    );
    let _ = writeln!(
        out,
        "**Verdict: {}** · {} · confidence {}\n",
        finding.verdict, finding.classification, finding.confidence
    );
    let _ = writeln!(out, "{}\n", finding.summary);
    let _ = writeln!(
        out,
        "Asked by {} at {}: “{}”",
        report.asked_by,
        report.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        report.question
    );
    if let Some(watch) = &report.watch {
        let _ = write!(out, "\nWatch `{watch}`");
        if !report.subjects.is_empty() {
            let _ = write!(out, ", subjects: {}", report.subjects.join(", "));
        }
        out.push('\n');
    }
    out.push_str("\n## Cause\n\n");
    if finding.hypotheses.is_empty() {
        out.push_str("No hypothesis could be formed from the evidence.\n");
    }
    for hypothesis in &finding.hypotheses {
        let _ = write!(
            out,
            "- {}: {}",
            hypothesis_mark(hypothesis),
            hypothesis.statement
        );
        if !hypothesis.supported_by.is_empty() {
            let _ = write!(out, " (for: {})", hypothesis.supported_by.join(", "));
        }
        if !hypothesis.contradicted_by.is_empty() {
            let _ = write!(out, " (against: {})", hypothesis.contradicted_by.join(", "));
        }
        out.push('\n');
    }
    out.push_str("\n## What to do\n\n");
    if finding.steps.is_empty() {
        out.push_str("Nothing.\n");
    }
    for (n, step) in finding.steps.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", n + 1, step.text);
        if let Some(command) = &step.command {
            block(&mut out, command);
        }
    }
    out.push_str("\nNothing above was run: each command is for you to read and run.\n");
    out.push_str("\n## Evidence\n");
    for item in finding.evidence.items() {
        let source = item
            .source
            .as_deref()
            .map(|s| format!(" on `{s}`"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n### {}: {}{} at {}\n",
            item.id,
            item.tool,
            source,
            item.taken_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        block(&mut out, &item.query);
        out.push('\n');
        block(&mut out, &item.excerpt);
        if item.omitted_chars > 0 {
            let _ = writeln!(out, "\n({} more characters not shown)", item.omitted_chars);
        }
    }
    if !finding.gaps.is_empty() || !report.cost.unfinished.is_empty() {
        out.push_str("\n## Not finished\n\n");
        for gap in finding.gaps.iter().chain(&report.cost.unfinished) {
            let _ = writeln!(out, "- {gap}");
        }
    }
    let _ = writeln!(out, "\n---\n{}", footer(report));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_longer_than_any_backtick_run_inside() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }
}

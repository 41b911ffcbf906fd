//! The report as one Telegram message (HTML, every piece of text escaped, within Telegram's
//! 4096-character limit): verdict, summary, cause and what to do always; the evidence as far
//! as room allows. When anything had to be left out, the message says so and the runner
//! attaches the full Markdown report as a document.

use super::{footer, hypothesis_mark};
use crate::investigate::report::Report;
use crate::notify::telegram::render::{MAX_MESSAGE, escape};
use std::fmt::Write;

/// Room kept below Telegram's limit for the closing line (and for characters Telegram counts
/// twice).
const RESERVE: usize = 300;

/// Longest part of an evidence excerpt shown in the message.
const EXCERPT_IN_MESSAGE: usize = 300;

/// A report as a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramReport {
    pub html: String,
    /// False when something was left out: the full report must go along as a document.
    pub complete: bool,
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// `text` cut to `limit` characters with an ellipsis.
fn shorten(text: &str, limit: usize) -> String {
    if chars(text) <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The report as one message.
pub fn telegram(report: &Report) -> TelegramReport {
    let finding = &report.finding;
    let budget = MAX_MESSAGE - RESERVE;
    let mut complete = true;
    let mut html = String::new();
    let _ = writeln!(
        html,
        "🔎 <b>Investigation #{}</b>: {}",
        report.request_id,
        escape(&shorten(&report.title, 200))
    );
    let _ = writeln!(
        html,
        "<b>Verdict: {}</b> · {} · confidence {}",
        finding.verdict, finding.classification, finding.confidence
    );
    let _ = writeln!(html, "{}", escape(&shorten(&finding.summary, 600)));

    let mut sections: Vec<String> = Vec::new();
    let mut cause = String::from("\n<b>Cause</b>\n");
    for hypothesis in &finding.hypotheses {
        let cites = if hypothesis.kept {
            &hypothesis.supported_by
        } else {
            &hypothesis.contradicted_by
        };
        let cites = if cites.is_empty() {
            String::new()
        } else {
            format!(" [{}]", cites.join(", "))
        };
        let _ = writeln!(
            cause,
            "{}: {}{}",
            hypothesis_mark(hypothesis),
            escape(&shorten(&hypothesis.statement, 400)),
            cites
        );
    }
    if finding.hypotheses.is_empty() {
        cause.push_str("No hypothesis could be formed from the evidence.\n");
    }
    sections.push(cause);
    let mut steps = String::from("\n<b>What to do</b> (nothing was run)\n");
    if finding.steps.is_empty() {
        steps.push_str("Nothing.\n");
    }
    for (n, step) in finding.steps.iter().enumerate() {
        let _ = writeln!(steps, "{}. {}", n + 1, escape(&shorten(&step.text, 400)));
        if let Some(command) = &step.command {
            let shown = shorten(command, 600);
            complete &= shown == *command;
            let _ = writeln!(steps, "<pre>{}</pre>", escape(&shown));
        }
    }
    sections.push(steps);
    if !finding.gaps.is_empty() || !report.cost.unfinished.is_empty() {
        let mut gaps = String::from("\n<b>Not finished</b>\n");
        for gap in finding.gaps.iter().chain(&report.cost.unfinished) {
            let _ = writeln!(gaps, "• {}", escape(&shorten(gap, 300)));
        }
        sections.push(gaps);
    }
    for section in sections {
        if chars(&html) + chars(&section) <= budget {
            html.push_str(&section);
        } else {
            complete = false;
        }
    }

    let items = finding.evidence.items();
    if !items.is_empty() && chars(&html) + 20 <= budget {
        html.push_str("\n<b>Evidence</b>\n");
    }
    for item in items {
        let source = item
            .source
            .as_deref()
            .map(|s| format!(" on {}", escape(s)))
            .unwrap_or_default();
        let excerpt = shorten(item.excerpt.trim(), EXCERPT_IN_MESSAGE);
        complete &= excerpt == item.excerpt.trim() && item.omitted_chars == 0;
        let entry = format!(
            "{} · {}{} at {}: <code>{}</code>\n<pre>{}</pre>\n",
            item.id,
            escape(&item.tool),
            source,
            item.taken_at.format("%H:%M:%S"),
            escape(&shorten(&item.query, 200)),
            escape(&excerpt)
        );
        if chars(&html) + chars(&entry) <= budget {
            html.push_str(&entry);
        } else {
            complete = false;
        }
    }
    let _ = write!(html, "\n<i>{}</i>", escape(&footer(report)));
    if !complete {
        let _ = write!(
            html,
            "\n📎 The full report, with every query and excerpt, is attached."
        );
    }
    TelegramReport { html, complete }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::evidence::EvidenceLog;
    use crate::investigate::finding::{Finding, Hypothesis, Step, Verdict};
    use crate::investigate::report::{Cost, Reasoning};
    use chrono::Utc;

    fn report(finding: Finding) -> Report {
        let now = Utc::now();
        Report {
            request_id: 7,
            question: "why?".into(),
            asked_by: "@ops".into(),
            title: "Nightly <backup> didn't run".into(),
            watch: Some("backup".into()),
            subjects: Vec::new(),
            finding,
            reasoning: Reasoning::Offline {
                why: "no model configured".into(),
            },
            started_at: now,
            finished_at: now,
            cost: Cost::default(),
        }
    }

    #[test]
    fn a_small_report_fits_whole_with_its_text_escaped() {
        let mut finding = Finding::open("The job <exited 1> & stopped");
        finding.verdict = Verdict::ActionNeeded;
        let id = finding.evidence.add(
            "store",
            None,
            "last pings",
            "exit 1 <disk full>",
            Utc::now(),
        );
        finding
            .hypotheses
            .push(Hypothesis::known("The disk <was full>", &[&id]));
        finding
            .steps
            .push(Step::run("Free space", "df -h /var/backups"));
        let out = telegram(&report(finding));
        assert!(out.complete);
        assert!(out.html.contains("&lt;backup&gt;"));
        assert!(out.html.contains("&lt;exited 1&gt; &amp; stopped"));
        assert!(out.html.contains("✓ known: The disk &lt;was full&gt; [E1]"));
        assert!(out.html.contains("<pre>df -h /var/backups</pre>"));
        assert!(!out.html.contains("attached"));
    }

    #[test]
    fn a_large_report_stays_within_the_limit_and_says_the_rest_is_attached() {
        let mut finding = Finding::open("x");
        let mut log = EvidenceLog::default();
        for n in 0..60 {
            log.add(
                "sql",
                Some("app"),
                format!("SELECT {n}"),
                &"row\n".repeat(400),
                Utc::now(),
            );
        }
        finding.evidence = log;
        let out = telegram(&report(finding));
        assert!(!out.complete);
        assert!(
            out.html.chars().count() <= MAX_MESSAGE,
            "{}",
            out.html.len()
        );
        assert!(out.html.contains("is attached"));
        assert!(out.html.contains("E1 · sql on app"));
    }
}

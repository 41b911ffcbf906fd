//! A report in the three shapes it leaves in: Telegram HTML (one message within Telegram's
//! limit, the full report attached when it does not fit), Markdown (the full report, also the
//! attached document and `sentinel investigations show`) and JSON (everything, for machines).

mod markdown;
mod telegram;

pub use markdown::markdown;
pub use telegram::{TelegramReport, telegram};

use super::report::Report;

/// The report as pretty JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|error| {
        format!("{{\"error\": \"the report could not be written as JSON: {error}\"}}")
    })
}

/// The mark that starts a hypothesis line: known, guessed or ruled out.
fn hypothesis_mark(hypothesis: &super::finding::Hypothesis) -> &'static str {
    use super::finding::Basis;
    match (hypothesis.kept, hypothesis.basis) {
        (false, _) => "✗ ruled out",
        (true, Basis::Known) => "✓ known",
        (true, Basis::Guessed) => "? guessed",
    }
}

/// The footer: who reasoned, steps, tokens, cost, time taken.
fn footer(report: &Report) -> String {
    let took = (report.finished_at - report.started_at)
        .to_std()
        .unwrap_or_default();
    let cost = &report.cost;
    format!(
        "{} · {} steps · {} tokens in, {} out · ${:.4} · took {}",
        report.reasoning.describe(),
        cost.steps,
        cost.input_tokens,
        cost.output_tokens,
        cost.dollars,
        crate::humanize::duration(took),
    )
}

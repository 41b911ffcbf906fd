//! A report in the shapes it leaves in: Telegram HTML (one message within Telegram's limit,
//! the full report attached when it does not fit), Markdown (the full report, also the
//! attached document and `sentinel investigations show`), JSON (everything, for machines), and
//! the phone's view of the Telegram message for the demo.

mod markdown;
mod telegram;

pub use markdown::markdown;
pub use telegram::{TelegramReport, telegram};

use super::report::Report;

/// The report as the phone shows it: the Telegram message's text, framed, with its buttons.
pub fn phone(report: &Report) -> String {
    let message = telegram(report);
    let mut out = String::new();
    for line in plain_text(&message.html).lines() {
        out.push_str("┃ ");
        out.push_str(line);
        out.push('\n');
    }
    let mut buttons = vec!["[Ask more]"];
    if report.watch.is_some() {
        buttons.push("[Not actionable]");
    }
    if report.finding.classification == super::finding::Classification::DurableCodeBug {
        buttons.push("[Open issue + fix]");
    }
    out.push_str(&format!("┃    {}\n", buttons.join("  ")));
    out
}

/// Telegram HTML as the text it shows: tags dropped, entities read (the HTML is Sentinel's
/// own, every piece of text in it escaped, so no `<` is text).
fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

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
    let redacted = cost
        .redacted
        .as_deref()
        .map(|r| format!(" · {r}"))
        .unwrap_or_default();
    format!(
        "{} · {} steps · {} tokens in, {} out · ${:.4} · took {}{redacted}",
        report.reasoning.describe(),
        cost.steps,
        cost.input_tokens,
        cost.output_tokens,
        cost.dollars,
        crate::humanize::duration(took),
    )
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn html_reads_as_its_text() {
        assert_eq!(
            plain_text("<b>Verdict</b>: a &lt;b&gt; &amp; <code>x</code>"),
            "Verdict: a <b> & x"
        );
    }
}

//! Page 1: the dispute, the customer, the summary and the Visa CE 3.0 verdict at a glance.

use super::flow::{CONTENT_WIDTH, Flow, MARGIN};
use super::format::when;
use super::style;
use super::text;
use crate::evidence::ce3::Ce3Verdict;
use crate::evidence::pack::{DisputeFacts, Pack};

/// The width of the labels in the cover's label/value lines.
const LABEL_WIDTH: f32 = 130.0;

pub(super) fn lay_cover(flow: &mut Flow<'_>, pack: &Pack) {
    flow.line(0.0, style::TITLE, "Chargeback evidence".to_owned());
    flow.gap(6.0);
    match &pack.dispute {
        Some(dispute) => lay_dispute(flow, dispute),
        None => {
            flow.line(
                0.0,
                style::SUBHEADING,
                "No dispute given: customer activity record".to_owned(),
            );
        }
    }
    flow.heading("Customer", 3.0 * style::BODY.line_height());
    let customer = &pack.customer;
    field(
        flow,
        "Name",
        customer.name.as_deref().unwrap_or("(not recorded)"),
    );
    field(
        flow,
        "Email",
        customer.email.as_deref().unwrap_or("(not recorded)"),
    );
    field(flow, "Customer id", &customer.id);
    flow.heading("Summary", 2.0 * style::BODY.line_height());
    flow.paragraph(0.0, style::BODY, &pack.summary);
    flow.heading(
        "Visa Compelling Evidence 3.0",
        2.0 * style::BODY.line_height(),
    );
    match &pack.ce3 {
        Some(verdict) => lay_verdict(flow, verdict),
        None => flow.paragraph(
            0.0,
            style::BODY,
            "Not judged: the pack does not know the disputed charge.",
        ),
    }
    flow.heading("Places", 2.0 * style::BODY.line_height());
    flow.paragraph(0.0, style::BODY, &pack.geo_note);
}

fn lay_dispute(flow: &mut Flow<'_>, dispute: &DisputeFacts) {
    field(flow, "Dispute", &dispute.id);
    field(flow, "Amount", &dispute.amount_words());
    field(flow, "Charge", &dispute.charge);
    field(flow, "Reason", &dispute.reason);
    field(
        flow,
        "Network reason code",
        dispute
            .network_reason_code
            .as_deref()
            .unwrap_or("(not given)"),
    );
    let due = dispute
        .evidence_due_by
        .map(when)
        .unwrap_or_else(|| "(not given)".to_owned());
    field(flow, "Evidence due by", &due);
    field(flow, "Status", &dispute.status);
}

fn lay_verdict(flow: &mut Flow<'_>, verdict: &Ce3Verdict) {
    let (words, color) = if verdict.qualifies {
        ("Qualifies for CE 3.0", style::GOOD)
    } else {
        ("Does not qualify for CE 3.0", style::BAD)
    };
    flow.line(0.0, style::SUBHEADING.colored(color), words.to_owned());
    let matched = if verdict.matched.is_empty() {
        "none".to_owned()
    } else {
        verdict
            .matched
            .iter()
            .map(|kind| kind.words())
            .collect::<Vec<_>>()
            .join(", ")
    };
    field(flow, "Matched elements", &matched);
    for (index, charge) in verdict.priors.iter().enumerate() {
        let explanation = verdict
            .considered
            .iter()
            .find(|judgement| &judgement.charge == charge)
            .map(|judgement| format!("{charge}: {}", judgement.explanation()))
            .unwrap_or_else(|| charge.clone());
        field(flow, &format!("Prior charge {}", index + 1), &explanation);
    }
    for reason in &verdict.reasons {
        field(flow, "Why not", reason);
    }
    for missing in &verdict.missing {
        field(flow, "Missing", missing);
    }
}

/// A bold label and its value wrapped beside it.
fn field(flow: &mut Flow<'_>, label: &str, value: &str) {
    let measure = flow.fonts.measure(style::BODY);
    let value_width = CONTENT_WIDTH - LABEL_WIDTH;
    let lines = text::wrap(&text::one_line(value), value_width, &measure);
    let label_measure = flow.fonts.measure(style::LABEL);
    let label = text::cut(label, LABEL_WIDTH - 6.0, &label_measure);
    let line_height = style::BODY.line_height();
    if !flow.room(line_height) {
        return;
    }
    flow.text_at(MARGIN, flow.y(), style::LABEL, label);
    if lines.is_empty() {
        flow.advance(line_height);
    }
    for (index, line) in lines.into_iter().enumerate() {
        if index > 0 && !flow.room(line_height) {
            return;
        }
        flow.text_at(MARGIN + LABEL_WIDTH, flow.y(), style::BODY, line);
        flow.advance(line_height);
    }
}

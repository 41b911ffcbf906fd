//! Evidence packs in the chat: the pack arrives as a message naming the customer, the dispute
//! (amount, reason, network reason code, due date) and the CE 3.0 verdict, with the PDF and
//! the JSON of Stripe's fields attached as replies to it; a pack that could not be built says
//! why; a dispute still open a day before its evidence is due is reminded of once.

use chrono::{DateTime, Utc};

use super::build::Built;
use super::pack::{DisputeFacts, SectionOutcome};
use super::write::Written;
use crate::notify::telegram::TelegramChannel;
use crate::notify::telegram::api::{ApiError, Document};
use crate::notify::telegram::render::escape;
use crate::store::disputes::Dispute;

/// "Dispute dp_1: $49.00, fraudulent (10.4), evidence due 2026-12-20 23:59 UTC"
fn dispute_line(dispute: &DisputeFacts) -> String {
    let code = dispute
        .network_reason_code
        .as_deref()
        .map_or_else(String::new, |code| format!(" ({code})"));
    let due = dispute.evidence_due_by.map_or_else(
        || "no due date given".to_string(),
        |at| format!("evidence due {}", at.format("%Y-%m-%d %H:%M UTC")),
    );
    format!(
        "Dispute {}: {}, {}{code}, {due}",
        dispute.id,
        dispute.amount_words(),
        dispute.reason
    )
}

/// The message the pack's files reply to.
pub fn built_text(built: &Built) -> String {
    let pack = &built.pack;
    let customer = pack
        .customer
        .email
        .clone()
        .unwrap_or_else(|| pack.customer.id.clone());
    let mut lines = vec![format!("📁 Evidence pack for <b>{}</b>", escape(&customer))];
    if let Some(dispute) = &pack.dispute {
        lines.push(escape(&dispute_line(dispute)));
    }
    if let Some(verdict) = &pack.ce3 {
        lines.push(if verdict.qualifies {
            format!(
                "Visa CE 3.0: ✅ qualifies (prior charges {})",
                escape(&verdict.priors.join(", "))
            )
        } else {
            format!(
                "Visa CE 3.0: ❌ does not qualify: {}",
                escape(&verdict.reasons.join("; "))
            )
        });
    }
    for section in &pack.sections {
        if let SectionOutcome::Missing { reason } = &section.outcome {
            let reason: String = reason.chars().take(200).collect();
            lines.push(format!(
                "Missing: {}: {}",
                escape(&section.title),
                escape(&reason)
            ));
        }
    }
    let summary: String = pack.summary.chars().take(1500).collect();
    lines.push(String::new());
    lines.push(escape(&summary));
    lines.push(String::new());
    lines.push(
        "Nothing was sent to Stripe: review the JSON, upload the PDF as uncategorized_file, then submit."
            .to_string(),
    );
    lines.join("\n")
}

/// Sends a built pack: the message, then the PDF and the JSON as replies to it.
pub async fn send_pack(
    channel: &TelegramChannel,
    built: &Built,
    written: &Written,
    reply_to: Option<i64>,
) -> Result<i64, ApiError> {
    let api = &channel.api;
    channel.pacer.wait_turn().await;
    let message = api
        .send_reply(channel.chat_id, &built_text(built), reply_to, None)
        .await?;
    for (path, mime, caption) in [
        (&written.pdf, "application/pdf", "The evidence pack (PDF)"),
        (
            &written.json,
            "application/json",
            "Stripe's evidence fields (JSON), to review before sending",
        ),
    ] {
        let bytes = std::fs::read(path).map_err(|error| {
            ApiError::Garbled(format!("cannot read {}: {error}", path.display()))
        })?;
        let name = path.file_name().map_or_else(
            || "evidence".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        channel.pacer.wait_turn().await;
        api.send_file(
            channel.chat_id,
            Document {
                name: &name,
                mime,
                bytes,
            },
            caption,
            Some(message),
        )
        .await?;
    }
    Ok(message)
}

/// Says why no pack was built, with the dispute it was for.
pub async fn send_failure(
    channel: &TelegramChannel,
    customer: &str,
    dispute: Option<&DisputeFacts>,
    reason: &str,
    reply_to: Option<i64>,
) -> Result<i64, ApiError> {
    let about = if customer.trim().is_empty() {
        "this dispute".to_string()
    } else {
        format!("“{}”", escape(customer))
    };
    let mut text = format!(
        "📁 No evidence pack for {about}: {}",
        escape(&reason.chars().take(1500).collect::<String>())
    );
    if let Some(dispute) = dispute {
        text.push('\n');
        text.push_str(&escape(&dispute_line(dispute)));
    }
    channel.pacer.wait_turn().await;
    channel
        .api
        .send_reply(channel.chat_id, &text, reply_to, None)
        .await
}

/// The reminder a day before a dispute's evidence is due.
pub fn reminder_text(dispute: &Dispute, pack: Option<&str>, now: DateTime<Utc>) -> String {
    let facts = super::build::dispute_facts(dispute);
    let left = dispute
        .evidence_due_by
        .map(|due| (due - now).num_hours().max(0))
        .map_or_else(String::new, |hours| format!(" (in {hours} h)"));
    let customer = dispute.customer().unwrap_or("customer unknown");
    let pack = match pack {
        Some(path) => format!("The pack: {}", escape(path)),
        None => format!(
            "No pack was built: /evidence {} builds one.",
            escape(customer)
        ),
    };
    format!(
        "⏰ Evidence due soon{left}\n{}\nCustomer: {}\n{pack}\nNothing is submitted by Sentinel.",
        escape(&dispute_line(&facts)),
        escape(customer)
    )
}

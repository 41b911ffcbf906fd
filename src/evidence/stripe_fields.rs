//! The pack as Stripe's dispute evidence fields (<https://docs.stripe.com/api/disputes/update>):
//! the text fields the app's data can fill, each within Stripe's length limit (20,000
//! characters for the long ones, 5,000 for the rest) and all together within 150,000, counted
//! as Stripe counts them (UTF-16 code units), plus `enhanced_evidence` for Visa CE 3.0. The
//! operator uploads the PDF as `uncategorized_file` and submits; Sentinel never does.

use serde_json::{Map, Value};

use super::pack::{Pack, TimelineEntry};

/// The most characters of all text fields together.
pub const TOTAL_LIMIT: usize = 150_000;
/// The most characters of `access_activity_log` and `uncategorized_text`.
pub const LONG_FIELD_LIMIT: usize = 20_000;
/// The most characters of the other text fields.
pub const SHORT_FIELD_LIMIT: usize = 5_000;

/// What goes into the fields beyond the pack itself.
pub struct FieldInputs<'a> {
    pub pack: &'a Pack,
    /// Every login and use, oldest first (the whole timeline, before the pack summarised it).
    pub activity: &'a [TimelineEntry],
    /// The disputed charge's purchase IP, as the app recorded it.
    pub purchase_ip: Option<&'a str>,
    /// What the customer bought.
    pub product: Option<&'a str>,
    /// `{"enhanced_evidence": {...}}` from the CE 3.0 judgement.
    pub enhanced: Option<Value>,
}

/// `{"evidence": {...}}`, ready to be reviewed and sent as the dispute's `evidence`.
pub fn evidence_json(inputs: &FieldInputs<'_>) -> Value {
    let pack = inputs.pack;
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(name) = &pack.customer.name {
        fields.push(("customer_name", name.clone()));
    }
    if let Some(email) = &pack.customer.email {
        fields.push(("customer_email_address", email.clone()));
    }
    if let Some(ip) = inputs.purchase_ip {
        fields.push(("customer_purchase_ip", ip.to_string()));
    }
    if let Some(product) = inputs.product {
        fields.push(("product_description", product.to_string()));
    }
    if let Some(first) = inputs.activity.first() {
        fields.push(("service_date", first.at.format("%Y-%m-%d").to_string()));
    }
    if !inputs.activity.is_empty() {
        fields.push(("access_activity_log", access_log(inputs.activity)));
    }
    fields.push(("uncategorized_text", uncategorized(pack)));
    let mut evidence = Map::new();
    let mut used = 0usize;
    for (name, text) in fields {
        let limit = match name {
            "access_activity_log" | "uncategorized_text" => LONG_FIELD_LIMIT,
            _ => SHORT_FIELD_LIMIT,
        }
        .min(TOTAL_LIMIT.saturating_sub(used));
        let text = within(&text, limit);
        used += utf16_len(&text);
        if !text.is_empty() {
            evidence.insert(name.to_string(), Value::String(text));
        }
    }
    if let Some(Value::Object(enhanced)) = &inputs.enhanced {
        for (key, value) in enhanced {
            evidence.insert(key.clone(), value.clone());
        }
    }
    let mut root = Map::new();
    root.insert("evidence".to_string(), Value::Object(evidence));
    Value::Object(root)
}

/// The logins and uses, newest first, as many whole lines as fit.
fn access_log(activity: &[TimelineEntry]) -> String {
    let header = "Time (UTC) | activity\n";
    let mut lines = Vec::new();
    let mut used = utf16_len(header);
    let mut shown = 0;
    for entry in activity.iter().rev() {
        let line = format!(
            "{} | {}\n",
            entry.at.format("%Y-%m-%d %H:%M:%S"),
            entry.text
        );
        // Room for the closing line.
        if used + utf16_len(&line) > LONG_FIELD_LIMIT - 200 {
            break;
        }
        used += utf16_len(&line);
        lines.push(line);
        shown += 1;
    }
    let mut text = String::from(header);
    text.extend(lines);
    if shown < activity.len() {
        text.push_str(&format!(
            "… {} earlier entries, from {}, are in the attached PDF.\n",
            activity.len() - shown,
            activity[0].at.format("%Y-%m-%d")
        ));
    }
    text
}

/// The summary, the CE 3.0 verdict and each section's count, in plain text.
fn uncategorized(pack: &Pack) -> String {
    let mut text = pack.summary.clone();
    if let Some(verdict) = &pack.ce3 {
        text.push_str("\n\nVisa Compelling Evidence 3.0: ");
        if verdict.qualifies {
            text.push_str(&format!(
                "qualifies, prior undisputed charges {}.",
                verdict.priors.join(", ")
            ));
        } else {
            text.push_str(&format!(
                "does not qualify: {}.",
                verdict.reasons.join("; ")
            ));
        }
    }
    text.push_str("\n\nRecords attached (PDF):");
    for section in &pack.sections {
        let count = match &section.outcome {
            super::pack::SectionOutcome::Rows(table) => format!("{} rows", table.total_rows),
            super::pack::SectionOutcome::Missing { reason } => format!("missing ({reason})"),
        };
        text.push_str(&format!("\n- {}: {count}", section.title));
    }
    let devices = pack.devices.len();
    let locations = pack.locations.len();
    if devices + locations > 0 {
        text.push_str(&format!(
            "\n- {devices} device(s) and {locations} location(s), each with first and last seen"
        ));
    }
    text
}

/// `text` cut to at most `limit` UTF-16 code units, at a character boundary, marked with "…".
fn within(text: &str, limit: usize) -> String {
    if utf16_len(text) <= limit {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 1; // the ellipsis
    for ch in text.chars() {
        if used + ch.len_utf16() > limit {
            break;
        }
        used += ch.len_utf16();
        out.push(ch);
    }
    if limit > 0 {
        out.push('…');
    }
    out
}

/// Characters as Stripe counts them.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Every text field's characters, together.
pub fn text_length(evidence: &Value) -> usize {
    evidence
        .get("evidence")
        .and_then(Value::as_object)
        .map_or(0, |fields| {
            fields
                .values()
                .filter_map(Value::as_str)
                .map(utf16_len)
                .sum()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::pack::{Customer, SectionKind, Timeline};
    use chrono::{Duration, TimeZone, Utc};

    fn pack() -> Pack {
        Pack {
            generated_at: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
            customer: Customer {
                id: "42".into(),
                email: Some("zoe@example.com".into()),
                name: Some("Zoë 🦀".into()),
            },
            dispute: None,
            summary: "Summary.".into(),
            ce3: None,
            sections: Vec::new(),
            devices: Vec::new(),
            locations: Vec::new(),
            geo_note: String::new(),
            timeline: Timeline::default(),
            daily: Vec::new(),
            left_out: Vec::new(),
        }
    }

    fn activity(count: usize) -> Vec<TimelineEntry> {
        let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        (0..count)
            .map(|i| TimelineEntry {
                at: start + Duration::minutes(i as i64),
                kind: SectionKind::Logins,
                text: format!("Login from 203.0.113.{}, Chrome 120 on macOS", i % 250),
            })
            .collect()
    }

    #[test]
    fn fields_are_filled_from_the_pack_and_kept_within_stripes_limits() {
        let pack = pack();
        let entries = activity(100_000);
        let json = evidence_json(&FieldInputs {
            pack: &pack,
            activity: &entries,
            purchase_ip: Some("203.0.113.7"),
            product: Some("Pro plan"),
            enhanced: Some(serde_json::json!({"enhanced_evidence": {}})),
        });
        let evidence = &json["evidence"];
        assert_eq!(evidence["customer_name"], "Zoë 🦀");
        assert_eq!(evidence["customer_email_address"], "zoe@example.com");
        assert_eq!(evidence["customer_purchase_ip"], "203.0.113.7");
        assert_eq!(evidence["service_date"], "2025-01-01");
        assert!(evidence["enhanced_evidence"].is_object());
        let log = evidence["access_activity_log"].as_str().unwrap();
        assert!(utf16_len(log) <= LONG_FIELD_LIMIT);
        let newest = entries
            .last()
            .unwrap()
            .at
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        assert!(
            log.lines().nth(1).unwrap().starts_with(&newest),
            "newest first"
        );
        assert!(
            log.trim_end().ends_with("are in the attached PDF."),
            "{}",
            &log[log.len() - 200..]
        );
        assert!(text_length(&json) <= TOTAL_LIMIT);
    }

    #[test]
    fn cutting_counts_utf16_and_never_splits_a_character() {
        assert_eq!(within("abc", 3), "abc");
        assert_eq!(within("abcd", 3), "ab…");
        let crabs = within("🦀🦀🦀", 5);
        assert_eq!(crabs, "🦀🦀…");
        assert!(utf16_len(&crabs) <= 5);
    }
}

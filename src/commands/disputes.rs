//! `sentinel disputes`: the chargebacks Stripe reported (`/hooks/stripe`), the soonest
//! evidence deadline first, one line each: id, amount, reason, due date, status, customer.
//!
//! Exit codes: 0 listed (also when there are none), 2 the store cannot be read.

use super::{cannot_run, open_existing_store};
use crate::evidence::money::amount_words;
use crate::store::disputes::Dispute;
use std::path::Path;

pub async fn list(store_path: &Path) -> i32 {
    let store = match open_existing_store(store_path).await {
        Ok(store) => store,
        Err(code) => return code,
    };
    let disputes = store.disputes().await;
    store.close().await;
    match disputes {
        Ok(disputes) if disputes.is_empty() => {
            println!("no disputes");
            0
        }
        Ok(disputes) => {
            for dispute in &disputes {
                println!("{}", line(dispute));
            }
            0
        }
        Err(error) => cannot_run(error),
    }
}

/// `dp_1Q  $49.99  fraudulent (10.4)  due 2027-01-25 08:00 UTC  needs_response  jo@example.com`
fn line(dispute: &Dispute) -> String {
    let reason = match &dispute.network_reason_code {
        Some(code) => format!("{} ({code})", dispute.reason),
        None => dispute.reason.clone(),
    };
    let due = dispute.evidence_due_by.map_or_else(
        || "no due date".to_string(),
        |at| format!("due {}", at.format("%Y-%m-%d %H:%M UTC")),
    );
    let customer = dispute.customer().unwrap_or("customer unknown");
    format!(
        "{}  {}  {reason}  {due}  {}  {customer}",
        dispute.id,
        amount_words(dispute.amount, &dispute.currency),
        dispute.status,
    )
    .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn a_line_names_the_dispute_its_deadline_and_its_customer() {
        let mut dispute = Dispute {
            id: "dp_1Q".into(),
            charge: "ch_1Q".into(),
            amount: 4999,
            currency: "usd".into(),
            reason: "fraudulent".into(),
            network_reason_code: Some("10.4".into()),
            status: "needs_response".into(),
            evidence_due_by: DateTime::from_timestamp(1_800_000_000, 0),
            customer_email: Some("jo@example.com".into()),
            customer_id: Some("cust-42".into()),
            payment_intent: None,
            created_at: DateTime::from_timestamp(1_799_000_000, 0).unwrap(),
            updated_at: DateTime::from_timestamp(1_799_000_000, 0).unwrap(),
            raw_json: "{}".into(),
        };
        assert_eq!(
            line(&dispute),
            "dp_1Q  $49.99  fraudulent (10.4)  due 2027-01-15 08:00 UTC  needs_response  jo@example.com"
        );
        dispute.customer_email = None;
        dispute.network_reason_code = None;
        dispute.evidence_due_by = None;
        assert_eq!(
            line(&dispute),
            "dp_1Q  $49.99  fraudulent  no due date  needs_response  cust-42"
        );
        dispute.customer_id = None;
        assert!(line(&dispute).ends_with("customer unknown"));
    }
}

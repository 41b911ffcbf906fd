//! Stripe's webhook as Stripe sends it: a `charge.dispute.*` event in the documented shape and
//! the `Stripe-Signature` value (hex HMAC-SHA256 of "<t>.<body>" with the endpoint secret).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What an event's dispute says.
pub struct DisputeFields<'a> {
    pub event_id: &'a str,
    pub dispute_id: &'a str,
    pub event_type: &'a str,
    pub status: &'a str,
    pub charge: &'a str,
    pub email: &'a str,
    pub amount: i64,
    /// Unix seconds.
    pub due_by: i64,
    pub reason_code: &'a str,
}

/// A dispute event in Stripe's documented shape.
pub fn dispute_event(fields: &DisputeFields<'_>) -> String {
    let DisputeFields {
        event_id,
        dispute_id,
        event_type,
        status,
        charge,
        email,
        amount,
        due_by,
        reason_code,
    } = fields;
    format!(
        r#"{{
  "id": "{event_id}",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1733400000,
  "data": {{
    "object": {{
      "id": "{dispute_id}",
      "object": "dispute",
      "amount": {amount},
      "balance_transactions": [],
      "charge": "{charge}",
      "created": 1733399990,
      "currency": "usd",
      "evidence": {{
        "access_activity_log": null, "billing_address": null, "cancellation_policy": null,
        "customer_email_address": "{email}", "customer_name": "Jo Doe",
        "customer_purchase_ip": null, "product_description": null, "receipts": null
      }},
      "evidence_details": {{
        "due_by": {due_by}, "has_evidence": false, "past_due": false, "submission_count": 0
      }},
      "is_charge_refundable": false,
      "livemode": false,
      "metadata": {{}},
      "payment_intent": "pi_3QSentinel",
      "payment_method_details": {{
        "card": {{"brand": "visa", "case_type": "chargeback", "network_reason_code": "{reason_code}"}},
        "type": "card"
      }},
      "reason": "fraudulent",
      "status": "{status}"
    }}
  }},
  "livemode": false,
  "pending_webhooks": 1,
  "request": {{"id": null, "idempotency_key": null}},
  "type": "{event_type}"
}}"#
    )
}

/// The v1 signature of `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

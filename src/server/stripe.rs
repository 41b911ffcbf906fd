//! `POST /hooks/stripe`: Stripe's webhook for chargebacks. The raw body must carry a valid
//! `Stripe-Signature` (see `stripe_signature.rs`) or it gets 400 and nothing is stored; a body
//! that is not a Stripe event gets 400 saying why; a verified event of another type gets 200
//! and is ignored. `charge.dispute.created`, `.updated` and `.closed` are stored (once per
//! event id) before the 200, and a new dispute records an evidence request about its customer.
//! Without a `[stripe]` section the route answers 404.

use super::AppState;
use super::stripe_signature::verify;
use crate::store::disputes::{Dispute, DisputeRecord};
use crate::telemetry::IntakeLabels;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The event types that describe a dispute.
const DISPUTE_EVENTS: [&str; 3] = [
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
];

/// A Stripe event, as far as Sentinel reads it.
#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: Value,
}

/// The dispute object's fields Sentinel stores (the whole object is kept as JSON too).
#[derive(Debug, Deserialize)]
struct DisputeObject {
    id: String,
    /// The charge id, or the charge itself when the event expanded it.
    charge: Value,
    amount: i64,
    currency: String,
    reason: String,
    status: String,
    created: i64,
    #[serde(default)]
    evidence: Option<Evidence>,
    #[serde(default)]
    evidence_details: Option<EvidenceDetails>,
    #[serde(default)]
    payment_intent: Option<Value>,
    #[serde(default)]
    payment_method_details: Option<PaymentMethodDetails>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    /// Where API versions before `payment_method_details` put the card network's code.
    #[serde(default)]
    network_reason_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Evidence {
    #[serde(default)]
    customer_email_address: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EvidenceDetails {
    #[serde(default)]
    due_by: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct PaymentMethodDetails {
    #[serde(default)]
    card: Option<CardDetails>,
}

#[derive(Debug, Deserialize)]
struct CardDetails {
    #[serde(default)]
    network_reason_code: Option<String>,
}

/// What a verified body says.
#[derive(Debug)]
pub(crate) enum Received {
    /// A dispute event, with the dispute to store.
    Dispute {
        event_id: String,
        event_type: String,
        dispute: Box<Dispute>,
    },
    /// Any other event type: acknowledged, not stored.
    Other {
        event_id: String,
        event_type: String,
    },
}

/// Reads a verified event body; `customer_key` is the metadata key carrying the app's
/// customer id. The error says what is wrong.
pub(crate) fn parse(
    body: &[u8],
    customer_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Received, String> {
    let event: Event = serde_json::from_slice(body)
        .map_err(|e| format!("not a Stripe event (id, type, data.object): {e}"))?;
    if !DISPUTE_EVENTS.contains(&event.kind.as_str()) {
        return Ok(Received::Other {
            event_id: event.id,
            event_type: event.kind,
        });
    }
    let raw_json = event.data.object.to_string();
    let object: DisputeObject = serde_json::from_value(event.data.object)
        .map_err(|e| format!("{}: data.object is not a dispute: {e}", event.kind))?;
    let expanded_charge = object.charge.is_object().then_some(&object.charge);
    let charge = match &object.charge {
        Value::String(id) => id.clone(),
        Value::Object(charge) => match charge.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => {
                return Err(format!(
                    "{}: data.object.charge is expanded but has no id",
                    event.kind
                ));
            }
        },
        _ => {
            return Err(format!(
                "{}: data.object.charge is neither an id nor a charge",
                event.kind
            ));
        }
    };
    let charge_text = |path: &[&str]| -> Option<String> {
        let mut value = expanded_charge?;
        for key in path {
            value = value.get(*key)?;
        }
        value.as_str().filter(|s| !s.is_empty()).map(str::to_string)
    };
    let customer_email = object
        .evidence
        .and_then(|e| e.customer_email_address)
        .filter(|email| !email.is_empty())
        .or_else(|| charge_text(&["billing_details", "email"]))
        .or_else(|| charge_text(&["receipt_email"]));
    let customer_id = customer_key.and_then(|key| {
        object
            .metadata
            .get(key)
            .filter(|id| !id.is_empty())
            .cloned()
            .or_else(|| charge_text(&["metadata", key]))
    });
    let payment_intent = match object.payment_intent {
        Some(Value::String(id)) => Some(id),
        Some(Value::Object(intent)) => intent.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    let time = |seconds: i64| DateTime::from_timestamp(seconds, 0);
    Ok(Received::Dispute {
        event_id: event.id,
        event_type: event.kind,
        dispute: Box::new(Dispute {
            id: object.id,
            charge,
            amount: object.amount,
            currency: object.currency,
            reason: object.reason,
            network_reason_code: object
                .payment_method_details
                .and_then(|d| d.card)
                .and_then(|c| c.network_reason_code)
                .or(object.network_reason_code),
            status: object.status,
            evidence_due_by: object
                .evidence_details
                .and_then(|d| d.due_by)
                // 0 when the card issuer allows no response: there is no deadline.
                .filter(|&seconds| seconds > 0)
                .and_then(time),
            customer_email,
            customer_id,
            payment_intent,
            created_at: time(object.created).unwrap_or(now),
            updated_at: now,
            raw_json,
        }),
    })
}

fn counted(state: &AppState, outcome: &str, response: Response) -> Response {
    state
        .metrics
        .intake_requests
        .get_or_create(&IntakeLabels {
            hook: "stripe".to_string(),
            outcome: outcome.to_string(),
        })
        .inc();
    response
}

fn bad_request(state: &AppState, outcome: &str, message: &str) -> Response {
    let response = (StatusCode::BAD_REQUEST, format!("{message}\n"));
    counted(state, outcome, response.into_response())
}

pub(crate) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(stripe) = state.stripe.clone() else {
        let response = (StatusCode::NOT_FOUND, "no [stripe] section is configured\n");
        return counted(&state, "unknown_hook", response.into_response());
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return counted(&state, "too_large", super::body::too_large(state.max_body));
        }
        Err(rejection) => {
            let response = (rejection.status(), format!("{}\n", rejection.body_text()));
            return counted(&state, "bad_request", response.into_response());
        }
    };
    let now = state.clock.now();
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    if let Err(error) = verify(
        signature,
        &body,
        &stripe.endpoint_secrets,
        stripe.tolerance,
        now.timestamp(),
    ) {
        return bad_request(
            &state,
            "unauthorized",
            &format!("signature refused: {error}"),
        );
    }
    let received = match parse(&body, stripe.customer_email_metadata.as_deref(), now) {
        Ok(received) => received,
        Err(message) => return bad_request(&state, "bad_request", &message),
    };
    let (event_id, event_type, dispute) = match received {
        Received::Other {
            event_id,
            event_type,
        } => {
            tracing::debug!(
                event = event_id,
                "ignored Stripe event of type {event_type}"
            );
            return counted(
                &state,
                "ignored",
                (StatusCode::OK, "ignored\n").into_response(),
            );
        }
        Received::Dispute {
            event_id,
            event_type,
            dispute,
        } => (event_id, event_type, dispute),
    };
    match state
        .store
        .record_dispute_event(&event_id, &event_type, &dispute, now)
        .await
    {
        Ok(record) => {
            match record {
                DisputeRecord::Duplicate => {
                    tracing::debug!(event = event_id, "Stripe event already recorded");
                }
                DisputeRecord::New { evidence_request } => {
                    tracing::info!(
                        dispute = dispute.id,
                        amount = dispute.amount,
                        currency = dispute.currency,
                        reason = dispute.reason,
                        "dispute recorded"
                    );
                    if dispute.customer_email.is_none() {
                        tracing::warn!(
                            dispute = dispute.id,
                            charge = dispute.charge,
                            "the customer's email is unknown (no evidence.customer_email_address, and the charge is an id, not expanded): stored empty"
                        );
                    }
                    if dispute.customer().is_none() {
                        tracing::warn!(
                            dispute = dispute.id,
                            request = ?evidence_request,
                            "neither the customer's email nor a customer id (customer_email_metadata) is known: the operator is asked to name the customer"
                        );
                    }
                }
                DisputeRecord::Updated => {
                    tracing::info!(
                        dispute = dispute.id,
                        status = dispute.status,
                        "dispute updated"
                    );
                }
            }
            counted(&state, "accepted", (StatusCode::OK, "OK\n").into_response())
        }
        Err(error) => {
            tracing::error!(
                event = event_id,
                "could not store the Stripe dispute: {error}"
            );
            let response = (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the dispute, try again\n",
            );
            counted(&state, "store_error", response.into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    /// A `charge.dispute.created` event in the documented shape (abridged: fields Sentinel does
    /// not read are left out).
    const CREATED: &str = r#"{
      "id": "evt_1Q", "object": "event", "api_version": "2024-06-20", "created": 1799999990,
      "livemode": false, "pending_webhooks": 1, "type": "charge.dispute.created",
      "request": {"id": null, "idempotency_key": null},
      "data": {"object": {
        "id": "dp_1Q", "object": "dispute", "amount": 4999, "balance_transactions": [],
        "charge": "ch_1Q", "created": 1799999980, "currency": "usd",
        "evidence": {"customer_email_address": "jo@example.com", "customer_name": "Jo"},
        "evidence_details": {"due_by": 1800864000, "has_evidence": false, "past_due": false,
          "submission_count": 0},
        "is_charge_refundable": false, "livemode": false,
        "metadata": {"app_customer": "cust-42"},
        "payment_intent": "pi_1Q",
        "payment_method_details": {"card": {"brand": "visa", "network_reason_code": "10.4"},
          "type": "card"},
        "reason": "fraudulent", "status": "needs_response"
      }}
    }"#;

    fn dispute_of(received: Received) -> Dispute {
        match received {
            Received::Dispute { dispute, .. } => *dispute,
            other => panic!("not a dispute: {other:?}"),
        }
    }

    #[test]
    fn the_documented_dispute_event_is_read_whole() {
        let received = parse(CREATED.as_bytes(), Some("app_customer"), now()).unwrap();
        let Received::Dispute {
            event_id,
            event_type,
            ..
        } = &received
        else {
            panic!("not a dispute");
        };
        assert_eq!(
            (event_id.as_str(), event_type.as_str()),
            ("evt_1Q", "charge.dispute.created")
        );
        let dispute = dispute_of(received);
        assert_eq!(dispute.id, "dp_1Q");
        assert_eq!(dispute.charge, "ch_1Q");
        assert_eq!((dispute.amount, dispute.currency.as_str()), (4999, "usd"));
        assert_eq!(dispute.reason, "fraudulent");
        assert_eq!(dispute.network_reason_code.as_deref(), Some("10.4"));
        assert_eq!(dispute.status, "needs_response");
        assert_eq!(dispute.evidence_due_by.unwrap().timestamp(), 1_800_864_000);
        assert_eq!(dispute.customer_email.as_deref(), Some("jo@example.com"));
        assert_eq!(dispute.customer_id.as_deref(), Some("cust-42"));
        assert_eq!(dispute.payment_intent.as_deref(), Some("pi_1Q"));
        assert_eq!(dispute.created_at.timestamp(), 1_799_999_980);
        assert!(dispute.raw_json.contains("\"dp_1Q\""));
    }

    #[test]
    fn the_email_comes_from_an_expanded_charge_or_stays_unknown() {
        let value: Value = serde_json::from_str(CREATED).unwrap();
        let mut expanded = value.clone();
        let object = &mut expanded["data"]["object"];
        object["evidence"]["customer_email_address"] = Value::Null;
        object["charge"] = serde_json::json!({"id": "ch_1Q", "object": "charge",
            "billing_details": {"email": "billing@example.com"},
            "metadata": {"app_customer": "cust-7"}});
        object["metadata"] = serde_json::json!({});
        object["payment_method_details"] = Value::Null;
        let dispute = dispute_of(
            parse(expanded.to_string().as_bytes(), Some("app_customer"), now()).unwrap(),
        );
        assert_eq!(dispute.charge, "ch_1Q");
        assert_eq!(
            dispute.customer_email.as_deref(),
            Some("billing@example.com")
        );
        assert_eq!(dispute.customer_id.as_deref(), Some("cust-7"));
        assert_eq!(dispute.network_reason_code, None);

        let mut bare = value;
        bare["data"]["object"]["evidence"]["customer_email_address"] = Value::Null;
        let dispute = dispute_of(parse(bare.to_string().as_bytes(), None, now()).unwrap());
        assert_eq!(dispute.customer_email, None);
        assert_eq!(dispute.customer_id, None);
    }

    #[test]
    fn older_api_versions_and_disputes_without_a_response_window_are_read() {
        let mut value: Value = serde_json::from_str(CREATED).unwrap();
        let object = &mut value["data"]["object"];
        object["payment_method_details"] = Value::Null;
        object["network_reason_code"] = Value::from("4837");
        object["evidence_details"]["due_by"] = Value::from(0);
        let dispute = dispute_of(parse(value.to_string().as_bytes(), None, now()).unwrap());
        assert_eq!(dispute.network_reason_code.as_deref(), Some("4837"));
        assert_eq!(dispute.evidence_due_by, None);
    }

    #[test]
    fn other_event_types_are_acknowledged_and_bad_bodies_refused() {
        let other = CREATED.replace("charge.dispute.created", "payment_intent.succeeded");
        assert!(matches!(
            parse(other.as_bytes(), None, now()).unwrap(),
            Received::Other { ref event_type, .. } if event_type == "payment_intent.succeeded"
        ));
        let error = parse(b"{not json", None, now()).unwrap_err();
        assert!(error.starts_with("not a Stripe event"), "{error}");
        let nameless = CREATED.replace(
            "\"charge\": \"ch_1Q\"",
            "\"charge\": {\"object\": \"charge\"}",
        );
        let error = parse(nameless.as_bytes(), None, now()).unwrap_err();
        assert!(error.contains("expanded but has no id"), "{error}");
        let no_amount = CREATED.replace("\"amount\": 4999,", "");
        let error = parse(no_amount.as_bytes(), None, now()).unwrap_err();
        assert!(error.contains("missing field `amount`"), "{error}");
    }
}

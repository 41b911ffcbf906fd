//! The `evidence.enhanced_evidence` object Stripe's dispute update takes for Visa CE 3.0
//! (<https://docs.stripe.com/api/disputes/update>, `enhanced_evidence.visa_compelling_evidence_3`):
//! the disputed transaction's elements and exactly two prior undisputed transactions, each with
//! only the fields Stripe documents and only values the app recorded.
//!
//! `merchandise_or_services` is left out: the app's data does not say which, and the verdict's
//! `missing` says it must be set.

use serde_json::{Map, Value, json};

use super::{Address, Ce3Verdict, Elements, Transaction};

/// `{"enhanced_evidence": {"visa_compelling_evidence_3": {...}}}` when the verdict qualifies
/// and both its priors are in `history`; `{"enhanced_evidence": {}}` otherwise.
pub fn stripe_json(disputed: &Transaction, verdict: &Ce3Verdict, history: &[Transaction]) -> Value {
    let empty = json!({ "enhanced_evidence": {} });
    if !verdict.qualifies || verdict.priors.len() != 2 {
        return empty;
    }
    let mut priors = Vec::with_capacity(2);
    for charge in &verdict.priors {
        let Some(prior) = history.iter().find(|t| &t.charge == charge) else {
            return empty;
        };
        let mut fields = Map::new();
        fields.insert("charge".to_owned(), Value::String(prior.charge.clone()));
        fields.extend(transaction_fields(prior));
        priors.push(Value::Object(fields));
    }
    json!({
        "enhanced_evidence": {
            "visa_compelling_evidence_3": {
                "disputed_transaction": Value::Object(transaction_fields(disputed)),
                "prior_undisputed_transactions": priors,
            }
        }
    })
}

/// The fields shared by the disputed and the prior transaction objects, where recorded.
fn transaction_fields(transaction: &Transaction) -> Map<String, Value> {
    let Elements {
        ip,
        device_id,
        device_fingerprint,
        shipping_address,
        account_id,
        email,
    } = &transaction.elements;
    let mut fields = Map::new();
    put(&mut fields, "customer_account_id", account_id);
    put(
        &mut fields,
        "customer_device_fingerprint",
        device_fingerprint,
    );
    put(&mut fields, "customer_device_id", device_id);
    put(&mut fields, "customer_email_address", email);
    put(&mut fields, "customer_purchase_ip", ip);
    put(
        &mut fields,
        "product_description",
        &transaction.product_description,
    );
    if let Some(address) = shipping_address {
        let address = address_fields(address);
        if !address.is_empty() {
            fields.insert("shipping_address".to_owned(), Value::Object(address));
        }
    }
    fields
}

fn address_fields(address: &Address) -> Map<String, Value> {
    let Address {
        line1,
        line2,
        city,
        state,
        postal_code,
        country,
    } = address;
    let mut fields = Map::new();
    put(&mut fields, "city", city);
    put(&mut fields, "country", country);
    put(&mut fields, "line1", line1);
    put(&mut fields, "line2", line2);
    put(&mut fields, "postal_code", postal_code);
    put(&mut fields, "state", state);
    fields
}

fn put(fields: &mut Map<String, Value>, name: &str, value: &Option<String>) {
    if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        fields.insert(name.to_owned(), Value::String(value.to_owned()));
    }
}

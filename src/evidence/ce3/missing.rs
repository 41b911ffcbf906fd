//! What a CE 3.0 submission would lack, in words: elements the app's schema does not carry,
//! elements the disputed transaction does not have, and Stripe's field rules (product
//! descriptions, device id and fingerprint lengths, complete shipping addresses) that the
//! submitted transactions break.

use super::{ElementKind, Elements, SchemaCoverage, Transaction, singular};

/// What the schema or the data lacks for a CE 3.0 submission, in words.
pub(crate) fn missing(
    disputed: &Transaction,
    history: &[Transaction],
    priors: &[String],
    schema: &SchemaCoverage,
) -> Vec<String> {
    let mut missing = Vec::new();
    for kind in ElementKind::ALL {
        if !schema.has.contains(&kind) {
            missing.push(format!("the schema lacks {}", kind.words()));
        }
    }
    if !ElementKind::ALL
        .iter()
        .any(|kind| kind.is_primary() && schema.has.contains(kind))
    {
        missing.push(
            "without an IP address, device id or device fingerprint no dispute can qualify"
                .to_owned(),
        );
    }
    for kind in ElementKind::ALL {
        if schema.has.contains(&kind) && !present(&disputed.elements, kind) {
            missing.push(format!(
                "the disputed transaction has no {}",
                singular(kind)
            ));
        }
    }
    let submitted =
        std::iter::once(disputed).chain(history.iter().filter(|t| priors.contains(&t.charge)));
    for transaction in submitted {
        missing.extend(submission_gaps(transaction));
    }
    missing.push("whether the disputed charge was merchandise or services is not recorded (Stripe's merchandise_or_services must be set by hand)".to_owned());
    missing
}

/// What Stripe's field rules ask of one submitted transaction that it lacks: a product
/// description, device ids of at least 15 characters and fingerprints of at least 20, and a
/// complete shipping address (line2 aside, which many addresses do not have).
fn submission_gaps(transaction: &Transaction) -> Vec<String> {
    let charge = &transaction.charge;
    let mut gaps = Vec::new();
    if transaction
        .product_description
        .as_deref()
        .is_none_or(|d| d.trim().is_empty())
    {
        gaps.push(format!(
            "{charge} has no product description (Stripe requires one)"
        ));
    }
    let elements = &transaction.elements;
    let short = |value: &Option<String>, least: usize| {
        value
            .as_deref()
            .is_some_and(|v| !v.trim().is_empty() && v.trim().chars().count() < least)
    };
    if short(&elements.device_id, 15) {
        gaps.push(format!(
            "{charge}'s device id is shorter than the 15 characters Stripe requires"
        ));
    }
    if short(&elements.device_fingerprint, 20) {
        gaps.push(format!(
            "{charge}'s device fingerprint is shorter than the 20 characters Stripe requires"
        ));
    }
    if let Some(address) = &elements.shipping_address {
        let absent: Vec<&str> = [
            ("line1", &address.line1),
            ("city", &address.city),
            ("state", &address.state),
            ("postal_code", &address.postal_code),
            ("country", &address.country),
        ]
        .into_iter()
        .filter(|(_, value)| value.as_deref().is_none_or(|v| v.trim().is_empty()))
        .map(|(name, _)| name)
        .collect();
        if !absent.is_empty() {
            gaps.push(format!(
                "{charge}'s shipping address lacks {}",
                absent.join(", ")
            ));
        }
    }
    gaps
}

fn present(elements: &Elements, kind: ElementKind) -> bool {
    let text = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
    match kind {
        ElementKind::Ip => text(&elements.ip),
        ElementKind::DeviceId => text(&elements.device_id),
        ElementKind::DeviceFingerprint => text(&elements.device_fingerprint),
        ElementKind::ShippingAddress => elements.shipping_address.is_some(),
        ElementKind::AccountId => text(&elements.account_id),
        ElementKind::Email => text(&elements.email),
    }
}

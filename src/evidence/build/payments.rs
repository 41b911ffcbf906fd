//! A payments section's rows as the charges Visa CE 3.0 compares: which columns carry the
//! charge, the card, whether it was paid or disputed, and each data element, and which of the
//! elements the app's schema records at all.

use std::collections::BTreeSet;

use super::columns::{cell, find, truthy};
use crate::evidence::ce3::{Address, ElementKind, Elements, SchemaCoverage, Transaction};
use crate::source::sql::values::parse_time;

const CHARGE: &[&str] = &["charge", "charge_id", "stripe_charge_id", "processor_id"];
const TIME: &[&str] = &["time", "at", "created_at", "paid_at", "charged_at"];
const PAYMENT_METHOD: &[&str] = &[
    "payment_method",
    "card_fingerprint",
    "fingerprint_of_card",
    "payment_method_id",
    "card_id",
];
const PAID: &[&str] = &["paid", "status", "state"];
const DISPUTED: &[&str] = &["disputed", "fraud", "refunded_as_fraud"];
const IP: &[&str] = &["ip", "purchase_ip", "ip_address", "customer_purchase_ip"];
const DEVICE_ID: &[&str] = &["device_id", "customer_device_id"];
const DEVICE_FINGERPRINT: &[&str] = &["device_fingerprint", "customer_device_fingerprint"];
const EMAIL: &[&str] = &["email", "customer_email", "email_address"];
const ACCOUNT: &[&str] = &["account_id", "customer_account_id", "user_id", "login"];
const PRODUCT: &[&str] = &["product", "product_description", "description", "plan"];
const SHIPPING: [(&str, &[&str]); 6] = [
    ("line1", &["shipping_line1", "shipping_address_line1"]),
    ("line2", &["shipping_line2", "shipping_address_line2"]),
    ("city", &["shipping_city", "shipping_address_city"]),
    ("state", &["shipping_state", "shipping_address_state"]),
    ("postal_code", &["shipping_postal_code", "shipping_zip"]),
    ("country", &["shipping_country", "shipping_address_country"]),
];

/// The charges of a payments section, and the elements its columns can carry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Charges {
    pub transactions: Vec<Transaction>,
    pub schema: SchemaCoverage,
    /// Rows left out (no charge id or no time), in words, when any were.
    pub unreadable: Option<String>,
}

/// Reads every row with a charge id and a time as a [`Transaction`].
pub(crate) fn charges(columns: &[String], rows: &[Vec<Option<String>>]) -> Charges {
    let at = |names: &[&str]| find(columns, names);
    let (charge, time) = (at(CHARGE), at(TIME));
    let (method, paid, disputed) = (at(PAYMENT_METHOD), at(PAID), at(DISPUTED));
    let (ip, device_id, fingerprint) = (at(IP), at(DEVICE_ID), at(DEVICE_FINGERPRINT));
    let (email, account, product) = (at(EMAIL), at(ACCOUNT), at(PRODUCT));
    let shipping: Vec<(&str, Option<usize>)> = SHIPPING
        .iter()
        .map(|(field, names)| (*field, at(names)))
        .collect();
    let mut has = BTreeSet::new();
    for (kind, index) in [
        (ElementKind::Ip, ip),
        (ElementKind::DeviceId, device_id),
        (ElementKind::DeviceFingerprint, fingerprint),
        (ElementKind::Email, email),
        (ElementKind::AccountId, account),
    ] {
        if index.is_some() {
            has.insert(kind);
        }
    }
    if shipping.iter().any(|(_, index)| index.is_some()) {
        has.insert(ElementKind::ShippingAddress);
    }
    let mut transactions = Vec::new();
    let mut skipped = 0usize;
    for row in rows {
        let (Some(id), Some(when)) = (cell(row, charge), cell(row, time).and_then(parse_time))
        else {
            skipped += 1;
            continue;
        };
        let text = |index| cell(row, index).map(str::to_string);
        let address = address(row, &shipping);
        transactions.push(Transaction {
            charge: id.to_string(),
            at: when,
            payment_method: text(method).unwrap_or_default(),
            // Without a column saying otherwise, a recorded charge is taken as paid.
            paid: cell(row, paid).is_none_or(truthy),
            disputed: cell(row, disputed).is_some_and(truthy),
            elements: Elements {
                ip: text(ip),
                device_id: text(device_id),
                device_fingerprint: text(fingerprint),
                shipping_address: address,
                account_id: text(account),
                email: text(email),
            },
            product_description: text(product),
        });
    }
    let unreadable = (skipped > 0).then(|| {
        format!(
            "{skipped} payment row(s) without a charge id or a readable time were not compared (name the columns `charge` and `time`)"
        )
    });
    Charges {
        transactions,
        schema: SchemaCoverage { has },
        unreadable,
    }
}

fn address(row: &[Option<String>], shipping: &[(&str, Option<usize>)]) -> Option<Address> {
    let mut address = Address::default();
    let mut any = false;
    for (field, index) in shipping {
        let Some(value) = cell(row, *index).map(str::to_string) else {
            continue;
        };
        any = true;
        let slot = match *field {
            "line1" => &mut address.line1,
            "line2" => &mut address.line2,
            "city" => &mut address.city,
            "state" => &mut address.state,
            "postal_code" => &mut address.postal_code,
            _ => &mut address.country,
        };
        *slot = Some(value);
    }
    any.then_some(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn rows_become_transactions_and_the_columns_say_what_the_schema_holds() {
        let columns = strings(&[
            "charge",
            "created_at",
            "card_fingerprint",
            "status",
            "ip",
            "device_id",
            "shipping_city",
        ]);
        let rows = vec![
            row(&[
                Some("ch_1"),
                Some("2026-01-02 03:04:05+00"),
                Some("fp_a"),
                Some("succeeded"),
                Some("203.0.113.7"),
                Some("dev-000000000000001"),
                Some("Berlin"),
            ]),
            row(&[
                Some("ch_2"),
                Some("2026-02-02"),
                Some("fp_a"),
                Some("failed"),
                None,
                None,
                None,
            ]),
            row(&[
                None,
                Some("2026-02-03"),
                Some("fp_a"),
                Some("succeeded"),
                None,
                None,
                None,
            ]),
        ];
        let charges = charges(&columns, &rows);
        assert_eq!(charges.transactions.len(), 2);
        let first = &charges.transactions[0];
        assert_eq!(first.charge, "ch_1");
        assert!(first.paid && !first.disputed);
        assert_eq!(first.payment_method, "fp_a");
        assert_eq!(first.elements.ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(
            first
                .elements
                .shipping_address
                .as_ref()
                .and_then(|a| a.city.as_deref()),
            Some("Berlin")
        );
        assert!(!charges.transactions[1].paid);
        assert_eq!(charges.transactions[1].elements.shipping_address, None);
        assert!(charges.unreadable.unwrap().starts_with("1 payment row"));
        let has: Vec<ElementKind> = charges.schema.has.into_iter().collect();
        assert_eq!(
            has,
            [
                ElementKind::Ip,
                ElementKind::DeviceId,
                ElementKind::ShippingAddress
            ]
        );
    }
}

//! How two transactions' data elements are compared for Visa CE 3.0: each element normalised
//! so that the same customer written two ways still matches, and nothing else does.
//!
//! - IP addresses are parsed; IPv4 and IPv6 compare in canonical form, and an IPv4-mapped IPv6
//!   address (`::ffff:203.0.113.7`) equals its IPv4 address. Text that is not an IP matches
//!   nothing.
//! - Emails are trimmed and compared without regard to case.
//! - Shipping addresses match on postal code and first line, each lower-cased with every
//!   character that is not a letter or digit (spaces, punctuation) removed; both must be
//!   present.
//! - Device ids, device fingerprints and account ids are compared exactly (an empty value is
//!   absent).

use std::net::IpAddr;

use super::{Address, ElementKind, Elements};

/// The elements both transactions carry with the same value, in `ElementKind` order.
pub(crate) fn matching_elements(a: &Elements, b: &Elements) -> Vec<ElementKind> {
    ElementKind::ALL
        .into_iter()
        .filter(|kind| element_matches(*kind, a, b))
        .collect()
}

fn element_matches(kind: ElementKind, a: &Elements, b: &Elements) -> bool {
    match kind {
        ElementKind::Ip => same(a.ip.as_deref(), b.ip.as_deref(), canonical_ip),
        ElementKind::DeviceId => same(a.device_id.as_deref(), b.device_id.as_deref(), exact),
        ElementKind::DeviceFingerprint => same(
            a.device_fingerprint.as_deref(),
            b.device_fingerprint.as_deref(),
            exact,
        ),
        ElementKind::ShippingAddress => same(
            a.shipping_address.as_ref(),
            b.shipping_address.as_ref(),
            address_key,
        ),
        ElementKind::AccountId => same(a.account_id.as_deref(), b.account_id.as_deref(), exact),
        ElementKind::Email => same(a.email.as_deref(), b.email.as_deref(), email_key),
    }
}

/// Both present, both normalisable, and equal once normalised.
fn same<T: ?Sized, K: PartialEq>(
    a: Option<&T>,
    b: Option<&T>,
    key: impl Fn(&T) -> Option<K>,
) -> bool {
    match (a.and_then(&key), b.and_then(&key)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The address an IP text names, in canonical form (IPv4-mapped IPv6 becomes IPv4).
pub(crate) fn canonical_ip(text: &str) -> Option<IpAddr> {
    text.trim()
        .parse::<IpAddr>()
        .ok()
        .map(|ip| ip.to_canonical())
}

fn exact(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

fn email_key(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_lowercase())
}

/// Lower-case letters and digits only: "12-B  Main St." and "12b main st" are one line.
fn folded(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn address_key(address: &Address) -> Option<(String, String)> {
    let postal_code = folded(address.postal_code.as_deref()?);
    let line1 = folded(address.line1.as_deref()?);
    (!postal_code.is_empty() && !line1.is_empty()).then_some((postal_code, line1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_ip(ip: &str) -> Elements {
        Elements {
            ip: Some(ip.into()),
            ..Elements::default()
        }
    }

    #[test]
    fn ipv4_mapped_ipv6_equals_its_ipv4() {
        let found = matching_elements(&with_ip("::ffff:203.0.113.7"), &with_ip(" 203.0.113.7"));
        assert_eq!(found, vec![ElementKind::Ip]);
    }

    #[test]
    fn ipv6_compares_in_canonical_form_and_garbage_matches_nothing() {
        assert_eq!(
            matching_elements(&with_ip("2001:DB8:0:0::1"), &with_ip("2001:db8::1")),
            vec![ElementKind::Ip]
        );
        assert!(matching_elements(&with_ip("203.0.113.7"), &with_ip("203.0.113.8")).is_empty());
        assert!(matching_elements(&with_ip("not an ip"), &with_ip("not an ip")).is_empty());
    }

    #[test]
    fn emails_ignore_case_and_surrounding_space() {
        let a = Elements {
            email: Some(" Ann@Example.COM ".into()),
            ..Elements::default()
        };
        let b = Elements {
            email: Some("ann@example.com".into()),
            ..Elements::default()
        };
        let c = Elements {
            email: Some("anne@example.com".into()),
            ..Elements::default()
        };
        assert_eq!(matching_elements(&a, &b), vec![ElementKind::Email]);
        assert!(matching_elements(&a, &c).is_empty());
    }

    #[test]
    fn addresses_match_on_postal_code_and_first_line_ignoring_case_space_and_punctuation() {
        let at = |line1: &str, postal: &str, city: &str| Elements {
            shipping_address: Some(Address {
                line1: Some(line1.into()),
                postal_code: Some(postal.into()),
                city: Some(city.into()),
                ..Address::default()
            }),
            ..Elements::default()
        };
        let a = at("12-B  Main St.", "SW1A 1AA", "London");
        assert_eq!(
            matching_elements(&a, &at("12b main st", "sw1a1aa", "LONDON (city)")),
            vec![ElementKind::ShippingAddress]
        );
        assert!(matching_elements(&a, &at("12 Main St", "SW1A 1AA", "London")).is_empty());
        assert!(matching_elements(&a, &at("12-B Main St.", "SW1A 1AB", "London")).is_empty());
    }

    #[test]
    fn ids_compare_exactly_and_empty_is_absent() {
        let a = Elements {
            account_id: Some("U-1".into()),
            device_id: Some(String::new()),
            ..Elements::default()
        };
        let b = Elements {
            account_id: Some("u-1".into()),
            device_id: Some(String::new()),
            ..Elements::default()
        };
        assert!(matching_elements(&a, &b).is_empty());
        assert_eq!(
            matching_elements(&a, &a.clone()),
            vec![ElementKind::AccountId]
        );
    }
}

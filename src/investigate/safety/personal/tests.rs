//! Stable placeholders: the same value the same placeholder, another value another, the real
//! value back for the operator, and nothing replaced twice.

use super::is_placeholder;
use crate::investigate::safety::PersonalDataPolicy;
use crate::investigate::safety::personal::Pseudonymizer;

fn defaults() -> Pseudonymizer {
    Pseudonymizer::new(PersonalDataPolicy::default())
}

#[test]
fn the_same_email_gets_the_same_placeholder_and_another_email_another() {
    let mut p = defaults();
    let out = p.text("login failed for alice@example.com; retry by alice@example.com");
    assert_eq!(out, "login failed for <email-1>; retry by <email-1>");
    let out = p.text("refund for Bob.Smith+shop@mail.example.org, cc Alice@Example.com");
    assert_eq!(out, "refund for <email-2>, cc <email-1>");
    assert_eq!(p.replaced().get("email"), Some(&4));
}

#[test]
fn reveal_gives_back_the_value_first_seen() {
    let mut p = defaults();
    p.text("from alice@example.com and 203.0.113.7");
    assert_eq!(p.reveal("<email-1>"), Some("alice@example.com"));
    assert_eq!(p.reveal("<ip-1>"), Some("203.0.113.7"));
    assert_eq!(p.reveal("<email-2>"), None);
    assert_eq!(p.reveal("alice@example.com"), None);
}

#[test]
fn placeholders_are_not_replaced_again() {
    let mut p = Pseudonymizer::new(PersonalDataPolicy {
        columns: vec!["name".to_string()],
        ..PersonalDataPolicy::default()
    });
    let once = p.text("alice@example.com from 198.51.100.4");
    assert_eq!(p.text(&once), once);
    let name = p.cell("name", "Alice Martin");
    assert_eq!(name, "<name-1>");
    assert_eq!(p.cell("name", &name), name);
    assert_eq!(p.reveal("<name-1>"), Some("Alice Martin"));
    assert!(is_placeholder(&name));
    assert!(!is_placeholder("<Name-1>"));
    assert!(!is_placeholder("<email->"));
}

#[test]
fn ipv4_and_ipv6_addresses_get_placeholders_but_not_loopback() {
    let mut p = defaults();
    let out = p.text(
        "GET /cart from 203.0.113.7:51234 via 10.0.0.12, [2001:db8::1]:443, fe80::1%eth0, again 203.0.113.7; upstream 127.0.0.1:8080 and ::1, bind 0.0.0.0",
    );
    assert_eq!(
        out,
        "GET /cart from <ip-1>:51234 via <ip-2>, [<ip-3>]:443, <ip-4>%eth0, again <ip-1>; upstream 127.0.0.1:8080 and ::1, bind 0.0.0.0"
    );
}

#[test]
fn versions_times_paths_and_macs_are_not_addresses() {
    let mut p = defaults();
    for text in [
        "sentinel v1.2.3.4 built",
        "oid 1.3.6.1.4.1 and 1.2.3.4.5",
        "at 10:04:00 and 10:04:00.123",
        "std::io::Error in Foo::Bar, a::b",
        "mac 00:1a:2b:3c:4d:5e",
        "version 999.1.1.1 is not an address",
    ] {
        assert_eq!(p.text(text), text);
    }
}

#[test]
fn configured_columns_are_replaced_whole_and_matched_with_or_without_table() {
    let mut p = Pseudonymizer::new(PersonalDataPolicy {
        emails: true,
        ips: true,
        columns: vec!["name".to_string(), "Customers.Phone".to_string()],
    });
    assert_eq!(p.cell("NAME", "Alice Martin"), "<name-1>");
    assert_eq!(p.cell("users.name", "Alice Martin"), "<name-1>");
    assert_eq!(p.cell("\"users\".\"name\"", "Bob Stone"), "<name-2>");
    assert_eq!(p.cell("customers.phone", "+49 30 1234567"), "<phone-1>");
    // A phone column of another table is not configured: free-text rules only.
    assert_eq!(
        p.cell("suppliers.phone", "+49 30 1234567"),
        "+49 30 1234567"
    );
    // Another column: emails in it still go.
    assert_eq!(p.cell("note", "call alice@example.com"), "call <email-1>");
    // Empty values stay empty.
    assert_eq!(p.cell("name", ""), "");
}

#[test]
fn classes_the_policy_turns_off_are_kept() {
    let mut p = Pseudonymizer::new(PersonalDataPolicy {
        emails: false,
        ips: true,
        columns: Vec::new(),
    });
    assert_eq!(
        p.text("alice@example.com from 203.0.113.7"),
        "alice@example.com from <ip-1>"
    );
    let mut p = Pseudonymizer::new(PersonalDataPolicy {
        emails: true,
        ips: false,
        columns: Vec::new(),
    });
    assert_eq!(
        p.text("alice@example.com from 203.0.113.7"),
        "<email-1> from 203.0.113.7"
    );
}

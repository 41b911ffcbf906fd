//! The CE 3.0 judgement and its Stripe JSON on hand-built histories.

use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;

const CARD: &str = "card_fp_1";

fn disputed_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 15, 30, 0).unwrap()
}

fn elements() -> Elements {
    Elements {
        ip: Some("203.0.113.7".into()),
        device_id: None,
        device_fingerprint: None,
        shipping_address: Some(Address {
            line1: Some("1 Main St".into()),
            line2: None,
            city: Some("Springfield".into()),
            state: Some("IL".into()),
            postal_code: Some("62701".into()),
            country: Some("US".into()),
        }),
        account_id: Some("acct-42".into()),
        email: Some("ann@example.com".into()),
    }
}

fn disputed() -> Transaction {
    Transaction {
        charge: "ch_disputed".into(),
        at: disputed_at(),
        payment_method: CARD.into(),
        paid: true,
        disputed: true,
        elements: Elements {
            shipping_address: None,
            account_id: None,
            ..elements()
        },
        product_description: Some("Annual plan".into()),
    }
}

/// A paid, undisputed prior on the same card, `days` calendar days before, sharing the IP and
/// the email (not the address or the account, which the disputed transaction lacks).
fn prior(charge: &str, days: i64) -> Transaction {
    Transaction {
        charge: charge.into(),
        at: disputed_at() - Duration::days(days),
        payment_method: CARD.into(),
        paid: true,
        disputed: false,
        elements: elements(),
        product_description: Some("Monthly plan".into()),
    }
}

fn full_schema() -> SchemaCoverage {
    SchemaCoverage {
        has: ElementKind::ALL.into_iter().collect(),
    }
}

fn judge_10_4(history: &[Transaction]) -> Ce3Verdict {
    judge(Some("10.4"), &disputed(), history, &full_schema())
}

fn outcome_of(verdict: &Ce3Verdict, charge: &str) -> PriorOutcome {
    verdict
        .considered
        .iter()
        .find(|j| j.charge == charge)
        .unwrap()
        .outcome
}

#[test]
fn ip_and_email_on_two_priors_at_130_and_300_days_qualifies() {
    let history = [prior("ch_a", 130), prior("ch_b", 300)];
    let verdict = judge_10_4(&history);
    assert!(verdict.qualifies, "{verdict:?}");
    assert!(verdict.reason_code_applies);
    assert_eq!(verdict.matched, vec![ElementKind::Ip, ElementKind::Email]);
    assert_eq!(verdict.priors, vec!["ch_a".to_owned(), "ch_b".to_owned()]);
    assert!(verdict.reasons.is_empty());
    assert_eq!(outcome_of(&verdict, "ch_a"), PriorOutcome::Chosen);
    assert_eq!(outcome_of(&verdict, "ch_b"), PriorOutcome::Chosen);
}

/// Visa: "more than 119 calendar days and fewer than 366": 120 and 365 are in.
#[test]
fn the_window_is_120_to_365_calendar_days_inclusive() {
    let history = [
        prior("ch_120", 120),
        prior("ch_365", 365),
        prior("ch_119", 119),
        prior("ch_366", 366),
    ];
    let verdict = judge_10_4(&history);
    assert!(verdict.qualifies);
    assert_eq!(
        verdict.priors,
        vec!["ch_120".to_owned(), "ch_365".to_owned()]
    );
    assert_eq!(outcome_of(&verdict, "ch_119"), PriorOutcome::TooRecent);
    assert_eq!(outcome_of(&verdict, "ch_366"), PriorOutcome::TooOld);
}

#[test]
fn days_are_calendar_days_not_hours() {
    // 23:59 on the day 120 calendar days before is still 120 days, though under 120 × 24 h.
    let mut late = prior("ch_late", 120);
    late.at = (disputed_at() - Duration::days(120))
        .date_naive()
        .and_hms_opt(23, 59, 0)
        .unwrap()
        .and_utc();
    let verdict = judge_10_4(&[late, prior("ch_b", 200)]);
    assert!(verdict.qualifies, "{verdict:?}");
    assert_eq!(verdict.considered[0].days_before, 120);
}

#[test]
fn disputed_and_unpaid_priors_are_excluded() {
    let mut was_disputed = prior("ch_disputed_before", 150);
    was_disputed.disputed = true;
    let mut unpaid = prior("ch_unpaid", 160);
    unpaid.paid = false;
    let verdict = judge_10_4(&[was_disputed, unpaid, prior("ch_ok", 200)]);
    assert!(!verdict.qualifies);
    assert_eq!(
        outcome_of(&verdict, "ch_disputed_before"),
        PriorOutcome::Disputed
    );
    assert_eq!(outcome_of(&verdict, "ch_unpaid"), PriorOutcome::Unpaid);
    assert_eq!(outcome_of(&verdict, "ch_ok"), PriorOutcome::NoCommonMatch);
    assert!(
        verdict.reasons[0].contains("1 prior transaction(s) qualify"),
        "{:?}",
        verdict.reasons
    );
}

#[test]
fn another_card_is_excluded() {
    let mut other = prior("ch_other_card", 150);
    other.payment_method = "card_fp_2".into();
    let verdict = judge_10_4(&[other, prior("ch_ok", 200)]);
    assert!(!verdict.qualifies);
    assert!(verdict.priors.is_empty());
    assert_eq!(
        outcome_of(&verdict, "ch_other_card"),
        PriorOutcome::OtherPaymentMethod
    );
}

#[test]
fn only_secondary_matches_do_not_qualify_and_say_why() {
    let mut disputed = disputed();
    disputed.elements.ip = Some("198.51.100.1".into());
    disputed.elements.shipping_address = elements().shipping_address;
    let verdict = judge(
        Some("10.4"),
        &disputed,
        &[prior("ch_a", 130), prior("ch_b", 300)],
        &full_schema(),
    );
    assert!(!verdict.qualifies);
    for charge in ["ch_a", "ch_b"] {
        let judgement = verdict
            .considered
            .iter()
            .find(|j| j.charge == charge)
            .unwrap();
        assert_eq!(judgement.outcome, PriorOutcome::NoPrimaryMatch);
        assert_eq!(
            judgement.matched,
            vec![ElementKind::ShippingAddress, ElementKind::Email]
        );
        assert!(
            judgement
                .explanation()
                .contains("no IP, device id or device fingerprint")
        );
    }
    assert!(
        verdict.reasons[0].contains("0 prior transaction(s) qualify"),
        "{:?}",
        verdict.reasons
    );
}

#[test]
fn device_id_and_fingerprint_together_are_one_element() {
    let device = |e: &mut Elements| {
        e.ip = None;
        e.email = None;
        e.shipping_address = None;
        e.account_id = None;
        e.device_id = Some("IMEI-356938035643809".into());
        e.device_fingerprint = Some("fp-0123456789abcdef0123".into());
    };
    let mut disputed = disputed();
    device(&mut disputed.elements);
    let mut a = prior("ch_a", 130);
    let mut b = prior("ch_b", 300);
    device(&mut a.elements);
    device(&mut b.elements);
    let verdict = judge(Some("10.4"), &disputed, &[a, b], &full_schema());
    assert!(!verdict.qualifies);
    assert_eq!(outcome_of(&verdict, "ch_a"), PriorOutcome::NotEnoughMatches);
}

#[test]
fn a_single_prior_does_not_qualify() {
    let verdict = judge_10_4(&[prior("ch_a", 130)]);
    assert!(!verdict.qualifies);
    assert!(verdict.priors.is_empty());
    assert!(verdict.reasons[0].contains("two are needed"));
}

#[test]
fn the_two_priors_must_share_the_same_qualifying_elements() {
    // One matches on IP + email, the other on IP + account: each qualifies alone, together
    // they share only the IP.
    let mut disputed = disputed();
    disputed.elements.account_id = Some("acct-42".into());
    let mut a = prior("ch_a", 130);
    a.elements.account_id = None;
    let mut b = prior("ch_b", 300);
    b.elements.email = Some("other@example.com".into());
    let verdict = judge(Some("10.4"), &disputed, &[a, b], &full_schema());
    assert!(!verdict.qualifies);
    assert_eq!(outcome_of(&verdict, "ch_a"), PriorOutcome::NoCommonMatch);
    assert!(
        verdict.reasons[0].contains("share the same two"),
        "{:?}",
        verdict.reasons
    );
}

#[test]
fn another_reason_code_does_not_apply_and_says_so() {
    let history = [prior("ch_a", 130), prior("ch_b", 300)];
    let verdict = judge(Some("13.1"), &disputed(), &history, &full_schema());
    assert!(!verdict.reason_code_applies);
    assert!(!verdict.qualifies);
    assert!(verdict.priors.is_empty());
    assert!(
        verdict.reasons[0].contains("13.1 is not Visa 10.4"),
        "{:?}",
        verdict.reasons
    );
    let none = judge(None, &disputed(), &history, &full_schema());
    assert!(!none.qualifies && !none.reason_code_applies);
    assert!(none.reasons[0].contains("no network reason code"));
}

#[test]
fn the_best_pair_matches_most_then_is_most_recent() {
    // ch_old_rich matches IP, email and account; so does ch_rich; ch_recent only IP + email.
    let mut disputed = disputed();
    disputed.elements.account_id = Some("acct-42".into());
    let history = [
        prior("ch_recent", 121),
        prior("ch_rich", 200),
        prior("ch_old_rich", 360),
        prior("ch_mid_rich", 250),
    ];
    let mut history = history.to_vec();
    history[0].elements.account_id = None;
    let verdict = judge(Some("10.4"), &disputed, &history, &full_schema());
    assert!(verdict.qualifies);
    assert_eq!(
        verdict.priors,
        vec!["ch_rich".to_owned(), "ch_mid_rich".to_owned()]
    );
    assert_eq!(
        verdict.matched,
        vec![ElementKind::Ip, ElementKind::AccountId, ElementKind::Email]
    );
    assert_eq!(outcome_of(&verdict, "ch_recent"), PriorOutcome::NotChosen);
    assert_eq!(outcome_of(&verdict, "ch_old_rich"), PriorOutcome::NotChosen);
    // The same history in another order gives the same choice.
    history.reverse();
    assert_eq!(
        judge(Some("10.4"), &disputed, &history, &full_schema()).priors,
        verdict.priors
    );
}

#[test]
fn ipv4_mapped_ipv6_matches_its_ipv4() {
    let mut disputed = disputed();
    disputed.elements.ip = Some("::ffff:203.0.113.7".into());
    let verdict = judge(
        Some("10.4"),
        &disputed,
        &[prior("ch_a", 130), prior("ch_b", 300)],
        &full_schema(),
    );
    assert!(verdict.qualifies);
    assert!(verdict.matched.contains(&ElementKind::Ip));
}

#[test]
fn a_schema_without_device_ids_or_ips_is_named_in_missing() {
    let schema = SchemaCoverage {
        has: [
            ElementKind::ShippingAddress,
            ElementKind::Email,
            ElementKind::AccountId,
        ]
        .into_iter()
        .collect(),
    };
    let verdict = judge(Some("10.4"), &disputed(), &[prior("ch_a", 130)], &schema);
    for words in [
        "the schema lacks purchase IP addresses",
        "the schema lacks device ids",
        "the schema lacks device fingerprints",
        "without an IP address, device id or device fingerprint no dispute can qualify",
    ] {
        assert!(
            verdict.missing.iter().any(|m| m == words),
            "{words:?} not in {:?}",
            verdict.missing
        );
    }
    let full = judge_10_4(&[prior("ch_a", 130)]);
    assert!(
        !full
            .missing
            .iter()
            .any(|m| m.starts_with("the schema lacks")),
        "{:?}",
        full.missing
    );
    // The disputed transaction carries no address or account, though the schema has them.
    assert!(
        full.missing
            .iter()
            .any(|m| m == "the disputed transaction has no shipping address")
    );
}

#[test]
fn missing_product_descriptions_are_named() {
    let mut b = prior("ch_b", 300);
    b.product_description = None;
    let verdict = judge_10_4(&[prior("ch_a", 130), b]);
    assert!(verdict.qualifies);
    assert!(
        verdict
            .missing
            .iter()
            .any(|m| m.starts_with("ch_b has no product description")),
        "{:?}",
        verdict.missing
    );
}

const DISPUTED_FIELDS: [&str; 7] = [
    "customer_account_id",
    "customer_device_fingerprint",
    "customer_device_id",
    "customer_email_address",
    "customer_purchase_ip",
    "product_description",
    "shipping_address",
];

#[test]
fn the_json_carries_exactly_two_priors_with_documented_fields_only() {
    let mut stranger = prior("ch_stranger", 200);
    stranger.elements.email = Some("mallory@example.org".into());
    stranger.elements.account_id = Some("acct-mallory".into());
    stranger.product_description = Some("Mallory's order".into());
    let history = [
        prior("ch_a", 130),
        prior("ch_b", 300),
        prior("ch_c", 350),
        stranger,
    ];
    let verdict = judge_10_4(&history);
    assert!(verdict.qualifies);
    let body = stripe_json(&disputed(), &verdict, &history);

    let ce3 = &body["enhanced_evidence"]["visa_compelling_evidence_3"];
    let disputed_tx = ce3["disputed_transaction"].as_object().unwrap();
    assert!(
        disputed_tx
            .keys()
            .all(|k| DISPUTED_FIELDS.contains(&k.as_str())),
        "{disputed_tx:?}"
    );
    assert_eq!(disputed_tx["customer_purchase_ip"], "203.0.113.7");
    assert_eq!(disputed_tx["product_description"], "Annual plan");
    assert!(
        !disputed_tx.contains_key("shipping_address"),
        "nothing invented"
    );

    let priors = ce3["prior_undisputed_transactions"].as_array().unwrap();
    assert_eq!(priors.len(), 2);
    assert_eq!(priors[0]["charge"], "ch_a");
    assert_eq!(priors[1]["charge"], "ch_b");
    for prior in priors {
        let prior = prior.as_object().unwrap();
        assert!(
            prior
                .keys()
                .all(|k| k == "charge" || DISPUTED_FIELDS.contains(&k.as_str())),
            "{prior:?}"
        );
        let address = prior["shipping_address"].as_object().unwrap();
        let mut keys: Vec<&str> = address.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["city", "country", "line1", "postal_code", "state"]);
    }
    let text = body.to_string();
    for leaked in ["ch_c", "ch_stranger", "mallory", "Mallory"] {
        assert!(!text.contains(leaked), "{leaked} leaked into {text}");
    }
}

#[test]
fn the_json_is_empty_when_it_does_not_qualify_or_a_prior_is_unknown() {
    let history = [prior("ch_a", 130), prior("ch_b", 300)];
    let refused = judge(Some("13.1"), &disputed(), &history, &full_schema());
    assert_eq!(
        stripe_json(&disputed(), &refused, &history),
        serde_json::json!({ "enhanced_evidence": {} })
    );
    let verdict = judge_10_4(&history);
    assert_eq!(
        stripe_json(&disputed(), &verdict, &history[..1]),
        serde_json::json!({ "enhanced_evidence": {} })
    );
}

fn arbitrary_prior() -> impl Strategy<Value = Transaction> {
    (
        0i64..500,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            "203.0.113.7",
            "::ffff:203.0.113.7",
            "198.51.100.1",
        ])),
        prop::option::of(prop::sample::select(vec![
            "ann@example.com",
            "ANN@example.com ",
            "bob@example.com",
        ])),
        prop::option::of(prop::sample::select(vec!["dev-1", "dev-2"])),
        prop::option::of(prop::sample::select(vec!["acct-42", "acct-7"])),
        0u32..1000,
    )
        .prop_map(
            |(days, same_card, paid, was_disputed, ip, email, device, account, id)| Transaction {
                charge: format!("ch_{id}"),
                at: disputed_at() - Duration::days(days) - Duration::minutes(i64::from(id)),
                payment_method: if same_card {
                    CARD.into()
                } else {
                    "card_fp_2".into()
                },
                paid,
                disputed: was_disputed,
                elements: Elements {
                    ip: ip.map(Into::into),
                    email: email.map(Into::into),
                    device_id: device.map(Into::into),
                    account_id: account.map(Into::into),
                    ..Elements::default()
                },
                product_description: None,
            },
        )
}

proptest! {
    #[test]
    fn a_qualifying_verdict_always_has_two_priors_in_the_window_matching_a_main_element(
        history in prop::collection::vec(arbitrary_prior(), 0..8).prop_map(|mut history| {
            for (index, prior) in history.iter_mut().enumerate() {
                prior.charge = format!("ch_{index}");
            }
            history
        }),
        reason in prop::option::of(prop::sample::select(vec!["10.4", "13.1"])),
    ) {
        let mut disputed = disputed();
        disputed.elements.device_id = Some("dev-1".into());
        disputed.elements.account_id = Some("acct-42".into());
        let verdict = judge(reason, &disputed, &history, &full_schema());
        let chosen: Vec<&PriorJudgement> =
            verdict.considered.iter().filter(|j| j.outcome == PriorOutcome::Chosen).collect();
        if verdict.qualifies {
            prop_assert_eq!(reason, Some("10.4"));
            prop_assert_eq!(verdict.priors.len(), 2);
            prop_assert_eq!(chosen.len(), 2);
            prop_assert!(verdict.matched.iter().any(|kind| kind.is_primary()));
            for charge in &verdict.priors {
                let prior = history.iter().find(|t| &t.charge == charge).unwrap();
                let days = (disputed.at.date_naive() - prior.at.date_naive()).num_days();
                prop_assert!((120..=365).contains(&days), "{} is {} days old", charge, days);
                prop_assert!(prior.paid && !prior.disputed && prior.payment_method == CARD);
            }
            let json = stripe_json(&disputed, &verdict, &history);
            let priors = json["enhanced_evidence"]["visa_compelling_evidence_3"]["prior_undisputed_transactions"].as_array().unwrap();
            prop_assert_eq!(priors.len(), 2);
        } else {
            prop_assert!(verdict.priors.is_empty() && chosen.is_empty());
            prop_assert!(!verdict.reasons.is_empty());
            prop_assert_eq!(stripe_json(&disputed, &verdict, &history), serde_json::json!({ "enhanced_evidence": {} }));
        }
    }
}

#[test]
fn stripe_field_rules_the_submitted_data_breaks_are_named() {
    let mut a = prior("ch_a", 130);
    a.elements.device_id = Some("short-id".into());
    a.elements.device_fingerprint = Some("fp-0123456789abcdef0123".into());
    if let Some(address) = a.elements.shipping_address.as_mut() {
        address.state = None;
        address.country = Some(" ".into());
    }
    let verdict = judge_10_4(&[a, prior("ch_b", 300)]);
    assert!(verdict.qualifies);
    assert!(
        verdict.missing.contains(
            &"ch_a's device id is shorter than the 15 characters Stripe requires".to_owned()
        ),
        "{:?}",
        verdict.missing
    );
    assert!(
        verdict
            .missing
            .contains(&"ch_a's shipping address lacks state, country".to_owned()),
        "{:?}",
        verdict.missing
    );
    assert!(
        !verdict
            .missing
            .iter()
            .any(|m| m.contains("fingerprint is shorter") || m.starts_with("ch_b")),
        "{:?}",
        verdict.missing
    );
}

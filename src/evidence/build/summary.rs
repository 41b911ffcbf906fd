//! The cover's one paragraph: who the customer is, when they signed up and verified, how much
//! they used the product and from where, and what that means for the disputed charge, from
//! counts the pack already holds. Only what the data shows is said.

use chrono::{DateTime, Utc};

use super::limits::group;
use crate::evidence::ce3::Ce3Verdict;
use crate::evidence::pack::{Customer, DisputeFacts};

/// What the paragraph is made of.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub signed_up: Option<DateTime<Utc>>,
    pub verified: Option<DateTime<Utc>>,
    pub logins: usize,
    pub uses: usize,
    pub first_activity: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub devices: usize,
    pub locations: usize,
    pub payments: usize,
    pub terms: Option<(String, DateTime<Utc>)>,
    /// When the disputed charge was made, when the app records it.
    pub charged_at: Option<DateTime<Utc>>,
    /// Logins and uses after the disputed charge.
    pub activity_after_charge: usize,
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The cover's paragraph.
pub(crate) fn paragraph(
    customer: &Customer,
    facts: &Facts,
    dispute: Option<&DisputeFacts>,
    ce3: Option<&Ce3Verdict>,
) -> String {
    let who = match (&customer.name, &customer.email) {
        (Some(name), Some(email)) => format!("{name} ({email}, account {})", customer.id),
        (None, Some(email)) => format!("The customer {email} (account {})", customer.id),
        (Some(name), None) => format!("{name} (account {})", customer.id),
        (None, None) => format!("The customer with account {}", customer.id),
    };
    let mut sentences = Vec::new();
    sentences.push(match (facts.signed_up, facts.verified) {
        (Some(up), Some(verified)) => format!(
            "{who} signed up on {} and verified their contact details on {}.",
            day(up),
            day(verified)
        ),
        (Some(up), None) => format!("{who} signed up on {}.", day(up)),
        (None, Some(verified)) => {
            format!("{who} verified their contact details on {}.", day(verified))
        }
        (None, None) => format!("{who} is the subject of this record."),
    });
    if facts.logins + facts.uses > 0 {
        let span = match (facts.first_activity, facts.last_activity) {
            (Some(first), Some(last)) => format!("Between {} and {}", day(first), day(last)),
            _ => "Over the recorded period".to_string(),
        };
        let mut parts = Vec::new();
        if facts.logins > 0 {
            parts.push(format!("signed in {} times", group(facts.logins)));
        }
        if facts.uses > 0 {
            parts.push(format!("used the product {} times", group(facts.uses)));
        }
        let from = match (facts.devices, facts.locations) {
            (0, 0) => String::new(),
            (devices, 0) => format!(" from {devices} device(s)"),
            (0, locations) => format!(" from {locations} location(s)"),
            (devices, locations) => {
                format!(" from {devices} device(s) and {locations} location(s)")
            }
        };
        sentences.push(format!("{span} they {}{from}.", parts.join(" and ")));
    } else {
        sentences.push("The app records no logins or usage for this customer.".to_string());
    }
    if let Some(charged) = facts.charged_at {
        let amount = dispute.map_or_else(String::new, |d| format!(" of {}", d.amount_words()));
        sentences.push(if facts.activity_after_charge > 0 {
            format!(
                "After the disputed charge{amount} on {}, they kept using the account: {} logins and uses.",
                day(charged),
                group(facts.activity_after_charge)
            )
        } else {
            format!(
                "The app records no activity after the disputed charge{amount} on {}.",
                day(charged)
            )
        });
    }
    if facts.payments > 1 {
        sentences.push(format!(
            "They made {} payments in all.",
            group(facts.payments)
        ));
    }
    if let Some((version, at)) = &facts.terms {
        sentences.push(format!(
            "They accepted the terms (version {version}) on {}.",
            day(*at)
        ));
    }
    if let Some(verdict) = ce3 {
        sentences.push(if verdict.qualifies {
            format!(
                "The dispute qualifies for Visa Compelling Evidence 3.0: prior undisputed charges {} on the same card match the disputed one.",
                verdict.priors.join(" and ")
            )
        } else if verdict.reason_code_applies {
            "The dispute does not qualify for Visa Compelling Evidence 3.0 (see the verdict below).".to_string()
        } else {
            String::new()
        });
    }
    sentences.retain(|s| !s.is_empty());
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap()
    }

    #[test]
    fn the_paragraph_says_what_the_data_shows_and_nothing_else() {
        let customer = Customer {
            id: "42".into(),
            email: Some("zoe@example.com".into()),
            name: Some("Zoë".into()),
        };
        let facts = Facts {
            signed_up: Some(at(1)),
            verified: Some(at(2)),
            logins: 1200,
            uses: 3,
            first_activity: Some(at(1)),
            last_activity: Some(at(20)),
            devices: 2,
            locations: 1,
            payments: 3,
            charged_at: Some(at(10)),
            activity_after_charge: 40,
            ..Facts::default()
        };
        let dispute = DisputeFacts {
            id: "dp_1".into(),
            charge: "ch_1".into(),
            amount_minor: 4900,
            currency: "usd".into(),
            reason: "fraudulent".into(),
            network_reason_code: Some("10.4".into()),
            evidence_due_by: None,
            status: "needs_response".into(),
        };
        let text = paragraph(&customer, &facts, Some(&dispute), None);
        assert_eq!(
            text,
            "Zoë (zoe@example.com, account 42) signed up on 2026-03-01 and verified their contact details on 2026-03-02. \
             Between 2026-03-01 and 2026-03-20 they signed in 1,200 times and used the product 3 times from 2 device(s) and 1 location(s). \
             After the disputed charge of $49.00 on 2026-03-10, they kept using the account: 40 logins and uses. \
             They made 3 payments in all."
        );
        let idle = paragraph(
            &Customer {
                id: "7".into(),
                email: None,
                name: None,
            },
            &Facts::default(),
            None,
            None,
        );
        assert_eq!(
            idle,
            "The customer with account 7 is the subject of this record. The app records no logins or usage for this customer."
        );
    }
}

//! The pure judgement of `certificate`: a certificate that expires within `expires_within`
//! (or already expired) is broken, whether or not its chain is trusted; trust and name
//! problems are facts on the page, so the operator sees everything wrong at once.

use crate::humanize;
use crate::watch::observation::Observation;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// What was read off one certificate (the leaf a host serves, or the first in a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateFacts {
    /// The subject's distinguished name, e.g. `CN=shop.example.com`.
    pub subject: String,
    pub issuer: String,
    pub not_after: DateTime<Utc>,
    /// Why the chain is not trusted for the name it was asked for (an unknown issuer, a name
    /// that does not match); `None` when it is trusted, or was not checked (a file).
    pub distrust: Option<String>,
}

/// One observation for the certificate `subject` (a `host:port` or a path).
pub(crate) fn judge(
    subject: &str,
    description: &str,
    facts: &CertificateFacts,
    expires_within: Duration,
    now: DateTime<Utc>,
) -> Observation {
    let window = chrono::Duration::from_std(expires_within).unwrap_or(chrono::Duration::MAX);
    let left = facts.not_after - now;
    let observation = if left <= window {
        let when = if left <= chrono::Duration::zero() {
            format!("expired {}", humanize::moment(facts.not_after, now, &Utc))
        } else {
            format!(
                "expires in {} ({})",
                humanize::duration(left.to_std().unwrap_or_default()),
                facts.not_after.format("%Y-%m-%d %H:%M UTC")
            )
        };
        Observation::broken(subject, format!("{description}: certificate {when}"))
    } else {
        Observation::held(subject)
    };
    let mut observation = observation
        .with_fact(format!("subject: {}", facts.subject))
        .with_fact(format!("issuer: {}", facts.issuer))
        .with_fact(format!(
            "valid until {}",
            facts.not_after.format("%Y-%m-%d %H:%M UTC")
        ))
        .with_value(left.num_seconds() as f64 / 86_400.0);
    if let Some(distrust) = &facts.distrust {
        observation = observation.with_fact(format!("not trusted: {distrust}"));
    }
    observation
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::observation::Health;

    const DAY: i64 = 86_400;

    fn facts(days_left: i64, now: DateTime<Utc>) -> CertificateFacts {
        CertificateFacts {
            subject: "CN=shop.example.com".into(),
            issuer: "CN=R11, O=Let's Encrypt".into(),
            not_after: now + chrono::Duration::seconds(days_left * DAY),
            distrust: None,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    const FORTNIGHT: Duration = Duration::from_secs(14 * DAY as u64);

    #[test]
    fn a_certificate_expiring_within_the_window_is_broken_and_named() {
        let seen = judge(
            "shop.example.com:443",
            "Shop",
            &facts(9, now()),
            FORTNIGHT,
            now(),
        );
        assert_eq!(seen.health, Health::Broken);
        assert_eq!(seen.subject, "shop.example.com:443");
        assert!(
            seen.title.contains("Shop: certificate expires in 9d"),
            "{}",
            seen.title
        );
        assert!(
            seen.facts
                .iter()
                .any(|f| f == "subject: CN=shop.example.com")
        );
        assert!(seen.facts.iter().any(|f| f.starts_with("issuer: CN=R11")));
        assert!(
            seen.facts
                .iter()
                .any(|f| f.starts_with("valid until 2027-"))
        );
    }

    #[test]
    fn an_expired_certificate_says_so() {
        let seen = judge("c", "Shop", &facts(-2, now()), FORTNIGHT, now());
        assert_eq!(seen.health, Health::Broken);
        assert!(seen.title.contains("certificate expired"), "{}", seen.title);
    }

    #[test]
    fn a_renewed_certificate_holds() {
        let seen = judge("c", "Shop", &facts(60, now()), FORTNIGHT, now());
        assert_eq!(seen.health, Health::Held);
        let edge = judge("c", "Shop", &facts(15, now()), FORTNIGHT, now());
        assert_eq!(edge.health, Health::Held, "15 days left is outside 14");
    }

    #[test]
    fn distrust_is_a_fact_not_the_verdict() {
        let mut untrusted = facts(60, now());
        untrusted.distrust = Some("not issued for this name".into());
        let seen = judge("c", "Shop", &untrusted, FORTNIGHT, now());
        assert_eq!(seen.health, Health::Held, "expiry alone decides");
        assert!(
            seen.facts
                .iter()
                .any(|f| f == "not trusted: not issued for this name")
        );
    }
}

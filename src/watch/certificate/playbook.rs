//! The certificate playbook: the certificate read again (the host's handshake or the file),
//! its expiry and issuer, and what they say about the renewal that did not happen (an ACME
//! client that stopped, a certificate made by hand, a server still presenting the old one).

use super::core::CertificateFacts;
use super::read;
use super::spec::{CertificateSpec, CertificateTarget};
use crate::config::WatchSpec;
use crate::humanize;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Words in an issuer's name that mark a certificate authority renewing over ACME (certbot,
/// acme.sh, Caddy, Traefik...), where renewal is automatic and a near expiry means it stopped.
const ACME_ISSUERS: &[&str] = &[
    "let's encrypt",
    "zerossl",
    "buypass",
    "google trust services",
    "ssl.com",
];

/// The certificate, its renewal window and what was read, for the judgement.
pub(crate) struct Read<'a> {
    /// `shop.example.com:443` or the path.
    pub label: &'a str,
    pub facts: &'a CertificateFacts,
    pub id: &'a str,
    /// The evidence of the page's alert.
    pub alert_id: &'a str,
    pub expires_within: Duration,
    /// The host it was read from (a file target has none).
    pub host: Option<(&'a str, u16)>,
}

/// Judges the certificate read again, or why it could not be (`Err`: what failed). Pure: the
/// playbook reads, this reasons.
pub(crate) fn judge(finding: &mut Finding, read: Result<&Read<'_>, &str>, now: DateTime<Utc>) {
    let read = match read {
        Ok(read) => read,
        Err(failed) => {
            finding.gaps.push(format!(
                "The certificate could not be read again ({failed}): whether it was renewed since the page is unknown."
            ));
            finding.verdict = Verdict::Inconclusive;
            finding.confidence = finding.confidence.at_most(Confidence::LOW);
            return;
        }
    };
    let facts = read.facts;
    let until = facts.not_after.format("%Y-%m-%d %H:%M UTC");
    let left = facts.not_after - now;
    let window = chrono::Duration::from_std(read.expires_within).unwrap_or(chrono::Duration::MAX);
    if left > window {
        finding.summary = format!(
            "The certificate of {} has been renewed: it is now valid until {until} (issuer {}).",
            read.label, facts.issuer
        );
        finding.overtake(read.alert_id, read.id);
        finding.hypotheses.push(Hypothesis::known(
            format!("It was renewed: valid until {until}."),
            &[read.id],
        ));
        finding
            .hypotheses
            .push(Hypothesis::discarded("It still expires soon.", &[read.id]));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.confidence = Confidence::HIGH;
        finding.steps.push(Step::say(
            "Nothing: the page resolves at the watch's next check.",
        ));
        return;
    }
    let when = if left <= chrono::Duration::zero() {
        format!(
            "expired {} ago ({until})",
            humanize::duration((-left).to_std().unwrap_or_default())
        )
    } else {
        format!(
            "expires in {} ({until})",
            humanize::duration(left.to_std().unwrap_or_default())
        )
    };
    finding.summary = format!(
        "The certificate of {} {when} and was not renewed; issuer {}.",
        read.label, facts.issuer
    );
    finding.hypotheses.push(Hypothesis::known(
        format!(
            "The certificate ({}) {when}: it was not renewed.",
            facts.subject
        ),
        &[read.id],
    ));
    finding.verdict = Verdict::ActionNeeded;
    finding.classification = Classification::OpsOrConfig;
    finding.confidence = Confidence::MEDIUM;
    let issuer = facts.issuer.to_lowercase();
    let acme = ACME_ISSUERS.iter().any(|name| issuer.contains(name));
    let distrust = facts.distrust.as_deref().unwrap_or_default();
    if acme {
        finding.hypotheses.push(Hypothesis::guessed(
            format!(
                "It comes from an authority that renews automatically ({}): the ACME client (certbot, acme.sh, the proxy's own) stopped renewing, or its renewals fail.",
                facts.issuer
            ),
            &[read.id],
        ));
        finding.steps.push(Step::run(
            "See what the ACME client knows and whether its timer runs",
            "certbot certificates; systemctl list-timers --all | grep -i -E 'certbot|acme'",
        ));
        finding.steps.push(Step::run(
            "Try a renewal without changing anything",
            "certbot renew --dry-run",
        ));
    } else if distrust.contains("does not trust") || facts.subject == facts.issuer {
        finding.hypotheses.push(Hypothesis::known(
            "It is self-signed or from a private authority: nothing renews it automatically.",
            &[read.id],
        ));
        finding.confidence = Confidence::HIGH;
        finding.steps.push(Step::say(
            "Renew it where it was made (the private authority, or a new self-signed certificate) and install it.",
        ));
    } else {
        finding.hypotheses.push(Hypothesis::guessed(
            format!(
                "It is renewed by hand or by the provider ({}): the renewal was missed.",
                facts.issuer
            ),
            &[read.id],
        ));
        finding.steps.push(Step::say(format!(
            "Renew it with its issuer ({}) and install it.",
            facts.issuer
        )));
    }
    if distrust.contains("not issued for this name") {
        finding.hypotheses.push(Hypothesis::known(
            "The certificate presented is not issued for this name: the server may present the wrong certificate (another site's, or a default one).",
            &[read.id],
        ));
    }
    if let Some((host, port)) = read.host {
        finding.hypotheses.push(Hypothesis::guessed(
            "A renewed certificate may already be on disk while the server still presents the old one (not reloaded since).",
            &[read.id],
        ));
        finding.steps.push(Step::run(
            "Compare what the server presents with the file on disk, then reload the server",
            format!(
                "openssl s_client -connect {host}:{port} -servername {host} </dev/null 2>/dev/null | openssl x509 -noout -enddate; openssl x509 -noout -enddate -in <the certificate file>; systemctl reload <the web server>"
            ),
        ));
    }
}

fn describe(facts: &CertificateFacts) -> String {
    let mut text = format!(
        "subject: {}\nissuer: {}\nvalid until {}",
        facts.subject,
        facts.issuer,
        facts.not_after.format("%Y-%m-%d %H:%M:%S UTC")
    );
    match &facts.distrust {
        Some(distrust) => text.push_str(&format!("\nnot trusted: {distrust}")),
        None => text.push_str("\ntrusted by this machine (or not checked, for a file)"),
    }
    text
}

/// Reads the certificate again, then judges it.
pub(crate) async fn run(
    spec: &WatchSpec,
    certificate: &CertificateSpec,
    ctx: &PlaybookContext<'_>,
) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    if alert.is_none() {
        return finding;
    }
    let label = certificate.target.label();
    let (tool, query, facts, host) = match &certificate.target {
        CertificateTarget::Host { host, port } => (
            "tls",
            format!("TLS handshake with {label} (server name {host}), nothing sent"),
            read::served(&label, host, *port, spec.timeout.mul_f64(0.9)).await,
            Some((host.as_str(), *port)),
        ),
        CertificateTarget::File { path } => (
            "files",
            format!("the first certificate in {path}"),
            read::on_disk(path).await,
            None,
        ),
    };
    match facts {
        Ok(facts) => {
            let alert_id = finding
                .evidence
                .items()
                .first()
                .map(|item| item.id.clone())
                .unwrap_or_default();
            let id = finding
                .evidence
                .add(tool, None, query, &describe(&facts), ctx.now);
            let read = Read {
                label: &label,
                facts: &facts,
                id: &id,
                alert_id: &alert_id,
                expires_within: certificate.expires_within,
                host,
            };
            judge(&mut finding, Ok(&read), ctx.now);
        }
        Err(error) => judge(
            &mut finding,
            Err(&format!("{label}: {}", error.detail)),
            ctx.now,
        ),
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;

    const FORTNIGHT: Duration = Duration::from_secs(14 * 86_400);

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn facts(days_left: i64, issuer: &str, distrust: Option<&str>) -> CertificateFacts {
        CertificateFacts {
            subject: "CN=shop.example.com".into(),
            issuer: issuer.into(),
            not_after: now() + chrono::Duration::days(days_left),
            distrust: distrust.map(str::to_string),
        }
    }

    fn judged(facts: &CertificateFacts, host: Option<(&str, u16)>) -> Finding {
        let mut finding = Finding::open("");
        let alert_id = finding.evidence.add("store", None, "alerts", "..", now());
        finding.hypotheses.push(Hypothesis::known(
            "The expectation is still broken.",
            &[&alert_id],
        ));
        let id = finding.evidence.add("tls", None, "handshake", "..", now());
        let read = Read {
            label: "shop.example.com:443",
            facts,
            id: &id,
            alert_id: &alert_id,
            expires_within: FORTNIGHT,
            host,
        };
        judge(&mut finding, Ok(&read), now());
        finding.settle();
        finding
    }

    const LETS_ENCRYPT: &str = "C=US, O=Let's Encrypt, CN=R11";

    #[test]
    fn an_acme_certificate_close_to_expiry_points_at_the_renewal_client() {
        let finding = judged(
            &facts(5, LETS_ENCRYPT, None),
            Some(("shop.example.com", 443)),
        );
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.classification, Classification::OpsOrConfig);
        assert!(
            finding.summary.contains("expires in 5d"),
            "{}",
            finding.summary
        );
        assert!(
            finding.summary.contains("Let's Encrypt"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.command.as_deref() == Some("certbot renew --dry-run"))
        );
        assert!(finding.steps.iter().any(|s| {
            s.command
                .as_deref()
                .is_some_and(|c| c.contains("-servername shop.example.com"))
        }));
    }

    #[test]
    fn an_expired_self_signed_certificate_is_renewed_by_hand() {
        let mut self_signed = facts(
            -2,
            "CN=shop.example.com",
            Some(
                "issued by a certificate authority this machine does not trust (self-signed or a private CA)",
            ),
        );
        self_signed.subject = "CN=shop.example.com".into();
        let finding = judged(&self_signed, None);
        assert!(
            finding.summary.contains("expired 2d ago"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.basis == Basis::Known && h.statement.contains("self-signed"))
        );
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(
            !finding
                .steps
                .iter()
                .any(|s| s.command.as_deref().is_some_and(|c| c.contains("s_client"))),
            "a file has no server to ask"
        );
    }

    #[test]
    fn a_certificate_for_another_name_is_said_to_be_the_wrong_one() {
        let finding = judged(
            &facts(
                3,
                "O=Example CA, CN=Example RSA",
                Some("not issued for this name"),
            ),
            Some(("shop.example.com", 443)),
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.basis == Basis::Known && h.statement.contains("wrong certificate"))
        );
        assert_eq!(
            finding.confidence,
            Confidence::MEDIUM,
            "the cause is a guess"
        );
    }

    #[test]
    fn a_renewed_certificate_needs_nothing() {
        let finding = judged(&facts(80, LETS_ENCRYPT, None), None);
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
        assert!(
            finding.summary.contains("has been renewed"),
            "{}",
            finding.summary
        );
        assert!(finding.hypotheses.iter().any(|h| !h.kept));
    }

    #[test]
    fn a_certificate_that_cannot_be_read_again_leaves_it_open() {
        let mut finding = Finding::open("");
        finding.confidence = Confidence::MEDIUM;
        judge(
            &mut finding,
            Err("shop.example.com:443: cannot connect: Connection refused"),
            now(),
        );
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert_eq!(finding.confidence, Confidence::LOW);
        assert!(
            finding.gaps[0].contains("Connection refused"),
            "{:?}",
            finding.gaps
        );
    }
}

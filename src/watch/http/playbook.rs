//! The http playbook: a few fresh probes of the endpoint, compared with what the page said,
//! and what the way it fails points at (nothing listening, a proxy whose upstream is down, the
//! app itself, a dependency its answer names, load), with the incidents it had before.

use crate::config::{HttpSpec, WatchSpec};
use crate::humanize;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::logs::redact::redact;
use crate::source::http::HttpReading;
use crate::source::{SourceError, SourceErrorKind};
use std::time::Duration;

/// Fresh probes sent, one after the other.
const PROBES: usize = 3;

/// The pause between two probes.
const PAUSE: Duration = Duration::from_secs(1);

/// Characters of a body kept in the evidence.
const BODY_CHARS: usize = 120;

/// From this incident on, the endpoint is said to keep coming back to the same failure.
const RECURRING_FROM: i64 = 3;

/// How one fresh probe went.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Probe {
    /// It answered as it should.
    Good { status: u16, latency: Duration },
    /// A status the watch does not accept.
    Status { status: u16, body: String },
    /// The body did not say what it should.
    Body { status: u16, body: String },
    /// It answered as it should, but too slowly.
    Slow { latency: Duration, limit: Duration },
    /// No answer at all: refused, timed out, TLS, DNS.
    NoAnswer { detail: String, timed_out: bool },
}

impl Probe {
    /// What one probe's outcome is, judged as the watch judges it.
    pub(crate) fn of(http: &HttpSpec, outcome: &Result<HttpReading, SourceError>) -> Probe {
        let reading = match outcome {
            Ok(reading) => reading,
            Err(error) => {
                return Probe::NoAnswer {
                    detail: error.detail.clone(),
                    timed_out: error.kind == SourceErrorKind::Timeout,
                };
            }
        };
        let body = || {
            let text: String = reading.body_excerpt.chars().take(BODY_CHARS).collect();
            redact(&text.split_whitespace().collect::<Vec<_>>().join(" "))
        };
        if !reading.status_expected {
            Probe::Status {
                status: reading.status,
                body: body(),
            }
        } else if reading.body_matched == Some(false) {
            Probe::Body {
                status: reading.status,
                body: body(),
            }
        } else if let Some(limit) = http.max_latency.filter(|limit| reading.latency > *limit) {
            Probe::Slow {
                latency: reading.latency,
                limit,
            }
        } else {
            Probe::Good {
                status: reading.status,
                latency: reading.latency,
            }
        }
    }

    fn is_good(&self) -> bool {
        matches!(self, Probe::Good { .. })
    }

    /// One line of evidence.
    fn line(&self) -> String {
        match self {
            Probe::Good { status, latency } => {
                format!("{status} in {}: as it should", millis(*latency))
            }
            Probe::Status { status, body } | Probe::Body { status, body } => {
                let what = if matches!(self, Probe::Status { .. }) {
                    "a status it should not answer with"
                } else {
                    "the body does not match"
                };
                if body.is_empty() {
                    format!("{status}: {what}")
                } else {
                    format!("{status}: {what}; body: {body}")
                }
            }
            Probe::Slow { latency, limit } => {
                format!("slow: {} (limit {})", millis(*latency), millis(*limit))
            }
            Probe::NoAnswer { detail, .. } => format!("no answer: {detail}"),
        }
    }

    /// How it failed, in a few words.
    fn how(&self) -> String {
        match self {
            Probe::Good { .. } => "answers as it should".into(),
            Probe::Status { status, .. } => format!("answers {status}"),
            Probe::Body { .. } => "answers, but not what it should".into(),
            Probe::Slow { latency, .. } => format!("answers slowly ({})", millis(*latency)),
            Probe::NoAnswer { detail, .. } => format!("no answer ({detail})"),
        }
    }
}

fn millis(took: Duration) -> String {
    format!("{} ms", took.as_millis())
}

/// The endpoint as the playbook names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The URL without credentials.
    pub url: String,
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub(crate) fn of(url: &str) -> Endpoint {
        let shown = redact(&crate::source::http::redact(url));
        let parsed = reqwest::Url::parse(url).ok();
        Endpoint {
            url: shown,
            host: parsed
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default(),
            port: parsed
                .as_ref()
                .and_then(reqwest::Url::port_or_known_default)
                .unwrap_or(0),
        }
    }
}

/// Judges the fresh probes. `incident` counts this endpoint's incidents (the alert's), whose
/// evidence is `alert_id`. Pure: the playbook probes, this reasons.
pub(crate) fn judge(
    finding: &mut Finding,
    endpoint: &Endpoint,
    probes: &[Probe],
    probes_id: &str,
    incident: i64,
    alert_id: &str,
) {
    let total = probes.len();
    let Some(failed) = probes.iter().find(|p| !p.is_good()) else {
        if total == 0 {
            finding.verdict = Verdict::Inconclusive;
            finding
                .gaps
                .push("No fresh probe could be sent to the endpoint.".into());
            return;
        }
        finding.summary = format!(
            "{} answers as it should again: {total} of {total} fresh probes succeeded; the page resolves once it has held long enough.",
            endpoint.url
        );
        finding.overtake(alert_id, probes_id);
        finding.hypotheses.push(Hypothesis::known(
            format!("It answers as it should now ({total} of {total} fresh probes)."),
            &[probes_id],
        ));
        finding
            .hypotheses
            .push(Hypothesis::discarded("It is still failing.", &[probes_id]));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.confidence = Confidence::MEDIUM;
        if incident >= RECURRING_FROM {
            recurring(finding, incident, alert_id);
            finding.verdict = Verdict::ActionSuggested;
            finding.steps.push(Step::say(
                "Look at what happened around each failure (restarts, deploys, load) in the app's and the proxy's logs.",
            ));
        } else {
            finding.steps.push(Step::say(
                "Nothing now. If it fails again, reply to the page to ask why.",
            ));
        }
        return;
    };
    let failures = probes.iter().filter(|p| !p.is_good()).count();
    if failures < total {
        finding.summary = format!(
            "{} fails now and then: {failures} of {total} fresh probes failed ({}).",
            endpoint.url,
            failed.how()
        );
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "It fails intermittently: {failures} of {total} fresh probes failed ({}).",
                failed.how()
            ),
            &[probes_id],
        ));
        finding.verdict = Verdict::ActionSuggested;
        finding.confidence = Confidence::MEDIUM;
    } else {
        finding.summary = format!(
            "{} is still failing: {}, in {total} of {total} fresh probes.",
            endpoint.url,
            failed.how()
        );
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "It is still failing: {} in {total} of {total} fresh probes.",
                failed.how()
            ),
            &[probes_id],
        ));
        finding.verdict = Verdict::ActionNeeded;
        finding.confidence = Confidence::MEDIUM;
    }
    let known_cause = cause(finding, endpoint, failed, probes_id);
    if known_cause && failures == total {
        finding.confidence = Confidence::HIGH;
    }
    if incident >= RECURRING_FROM {
        recurring(finding, incident, alert_id);
    }
    finding.steps.push(Step::run(
        "Probe it by hand",
        format!(
            "curl -sS -o /dev/null -w '%{{http_code}} %{{time_total}}s\\n' {}",
            shell_quote(&endpoint.url)
        ),
    ));
}

fn recurring(finding: &mut Finding, incident: i64, alert_id: &str) {
    finding.hypotheses.push(Hypothesis::known(
        format!("It keeps coming back: this is incident #{incident} of this endpoint."),
        &[alert_id],
    ));
}

/// What the way it fails points at; true when the evidence establishes it.
fn cause(finding: &mut Finding, endpoint: &Endpoint, failed: &Probe, probes_id: &str) -> bool {
    let place = format!("{}:{}", endpoint.host, endpoint.port);
    match failed {
        Probe::NoAnswer { detail, timed_out } => {
            let lower = detail.to_lowercase();
            if lower.contains("refused") {
                finding.hypotheses.push(Hypothesis::known(
                    format!("Nothing accepts connections on {place} (connection refused): the service, or the proxy in front of it, is down."),
                    &[probes_id],
                ));
                finding.classification = Classification::OpsOrConfig;
                finding.steps.push(Step::run(
                    "See which services failed",
                    "systemctl --failed; systemctl status <the service>",
                ));
                finding.steps.push(Step::run(
                    "See what listens on the port",
                    format!("ss -ltnp | grep ':{}'", endpoint.port),
                ));
                true
            } else if lower.contains("resolve") || lower.contains("dns") {
                finding.hypotheses.push(Hypothesis::known(
                    format!("The host name {} does not resolve.", endpoint.host),
                    &[probes_id],
                ));
                finding.classification = Classification::OpsOrConfig;
                finding.steps.push(Step::run(
                    "Resolve it by hand",
                    format!("getent hosts {}", shell_quote(&endpoint.host)),
                ));
                true
            } else if lower.contains("certificate") || lower.contains("tls") {
                finding.hypotheses.push(Hypothesis::known(
                    format!("The TLS handshake with {place} fails: {detail}."),
                    &[probes_id],
                ));
                finding.classification = Classification::OpsOrConfig;
                finding.steps.push(Step::run(
                    "See the certificate it presents",
                    format!(
                        "openssl s_client -connect {place} -servername {} </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -enddate",
                        shell_quote(&endpoint.host)
                    ),
                ));
                true
            } else if *timed_out || lower.contains("timed out") {
                finding.hypotheses.push(Hypothesis::guessed(
                    format!("{place} accepts nothing in time: the server is overloaded or hung, or a firewall drops the packets."),
                    &[probes_id],
                ));
                finding.classification = Classification::OpsOrConfig;
                finding.steps.push(Step::run(
                    "See the machine's load",
                    "uptime; free -m; df -h",
                ));
                false
            } else {
                finding.hypotheses.push(Hypothesis::guessed(
                    format!("The endpoint gives no answer: {detail}."),
                    &[probes_id],
                ));
                false
            }
        }
        Probe::Status { status, .. } => match status {
            502..=504 => {
                finding.hypotheses.push(Hypothesis::known(
                    format!("The proxy in front answers {status}: the app behind it is down or too slow to answer."),
                    &[probes_id],
                ));
                finding.hypotheses.push(Hypothesis::discarded(
                    "The machine or its proxy is down (the proxy answers).",
                    &[probes_id],
                ));
                finding.classification = Classification::OpsOrConfig;
                finding.steps.push(Step::run(
                    "See whether the app runs, and its last words",
                    "systemctl status <the app>; journalctl -u <the app> --since -1h | tail -50",
                ));
                true
            }
            500..=599 => {
                finding.hypotheses.push(Hypothesis::guessed(
                    format!("The app itself fails with {status}: its log at the time of the probes says why."),
                    &[probes_id],
                ));
                finding.steps.push(Step::say(
                    "Read the app's error log at the time of the failing probes.",
                ));
                false
            }
            401 | 403 => {
                finding.hypotheses.push(Hypothesis::guessed(
                    format!("It refuses the probe ({status}): it now wants credentials the watch does not send, or they were revoked."),
                    &[probes_id],
                ));
                finding.classification = Classification::OpsOrConfig;
                false
            }
            404 => {
                finding.hypotheses.push(Hypothesis::guessed(
                    "The path is gone: a deploy or the proxy's configuration changed the routes.",
                    &[probes_id],
                ));
                finding.classification = Classification::OpsOrConfig;
                false
            }
            _ => {
                finding.hypotheses.push(Hypothesis::guessed(
                    format!("It answers {status}, which the watch does not accept."),
                    &[probes_id],
                ));
                false
            }
        },
        Probe::Body { body, .. } => {
            finding.hypotheses.push(Hypothesis::known(
                format!("It answers, but its answer says something is wrong: “{body}”."),
                &[probes_id],
            ));
            finding.classification = Classification::OpsOrConfig;
            finding.steps.push(Step::say(
                "Check the dependency the answer names (a database, a queue, a disk).",
            ));
            true
        }
        Probe::Slow { latency, limit } => {
            finding.hypotheses.push(Hypothesis::guessed(
                format!(
                    "It answers in {} instead of under {}: it is overloaded, or waits on something slow (a database, an upstream).",
                    millis(*latency),
                    millis(*limit)
                ),
                &[probes_id],
            ));
            finding.classification = Classification::OpsOrConfig;
            finding.steps.push(Step::run(
                "See the machine's load",
                "uptime; free -m; df -h",
            ));
            false
        }
        Probe::Good { .. } => false,
    }
}

/// `text` as one POSIX shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Probes the endpoint a few times, then judges what it answered.
pub(crate) async fn run(spec: &WatchSpec, http: &HttpSpec, ctx: &PlaybookContext<'_>) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let alert_id = finding
        .evidence
        .items()
        .first()
        .map(|item| item.id.clone())
        .unwrap_or_default();
    let endpoint = Endpoint::of(&http.probe.url);
    let Some(client) = ctx.sources.http(&spec.name) else {
        finding.gaps.push(format!(
            "No HTTP client is set up for watch {}: the endpoint was not probed again.",
            spec.name
        ));
        return finding;
    };
    let mut probes = Vec::with_capacity(PROBES);
    let mut lines = Vec::with_capacity(PROBES);
    for n in 0..PROBES {
        if n > 0 {
            tokio::time::sleep(PAUSE).await;
        }
        let probe = Probe::of(http, &client.probe(&http.probe).await);
        lines.push(format!("{}. {}", n + 1, probe.line()));
        let timed_out = matches!(
            probe,
            Probe::NoAnswer {
                timed_out: true,
                ..
            }
        );
        probes.push(probe);
        if timed_out {
            // Another probe would wait its whole timeout again to say the same.
            break;
        }
    }
    let probes_id = finding.evidence.add(
        "http",
        None,
        format!(
            "{} GET {} ({} s apart, {} s timeout each)",
            PROBES,
            endpoint.url,
            PAUSE.as_secs(),
            http.probe.timeout.as_secs()
        ),
        &lines.join("\n"),
        ctx.now,
    );
    judge(
        &mut finding,
        &endpoint,
        &probes,
        &probes_id,
        alert.incident,
        &alert_id,
    );
    let since = humanize::moment(alert.broken_since, ctx.now, &chrono_tz::UTC);
    finding.summary = format!("{} It broke {since}.", finding.summary);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;
    use crate::source::SourceErrorKind;
    use crate::source::http::HttpProbe;
    use chrono::Utc;

    fn endpoint() -> Endpoint {
        Endpoint::of("https://ops:secret@shop.example:8443/healthz")
    }

    fn judged(probes: &[Probe], incident: i64) -> Finding {
        let mut finding = Finding::open("");
        let alert_id = finding
            .evidence
            .add("store", None, "alerts", "..", Utc::now());
        finding.hypotheses.push(Hypothesis::known(
            "The expectation is still broken.",
            &[&alert_id],
        ));
        let probes_id = finding.evidence.add("http", None, "GET", "..", Utc::now());
        judge(
            &mut finding,
            &endpoint(),
            probes,
            &probes_id,
            incident,
            &alert_id,
        );
        finding.settle();
        finding
    }

    fn refused() -> Probe {
        Probe::NoAnswer {
            detail: "cannot connect: Connection refused (os error 111)".into(),
            timed_out: false,
        }
    }

    fn good() -> Probe {
        Probe::Good {
            status: 200,
            latency: Duration::from_millis(40),
        }
    }

    #[test]
    fn the_endpoint_is_named_without_credentials_with_its_port() {
        let endpoint = endpoint();
        assert_eq!(endpoint.url, "https://shop.example:8443/healthz");
        assert_eq!(
            (endpoint.host.as_str(), endpoint.port),
            ("shop.example", 8443)
        );
        assert_eq!(Endpoint::of("http://shop.example/").port, 80);
    }

    #[test]
    fn probes_are_judged_as_the_watch_judges_them() {
        let mut http = HttpSpec {
            probe: HttpProbe::get("http://x/", Duration::from_secs(2)),
            max_latency: Some(Duration::from_millis(300)),
        };
        let reading = |status: u16, ms: u64, matched: Option<bool>| {
            Ok(HttpReading {
                status,
                status_expected: (200..300).contains(&status),
                latency: Duration::from_millis(ms),
                body_matched: matched,
                body_excerpt: "{\"db\": \"down\", \"contact\": \"bob@example.com\"}".into(),
                body_truncated: false,
            })
        };
        assert!(matches!(
            Probe::of(&http, &reading(200, 40, None)),
            Probe::Good { .. }
        ));
        assert!(matches!(
            Probe::of(&http, &reading(503, 40, None)),
            Probe::Status { status: 503, .. }
        ));
        let Probe::Body { body, .. } = Probe::of(&http, &reading(200, 40, Some(false))) else {
            panic!("a body that does not match");
        };
        assert!(body.contains("\"db\": \"down\""), "{body}");
        assert!(!body.contains("bob@"), "redacted: {body}");
        assert!(matches!(
            Probe::of(&http, &reading(200, 900, None)),
            Probe::Slow { .. }
        ));
        http.max_latency = None;
        assert!(matches!(
            Probe::of(&http, &reading(200, 900, None)),
            Probe::Good { .. }
        ));
        let error = SourceError::new(
            "w",
            SourceErrorKind::Timeout,
            "no complete answer within 2s",
        );
        assert_eq!(
            Probe::of(&http, &Err(error)),
            Probe::NoAnswer {
                detail: "no complete answer within 2s".into(),
                timed_out: true,
            }
        );
    }

    #[test]
    fn nothing_listening_is_known_and_says_where_to_look() {
        let finding = judged(&[refused(), refused(), refused()], 1);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.classification, Classification::OpsOrConfig);
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(finding.summary.contains("3 of 3"), "{}", finding.summary);
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.basis == Basis::Known && h.statement.contains("shop.example:8443")),
            "{:?}",
            finding.hypotheses
        );
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.command.as_deref() == Some("ss -ltnp | grep ':8443'"))
        );
    }

    #[test]
    fn a_gateway_error_points_behind_the_proxy_and_rules_the_proxy_out() {
        let bad = Probe::Status {
            status: 502,
            body: "Bad Gateway".into(),
        };
        let finding = judged(&[bad.clone(), bad.clone(), bad], 1);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(finding.hypotheses.iter().any(|h| !h.kept));
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.kept && h.statement.contains("app behind it"))
        );
    }

    #[test]
    fn an_app_error_is_left_open_as_a_guess() {
        let bad = Probe::Status {
            status: 500,
            body: String::new(),
        };
        let finding = judged(&[bad.clone(), bad.clone(), bad], 1);
        assert_eq!(finding.classification, Classification::Unknown);
        assert_eq!(finding.confidence, Confidence::MEDIUM);
        assert!(finding.hypotheses.iter().any(|h| h.basis == Basis::Guessed));
    }

    #[test]
    fn a_body_that_names_the_problem_is_quoted() {
        let bad = Probe::Body {
            status: 200,
            body: "{\"db\": \"down\"}".into(),
        };
        let finding = judged(&[bad.clone(), bad.clone(), bad], 1);
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.statement.contains("{\"db\": \"down\"}"))
        );
    }

    #[test]
    fn an_endpoint_that_answers_again_needs_nothing_unless_it_keeps_coming_back() {
        let healed = judged(&[good(), good(), good()], 1);
        assert_eq!(healed.verdict, Verdict::NoAction);
        assert!(
            healed
                .hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.contains("still broken")),
            "the page's claim is overtaken: {:?}",
            healed.hypotheses
        );
        assert_eq!(healed.classification, Classification::Transient);
        assert!(healed.summary.contains("again"), "{}", healed.summary);

        let recurring = judged(&[good(), good(), good()], 5);
        assert_eq!(recurring.verdict, Verdict::ActionSuggested);
        assert!(
            recurring
                .hypotheses
                .iter()
                .any(|h| h.statement.contains("incident #5"))
        );
    }

    #[test]
    fn an_endpoint_that_answers_nothing_in_time_is_suspected_of_load_or_a_firewall() {
        let hung = Probe::NoAnswer {
            detail: "http://shop.example:8443/healthz: no complete answer within 8s".into(),
            timed_out: true,
        };
        let finding = judged(&[hung], 1);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(finding.summary.contains("1 of 1"), "{}", finding.summary);
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.basis == Basis::Guessed && h.statement.contains("overloaded or hung")),
            "{:?}",
            finding.hypotheses
        );
        assert_eq!(finding.confidence, Confidence::MEDIUM);
    }

    #[test]
    fn some_failures_among_good_answers_are_intermittent() {
        let finding = judged(&[good(), refused(), good()], 1);
        assert_eq!(finding.verdict, Verdict::ActionSuggested);
        assert!(finding.summary.contains("1 of 3"), "{}", finding.summary);
        assert_eq!(finding.confidence, Confidence::MEDIUM, "not all failed");
    }

    #[test]
    fn no_probe_at_all_is_inconclusive() {
        let finding = judged(&[], 1);
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert!(!finding.gaps.is_empty());
    }
}

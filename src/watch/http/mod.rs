//! `http`: an endpoint answers as it should. A status it should not answer with, a body that
//! does not match, an answer slower than `max_latency`, or no answer at all is one broken
//! subject; the watch's `for` (three minutes unless set) keeps a single failed probe quiet.
//! No answer is what this watch exists to see, so it is a reading, not blindness; only a probe
//! that cannot be sent (a URL the client refuses) makes the watch blind.

mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::WatchContext;
use super::kind::Watch;
use super::observation::{Evaluation, Observation};
use crate::config::{HttpSpec, WatchSpec};
use crate::humanize;
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::logs::redact::redact;
use crate::source::http::{HttpReading, HttpSource};
use crate::source::{SourceError, SourceErrorKind};
use futures_util::future::BoxFuture;

/// Characters of the body shown in a page.
const SHOWN_BODY_CHARS: usize = 120;

pub(crate) async fn evaluate(
    spec: &WatchSpec,
    http: &HttpSpec,
    ctx: &WatchContext<'_>,
) -> Evaluation {
    let Some(source) = ctx.sources.http(&spec.name) else {
        return Evaluation::Blind(SourceError::new(
            &spec.name,
            SourceErrorKind::Unreachable,
            "no HTTP client for this watch",
        ));
    };
    let outcome = source.probe(&http.probe).await;
    match outcome {
        Err(error) if error.kind == SourceErrorKind::QueryRejected => Evaluation::Blind(error),
        outcome => Evaluation::Complete(judge(&spec.description, http, &outcome)),
    }
}

/// What one probe's outcome says: nothing when the endpoint answered as it should.
pub(crate) fn judge(
    description: &str,
    http: &HttpSpec,
    outcome: &Result<HttpReading, SourceError>,
) -> Vec<Observation> {
    let url = crate::source::http::redact(&http.probe.url);
    let reading = match outcome {
        Ok(reading) => reading,
        Err(error) => {
            return vec![
                Observation::broken("", format!("{description}: no answer"))
                    .with_fact(error.detail.clone())
                    .with_fact(format!("GET {url}")),
            ];
        }
    };
    let took = latency(reading.latency);
    let slow = http.max_latency.filter(|limit| reading.latency > *limit);
    let title = if !reading.status_expected {
        format!("{description}: answered {}", status_text(reading.status))
    } else if reading.body_matched == Some(false) {
        format!("{description}: the answer does not say what it should")
    } else if let Some(limit) = slow {
        format!("{description}: slow, {took} (limit {})", latency(limit))
    } else {
        return Vec::new();
    };
    let mut observation = Observation::broken("", title)
        .with_fact(format!("GET {url}: {} in {took}", reading.status))
        .with_value(reading.latency.as_secs_f64());
    if reading.body_matched == Some(false)
        && let Some(pattern) = &http.probe.body_match
    {
        observation = observation.with_fact(format!("expected the body to match /{pattern}/"));
    }
    let body: String = reading
        .body_excerpt
        .chars()
        .take(SHOWN_BODY_CHARS)
        .collect();
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let wrong_answer = !reading.status_expected || reading.body_matched == Some(false);
    if wrong_answer && !body.is_empty() {
        observation = observation.with_fact(format!("body: {}", redact(&body)));
    }
    vec![observation]
}

/// `340 ms` under a second, `2.3 s` up to a minute, then as other durations are worded.
fn latency(took: std::time::Duration) -> String {
    match took.as_millis() {
        ms if ms < 1000 => format!("{ms} ms"),
        ms if ms < 60_000 => format!("{:.1} s", took.as_secs_f64()),
        _ => humanize::duration(took),
    }
}

fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// The HTTP client of one watch, named after it in errors.
pub(crate) fn client(watch: &str) -> Result<HttpSource, SourceError> {
    HttpSource::new(watch)
}

impl Watch for HttpSpec {
    fn replay(&self, _sources: &[crate::config::SourceSpec]) -> super::kind::Replay {
        super::kind::Replay::Skipped(
            "it probes the endpoint now; past answers are not recorded".to_string(),
        )
    }

    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(evaluate(spec, self, ctx))
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn describe(&self, hold: &str) -> String {
        format!(
            "GET {} answers as it should{hold}",
            crate::source::http::redact(&self.probe.url)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::http::{ExpectStatus, HttpProbe};
    use crate::watch::observation::Health;
    use std::time::Duration;

    fn spec(body: Option<&str>, max_latency: Option<u64>) -> HttpSpec {
        let mut probe = HttpProbe::get(
            "https://user:pw@shop.example/healthz",
            Duration::from_secs(8),
        );
        probe.body_match = body.map(|b| regex::Regex::new(b).unwrap());
        HttpSpec {
            probe,
            max_latency: max_latency.map(Duration::from_millis),
        }
    }

    fn reading(status: u16, ms: u64, matched: Option<bool>, body: &str) -> HttpReading {
        HttpReading {
            status,
            status_expected: (200..=299).contains(&status),
            latency: Duration::from_millis(ms),
            body_matched: matched,
            body_excerpt: body.into(),
            body_truncated: false,
        }
    }

    #[test]
    fn a_good_answer_in_time_is_nothing() {
        let seen = judge(
            "Shop",
            &spec(Some("ok"), Some(500)),
            &Ok(reading(200, 120, Some(true), "ok")),
        );
        assert!(seen.is_empty(), "{seen:?}");
    }

    #[test]
    fn a_wrong_status_names_it_and_shows_the_body_without_credentials() {
        let seen = judge(
            "Shop",
            &spec(None, None),
            &Ok(reading(
                503,
                40,
                None,
                "upstream down\n contact bob@example.com",
            )),
        );
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].health, Health::Broken);
        assert_eq!(seen[0].title, "Shop: answered 503 Service Unavailable");
        let facts = seen[0].facts.join(" | ");
        assert!(
            facts.contains("GET https://shop.example/healthz: 503 in 40 ms"),
            "{facts}"
        );
        assert!(!facts.contains("pw@"), "{facts}");
        assert!(facts.contains("body: upstream down contact"), "{facts}");
        assert!(!facts.contains("bob@example.com"), "redacted: {facts}");
    }

    #[test]
    fn a_body_that_does_not_match_and_a_slow_answer_are_failures() {
        let wrong = judge(
            "Shop",
            &spec(Some(r#""db":\s*"ok""#), None),
            &Ok(reading(200, 80, Some(false), r#"{"db": "down"}"#)),
        );
        assert_eq!(
            wrong[0].title,
            "Shop: the answer does not say what it should"
        );
        assert!(
            wrong[0]
                .facts
                .iter()
                .any(|f| f.contains("/\"db\":\\s*\"ok\"/"))
        );

        let slow = judge(
            "Shop",
            &spec(None, Some(500)),
            &Ok(reading(200, 2300, None, "ok")),
        );
        assert_eq!(slow[0].title, "Shop: slow, 2.3 s (limit 500 ms)");
        assert!(
            !slow[0].facts.iter().any(|f| f.starts_with("body")),
            "{slow:?}"
        );
    }

    #[test]
    fn an_expected_error_status_is_healthy() {
        let mut spec = spec(None, None);
        spec.probe.expect_status = Some(ExpectStatus::parse("200-299, 401").unwrap());
        let mut answer = reading(401, 10, None, "");
        answer.status_expected = true;
        assert!(judge("Admin", &spec, &Ok(answer)).is_empty());
    }

    #[test]
    fn no_answer_is_a_broken_reading() {
        let error = SourceError::new("shop", SourceErrorKind::Unreachable, "connection refused");
        let seen = judge("Shop", &spec(None, None), &Err(error));
        assert_eq!(seen[0].title, "Shop: no answer");
        assert_eq!(seen[0].facts[0], "connection refused");
    }
}

//! `POST /hooks/alertmanager`: Alertmanager's webhook receiver (payload version "4"). The
//! request must carry the configured credentials (bearer token or basic auth) or it gets 401
//! and nothing is stored; a payload that is not JSON or not version 4 gets 400 saying why; a
//! body over `max_body` gets the intake's one 413 (before the route runs, see `body.rs`). Accepted alerts are stored by fingerprint for the
//! `alertmanager` watch, which turns them into observations on its next evaluation.

use super::AppState;
use crate::config::{Config, IntakeAuth, WatchSpecKind};
use crate::store::intake::IntakeAlert;
use crate::telemetry::IntakeLabels;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The one payload version Sentinel understands (Alertmanager 0.x sends "4").
pub(crate) const VERSION: &str = "4";

/// Where accepted alerts go and what the sender must present.
#[derive(Debug, Clone)]
pub struct Hook {
    pub watch: String,
    pub auth: IntakeAuth,
}

impl Hook {
    /// The configured `alertmanager` watch, if any (validation allows at most one).
    pub fn from_config(config: &Config) -> Option<Hook> {
        config.watches.iter().find_map(|w| match &w.kind {
            WatchSpecKind::Alertmanager(spec) => Some(Hook {
                watch: w.name.clone(),
                auth: spec.auth.clone(),
            }),
            _ => None,
        })
    }
}

/// The webhook body as Alertmanager sends it. Group fields are accepted and not used: every
/// alert carries its own labels.
#[derive(Debug, Deserialize)]
#[allow(
    dead_code,
    reason = "the documented webhook fields, parsed whole; a payload without its version is refused"
)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payload {
    pub version: String,
    #[serde(default)]
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(rename = "externalURL", default)]
    pub external_url: String,
    pub alerts: Vec<PayloadAlert>,
}

/// One alert of a webhook body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PayloadAlert {
    pub status: String,
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(rename = "generatorURL", default)]
    pub generator_url: String,
    #[serde(default)]
    pub fingerprint: String,
}

/// Reads a webhook body into the alerts to store, or says what is wrong with it.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<IntakeAlert>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    match value.get("version").and_then(|v| v.as_str()) {
        Some(VERSION) => {}
        Some(other) => {
            return Err(format!(
                "unsupported webhook payload version {other:?}: Sentinel understands Alertmanager's version \"{VERSION}\""
            ));
        }
        None => {
            return Err(format!(
                "not an Alertmanager webhook payload: no \"version\" (expected \"{VERSION}\")"
            ));
        }
    }
    let payload: Payload = serde_json::from_value(value)
        .map_err(|e| format!("not an Alertmanager webhook payload: {e}"))?;
    if payload.truncated_alerts > 0 {
        tracing::warn!(
            receiver = payload.receiver,
            group = payload.group_key,
            "Alertmanager truncated {} alerts of this group (max_alerts in its webhook_config)",
            payload.truncated_alerts
        );
    }
    payload
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, alert)| {
            let firing = match alert.status.as_str() {
                "firing" => true,
                "resolved" => false,
                other => {
                    return Err(format!(
                        "alerts[{i}].status is {other:?}: expected \"firing\" or \"resolved\""
                    ));
                }
            };
            let time = |field: &str, text: &Option<String>| -> Result<_, String> {
                text.as_deref()
                    .map(|t| parse_time(t).map_err(|e| format!("alerts[{i}].{field}: {e}")))
                    .transpose()
                    .map(Option::flatten)
            };
            let fingerprint = if alert.fingerprint.is_empty() {
                crate::watch::alertmanager::subject(&alert.labels)
            } else {
                alert.fingerprint
            };
            Ok(IntakeAlert {
                fingerprint,
                firing,
                starts_at: time("startsAt", &alert.starts_at)?,
                ends_at: time("endsAt", &alert.ends_at)?,
                labels: alert.labels,
                annotations: alert.annotations,
                generator_url: alert.generator_url,
            })
        })
        .collect()
}

/// An RFC 3339 time; Go's zero time (`0001-01-01T00:00:00Z`, "no end") is `None`.
fn parse_time(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time ({e})"))?
        .with_timezone(&Utc);
    Ok((at.year() > 1).then_some(at))
}

/// Whether the request's `Authorization` header matches what the watch requires.
pub(crate) fn authorized(auth: &IntakeAuth, headers: &HeaderMap) -> bool {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let expected = match auth {
        IntakeAuth::None => return true,
        IntakeAuth::Bearer(token) => format!("Bearer {token}"),
        IntakeAuth::Basic { username, password } => {
            format!(
                "Basic {}",
                base64(format!("{username}:{password}").as_bytes())
            )
        }
    };
    presented.is_some_and(|p| {
        // The scheme is case-insensitive; the credentials are compared in constant time.
        let (scheme, rest) = p.split_once(' ').unwrap_or((p, ""));
        let (want_scheme, want_rest) = expected.split_once(' ').unwrap_or((&expected, ""));
        scheme.eq_ignore_ascii_case(want_scheme) && constant_time_eq(rest.trim(), want_rest)
    })
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, byte) in b.iter().enumerate() {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
    }
    diff == 0
}

/// Standard base64 with padding (RFC 4648), as HTTP basic auth uses it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn counted(state: &AppState, outcome: &str, response: Response) -> Response {
    state
        .metrics
        .intake_requests
        .get_or_create(&IntakeLabels {
            hook: "alertmanager".to_string(),
            outcome: outcome.to_string(),
        })
        .inc();
    response
}

pub(crate) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(hook) = state.alertmanager.clone() else {
        let response = (
            StatusCode::NOT_FOUND,
            "no alertmanager watch is configured\n",
        );
        return counted(&state, "unknown_hook", response.into_response());
    };
    if !authorized(&hook.auth, &headers) {
        let response = (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer, Basic realm=\"sentinel\"")],
            "missing or wrong credentials\n",
        );
        return counted(&state, "unauthorized", response.into_response());
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return counted(&state, "too_large", super::body::too_large(state.max_body));
        }
        Err(rejection) => {
            let response = (rejection.status(), format!("{}\n", rejection.body_text()));
            return counted(&state, "bad_request", response.into_response());
        }
    };
    let alerts = match parse(&body) {
        Ok(alerts) => alerts,
        Err(message) => {
            let response = (StatusCode::BAD_REQUEST, format!("{message}\n"));
            return counted(&state, "bad_request", response.into_response());
        }
    };
    match state
        .store
        .record_intake_alerts(&hook.watch, &alerts, state.clock.now())
        .await
    {
        Ok(()) => counted(&state, "accepted", (StatusCode::OK, "OK").into_response()),
        Err(error) => {
            tracing::error!(
                watch = hook.watch,
                "could not store Alertmanager alerts: {error}"
            );
            let response = (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the alerts, try again\n",
            );
            counted(&state, "store_error", response.into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SAMPLE: &str = r#"{
      "version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "truncatedAlerts": 0,
      "status": "firing", "receiver": "sentinel",
      "groupLabels": {"alertname": "DiskFull"}, "commonLabels": {"alertname": "DiskFull"},
      "commonAnnotations": {}, "externalURL": "http://am:9093",
      "alerts": [
        {"status": "firing", "labels": {"alertname": "DiskFull", "mount": "/var"},
         "annotations": {"summary": "/var is 97% full"},
         "startsAt": "2026-11-27T10:00:00.123+01:00", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prom:9090/graph", "fingerprint": "1a30ba71cca2921f"},
        {"status": "resolved", "labels": {"alertname": "DiskFull", "mount": "/"},
         "annotations": {}, "startsAt": "2026-11-27T09:00:00Z",
         "endsAt": "2026-11-27T09:30:00Z", "generatorURL": "", "fingerprint": "bc97ff14869b13e3"}
      ]
    }"#;

    #[test]
    fn the_real_payload_shape_parses_with_go_zero_times_as_no_end() {
        let alerts = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].fingerprint, "1a30ba71cca2921f");
        assert!(alerts[0].firing);
        assert_eq!(alerts[0].ends_at, None);
        assert_eq!(
            alerts[0].starts_at.unwrap().to_rfc3339(),
            "2026-11-27T09:00:00.123+00:00"
        );
        assert_eq!(alerts[0].labels["mount"], "/var");
        assert!(!alerts[1].firing);
        assert_eq!(
            alerts[1].ends_at.unwrap().to_rfc3339(),
            "2026-11-27T09:30:00+00:00"
        );
    }

    #[test]
    fn other_versions_and_malformed_bodies_are_refused_with_a_reason() {
        let v3 = SAMPLE.replace(r#""version": "4""#, r#""version": "3""#);
        let error = parse(v3.as_bytes()).unwrap_err();
        assert!(
            error.contains("unsupported webhook payload version \"3\""),
            "{error}"
        );
        let error = parse(b"{\"alerts\": []}").unwrap_err();
        assert!(error.contains("no \"version\""), "{error}");
        let error = parse(b"{not json").unwrap_err();
        assert!(error.starts_with("the body is not valid JSON"), "{error}");
        let error = parse(br#"{"version": "4"}"#).unwrap_err();
        assert!(error.contains("missing field `alerts`"), "{error}");
        let bad_status = SAMPLE.replace(r#""status": "resolved""#, r#""status": "gone""#);
        let error = parse(bad_status.as_bytes()).unwrap_err();
        assert!(error.contains("alerts[1].status"), "{error}");
        let bad_time = SAMPLE.replace("2026-11-27T09:30:00Z", "yesterday");
        let error = parse(bad_time.as_bytes()).unwrap_err();
        assert!(error.contains("alerts[1].endsAt"), "{error}");
    }

    #[test]
    fn an_alert_without_fingerprint_is_keyed_by_its_labels() {
        let body = br#"{"version": "4", "alerts": [{"status": "firing",
            "labels": {"alertname": "Down", "job": "api"}}]}"#;
        let alerts = parse(body).unwrap();
        assert_eq!(alerts[0].fingerprint, "Down{job=\"api\"}");
    }

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_and_basic_credentials_must_match_exactly() {
        let bearer = IntakeAuth::Bearer("s3cret-token".into());
        assert!(authorized(&bearer, &with_auth("Bearer s3cret-token")));
        assert!(authorized(&bearer, &with_auth("bearer s3cret-token")));
        assert!(!authorized(&bearer, &with_auth("Bearer s3cret-toke")));
        assert!(!authorized(&bearer, &with_auth("Bearer s3cret-token2")));
        assert!(!authorized(&bearer, &with_auth("Basic s3cret-token")));
        assert!(!authorized(&bearer, &HeaderMap::new()));

        let basic = IntakeAuth::Basic {
            username: "am".into(),
            password: "pa:ss".into(),
        };
        // `am:pa:ss` in base64, as curl -u am:pa:ss sends it.
        assert!(authorized(&basic, &with_auth("Basic YW06cGE6c3M=")));
        assert!(!authorized(&basic, &with_auth("Basic YW06cGE6c3Q=")));
        assert!(!authorized(&basic, &with_auth("Bearer YW06cGE6c3M=")));
        assert!(!authorized(&basic, &HeaderMap::new()));

        assert!(authorized(&IntakeAuth::None, &HeaderMap::new()));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), encoded);
        }
    }
}

//! The webhook channel against a real HTTP receiver: what it sends (JSON notice, Idempotency-Key,
//! bearer token) and how it reads the answers (2xx delivered; 429 and 5xx retried, honouring
//! Retry-After; other 4xx refused for good).

mod support;

use axum::http::{HeaderMap, StatusCode};
use sentinel::alert::notice::{Notice, NoticeKind, NoticeState};
use sentinel::config::Severity;
use sentinel::notify::DeliveryError;
use sentinel::notify::webhook::WebhookChannel;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn notice() -> Notice {
    Notice {
        key: "backup/firing/#1".into(),
        kind: NoticeKind::Firing,
        watch: "backup".into(),
        subject: String::new(),
        state: NoticeState::Firing,
        severity: Severity::Critical,
        title: "Nightly backup didn't run".into(),
        facts: vec![],
        subjects: vec![],
        at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        lasted_seconds: None,
        resolves: None,
    }
}

type Seen = Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

fn receiver(status: StatusCode, retry_after: Option<&'static str>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
                log.lock().unwrap().push((
                    header("idempotency-key"),
                    header("authorization"),
                    json,
                ));
                let mut response = axum::response::Response::builder().status(status);
                if let Some(after) = retry_after {
                    response = response.header("retry-after", after);
                }
                response.body(axum::body::Body::from("")).unwrap()
            }
        }),
    );
    (
        format!("http://{}/hook", support::serve_in_background(router)),
        seen,
    )
}

#[tokio::test]
async fn a_delivered_notice_carries_its_key_token_and_json() {
    let (url, seen) = receiver(StatusCode::NO_CONTENT, None);
    let channel = WebhookChannel::new(&url, Some("s3cret".into()), Duration::from_secs(5)).unwrap();
    channel
        .deliver("backup/firing/#1@ops", &notice(), None)
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    let (key, auth, body) = &seen[0];
    assert_eq!(key, "backup/firing/#1@ops");
    assert_eq!(auth, "Bearer s3cret");
    assert_eq!(body["watch"], "backup");
    assert_eq!(body["state"], "firing");
    assert_eq!(body["title"], "Nightly backup didn't run");
    assert_eq!(body["delivery_key"], "backup/firing/#1@ops");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_and_other_refusals_are_final() {
    let (url, _) = receiver(StatusCode::TOO_MANY_REQUESTS, Some("7"));
    let channel = WebhookChannel::new(&url, None, Duration::from_secs(5)).unwrap();
    match channel.deliver("k", &notice(), None).await {
        Err(DeliveryError::Retry { after, .. }) => assert_eq!(after, Some(Duration::from_secs(7))),
        other => panic!("429 must be retried after 7s: {other:?}"),
    }
    let (url, _) = receiver(StatusCode::BAD_GATEWAY, None);
    let channel = WebhookChannel::new(&url, None, Duration::from_secs(5)).unwrap();
    assert!(matches!(
        channel.deliver("k", &notice(), None).await,
        Err(DeliveryError::Retry { after: None, .. })
    ));
    let (url, _) = receiver(StatusCode::UNPROCESSABLE_ENTITY, None);
    let channel = WebhookChannel::new(&url, None, Duration::from_secs(5)).unwrap();
    assert!(matches!(
        channel.deliver("k", &notice(), None).await,
        Err(DeliveryError::Permanent(_))
    ));
    let closed = format!("http://127.0.0.1:{}/hook", support::free_port());
    let channel = WebhookChannel::new(&closed, None, Duration::from_secs(5)).unwrap();
    assert!(
        matches!(
            channel.deliver("k", &notice(), None).await,
            Err(DeliveryError::Retry { .. })
        ),
        "unreachable is retried"
    );
}

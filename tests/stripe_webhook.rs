//! Stripe's dispute webhook against the real `sentinel run`: events signed as Stripe signs
//! them (hex HMAC-SHA256 of "<t>.<body>" in `Stripe-Signature`), in the documented event
//! shape. A signed dispute is stored once with an evidence request; replays, changed bodies,
//! unknown secrets are refused with 400; other event types are acknowledged and not stored;
//! without a `[stripe]` section the route is 404. `sentinel disputes` lists what was stored.

mod support;

use sentinel::store::Store;
use std::path::Path;
use std::process::Command;
use support::stripe_events::{self, DisputeFields, signature};
use support::{Daemon, free_port, sentinel_bin, write_config};

const SECRET: &str = "whsec_current_0123456789abcdef";
const OLD_SECRET: &str = "whsec_previous_fedcba9876543210";

/// A `charge.dispute.*` event for jo@example.com's charge, due 2024-12-15.
fn dispute_event(event_id: &str, dispute_id: &str, event_type: &str, status: &str) -> String {
    stripe_events::dispute_event(&DisputeFields {
        event_id,
        dispute_id,
        event_type,
        status,
        charge: "ch_3QSentinel",
        email: "jo@example.com",
        amount: 4999,
        due_by: 1734307199,
        reason_code: "10.4",
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn start(dir: &Path, stripe: &str) -> Daemon {
    let port = free_port();
    let config = write_config(
        dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n{stripe}",
            dir.display()
        ),
    );
    Daemon::start_with_env(
        &config,
        port,
        &[
            ("STRIPE_WEBHOOK_SECRET", SECRET),
            ("STRIPE_WEBHOOK_SECRET_OLD", OLD_SECRET),
        ],
    )
}

const STRIPE: &str = "[stripe]\nendpoint_secrets = [\"${STRIPE_WEBHOOK_SECRET}\", \"${STRIPE_WEBHOOK_SECRET_OLD}\"]\ntolerance = \"5m\"\n";

async fn deliver(daemon: &Daemon, header: Option<String>, body: &[u8]) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(daemon.url("/hooks/stripe"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_vec());
    if let Some(header) = header {
        request = request.header("Stripe-Signature", header);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Signs `body` with `secret` at `timestamp` and delivers it, as Stripe does.
async fn signed(daemon: &Daemon, secret: &str, timestamp: i64, body: &[u8]) -> (u16, String) {
    let header = format!(
        "t={timestamp},v1={},v0={}",
        signature(secret, timestamp, body),
        "0".repeat(64)
    );
    deliver(daemon, Some(header), body).await
}

async fn store(dir: &Path) -> Store {
    Store::open(&dir.join("s.db")).await.unwrap()
}

#[tokio::test]
async fn a_signed_dispute_is_stored_once_with_an_evidence_request() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path(), STRIPE);
    let body = dispute_event(
        "evt_1QCreated",
        "dp_1QSentinel",
        "charge.dispute.created",
        "needs_response",
    );

    let (status, text) = signed(&daemon, SECRET, now(), body.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    let store = store(dir.path()).await;
    let disputes = store.disputes().await.unwrap();
    assert_eq!(disputes.len(), 1);
    let dispute = &disputes[0];
    assert_eq!(dispute.id, "dp_1QSentinel");
    assert_eq!(dispute.charge, "ch_3QSentinel");
    assert_eq!((dispute.amount, dispute.currency.as_str()), (4999, "usd"));
    assert_eq!(dispute.reason, "fraudulent");
    assert_eq!(dispute.network_reason_code.as_deref(), Some("10.4"));
    assert_eq!(dispute.status, "needs_response");
    assert_eq!(dispute.evidence_due_by.unwrap().timestamp(), 1_734_307_199);
    assert_eq!(dispute.customer_email.as_deref(), Some("jo@example.com"));
    assert_eq!(dispute.payment_intent.as_deref(), Some("pi_3QSentinel"));
    assert_eq!(store.evidence_requests().await.unwrap(), ["jo@example.com"]);

    // Stripe redelivers: acknowledged, stored once, no second evidence request.
    let (status, _) = signed(&daemon, SECRET, now(), body.as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(store.disputes().await.unwrap().len(), 1);
    assert_eq!(store.evidence_requests().await.unwrap().len(), 1);

    // The dispute closes: its status follows.
    let closed = dispute_event(
        "evt_1QClosed",
        "dp_1QSentinel",
        "charge.dispute.closed",
        "lost",
    );
    let (status, _) = signed(&daemon, SECRET, now(), closed.as_bytes()).await;
    assert_eq!(status, 200);
    let disputes = store.disputes().await.unwrap();
    assert_eq!(disputes.len(), 1);
    assert_eq!(disputes[0].status, "lost");
    assert_eq!(store.evidence_requests().await.unwrap().len(), 1);

    let listed = Command::new(sentinel_bin())
        .args(["disputes", "--store"])
        .arg(dir.path().join("s.db"))
        .output()
        .unwrap();
    assert!(listed.status.success());
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("dp_1QSentinel  $49.99  fraudulent (10.4)  due 2024-12-15 23:59 UTC  lost  jo@example.com"),
        "{text}"
    );
    store.close().await;
}

#[tokio::test]
async fn forged_stale_and_changed_deliveries_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path(), STRIPE);
    let body = dispute_event("evt_1", "dp_1", "charge.dispute.created", "needs_response");

    // A replay past the tolerance.
    let (status, text) = signed(&daemon, SECRET, now() - 301, body.as_bytes()).await;
    assert_eq!(status, 400);
    assert!(text.contains("tolerance"), "{text}");
    // The body changed by one byte after signing.
    let t = now();
    let header = format!("t={t},v1={}", signature(SECRET, t, body.as_bytes()));
    let changed = body.replacen("4999", "4998", 1);
    let (status, text) = deliver(&daemon, Some(header), changed.as_bytes()).await;
    assert_eq!(status, 400);
    assert!(text.contains("no v1 signature matches"), "{text}");
    // Signed by a secret this endpoint does not have.
    let (status, _) = signed(&daemon, "whsec_someone_else", now(), body.as_bytes()).await;
    assert_eq!(status, 400);
    // No signature at all.
    let (status, text) = deliver(&daemon, None, body.as_bytes()).await;
    assert_eq!(status, 400);
    assert!(text.contains("no Stripe-Signature header"), "{text}");
    // Signed, but not JSON.
    let (status, text) = signed(&daemon, SECRET, now(), b"{not json").await;
    assert_eq!(status, 400);
    assert!(text.contains("not a Stripe event"), "{text}");

    let store = store(dir.path()).await;
    assert!(store.disputes().await.unwrap().is_empty());
    assert!(store.evidence_requests().await.unwrap().is_empty());

    // The old secret still works while it is being rotated out.
    let (status, text) = signed(&daemon, OLD_SECRET, now(), body.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(store.disputes().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn other_event_types_are_acknowledged_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path(), STRIPE);
    let body = dispute_event("evt_2", "dp_2", "charge.dispute.created", "needs_response")
        .replace("charge.dispute.created", "payment_intent.succeeded");
    let (status, text) = signed(&daemon, SECRET, now(), body.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    let store = store(dir.path()).await;
    assert!(store.disputes().await.unwrap().is_empty());
    assert!(store.evidence_requests().await.unwrap().is_empty());
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM stripe_events")
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(events, 0);
    store.close().await;
}

#[tokio::test]
async fn the_route_sits_behind_the_intake_gate() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path(), STRIPE);
    // Over the default max_body (100 kB), however well signed: the gate's 413.
    let body = dispute_event("evt_4", "dp_4", "charge.dispute.created", "needs_response").replace(
        "\"metadata\": {}",
        &format!("\"metadata\": {{\"note\": \"{}\"}}", "x".repeat(120_000)),
    );
    let (status, text) = signed(&daemon, SECRET, now(), body.as_bytes()).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("max_body"), "{text}");
    let store = store(dir.path()).await;
    assert!(store.disputes().await.unwrap().is_empty());
    // Only POST is routed.
    let status = reqwest::get(daemon.url("/hooks/stripe"))
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 405);
    store.close().await;
}

#[tokio::test]
async fn without_the_section_the_route_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path(), "");
    let body = dispute_event("evt_3", "dp_3", "charge.dispute.created", "needs_response");
    let (status, _) = signed(&daemon, SECRET, now(), body.as_bytes()).await;
    assert_eq!(status, 404);
}

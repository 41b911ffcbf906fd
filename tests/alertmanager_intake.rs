//! Alertmanager's webhook into Sentinel: the real route with the real payload shape (auth,
//! version, size, dedupe, metrics), the configuration rules, and a real Alertmanager whose
//! webhook receiver points at Sentinel: an alert posted to it pages once through an engine
//! pass and resolves when it is posted again with an end in the past.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use sentinel::clock::{SharedClock, SystemClock};
use sentinel::config::Config;
use sentinel::server::{self, AppState};
use sentinel::store::Store;
use sentinel::telemetry::Metrics;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const TOKEN: &str = "am-token-0123456789abcdef";

fn env(name: &str) -> Option<String> {
    match name {
        "AM_TOKEN" => Some(TOKEN.to_string()),
        "AM_PASSWORD" => Some("pa:ss".to_string()),
        _ => None,
    }
}

fn config(dir: &Path, listen: &str, watch: &str) -> Result<Config, String> {
    let text = format!(
        "[server]\nlisten = \"{listen}\"\nmax_body = \"2KB\"\n[store]\npath = \"{}/s.db\"\n{watch}",
        dir.display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &env).map_err(|e| e.to_string())
}

const BEARER_WATCH: &str = "[watches.prom-alerts]\nkind = \"alertmanager\"\nbearer_token = \"${AM_TOKEN}\"\nnotify_resolved = true\n";

/// A webhook body exactly as Alertmanager 0.25 writes it.
fn payload(version: &str, status: &str, ends_at: &str) -> String {
    format!(
        r#"{{"receiver":"sentinel","status":"{status}","alerts":[{{"status":"{status}","labels":{{"alertname":"DiskFull","instance":"db:9100","mount":"/var","severity":"critical"}},"annotations":{{"summary":"/var on db is 97% full"}},"startsAt":"2026-11-27T09:00:00.123456789Z","endsAt":"{ends_at}","generatorURL":"http://prom:9090/graph?g0.expr=disk","fingerprint":"1a30ba71cca2921f"}}],"groupLabels":{{"alertname":"DiskFull"}},"commonLabels":{{"alertname":"DiskFull"}},"commonAnnotations":{{}},"externalURL":"http://am:9093","version":"{version}","groupKey":"{{}}:{{alertname=\"DiskFull\"}}","truncatedAlerts":0}}"#
    )
}

struct App {
    router: axum::Router,
    store: Store,
    metrics: Arc<Metrics>,
}

async fn open_app(config: &Config) -> App {
    let store = Store::open(&config.store.path).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let clock: SharedClock = Arc::new(SystemClock);
    let state = AppState::new(config, store.clone(), metrics.clone(), clock);
    App {
        router: server::router(state, 1000),
        store,
        metrics,
    }
}

async fn post(app: &App, auth: Option<&str>, body: String) -> (StatusCode, String) {
    let mut request =
        Request::post("/hooks/alertmanager").header("content-type", "application/json");
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn stored_alerts(app: &App) -> Vec<sentinel::store::intake::IntakeAlert> {
    app.store.intake_alerts("prom-alerts").await.unwrap()
}

fn counted(metrics: &Metrics, outcome: &str) -> u64 {
    let needle =
        format!("sentinel_intake_requests_total{{hook=\"alertmanager\",outcome=\"{outcome}\"}} ");
    metrics
        .encode()
        .lines()
        .find_map(|line| {
            line.strip_prefix(&needle)
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn only_the_configured_credentials_store_anything() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(&config(dir.path(), "127.0.0.1:9477", BEARER_WATCH).unwrap()).await;
    let firing = payload("4", "firing", "0001-01-01T00:00:00Z");

    for auth in [
        None,
        Some("Bearer wrong-token"),
        Some(&*format!("Basic {TOKEN}")),
    ] {
        let (status, _) = post(&app, auth, firing.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    assert!(stored_alerts(&app).await.is_empty());
    assert_eq!(counted(&app.metrics, "unauthorized"), 3);

    let bearer = format!("Bearer {TOKEN}");
    let (status, body) = post(&app, Some(&bearer), firing.clone()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "OK"));
    // Alertmanager re-sends a firing alert on every group_interval: one row, not two.
    assert_eq!(post(&app, Some(&bearer), firing).await.0, StatusCode::OK);
    let stored = stored_alerts(&app).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].firing);
    assert_eq!(stored[0].fingerprint, "1a30ba71cca2921f");
    assert_eq!(counted(&app.metrics, "accepted"), 2);

    let resolved = payload("4", "resolved", "2026-11-27T09:30:00Z");
    assert_eq!(post(&app, Some(&bearer), resolved).await.0, StatusCode::OK);
    let stored = stored_alerts(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].firing);
}

#[tokio::test]
async fn bad_payloads_are_refused_with_a_reason_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(&config(dir.path(), "127.0.0.1:9477", BEARER_WATCH).unwrap()).await;
    let bearer = format!("Bearer {TOKEN}");

    let (status, body) = post(
        &app,
        Some(&bearer),
        payload("3", "firing", "0001-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("unsupported webhook payload version \"3\""),
        "{body}"
    );

    let (status, body) = post(
        &app,
        Some(&bearer),
        "{\"version\": \"4\", \"alerts\": [".into(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("the body is not valid JSON"), "{body}");

    let (status, body) = post(&app, Some(&bearer), r#"{"version": "4"}"#.into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("missing field `alerts`"), "{body}");

    // max_body is 2KB here.
    let huge =
        payload("4", "firing", "0001-01-01T00:00:00Z").replace("97% full", &"x".repeat(4096));
    let (status, body) = post(&app, Some(&bearer), huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        body,
        "the body is larger than [server] max_body (2000 bytes)\n"
    );

    assert!(stored_alerts(&app).await.is_empty());
    assert_eq!(counted(&app.metrics, "bad_request"), 3);
    // The intake refuses an oversized body before the hook reads it.
    assert!(
        app.metrics
            .encode()
            .contains("sentinel_rejected_requests_total{reason=\"too_large\"} 1"),
        "{}",
        app.metrics.encode()
    );
}

#[tokio::test]
async fn basic_auth_works_and_a_missing_watch_is_404() {
    let dir = tempfile::tempdir().unwrap();
    let basic =
        "[watches.am]\nkind = \"alertmanager\"\nusername = \"am\"\npassword = \"${AM_PASSWORD}\"\n";
    let app = open_app(&config(dir.path(), "127.0.0.1:9477", basic).unwrap()).await;
    let firing = payload("4", "firing", "0001-01-01T00:00:00Z");
    // `am:pa:ss`, as Alertmanager's basic_auth sends it.
    assert_eq!(
        post(&app, Some("Basic YW06cGE6c3M="), firing.clone())
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        post(&app, Some("Basic YW06cGFzcw=="), firing.clone())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.store.intake_alerts("am").await.unwrap().len(), 1);

    let other = tempfile::tempdir().unwrap();
    let none = open_app(&config(other.path(), "127.0.0.1:9477", "").unwrap()).await;
    let (status, body) = post(&none, Some(&format!("Bearer {TOKEN}")), firing).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(counted(&none.metrics, "unknown_hook"), 1);
}

#[test]
fn configuration_rules_for_the_intake() {
    let dir = tempfile::tempdir().unwrap();
    let open = "[watches.am]\nkind = \"alertmanager\"\n";
    assert!(
        config(dir.path(), "127.0.0.1:9477", open).is_ok(),
        "no auth is fine on loopback"
    );
    let error = config(dir.path(), "0.0.0.0:9477", open).unwrap_err();
    assert!(
        error.contains("has no credentials but [server] listens on 0.0.0.0:9477"),
        "{error}"
    );
    assert!(config(dir.path(), "0.0.0.0:9477", BEARER_WATCH).is_ok());

    let literal = "[watches.am]\nkind = \"alertmanager\"\nbearer_token = \"hunter2\"\n";
    let error = config(dir.path(), "127.0.0.1:9477", literal).unwrap_err();
    assert!(error.contains("sentinel.toml:8:16"), "{error}");
    assert!(
        error.contains("secrets come only from the environment"),
        "{error}"
    );

    let both = "[watches.am]\nkind = \"alertmanager\"\nbearer_token = \"${AM_TOKEN}\"\nusername = \"am\"\npassword = \"${AM_PASSWORD}\"\n";
    assert!(
        config(dir.path(), "127.0.0.1:9477", both)
            .unwrap_err()
            .contains("not both")
    );

    let two = format!(
        "{BEARER_WATCH}[watches.second]\nkind = \"alertmanager\"\nbearer_token = \"${{AM_TOKEN}}\"\n"
    );
    let error = config(dir.path(), "127.0.0.1:9477", &two).unwrap_err();
    assert!(error.contains("only one alertmanager watch"), "{error}");

    let stray = "[watches.am]\nkind = \"alertmanager\"\nquery = \"up\"\n";
    let error = config(dir.path(), "127.0.0.1:9477", stray).unwrap_err();
    assert!(
        error.contains("`query` does not apply to alertmanager watches"),
        "{error}"
    );
}

/// Delivers one webhook body with the right token, as Alertmanager would, through a server
/// that is gone afterwards.
async fn deliver(config: &Config, body: String) {
    let app = open_app(config).await;
    let (status, text) = post(&app, Some(&format!("Bearer {TOKEN}")), body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    app.store.close().await;
}

#[tokio::test]
async fn stored_alerts_page_once_and_resolve_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "127.0.0.1:9477", BEARER_WATCH).unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    deliver(&config, payload("4", "firing", "0001-01-01T00:00:00Z")).await;
    let first = support::engine_pass(&config, &pages).await;
    assert_eq!(first.firing, 1, "{first:?}");
    let second = support::engine_pass(&config, &pages).await;
    assert_eq!(second.firing, 1);
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 1, "paged once: {pages:?}");
        assert_eq!(pages[0].state, "firing");
        assert_eq!(
            pages[0].subject,
            "DiskFull{instance=\"db:9100\",mount=\"/var\",severity=\"critical\"}"
        );
        assert_eq!(pages[0].title, "/var on db is 97% full");
        assert!(
            pages[0]
                .facts
                .iter()
                .any(|f| f == "http://prom:9090/graph?g0.expr=disk"),
            "{:?}",
            pages[0].facts
        );
    }
    deliver(&config, payload("4", "resolved", "2026-11-27T09:30:00Z")).await;
    let third = support::engine_pass(&config, &pages).await;
    assert_eq!(third.firing, 0, "{third:?}");
    let pages = pages.lock().unwrap();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(pages[1].state, "resolved");
    assert_eq!(pages[1].resolves.as_deref(), Some(pages[0].key.as_str()));
}

// --- A real Alertmanager ---------------------------------------------------------------------

/// Starts Debian's `prometheus-alertmanager` on a free loopback port with `config`; a watchdog
/// stops it when the test process exits.
fn start_alertmanager(config: &str) -> String {
    let binary = std::env::var("SENTINEL_TEST_ALERTMANAGER_BIN")
        .unwrap_or_else(|_| "prometheus-alertmanager".into());
    if Command::new(&binary).arg("--version").output().is_err() {
        panic!(
            "this test needs a real Alertmanager: install Debian's `prometheus-alertmanager` package or run scripts/test.sh, which does"
        );
    }
    let dir = tempfile::Builder::new()
        .prefix("sentinel-test-am-")
        .tempdir()
        .unwrap()
        .keep();
    let config_path = dir.join("alertmanager.yml");
    std::fs::write(&config_path, config).unwrap();
    let port = support::free_port();
    support::spawn_until_tests_exit(
        &format!(
            "{binary} --config.file={config} --storage.path={data} --web.listen-address=127.0.0.1:{port} --cluster.listen-address= --log.level=warn",
            config = config_path.display(),
            data = dir.join("data").display(),
        ),
        &dir,
        "alertmanager.log",
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while support::http_status(&format!("{url}/-/ready")) != Ok(200) {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("alertmanager.log")).unwrap_or_default();
            panic!("Alertmanager did not start in time; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    url
}

async fn wait_for(
    store: &Store,
    what: &str,
    check: impl Fn(&[sentinel::store::intake::IntakeAlert]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts = store.intake_alerts("prom-alerts").await.unwrap();
        if check(&alerts) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Alertmanager did not deliver {what}: {alerts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_pages_once_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sentinel_addr = listener.local_addr().unwrap();
    let config = config(dir.path(), &sentinel_addr.to_string(), BEARER_WATCH).unwrap();
    let app = open_app(&config).await;
    let served = app
        .router
        .clone()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, served).await });

    let am = start_alertmanager(&format!(
        "route:\n  receiver: sentinel\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: sentinel\n    webhook_configs:\n      - url: http://{sentinel_addr}/hooks/alertmanager\n        send_resolved: true\n        http_config:\n          authorization:\n            type: Bearer\n            credentials: {TOKEN}\n"
    ));
    let client = reqwest::Client::new();
    let now = chrono::Utc::now();
    let alert = |ends_at: Option<chrono::DateTime<chrono::Utc>>| {
        let mut alert = serde_json::json!({
            "labels": {"alertname": "QueueBacklog", "queue": "email", "severity": "critical"},
            "annotations": {"summary": "email queue is backing up", "description": "4000 jobs waiting"},
            "startsAt": (now - chrono::Duration::minutes(1)).to_rfc3339(),
            "generatorURL": "http://prom:9090/graph?g0.expr=queue_length",
        });
        if let Some(ends_at) = ends_at {
            alert["endsAt"] = serde_json::json!(ends_at.to_rfc3339());
        }
        serde_json::json!([alert])
    };
    let posted = client
        .post(format!("{am}/api/v2/alerts"))
        .json(&alert(None))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", posted.status());
    wait_for(&app.store, "the firing alert", |alerts| {
        alerts.iter().any(|a| a.firing)
    })
    .await;

    let pages = Arc::new(Mutex::new(Vec::new()));
    assert_eq!(support::engine_pass(&config, &pages).await.firing, 1);
    // Alertmanager re-sends the group on group_interval; still one page.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(support::engine_pass(&config, &pages).await.firing, 1);
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 1, "{pages:?}");
        assert_eq!(
            pages[0].subject,
            "QueueBacklog{queue=\"email\",severity=\"critical\"}"
        );
        assert_eq!(pages[0].title, "email queue is backing up");
    }
    assert_eq!(
        app.store.intake_alerts("prom-alerts").await.unwrap().len(),
        1
    );

    let resolved = client
        .post(format!("{am}/api/v2/alerts"))
        .json(&alert(Some(
            chrono::Utc::now() - chrono::Duration::seconds(1),
        )))
        .send()
        .await
        .unwrap();
    assert!(resolved.status().is_success());
    wait_for(&app.store, "the resolution", |alerts| {
        alerts.len() == 1 && !alerts[0].firing
    })
    .await;
    let report = support::engine_pass(&config, &pages).await;
    assert_eq!(report.firing, 0, "{report:?}");
    let pages = pages.lock().unwrap();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(pages[1].state, "resolved");
}

//! The `threshold` watch on a LogQL metric query: every series Loki returns is a broken subject,
//! a series that disappears heals, a log query (lines, not numbers) is reported as a query the
//! watch cannot use, and a Loki that is down makes Sentinel blind, not quiet.
//!
//! Loki is an in-process fake answering `GET /loki/api/v1/query` in its documented format
//! (`resultType` vector, `[<unix seconds>, "<value>"]` pairs, `X-Scope-OrgID` for the tenant):
//! the real server cannot be installed here.

mod support;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use sentinel::config::Config;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use support::{engine_pass, serve_in_background};

const QUERY: &str = r#"sum by (app) (count_over_time({env="prod"} |= "timeout" [5m])) > 10"#;

/// One request's query parameters and its `X-Scope-OrgID` header.
type Request = (HashMap<String, String>, Option<String>);

/// What the fake Loki answers and what it was asked.
#[derive(Default)]
struct FakeLoki {
    /// The status and body of the next answers.
    answer: Mutex<(u16, String)>,
    /// Every request's parameters and tenant header.
    requests: Mutex<Vec<Request>>,
}

async fn instant_query(
    State(loki): State<Arc<FakeLoki>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let tenant = headers
        .get("X-Scope-OrgID")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    loki.requests.lock().unwrap().push((params, tenant));
    let (status, body) = loki.answer.lock().unwrap().clone();
    (StatusCode::from_u16(status).unwrap(), body)
}

/// A vector result with one sample per `(app, value)`.
fn vector(samples: &[(&str, f64)]) -> String {
    let result: Vec<serde_json::Value> = samples
        .iter()
        .map(|(app, value)| {
            serde_json::json!({
                "metric": {"app": app},
                "value": [1_790_000_000.5, value.to_string()],
            })
        })
        .collect();
    serde_json::json!({
        "status": "success",
        "data": {"resultType": "vector", "result": result, "stats": {}}
    })
    .to_string()
}

fn config(dir: &Path, url: &str, query: &str) -> Config {
    let text = format!(
        r#"
[store]
path = "{store}"

[sources.logs]
kind = "loki"
url = "{url}"
tenant = "shop"

[watches.timeouts]
kind = "threshold"
description = "Payment timeouts in 5 minutes"
source = "logs"
query = '{query}'
"#,
        store = dir.join("s.db").display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

#[tokio::test]
async fn logql_series_page_per_app_and_heal_when_they_disappear() {
    let loki = Arc::new(FakeLoki::default());
    *loki.answer.lock().unwrap() = (200, vector(&[("shop", 42.0), ("billing", 11.0)]));
    let address = serve_in_background(
        Router::new()
            .route("/loki/api/v1/query", get(instant_query))
            .with_state(loki.clone()),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &format!("http://{address}"), QUERY);
    let pages = Arc::new(Mutex::new(Vec::new()));

    let report = engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (2, 0), "{report:?}");
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 1, "one page for the watch: {pages:?}");
        let page = format!("{} | {}", pages[0].title, pages[0].facts.join(" | "));
        assert!(page.contains("Payment timeouts in 5 minutes"), "{page}");
        assert!(page.contains("{app=\"shop\"}: 42"), "{page}");
        assert!(page.contains("{app=\"billing\"}: 11"), "{page}");
    }
    {
        let requests = loki.requests.lock().unwrap();
        let (params, tenant) = &requests[0];
        assert_eq!(params.get("query").map(String::as_str), Some(QUERY));
        assert!(
            params.get("time").is_some_and(|t| t.parse::<i64>().is_ok()),
            "{params:?}"
        );
        assert_eq!(tenant.as_deref(), Some("shop"));
    }

    // billing calms down: its alert heals, shop's stays.
    *loki.answer.lock().unwrap() = (200, vector(&[("shop", 40.0)]));
    let report = engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (1, 0), "{report:?}");

    // Loki restarting: blind, and shop's alert is neither resolved nor repeated.
    *loki.answer.lock().unwrap() = (503, "Loki is restarting".into());
    let report = engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (1, 1), "{report:?}");
}

#[tokio::test]
async fn a_log_query_is_reported_as_unusable_not_as_healthy() {
    let loki = Arc::new(FakeLoki::default());
    let streams = serde_json::json!({
        "status": "success",
        "data": {"resultType": "streams", "result": [
            {"stream": {"app": "shop"}, "values": [["1790000000000000000", "timeout"]]}
        ]}
    });
    *loki.answer.lock().unwrap() = (200, streams.to_string());
    let address = serve_in_background(
        Router::new()
            .route("/loki/api/v1/query", get(instant_query))
            .with_state(loki.clone()),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!("http://{address}"),
        r#"{app="shop"} |= "timeout""#,
    );
    let pages = Arc::new(Mutex::new(Vec::new()));
    let report = engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (0, 1), "{report:?}");
    let store = sentinel::store::Store::open(&config.store.path)
        .await
        .unwrap();
    let alerts = store.all_alerts().await.unwrap();
    let cant_see: Vec<_> = alerts
        .iter()
        .filter(|a| a.watch.starts_with("can't see"))
        .collect();
    assert_eq!(cant_see.len(), 1, "{alerts:?}");
    assert_eq!(cant_see[0].watch, "can't see watch timeouts");
    let words = format!("{} {}", cant_see[0].title, cant_see[0].facts.join(" "));
    assert!(words.contains("needs a metric query"), "{words}");
}

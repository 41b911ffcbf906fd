//! Watches on LogQL metric queries. `threshold`: every series Loki returns is a broken subject,
//! a series that disappears heals, a log query (lines, not numbers) is reported as a query the
//! watch cannot use, and a Loki that is down makes Sentinel blind, not quiet. `jump`: an hourly
//! error count from the logs that leaves its own baseline pages.
//!
//! Loki is an in-process fake answering `GET /loki/api/v1/query` and `/query_range` in its
//! documented format (`resultType` vector or matrix, `[<unix seconds>, "<value>"]` pairs,
//! `X-Scope-OrgID` for the tenant): Loki is not packaged by Debian and is AGPL,
//! so the test command does not install it.

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

impl FakeLoki {
    fn record(&self, params: &HashMap<String, String>, headers: &HeaderMap) {
        let tenant = headers
            .get("X-Scope-OrgID")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.requests.lock().unwrap().push((params.clone(), tenant));
    }
}

async fn instant_query(
    State(loki): State<Arc<FakeLoki>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    loki.record(&params, &headers);
    let (status, body) = loki.answer.lock().unwrap().clone();
    (StatusCode::from_u16(status).unwrap(), body)
}

/// Serves `loki` on a free loopback port: instant queries and metric range queries.
fn serve(loki: &Arc<FakeLoki>) -> std::net::SocketAddr {
    serve_in_background(
        Router::new()
            .route("/loki/api/v1/query", get(instant_query))
            .route("/loki/api/v1/query_range", get(error_counts))
            .with_state(loki.clone()),
    )
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

/// A config reading the fake Loki at `address` (tenant `shop`) with one watch, `watch`.
fn config(dir: &Path, address: std::net::SocketAddr, watch: &str) -> Config {
    let text = format!(
        r#"
[store]
path = "{store}"

[sources.logs]
kind = "loki"
url = "http://{address}"
tenant = "shop"

{watch}
"#,
        store = dir.join("s.db").display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

/// The threshold watch on `query`.
fn threshold(query: &str) -> String {
    format!(
        "[watches.timeouts]\nkind = \"threshold\"\ndescription = \"Payment timeouts in 5 minutes\"\nsource = \"logs\"\nquery = '{query}'\n"
    )
}

#[tokio::test]
async fn logql_series_page_per_app_and_heal_when_they_disappear() {
    let loki = Arc::new(FakeLoki::default());
    *loki.answer.lock().unwrap() = (200, vector(&[("shop", 42.0), ("billing", 11.0)]));
    let address = serve(&loki);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), address, &threshold(QUERY));
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
    let address = serve(&loki);
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        address,
        &threshold(r#"{app="shop"} |= "timeout""#),
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

/// An hourly error count per app over the requested range: `usual` every hour, `last` at the
/// newest step, computed from the request's own `start`, `end` and `step` as Loki would.
async fn error_counts(
    State(loki): State<Arc<FakeLoki>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    loki.record(&params, &headers);
    let number = |key: &str| params.get(key).and_then(|v| v.parse::<f64>().ok());
    if params["query"].starts_with('{') {
        // A log query: two lines of one stream, oldest first as Loki sends them.
        let end = number("end").unwrap_or(0.0);
        let at = |seconds: f64| format!("{:.0}", end - seconds * 1e9);
        let body = serde_json::json!({
            "status": "success",
            "data": {"resultType": "streams", "result": [
                {"stream": {"app": "shop"}, "values": [
                    [at(120.0), "payment timeout for order 7"],
                    [at(60.0), "payment timeout for order 8"]
                ]}
            ], "stats": {}}
        });
        return (StatusCode::OK, body.to_string());
    }
    let (Some(start), Some(end), Some(step)) = (number("start"), number("end"), number("step"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            "start, end and step are required".into(),
        );
    };
    let (start, end) = (start / 1e9, end / 1e9);
    let (_, last) = loki.answer.lock().unwrap().clone();
    let last: f64 = last.parse().unwrap_or(0.0);
    let mut values = Vec::new();
    let mut at = start;
    while at <= end {
        let wobble = (at / step) as i64 % 3;
        let value = if at + step > end {
            last
        } else {
            20.0 + wobble as f64
        };
        values.push(serde_json::json!([at, value.to_string()]));
        at += step;
    }
    let body = serde_json::json!({
        "status": "success",
        "data": {"resultType": "matrix", "result": [
            {"metric": {"app": "shop"}, "values": values}
        ], "stats": {}}
    });
    (StatusCode::OK, body.to_string())
}

#[tokio::test]
async fn an_hourly_error_count_from_the_logs_that_jumps_pages() {
    let loki = Arc::new(FakeLoki::default());
    let address = serve(&loki);
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        address,
        r#"[watches.errors]
kind = "jump"
description = "Errors per hour"
source = "logs"
query = 'sum by (app) (count_over_time({env="prod"} |= "error" [1h]))'
step = "1h"
baseline = "1d"
direction = "up"
min_change = 50
"#,
    );
    let pages = Arc::new(Mutex::new(Vec::new()));

    // An ordinary hour: 21 errors, as usual.
    loki.answer.lock().unwrap().1 = "21".into();
    let report = engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (0, 0), "{report:?}");
    {
        let requests = loki.requests.lock().unwrap();
        let (params, _) = &requests[0];
        assert_eq!(params.get("step").map(String::as_str), Some("3600"));
        let span = params["end"].parse::<i64>().unwrap() - params["start"].parse::<i64>().unwrap();
        assert!(
            span >= 25 * 3600 * 1_000_000_000,
            "the range covers the baseline and a step: {params:?}"
        );
    }

    // 400 errors this hour.
    loki.answer.lock().unwrap().1 = "400".into();
    let report = engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (1, 0), "{report:?}");
    let page = pages.lock().unwrap()[0].clone();
    assert!(
        page.title
            .contains("Errors per hour {app=\"shop\"} 400.00 is 19.0x its usual 21.00"),
        "{}",
        page.title
    );
}

#[test]
fn sentinel_query_prints_logql_metrics_and_the_newest_lines() {
    let loki = Arc::new(FakeLoki::default());
    *loki.answer.lock().unwrap() = (200, vector(&[("shop", 42.0)]));
    let address = serve(&loki);
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_config(
        dir.path(),
        &format!(
            "[store]\npath = \"{}/s.db\"\n[sources.logs]\nkind = \"loki\"\nurl = \"http://{address}\"\n",
            dir.path().display()
        ),
    );
    let query = |logql: &str| {
        let out = std::process::Command::new(support::sentinel_bin())
            .args(["query", "--config"])
            .arg(&path)
            .args(["logs", logql])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, table) = query(QUERY);
    assert_eq!(code, Some(0), "{table}");
    assert!(table.contains("{app=\"shop\"} | 42"), "{table}");

    let (code, table) = query(r#"{app="shop"} |= "timeout""#);
    assert_eq!(code, Some(0), "{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("time"), "{table}");
    assert!(
        lines[2].ends_with("{app=\"shop\"} | payment timeout for order 8")
            && lines[3].ends_with("payment timeout for order 7"),
        "newest first: {table}"
    );
    let requests = loki.requests.lock().unwrap();
    let (params, _) = requests.last().unwrap();
    assert_eq!(params["direction"], "backward", "{params:?}");
    assert_eq!(params["limit"], "100", "{params:?}");
}

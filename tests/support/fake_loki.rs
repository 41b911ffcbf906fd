//! An in-repo fake of Loki's log query API (`GET /loki/api/v1/query_range`, streams result,
//! nanosecond timestamps as strings), holding lines the test pushes and recording every request.
//! Only stream selectors of the form `{name="value"}` are understood: a line is returned when
//! one of its labels appears, as written, in the query.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A stream's labels, as pairs.
pub type Labels = Vec<(String, String)>;

/// What the fake Loki holds and what it was asked.
#[derive(Default)]
pub struct FakeLoki {
    /// (labels, nanoseconds, line), in any order.
    pub entries: Mutex<Vec<(Labels, i64, String)>>,
    /// Every query_range request's parameters and headers.
    pub requests: Mutex<Vec<(HashMap<String, String>, HeaderMap)>>,
    /// Answer every request with 503 (Loki restarting).
    pub down: Mutex<bool>,
}

async fn query_range(
    State(loki): State<Arc<FakeLoki>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    loki.requests
        .lock()
        .unwrap()
        .push((params.clone(), headers.clone()));
    if *loki.down.lock().unwrap() {
        return (StatusCode::SERVICE_UNAVAILABLE, "Loki is restarting".into());
    }
    let number = |key: &str| params.get(key).and_then(|v| v.parse::<i64>().ok());
    let (Some(start), Some(end)) = (number("start"), number("end")) else {
        return (StatusCode::BAD_REQUEST, "start and end are required".into());
    };
    let limit = number("limit").unwrap_or(100) as usize;
    // Only the selector {app="shop"} is understood; other streams are not returned.
    let wanted = params.get("query").cloned().unwrap_or_default();
    let mut matching: Vec<_> = loki
        .entries
        .lock()
        .unwrap()
        .iter()
        .filter(|(labels, at, _)| {
            *at >= start
                && *at < end
                && labels
                    .iter()
                    .any(|(k, v)| wanted.contains(&format!("{k}=\"{v}\"")))
        })
        .cloned()
        .collect();
    matching.sort_by_key(|(_, at, _)| *at);
    matching.truncate(limit);
    let mut streams: Vec<(Labels, Vec<(i64, String)>)> = Vec::new();
    for (labels, at, line) in matching {
        match streams.iter_mut().find(|(l, _)| *l == labels) {
            Some((_, values)) => values.push((at, line)),
            None => streams.push((labels, vec![(at, line)])),
        }
    }
    let result: Vec<serde_json::Value> = streams
        .into_iter()
        .map(|(labels, values)| {
            serde_json::json!({
                "stream": labels.into_iter().collect::<HashMap<_, _>>(),
                "values": values
                    .into_iter()
                    .map(|(at, line)| [at.to_string(), line])
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let body = serde_json::json!({
        "status": "success",
        "data": {"resultType": "streams", "result": result, "stats": {}}
    });
    (StatusCode::OK, body.to_string())
}

pub fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap()
}

impl FakeLoki {
    /// Serves a new fake on a free loopback port.
    pub fn serve() -> (Arc<FakeLoki>, SocketAddr) {
        let loki = Arc::new(FakeLoki::default());
        let router = Router::new()
            .route("/loki/api/v1/query_range", get(query_range))
            .with_state(loki.clone());
        (loki, super::serve_in_background(router))
    }

    /// Adds a line to the stream with `labels`, at `at`.
    pub fn push(&self, labels: &[(&str, &str)], at: DateTime<Utc>, line: &str) {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.entries
            .lock()
            .unwrap()
            .push((labels, nanos(at), line.to_string()));
    }
}

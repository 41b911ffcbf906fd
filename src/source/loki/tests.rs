//! Tests against an in-process fake Loki speaking the documented HTTP API.

use super::response::Sample;
use super::*;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// One request the fake received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    params: HashMap<String, String>,
    headers: HeaderMap,
}

type Responder = Box<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

struct Fake {
    seen: Mutex<Vec<Seen>>,
    respond: Responder,
    delay: Duration,
}

impl Fake {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn handle(
    State(fake): State<Arc<Fake>>,
    uri: Uri,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let seen = Seen {
        path: uri.path().to_string(),
        params,
        headers,
    };
    let (status, body) = (fake.respond)(&seen);
    fake.seen.lock().expect("lock").push(seen);
    if !fake.delay.is_zero() {
        tokio::time::sleep(fake.delay).await;
    }
    let content_type = if body.starts_with('{') {
        "application/json; charset=UTF-8"
    } else {
        "text/plain; charset=utf-8"
    };
    (
        StatusCode::from_u16(status).expect("status"),
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

async fn serve_with_delay(respond: Responder, delay: Duration) -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake {
        seen: Mutex::new(Vec::new()),
        respond,
        delay,
    });
    let app = Router::new().fallback(handle).with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), fake)
}

async fn serve(
    respond: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static,
) -> (String, Arc<Fake>) {
    serve_with_delay(Box::new(respond), Duration::ZERO).await
}

fn source(url: &str) -> LokiSource {
    LokiSource::new("loki", url, Duration::from_secs(5), None, None, None).expect("source")
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn at_nanos(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

/// The documented `query_range` log example (values newest first, as `backward` returns them).
const STREAMS_EXAMPLE: &str = r#"{
  "status": "success",
  "data": {
    "resultType": "streams",
    "result": [
      {
        "stream": {
          "filename": "/var/log/myproject.log",
          "job": "varlogs",
          "level": "info"
        },
        "values": [
          ["1569266497240578000", "foo"],
          ["1569266492548155000", "bar"]
        ]
      }
    ],
    "stats": {
      "ingester": {"compressedBytes": 0, "decompressedBytes": 0, "decompressedLines": 0,
        "headChunkBytes": 0, "headChunkLines": 0, "totalBatches": 0, "totalChunksMatched": 0,
        "totalDuplicates": 0, "totalLinesSent": 0, "totalReached": 0},
      "store": {"compressedBytes": 0, "decompressedBytes": 0, "decompressedLines": 0,
        "chunksDownloadTime": 0, "totalChunksRef": 0, "totalChunksDownloaded": 0,
        "totalDuplicates": 0},
      "summary": {"bytesProcessedPerSecond": 0, "execTime": 0, "linesProcessedPerSecond": 0,
        "queueTime": 0, "totalBytesProcessed": 0, "totalLinesProcessed": 0}
    }
  }
}"#;

/// The documented `query_range` metric example.
const MATRIX_EXAMPLE: &str = r#"{
  "status": "success",
  "data": {
    "resultType": "matrix",
    "result": [
      {
        "metric": {"level": "info"},
        "values": [[1588889221, "137.95"], [1588889281.5, "467.115"], [1588889341, "658.8516666666667"]]
      },
      {
        "metric": {"level": "warn"},
        "values": [[1588889221, "137.27833333333334"], [1588889281, "NaN"], [1588889341, "+Inf"]]
      }
    ],
    "stats": {"summary": {"bytesProcessedPerSecond": 1024, "execTime": 0.01}}
  }
}"#;

/// The documented `query` (instant) example.
const VECTOR_EXAMPLE: &str = r#"{
  "status": "success",
  "data": {
    "resultType": "vector",
    "result": [
      {"metric": {}, "value": [1588889221, "1267.1266666666666"]},
      {"metric": {"level": "warn"}, "value": [1588889221, "37.77166666666667"]},
      {"metric": {"level": "info"}, "value": [1588889221, "37.69"]}
    ],
    "stats": {}
  }
}"#;

#[tokio::test]
async fn range_query_sends_documented_params_tenant_and_basic_auth() {
    let (url, fake) = serve(|_| (200, STREAMS_EXAMPLE.to_string())).await;
    let loki = LokiSource::new(
        "loki",
        &format!("{url}/"),
        Duration::from_secs(5),
        Some("Tenant1|Tenant2".to_string()),
        Some(("alice".to_string(), "s3cret pass".to_string())),
        None,
    )
    .expect("source");
    let start = at_nanos(1_569_266_000_000_000_001);
    let end = at_nanos(1_569_266_500_123_456_789);
    let result = loki
        .query_range(
            r#"{job="varlogs"} |= "error""#,
            start,
            end,
            100,
            Direction::Backward,
        )
        .await
        .expect("query");

    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "fewer lines than the limit: one request");
    let request = &seen[0];
    assert_eq!(request.path, "/loki/api/v1/query_range");
    assert_eq!(request.params["query"], r#"{job="varlogs"} |= "error""#);
    assert_eq!(request.params["start"], "1569266000000000001");
    assert_eq!(request.params["end"], "1569266500123456789");
    assert_eq!(request.params["limit"], "100");
    assert_eq!(request.params["direction"], "backward");
    assert_eq!(request.headers["x-scope-orgid"], "Tenant1|Tenant2");
    // base64("alice:s3cret pass")
    assert_eq!(
        request.headers["authorization"],
        "Basic YWxpY2U6czNjcmV0IHBhc3M="
    );

    assert_eq!(result.line_count(), 2);
    let LokiResult::Streams(streams) = result else {
        panic!("expected streams, got {result:?}");
    };
    assert_eq!(streams.len(), 1);
    assert_eq!(
        streams[0].labels,
        labels(&[
            ("filename", "/var/log/myproject.log"),
            ("job", "varlogs"),
            ("level", "info")
        ])
    );
    assert_eq!(
        streams[0].entries,
        vec![
            (at_nanos(1_569_266_497_240_578_000), "foo".to_string()),
            (at_nanos(1_569_266_492_548_155_000), "bar".to_string()),
        ]
    );
}

#[tokio::test]
async fn bearer_token_is_sent_and_no_tenant_header_without_tenant() {
    let (url, fake) = serve(|_| (200, VECTOR_EXAMPLE.to_string())).await;
    let loki = LokiSource::new(
        "loki",
        &url,
        Duration::from_secs(5),
        None,
        None,
        Some("glc_token123".to_string()),
    )
    .expect("source");
    loki.query(
        "sum(rate({job=\"varlogs\"}[10m])) by (level)",
        at_nanos(1_588_889_221_000_000_000),
    )
    .await
    .expect("query");
    let request = &fake.seen()[0];
    assert_eq!(request.headers["authorization"], "Bearer glc_token123");
    assert!(!request.headers.contains_key("x-scope-orgid"));
}

#[tokio::test]
async fn instant_query_parses_the_documented_vector() {
    let (url, fake) = serve(|_| (200, VECTOR_EXAMPLE.to_string())).await;
    let at = at_nanos(1_588_889_221_500_000_000);
    let result = source(&url)
        .query("sum(rate({job=\"varlogs\"}[10m])) by (level)", at)
        .await
        .expect("query");
    let request = &fake.seen()[0];
    assert_eq!(request.path, "/loki/api/v1/query");
    assert_eq!(
        request.params["query"],
        "sum(rate({job=\"varlogs\"}[10m])) by (level)"
    );
    assert_eq!(request.params["time"], "1588889221500000000");
    let LokiResult::Vector(samples) = result else {
        panic!("expected a vector, got {result:?}");
    };
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].labels, Labels::new());
    assert_eq!(samples[0].value, 1267.1266666666666);
    assert_eq!(samples[0].at, at_nanos(1_588_889_221_000_000_000));
    assert_eq!(samples[1].labels, labels(&[("level", "warn")]));
    assert_eq!(samples[2].value, 37.69);
}

#[tokio::test]
async fn range_metric_query_parses_the_documented_matrix_once() {
    let (url, fake) = serve(|_| (200, MATRIX_EXAMPLE.to_string())).await;
    let result = source(&url)
        .query_range(
            "sum(rate({job=\"varlogs\"}[10m])) by (level)",
            at_nanos(1_588_889_000_000_000_000),
            at_nanos(1_588_889_400_000_000_000),
            1,
            Direction::Forward,
        )
        .await
        .expect("query");
    assert_eq!(fake.seen().len(), 1, "metric results are never paginated");
    let LokiResult::Matrix(series) = result else {
        panic!("expected a matrix, got {result:?}");
    };
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].labels, labels(&[("level", "info")]));
    assert_eq!(
        series[0].samples[1],
        (at_nanos(1_588_889_281_500_000_000), 467.115)
    );
    assert!(series[1].samples[1].1.is_nan());
    assert_eq!(series[1].samples[2].1, f64::INFINITY);
}

#[tokio::test]
async fn scalar_results_come_back_as_one_unlabeled_sample() {
    let body = r#"{"status":"success","data":{"resultType":"scalar","result":[1588889221,"2"],"stats":{}}}"#;
    let (url, _fake) = serve(move |_| (200, body.to_string())).await;
    let result = source(&url)
        .query("1+1", at_nanos(1_588_889_221_000_000_000))
        .await
        .expect("query");
    assert_eq!(
        result,
        LokiResult::Vector(vec![Sample {
            labels: Labels::new(),
            at: at_nanos(1_588_889_221_000_000_000),
            value: 2.0,
        }])
    );
}

#[tokio::test]
async fn structured_metadata_splits_entries_into_labelled_streams() {
    let body = r#"{"status":"success","data":{"resultType":"streams","result":[
      {"stream":{"app":"api"},"values":[
        ["1700000000000000003","no metadata"],
        ["1700000000000000002","with trace",{"trace_id":"0242ac120002","user_id":"superUser123"}],
        ["1700000000000000001","categorized",{"structuredMetadata":{"trace_id":"abc"},"parsed":{"status":"500"}}],
        ["1700000000000000000","same trace again",{"trace_id":"0242ac120002","user_id":"superUser123"}]
      ]}],"stats":{}}}"#;
    let (url, _fake) = serve(move |_| (200, body.to_string())).await;
    let result = source(&url)
        .query_range(
            "{app=\"api\"}",
            at_nanos(0),
            at_nanos(1_800_000_000_000_000_000),
            100,
            Direction::Backward,
        )
        .await
        .expect("query");
    let LokiResult::Streams(streams) = result else {
        panic!("expected streams");
    };
    let find = |l: &Labels| {
        streams
            .iter()
            .find(|s| &s.labels == l)
            .unwrap_or_else(|| panic!("no stream {l:?} in {streams:?}"))
    };
    assert_eq!(
        find(&labels(&[("app", "api")])).entries,
        vec![(
            at_nanos(1_700_000_000_000_000_003),
            "no metadata".to_string()
        )]
    );
    let traced = find(&labels(&[
        ("app", "api"),
        ("trace_id", "0242ac120002"),
        ("user_id", "superUser123"),
    ]));
    assert_eq!(traced.entries.len(), 2);
    assert_eq!(traced.entries[1].1, "same trace again");
    let categorized = find(&labels(&[
        ("app", "api"),
        ("status", "500"),
        ("trace_id", "abc"),
    ]));
    assert_eq!(categorized.entries[0].1, "categorized");
    assert_eq!(streams.len(), 3);
}

/// A fake Loki holding entries, answering `query_range` the way Loki does: `start`
/// inclusive, `end` exclusive, the `limit` first entries in `direction` over all streams,
/// grouped by stream.
#[derive(Default)]
struct Store {
    entries: Mutex<Vec<(Labels, i64, String)>>,
}

impl Store {
    fn push(&self, stream: &Labels, nanos: i64, line: &str) {
        self.entries
            .lock()
            .expect("lock")
            .push((stream.clone(), nanos, line.to_string()));
    }

    fn answer(&self, seen: &Seen) -> (u16, String) {
        let param = |k: &str| seen.params.get(k).and_then(|v| v.parse::<i64>().ok());
        let (Some(start), Some(end), Some(limit)) = (param("start"), param("end"), param("limit"))
        else {
            return (400, "missing start, end or limit".to_string());
        };
        let backward = seen.params.get("direction").map(String::as_str) != Some("forward");
        let mut hits: Vec<(Labels, i64, String)> = self
            .entries
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, t, _)| *t >= start && *t < end)
            .cloned()
            .collect();
        // Loki's order among lines of one nanosecond is its own: not the client's.
        hits.sort_by(|a, b| {
            let order = a.1.cmp(&b.1).then_with(|| b.2.cmp(&a.2));
            if backward { order.reverse() } else { order }
        });
        hits.truncate(limit as usize);
        let mut streams: Vec<(Labels, Vec<Value>)> = Vec::new();
        for (stream, nanos, line) in hits {
            let value = serde_json::json!([nanos.to_string(), line]);
            match streams.iter_mut().find(|(l, _)| *l == stream) {
                Some((_, values)) => values.push(value),
                None => streams.push((stream, vec![value])),
            }
        }
        let result: Vec<Value> = streams
            .into_iter()
            .map(|(stream, values)| serde_json::json!({"stream": stream, "values": values}))
            .collect();
        let body = serde_json::json!({
            "status": "success",
            "data": {"resultType": "streams", "result": result, "stats": {"summary": {"execTime": 0.001}}}
        });
        (200, body.to_string())
    }
}

async fn serve_store(store: Arc<Store>) -> (String, Arc<Fake>) {
    serve(move |seen| store.answer(seen)).await
}

fn all_lines(result: &LokiResult) -> Vec<(i64, String, String)> {
    let LokiResult::Streams(streams) = result else {
        panic!("expected streams, got {result:?}");
    };
    let mut lines: Vec<(i64, String, String)> = streams
        .iter()
        .flat_map(|s| {
            let app = s.labels.get("app").cloned().unwrap_or_default();
            s.entries
                .iter()
                .map(move |(at, line)| (to_nanos(*at), app.clone(), line.clone()))
        })
        .collect();
    lines.sort();
    lines
}

fn filled_store() -> (Arc<Store>, Vec<(i64, String, String)>) {
    let store = Arc::new(Store::default());
    let api = labels(&[("app", "api")]);
    let web = labels(&[("app", "web")]);
    let mut expected = Vec::new();
    // Three lines share nanosecond 1_000 across two streams, two share 2_000.
    for (stream, nanos, line) in [
        (&api, 100, "a0"),
        (&web, 200, "w0"),
        (&api, 1_000, "a1"),
        (&web, 1_000, "w1"),
        (&api, 1_000, "a2"),
        (&api, 2_000, "a3"),
        (&web, 2_000, "w2"),
        (&web, 3_000, "w3"),
        (&api, 4_000, "a4"),
    ] {
        store.push(stream, nanos, line);
        expected.push((nanos, stream["app"].clone(), line.to_string()));
    }
    expected.sort();
    (store, expected)
}

#[tokio::test]
async fn forward_pagination_reads_everything_once_across_shared_timestamps() {
    let (store, expected) = filled_store();
    let (url, fake) = serve_store(store).await;
    let result = source(&url)
        .query_range(
            "{app=~\".+\"}",
            at_nanos(0),
            at_nanos(10_000),
            3,
            Direction::Forward,
        )
        .await
        .expect("query");
    assert_eq!(all_lines(&result), expected);
    let seen = fake.seen();
    assert!(
        seen.len() > 3,
        "a limit of 3 needs several pages, made {}",
        seen.len()
    );
    // Each page resumes at the previous page's last timestamp.
    assert_eq!(seen[0].params["start"], "0");
    assert_eq!(seen[1].params["start"], "1000");
    assert!(seen.iter().all(|s| s.params["end"] == "10000"));
    assert!(seen.iter().all(|s| s.params["direction"] == "forward"));
}

#[tokio::test]
async fn backward_pagination_reads_everything_once_newest_first() {
    let (store, expected) = filled_store();
    let (url, fake) = serve_store(store).await;
    let result = source(&url)
        .query_range(
            "{app=~\".+\"}",
            at_nanos(0),
            at_nanos(10_000),
            2,
            Direction::Backward,
        )
        .await
        .expect("query");
    assert_eq!(all_lines(&result), expected);
    let seen = fake.seen();
    assert_eq!(seen[0].params["end"], "10000");
    // Newest first: 4_000 and 3_000, so the next page ends just after 3_000 (end is exclusive).
    assert_eq!(seen[1].params["end"], "3001");
    assert!(seen.iter().all(|s| s.params["start"] == "0"));
    let LokiResult::Streams(streams) = &result else {
        unreachable!()
    };
    let web = streams
        .iter()
        .find(|s| s.labels["app"] == "web")
        .expect("web");
    assert!(
        web.entries.windows(2).all(|w| w[0].0 >= w[1].0),
        "backward keeps newest first within a stream"
    );
}

#[tokio::test]
async fn pagination_stops_at_the_page_cap() {
    let (store, expected) = filled_store();
    let (url, fake) = serve_store(store).await;
    let result = source(&url)
        .with_max_pages(2)
        .query_range(
            "{app=~\".+\"}",
            at_nanos(0),
            at_nanos(10_000),
            2,
            Direction::Forward,
        )
        .await
        .expect("query");
    assert_eq!(fake.seen().len(), 2);
    let lines = all_lines(&result);
    assert!(lines.len() < expected.len());
    let newest = lines.last().expect("lines").0;
    let older: Vec<_> = expected.iter().filter(|l| l.0 < newest).cloned().collect();
    assert_eq!(
        lines[..older.len()],
        older[..],
        "the oldest lines, without gaps"
    );
    assert!(lines.iter().all(|l| expected.contains(l)));
}

#[tokio::test]
async fn tail_reads_new_lines_once_across_restarts() {
    let (store, expected) = filled_store();
    let (url, fake) = serve_store(Arc::clone(&store)).await;
    let loki = source(&url)
        .with_tail_page(2)
        .with_tail_delay(Duration::ZERO);
    let query = "{app=~\".+\"}";

    let first = loki
        .tail_since(query, &TailCursor::starting_at(at_nanos(0)))
        .await
        .expect("tail");
    let got: Vec<(i64, String, String)> = first
        .lines
        .iter()
        .map(|l| (to_nanos(l.at), l.labels["app"].clone(), l.line.clone()))
        .collect();
    assert_eq!(got, expected, "every line, oldest first, none twice");
    assert!(!first.more);
    assert_eq!(
        first.cursor,
        TailCursor {
            nanos: 4_000,
            seen_at_nanos: 1
        }
    );
    assert!(
        fake.seen()
            .iter()
            .all(|s| s.params["direction"] == "forward")
    );

    // Persist, "restart", and meanwhile new lines arrive, one at the cursor's own nanosecond.
    let saved = first.cursor.to_string();
    assert_eq!(saved, "4000:1");
    store.push(&labels(&[("app", "web")]), 4_000, "w4 same ns");
    store.push(&labels(&[("app", "api")]), 5_000, "a5");
    let restored: TailCursor = saved.parse().expect("cursor");
    let second = loki.tail_since(query, &restored).await.expect("tail");
    let lines: Vec<&str> = second.lines.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(lines, ["w4 same ns", "a5"]);
    assert_eq!(
        second.cursor,
        TailCursor {
            nanos: 5_000,
            seen_at_nanos: 1
        }
    );

    let third = loki.tail_since(query, &second.cursor).await.expect("tail");
    assert!(third.lines.is_empty());
    assert_eq!(third.cursor, second.cursor, "nothing new: the cursor stays");
}

#[tokio::test]
async fn tail_grows_its_page_for_a_crowded_nanosecond() {
    let store = Arc::new(Store::default());
    let app = labels(&[("app", "api"), ("level", "warning")]);
    for i in 0..5 {
        store.push(&app, 7_000, &format!("burst {i}"));
    }
    store.push(&app, 8_000, "after");
    let (url, _fake) = serve_store(Arc::clone(&store)).await;
    let loki = source(&url)
        .with_tail_page(2)
        .with_tail_delay(Duration::ZERO);
    let tail = loki
        .tail_since("{app=\"api\"}", &TailCursor::starting_at(at_nanos(0)))
        .await
        .expect("tail");
    let lines: Vec<&str> = tail.lines.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "burst 0", "burst 1", "burst 2", "burst 3", "burst 4", "after"
        ]
    );
    assert_eq!(tail.lines[0].level.as_deref(), Some("WARN"));
    assert_eq!(
        tail.cursor,
        TailCursor {
            nanos: 8_000,
            seen_at_nanos: 1
        }
    );
}

#[tokio::test]
async fn tail_stops_at_the_page_cap_and_says_there_is_more() {
    let (store, expected) = filled_store();
    let (url, _fake) = serve_store(store).await;
    let loki = source(&url)
        .with_tail_page(2)
        .with_max_pages(2)
        .with_tail_delay(Duration::ZERO);
    let query = "{app=~\".+\"}";
    let mut cursor = TailCursor::starting_at(at_nanos(0));
    let mut got = Vec::new();
    for _ in 0..20 {
        let tail = loki.tail_since(query, &cursor).await.expect("tail");
        got.extend(
            tail.lines
                .iter()
                .map(|l| (to_nanos(l.at), l.labels["app"].clone(), l.line.clone())),
        );
        cursor = tail.cursor;
        if !tail.more {
            break;
        }
    }
    assert_eq!(got, expected);
}

#[tokio::test]
async fn tail_refuses_a_metric_query() {
    let (url, _fake) = serve(|_| (200, MATRIX_EXAMPLE.to_string())).await;
    let error = source(&url)
        .with_tail_delay(Duration::ZERO)
        .tail_since(
            "rate({app=\"api\"}[1m])",
            &TailCursor::starting_at(at_nanos(0)),
        )
        .await
        .expect_err("metric");
    assert_eq!(error.kind, SourceErrorKind::QueryRejected);
}

#[test]
fn cursor_strings_round_trip_and_reject_garbage() {
    let cursor = TailCursor {
        nanos: 1_569_266_497_240_578_000,
        seen_at_nanos: 3,
    };
    assert_eq!(cursor.to_string(), "1569266497240578000:3");
    assert_eq!("1569266497240578000:3".parse::<TailCursor>(), Ok(cursor));
    let json = serde_json::to_string(&cursor).expect("serialize");
    assert_eq!(json, "\"1569266497240578000:3\"");
    assert_eq!(
        serde_json::from_str::<TailCursor>(&json).expect("deserialize"),
        cursor
    );
    for bad in ["", "123", "abc:1", "1:x", "-5:0", "1:-1"] {
        assert!(bad.parse::<TailCursor>().is_err(), "{bad:?} accepted");
    }
    assert!(serde_json::from_str::<TailCursor>("\"nope\"").is_err());
    assert_eq!(cursor.at(), at_nanos(1_569_266_497_240_578_000));
}

async fn error_for(status: u16, body: &'static str) -> SourceError {
    let (url, _fake) = serve(move |_| (status, body.to_string())).await;
    source(&url)
        .query_range(
            "{job=\"x\"}",
            at_nanos(0),
            at_nanos(1_000),
            10,
            Direction::Forward,
        )
        .await
        .expect_err("an error")
}

#[tokio::test]
async fn parse_error_is_a_rejected_query_with_lokis_message() {
    let error = error_for(
        400,
        "parse error at line 1, col 15: syntax error: unexpected IDENTIFIER, expecting STRING\n",
    )
    .await;
    assert_eq!(error.kind, SourceErrorKind::QueryRejected);
    assert_eq!(
        error.detail,
        "parse error at line 1, col 15: syntax error: unexpected IDENTIFIER, expecting STRING"
    );
    assert_eq!(error.source, "loki");
}

#[tokio::test]
async fn auth_failures_say_to_check_credentials() {
    for status in [401, 403] {
        let error = error_for(status, "no org id\n").await;
        assert_eq!(error.kind, SourceErrorKind::BadResponse);
        assert!(
            error.detail.contains("check the credentials"),
            "{}",
            error.detail
        );
        assert!(
            error.detail.contains(&status.to_string()),
            "{}",
            error.detail
        );
        assert!(error.detail.contains("no org id"), "{}", error.detail);
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_bad_responses() {
    let error = error_for(429, "too many outstanding requests").await;
    assert_eq!(error.kind, SourceErrorKind::BadResponse);
    assert!(error.detail.contains("429"));
    assert!(error.detail.contains("too many outstanding requests"));
    for status in [500, 502, 503] {
        let error = error_for(status, "").await;
        assert_eq!(error.kind, SourceErrorKind::BadResponse);
        assert!(
            error.detail.contains(&status.to_string()),
            "{}",
            error.detail
        );
    }
    let error = error_for(404, "404 page not found").await;
    assert_eq!(error.kind, SourceErrorKind::BadResponse);
    assert!(error.detail.contains("base URL"), "{}", error.detail);
}

#[tokio::test]
async fn garbage_bodies_are_bad_responses() {
    for body in [
        "<html>gateway</html>",
        r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[[1569266497240578000,"ts is a number"]]}]}}"#,
        r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["x","bad ts"]]}]}}"#,
        r#"{"status":"success","data":{"resultType":"histogram","result":[]}}"#,
        r#"{"status":"success"}"#,
        r#"{"data":{"resultType":"streams","result":[]}}"#,
    ] {
        let error = error_for(200, body).await;
        assert_eq!(error.kind, SourceErrorKind::BadResponse, "{body}");
    }
    let error = error_for(
        200,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}"#,
    )
    .await;
    assert_eq!(error.kind, SourceErrorKind::QueryRejected);
    assert_eq!(error.detail, "invalid parameter \"query\"");
}

#[tokio::test]
async fn refused_connections_are_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let error = source(&format!("http://{address}"))
        .query("count_over_time({job=\"x\"}[1m])", at_nanos(0))
        .await
        .expect_err("refused");
    assert_eq!(error.kind, SourceErrorKind::Unreachable);
    assert!(
        error.detail.contains(&address.to_string()),
        "{}",
        error.detail
    );
}

#[tokio::test]
async fn slow_answers_time_out() {
    let (url, _fake) = serve_with_delay(
        Box::new(|_| (200, VECTOR_EXAMPLE.to_string())),
        Duration::from_secs(3),
    )
    .await;
    let loki = LokiSource::new("loki", &url, Duration::from_millis(300), None, None, None)
        .expect("source");
    let started = std::time::Instant::now();
    let error = loki
        .query("count_over_time({job=\"x\"}[1m])", at_nanos(0))
        .await
        .expect_err("timeout");
    assert_eq!(error.kind, SourceErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn debug_never_shows_secrets() {
    let basic = LokiSource::new(
        "loki",
        "http://127.0.0.1:3100",
        Duration::from_secs(1),
        Some("team-a".to_string()),
        Some(("alice".to_string(), "hunter2-password".to_string())),
        None,
    )
    .expect("source");
    let text = format!("{basic:?}");
    assert!(!text.contains("hunter2-password"), "{text}");
    assert!(text.contains("alice") && text.contains("team-a"), "{text}");
    let bearer = LokiSource::new(
        "loki",
        "http://127.0.0.1:3100",
        Duration::from_secs(1),
        None,
        None,
        Some("glc_secret_token".to_string()),
    )
    .expect("source");
    let text = format!("{bearer:?}");
    assert!(!text.contains("glc_secret_token"), "{text}");
    assert!(text.contains("bearer"), "{text}");
}

#[test]
fn bad_configurations_are_refused() {
    let both = LokiSource::new(
        "loki",
        "http://127.0.0.1:3100",
        Duration::from_secs(1),
        None,
        Some(("u".to_string(), "p".to_string())),
        Some("t".to_string()),
    );
    assert!(both.is_err());
    let in_url = LokiSource::new(
        "loki",
        "http://u:secret@127.0.0.1:3100",
        Duration::from_secs(1),
        None,
        None,
        None,
    )
    .expect_err("credentials in the URL");
    assert!(!in_url.detail.contains("secret"), "{}", in_url.detail);
    for url in ["not a url", "ftp://127.0.0.1/"] {
        assert!(
            LokiSource::new("loki", url, Duration::from_secs(1), None, None, None).is_err(),
            "{url}"
        );
    }
    let tenant = LokiSource::new(
        "loki",
        "http://127.0.0.1:3100",
        Duration::from_secs(1),
        Some("bad\nname".to_string()),
        None,
        None,
    );
    assert!(tenant.is_err());
}

#[tokio::test]
async fn a_path_prefix_in_the_url_is_kept() {
    let (url, fake) = serve(|_| (200, VECTOR_EXAMPLE.to_string())).await;
    source(&format!("{url}/proxy/loki/"))
        .query("count_over_time({job=\"x\"}[1m])", at_nanos(0))
        .await
        .expect("query");
    assert_eq!(fake.seen()[0].path, "/proxy/loki/loki/api/v1/query");
}

#[test]
fn levels_come_from_level_labels() {
    let level = |pairs: &[(&str, &str)]| level_of(&labels(pairs));
    assert_eq!(level(&[("level", "error")]), Some("ERROR".to_string()));
    assert_eq!(
        level(&[("detected_level", "warn")]),
        Some("WARN".to_string())
    );
    assert_eq!(level(&[("detected_level", "unknown")]), None);
    assert_eq!(
        level(&[("severity", "Critical")]),
        Some("FATAL".to_string())
    );
    assert_eq!(level(&[("level", "verbose")]), Some("VERBOSE".to_string()));
    assert_eq!(level(&[("app", "api")]), None);
}

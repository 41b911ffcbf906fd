//! Ping intake on an empty store against a store holding 1,000,000 pings over 200 checks:
//! pings per second through the real HTTP route (`/ping/<token>`, the daemon's own router on
//! loopback), through the store call that route makes (`record_ping`), and the heartbeat
//! watch's read of a check (`heartbeat_status`). The goal: the full store within 10% of the
//! empty one.
//!
//! cargo bench --bench ping_intake

use sentinel::clock::{SharedClock, SystemClock};
use sentinel::config::Config;
use sentinel::server::{self, AppState};
use sentinel::store::Store;
use sentinel::store::heartbeats::{Ping, PingKind};
use sentinel::telemetry::Metrics;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const CHECKS: usize = 200;
const PREFILLED: usize = 1_000_000;
const HTTP_PINGS: usize = 3000;
const AT_ONCE: usize = 16;
const STORE_PINGS: usize = 5000;
const STATUS_READS: usize = 4000;
const ROUNDS: usize = 3;

fn token(check: usize) -> String {
    format!("bench-ping-token-{check:04}")
}

fn config(store: &Path) -> Config {
    let mut text = format!(
        "[server]\nrate_limit_per_second = 1000000\n[store]\npath = \"{}\"\n",
        store.display()
    );
    for check in 0..CHECKS {
        text.push_str(&format!(
            "[watches.check-{check}]\nkind = \"heartbeat\"\ntoken = \"{}\"\nperiod = \"1h\"\n",
            token(check)
        ));
    }
    match Config::parse(Path::new("bench.toml"), &text, &|_| None) {
        Ok(config) => config,
        Err(errors) => panic!("{errors}"),
    }
}

/// What the `seq`-th ping of `check` is, in the same mix the prefill uses: a quarter of the
/// checks only report success, a quarter report start/success runs, a quarter the same with
/// run ids, and a quarter succeed with an occasional log and failure.
fn action(check: usize, seq: usize) -> (&'static str, Option<String>) {
    match check % 4 {
        0 => ("", None),
        1 => (if seq.is_multiple_of(2) { "start" } else { "0" }, None),
        2 => (
            if seq.is_multiple_of(2) { "start" } else { "0" },
            Some(format!("run-{}", seq / 2)),
        ),
        _ => match seq % 10 {
            9 => ("fail", None),
            5 => ("log", None),
            _ => ("", None),
        },
    }
}

fn kind_of(action: &str) -> PingKind {
    match action {
        "start" => PingKind::Start,
        "fail" => PingKind::Fail(None),
        "log" => PingKind::Log,
        _ => PingKind::Success,
    }
}

/// 1,000,000 pings (and the runs they made) in the mix of [`action`], a minute apart per check.
async fn prefill(store: &Store) {
    let mut tx = store.write().await.expect("write");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         INSERT INTO pings (watch, kind, exit_status, received_at, remote, body, run_id)
         SELECT 'check-' || (i % {CHECKS}),
                CASE (i % {CHECKS}) % 4
                    WHEN 0 THEN 'success'
                    WHEN 3 THEN CASE (i / {CHECKS}) % 10 WHEN 9 THEN 'fail' WHEN 5 THEN 'log' ELSE 'success' END
                    ELSE CASE (i / {CHECKS}) % 2 WHEN 0 THEN 'start' ELSE 'success' END
                END,
                NULL, 1700000000000 + (i / {CHECKS}) * 60000, '127.0.0.1',
                CASE WHEN (i % {CHECKS}) % 4 = 3 AND (i / {CHECKS}) % 10 = 5 THEN 'step 2 of 3' ELSE '' END,
                CASE (i % {CHECKS}) % 4 WHEN 2 THEN 'run-' || ((i / {CHECKS}) / 2) ELSE NULL END
         FROM n",
        last = PREFILLED - 1
    )))
    .execute(&mut *tx)
    .await
    .expect("prefill pings");
    sqlx::query(
        "INSERT INTO runs (watch, started_at, finished_at, outcome, exit_status, duration_ms)
         SELECT s.watch, s.received_at, s.received_at + 60000, 'success', 0, 60000
         FROM pings s WHERE s.kind = 'start'",
    )
    .execute(&mut *tx)
    .await
    .expect("prefill runs");
    tx.commit().await.expect("commit");
    store
        .write_one(sqlx::query("ANALYZE"))
        .await
        .expect("analyze");
}

/// Pings per second through the HTTP route, `AT_ONCE` requests in flight.
async fn through_http(base: &str, offset: usize) -> f64 {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut next = 0;
    let mut in_flight = tokio::task::JoinSet::new();
    while next < HTTP_PINGS || !in_flight.is_empty() {
        while next < HTTP_PINGS && in_flight.len() < AT_ONCE {
            let check = next % CHECKS;
            let (action, rid) = action(check, offset + next / CHECKS);
            let mut url = format!("{base}/ping/{}", token(check));
            if !action.is_empty() {
                url = format!("{url}/{action}");
            }
            if let Some(rid) = rid {
                url = format!("{url}?rid={rid}");
            }
            let client = client.clone();
            in_flight.spawn(async move { client.get(url).send().await.map(|r| r.status()) });
            next += 1;
        }
        if let Some(result) = in_flight.join_next().await {
            match result {
                Ok(Ok(status)) if status.is_success() => {}
                other => panic!("a ping failed: {other:?}"),
            }
        }
    }
    HTTP_PINGS as f64 / started.elapsed().as_secs_f64()
}

/// Pings per second through `record_ping`, one after another.
async fn through_store(store: &Store, offset: usize) -> f64 {
    let base = chrono::Utc::now();
    let started = Instant::now();
    for n in 0..STORE_PINGS {
        let check = n % CHECKS;
        let (action, run_id) = action(check, offset + n / CHECKS);
        let ping = Ping {
            kind: kind_of(action),
            at: base + chrono::Duration::milliseconds(n as i64),
            remote: "127.0.0.1".into(),
            body: String::new(),
            run_id,
        };
        store
            .record_ping(&format!("check-{check}"), &ping)
            .await
            .expect("record");
    }
    STORE_PINGS as f64 / started.elapsed().as_secs_f64()
}

/// Heartbeat-watch reads per second.
async fn status_reads(store: &Store) -> f64 {
    let started = Instant::now();
    for n in 0..STATUS_READS {
        store
            .heartbeat_status(&format!("check-{}", n % CHECKS))
            .await
            .expect("status");
    }
    STATUS_READS as f64 / started.elapsed().as_secs_f64()
}

struct Figures {
    http: f64,
    store: f64,
    reads: f64,
}

/// The best of `ROUNDS` runs of each measurement on a store at `path`.
async fn measure(path: &Path, filled: bool) -> Figures {
    let mut store = Store::open(path).await.expect("store");
    if filled {
        let started = Instant::now();
        prefill(&store).await;
        println!(
            "prefilled {PREFILLED} pings over {CHECKS} checks in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        // Closing checkpoints the log into the file, as in a store that has been running.
        store.close().await;
        store = Store::open(path).await.expect("store");
    }
    let config = config(path);
    let clock: SharedClock = Arc::new(SystemClock);
    let state = AppState::new(&config, store.clone(), Arc::new(Metrics::new()), clock);
    let app = server::router(state, config.server.rate_limit_per_second)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let served = tokio::spawn(async move { axum::serve(listener, app).await });
    let offset = if filled { PREFILLED / CHECKS } else { 0 };
    let mut figures = Figures {
        http: 0.0,
        store: 0.0,
        reads: 0.0,
    };
    for round in 0..ROUNDS {
        let seq = offset + round * (HTTP_PINGS + STORE_PINGS) / CHECKS;
        figures.http = figures.http.max(through_http(&base, seq).await);
        figures.store = figures
            .store
            .max(through_store(&store, seq + HTTP_PINGS / CHECKS).await);
        figures.reads = figures.reads.max(status_reads(&store).await);
    }
    served.abort();
    store.close().await;
    figures
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (empty, full) = runtime.block_on(async {
        let empty = measure(&dir.path().join("empty.db"), false).await;
        let full = measure(&dir.path().join("full.db"), true).await;
        (empty, full)
    });
    let line = |what: &str, empty: f64, full: f64, unit: &str| {
        println!(
            "{what}: empty store {empty:.0} {unit}, {PREFILLED} pings stored {full:.0} {unit}, full/empty {:.2}",
            full / empty
        );
    };
    line("ping intake over HTTP", empty.http, full.http, "pings/s");
    line(
        "ping intake, record_ping",
        empty.store,
        full.store,
        "pings/s",
    );
    line("heartbeat watch reads", empty.reads, full.reads, "checks/s");
}

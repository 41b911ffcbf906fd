//! Against a real Prometheus (Debian's package, started on loopback, scraping an exporter the
//! test serves): threshold, freshness, stuck (queue lengths) and jump (a range query Prometheus
//! evaluates) watches page for exactly the broken series, and a
//! Prometheus that errors, times out, answers garbage or is gone makes one "can't see" alert
//! while the watches on it stay as they were: no panic, no false resolve.

mod support;

use assert_cmd::Command;
use sentinel::alert::tracker::AlertState;
use sentinel::clock::SystemClock;
use sentinel::config::Config;
use sentinel::engine::build;
use sentinel::notify::Channel;
use sentinel::notify::dispatch::Channels;
use sentinel::source::SourceErrorKind;
use sentinel::source::prometheus::PrometheusSource;
use sentinel::store::Store;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{prometheus, sentinel_bin, serve_in_background, write_config};

fn config_text(dir: &Path, url: &str, watches: &str) -> String {
    format!(
        "[store]\npath = \"{}/s.db\"\n[sources.prom]\nkind = \"prometheus\"\nurl = \"{url}\"\ntimeout = \"1s\"\nfor = \"0s\"\n{watches}",
        dir.display()
    )
}

/// `sentinel check --once` on the config at `path`.
fn check_once(path: &Path) -> std::process::Output {
    Command::new(sentinel_bin())
        .args(["check", "--once", "--config"])
        .arg(path)
        .output()
        .unwrap()
}

const DISK: &str = "[watches.disk]\nkind = \"threshold\"\ndescription = \"Disk space\"\nsource = \"prom\"\nquery = 'demo_disk_free_ratio < 0.05'\n";

#[test]
fn threshold_pages_for_exactly_the_series_the_query_returns() {
    let prom = prometheus();
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &config_text(dir.path(), &prom.url, DISK));
    let out = check_once(&path);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Disk space on {") && stdout.contains("mount=\"/var\"}: 0.03"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("mount=\"/\"}"),
        "the healthy mount must not page:\n{stdout}"
    );

    let healthy = write_config(
        dir.path(),
        &config_text(dir.path(), &prom.url, &DISK.replace("< 0.05", "< 0.01")),
    );
    let out = check_once(&healthy);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the alert resolves when the query returns nothing:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn freshness_from_promql_timestamps_pages_for_the_stale_one() {
    let prom = prometheus();
    let dir = tempfile::tempdir().unwrap();
    let watch = "[watches.backups]\nkind = \"freshness\"\ndescription = \"DB backup\"\nsource = \"prom\"\nquery = \"demo_backup_last_success_timestamp_seconds\"\nmax_age = \"26h\"\n";
    let path = write_config(dir.path(), &config_text(dir.path(), &prom.url, watch));
    let out = check_once(&path);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("DB backup on {")
            && stdout.contains("db=\"legacy\"")
            && stdout.contains("} is stale"),
        "{stdout}"
    );
    assert!(stdout.contains("3d old (limit 1d 2h)"), "{stdout}");
    assert!(!stdout.contains("db=\"shop\""), "{stdout}");
}

#[test]
fn a_queue_whose_length_never_falls_is_stuck_and_an_empty_one_is_not() {
    let prom = prometheus();
    let dir = tempfile::tempdir().unwrap();
    let watch = "[watches.queues]\nkind = \"stuck\"\ndescription = \"Job queues\"\nsource = \"prom\"\nquery = \"demo_queue_length\"\nstep = \"1s\"\nstalled_for = 3\n";
    let path = write_config(dir.path(), &config_text(dir.path(), &prom.url, watch));
    // A Prometheus started for this test binary needs three scrapes before three steps exist;
    // until then a queue is not judged (too few observations), never guessed.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let out = loop {
        let out = check_once(&path);
        if out.status.code() != Some(0) || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("queue=\"mailers\""), "{stdout}");
    assert!(stdout.contains("12"), "says how many wait: {stdout}");
    assert!(
        !stdout.contains("reports"),
        "an empty queue is not stuck:\n{stdout}"
    );
}

#[test]
fn a_series_that_leaves_its_baseline_pages_and_one_that_keeps_to_it_does_not() {
    let prom = prometheus();
    let dir = tempfile::tempdir().unwrap();
    // Prometheus itself evaluates the series over the range: 10 an hour for a day, then 410
    // from ten minutes ago on, so only the newest hourly point jumped.
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 600;
    let watch = |name: &str, spike: u32| {
        format!(
            "[watches.{name}]\nkind = \"jump\"\ndescription = \"Signups per hour\"\nsource = \"prom\"\nquery = \"vector(10 + {spike} * (time() >= bool {since}))\"\nstep = \"1h\"\nbaseline = \"1d\"\nmin_change = 20\n"
        )
    };
    let watches = format!("{}{}", watch("jumped", 400), watch("steady", 5));
    let path = write_config(dir.path(), &config_text(dir.path(), &prom.url, &watches));
    let out = check_once(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Signups per hour 410.00 is 41.0x its usual 10.00"),
        "{stdout}"
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("checked 2 watches: 1 firing") && !stdout.contains("steady"),
        "5 more than usual is under min_change: {stdout}{summary}"
    );
}

#[test]
fn sentinel_query_prints_a_promql_answer_as_a_table() {
    let prom = prometheus();
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &config_text(dir.path(), &prom.url, ""));
    let query = |promql: &str| {
        Command::new(sentinel_bin())
            .args(["query", "--config"])
            .arg(&path)
            .args(["prom", promql])
            .output()
            .unwrap()
    };
    let out = query("demo_disk_free_ratio < 0.05");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("series"), "{stdout}");
    assert!(stdout.contains("mount=\"/var\"} | 0.03"), "{stdout}");
    assert!(stdout.ends_with("(1 row)\n"), "{stdout}");

    let out = query("demo_disk_free_ratio <");
    assert_eq!(out.status.code(), Some(1), "a rejected query exits 1");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("parse error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn instant_and_range_queries_return_real_samples() {
    let prom = prometheus();
    let source = PrometheusSource::new("prom", &prom.url, Duration::from_secs(5), None).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let series = source.instant("demo_disk_free_ratio", now).await.unwrap();
    let mut values: Vec<(String, f64)> = series
        .iter()
        .map(|s| (s.labels["mount"].clone(), s.value))
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        values,
        vec![("/".to_string(), 0.42), ("/var".to_string(), 0.03)]
    );

    let range = source
        .range("demo_disk_free_ratio", now - 30, now, 1.0)
        .await
        .unwrap();
    assert_eq!(range.len(), 2);
    assert!(range.iter().all(|(_, samples)| !samples.is_empty()));

    let error = source.instant("sum(", now).await.unwrap_err();
    assert_eq!(error.kind, SourceErrorKind::QueryRejected, "{error}");
}

/// A server that answers every request the same broken way.
fn broken_prometheus(kind: &'static str) -> String {
    let router = axum::Router::new().fallback(move || async move {
        match kind {
            "garbage" => (
                axum::http::StatusCode::OK,
                "<html>definitely not the Prometheus API</html>".to_string(),
            ),
            "error" => (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"overloaded\"}"
                    .to_string(),
            ),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                (axum::http::StatusCode::OK, String::new())
            }
            _ => (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "boom".to_string(),
            ),
        }
    });
    format!("http://{}", serve_in_background(router))
}

async fn pass(
    dir: &Path,
    url: &str,
    pages: &Arc<Mutex<Vec<sentinel::alert::notice::Notice>>>,
) -> sentinel::engine::PassReport {
    let config = Config::parse(
        &dir.join("sentinel.toml"),
        &config_text(dir, url, DISK),
        &|_| None,
    )
    .unwrap();
    let store = Store::open(&config.store.path).await.unwrap();
    let channels = Channels {
        list: vec![("memory".into(), Channel::Memory(pages.clone()))],
    };
    let engine = build::engine(config, store.clone(), Arc::new(SystemClock), channels).unwrap();
    let report = engine.pass(true).await.unwrap();
    store.close().await;
    report
}

#[tokio::test]
async fn an_unreadable_prometheus_is_one_cant_see_alert_and_never_a_false_resolve() {
    let prom = prometheus();
    let closed = format!("http://127.0.0.1:{}", support::free_port());
    for broken in [
        broken_prometheus("garbage"),
        broken_prometheus("error"),
        broken_prometheus("slow"),
        closed,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let pages = Arc::new(Mutex::new(Vec::new()));
        let first = pass(dir.path(), &prom.url, &pages).await;
        assert_eq!(
            (first.firing, first.blind),
            (1, 0),
            "real Prometheus: the /var disk fires"
        );

        let blind = pass(dir.path(), &broken, &pages).await;
        assert_eq!(blind.blind, 1, "{broken}");
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let alerts = store.all_alerts().await.unwrap();
        let disk = alerts.iter().find(|a| a.watch == "disk").unwrap();
        assert_eq!(
            disk.state,
            AlertState::Firing,
            "blindness must not resolve the disk alert ({broken})"
        );
        let cant_see: Vec<_> = alerts
            .iter()
            .filter(|a| a.watch.starts_with("can't see"))
            .collect();
        assert_eq!(
            cant_see.len(),
            1,
            "exactly one blindness alert: {cant_see:?}"
        );
        assert_eq!(cant_see[0].watch, "can't see prom");
        assert_eq!(cant_see[0].state, AlertState::Firing);

        let pages = pages.lock().unwrap();
        let kinds: Vec<(String, String)> = pages
            .iter()
            .map(|p| (p.watch.clone(), p.state.as_str().to_string()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("disk".to_string(), "firing".to_string()),
                ("can't see prom".to_string(), "firing".to_string())
            ],
            "{broken}"
        );
        assert!(
            pages[1].title.starts_with("Can't see prom"),
            "{}",
            pages[1].title
        );
    }
}

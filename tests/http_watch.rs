//! The `http` watch end to end against a real HTTP server on loopback: a healthy endpoint is
//! quiet; a 503, a body that says the database is down, an answer slower than allowed and a
//! closed port each page; a recovered endpoint resolves; a single failure within the default
//! `for` stays quiet.

mod support;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use sentinel::alert::notice::Notice;
use sentinel::config::Config;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{engine_pass, free_port, serve_in_background};

/// How the endpoint behaves for the next requests.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Healthy,
    Unavailable,
    DatabaseDown,
    Slow,
}

async fn health(State(mode): State<Arc<Mutex<Mode>>>) -> (StatusCode, String) {
    let mode = *mode.lock().unwrap();
    match mode {
        Mode::Healthy => (StatusCode::OK, r#"{"status":"ok","db":"ok"}"#.into()),
        Mode::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream connect error".into(),
        ),
        Mode::DatabaseDown => (StatusCode::OK, r#"{"status":"ok","db":"down"}"#.into()),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_millis(700)).await;
            (StatusCode::OK, r#"{"status":"ok","db":"ok"}"#.into())
        }
    }
}

fn config(dir: &Path, url: &str, for_: &str) -> Config {
    let text = format!(
        r#"
[store]
path = "{dir}/s.db"

[watches.shop-health]
kind = "http"
description = "Shop health"
url = "{url}"
body_match = '"db":\s*"ok"'
max_latency = "400ms"
notify_resolved = true
{for_}
"#,
        dir = dir.display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

fn titles(pages: &Arc<Mutex<Vec<Notice>>>) -> Vec<(String, String)> {
    pages
        .lock()
        .unwrap()
        .iter()
        .map(|n| (n.state.as_str().to_string(), n.title.clone()))
        .collect()
}

#[tokio::test]
async fn each_way_of_failing_pages_and_recovery_resolves() {
    let mode = Arc::new(Mutex::new(Mode::Healthy));
    let address = serve_in_background(
        Router::new()
            .route("/healthz", get(health))
            .with_state(mode.clone()),
    );
    let url = format!("http://{address}/healthz");

    let cases = [
        (
            Mode::Unavailable,
            "Shop health: answered 503 Service Unavailable",
        ),
        (
            Mode::DatabaseDown,
            "Shop health: the answer does not say what it should",
        ),
        (Mode::Slow, "Shop health: slow"),
    ];
    for (failure, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), &url, "for = \"0s\"");
        let pages = Arc::new(Mutex::new(Vec::new()));
        *mode.lock().unwrap() = Mode::Healthy;
        let report = engine_pass(&config, &pages).await;
        assert_eq!((report.blind, report.firing), (0, 0), "{report:?}");

        *mode.lock().unwrap() = failure;
        let report = engine_pass(&config, &pages).await;
        assert_eq!(report.firing, 1, "{failure:?}: {report:?}");
        let seen = titles(&pages);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].1.starts_with(expected), "{failure:?}: {seen:?}");

        *mode.lock().unwrap() = Mode::Healthy;
        let report = engine_pass(&config, &pages).await;
        assert_eq!(report.firing, 0, "{report:?}");
        assert_eq!(titles(&pages).last().unwrap().0, "resolved");
    }
}

#[tokio::test]
async fn a_closed_port_is_no_answer_not_blindness() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/healthz", free_port());
    let config = config(dir.path(), &url, "for = \"0s\"");
    let pages = Arc::new(Mutex::new(Vec::new()));
    let report = engine_pass(&config, &pages).await;
    assert_eq!((report.blind, report.firing), (0, 1), "{report:?}");
    let page = pages.lock().unwrap()[0].clone();
    assert_eq!(page.title, "Shop health: no answer");
    assert!(page.facts.iter().any(|f| f.contains(&url)), "{page:?}");
}

#[tokio::test]
async fn one_failed_probe_within_the_default_for_stays_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/healthz", free_port());
    let config = config(dir.path(), &url, "");
    assert_eq!(config.watches[0].for_, Duration::from_secs(180));
    let pages = Arc::new(Mutex::new(Vec::new()));
    engine_pass(&config, &pages).await;
    assert!(pages.lock().unwrap().is_empty(), "{:?}", titles(&pages));
}

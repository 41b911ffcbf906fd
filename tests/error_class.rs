//! The `error_class` watch end to end: an endpoint that answers a malformed id with 500 (the
//! app's error is PostgreSQL's own 22P02 message, taken from the real server) pages once, naming
//! the route, an example request and the error; a scanner hitting 500 random paths pages
//! nothing; a database outage (500s for another reason) is not bad input. The same watch reads
//! both logs from Loki (an in-repo fake of its query API) as well as from files.

mod support;

use chrono::{DateTime, Utc};
use sentinel::alert::notice::Notice;
use sentinel::clock::SystemClock;
use sentinel::config::Config;
use sentinel::engine::build;
use sentinel::notify::Channel;
use sentinel::notify::dispatch::Channels;
use sentinel::store::Store;
use sqlx::Connection;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn config(dir: &Path) -> Config {
    let text = format!(
        r#"
[store]
path = "{dir}/s.db"

[watches.api]
kind = "error_class"
description = "Shop API"
path = "{dir}/access.log"
app_log = "{dir}/app.log"
"#,
        dir = dir.display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

/// One daemon's engine: the watch keeps what it learned about the app's routes between passes.
async fn engine(config: &Config, pages: &Arc<Mutex<Vec<Notice>>>) -> sentinel::engine::Engine {
    let store = Store::open(&config.store.path).await.unwrap();
    let channels = Channels {
        list: vec![("memory".into(), Channel::Memory(pages.clone()))],
    };
    build::engine(config.clone(), store, Arc::new(SystemClock), channels).unwrap()
}

async fn pass(engine: &sentinel::engine::Engine) -> sentinel::engine::PassReport {
    engine.pass(true).await.unwrap()
}

fn append(path: &Path, lines: &[String]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
}

/// A line in nginx's `combined` format.
fn nginx(client: &str, at: DateTime<Utc>, request: &str, status: u16, agent: &str) -> String {
    format!(
        "{client} - - [{}] \"{request} HTTP/1.1\" {status} 512 \"-\" \"{agent}\"",
        at.format("%d/%b/%Y:%H:%M:%S %z")
    )
}

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Normal traffic: orders fetched by their uuid, the home page, assets.
fn normal_traffic(start: DateTime<Utc>) -> Vec<String> {
    (0..60)
        .map(|i| {
            let at = start + chrono::Duration::seconds(i);
            let client = format!("203.0.113.{}", i % 20 + 1);
            let request = match i % 3 {
                0 => format!("GET /orders/{}", uuid_like(i)),
                1 => "GET /".to_string(),
                _ => "GET /static/app.css".to_string(),
            };
            nginx(&client, at, &request, 200, BROWSER)
        })
        .collect()
}

fn uuid_like(i: i64) -> String {
    format!("{:08x}-4b1c-4d2e-9f3a-{:012x}", 0x1234_0000 + i, 0xabc0 + i)
}

/// PostgreSQL's own answer to a malformed uuid, as the app would log it.
async fn postgres_uuid_error() -> String {
    let mut conn = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/test")
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (scripts/test.sh starts it)");
    let error = sqlx::query("SELECT 'abc-123'::uuid")
        .execute(&mut conn)
        .await
        .expect_err("a malformed uuid is refused");
    let db = error.as_database_error().expect("a database error");
    assert_eq!(db.code().as_deref(), Some("22P02"));
    format!(
        "error returned from database: {} (SQLSTATE 22P02)",
        db.message()
    )
}

#[tokio::test]
async fn a_malformed_id_answered_with_500_pages_once_naming_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let pages = Arc::new(Mutex::new(Vec::new()));
    let engine = engine(&config, &pages).await;
    let start = Utc::now() - chrono::Duration::minutes(5);
    append(&dir.path().join("access.log"), &normal_traffic(start));
    append(
        &dir.path().join("app.log"),
        &["2026-01-01T00:00:00Z INFO started".to_string()],
    );
    let quiet = pass(&engine).await;
    assert_eq!((quiet.firing, quiet.blind), (0, 0), "{quiet:?}");

    let pg_error = postgres_uuid_error().await;
    let mut access = Vec::new();
    let mut app = Vec::new();
    for i in 0..4 {
        let at = start + chrono::Duration::seconds(90 + i * 10);
        let id = format!("req{i}");
        app.push(format!(
            "{} ERROR request_id={id} GET /orders/abc-123: {pg_error}",
            at.to_rfc3339()
        ));
        access.push(nginx(
            &format!("198.51.100.{}", i + 1),
            at,
            "GET /orders/abc-123?expand=items",
            500,
            BROWSER,
        ));
    }
    append(&dir.path().join("app.log"), &app);
    append(&dir.path().join("access.log"), &access);
    let paged = pass(&engine).await;
    assert_eq!((paged.firing, paged.blind), (1, 0), "{paged:?}");
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 1, "{pages:?}");
        let page = &pages[0];
        assert!(page.title.contains("GET /orders/:uuid"), "{}", page.title);
        assert!(
            page.title.contains("invalid input syntax for type uuid"),
            "{}",
            page.title
        );
        let facts = page.facts.join("\n");
        assert!(facts.contains("4 requests from 4 clients"), "{facts}");
        assert!(
            facts.contains("/orders/abc-123"),
            "the example request: {facts}"
        );
    }
    // Nothing new: still firing, no second page.
    let again = pass(&engine).await;
    assert_eq!(again.firing, 1);
    assert_eq!(pages.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn routes_learned_before_a_restart_still_recognise_a_malformed_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let pages = Arc::new(Mutex::new(Vec::new()));
    let start = Utc::now() - chrono::Duration::minutes(5);
    append(&dir.path().join("access.log"), &normal_traffic(start));
    append(
        &dir.path().join("app.log"),
        &["2026-01-01T00:00:00Z INFO started".to_string()],
    );
    {
        let before = engine(&config, &pages).await;
        let quiet = pass(&before).await;
        assert_eq!((quiet.firing, quiet.blind), (0, 0), "{quiet:?}");
    }

    // A new daemon. The app's error does not say the input was bad; only the learned route
    // shape (a uuid at /orders/<here>) does.
    let after = engine(&config, &pages).await;
    let mut access = Vec::new();
    let mut app = Vec::new();
    for i in 0..4 {
        let at = start + chrono::Duration::seconds(90 + i * 10);
        app.push(format!(
            "{} ERROR request_id=late{i} unhandled exception in OrdersController#show",
            at.to_rfc3339()
        ));
        access.push(nginx(
            &format!("198.51.100.{}", i + 1),
            at,
            "GET /orders/not-an-order",
            500,
            BROWSER,
        ));
    }
    append(&dir.path().join("app.log"), &app);
    append(&dir.path().join("access.log"), &access);
    let paged = pass(&after).await;
    assert_eq!((paged.firing, paged.blind), (1, 0), "{paged:?}");
    let title = pages.lock().unwrap()[0].title.clone();
    assert!(title.contains("GET /orders/:uuid"), "{title}");
}

#[tokio::test]
async fn a_scanner_hitting_500_random_paths_pages_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let pages = Arc::new(Mutex::new(Vec::new()));
    let engine = engine(&config, &pages).await;
    let start = Utc::now() - chrono::Duration::minutes(5);
    let mut access = normal_traffic(start);
    let probes = [
        "/wp-login.php",
        "/.env",
        "/phpmyadmin/index.php",
        "/.git/config",
        "/xmlrpc.php",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..500 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let path = if i % 5 == 0 {
            probes[(i / 5) % probes.len()].to_string()
        } else {
            format!("/{:x}/{:x}", seed, seed.rotate_left(17))
        };
        // Most probes are 404s; some reach a handler that breaks on them.
        let status = if i % 7 == 0 { 500 } else { 404 };
        let at = start + chrono::Duration::milliseconds(100 * i as i64 + 60_000);
        access.push(nginx(
            "192.0.2.66",
            at,
            &format!("GET {path}"),
            status,
            "Mozilla/5.0 zgrab/0.x",
        ));
    }
    append(&dir.path().join("access.log"), &access);
    append(
        &dir.path().join("app.log"),
        &["2026-01-01T00:00:00Z INFO started".to_string()],
    );
    let report = pass(&engine).await;
    assert_eq!((report.firing, report.blind), (0, 0), "{report:?}");
    assert!(pages.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_database_outage_is_not_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let pages = Arc::new(Mutex::new(Vec::new()));
    let engine = engine(&config, &pages).await;
    let start = Utc::now() - chrono::Duration::minutes(5);
    let mut access = normal_traffic(start);
    let mut app = Vec::new();
    for i in 0..10 {
        let at = start + chrono::Duration::seconds(70 + i);
        access.push(nginx(
            "203.0.113.9",
            at,
            &format!("GET /orders/{}", uuid_like(i)),
            500,
            BROWSER,
        ));
        app.push(format!(
            "{} ERROR request_id=o{i} connection to server at \"127.0.0.1\", port 5432 failed: Connection refused",
            at.to_rfc3339()
        ));
    }
    append(&dir.path().join("app.log"), &app);
    append(&dir.path().join("access.log"), &access);
    let report = pass(&engine).await;
    assert_eq!((report.firing, report.blind), (0, 0), "{report:?}");
}

#[tokio::test]
async fn a_vanished_access_log_is_blindness_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir.path().join("gone"));
    let pages = Arc::new(Mutex::new(Vec::new()));
    let engine = engine(&config, &pages).await;
    std::fs::create_dir_all(dir.path().join("gone")).unwrap();
    let report = pass(&engine).await;
    assert_eq!((report.evaluated, report.blind), (1, 1), "{report:?}");
    let store = engine.store();
    let alerts = store.all_alerts().await.unwrap();
    assert!(alerts.iter().all(|a| a.watch != "api"), "{alerts:?}");
}

#[tokio::test]
async fn the_access_and_app_logs_can_come_from_loki() {
    let (loki, address) = support::fake_loki::FakeLoki::serve();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[store]
path = "{dir}/s.db"

[sources.logs]
kind = "loki"
url = "http://{address}"

[watches.api]
kind = "error_class"
description = "Shop API"
source = "logs"
query = '{{job="nginx"}}'
app_query = '{{app="shop"}}'
"#,
        dir = dir.path().display()
    );
    let config = Config::parse(&dir.path().join("sentinel.toml"), &text, &|_| None).unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let engine = engine(&config, &pages).await;
    let start = Utc::now() - chrono::Duration::minutes(5);
    for (i, line) in normal_traffic(start).iter().enumerate() {
        let at = start + chrono::Duration::seconds(i as i64);
        loki.push(&[("job", "nginx")], at, line);
    }
    let quiet = pass(&engine).await;
    assert_eq!((quiet.firing, quiet.blind), (0, 0), "{quiet:?}");

    let pg_error = postgres_uuid_error().await;
    for i in 0..4 {
        let at = start + chrono::Duration::seconds(90 + i * 10);
        loki.push(
            &[("app", "shop")],
            at,
            &format!("ERROR request_id=req{i} GET /orders/abc-123: {pg_error}"),
        );
        loki.push(
            &[("job", "nginx")],
            at,
            &nginx(
                &format!("198.51.100.{}", i + 1),
                at,
                "GET /orders/abc-123",
                500,
                BROWSER,
            ),
        );
    }
    let paged = pass(&engine).await;
    assert_eq!((paged.firing, paged.blind), (1, 0), "{paged:?}");
    let pages = pages.lock().unwrap();
    let page = &pages[0];
    assert!(page.title.contains("GET /orders/:uuid"), "{}", page.title);
    assert!(
        page.title.contains("invalid input syntax for type uuid"),
        "the app's error, matched from its own stream: {}",
        page.title
    );
}

//! The playbooks of new_error, error_class, http, certificate and alertmanager, end to end: a
//! real fault makes the watch page (a log file and a git clone of the app, nginx and app logs
//! with PostgreSQL's own error, an HTTP server and a TLS server on loopback, Alertmanager's
//! webhook through the real route and a real Prometheus), then `sentinel investigate <watch>`
//! runs the offline investigation and its printed report must name the decisive facts.

mod support;

use chrono::{DateTime, Utc};
use sentinel::alert::notice::Notice;
use sentinel::config::Config;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Writes the configuration (every investigation offline) and parses it.
fn config(dir: &Path, watches: &str) -> (PathBuf, Config) {
    let text = format!(
        "[store]\npath = \"{}/s.db\"\n\n[investigator]\nprovider = \"offline\"\n{watches}",
        dir.display()
    );
    let path = support::write_config(dir, &text);
    let config = Config::parse(&path, &text, &|_| None).unwrap();
    (path, config)
}

/// `sentinel investigate <watch> -c <config>`: its printed report, after checking it exited 0.
async fn investigate(config: &Path, watch: &str) -> String {
    let output = tokio::process::Command::new(support::sentinel_bin())
        .args(["investigate", watch, "-c"])
        .arg(config)
        .env("SENTINEL_LOG", "warn")
        .output()
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

async fn pass(config: &Config) -> sentinel::engine::PassReport {
    let pages: Arc<Mutex<Vec<Notice>>> = Arc::new(Mutex::new(Vec::new()));
    support::engine_pass(config, &pages).await
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

/// The verdict line of a report, e.g. `**Verdict: action needed** · ops or config · ...`.
fn verdict(report: &str) -> &str {
    report
        .lines()
        .find(|line| line.starts_with("**Verdict:"))
        .unwrap_or_default()
}

// new_error: the code that logs it, and the commit that brought it.

fn git(repo: &Path, at: DateTime<Utc>, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_DATE", at.to_rfc3339())
        .env("GIT_COMMITTER_DATE", at.to_rfc3339())
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The shop's code: written 40 days ago, and two hours ago a change that logs a mismatch.
fn shop_repository(repo: &Path) -> String {
    let now = Utc::now();
    std::fs::create_dir_all(repo.join("shop")).unwrap();
    std::fs::create_dir_all(repo.join("node_modules/vendored")).unwrap();
    git(repo, now, &["init", "-q"]);
    git(repo, now, &["config", "user.email", "dev@shop.test"]);
    git(repo, now, &["config", "user.name", "Dev"]);
    let mut lines: Vec<String> = (1..=20).map(|n| format!("# orders, part {n}")).collect();
    lines[9] = "def place(cart, order):".into();
    std::fs::write(repo.join("shop/orders.py"), lines.join("\n") + "\n").unwrap();
    std::fs::write(repo.join("README.md"), "The shop: carts and orders.\n").unwrap();
    git(repo, now, &["add", "."]);
    git(
        repo,
        now - chrono::Duration::days(40),
        &["commit", "-qm", "Orders"],
    );
    lines[13] = "    log.error(\"order total mismatch: cart %s has %d items but order %s has %d\", cart.id, len(cart.items), order.id, len(order.items))".into();
    std::fs::write(repo.join("shop/orders.py"), lines.join("\n") + "\n").unwrap();
    // The same words in a dependency must not be taken for the app's code.
    std::fs::write(
        repo.join("node_modules/vendored/index.js"),
        "console.error('order total mismatch: cart ' + id)\n",
    )
    .unwrap();
    git(repo, now, &["add", "shop/orders.py"]);
    git(
        repo,
        now - chrono::Duration::hours(2),
        &["commit", "-qm", "Check order totals against the cart"],
    );
    git(repo, now, &["rev-parse", "--short", "HEAD"])
}

#[tokio::test]
async fn new_error_names_the_code_line_and_the_commit_that_brought_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let repo = dir.path().join("repo");
    let commit = shop_repository(&repo);
    let (path, config) = config(
        dir.path(),
        &format!(
            "repository = \"{}\"\n\n[watches.app-errors]\nkind = \"new_error\"\ndescription = \"shop log\"\npath = \"{}\"\nlearn_for = \"0s\"\n",
            repo.display(),
            log.display()
        ),
    );
    append(
        &log,
        &[format!("{} INFO shop started", Utc::now().to_rfc3339())],
    );
    assert_eq!(pass(&config).await.firing, 0);
    let errors: Vec<String> = (0..4)
        .map(|n| {
            format!(
                "{} ERROR order total mismatch: cart c-10{n}4 has {} items but order o-7{n} has {}",
                Utc::now().to_rfc3339(),
                n + 3,
                n + 2
            )
        })
        .chain([format!("{} INFO checkout done", Utc::now().to_rfc3339())])
        .collect();
    append(&log, &errors);
    assert_eq!(pass(&config).await.firing, 1);

    let report = investigate(&path, "app-errors").await;
    assert!(
        verdict(&report).contains("action needed") && verdict(&report).contains("durable code bug"),
        "{report}"
    );
    assert!(report.contains("order total mismatch"), "{report}");
    assert!(
        report.contains("shop/orders.py:14"),
        "the code line: {report}"
    );
    assert!(
        report.contains(&format!("Likely brought by commit {commit}")),
        "the commit: {report}"
    );
    assert!(
        report.contains("Check order totals against the cart"),
        "{report}"
    );
    assert!(
        report.contains("4 of the"),
        "the lines found in the log: {report}"
    );
    assert!(!report.contains("node_modules"), "{report}");
    assert!(
        report.contains("git -C"),
        "the git commands shown: {report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn new_error_on_loki_reads_the_lines_around_it_with_a_range_query() {
    let (loki, address) = support::fake_loki::FakeLoki::serve();
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        &format!(
            "\n[sources.loki]\nkind = \"loki\"\nurl = \"http://{address}\"\n\n[watches.shop-errors]\nkind = \"new_error\"\ndescription = \"shop logs\"\nsource = \"loki\"\nquery = '{{app=\"shop\"}}'\nlearn_for = \"0s\"\n"
        ),
    );
    let start = Utc::now() - chrono::Duration::minutes(5);
    for i in 0..20 {
        loki.push(
            &[("app", "shop"), ("level", "info")],
            start + chrono::Duration::seconds(i),
            &format!("GET /orders/{i} 200"),
        );
    }
    for i in 0..3 {
        loki.push(
            &[("app", "shop"), ("level", "error")],
            start + chrono::Duration::seconds(30 + i),
            &format!("card declined by provider for order {} code=51", 1000 + i),
        );
    }
    loki.push(
        &[("app", "billing")],
        start + chrono::Duration::seconds(40),
        "ERROR billing exploded",
    );
    assert_eq!(pass(&config).await.firing, 1);
    loki.requests.lock().unwrap().clear();

    let report = investigate(&path, "shop-errors").await;
    let verdict = verdict(&report);
    assert!(
        verdict.contains("action needed") && verdict.contains("unknown"),
        "no code was read, so no code bug is claimed: {report}"
    );
    assert!(report.contains("logql on `loki`"), "{report}");
    assert!(
        report.contains("3 of the 23 lines read match"),
        "the stream's lines, not billing's: {report}"
    );
    assert!(
        report.contains("> card declined by provider for order 1002 code=51"),
        "the latest occurrence, marked: {report}"
    );
    assert!(
        report.contains("No repository is configured"),
        "what was not done: {report}"
    );
    let requests = loki.requests.lock().unwrap();
    assert_eq!(requests.len(), 1, "one range query");
    assert_eq!(requests[0].0["direction"], "backward");
    assert_eq!(requests[0].0["query"], "{app=\"shop\"}");
}

/// Writes `entries` (priority, message) of `shop.service`, a second apart from `start`, as a
/// journal file in `dir` with the machine's `systemd-journal-remote`; `false` where it is
/// missing (scripts/test.sh installs it).
fn write_journal(dir: &Path, start: DateTime<Utc>, entries: &[(u8, &str)]) -> bool {
    let Some(remote) = [
        "/lib/systemd/systemd-journal-remote",
        "/usr/lib/systemd/systemd-journal-remote",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists()) else {
        eprintln!("skipped: systemd-journal-remote is not installed (scripts/test.sh installs it)");
        return false;
    };
    let mut export = String::new();
    for (i, (priority, message)) in entries.iter().enumerate() {
        let micros = start.timestamp_micros() + i as i64 * 1_000_000;
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={micros}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE={message}\nPRIORITY={priority}\n_SYSTEMD_UNIT=shop.service\nSYSLOG_IDENTIFIER=shop\n\n",
            micros / 1000
        ));
    }
    let export_path = dir.join("shop.export");
    std::fs::write(&export_path, export).unwrap();
    let made = std::process::Command::new(remote)
        .arg(format!("--output={}", dir.join("shop.journal").display()))
        .arg(&export_path)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    std::fs::remove_file(export_path).unwrap();
    true
}

#[tokio::test]
async fn new_error_in_the_journal_reads_the_entries_since_it_first_appeared() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    std::fs::create_dir(&journal).unwrap();
    let start = Utc::now() - chrono::Duration::minutes(5);
    let entries = [
        (6, "order 1040 paid"),
        (3, "invoice address missing for order 1041"),
        (6, "order 1042 paid"),
        (3, "invoice address missing for order 1043"),
        (3, "invoice address missing for order 1044"),
        (6, "order 1045 paid"),
    ];
    if !write_journal(&journal, start, &entries) {
        return;
    }
    let (path, config) = config(
        dir.path(),
        &format!(
            "\n[sources.journal]\nkind = \"journald\"\ndirectory = \"{}\"\nunits = [\"shop.service\"]\n\n[watches.shop-journal]\nkind = \"new_error\"\ndescription = \"shop service\"\nsource = \"journal\"\nlearn_for = \"0s\"\n",
            journal.display()
        ),
    );
    assert_eq!(pass(&config).await.firing, 1);

    let report = investigate(&path, "shop-journal").await;
    assert!(verdict(&report).contains("action needed"), "{report}");
    assert!(report.contains("logs on `journal`"), "{report}");
    assert!(
        report.contains("journalctl --since=@"),
        "the read, exactly: {report}"
    );
    assert!(
        report.contains("3 of the 6 lines read match"),
        "the unit's entries since the error first appeared: {report}"
    );
    assert!(
        report.contains("> invoice address missing for order 1044"),
        "the latest occurrence, marked: {report}"
    );
}

// error_class: bad input on a route that works.

fn nginx(client: &str, at: DateTime<Utc>, request: &str, status: u16) -> String {
    format!(
        "{client} - - [{}] \"{request} HTTP/1.1\" {status} 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"",
        at.format("%d/%b/%Y:%H:%M:%S %z")
    )
}

/// PostgreSQL's own answer to a malformed uuid, as the app logs it.
async fn postgres_uuid_error() -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(support::POSTGRES)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (scripts/test.sh starts it)");
    let error = sqlx::query("SELECT 'abc-123'::uuid")
        .execute(&mut conn)
        .await
        .expect_err("a malformed uuid is refused");
    let db = error.as_database_error().expect("a database error");
    format!(
        "error returned from database: {} (SQLSTATE {})",
        db.message(),
        db.code().unwrap_or_default()
    )
}

#[tokio::test]
async fn error_class_names_the_route_the_bad_input_and_that_the_route_works() {
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.log");
    let app = dir.path().join("app.log");
    let (path, config) = config(
        dir.path(),
        &format!(
            "\n[watches.api]\nkind = \"error_class\"\ndescription = \"Shop API\"\npath = \"{}\"\napp_log = \"{}\"\n",
            access.display(),
            app.display()
        ),
    );
    let start = Utc::now() - chrono::Duration::minutes(5);
    let normal: Vec<String> = (0..40)
        .map(|i| {
            let uuid = format!("{:08x}-4b1c-4d2e-9f3a-{:012x}", 0x1234_0000 + i, 0xabc0 + i);
            nginx(
                &format!("203.0.113.{}", i % 20 + 1),
                start + chrono::Duration::seconds(i),
                &format!("GET /orders/{uuid}"),
                200,
            )
        })
        .collect();
    append(&access, &normal);
    append(&app, &[format!("{} INFO started", start.to_rfc3339())]);
    let store = sentinel::store::Store::open(&config.store.path)
        .await
        .unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let engine = sentinel::engine::build::engine(
        config.clone(),
        store.clone(),
        Arc::new(sentinel::clock::SystemClock),
        sentinel::notify::dispatch::Channels {
            list: vec![("memory".into(), sentinel::notify::Channel::Memory(pages))],
        },
    )
    .unwrap();
    assert_eq!(engine.pass(true).await.unwrap().firing, 0);

    let pg_error = postgres_uuid_error().await;
    let mut failing = Vec::new();
    let mut errors = Vec::new();
    for i in 0..4 {
        let at = start + chrono::Duration::seconds(90 + i * 10);
        errors.push(format!(
            "{} ERROR request_id=req{i} GET /orders/abc-123: {pg_error}",
            at.to_rfc3339()
        ));
        failing.push(nginx(
            &format!("198.51.100.{}", i + 1),
            at,
            "GET /orders/abc-123?expand=items",
            500,
        ));
    }
    append(&app, &errors);
    append(&access, &failing);
    assert_eq!(engine.pass(true).await.unwrap().firing, 1);
    drop(engine);
    store.close().await;

    let report = investigate(&path, "api").await;
    let verdict = verdict(&report);
    assert!(
        verdict.contains("action suggested") && verdict.contains("durable code bug"),
        "{report}"
    );
    assert!(report.contains("GET /orders/:uuid"), "the route: {report}");
    assert!(
        report.contains("invalid input syntax for type uuid"),
        "the error: {report}"
    );
    assert!(
        report.contains("4 failing requests from 4 clients"),
        "the requests affected: {report}"
    );
    assert!(
        report.contains("works with well-formed input: 40 of its requests read succeeded"),
        "whether the route succeeds: {report}"
    );
    assert!(report.contains("malformed :uuid: abc-123"), "{report}");
    assert!(report.contains("answer 400"), "the fix: {report}");
}

// http: fresh probes, failing and then healed.

#[tokio::test(flavor = "multi_thread")]
async fn http_probes_again_and_says_whether_it_still_fails_and_why() {
    use axum::extract::State;
    use axum::http::StatusCode;
    let failing = Arc::new(Mutex::new(true));
    let address = support::serve_in_background(
        axum::Router::new()
            .route(
                "/healthz",
                axum::routing::get(|State(failing): State<Arc<Mutex<bool>>>| async move {
                    if *failing.lock().unwrap() {
                        (StatusCode::SERVICE_UNAVAILABLE, "upstream connect error")
                    } else {
                        (StatusCode::OK, "ok")
                    }
                }),
            )
            .with_state(failing.clone()),
    );
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        &format!(
            "\n[watches.shop-health]\nkind = \"http\"\ndescription = \"Shop health\"\nurl = \"http://{address}/healthz\"\nfor = \"0s\"\n"
        ),
    );
    assert_eq!(pass(&config).await.firing, 1);

    let report = investigate(&path, "shop-health").await;
    assert!(verdict(&report).contains("action needed"), "{report}");
    assert!(
        report.contains("still failing: answers 503, in 3 of 3 fresh probes"),
        "{report}"
    );
    assert!(
        report.contains("upstream connect error"),
        "the body: {report}"
    );
    assert!(
        report.contains("the app behind it is down or too slow"),
        "{report}"
    );

    *failing.lock().unwrap() = false;
    let healed = investigate(&path, "shop-health").await;
    assert!(verdict(&healed).contains("no action"), "{healed}");
    assert!(
        healed.contains("answers as it should again: 3 of 3 fresh probes succeeded"),
        "{healed}"
    );
}

// certificate: read again, with its expiry and issuer.

/// A TLS server on loopback presenting a self-signed certificate for `localhost` that expires
/// in `days` days.
async fn tls_server(days: i64) -> u16 {
    use chrono::Datelike;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "shop.test");
    let until = Utc::now() + chrono::Duration::days(days);
    let from = Utc::now() - chrono::Duration::days(85);
    params.not_before = rcgen::date_time_ymd(from.year(), from.month() as u8, from.day() as u8);
    params.not_after = rcgen::date_time_ymd(until.year(), until.month() as u8, until.day() as u8);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let server = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = tokio_rustls::TlsAcceptor::from(server.clone());
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_reads_it_again_and_names_expiry_issuer_and_who_renews_it() {
    let port = tls_server(5).await;
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        &format!(
            "\n[watches.shop-tls]\nkind = \"certificate\"\ndescription = \"Shop TLS\"\nhost = \"localhost:{port}\"\nexpires_within = \"14d\"\n"
        ),
    );
    assert_eq!(pass(&config).await.firing, 1);

    let report = investigate(&path, "shop-tls").await;
    let verdict = verdict(&report);
    assert!(
        verdict.contains("action needed") && verdict.contains("ops or config"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "The certificate of localhost:{port} expires in 4d"
        )) || report.contains(&format!(
            "The certificate of localhost:{port} expires in 5d"
        )),
        "the expiry: {report}"
    );
    assert!(
        report.contains("issuer CN=shop.test"),
        "the issuer: {report}"
    );
    assert!(
        report.contains("self-signed or from a private authority"),
        "who renews it: {report}"
    );
    assert!(
        report.contains(&format!("-connect localhost:{port} -servername localhost")),
        "{report}"
    );
}

// alertmanager: the alert as sent, its neighbours, and its rule's expression on Prometheus.

fn webhook(generator: &str) -> String {
    let starts = (Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    let alert = |name: &str, mount: &str, summary: &str, fingerprint: &str| {
        format!(
            r#"{{"status":"firing","labels":{{"alertname":"{name}","instance":"db:9100","mount":"{mount}","severity":"critical"}},"annotations":{{"summary":"{summary}","runbook_url":"https://wiki.shop.test/disk"}},"startsAt":"{starts}","endsAt":"0001-01-01T00:00:00Z","generatorURL":"{generator}","fingerprint":"{fingerprint}"}}"#
        )
    };
    format!(
        r#"{{"receiver":"sentinel","status":"firing","alerts":[{},{}],"groupLabels":{{}},"commonLabels":{{}},"commonAnnotations":{{}},"externalURL":"http://am:9093","version":"4","groupKey":"{{}}:{{}}","truncatedAlerts":0}}"#,
        alert(
            "DiskAlmostFull",
            "/var",
            "/var on db is 97% full",
            "1a30ba71cca2921f"
        ),
        alert(
            "HighIOWait",
            "/var",
            "db waits on its disk",
            "2b41cb82ddb3a32e"
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn alertmanager_reads_the_rule_s_expression_on_prometheus_and_its_neighbours() {
    use tower::ServiceExt;
    let prometheus = support::prometheus();
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        &format!(
            "\n[sources.prom]\nkind = \"prometheus\"\nurl = \"{}\"\n\n[watches.prom-alerts]\nkind = \"alertmanager\"\n",
            prometheus.url
        ),
    );
    let store = sentinel::store::Store::open(&config.store.path)
        .await
        .unwrap();
    let clock: sentinel::clock::SharedClock = Arc::new(sentinel::clock::SystemClock);
    let state = sentinel::server::AppState::new(
        &config,
        store.clone(),
        Arc::new(sentinel::telemetry::Metrics::new()),
        clock,
    );
    let generator = "http://prometheus:9090/graph?g0.expr=demo_disk_free_ratio+%3C+0.05&g0.tab=1";
    let response = sentinel::server::router(state, 1000)
        .oneshot(
            axum::http::Request::post("/hooks/alertmanager")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(webhook(generator)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), axum::http::StatusCode::OK);
    store.close().await;
    assert_eq!(pass(&config).await.firing, 2);

    let report = investigate(&path, "prom-alerts").await;
    assert!(verdict(&report).contains("action needed"), "{report}");
    assert!(
        report.contains("its condition still holds: {instance=")
            && report.contains("mount=\"/var\"} = 0.03"),
        "the series and its value: {report}"
    );
    assert!(
        report.contains("demo_disk_free_ratio < 0.05 from "),
        "the range query, exactly: {report}"
    );
    assert!(
        report.contains("sharing instance=db:9100"),
        "the alert firing beside it: {report}"
    );
    assert!(
        report.contains("https://wiki.shop.test/disk"),
        "the runbook: {report}"
    );
}

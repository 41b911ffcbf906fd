//! The playbooks of the slow_query, stuck, jump, threshold and freshness watches, end to end
//! against the real parts: a watch pages through the engine, then an investigation of its alert
//! runs the kind's playbook through the same sources, and the report (as `sentinel investigate`
//! prints it) names the decisive facts: the table and column of a missing index, the stuck
//! jobs and the worker that died, the source of a jump, a threshold's course, the newest files.

mod support;

use sentinel::clock::SystemClock;
use sentinel::config::Config;
use sentinel::engine::Engine;
use sentinel::investigate::render;
use sentinel::investigate::report::Report;
use sentinel::notify::Channel;
use sentinel::notify::dispatch::Channels;
use sentinel::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// An engine over `config` whose pages are collected in `pages`.
async fn engine(
    config: &Config,
    pages: &Arc<Mutex<Vec<sentinel::alert::notice::Notice>>>,
) -> (Engine, Store) {
    let store = Store::open(&config.store.path).await.unwrap();
    let channels = Channels {
        list: vec![("memory".into(), Channel::Memory(pages.clone()))],
    };
    let engine = sentinel::engine::build::engine(
        config.clone(),
        store.clone(),
        Arc::new(SystemClock),
        channels,
    )
    .unwrap();
    (engine, store)
}

/// `sentinel investigate <watch> --json` on the configuration at `path`, as an operator runs
/// it: the report, and its Markdown as the command prints it without `--json`.
fn investigate(path: &Path, watch: &str) -> (Report, String) {
    let output = Command::new(support::sentinel_bin())
        .args(["investigate", watch, "--json", "--config"])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Report = serde_json::from_str(&stdout).unwrap();
    let markdown = render::markdown(&report);
    (report, markdown)
}

/// The configuration `text` written to `dir` and parsed: its path and what it says.
fn config_at(dir: &Path, text: &str) -> (PathBuf, Config) {
    let path = support::write_config(dir, text);
    let config = Config::parse(&path, text, &|_| None).unwrap();
    (path, config)
}

/// Evidence of one playbook stays short enough for a model's context.
fn assert_evidence_is_short(report: &Report) {
    let total: usize = report
        .finding
        .evidence
        .items()
        .iter()
        .map(|item| item.query.len() + item.excerpt.len())
        .sum();
    assert!(total < 16_000, "{total} characters of evidence");
}

mod slow_query {
    use super::*;
    use sqlx::{Connection, Executor, PgConnection};
    use support::pg_cluster;

    const APP_QUERY: &str = "SELECT id, amount FROM orders WHERE customer_email = $1 \
                             AND created_at > $2 ORDER BY created_at DESC LIMIT 20";

    async fn run_app_query(app: &mut PgConnection, calls: usize, round: usize) {
        let since = chrono::Utc::now() - chrono::Duration::days(3650);
        for call in 0..calls {
            let email = format!(
                "customer{}@example.com",
                1 + (round * 97 + call * 13) % 200_000
            );
            sqlx::query(APP_QUERY)
                .bind(email)
                .bind(since)
                .fetch_all(&mut *app)
                .await
                .unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_index_is_named_with_the_index_to_create() {
        let url = pg_cluster::fresh_database("playbook_slowq", true).await;
        let mut app = PgConnection::connect(&url).await.unwrap();
        for statement in [
            "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_email text NOT NULL, \
             amount numeric NOT NULL, created_at timestamptz NOT NULL, note text)",
            "INSERT INTO orders (customer_email, amount, created_at, note) \
             SELECT 'customer' || g || '@example.com', g % 100, now() - g * interval '1 minute', \
             repeat('x', 100) FROM generate_series(1, 200000) AS g",
            "CREATE INDEX orders_customer_email_idx ON orders (customer_email)",
            "ANALYZE orders",
        ] {
            app.execute(statement).await.unwrap();
        }
        let reader = support::reader_url(&url).await;
        let dir = tempfile::tempdir().unwrap();
        let (path, config) = config_at(
            dir.path(),
            &format!(
                "[store]\npath = \"{}/s.db\"\n\n[sources.shop]\nkind = \"postgres\"\nurl = \"{reader}\"\n\n\
                 [watches.queries]\nkind = \"slow_query\"\ndescription = \"Shop database\"\nsource = \"shop\"\nmin_increase = \"10ms\"\n",
                dir.path().display()
            ),
        );
        let pages = Arc::new(Mutex::new(Vec::new()));
        let (engine, store) = engine(&config, &pages).await;
        for round in 0..5 {
            run_app_query(&mut app, 8, round).await;
            assert_eq!(engine.pass(true).await.unwrap().firing, 0);
        }
        app.execute("DROP INDEX orders_customer_email_idx")
            .await
            .unwrap();
        let mut firing = 0;
        for round in 10..12 {
            run_app_query(&mut app, 8, round).await;
            firing = engine.pass(true).await.unwrap().firing;
            if firing > 0 {
                break;
            }
        }
        assert_eq!(
            firing, 1,
            "the slow query fires within two windows of the drop"
        );

        store.close().await;
        drop(engine);

        let (report, markdown) = investigate(&path, "queries");
        let finding = &report.finding;
        assert_eq!(finding.verdict.label(), "action needed", "{markdown}");
        assert_eq!(
            finding.classification.label(),
            "ops or config",
            "{markdown}"
        );
        assert!(
            finding
                .summary
                .contains("missing index on orders(customer_email)"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "CREATE INDEX CONCURRENTLY orders_customer_email_idx ON orders (customer_email);"
            ),
            "{markdown}"
        );
        // The statement's whole text, its plan (never ANALYZE), the table and its indexes.
        assert!(markdown.contains("customer_email = $1"), "{markdown}");
        assert!(markdown.contains("Seq Scan on orders"), "{markdown}");
        assert!(!markdown.contains("EXPLAIN (ANALYZE"), "{markdown}");
        assert!(markdown.contains("public.orders: "), "{markdown}");
        assert!(
            markdown.contains("orders_pkey"),
            "the indexes that exist: {markdown}"
        );
        assert!(finding.gaps.is_empty(), "{:?}", finding.gaps);
        assert!(finding.confidence.value() >= 0.85, "{markdown}");
        assert_evidence_is_short(&report);

        // The index is back: the next evaluation finds it fast, and the page's alert is no
        // longer the plan's fault.
        app.execute("CREATE INDEX orders_customer_email_idx ON orders (customer_email)")
            .await
            .unwrap();
        let (report, markdown) = investigate(&path, "queries");
        assert!(
            !markdown.contains("CREATE INDEX CONCURRENTLY"),
            "an index that exists is not proposed again: {markdown}"
        );
        assert_ne!(
            report.finding.verdict.label(),
            "action needed",
            "{markdown}"
        );
        store.close().await;
    }
}

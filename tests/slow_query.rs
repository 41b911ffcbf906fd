//! End to end on a real PostgreSQL 15 with pg_stat_statements: an application runs a query
//! on its own writable connection while Sentinel reads the statistics through the guarded,
//! read-only path; dropping the index the query relies on must be noticed and explained.

mod support;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use sentinel::source::sql::caps::ResultCaps;
use sentinel::source::sql::database::{QueryError, SqlSettings, SqlSource};
use sentinel::source::sql::explain::Finding;
use sentinel::source::sql::guard::{GuardPolicy, SqlDialectKind};
use sentinel::source::sql::pg_stat::{self, PG_STAT_STATEMENTS_MISSING};
use sentinel::source::{SourceError, SourceErrorKind};
use sentinel::watch::slow_query::core::{SlowQuery, SlowQueryConfig, SlowQueryState};
use sqlx::{Connection, Executor, PgConnection};
use std::time::Duration;
use support::pg_cluster;

/// The application's query: pg_stat_statements shows it with `$1`, `$2`, `$3`.
const APP_QUERY: &str = "SELECT id, amount FROM orders WHERE customer_email = $1 \
                         AND created_at > $2 ORDER BY created_at DESC LIMIT 20";
const APP_QUERY_MARK: &str = "FROM orders WHERE customer_email = $1";

fn source(url: &str) -> SqlSource {
    SqlSource::new(
        "pg",
        SqlSettings {
            url: url.to_string(),
            statement_timeout: Duration::from_secs(20),
            lock_timeout: Duration::from_secs(2),
            caps: ResultCaps::default(),
            policy: GuardPolicy::new(SqlDialectKind::Postgres),
            allow_privileged_role: false,
        },
    )
}

/// Default thresholds except the absolute floor: a sequential scan of 200k rows takes tens of
/// milliseconds depending on the machine, an index lookup well under one; 10 ms keeps the
/// test independent of the machine's speed while the 3x ratio still has to hold.
fn config() -> SlowQueryConfig {
    SlowQueryConfig {
        min_increase_ms: 10.0,
        ..SlowQueryConfig::default()
    }
}

/// The application's database: 200k orders with an index on `customer_email`. Returns the URL
/// Sentinel reads it with (a read-only role) and the application's own connection.
async fn app_database(name: &str) -> (String, PgConnection) {
    let url = pg_cluster::fresh_database(name, true).await;
    let mut app = PgConnection::connect(&url).await.expect("app connects");
    app.execute(
        "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_email text NOT NULL, \
         amount numeric NOT NULL, created_at timestamptz NOT NULL, note text)",
    )
    .await
    .expect("create table");
    app.execute(
        "INSERT INTO orders (customer_email, amount, created_at, note) \
         SELECT 'customer' || g || '@example.com', g % 100, \
                now() - g * interval '1 minute', repeat('x', 100) \
         FROM generate_series(1, 200000) AS g",
    )
    .await
    .expect("fill table");
    app.execute("CREATE INDEX orders_customer_email_idx ON orders (customer_email)")
        .await
        .expect("create index");
    app.execute("ANALYZE orders").await.expect("analyze");
    (support::reader_url(&url).await, app)
}

/// Runs the application's query `calls` times with varying constants.
async fn run_app_query(app: &mut PgConnection, calls: usize, round: usize) {
    let since: DateTime<Utc> = Utc::now() - ChronoDuration::days(3650);
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
            .expect("application query");
    }
}

/// Takes a snapshot through the read-only path and returns the findings about the
/// application's query.
async fn window(source: &SqlSource, state: &mut SlowQueryState) -> Vec<SlowQuery> {
    let snapshot = pg_stat::read_snapshot(source).await.expect("snapshot");
    assert!(
        snapshot
            .statements
            .iter()
            .any(|stat| stat.query.contains(APP_QUERY_MARK)),
        "the application's query is in pg_stat_statements"
    );
    state
        .observe(&config(), &snapshot)
        .into_iter()
        .filter(|slow| slow.query.contains(APP_QUERY_MARK))
        .collect()
}

/// Learns the baseline: one snapshot to start from, then windows of normal calls.
async fn warm_up(source: &SqlSource, app: &mut PgConnection, state: &mut SlowQueryState) {
    for round in 0..5 {
        run_app_query(app, 8, round).await;
        let found = window(source, state).await;
        assert!(found.is_empty(), "indexed query judged slow: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_index_is_noticed_and_explained() {
    let (url, mut app) = app_database("slowq_index").await;
    let source = source(&url);
    let mut state = SlowQueryState::new();
    warm_up(&source, &mut app, &mut state).await;

    // The indexed query is not something EXPLAIN complains about.
    let snapshot = pg_stat::read_snapshot(&source).await.expect("snapshot");
    let stat = snapshot
        .statements
        .iter()
        .find(|stat| stat.query.contains(APP_QUERY_MARK))
        .expect("query present")
        .clone();
    let before = pg_stat::explain_statement(&source, &stat.query, 10_000)
        .await
        .expect("explain with index");
    assert!(before.findings.is_empty(), "{:?}", before.findings);
    assert!(
        before.plan_text.contains("orders_customer_email_idx"),
        "{}",
        before.plan_text
    );

    app.execute("DROP INDEX orders_customer_email_idx")
        .await
        .expect("drop index");

    let mut slow = None;
    for round in 10..12 {
        run_app_query(&mut app, 8, round).await;
        let found = window(&source, &mut state).await;
        if let Some(first) = found.into_iter().next() {
            slow = Some(first);
            break;
        }
    }
    let slow = slow.expect("the query is judged slow within two windows of the drop");
    assert_eq!(slow.queryid, stat.queryid);
    assert!(slow.calls >= 5);
    assert!(slow.ratio >= 3.0, "{slow:?}");
    assert!(slow.mean_ms - slow.baseline_ms >= 10.0, "{slow:?}");

    // Evidence: the full text by query id, explained without running it.
    let text = pg_stat::query_text(&source, slow.queryid, slow.dbid, slow.userid)
        .await
        .expect("query text")
        .expect("still in pg_stat_statements");
    let evidence = pg_stat::explain_statement(&source, &text, 10_000)
        .await
        .expect("explain without index");
    assert!(
        !evidence
            .explain_sql
            .to_ascii_uppercase()
            .contains("ANALYZE"),
        "{}",
        evidence.explain_sql
    );
    // The timestamp parameter needed a timestamp literal instead of '2'.
    assert!(
        evidence.explain_sql.contains("'2000-01-01'"),
        "{}",
        evidence.explain_sql
    );
    assert_eq!(evidence.table_rows.get("orders"), Some(&200_000));
    let messages: Vec<String> = evidence.findings.iter().map(Finding::to_string).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("missing index on orders(customer_email)")),
        "findings: {messages:?}\nplan:\n{}",
        evidence.plan_text
    );
    assert!(
        evidence.plan_text.contains("Seq Scan on orders"),
        "{}",
        evidence.plan_text
    );

    // It stays slow: the slow windows did not become the new normal.
    run_app_query(&mut app, 8, 20).await;
    let found = window(&source, &mut state).await;
    assert_eq!(found.len(), 1, "still slow");
    assert_eq!(found[0].since, slow.since);
    assert!((found[0].baseline_ms - slow.baseline_ms).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stats_reset_does_not_alarm() {
    let (url, mut app) = app_database("slowq_reset").await;
    let source = source(&url);
    let mut state = SlowQueryState::new();
    warm_up(&source, &mut app, &mut state).await;

    // Reset every statement of this database (the whole-cluster reset would disturb the
    // other tests running at the same time).
    app.execute(
        "SELECT pg_stat_statements_reset(0, \
         (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
    )
    .await
    .expect("reset");
    for round in 30..33 {
        run_app_query(&mut app, 8, round).await;
        let found = window(&source, &mut state).await;
        assert!(found.is_empty(), "alarm after a reset: {found:?}");
    }
    // The baseline survived the reset: a real slowdown right after is still caught.
    app.execute("DROP INDEX orders_customer_email_idx")
        .await
        .expect("drop index");
    run_app_query(&mut app, 8, 40).await;
    assert_eq!(window(&source, &mut state).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_query_with_few_calls_does_not_alarm() {
    let (url, mut app) = app_database("slowq_few").await;
    let source = source(&url);
    let mut state = SlowQueryState::new();
    warm_up(&source, &mut app, &mut state).await;
    app.execute("DROP INDEX orders_customer_email_idx")
        .await
        .expect("drop index");
    for round in 50..53 {
        run_app_query(&mut app, 3, round).await;
        let found = window(&source, &mut state).await;
        assert!(found.is_empty(), "3 calls a window alarmed: {found:?}");
    }
    // The same slowness with enough calls is reported: the call count was the reason.
    run_app_query(&mut app, 6, 60).await;
    assert_eq!(window(&source, &mut state).await.len(), 1);
}

fn assert_missing_extension(result: Result<impl std::fmt::Debug, QueryError>) {
    match result {
        Err(QueryError::Source(SourceError { kind, detail, .. })) => {
            assert_eq!(kind, SourceErrorKind::QueryRejected);
            assert_eq!(detail, PG_STAT_STATEMENTS_MISSING);
        }
        other => panic!("expected the missing-extension error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_extension_is_a_clear_error() {
    // A database of the throwaway cluster without CREATE EXTENSION.
    let url = support::reader_url(&pg_cluster::fresh_database("slowq_noext", false).await).await;
    assert_missing_extension(pg_stat::read_snapshot(&source(&url)).await);
    assert_missing_extension(pg_stat::query_text(&source(&url), 1, None, None).await);

    // The machine's own PostgreSQL, where pg_stat_statements is not set up.
    let local = source(&support::postgres_reader().await);
    assert_missing_extension(pg_stat::read_snapshot(&local).await);
}

/// The watch as the daemon runs it: the engine, the tracker and a page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slow_query_watch_pages_naming_the_table_and_column() {
    use sentinel::clock::SystemClock;
    use sentinel::notify::Channel;
    use sentinel::notify::dispatch::Channels;
    use std::sync::{Arc, Mutex};

    let (url, mut app) = app_database("slowq_watch").await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[store]
path = "{}/s.db"

[sources.shop]
kind = "postgres"
url = "{url}"

[watches.queries]
kind = "slow_query"
description = "Shop database"
source = "shop"
min_increase = "10ms"
"#,
        dir.path().display()
    );
    let config =
        sentinel::config::Config::parse(&dir.path().join("sentinel.toml"), &text, &|_| None)
            .unwrap();
    let store = sentinel::store::Store::open(&config.store.path)
        .await
        .unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let channels = Channels {
        list: vec![("memory".into(), Channel::Memory(pages.clone()))],
    };
    let engine =
        sentinel::engine::build::engine(config, store, Arc::new(SystemClock), channels).unwrap();
    for round in 0..5 {
        run_app_query(&mut app, 8, round).await;
        let report = engine.pass(true).await.unwrap();
        assert_eq!((report.firing, report.blind), (0, 0), "{report:?}");
    }
    app.execute("DROP INDEX orders_customer_email_idx")
        .await
        .expect("drop index");
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
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 1, "{pages:?}");
        assert!(
            pages[0]
                .title
                .contains("likely missing index on orders(customer_email)"),
            "{}",
            pages[0].title
        );
        let facts = pages[0].facts.join("\n");
        assert!(facts.contains("customer_email = $1"), "{facts}");
        assert!(facts.contains("Seq Scan on orders"), "{facts}");
    }
    // Still slow: no second page.
    run_app_query(&mut app, 8, 20).await;
    assert_eq!(engine.pass(true).await.unwrap().firing, 1);
    assert_eq!(pages.lock().unwrap().len(), 1);
}

//! SQL sources against the real servers of this machine (PostgreSQL and MariaDB on loopback)
//! and a SQLite file: results through the one guarded path, caps, timeouts, the READ ONLY
//! transaction, and refusals that never reach the database.

mod support;

use sentinel::source::SourceErrorKind;
use sentinel::source::sql::caps::{CapHit, ResultCaps};
use sentinel::source::sql::database::{QueryError, SqlSettings, SqlSource};
use sentinel::source::sql::guard::{GuardPolicy, SqlDialectKind};
use sqlx::Connection;
use std::time::Duration;

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

fn source(dialect: SqlDialectKind, url: &str, max_rows: usize) -> SqlSource {
    SqlSource::new(
        "app",
        SqlSettings {
            url: url.to_string(),
            statement_timeout: Duration::from_millis(300),
            lock_timeout: Duration::from_millis(300),
            caps: ResultCaps {
                max_rows,
                ..ResultCaps::default()
            },
            policy: GuardPolicy::new(dialect),
            allow_privileged_role: false,
        },
    )
}

/// A table of jobs owned by the test named `test`, in its own schema (tests run at once).
async fn postgres_jobs(test: &str) -> String {
    let schema = format!("sentinel_test_{test}_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(POSTGRES)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (scripts/test.sh starts it)");
    for statement in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
        format!(
            "CREATE TABLE {schema}.jobs (id int, kind text, state text, started_at timestamptz)"
        ),
        format!(
            "INSERT INTO {schema}.jobs SELECT g, 'mail', CASE WHEN g % 2 = 0 THEN 'running' ELSE 'done' END, now() - g * interval '1 minute' FROM generate_series(1, 50) g"
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    schema
}

#[tokio::test]
async fn postgres_reads_through_the_guard_with_caps_in_a_read_only_transaction() {
    let schema = postgres_jobs("reads").await;
    let pg = source(
        SqlDialectKind::Postgres,
        &support::postgres_reader().await,
        10,
    );
    let result = pg
        .query(&format!("SELECT kind, count(*) AS n, min(started_at) IS NOT NULL AS has_oldest FROM {schema}.jobs WHERE state = 'running' GROUP BY kind"))
        .await
        .unwrap();
    assert_eq!(result.columns, vec!["kind", "n", "has_oldest"]);
    assert_eq!(
        result.rows,
        vec![vec![
            Some("mail".to_string()),
            Some("25".to_string()),
            Some("t".to_string())
        ]]
    );
    assert_eq!(result.truncated, None);

    let capped = pg
        .query(&format!("SELECT id FROM {schema}.jobs ORDER BY id"))
        .await
        .unwrap();
    assert_eq!(capped.rows.len(), 10);
    assert_eq!(capped.truncated, Some(CapHit::Rows(10)));

    let mode = pg.query("SHOW transaction_read_only").await.unwrap();
    assert_eq!(
        mode.rows,
        vec![vec![Some("on".to_string())]],
        "the statement must run in a READ ONLY transaction"
    );

    let slow = pg
        .query("SELECT count(*) FROM generate_series(1, 200000000)")
        .await
        .unwrap_err();
    match slow {
        QueryError::Source(error) => assert_eq!(error.kind, SourceErrorKind::Timeout, "{error}"),
        other => panic!("expected the statement timeout, got {other}"),
    }

    for write in [
        format!("DELETE FROM {schema}.jobs"),
        format!("WITH gone AS (DELETE FROM {schema}.jobs RETURNING *) SELECT count(*) FROM gone"),
        format!("SELECT * FROM {schema}.jobs FOR UPDATE"),
        "SELECT set_config('default_transaction_read_only', 'off', false)".to_string(),
        format!("select 1; DROP TABLE {schema}.jobs"),
    ] {
        assert!(
            matches!(pg.query(&write).await, Err(QueryError::Refused(_))),
            "{write}"
        );
    }
    let mut conn = sqlx::PgConnection::connect(POSTGRES).await.unwrap();
    let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}.jobs"
    )))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(left, 50, "nothing was written");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_statement_never_reaches_the_database() {
    // Nothing listens here: an allowed statement fails to connect, a refused one is refused
    // before any connection is tried.
    let closed = format!(
        "postgres://postgres@127.0.0.1:{}/test",
        support::free_port()
    );
    let pg = source(SqlDialectKind::Postgres, &closed, 10);
    assert!(matches!(
        pg.query("DROP TABLE jobs").await,
        Err(QueryError::Refused(_))
    ));
    assert!(matches!(
        pg.query("SELECT pg_terminate_backend(42)").await,
        Err(QueryError::Refused(_))
    ));
    match pg.query("SELECT 1").await {
        Err(QueryError::Source(error)) => {
            assert_eq!(error.kind, SourceErrorKind::Unreachable, "{error}")
        }
        other => panic!("expected unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn mariadb_reads_and_refuses_writes() {
    let maria = source(SqlDialectKind::MySql, &support::mariadb_reader().await, 100);
    let result = maria
        .query("SELECT 1 AS one, 2.5 AS x, NULL AS nothing")
        .await
        .unwrap();
    assert_eq!(result.columns, vec!["one", "x", "nothing"]);
    assert_eq!(
        result.rows,
        vec![vec![Some("1".to_string()), Some("2.5".to_string()), None]]
    );
    for write in [
        "CREATE TABLE sentinel_never (id int)",
        "SELECT * FROM mysql.user FOR UPDATE",
        "SELECT sleep(5)",
        "SELECT get_lock('x', 1)",
    ] {
        assert!(
            matches!(maria.query(write).await, Err(QueryError::Refused(_))),
            "{write}"
        );
    }
}

#[tokio::test]
async fn sqlite_is_opened_read_only_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE orders (id INTEGER, email TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO orders VALUES (1, 'a@example.com'), (2, NULL)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let lite = source(
        SqlDialectKind::Sqlite,
        &format!("sqlite://{}", path.display()),
        100,
    );
    let result = lite
        .query("SELECT id, email FROM orders ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        result.rows,
        vec![
            vec![Some("1".into()), Some("a@example.com".into())],
            vec![Some("2".into()), None]
        ]
    );
    assert!(matches!(
        lite.query("PRAGMA journal_mode = WAL").await,
        Err(QueryError::Refused(_))
    ));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the database file must be byte-for-byte unchanged"
    );
}

#[tokio::test]
async fn sentinel_query_prints_a_table_and_refuses_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let reader = support::postgres_reader().await;
    let config = support::write_config(
        dir.path(),
        &format!(
            "[store]\npath = \"{}/s.db\"\n[sources.app]\nkind = \"postgres\"\nurl = \"{reader}\"\n",
            dir.path().display()
        ),
    );
    let ok = std::process::Command::new(support::sentinel_bin())
        .args(["query", "-c"])
        .arg(&config)
        .args(["app", "SELECT 41 + 1 AS answer"])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let table = String::from_utf8_lossy(&ok.stdout);
    assert!(table.starts_with("answer\n------\n42\n(1 row)"), "{table}");

    let refused = std::process::Command::new(support::sentinel_bin())
        .args(["query", "-c"])
        .arg(&config)
        .args(["app", "UPDATE accounts SET balance = 0"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("nothing was sent to app"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// The customer an evidence section is about travels as a bound value on every database: a
/// value that would be SQL if pasted only ever matches itself, and numbers read back as text.
#[tokio::test]
async fn a_bound_value_is_data_on_every_database_never_statement_text() {
    let schema = postgres_jobs("bound").await;
    let pg = source(
        SqlDialectKind::Postgres,
        &support::postgres_reader().await,
        100,
    );
    let by_id = format!(
        "SELECT id, kind, started_at IS NOT NULL AS started FROM {schema}.jobs WHERE id = $1::int OR kind = $1 ORDER BY id"
    );
    let result = pg.query_bound(&by_id, "7").await.unwrap();
    assert_eq!(
        result.rows,
        vec![vec![
            Some("7".to_string()),
            Some("mail".to_string()),
            Some("t".to_string())
        ]]
    );
    let injected = format!("SELECT id FROM {schema}.jobs WHERE kind = $1");
    let result = pg.query_bound(&injected, "x' OR '1'='1").await.unwrap();
    assert!(result.rows.is_empty(), "{:?}", result.rows);
    let everyone = format!("SELECT id FROM {schema}.jobs");
    let refused = pg.query_bound(&everyone, "7").await.unwrap_err();
    assert!(
        matches!(&refused, QueryError::Refused(_)) && refused.to_string().contains("$1"),
        "{refused}"
    );
    assert!(matches!(
        pg.query_bound(
            &format!("DELETE FROM {schema}.jobs WHERE id = $1::int"),
            "7"
        )
        .await,
        Err(QueryError::Refused(_))
    ));

    support::mariadb_setup(&[
        "CREATE TABLE IF NOT EXISTS bound_customers (id INT PRIMARY KEY, email VARCHAR(100), joined DATETIME)".to_string(),
        "INSERT IGNORE INTO bound_customers VALUES (1, 'a@example.com', '2026-01-02 03:04:05'), (2, 'b@example.com', NULL)".to_string(),
    ])
    .await;
    let maria = source(SqlDialectKind::MySql, &support::mariadb_reader().await, 100);
    let result = maria
        .query_bound(
            "SELECT id, email, joined FROM bound_customers WHERE id = ? OR email = ? ORDER BY id",
            "a@example.com",
        )
        .await
        .unwrap();
    assert_eq!(
        result.rows,
        vec![vec![
            Some("1".to_string()),
            Some("a@example.com".to_string()),
            Some("2026-01-02 03:04:05".to_string())
        ]]
    );
    let result = maria
        .query_bound(
            "SELECT id FROM bound_customers WHERE email = ?",
            "x' OR '1'='1",
        )
        .await
        .unwrap();
    assert!(result.rows.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let url = support::sqlite_file_with(
        &dir.path().join("app.db"),
        "CREATE TABLE users (id INTEGER, email TEXT); INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com');",
    )
    .await;
    let lite = source(SqlDialectKind::Sqlite, &url, 100);
    let result = lite
        .query_bound(
            "SELECT id, email FROM users WHERE id = ?1 OR email = ?1",
            "2",
        )
        .await
        .unwrap();
    assert_eq!(
        result.rows,
        vec![vec![
            Some("2".to_string()),
            Some("b@example.com".to_string())
        ]]
    );
}

//! Every SQL statement bounded in time and memory, on the real engines of this machine
//! (PostgreSQL and MariaDB on loopback, a SQLite file; the runaway SQLite statement has a test
//! binary of its own, `tests/sqlite_runaway.rs`): a huge cell or blob is refused with the byte cap
//! reported, millions of rows stop at the row cap, errors say what the operator can act on and
//! are told apart (timeout, cancel, rejection), and `sentinel query` exits as documented,
//! without colour codes on a stderr that is not a terminal.

mod support;

use sentinel::source::SourceErrorKind;
use sentinel::source::sql::caps::{CapHit, ResultCaps};
use sentinel::source::sql::database::{QueryError, QueryResult, SqlSettings, SqlSource};
use sentinel::source::sql::guard::{GuardPolicy, SqlDialectKind};
use sqlx::Connection;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{MARIADB, POSTGRES};

/// A source on `url`; the machine's PostgreSQL and MariaDB are reached as the read-only
/// [`support::READER`], as an operator's source would be.
async fn source(
    dialect: SqlDialectKind,
    url: &str,
    statement_timeout: Duration,
    caps: ResultCaps,
) -> SqlSource {
    source_allowing(dialect, url, statement_timeout, caps, &[]).await
}

/// [`source`] that also allows the operator's own `functions`.
async fn source_allowing(
    dialect: SqlDialectKind,
    url: &str,
    statement_timeout: Duration,
    caps: ResultCaps,
    functions: &[String],
) -> SqlSource {
    let url = if url == POSTGRES || url == MARIADB {
        support::reader_url(url).await
    } else {
        url.to_string()
    };
    let mut policy = GuardPolicy::new(dialect);
    policy.allowed_functions = functions.to_vec();
    SqlSource::new(
        "app",
        SqlSettings {
            url,
            statement_timeout,
            lock_timeout: Duration::from_millis(300),
            caps,
            policy,
            allow_privileged_role: false,
        },
    )
}

fn caps(max_rows: usize, max_bytes: usize) -> ResultCaps {
    ResultCaps {
        max_rows,
        max_bytes,
    }
}

fn source_error(result: Result<QueryResult, QueryError>) -> sentinel::source::SourceError {
    match result {
        Err(QueryError::Source(error)) => error,
        other => panic!("expected an error from the database, got {other:?}"),
    }
}

fn cells(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

/// A SQLite file with one small table, and its URL.
async fn sqlite_file(dir: &Path) -> String {
    let path = dir.join("app.db");
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
    sqlx::query("CREATE TABLE t (id INTEGER, body TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    format!("sqlite://{}", path.display())
}

#[tokio::test]
async fn sqlite_refuses_a_value_over_the_byte_cap_before_holding_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file(dir.path()).await;
    let lite = source(
        SqlDialectKind::Sqlite,
        &url,
        Duration::from_secs(5),
        ResultCaps::default(),
    )
    .await;
    let error = source_error(lite.query("SELECT randomblob(400000000)").await);
    assert_eq!(error.kind, SourceErrorKind::QueryRejected, "{error}");
    assert!(
        error
            .detail
            .contains("a value is larger than the byte cap (max_bytes = 1048576)"),
        "{error}"
    );
    // A value at the cap is read whole; stored rows are read as before.
    let small = source(
        SqlDialectKind::Sqlite,
        &url,
        Duration::from_secs(5),
        caps(10, 103),
    )
    .await;
    let at_cap = small
        .query("SELECT length(hex(randomblob(50))) AS n, hex(randomblob(50)) AS h")
        .await
        .unwrap();
    assert_eq!(at_cap.truncated, None, "{at_cap:?}");
    assert_eq!(at_cap.rows[0][0].as_deref(), Some("100"));
    assert_eq!(at_cap.rows[0][1].as_ref().map(String::len), Some(100));
    let rows = small
        .query("SELECT id, body FROM t ORDER BY id DESC")
        .await
        .unwrap();
    assert_eq!(
        rows.rows,
        vec![
            cells(&[Some("3"), Some("c")]),
            cells(&[Some("2"), Some("b")]),
            cells(&[Some("1"), Some("a")])
        ]
    );
}

#[tokio::test]
async fn sqlite_millions_of_rows_stop_at_the_row_cap() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file(dir.path()).await;
    let lite = source(
        SqlDialectKind::Sqlite,
        &url,
        Duration::from_secs(3),
        caps(10, 1024 * 1024),
    )
    .await;
    let result = lite
        .query("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 20000000) SELECT n FROM r")
        .await
        .unwrap();
    assert_eq!(result.rows.len(), 10);
    assert_eq!(result.rows[9], cells(&[Some("10")]));
    assert_eq!(result.truncated, Some(CapHit::Rows(10)));
}

#[tokio::test]
async fn postgres_cuts_a_huge_cell_on_the_server_and_reports_the_byte_cap() {
    let pg = source(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_secs(20),
        ResultCaps::default(),
    )
    .await;
    let result = pg
        .query("SELECT g AS id, CASE WHEN g = 3 THEN repeat('x', 300000000) ELSE 'small' END AS body FROM generate_series(1, 5) AS g ORDER BY g")
        .await
        .unwrap();
    assert_eq!(result.columns, vec!["id", "body"]);
    assert_eq!(
        result.rows,
        vec![
            cells(&[Some("1"), Some("small")]),
            cells(&[Some("2"), Some("small")])
        ],
        "the rows before the huge cell, in order"
    );
    assert_eq!(result.truncated, Some(CapHit::Bytes(1024 * 1024)));

    // At the cap a cell is whole; one character more and it is not kept at all.
    let tiny = source(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_secs(5),
        caps(10, 10),
    )
    .await;
    let at_cap = tiny.query("SELECT repeat('é', 5) AS e").await.unwrap();
    assert_eq!(at_cap.rows, vec![cells(&[Some("ééééé")])]);
    assert_eq!(at_cap.truncated, None);
    let over = tiny.query("SELECT repeat('x', 11) AS e").await.unwrap();
    assert!(over.rows.is_empty());
    assert_eq!(over.truncated, Some(CapHit::Bytes(10)));
}

#[tokio::test]
async fn postgres_values_columns_and_order_are_as_the_server_prints_them() {
    let pg = source(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_secs(5),
        ResultCaps::default(),
    )
    .await;
    let result = pg
        .query("SELECT 1 AS a, 2 AS a, true AS yes, NULL::text AS nothing, '' AS empty, ROW(NULL, NULL) AS r, '1.2.3.4'::inet AS ip, 1.5::float8 AS f, ARRAY[1, 2] AS arr")
        .await
        .unwrap();
    assert_eq!(
        result.columns,
        vec!["a", "a", "yes", "nothing", "empty", "r", "ip", "f", "arr"]
    );
    assert_eq!(
        result.rows,
        vec![cells(&[
            Some("1"),
            Some("2"),
            Some("t"),
            None,
            Some(""),
            Some("(,)"),
            Some("1.2.3.4"),
            Some("1.5"),
            Some("{1,2}")
        ])]
    );
    let none = pg.query("SELECT 1 AS x WHERE false").await.unwrap();
    assert_eq!(
        none.columns,
        vec!["x"],
        "columns are named even without rows"
    );
    let values = pg
        .query("VALUES (3, 'c'), (1, 'a'), (2, 'b') ORDER BY 1 DESC")
        .await
        .unwrap();
    let firsts: Vec<_> = values.rows.iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(firsts, vec!["3", "2", "1"]);
    let plan = pg.query("EXPLAIN SELECT 1").await.unwrap();
    assert_eq!(plan.columns, vec!["QUERY PLAN"]);
    let shown = pg.query("SHOW transaction_read_only").await.unwrap();
    assert_eq!(shown.rows, vec![cells(&[Some("on")])]);
}

#[tokio::test]
async fn postgres_twenty_million_rows_stop_at_the_row_cap_within_the_timeout() {
    // Draining 20 M rows to reach ROLLBACK takes far longer than the 3 s budget.
    let pg = source(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_secs(3),
        caps(10, 1024 * 1024),
    )
    .await;
    let result = pg
        .query("SELECT generate_series(1, 20000000) AS g, repeat('y', 20) AS pad")
        .await
        .unwrap();
    assert_eq!(result.rows.len(), 10);
    assert_eq!(result.truncated, Some(CapHit::Rows(10)));
    let bytes = source(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_secs(3),
        caps(1_000_000, 1000),
    )
    .await;
    let result = bytes
        .query("SELECT repeat('y', 100) AS pad, generate_series(1, 20000000) AS g")
        .await
        .unwrap();
    // 100 + 1 digit bytes a row: nine rows fit in 1000 bytes.
    assert_eq!(result.rows.len(), 9);
    assert_eq!(result.truncated, Some(CapHit::Bytes(1000)));
}

#[tokio::test]
async fn postgres_errors_say_what_to_fix_without_server_source_lines() {
    let schema = format!("sentinel_res_{}", std::process::id());
    support::postgres_setup(&[
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
        format!("CREATE TABLE {schema}.hits (n int)"),
        format!(
            "CREATE FUNCTION {schema}.bump() RETURNS int LANGUAGE sql AS $$ INSERT INTO {schema}.hits VALUES (1) RETURNING n $$"
        ),
    ])
    .await;
    // The function is the operator's own, allowed by name: the READ ONLY transaction is what
    // stops the write it hides.
    let pg = source_allowing(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_secs(5),
        ResultCaps::default(),
        &[format!("{schema}.bump")],
    )
    .await;
    let write = source_error(pg.query(&format!("SELECT {schema}.bump()")).await);
    assert_eq!(write.kind, SourceErrorKind::QueryRejected, "{write}");
    assert!(
        write
            .detail
            .contains("cannot execute INSERT in a read-only transaction"),
        "{write}"
    );
    assert!(!write.detail.contains(" at line "), "{write}");

    let missing = source_error(pg.query("SELECT nope FROM pg_class").await);
    assert_eq!(missing.kind, SourceErrorKind::QueryRejected, "{missing}");
    assert!(
        missing.detail.starts_with("column \"nope\" does not exist"),
        "{missing}"
    );
    assert!(
        missing
            .detail
            .contains("at character 8 of the statement: \"SELECT nope FROM pg_class\""),
        "{missing}"
    );
    assert!(!missing.detail.contains(" at line "), "{missing}");

    // A runtime error inside the bounding wrapper still points into the statement.
    let runtime = source_error(pg.query("SELECT 1 / 0 AS x").await);
    assert!(runtime.detail.starts_with("division by zero"), "{runtime}");
    assert!(!runtime.detail.contains("CASE WHEN"), "{runtime}");
    support::postgres_setup(&[format!("DROP SCHEMA {schema} CASCADE")]).await;
}

#[tokio::test]
async fn postgres_timeout_and_cancel_are_told_apart() {
    let quick = source(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_millis(300),
        ResultCaps::default(),
    )
    .await;
    let timeout = source_error(
        quick
            .query("SELECT count(*) FROM generate_series(1, 300000000)")
            .await,
    );
    assert_eq!(timeout.kind, SourceErrorKind::Timeout, "{timeout}");
    assert!(
        timeout.detail.contains("statement_timeout (300ms)"),
        "{timeout}"
    );

    let patient = source(
        SqlDialectKind::Postgres,
        POSTGRES,
        Duration::from_secs(20),
        ResultCaps::default(),
    )
    .await;
    let marker = 300_000_000 + std::process::id();
    let statement = format!("SELECT count(*) FROM generate_series(1, {marker})");
    let running = tokio::spawn(async move { patient.query(&statement).await });
    let mut admin = sqlx::PgConnection::connect(POSTGRES).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cancelled: Vec<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'sentinel' AND state = 'active' AND query LIKE '%generate_series(1, {marker})%'"
        )))
        .fetch_all(&mut admin)
        .await
        .unwrap();
        if cancelled.contains(&true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the statement never showed up as active"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancel = source_error(running.await.unwrap());
    assert_eq!(cancel.kind, SourceErrorKind::BadResponse, "{cancel}");
    assert!(
        cancel
            .detail
            .contains("cancelled on the server by someone else"),
        "{cancel}"
    );
    assert!(!cancel.to_string().contains("timed out"), "{cancel}");
}

#[tokio::test]
async fn mariadb_statement_time_is_a_timeout() {
    let maria = source(
        SqlDialectKind::MySql,
        MARIADB,
        Duration::from_millis(300),
        ResultCaps::default(),
    )
    .await;
    let error = source_error(
        maria
            .query("SELECT sum(a.seq * b.seq) FROM seq_1_to_100000 AS a, seq_1_to_100000 AS b")
            .await,
    );
    assert_eq!(error.kind, SourceErrorKind::Timeout, "{error}");
    assert!(
        error.detail.contains("statement_timeout (300ms)"),
        "{error}"
    );
    let missing = source_error(maria.query("SELECT * FROM sentinel_no_such_table").await);
    assert_eq!(missing.kind, SourceErrorKind::QueryRejected, "{missing}");
    assert!(
        missing.detail.contains("doesn't exist (error 1146)"),
        "{missing}"
    );
}

#[tokio::test]
async fn mariadb_cuts_big_cells_keeps_names_order_and_stops_at_the_row_cap() {
    let table = format!("sentinel_res_{}", std::process::id());
    support::mariadb_setup(&[
        format!("DROP TABLE IF EXISTS {table}"),
        format!("CREATE TABLE {table} (id int primary key, v int, body longtext)"),
        format!("INSERT INTO {table} VALUES (1, 5, 'e'), (2, 3, 'c'), (3, 9, repeat('x', 10000000)), (4, 1, NULL)"),
    ])
    .await;
    let maria = source(
        SqlDialectKind::MySql,
        MARIADB,
        Duration::from_secs(10),
        ResultCaps::default(),
    )
    .await;
    let ordered = maria
        .query(&format!("SELECT v, body FROM {table} ORDER BY v"))
        .await
        .unwrap();
    assert_eq!(ordered.columns, vec!["v", "body"]);
    assert_eq!(
        ordered.rows,
        vec![
            cells(&[Some("1"), None]),
            cells(&[Some("3"), Some("c")]),
            cells(&[Some("5"), Some("e")])
        ],
        "in the statement's order, up to the 10 MB cell"
    );
    assert_eq!(ordered.truncated, Some(CapHit::Bytes(1024 * 1024)));

    let same_names = maria
        .query("SELECT 1 AS a, 2 AS a, '' AS empty, NULL AS nothing, 2.5 AS x")
        .await
        .unwrap();
    assert_eq!(same_names.columns, vec!["a", "a", "empty", "nothing", "x"]);
    assert_eq!(
        same_names.rows,
        vec![cells(&[Some("1"), Some("2"), Some(""), None, Some("2.5")])]
    );

    let many = source(
        SqlDialectKind::MySql,
        MARIADB,
        Duration::from_secs(3),
        caps(10, 1024 * 1024),
    )
    .await;
    let rows = many
        .query("SELECT seq FROM seq_1_to_20000000 ORDER BY seq DESC")
        .await
        .unwrap();
    assert_eq!(rows.rows.len(), 10);
    assert_eq!(rows.rows[0], cells(&[Some("20000000")]));
    assert_eq!(rows.truncated, Some(CapHit::Rows(10)));
    support::mariadb_setup(&[format!("DROP TABLE {table}")]).await;
}

/// `sentinel query` on `source` of `config`, with `SENTINEL_LOG=debug` so that every log line
/// there is shows up on stderr.
fn sentinel_query(config: &Path, source: &str, query: &str) -> std::process::Output {
    std::process::Command::new(support::sentinel_bin())
        .args(["query", "-c"])
        .arg(config)
        .args([source, query])
        .env("SENTINEL_LOG", "debug")
        .output()
        .unwrap()
}

#[tokio::test]
async fn sentinel_query_exit_codes_are_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_file(dir.path()).await;
    let reader = support::postgres_reader().await;
    let closed = format!(
        "postgres://postgres@127.0.0.1:{}/test",
        support::free_port()
    );
    let config = support::write_config(
        dir.path(),
        &format!(
            "[store]\npath = \"{store}/s.db\"\n\
             [sources.pg]\nkind = \"postgres\"\nurl = \"{reader}\"\nstatement_timeout = \"300ms\"\n\
             [sources.lite]\nkind = \"sqlite\"\nurl = \"{sqlite}\"\n\
             [sources.gone]\nkind = \"postgres\"\nurl = \"{closed}\"\n",
            store = dir.path().display()
        ),
    );
    let long_alias = "a".repeat(70_000);
    let cases: Vec<(&str, String, i32)> = vec![
        ("pg", "SELECT 41 + 1 AS answer".to_string(), 0),
        (
            "lite",
            format!("SELECT 1 AS \"{long_alias}\", 'two\nlines' AS b"),
            0,
        ),
        ("pg", "UPDATE accounts SET balance = 0".to_string(), 1),
        ("pg", "SELECT * FROM sentinel_no_such_table".to_string(), 1),
        (
            "pg",
            "SELECT count(*) FROM generate_series(1, 300000000)".to_string(),
            1,
        ),
        ("lite", "SELECT randomblob(400000000)".to_string(), 1),
        ("gone", "SELECT 1".to_string(), 2),
        ("nosuch", "SELECT 1".to_string(), 2),
    ];
    for (source, query, code) in cases {
        let out = sentinel_query(&config, source, &query);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown: String = query.chars().take(60).collect();
        assert_eq!(out.status.code(), Some(code), "{source}: {shown}: {stderr}");
        assert!(
            !stderr.contains("\x1b["),
            "colour codes on a pipe: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        if code == 0 {
            let table = String::from_utf8_lossy(&out.stdout);
            assert!(table.contains("(1 row)"), "{table}");
        }
    }
}

#[test]
fn sentinel_run_writes_plain_log_lines_to_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let config = support::write_config(
        dir.path(),
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{store}/s.db\"\n\
             [channels.console]\nkind = \"console\"\n\
             [watches.nightly]\nkind = \"heartbeat\"\ntoken = \"plain-log-lines-token\"\nperiod = \"1h\"\n",
            store = dir.path().display()
        ),
    );
    let log = dir.path().join("stderr.log");
    let mut child = std::process::Command::new(support::sentinel_bin())
        .args(["run", "--config"])
        .arg(&config)
        .env("SENTINEL_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while support::http_status(&format!("http://127.0.0.1:{port}/healthz")) != Ok(200) {
        assert!(Instant::now() < deadline, "sentinel run did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.trim().is_empty(), "sentinel run logged nothing");
    assert!(
        !text.contains("\x1b["),
        "colour codes in a log file: {text}"
    );
}

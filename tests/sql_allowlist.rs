//! The allowlist does not get in the way of real work: the reads that watches and
//! investigations write (dates, aggregates, JSON, text search, regular expressions, sizes,
//! casts) run on real PostgreSQL, MariaDB and SQLite, and an operator's own pure function
//! runs once the source allows it by name.

mod support;

use sentinel::source::sql::caps::ResultCaps;
use sentinel::source::sql::database::{QueryError, SqlSettings, SqlSource};
use sentinel::source::sql::guard::{GuardPolicy, Refusal, SqlDialectKind};
use std::time::Duration;

fn source(url: &str, policy: GuardPolicy) -> SqlSource {
    SqlSource::new(
        "app",
        SqlSettings {
            url: url.to_string(),
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(1),
            caps: ResultCaps::default(),
            policy,
            allow_privileged_role: false,
        },
    )
}

async fn all_run(source: &SqlSource, reads: &[&str]) {
    let mut failed = Vec::new();
    for sql in reads {
        if let Err(error) = source.query(sql).await {
            failed.push(format!("{sql}\n    -> {error}"));
        }
    }
    assert!(
        failed.is_empty(),
        "refused or failed:\n{}",
        failed.join("\n")
    );
}

const POSTGRES_READS: &[&str] = &[
    "SELECT date_trunc('hour', created_at) AS hour, count(*) FROM allow_orders GROUP BY 1 ORDER BY 1",
    "SELECT extract(epoch FROM now() - max(created_at)) FROM allow_orders",
    "SELECT coalesce(sum(total), 0), avg(total)::numeric(10, 2), max(total) FROM allow_orders WHERE created_at > now() - interval '1 day'",
    "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY total) FROM allow_orders",
    "SELECT state, count(*) FILTER (WHERE total > 10) FROM allow_orders GROUP BY state HAVING count(*) > 0",
    "SELECT meta->>'plan', meta @> '{\"vip\": true}', jsonb_array_length(coalesce(meta->'tags', '[]')) FROM allow_orders",
    "SELECT * FROM allow_orders WHERE email ILIKE '%@example.com' OR email ~ '^a' OR email LIKE 'b%'",
    "SELECT to_tsvector('english', email) @@ plainto_tsquery('english', 'example') FROM allow_orders",
    "SELECT lower(email), upper(state), length(email), substring(email FROM 1 FOR 3), trim(state), position('@' IN email) FROM allow_orders",
    "SELECT id::text, created_at::date, '2026-01-01'::timestamptz, total::int, CAST(id AS bigint) FROM allow_orders",
    "SELECT row_number() OVER (PARTITION BY state ORDER BY created_at DESC), lag(total) OVER w FROM allow_orders WINDOW w AS (ORDER BY id)",
    "SELECT g, g * 2 FROM generate_series(1, 5) AS g",
    "SELECT pg_size_pretty(pg_relation_size('allow_orders')), pg_total_relation_size('allow_orders') > 0",
    "SELECT current_setting('server_version'), version() IS NOT NULL, current_database(), current_user",
    "SELECT pid, state, now() - query_start FROM pg_stat_activity WHERE datname = current_database()",
    "SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY relname",
    "SELECT array_agg(id ORDER BY id), string_agg(state, ',') FROM allow_orders",
    "SELECT greatest(1, 2), least(1, 2), nullif(1, 1), CASE WHEN random() < 2 THEN 'y' END, clock_timestamp() IS NOT NULL",
    "SELECT id FROM allow_orders WHERE id = ANY (ARRAY[1, 2]) AND id <> ALL (ARRAY[0]) AND EXISTS (SELECT 1)",
    "SELECT to_char(created_at, 'YYYY-MM-DD'), age(created_at) > interval '0' FROM allow_orders",
    "SELECT pg_catalog.lower('A')",
    "SELECT 'allow_orders'::regclass IS NOT NULL, 'allow_orders'::regclass::oid > 0",
    "WITH recent AS (SELECT * FROM allow_orders WHERE created_at > now() - interval '7 days') SELECT count(*) FROM recent",
    "EXPLAIN SELECT * FROM allow_orders WHERE email = 'a@example.com'",
    "SHOW server_version",
];

#[tokio::test]
async fn postgres_everyday_reads_run_and_own_functions_run_once_allowed() {
    support::postgres_setup(&[
        "DROP TABLE IF EXISTS allow_orders".to_string(),
        "CREATE TABLE allow_orders (id int PRIMARY KEY, email text, state text, total numeric, \
         created_at timestamptz DEFAULT now(), meta jsonb)"
            .to_string(),
        "INSERT INTO allow_orders SELECT g, 'a' || g || '@example.com', 'paid', g * 1.5, \
         now() - g * interval '1 hour', '{\"plan\": \"pro\", \"tags\": [1]}' \
         FROM generate_series(1, 20) g"
            .to_string(),
        "CREATE SCHEMA IF NOT EXISTS allow_app".to_string(),
        "CREATE OR REPLACE FUNCTION allow_app.net_price(total numeric) RETURNS numeric \
         LANGUAGE sql IMMUTABLE AS $$ SELECT total / 1.2 $$"
            .to_string(),
    ])
    .await;
    let reader = support::postgres_reader().await;
    let plain = source(&reader, GuardPolicy::new(SqlDialectKind::Postgres));
    all_run(&plain, POSTGRES_READS).await;

    let own = "SELECT round(allow_app.net_price(total), 2) FROM allow_orders WHERE id = 12";
    match plain.query(own).await {
        Err(QueryError::Refused(Refusal::FunctionNotAllowlisted { function, .. })) => {
            assert_eq!(function, "allow_app.net_price")
        }
        other => panic!("an operator's function needs allow_functions: {other:?}"),
    }
    let allowing = GuardPolicy {
        allowed_functions: vec!["allow_app.net_price".to_string()],
        ..GuardPolicy::new(SqlDialectKind::Postgres)
    };
    let result = source(&reader, allowing).query(own).await.unwrap();
    assert_eq!(result.rows[0][0].as_deref(), Some("15.00"));
}

const MARIADB_READS: &[&str] = &[
    "SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:00') AS hour, COUNT(*) FROM allow_orders GROUP BY 1 ORDER BY 1",
    "SELECT TIMESTAMPDIFF(SECOND, MAX(created_at), NOW()) FROM allow_orders",
    "SELECT COALESCE(SUM(total), 0), AVG(total), IFNULL(MAX(total), 0) FROM allow_orders WHERE created_at > NOW() - INTERVAL 1 DAY",
    "SELECT JSON_EXTRACT(meta, '$.plan'), JSON_UNQUOTE(JSON_EXTRACT(meta, '$.plan')), JSON_LENGTH(meta) FROM allow_orders",
    "SELECT LOWER(email), UPPER(state), LENGTH(email), SUBSTRING(email, 1, 3), CONCAT(state, '!'), REGEXP_REPLACE(email, '@.*', '') FROM allow_orders",
    "SELECT CAST(id AS CHAR), CAST(created_at AS DATE), IF(total > 10, 'big', 'small') FROM allow_orders",
    "SELECT ROW_NUMBER() OVER (PARTITION BY state ORDER BY created_at DESC), LAG(total) OVER (ORDER BY id) FROM allow_orders",
    "SELECT state, GROUP_CONCAT(id ORDER BY id) FROM allow_orders GROUP BY state",
    "SELECT COUNT(*) FROM information_schema.PROCESSLIST",
    "SELECT @@version, DATABASE(), CURRENT_USER(), CONNECTION_ID() > 0, UNIX_TIMESTAMP() > 0",
    "SHOW TABLES",
    "EXPLAIN SELECT * FROM allow_orders WHERE email = 'a'",
];

#[tokio::test]
async fn mariadb_everyday_reads_run() {
    support::mariadb_setup(&[
        "DROP TABLE IF EXISTS allow_orders".to_string(),
        "CREATE TABLE allow_orders (id int PRIMARY KEY, email text, state text, total decimal(10,2), \
         created_at datetime DEFAULT CURRENT_TIMESTAMP, meta json)"
            .to_string(),
        "INSERT INTO allow_orders SELECT seq, CONCAT('a', seq, '@example.com'), 'paid', seq * 1.5, \
         NOW() - INTERVAL seq HOUR, '{\"plan\": \"pro\"}' FROM seq_1_to_20"
            .to_string(),
    ])
    .await;
    let reader = support::mariadb_reader().await;
    let app = source(&reader, GuardPolicy::new(SqlDialectKind::MySql));
    all_run(&app, MARIADB_READS).await;
}

const SQLITE_READS: &[&str] = &[
    "SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, count(*) FROM orders GROUP BY 1",
    "SELECT (julianday('now') - julianday(max(created_at))) * 86400 FROM orders",
    "SELECT coalesce(sum(total), 0), avg(total), total(total), max(total) FROM orders WHERE created_at > datetime('now', '-1 day')",
    "SELECT json_extract(meta, '$.plan'), meta ->> '$.plan', json_array_length(meta, '$.tags') FROM orders",
    "SELECT lower(email), upper(state), length(email), substr(email, 1, 3), instr(email, '@'), printf('%d', id), iif(total > 10, 'big', 'small') FROM orders",
    "SELECT CAST(id AS TEXT), typeof(total), round(total, 1), abs(-1) FROM orders",
    "SELECT row_number() OVER (PARTITION BY state ORDER BY created_at DESC), lag(total) OVER (ORDER BY id) FROM orders",
    "SELECT group_concat(id, ','), count(DISTINCT state) FROM orders",
    "SELECT unixepoch('now') > 0, date('now'), sqlite_version() IS NOT NULL",
    "SELECT * FROM orders WHERE email LIKE 'a%' AND email GLOB 'a*'",
];

#[tokio::test]
async fn sqlite_everyday_reads_run() {
    let dir = tempfile::tempdir().unwrap();
    let url = support::sqlite_file_with(
        &dir.path().join("app.db"),
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT, state TEXT, total REAL, \
         created_at TEXT, meta TEXT); \
         INSERT INTO orders VALUES (1, 'a@example.com', 'paid', 12.5, datetime('now'), \
         '{\"plan\": \"pro\", \"tags\": [1, 2]}')",
    )
    .await;
    let app = source(&url, GuardPolicy::new(SqlDialectKind::Sqlite));
    all_run(&app, SQLITE_READS).await;
}

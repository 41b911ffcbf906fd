//! A refused statement never reaches the database, proved by the server's own statement
//! statistics: on the throwaway PostgreSQL 15 cluster with `pg_stat_statements` (which records
//! every statement the server runs, utility statements included), each hazard is sent through
//! the guarded path against a table with a unique name; afterwards the server has recorded only
//! the one allowed read of that table, and the table still holds every row.

mod support;

use sentinel::source::sql::caps::ResultCaps;
use sentinel::source::sql::database::{QueryError, SqlSettings, SqlSource};
use sentinel::source::sql::guard::{GuardPolicy, SqlDialectKind};
use sqlx::{Connection, Executor, Row};
use std::time::Duration;
use support::pg_cluster;

/// Statements that must be refused, each naming the canary table `{t}` so the server's
/// statistics would show it had any of them run.
const HAZARDS: &[&str] = &[
    "DELETE FROM {t}",
    "UPDATE {t} SET balance = 0",
    "INSERT INTO {t} VALUES (999, 0)",
    "TRUNCATE {t}",
    "DROP TABLE {t}",
    "ALTER TABLE {t} ADD COLUMN x int",
    "CREATE TABLE {t}_copy AS SELECT * FROM {t}",
    "SELECT * INTO {t}_copy FROM {t}",
    "SELECT * FROM {t} FOR UPDATE",
    "SELECT * FROM {t} FOR SHARE SKIP LOCKED",
    "WITH gone AS (DELETE FROM {t} RETURNING *) SELECT count(*) FROM gone",
    "SELECT 1 FROM {t}; DELETE FROM {t}",
    "/* harmless */ dElEtE /* really */ FROM {t}",
    "-- a comment\nUpDaTe {t} SET balance = 1",
    "SELECT set_config('default_transaction_read_only', 'off', false) FROM {t}",
    "SELECT SET_CONFIG('transaction_read_only', 'off', true), * FROM {t}",
    "SET transaction_read_only = off; DELETE FROM {t}",
    "BEGIN; DELETE FROM {t}; COMMIT",
    "COMMIT",
    "LOCK TABLE {t}",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity, {t}",
    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity, {t}",
    "SELECT pg_advisory_lock(id) FROM {t}",
    "SELECT pg_try_advisory_xact_lock(id) FROM {t}",
    "SELECT lo_import('/etc/passwd') FROM {t}",
    "SELECT lo_unlink(id) FROM {t}",
    "SELECT pg_read_file('/etc/passwd') FROM {t}",
    "SELECT pg_ls_dir('/') FROM {t}",
    "SELECT dblink_exec('dbname=x', 'DELETE FROM {t}') FROM {t}",
    "SELECT nextval('{t}_seq') FROM {t}",
    "SELECT setval('{t}_seq', 1) FROM {t}",
    "EXPLAIN ANALYZE DELETE FROM {t}",
    "EXPLAIN ANALYZE SELECT * FROM {t}",
    "COPY {t} TO '/tmp/{t}.csv'",
    "VACUUM {t}",
    "DO $$ BEGIN DELETE FROM {t}; END $$",
    "CALL wipe_{t}()",
    "PREPARE wipe AS DELETE FROM {t}",
    "NOTIFY {t}",
];

#[tokio::test]
async fn refused_statements_are_absent_from_the_servers_statement_statistics() {
    let url = pg_cluster::fresh_database("refusals", true).await;
    let table = format!("canary_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    for statement in [
        format!("CREATE TABLE {table} (id int PRIMARY KEY, balance int)"),
        format!("INSERT INTO {table} SELECT g, 100 FROM generate_series(1, 25) g"),
        format!("CREATE SEQUENCE {table}_seq"),
        "SELECT pg_stat_statements_reset()".to_string(),
    ] {
        admin.execute(sqlx::AssertSqlSafe(statement)).await.unwrap();
    }

    let source = SqlSource::new(
        "app",
        SqlSettings {
            url: support::reader_url(&url).await,
            statement_timeout: Duration::from_secs(2),
            lock_timeout: Duration::from_secs(1),
            caps: ResultCaps::default(),
            policy: GuardPolicy::new(SqlDialectKind::Postgres),
            allow_privileged_role: false,
        },
    );
    for hazard in HAZARDS {
        let sql = hazard.replace("{t}", &table);
        match source.query(&sql).await {
            Err(QueryError::Refused(_)) => {}
            other => panic!("{sql:?} must be refused, got {other:?}"),
        }
    }
    // The positive control: an allowed read is recorded, so an executed hazard would be too.
    let allowed = source
        .query(&format!("SELECT count(*) AS n FROM {table}"))
        .await
        .unwrap();
    assert_eq!(allowed.rows[0][0].as_deref(), Some("25"));

    let recorded: Vec<String> = sqlx::query(
        "SELECT query FROM pg_stat_statements WHERE query ILIKE '%' || $1 || '%' ORDER BY query",
    )
    .bind(&table)
    .fetch_all(&mut admin)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get::<String, _>(0))
    .filter(|query| !query.contains("pg_stat_statements"))
    .collect();
    assert_eq!(
        recorded.len(),
        1,
        "only the allowed read may have reached the server: {recorded:#?}"
    );
    assert!(
        recorded[0].to_lowercase().contains("count(*)"),
        "{recorded:?}"
    );

    let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE balance = 100"
    )))
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(rows, 25, "every row is still there, unchanged");
    admin.close().await.unwrap();
}

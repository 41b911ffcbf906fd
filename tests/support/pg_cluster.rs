//! The throwaway PostgreSQL 15 cluster with pg_stat_statements that the integration tests
//! use. `scripts/pg_stat_cluster.sh start` does the work (and its lock makes concurrent test
//! binaries share one cluster); this module runs it once per test binary and hands out fresh
//! databases with the extension created.

use sqlx::{Connection, Executor};
use std::process::Command;
use std::sync::OnceLock;

/// URL of the cluster's `test` database, starting the cluster if needed.
pub fn cluster_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg_stat_cluster.sh");
        let output = Command::new("bash")
            .arg(script)
            .arg("start")
            .output()
            .expect("run pg_stat_cluster.sh");
        assert!(
            output.status.success(),
            "pg_stat_cluster.sh start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8_lossy(&output.stdout).trim().to_string();
        assert!(url.starts_with("postgres://postgres@127.0.0.1:"), "{url}");
        url
    })
}

/// URL of database `name` on the cluster.
pub fn database_url(name: &str) -> String {
    let base = cluster_url();
    let (server, _) = base.rsplit_once('/').expect("URL has a database");
    format!("{server}/{name}")
}

/// Creates database `name` anew (dropping an old one) and, if asked, pg_stat_statements in
/// it. Returns its URL.
pub async fn fresh_database(name: &str, with_extension: bool) -> String {
    let mut admin = sqlx::PgConnection::connect(&database_url("postgres"))
        .await
        .expect("connect to the cluster");
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
        .expect("drop old database");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    admin.close().await.expect("close");
    let url = database_url(name);
    if with_extension {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        conn.execute("CREATE EXTENSION pg_stat_statements")
            .await
            .expect("create extension");
        conn.close().await.expect("close");
    }
    url
}

//! A watched SQL database (PostgreSQL, MySQL/MariaDB, SQLite), read-only beyond doubt. Every
//! statement takes one path: the guard parses it and allows only a single read; the normalized
//! text (never the raw input) runs inside a READ ONLY transaction with a statement timeout and
//! a lock timeout, on a connection that is itself read-only where the server allows it; the
//! transaction is rolled back; the result is capped in rows and bytes, with the cap reported.

use super::caps::{CapHit, CappedRows, PushOutcome, ResultCaps, Row};
use super::guard::{self, GuardPolicy, Refusal, SqlDialectKind};
use crate::source::{SourceError, SourceErrorKind};
use futures_util::TryStreamExt;
use sqlx::{Column, Connection, Executor, Row as _};
use std::time::Duration;

/// What a query returned.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Set when a cap stopped the result early.
    pub truncated: Option<CapHit>,
}

/// Why a query gave no result.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The guard refused the statement; it never reached the database.
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Source(SourceError),
}

/// How a SQL source is reached and limited.
#[derive(Debug, Clone)]
pub struct SqlSettings {
    pub url: String,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub caps: ResultCaps,
    pub policy: GuardPolicy,
    /// Run even when the role can do more than read (see `role_gate`); off by default.
    pub allow_privileged_role: bool,
}

/// A configured SQL source.
#[derive(Debug, Clone)]
pub struct SqlSource {
    name: String,
    settings: SqlSettings,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SqlSource {
    pub fn new(name: &str, settings: SqlSettings) -> Self {
        Self {
            name: name.to_string(),
            settings,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dialect(&self) -> SqlDialectKind {
        self.settings.policy.dialect
    }

    fn source_error(&self, error: &sqlx::Error) -> SourceError {
        let kind = match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::Configuration(_) => SourceErrorKind::Unreachable,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // PostgreSQL 57014 / MySQL 3024 / MariaDB 1969: the statement timeout fired.
                if matches!(code.as_ref(), "57014" | "HY000")
                    && db.message().to_ascii_lowercase().contains("timeout")
                    || code == "57014"
                {
                    SourceErrorKind::Timeout
                } else {
                    SourceErrorKind::QueryRejected
                }
            }
            _ => SourceErrorKind::BadResponse,
        };
        SourceError::new(&self.name, kind, error.to_string())
    }

    /// Runs `sql` through the guard and, if allowed, read-only against the database.
    pub async fn query(&self, sql: &str) -> Result<QueryResult, QueryError> {
        let allowed = guard::check(sql, &self.settings.policy)?;
        super::role_gate::admit(&self.name, &self.settings).await?;
        let statement = allowed.normalized_sql().to_string();
        let budget = self.settings.statement_timeout + Duration::from_secs(5);
        let run = async {
            match self.dialect() {
                SqlDialectKind::Postgres => self.run_postgres(&statement).await,
                SqlDialectKind::MySql => self.run_mysql(&statement).await,
                SqlDialectKind::Sqlite => self.run_sqlite(&statement).await,
            }
        };
        match tokio::time::timeout(budget, run).await {
            Ok(result) => result.map_err(|e| QueryError::Source(self.source_error(&e))),
            Err(_) => Err(QueryError::Source(SourceError::new(
                &self.name,
                SourceErrorKind::Timeout,
                format!("no answer within {}s", budget.as_secs()),
            ))),
        }
    }

    async fn run_postgres(&self, statement: &str) -> Result<QueryResult, sqlx::Error> {
        use sqlx::postgres::PgConnectOptions;
        let options: PgConnectOptions = self.settings.url.parse()?;
        let options = options
            .options([("default_transaction_read_only", "on")])
            .application_name("sentinel");
        let mut conn = sqlx::PgConnection::connect_with(&options).await?;
        conn.execute("BEGIN TRANSACTION READ ONLY").await?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}",
            millis(self.settings.statement_timeout),
            millis(self.settings.lock_timeout)
        )))
        .await?;
        let result = collect_postgres(&mut conn, statement, self.settings.caps).await;
        let _ = conn.execute("ROLLBACK").await;
        let _ = conn.close().await;
        result
    }

    async fn run_mysql(&self, statement: &str) -> Result<QueryResult, sqlx::Error> {
        use sqlx::mysql::MySqlConnectOptions;
        let options: MySqlConnectOptions = self.settings.url.parse()?;
        let mut conn = sqlx::MySqlConnection::connect_with(&options).await?;
        let seconds = self.settings.statement_timeout.as_secs_f64().max(0.001);
        // MariaDB names it max_statement_time (seconds), MySQL max_execution_time (ms).
        if conn
            .execute(sqlx::AssertSqlSafe(format!(
                "SET SESSION max_statement_time = {seconds}"
            )))
            .await
            .is_err()
        {
            conn.execute(sqlx::AssertSqlSafe(format!(
                "SET SESSION max_execution_time = {}",
                millis(self.settings.statement_timeout)
            )))
            .await?;
        }
        conn.execute(sqlx::AssertSqlSafe(format!(
            "SET SESSION innodb_lock_wait_timeout = {}",
            self.settings.lock_timeout.as_secs().max(1)
        )))
        .await?;
        conn.execute("START TRANSACTION READ ONLY").await?;
        let result = collect_mysql(&mut conn, statement, self.settings.caps).await;
        let _ = conn.execute("ROLLBACK").await;
        let _ = conn.close().await;
        result
    }

    async fn run_sqlite(&self, statement: &str) -> Result<QueryResult, sqlx::Error> {
        use sqlx::sqlite::SqliteConnectOptions;
        let options: SqliteConnectOptions = self.settings.url.parse()?;
        let options = options
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(self.settings.lock_timeout);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
        conn.execute("BEGIN").await?;
        let result = collect_sqlite(&mut conn, statement, self.settings.caps).await;
        let _ = conn.execute("ROLLBACK").await;
        let _ = conn.close().await;
        result
    }
}

/// Streams the statement's rows until a cap. The simple-query (text) protocol is used, so
/// every value arrives as text whatever its SQL type.
macro_rules! collector {
    ($name:ident, $conn:ty) => {
        async fn $name(
            conn: &mut $conn,
            statement: &str,
            caps: ResultCaps,
        ) -> Result<QueryResult, sqlx::Error> {
            let mut kept = CappedRows::new(caps);
            let mut columns: Vec<String> = Vec::new();
            let mut stream =
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string())).fetch(&mut *conn);
            while let Some(row) = stream.try_next().await? {
                if columns.is_empty() {
                    columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                }
                let cells: Row = (0..row.len())
                    .map(|i| match row.try_get_unchecked::<Option<String>, _>(i) {
                        Ok(value) => value,
                        Err(_) => Some("<binary>".to_string()),
                    })
                    .collect();
                if let PushOutcome::Stopped(_) = kept.push(cells) {
                    break;
                }
            }
            let (rows, truncated) = kept.into_parts();
            Ok(QueryResult {
                columns,
                rows,
                truncated,
            })
        }
    };
}

collector!(collect_postgres, sqlx::PgConnection);
collector!(collect_mysql, sqlx::MySqlConnection);
collector!(collect_sqlite, sqlx::SqliteConnection);

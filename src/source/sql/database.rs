//! A watched SQL database (PostgreSQL, MySQL/MariaDB, SQLite), read-only beyond doubt. Every
//! statement takes one path: the guard parses it and allows only a single read; the normalized
//! text (never the raw input) runs inside a READ ONLY transaction with a statement timeout and
//! a lock timeout, on a connection that is itself read-only where the server allows it. The
//! result is capped in rows and bytes while it is read, with the cap reported: a SELECT runs
//! inside a wrapper that makes the server cut every cell and stop after the row cap
//! (`bounded.rs`), SQLite refuses to build a value over the byte cap and stops a statement at
//! its deadline (`sqlite_limits.rs`), and the client itself gives up shortly after the
//! timeout. A fully read result ends with ROLLBACK; a result cut short closes the connection,
//! which aborts the transaction without reading the rest.

use super::bounded::{self, BoundedStatement, MySqlColumn};
use super::caps::{CapHit, CappedRows, PushOutcome, ResultCaps, Row};
use super::failure::Attempt;
use super::guard::{self, CheckedStatement, GuardPolicy, Refusal, SqlDialectKind, StatementKind};
use super::parameters::{self, ParameterError};
use super::pg_catalog;
use super::sqlite_limits::{self, StopOnDrop, StopSignal};
use crate::source::SourceError;
use futures_util::TryStreamExt;
use sqlx::{
    Column, ConnectOptions, Connection, Executor, Row as _, SqlSafeStr, Statement, TypeInfo,
};
use std::time::{Duration, Instant};

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
    /// The guard refused the statement; the statement itself never ran.
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Source(#[from] SourceError),
}

/// The one value bound into a statement, and how many placeholders take it.
#[derive(Clone, Copy)]
struct Bound<'a> {
    value: &'a str,
    times: usize,
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

/// How long past `statement_timeout` the client waits for an answer before it closes the
/// connection itself (connecting and the transaction's own statements come out of it too).
pub const CLIENT_MARGIN: Duration = Duration::from_secs(2);

/// Rows SQLite's worker thread may read ahead of Sentinel (each within the byte cap).
const SQLITE_ROWS_AHEAD: usize = 2;

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

    /// The configured URL (with its password, if it has one: never print it as is).
    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// What is being run, for wording an error about it.
    fn attempt<'a>(&'a self, statement: &'a str) -> Attempt<'a> {
        Attempt {
            source: &self.name,
            statement,
            statement_offset: 0,
            statement_timeout: self.settings.statement_timeout,
            lock_timeout: self.settings.lock_timeout,
            max_bytes: self.settings.caps.max_bytes,
            elapsed: Duration::ZERO,
        }
    }

    /// Runs `sql` through the guard and, if allowed, read-only against the database.
    pub async fn query(&self, sql: &str) -> Result<QueryResult, QueryError> {
        self.run(sql, None).await
    }

    /// Runs a SELECT `sql` like [`Self::query`], with `value` bound to its placeholder
    /// (`$1` on PostgreSQL, `?` on MySQL, `?1` or `?` on SQLite) and never written into the
    /// statement's text. A statement without the placeholder is refused: it would not be
    /// about `value` at all.
    pub async fn query_bound(&self, sql: &str, value: &str) -> Result<QueryResult, QueryError> {
        let checked = guard::check(sql, &self.settings.policy)?;
        if !matches!(
            checked.kind(),
            StatementKind::Select | StatementKind::Values
        ) {
            return Err(QueryError::Refused(Refusal::NotARead {
                statement: "a statement other than SELECT".to_string(),
                reason: "only a SELECT takes a bound value",
            }));
        }
        let times =
            parameters::bindings(sql, self.dialect()).map_err(|error: ParameterError| {
                Refusal::BoundValue {
                    reason: error.to_string(),
                }
            })?;
        self.run(sql, Some(Bound { value, times })).await
    }

    async fn run(
        &self,
        sql: &str,
        bound_value: Option<Bound<'_>>,
    ) -> Result<QueryResult, QueryError> {
        let checked = guard::check(sql, &self.settings.policy)?;
        super::role_gate::admit(&self.name, &self.settings).await?;
        let bound = matches!(
            checked.kind(),
            StatementKind::Select | StatementKind::Values
        );
        let budget = self.settings.statement_timeout + CLIENT_MARGIN;
        let run = async {
            match self.dialect() {
                SqlDialectKind::Postgres => self.run_postgres(checked, bound, bound_value).await,
                SqlDialectKind::MySql => {
                    let allowed = checked.confirm(None)?;
                    Ok(self
                        .run_mysql(allowed.normalized_sql(), bound, bound_value)
                        .await?)
                }
                SqlDialectKind::Sqlite => {
                    let allowed = checked.confirm(None)?;
                    Ok(self
                        .run_sqlite(allowed.normalized_sql(), bound_value)
                        .await?)
                }
            }
        };
        match tokio::time::timeout(budget, run).await {
            Ok(result) => result,
            Err(_) => Err(QueryError::Source(self.attempt(sql).no_answer(budget))),
        }
    }

    /// On PostgreSQL the statement is confirmed against the server's own catalog inside the
    /// transaction it then runs in, before the server has seen the statement itself.
    async fn run_postgres(
        &self,
        checked: CheckedStatement,
        bound: bool,
        bound_value: Option<Bound<'_>>,
    ) -> Result<QueryResult, QueryError> {
        use sqlx::postgres::PgConnectOptions;
        let attempt = self.attempt(sql_for_messages(&checked));
        let fail = |error: sqlx::Error| attempt.classify(&error);
        let options: PgConnectOptions = self.settings.url.parse().map_err(fail)?;
        let options = options
            .options([("default_transaction_read_only", "on")])
            .application_name("sentinel")
            .disable_statement_logging();
        let mut conn = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(fail)?;
        conn.execute("BEGIN TRANSACTION READ ONLY")
            .await
            .map_err(fail)?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}",
            millis(self.settings.statement_timeout),
            millis(self.settings.lock_timeout)
        )))
        .await
        .map_err(fail)?;
        let confirmed = if checked.catalog_questions().is_empty() {
            checked.confirm(None)
        } else {
            match pg_catalog::answers(&mut conn, checked.catalog_questions()).await {
                Ok(answers) => checked.confirm(Some(&answers)),
                Err(error) => Err(Refusal::CatalogUnavailable {
                    reason: attempt.classify(&error).to_string(),
                }),
            }
        };
        let allowed = match confirmed {
            Ok(allowed) => allowed,
            Err(refusal) => {
                let _ = conn.close_hard().await;
                return Err(QueryError::Refused(refusal));
            }
        };
        let statement = allowed.normalized_sql();
        let attempt = self.attempt(statement);
        let started = Instant::now();
        let (run, columns) = if bound {
            // The bound value is declared text here as when it runs, so the server reads
            // `$1` the same way both times.
            let text = <String as sqlx::Type<sqlx::Postgres>>::type_info();
            let parameter_types = if bound_value.is_some() {
                std::slice::from_ref(&text)
            } else {
                &[]
            };
            let prepared = conn
                .prepare_with(
                    sqlx::AssertSqlSafe(statement.to_string()).into_sql_str(),
                    parameter_types,
                )
                .await
                .map_err(|error| attempt.after(started).classify(&error))?;
            let columns: Vec<String> = prepared
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect();
            let run = bounded::postgres(statement, &columns, self.settings.caps);
            (run, Some(columns))
        } else {
            (BoundedStatement::unchanged(statement), None)
        };
        let collected =
            collect_postgres(&mut conn, &run.sql, bound_value, self.settings.caps).await;
        Ok(finish_postgres(conn, collected, columns, |error| {
            attempt
                .after(started)
                .within(run.statement_offset)
                .classify(&error)
        })
        .await?)
    }

    async fn run_mysql(
        &self,
        statement: &str,
        bound: bool,
        bound_value: Option<Bound<'_>>,
    ) -> Result<QueryResult, SourceError> {
        use sqlx::mysql::MySqlConnectOptions;
        let attempt = self.attempt(statement);
        let fail = |error: sqlx::Error| attempt.classify(&error);
        let options: MySqlConnectOptions = self.settings.url.parse().map_err(fail)?;
        let options = options.disable_statement_logging();
        let mut conn = sqlx::MySqlConnection::connect_with(&options)
            .await
            .map_err(fail)?;
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
            .await
            .map_err(fail)?;
        }
        conn.execute(sqlx::AssertSqlSafe(format!(
            "SET SESSION innodb_lock_wait_timeout = {}",
            self.settings.lock_timeout.as_secs().max(1)
        )))
        .await
        .map_err(fail)?;
        conn.execute("START TRANSACTION READ ONLY")
            .await
            .map_err(fail)?;
        let started = Instant::now();
        let (run, columns) = if bound {
            let prepared = conn
                .prepare(sqlx::AssertSqlSafe(statement.to_string()).into_sql_str())
                .await
                .map_err(|error| attempt.after(started).classify(&error))?;
            let columns: Vec<MySqlColumn> = prepared
                .columns()
                .iter()
                .map(|c| MySqlColumn {
                    name: c.name().to_string(),
                    // A bound statement's rows come in the binary protocol: every cell is
                    // made text by the wrapper so it reads as text.
                    bounded: bound_value.is_none()
                        && bounded::mysql_type_is_bounded(c.type_info().name()),
                })
                .collect();
            let names = columns.iter().map(|c| c.name.clone()).collect();
            (
                bounded::mysql(statement, &columns, self.settings.caps),
                Some(names),
            )
        } else {
            (BoundedStatement::unchanged(statement), None)
        };
        let collected = collect_mysql(&mut conn, &run.sql, bound_value, self.settings.caps).await;
        finish_mysql(conn, collected, columns, |error| {
            attempt
                .after(started)
                .within(run.statement_offset)
                .classify(&error)
        })
        .await
    }

    async fn run_sqlite(
        &self,
        statement: &str,
        bound_value: Option<Bound<'_>>,
    ) -> Result<QueryResult, SourceError> {
        use sqlx::sqlite::SqliteConnectOptions;
        let attempt = self.attempt(statement);
        let fail = |error: sqlx::Error| attempt.classify(&error);
        let options: SqliteConnectOptions = self.settings.url.parse().map_err(fail)?;
        let options = options
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(self.settings.lock_timeout)
            .row_buffer_size(SQLITE_ROWS_AHEAD)
            .disable_statement_logging();
        // Whatever becomes of this future, the statement stops with it.
        let stop = StopSignal::default();
        let _stop_when_dropped = StopOnDrop(stop.clone());
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .map_err(fail)?;
        let started = Instant::now();
        sqlite_limits::install(
            &mut conn,
            started + self.settings.statement_timeout,
            stop,
            self.settings.caps.max_bytes,
        )
        .await
        .map_err(fail)?;
        if let Err(error) = conn.execute("BEGIN").await {
            let _ = conn.close().await;
            return Err(fail(error));
        }
        let collected = collect_sqlite(&mut conn, statement, bound_value, self.settings.caps).await;
        let _ = conn.execute("ROLLBACK").await;
        // Waits for the worker thread to end: no thread outlives the statement.
        let _ = conn.close().await;
        collected
            .map(|collected| collected.result)
            .map_err(|error| attempt.after(started).classify(&error))
    }
}

/// The statement as the operator will recognise it in an error before it is confirmed: the
/// checked statement's own text is only handed out once the catalog has vouched for it.
fn sql_for_messages(checked: &CheckedStatement) -> &'static str {
    match checked.kind() {
        StatementKind::Select | StatementKind::Values => "the query",
        _ => "the statement",
    }
}

/// Ends a PostgreSQL or MySQL session: a result read to its end is rolled back and the
/// connection closed politely; a result cut short (or an error) closes the socket at once,
/// which aborts the transaction without reading what the server still sends.
macro_rules! finisher {
    ($name:ident, $conn:ty) => {
        async fn $name(
            mut conn: $conn,
            collected: Result<Collected, sqlx::Error>,
            columns: Option<Vec<String>>,
            fail: impl Fn(sqlx::Error) -> SourceError,
        ) -> Result<QueryResult, SourceError> {
            match collected {
                Ok(collected) if collected.complete => {
                    let _ = conn.execute("ROLLBACK").await;
                    let _ = conn.close().await;
                    Ok(collected.with_columns(columns))
                }
                Ok(collected) => {
                    let _ = conn.close_hard().await;
                    Ok(collected.with_columns(columns))
                }
                Err(error) => {
                    let _ = conn.close_hard().await;
                    Err(fail(error))
                }
            }
        }
    };
}

finisher!(finish_postgres, sqlx::PgConnection);
finisher!(finish_mysql, sqlx::MySqlConnection);

/// A result as far as it was read.
struct Collected {
    result: QueryResult,
    /// Every row the statement produced was read (no cap stopped it).
    complete: bool,
}

impl Collected {
    /// The result with the columns the server described, which name them even when no row
    /// came back.
    fn with_columns(mut self, columns: Option<Vec<String>>) -> QueryResult {
        if let Some(columns) = columns {
            self.result.columns = columns;
        }
        self.result
    }
}

/// Streams the statement's rows until a cap. Without a bound value the simple-query (text)
/// protocol is used, so every value arrives as text whatever its SQL type; with one, the
/// extended protocol carries the value apart from the text, and the bounding wrapper has
/// already made every PostgreSQL and MySQL cell text (SQLite converts on reading).
macro_rules! collector {
    ($name:ident, $conn:ty) => {
        async fn $name(
            conn: &mut $conn,
            statement: &str,
            bound_value: Option<Bound<'_>>,
            caps: ResultCaps,
        ) -> Result<Collected, sqlx::Error> {
            let mut kept = CappedRows::new(caps);
            let mut columns: Vec<String> = Vec::new();
            let text = sqlx::AssertSqlSafe(statement.to_string());
            let mut stream = match bound_value {
                None => futures_util::future::Either::Left(sqlx::raw_sql(text).fetch(&mut *conn)),
                Some(bound) => {
                    let mut query = sqlx::query(text);
                    for _ in 0..bound.times {
                        query = query.bind(bound.value.to_string());
                    }
                    futures_util::future::Either::Right(query.fetch(&mut *conn))
                }
            };
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
            Ok(Collected {
                complete: truncated.is_none(),
                result: QueryResult {
                    columns,
                    rows,
                    truncated,
                },
            })
        }
    };
}

collector!(collect_postgres, sqlx::PgConnection);
collector!(collect_mysql, sqlx::MySqlConnection);
collector!(collect_sqlite, sqlx::SqliteConnection);

impl crate::source::registry::Source for SqlSource {
    fn kind(&self) -> &'static str {
        match self.dialect() {
            SqlDialectKind::Postgres => "postgres",
            SqlDialectKind::MySql => "mysql",
            SqlDialectKind::Sqlite => "sqlite",
        }
    }

    fn check(&self) -> futures_util::future::BoxFuture<'_, crate::source::registry::Finding> {
        Box::pin(super::check::check(self))
    }

    fn series(&self) -> Option<&dyn crate::source::series::SeriesSource> {
        Some(self)
    }

    fn statements(&self) -> Option<&dyn super::statements::StatementStatistics> {
        (self.dialect() == SqlDialectKind::Postgres).then_some(self as _)
    }

    fn database(&self) -> Option<&SqlSource> {
        Some(self)
    }
}

//! Why a statement failed, in words the operator can act on: the server's message, detail,
//! hint and the place in the statement (never the server's own source file and line), and
//! the right kind: a timeout Sentinel set, a cancel that came from elsewhere, a value over the
//! byte cap, a statement the database rejects, a server that cannot be reached.

use crate::source::{SourceError, SourceErrorKind};
use std::time::{Duration, Instant};

/// What was being run when the error came, to word it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub source: &'a str,
    /// The statement as Sentinel sent it (the guard's normalized text).
    pub statement: &'a str,
    /// How many characters of the text actually run precede `statement` (a wrapper).
    pub statement_offset: usize,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub max_bytes: usize,
    /// How long the statement had been running when it failed.
    pub elapsed: Duration,
}

/// MariaDB: `max_statement_time` exceeded.
const MARIADB_STATEMENT_TIME: u16 = 1969;
/// MySQL: `max_execution_time` exceeded.
const MYSQL_EXECUTION_TIME: u16 = 3024;
/// MySQL/MariaDB: the query was interrupted (`KILL QUERY`).
const MYSQL_INTERRUPTED: u16 = 1317;
/// MySQL/MariaDB: lock wait timeout exceeded.
const MYSQL_LOCK_WAIT: u16 = 1205;

/// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_INTERRUPT: i64 = 9;
const SQLITE_TOOBIG: i64 = 18;

/// A timeout as configured: `300ms`, `5s`.
fn shown(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

/// How many characters of the statement around a reported position are quoted.
const EXCERPT_CHARS: usize = 40;

impl Attempt<'_> {
    /// The same attempt, for a statement that started at `started`.
    pub(crate) fn after(self, started: Instant) -> Self {
        Self {
            elapsed: started.elapsed(),
            ..self
        }
    }

    /// The same attempt, for a statement run inside a wrapper `offset` characters long.
    pub(crate) fn within(self, offset: usize) -> Self {
        Self {
            statement_offset: offset,
            ..self
        }
    }

    fn error(&self, kind: SourceErrorKind, detail: impl Into<String>) -> SourceError {
        SourceError::new(self.source, kind, detail)
    }

    fn timed_out(&self) -> SourceError {
        self.error(
            SourceErrorKind::Timeout,
            format!(
                "the statement ran past statement_timeout ({}) and was stopped",
                shown(self.statement_timeout)
            ),
        )
    }

    fn lock_timed_out(&self, message: &str) -> SourceError {
        self.error(
            SourceErrorKind::Timeout,
            format!(
                "{message} (waited lock_timeout, {}, for a lock)",
                shown(self.lock_timeout)
            ),
        )
    }

    fn cancelled_elsewhere(&self, message: &str) -> SourceError {
        self.error(
            SourceErrorKind::BadResponse,
            format!(
                "{message}: the statement was cancelled on the server by someone else (an administrator, pg_cancel_backend or KILL QUERY), not by Sentinel's statement_timeout"
            ),
        )
    }

    /// A value over the byte cap, refused before Sentinel held it.
    pub(crate) fn too_big(&self) -> SourceError {
        self.error(
            SourceErrorKind::QueryRejected,
            format!(
                "a value is larger than the byte cap (max_bytes = {}): select less of it (substr, left), or raise max_bytes",
                self.max_bytes
            ),
        )
    }

    /// Nothing came back before the client's own deadline.
    pub(crate) fn no_answer(&self, budget: Duration) -> SourceError {
        self.error(
            SourceErrorKind::Timeout,
            format!(
                "no answer within {} (statement_timeout {} and a margin); the connection was closed",
                shown(budget),
                shown(self.statement_timeout)
            ),
        )
    }

    /// Whether the statement had been running for its whole timeout.
    fn ran_out_of_time(&self) -> bool {
        self.elapsed + Duration::from_millis(50) >= self.statement_timeout
    }

    /// Classifies and words a driver error.
    pub(crate) fn classify(&self, error: &sqlx::Error) -> SourceError {
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::Configuration(_) => {
                self.error(SourceErrorKind::Unreachable, error.to_string())
            }
            sqlx::Error::Database(db) => {
                if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    self.postgres(pg)
                } else if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                    self.mysql(my)
                } else if let Some(lite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                    self.sqlite(lite)
                } else {
                    self.error(SourceErrorKind::QueryRejected, db.message().to_string())
                }
            }
            _ => self.error(SourceErrorKind::BadResponse, error.to_string()),
        }
    }

    fn postgres(&self, error: &sqlx::postgres::PgDatabaseError) -> SourceError {
        let message = error.message();
        match error.code() {
            // query_canceled: both the statement timeout and a cancel request.
            "57014" => {
                if message.contains("statement timeout")
                    || (!message.contains("user request") && self.ran_out_of_time())
                {
                    self.timed_out()
                } else {
                    self.cancelled_elsewhere(message)
                }
            }
            // lock_not_available: the lock timeout.
            "55P03" => self.lock_timed_out(message),
            // program_limit_exceeded on a value, e.g. a string too long to build.
            _ => self.error(SourceErrorKind::QueryRejected, self.postgres_text(error)),
        }
    }

    /// Message, detail, hint and position: what the operator can act on.
    fn postgres_text(&self, error: &sqlx::postgres::PgDatabaseError) -> String {
        let mut text = error.message().to_string();
        if let Some(detail) = error.detail() {
            text.push_str(&format!("; {detail}"));
        }
        if let Some(hint) = error.hint() {
            text.push_str(&format!("; hint: {hint}"));
        }
        if let Some(sqlx::postgres::PgErrorPosition::Original(position)) = error.position()
            && let Some(place) = self.place(position)
        {
            text.push_str(&format!("; {place}"));
        }
        text
    }

    /// `at character N of the statement: "…excerpt…"` for a 1-based character position in
    /// the text run, when it falls inside the statement.
    fn place(&self, position: usize) -> Option<String> {
        let index = position
            .checked_sub(1)?
            .checked_sub(self.statement_offset)?;
        let length = self.statement.chars().count();
        if index >= length {
            return None;
        }
        let start = index.saturating_sub(EXCERPT_CHARS / 2);
        let excerpt: String = self
            .statement
            .chars()
            .skip(start)
            .take(EXCERPT_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let before = if start > 0 { "…" } else { "" };
        let after = if start + EXCERPT_CHARS < length {
            "…"
        } else {
            ""
        };
        Some(format!(
            "at character {} of the statement: \"{before}{excerpt}{after}\"",
            index + 1
        ))
    }

    fn mysql(&self, error: &sqlx::mysql::MySqlDatabaseError) -> SourceError {
        let message = error.message();
        match error.number() {
            MARIADB_STATEMENT_TIME | MYSQL_EXECUTION_TIME => self.timed_out(),
            MYSQL_LOCK_WAIT => self.lock_timed_out(message),
            MYSQL_INTERRUPTED if self.ran_out_of_time() => self.timed_out(),
            MYSQL_INTERRUPTED => self.cancelled_elsewhere(message),
            number => self.error(
                SourceErrorKind::QueryRejected,
                format!("{message} (error {number})"),
            ),
        }
    }

    fn sqlite(&self, error: &sqlx::sqlite::SqliteError) -> SourceError {
        let code = sqlx::error::DatabaseError::code(error)
            .and_then(|code| code.parse::<i64>().ok())
            .unwrap_or_default()
            & 0xff;
        let message = sqlx::error::DatabaseError::message(error);
        match code {
            SQLITE_INTERRUPT if self.ran_out_of_time() => self.timed_out(),
            SQLITE_INTERRUPT => self.error(
                SourceErrorKind::Timeout,
                "the statement was stopped because Sentinel stopped waiting for it",
            ),
            SQLITE_TOOBIG => self.too_big(),
            SQLITE_BUSY | SQLITE_LOCKED => self.lock_timed_out(message),
            _ => self.error(SourceErrorKind::QueryRejected, message.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(statement: &str, offset: usize) -> Attempt<'_> {
        Attempt {
            source: "app",
            statement,
            statement_offset: offset,
            statement_timeout: Duration::from_secs(3),
            lock_timeout: Duration::from_secs(1),
            max_bytes: 1024,
            elapsed: Duration::from_millis(10),
        }
    }

    #[test]
    fn a_position_is_given_in_the_statement_own_terms() {
        let statement = "SELECT nope FROM t";
        let place = attempt(statement, 10).place(10 + 8).unwrap();
        assert_eq!(
            place,
            "at character 8 of the statement: \"SELECT nope FROM t\""
        );
    }

    #[test]
    fn a_position_in_the_wrapper_is_not_reported() {
        let statement = "SELECT 1";
        assert_eq!(attempt(statement, 10).place(3), None);
        assert_eq!(attempt(statement, 10).place(10 + 9), None);
        assert_eq!(attempt(statement, 0).place(0), None);
    }

    #[test]
    fn a_long_statement_is_quoted_around_the_position() {
        let statement = format!("SELECT {} FROM t", "x".repeat(200));
        let place = attempt(&statement, 0).place(150).unwrap();
        assert!(
            place.starts_with("at character 150 of the statement: \"…"),
            "{place}"
        );
        assert!(place.ends_with("…\""), "{place}");
    }

    #[test]
    fn too_big_names_the_cap() {
        let error = attempt("SELECT 1", 0).too_big();
        assert_eq!(error.kind, SourceErrorKind::QueryRejected);
        assert!(error.detail.contains("max_bytes = 1024"), "{error}");
    }
}

//! The statement guard: the single gate every SQL statement passes before it
//! may be sent to a watched database.
//!
//! Sentinel only ever reads a production database. [`check`] parses the text
//! with `sqlparser` in the database's dialect, accepts exactly one read
//! statement (SELECT / VALUES / WITH ... SELECT, SHOW, EXPLAIN without
//! ANALYZE, DESCRIBE), walks the whole syntax tree to refuse row locks,
//! `SELECT ... INTO` and data-modifying CTEs, and judges every function call
//! against an allowlist of functions known to be free of side effects (see
//! [`functions`]). What only PostgreSQL's catalog can tell (whether a function
//! is a built-in marked immutable or stable, what an operator or a cast runs)
//! is collected as [`CatalogQuestions`]; [`CheckedStatement::confirm`] decides
//! them with the catalog's answers. Only the resulting [`AllowedStatement`]
//! carries the text to execute: the statement re-rendered from its syntax tree,
//! never the raw input, so comments and odd formatting cannot smuggle anything
//! past the guard.

pub(crate) mod catalog;
pub mod functions;
mod refusal;
mod statements;
mod walker;

pub use catalog::{CatalogAnswers, CatalogQuestions, FunctionFacts, TypeFacts};
pub use refusal::Refusal;

use std::fmt;
use std::ops::ControlFlow;

use sqlparser::ast::{Statement, Visit};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use statements::classify_statement;
use walker::ReadOnlyWalker;

/// The SQL dialect of a watched database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqlDialectKind {
    /// PostgreSQL.
    #[default]
    Postgres,
    /// MySQL / MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

/// The parser's dialect for `dialect`.
fn parser_dialect(dialect: SqlDialectKind) -> Box<dyn Dialect> {
    match dialect {
        SqlDialectKind::Postgres => Box::new(PostgreSqlDialect {}),
        SqlDialectKind::MySql => Box::new(MySqlDialect {}),
        SqlDialectKind::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// What the guard lets through for one watched database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Dialect used to parse statements.
    pub dialect: SqlDialectKind,
    /// Whether `SHOW ...` statements are accepted.
    pub allow_show: bool,
    /// Whether `EXPLAIN` (never `EXPLAIN ANALYZE`) and `DESCRIBE` are accepted.
    pub allow_explain: bool,
    /// Further function names to refuse, in addition to the known dangers.
    /// Matched case-insensitively against the unqualified and the
    /// schema-qualified name of every call.
    pub extra_denied_functions: Vec<String>,
    /// The operator's own functions known to only read (`allow_functions`), by name or
    /// qualified name; they extend the allowlist. Known dangers stay refused.
    pub allowed_functions: Vec<String>,
}

impl GuardPolicy {
    /// A policy for `dialect` with SHOW and EXPLAIN allowed and no extra
    /// denied functions.
    pub fn new(dialect: SqlDialectKind) -> Self {
        Self {
            dialect,
            allow_show: true,
            allow_explain: true,
            extra_denied_functions: Vec::new(),
            allowed_functions: Vec::new(),
        }
    }
}

impl Default for GuardPolicy {
    fn default() -> Self {
        Self::new(SqlDialectKind::default())
    }
}

/// The kind of statement the guard accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// SELECT, WITH ... SELECT, set operations, `TABLE t`.
    Select,
    /// A bare `VALUES (...)` list.
    Values,
    /// `SHOW ...`.
    Show,
    /// `EXPLAIN <statement>` without ANALYZE.
    Explain,
    /// `DESCRIBE t` / `EXPLAIN TABLE t`.
    Describe,
}

/// A statement that passed every check the guard can make on its own. What only the
/// server's catalog can decide is still open: [`CheckedStatement::confirm`] closes it and
/// gives the [`AllowedStatement`] to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedStatement {
    kind: StatementKind,
    normalized_sql: String,
    questions: CatalogQuestions,
}

impl CheckedStatement {
    /// What kind of read this is.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// What the server's catalog must answer before the statement may run; empty for MySQL,
    /// SQLite and PostgreSQL statements that call no functions and use no operators or casts.
    pub fn catalog_questions(&self) -> &CatalogQuestions {
        &self.questions
    }

    /// The allowed statement, if the catalog's `answers` (required whenever
    /// [`Self::catalog_questions`] is not empty) vouch for everything it calls.
    pub fn confirm(self, answers: Option<&CatalogAnswers>) -> Result<AllowedStatement, Refusal> {
        if !self.questions.is_empty() {
            let Some(answers) = answers else {
                return Err(Refusal::CatalogUnavailable {
                    reason: "it was not consulted".to_string(),
                });
            };
            catalog::decide(&self.questions, answers)?;
        }
        Ok(AllowedStatement {
            kind: self.kind,
            normalized_sql: self.normalized_sql,
        })
    }
}

/// A statement that passed the guard, catalog included. Only
/// [`CheckedStatement::confirm`] can build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedStatement {
    kind: StatementKind,
    normalized_sql: String,
}

impl AllowedStatement {
    /// What kind of read this is.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The statement re-rendered from its syntax tree. This, never the raw
    /// input, is what must be sent to the database.
    pub fn normalized_sql(&self) -> &str {
        &self.normalized_sql
    }
}

/// Checks `sql` against `policy`: the statement, or the reason it must not reach the
/// database. The result must still be confirmed against the catalog
/// ([`CheckedStatement::confirm`]) before it runs.
pub fn check(sql: &str, policy: &GuardPolicy) -> Result<CheckedStatement, Refusal> {
    let dialect = parser_dialect(policy.dialect);
    let statements =
        Parser::parse_sql(dialect.as_ref(), sql).map_err(|error| Refusal::Unparseable {
            location: parser_location(&error.to_string()),
        })?;
    let statement = match statements.as_slice() {
        [] => return Err(Refusal::Empty),
        [only] => only,
        more => return Err(Refusal::MultipleStatements { count: more.len() }),
    };
    let kind = classify_statement(statement, policy)?;
    let mut walker = ReadOnlyWalker {
        policy,
        questions: CatalogQuestions::default(),
    };
    if let ControlFlow::Break(refusal) = statement.visit(&mut walker) {
        return Err(refusal);
    }
    let normalized_sql = statement.to_string();
    ensure_faithful_rendering(&normalized_sql, statement, dialect.as_ref())?;
    Ok(CheckedStatement {
        kind,
        normalized_sql,
        questions: walker.questions,
    })
}

/// The parser's `Line: L, Column: C` as ` (near line L, column C)`, or empty.
fn parser_location(message: &str) -> String {
    let number_after = |label: &str| {
        let start = message.find(label)? + label.len();
        let digits: String = message[start..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<u64>().ok()
    };
    match (number_after("Line:"), number_after("Column:")) {
        (Some(line), Some(column)) => format!(" (near line {line}, column {column})"),
        _ => String::new(),
    }
}

/// The normalized text is what gets executed, so it must mean exactly what
/// was checked: parsing it again has to give back the same single statement.
fn ensure_faithful_rendering(
    normalized_sql: &str,
    checked: &Statement,
    dialect: &dyn Dialect,
) -> Result<(), Refusal> {
    match Parser::parse_sql(dialect, normalized_sql).as_deref() {
        Ok([reparsed]) if reparsed == checked => Ok(()),
        _ => Err(Refusal::UnfaithfulNormalization),
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StatementKind::Select => "SELECT",
            StatementKind::Values => "VALUES",
            StatementKind::Show => "SHOW",
            StatementKind::Explain => "EXPLAIN",
            StatementKind::Describe => "DESCRIBE",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_locations_are_given_plainly() {
        assert_eq!(
            parser_location(
                "sql parser error: Expected: end of statement, found: x at Line: 3, Column: 14"
            ),
            " (near line 3, column 14)"
        );
        assert_eq!(parser_location("sql parser error: something"), "");
    }

    #[test]
    fn unparseable_statements_say_so_without_parser_jargon() {
        let refusal = check("SELEC 1 FROM", &GuardPolicy::default()).unwrap_err();
        let message = refusal.to_string();
        assert!(message.contains("cannot be parsed"), "{message}");
        assert!(!message.contains("Expected"), "{message}");
    }

    #[test]
    fn refusals_name_statements_by_their_keywords_only() {
        let refusal = check("UPDATE USERS SET a = 1", &GuardPolicy::default()).unwrap_err();
        assert!(matches!(&refusal, Refusal::NotARead { statement, .. } if statement == "UPDATE"));
        let refusal = check("PREPARE P AS SELECT 1", &GuardPolicy::default()).unwrap_err();
        assert!(matches!(&refusal, Refusal::NotARead { statement, .. } if statement == "PREPARE"));
        let refusal = check("CREATE TABLE Users (a int)", &GuardPolicy::default()).unwrap_err();
        assert!(
            matches!(&refusal, Refusal::NotARead { statement, .. } if statement == "CREATE TABLE")
        );
    }

    #[test]
    fn postgres_statements_that_call_functions_need_the_catalog() {
        let checked = check("SELECT lower(name) FROM users", &GuardPolicy::default()).unwrap();
        assert_eq!(checked.catalog_questions().function_names(), vec!["lower"]);
        assert!(checked.clone().confirm(None).is_err());
        let plain = check("SELECT name FROM users", &GuardPolicy::default()).unwrap();
        assert!(plain.catalog_questions().is_empty());
        assert!(plain.confirm(None).is_ok());
    }
}

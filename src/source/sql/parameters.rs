//! The one value a statement may take from outside: the customer an evidence pack is about,
//! bound as a parameter and never pasted into the statement's text. This module reads which
//! placeholders a statement uses and says how many times the value is bound, or why the
//! statement cannot take it.

use super::guard::SqlDialectKind;
use sqlparser::ast::{Expr, Value, visit_expressions};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// Why a statement cannot take the bound value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    #[error(
        "the statement has no placeholder for the customer: write {placeholder} where the customer's id or email goes (without it the statement would read every customer's rows)"
    )]
    Missing { placeholder: &'static str },
    #[error(
        "the statement uses {found}; only {placeholder} (the customer) may be used: every placeholder stands for the same one value"
    )]
    Other {
        found: String,
        placeholder: &'static str,
    },
    #[error("the statement cannot be read to find its placeholders: {0}")]
    Unparseable(String),
}

/// The placeholder the documentation and messages name for a dialect.
pub fn placeholder(dialect: SqlDialectKind) -> &'static str {
    match dialect {
        SqlDialectKind::Postgres => "$1",
        SqlDialectKind::MySql => "?",
        SqlDialectKind::Sqlite => "?1",
    }
}

/// How many times the one value must be bound for `statement` to run: PostgreSQL's `$1` (and
/// SQLite's `?1`) once however often it appears; each `?` once per appearance.
pub fn bindings(statement: &str, dialect: SqlDialectKind) -> Result<usize, ParameterError> {
    let parser: Box<dyn Dialect> = match dialect {
        SqlDialectKind::Postgres => Box::new(PostgreSqlDialect {}),
        SqlDialectKind::MySql => Box::new(MySqlDialect {}),
        SqlDialectKind::Sqlite => Box::new(SQLiteDialect {}),
    };
    let statements = Parser::parse_sql(parser.as_ref(), statement)
        .map_err(|error| ParameterError::Unparseable(error.to_string()))?;
    let mut found: Vec<String> = Vec::new();
    let _ = visit_expressions(&statements, |expr| {
        if let Expr::Value(value) = expr
            && let Value::Placeholder(name) = &value.value
        {
            found.push(name.clone());
        }
        ControlFlow::<()>::Continue(())
    });
    let expected = placeholder(dialect);
    if found.is_empty() {
        return Err(ParameterError::Missing {
            placeholder: expected,
        });
    }
    let accepted: &[&str] = match dialect {
        SqlDialectKind::Postgres => &["$1"],
        SqlDialectKind::MySql => &["?"],
        SqlDialectKind::Sqlite => &["?1", "?"],
    };
    if let Some(other) = found.iter().find(|name| !accepted.contains(&name.as_str())) {
        return Err(ParameterError::Other {
            found: other.clone(),
            placeholder: expected,
        });
    }
    let numbered = found.iter().any(|name| name != "?");
    let anonymous = found.iter().any(|name| name == "?");
    if dialect == SqlDialectKind::Sqlite && numbered && anonymous {
        return Err(ParameterError::Other {
            found: "both ? and ?1".to_string(),
            placeholder: expected,
        });
    }
    Ok(match dialect {
        SqlDialectKind::Postgres => 1,
        SqlDialectKind::Sqlite if numbered => 1,
        _ => found.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_binds_dollar_one_once_however_often_it_appears() {
        let sql = "SELECT * FROM users WHERE id::text = $1 OR lower(email) = lower($1)";
        assert_eq!(bindings(sql, SqlDialectKind::Postgres), Ok(1));
    }

    #[test]
    fn mysql_binds_each_question_mark() {
        let sql = "SELECT * FROM users WHERE id = ? OR email = ?";
        assert_eq!(bindings(sql, SqlDialectKind::MySql), Ok(2));
    }

    #[test]
    fn sqlite_accepts_numbered_or_anonymous_but_not_both() {
        let numbered = "SELECT * FROM users WHERE id = ?1 OR email = ?1";
        assert_eq!(bindings(numbered, SqlDialectKind::Sqlite), Ok(1));
        let anonymous = "SELECT * FROM users WHERE id = ? OR email = ?";
        assert_eq!(bindings(anonymous, SqlDialectKind::Sqlite), Ok(2));
        let mixed = "SELECT * FROM users WHERE id = ?1 OR email = ?";
        assert!(matches!(
            bindings(mixed, SqlDialectKind::Sqlite),
            Err(ParameterError::Other { .. })
        ));
    }

    #[test]
    fn a_statement_without_the_customer_is_refused_as_reading_everyone() {
        let error = bindings("SELECT * FROM users", SqlDialectKind::Postgres).unwrap_err();
        assert_eq!(error, ParameterError::Missing { placeholder: "$1" });
        assert!(error.to_string().contains("every customer"));
    }

    #[test]
    fn a_second_parameter_is_refused() {
        let error = bindings(
            "SELECT * FROM users WHERE id = $1 AND tenant = $2",
            SqlDialectKind::Postgres,
        )
        .unwrap_err();
        assert!(error.to_string().contains("$2"), "{error}");
    }
}

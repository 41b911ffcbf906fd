//! Statements rewritten so the server itself bounds what it sends. A driver reads a whole row
//! message before Sentinel sees a single cell, so a 300 MB cell would be in memory before any
//! cap could refuse it. For a SELECT or VALUES, Sentinel first asks the server for the
//! statement's columns, then runs it inside a wrapper that keeps every column's name and the
//! row order, cuts each cell to one character past the byte cap (such a cell can never be
//! kept, so the result reports the byte cap rather than a shortened value) and stops after one
//! row past the row cap (so the row cap is reported and the server stops producing).

use super::caps::ResultCaps;
use sqlparser::ast::{Expr, LimitClause, Statement, Value};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

/// The alias of the wrapped statement inside the wrapper.
const INNER: &str = "sentinel_q";

/// A statement inside its bounding wrapper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BoundedStatement {
    /// The text to run.
    pub sql: String,
    /// How many characters of `sql` come before the original statement, so that a position the
    /// server reports can be given back in the statement's own terms.
    pub statement_offset: usize,
}

impl BoundedStatement {
    /// The statement run as it is (SHOW, EXPLAIN: small results the server formats itself).
    pub(crate) fn unchanged(statement: &str) -> Self {
        Self {
            sql: statement.to_string(),
            statement_offset: 0,
        }
    }
}

/// The most characters of one cell the server sends: one past the byte cap, so a cut cell is
/// over the cap by construction.
fn cell_chars(caps: ResultCaps) -> usize {
    caps.max_bytes.saturating_add(1).min(i32::MAX as usize)
}

/// The most rows the server sends: one past the row cap, so the cap is seen and reported.
fn row_limit(caps: ResultCaps) -> usize {
    caps.max_rows.saturating_add(1).min(i64::MAX as usize)
}

fn inner_columns(count: usize) -> String {
    (1..=count)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A PostgreSQL identifier, quoted.
fn pg_identifier(name: &str) -> String {
    let name = if name.is_empty() { "?column?" } else { name };
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A MySQL/MariaDB identifier, quoted.
fn mysql_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// PostgreSQL: `SELECT <each column as text, cut> FROM (<statement>) AS q(c1, ...) LIMIT n`.
/// `concat` renders a value with its type's output function, exactly as the simple-query
/// protocol would (`t` for true, not `true`); `num_nulls` keeps SQL NULL apart from an empty
/// string and from a row whose fields are all NULL. PostgreSQL keeps the subquery's order.
pub(crate) fn postgres(statement: &str, columns: &[String], caps: ResultCaps) -> BoundedStatement {
    let chars = cell_chars(caps);
    let prefix = if columns.is_empty() {
        "SELECT FROM (".to_string()
    } else {
        let cells = columns
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let cell = format!("{INNER}.c{}", i + 1);
                format!(
                    "CASE WHEN num_nulls({cell}) = 1 THEN NULL ELSE left(concat({cell}), {chars}) END AS {}",
                    pg_identifier(name)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("SELECT {cells} FROM (")
    };
    let alias = if columns.is_empty() {
        INNER.to_string()
    } else {
        format!("{INNER}({})", inner_columns(columns.len()))
    };
    BoundedStatement {
        statement_offset: prefix.chars().count(),
        sql: format!("{prefix}{statement}) AS {alias} LIMIT {}", row_limit(caps)),
    }
}

/// A column of a MySQL/MariaDB result: its name and whether its values are of bounded size
/// (numbers, dates and times), which pass through untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MySqlColumn {
    pub name: String,
    pub bounded: bool,
}

/// Whether values of a MySQL/MariaDB type (as sqlx names it) have a small fixed bound.
pub(crate) fn mysql_type_is_bounded(type_name: &str) -> bool {
    let base = type_name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        base.as_str(),
        "BOOLEAN"
            | "TINYINT"
            | "SMALLINT"
            | "MEDIUMINT"
            | "INT"
            | "BIGINT"
            | "FLOAT"
            | "DOUBLE"
            | "DECIMAL"
            | "DATE"
            | "TIME"
            | "DATETIME"
            | "TIMESTAMP"
            | "YEAR"
            | "BIT"
            | "NULL"
    )
}

/// MySQL/MariaDB: `WITH q(c1, ...) AS (<statement>) SELECT LEFT(c1, n) AS name, ... FROM q
/// LIMIT n`. MariaDB has no column list on a derived table, but has one on a common table
/// expression; it also drops an ORDER BY without LIMIT inside a derived table or CTE, so such
/// a statement gets `LIMIT <row cap + 1>` of its own first (which changes none of the rows
/// Sentinel reads).
pub(crate) fn mysql(
    statement: &str,
    columns: &[MySqlColumn],
    caps: ResultCaps,
) -> BoundedStatement {
    let chars = cell_chars(caps);
    let inner = mysql_keep_order(statement, row_limit(caps));
    let prefix = format!("WITH {INNER} ({}) AS (", inner_columns(columns.len()));
    let cells = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let cell = format!("{INNER}.c{}", i + 1);
            let value = if column.bounded {
                cell
            } else {
                format!("LEFT({cell}, {chars})")
            };
            format!("{value} AS {}", mysql_identifier(&column.name))
        })
        .collect::<Vec<_>>()
        .join(", ");
    BoundedStatement {
        statement_offset: prefix.chars().count(),
        sql: format!(
            "{prefix}{inner}) SELECT {cells} FROM {INNER} LIMIT {}",
            row_limit(caps)
        ),
    }
}

/// The statement with `LIMIT rows` added when it orders its rows without a limit of its own,
/// so the order survives being wrapped; otherwise the statement unchanged.
fn mysql_keep_order(statement: &str, rows: usize) -> String {
    let Ok(mut parsed) = Parser::parse_sql(&MySqlDialect {}, statement) else {
        return statement.to_string();
    };
    let [Statement::Query(query)] = parsed.as_mut_slice() else {
        return statement.to_string();
    };
    if query.order_by.is_none() || query.fetch.is_some() {
        return statement.to_string();
    }
    let limit = Expr::value(Value::Number(rows.to_string(), false));
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(limit),
                offset: None,
                limit_by: Vec::new(),
            });
        }
        Some(LimitClause::LimitOffset {
            limit: limit_slot @ None,
            ..
        }) => *limit_slot = Some(limit),
        Some(_) => return statement.to_string(),
    }
    query.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(max_rows: usize, max_bytes: usize) -> ResultCaps {
        ResultCaps {
            max_rows,
            max_bytes,
        }
    }

    #[test]
    fn postgres_wraps_every_column_keeping_its_name() {
        let bounded = postgres(
            "SELECT 1 AS a, 'x' AS \"we\"\"ird\"",
            &["a".to_string(), "we\"ird".to_string()],
            caps(10, 100),
        );
        assert_eq!(
            bounded.sql,
            "SELECT CASE WHEN num_nulls(sentinel_q.c1) = 1 THEN NULL ELSE left(concat(sentinel_q.c1), 101) END AS \"a\", \
             CASE WHEN num_nulls(sentinel_q.c2) = 1 THEN NULL ELSE left(concat(sentinel_q.c2), 101) END AS \"we\"\"ird\" \
             FROM (SELECT 1 AS a, 'x' AS \"we\"\"ird\") AS sentinel_q(c1, c2) LIMIT 11"
        );
        let start: String = bounded.sql.chars().skip(bounded.statement_offset).collect();
        assert!(start.starts_with("SELECT 1 AS a"), "{start}");
    }

    #[test]
    fn postgres_without_columns_still_limits_rows() {
        let bounded = postgres("SELECT FROM t", &[], caps(5, 100));
        assert_eq!(
            bounded.sql,
            "SELECT FROM (SELECT FROM t) AS sentinel_q LIMIT 6"
        );
    }

    #[test]
    fn huge_caps_do_not_overflow() {
        let bounded = postgres("SELECT 1", &["x".into()], caps(usize::MAX, usize::MAX));
        assert!(
            bounded.sql.contains(&format!("{})", i32::MAX)),
            "{}",
            bounded.sql
        );
        assert!(bounded.sql.ends_with(&format!("LIMIT {}", i64::MAX)));
    }

    #[test]
    fn mysql_cuts_only_unbounded_columns() {
        let bounded = mysql(
            "SELECT id, body FROM t",
            &[
                MySqlColumn {
                    name: "id".into(),
                    bounded: true,
                },
                MySqlColumn {
                    name: "bo`dy".into(),
                    bounded: false,
                },
            ],
            caps(3, 10),
        );
        assert_eq!(
            bounded.sql,
            "WITH sentinel_q (c1, c2) AS (SELECT id, body FROM t) SELECT sentinel_q.c1 AS `id`, LEFT(sentinel_q.c2, 11) AS `bo``dy` FROM sentinel_q LIMIT 4"
        );
    }

    #[test]
    fn mysql_ordered_statement_gets_a_limit_of_its_own() {
        assert_eq!(
            mysql_keep_order("SELECT v FROM t ORDER BY v", 1001),
            "SELECT v FROM t ORDER BY v LIMIT 1001"
        );
        assert_eq!(
            mysql_keep_order("SELECT v FROM t ORDER BY v LIMIT 5", 1001),
            "SELECT v FROM t ORDER BY v LIMIT 5"
        );
        assert_eq!(mysql_keep_order("SELECT v FROM t", 1001), "SELECT v FROM t");
        assert_eq!(
            mysql_keep_order("SELECT 1 UNION ALL SELECT 2 ORDER BY 1", 7),
            "SELECT 1 UNION ALL SELECT 2 ORDER BY 1 LIMIT 7"
        );
    }

    #[test]
    fn mysql_types_with_a_bound() {
        for bounded in ["INT", "BIGINT UNSIGNED", "DECIMAL", "DATETIME", "BOOLEAN"] {
            assert!(mysql_type_is_bounded(bounded), "{bounded}");
        }
        for unbounded in [
            "VARCHAR", "TEXT", "LONGBLOB", "JSON", "GEOMETRY", "ENUM", "",
        ] {
            assert!(!mysql_type_is_bounded(unbounded), "{unbounded}");
        }
    }
}

//! `explain {source, sql}`: the plan of one SELECT, never executed (EXPLAIN without ANALYZE),
//! through the statement guard. On PostgreSQL the plan is analysed as the slow-query watch
//! does (sequential scans of large tables, likely missing indexes); `$n` parameters, as
//! `pg_stat_statements` shows statements, are filled with literals. MySQL/MariaDB answer
//! `EXPLAIN`, SQLite `EXPLAIN QUERY PLAN`, as tables.

use super::ToolOutput;
use super::args::{Args, object_schema, pick_source, source_property};
use super::setup::Setup;
use super::sql_query::{database, worded};
use super::table;
use crate::llm::ToolDefinition;
use crate::source::registry::Sources;
use crate::source::sql::explain::DEFAULT_SEQ_SCAN_ROW_THRESHOLD;
use crate::source::sql::guard::SqlDialectKind;
use crate::source::sql::pg_stat::{self, EvidenceError};
use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::fmt::Write;

pub(super) const NAME: &str = "explain";

const MAX_SQL_CHARS: usize = 20_000;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.sql.is_empty() {
        return None;
    }
    let names = setup.sql_names();
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Show the query plan of one SELECT without running it (EXPLAIN, never ANALYZE). \
             On PostgreSQL the plan is also checked for large sequential scans and likely \
             missing indexes, and $1-style parameters are accepted. Give the SELECT without \
             the EXPLAIN keyword. Sources: {}.",
            setup.sql_described()
        ),
        input_schema: object_schema(
            serde_json::json!({
                "source": source_property(&names, "the database"),
                "sql": {"type": "string", "description": "one SELECT statement"},
            }),
            &["source", "sql"],
        ),
    })
}

/// `sql` if it is exactly one SELECT (or WITH ... SELECT, VALUES) in `dialect`.
pub(super) fn single_select(sql: &str, dialect: SqlDialectKind) -> Result<&str, String> {
    let parser: Box<dyn Dialect> = match dialect {
        SqlDialectKind::Postgres => Box::new(PostgreSqlDialect {}),
        SqlDialectKind::MySql => Box::new(MySqlDialect {}),
        SqlDialectKind::Sqlite => Box::new(SQLiteDialect {}),
    };
    let statements = Parser::parse_sql(parser.as_ref(), sql)
        .map_err(|error| format!("the statement could not be parsed: {error}"))?;
    match statements.as_slice() {
        [Statement::Query(_)] => Ok(sql.trim().trim_end_matches(';')),
        [Statement::Explain { .. }] => {
            Err("give the SELECT itself, without EXPLAIN: the tool adds it".to_string())
        }
        [_] => Err("only a SELECT can be explained here".to_string()),
        statements => Err(format!(
            "give exactly one SELECT, not {} statements",
            statements.len()
        )),
    }
}

pub(super) async fn run(setup: &Setup, sources: &Sources, input: &serde_json::Value) -> ToolOutput {
    let parsed = (|| {
        let args = Args::new(NAME, input, &["source", "sql"])?;
        let source = pick_source(
            NAME,
            "SQL",
            &setup.sql_names(),
            args.optional_text("source", 200)?,
        )?;
        Ok::<_, String>((source, args.text("sql", MAX_SQL_CHARS)?))
    })();
    let (name, sql) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let Some(dialect) = setup.dialect(name) else {
        return ToolOutput::failed(NAME, Some(name), sql, format!("{name} is not a SQL source"));
    };
    let select = match single_select(sql, dialect) {
        Ok(select) => select,
        Err(why) => return ToolOutput::failed(NAME, Some(name), sql, why),
    };
    let source = match database(sources, name, setup) {
        Ok(source) => source,
        Err(why) => return ToolOutput::failed(NAME, Some(name), sql, why),
    };
    if dialect == SqlDialectKind::Postgres {
        return match pg_stat::explain_select(source, select, DEFAULT_SEQ_SCAN_ROW_THRESHOLD).await {
            Ok(evidence) => {
                let mut text = format!(
                    "plan (estimates, the statement was not run):\n{}\n",
                    evidence.plan_text
                );
                if evidence.findings.is_empty() {
                    text.push_str("findings: none (no large sequential scan)\n");
                } else {
                    text.push_str("findings:\n");
                    for finding in &evidence.findings {
                        let _ = writeln!(text, "- {finding}");
                    }
                }
                ToolOutput::done(NAME, Some(name), evidence.explain_sql, text)
            }
            Err(EvidenceError::Query(error)) => {
                ToolOutput::failed(NAME, Some(name), sql, worded(name, &error))
            }
            Err(error) => ToolOutput::failed(NAME, Some(name), sql, error.to_string()),
        };
    }
    let explain_sql = match dialect {
        SqlDialectKind::Sqlite => format!("EXPLAIN QUERY PLAN {select}"),
        _ => format!("EXPLAIN {select}"),
    };
    match source.query(&explain_sql).await {
        Ok(result) => ToolOutput::done(
            NAME,
            Some(name),
            explain_sql,
            format!(
                "plan (the statement was not run):\n{}",
                table::render(&result)
            ),
        ),
        Err(error) => ToolOutput::failed(NAME, Some(name), explain_sql, worded(name, &error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_select_is_explained() {
        assert_eq!(
            single_select(
                "SELECT * FROM orders WHERE id = 1;",
                SqlDialectKind::Postgres
            ),
            Ok("SELECT * FROM orders WHERE id = 1")
        );
        assert!(
            single_select(
                "WITH x AS (SELECT 1) SELECT * FROM x",
                SqlDialectKind::MySql
            )
            .is_ok()
        );
        assert!(
            single_select("DELETE FROM orders", SqlDialectKind::Sqlite)
                .unwrap_err()
                .contains("only a SELECT")
        );
        assert!(
            single_select("SELECT 1; SELECT 2", SqlDialectKind::Postgres)
                .unwrap_err()
                .contains("not 2 statements")
        );
        assert!(
            single_select("EXPLAIN ANALYZE SELECT 1", SqlDialectKind::Postgres)
                .unwrap_err()
                .contains("without EXPLAIN")
        );
        assert!(
            single_select("SELEC 1", SqlDialectKind::Postgres)
                .unwrap_err()
                .contains("could not be parsed")
        );
    }
}

//! `describe_table {source, table}`: a table's columns (name, type, nullable), its indexes
//! (their definitions), and its estimated rows and size, read from the database's own catalog
//! through the statement guard like any other query. The table name is validated as a plain
//! identifier (`orders` or `schema.orders`) before it is placed in a catalog query as a
//! string literal, so it can never be anything but a name.

use super::ToolOutput;
use super::args::{Args, object_schema, pick_source, source_property};
use super::setup::Setup;
use super::sql_query::{database, worded};
use super::table;
use crate::llm::ToolDefinition;
use crate::source::registry::Sources;
use crate::source::sql::database::{QueryError, QueryResult, SqlSource};
use crate::source::sql::guard::SqlDialectKind;
use std::fmt::Write;

pub(super) const NAME: &str = "describe_table";

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.sql.is_empty() {
        return None;
    }
    let names = setup.sql_names();
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Describe a table of a configured database: its columns (name, type, nullable, \
             default), its indexes with their definitions, and its estimated row count and \
             size. Sources: {}.",
            setup.sql_described()
        ),
        input_schema: object_schema(
            serde_json::json!({
                "source": source_property(&names, "the database"),
                "table": {"type": "string", "description": "the table, as name or schema.name (MySQL: database.name)"},
            }),
            &["source", "table"],
        ),
    })
}

/// A table name: one or two plain identifiers (letters, digits, `_` and `$`, not starting
/// with a digit or `$`), at most 63 characters each.
pub(super) fn table_name(text: &str) -> Result<(Option<&str>, &str), String> {
    let plain = |part: &str| {
        let mut chars = part.chars();
        part.len() <= 63
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    let trimmed = text.trim();
    let parts: Vec<&str> = trimmed.split('.').collect();
    match parts.as_slice() {
        [table] if plain(table) => Ok((None, table)),
        [schema, table] if plain(schema) && plain(table) => Ok((Some(schema), table)),
        _ => Err(format!(
            "{text:?} is not a plain table name: give name or schema.name, letters, digits and _ \
             only (no quotes); list tables with sql_query if unsure of the name"
        )),
    }
}

pub(super) async fn run(setup: &Setup, sources: &Sources, input: &serde_json::Value) -> ToolOutput {
    let parsed = (|| {
        let args = Args::new(NAME, input, &["source", "table"])?;
        let source = pick_source(
            NAME,
            "SQL",
            &setup.sql_names(),
            args.optional_text("source", 200)?,
        )?;
        let table = table_name(args.text("table", 200)?)?;
        Ok::<_, String>((source, table))
    })();
    let (name, (schema, table)) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let shown = schema.map_or(table.to_string(), |s| format!("{s}.{table}"));
    let database = match database(sources, name, setup) {
        Ok(database) => database,
        Err(why) => return ToolOutput::failed(NAME, Some(name), shown, why),
    };
    let mut reader = Reader {
        source: database,
        queries: Vec::new(),
    };
    let described = match setup.dialect(name) {
        Some(SqlDialectKind::Postgres) => postgres(&mut reader, schema, table).await,
        Some(SqlDialectKind::MySql) => mysql(&mut reader, schema, table).await,
        Some(SqlDialectKind::Sqlite) => sqlite(&mut reader, schema, table).await,
        None => Err(format!("{name} is not a SQL source")),
    };
    let queries = reader.queries.join(";\n");
    match described {
        Ok(text) => ToolOutput::done(NAME, Some(name), queries, text),
        Err(why) => ToolOutput::failed(NAME, Some(name), queries, why),
    }
}

/// Runs catalog queries on one source and remembers each.
struct Reader<'a> {
    source: &'a SqlSource,
    queries: Vec<String>,
}

impl Reader<'_> {
    async fn read(&mut self, sql: String) -> Result<QueryResult, QueryError> {
        self.queries.push(sql.clone());
        self.source.query(&sql).await
    }

    /// [`Self::read`], with an error worded for the model.
    async fn must(&mut self, sql: String) -> Result<QueryResult, String> {
        let name = self.source.name().to_string();
        self.read(sql).await.map_err(|error| worded(&name, &error))
    }
}

/// `text` as a SQL string literal (single quotes doubled).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn cell(result: &QueryResult, row: usize, column: usize) -> Option<&str> {
    result.rows.get(row)?.get(column)?.as_deref()
}

async fn postgres(
    reader: &mut Reader<'_>,
    schema: Option<&str>,
    table: &str,
) -> Result<String, String> {
    let qualified = literal(&schema.map_or(table.to_string(), |s| format!("{s}.{table}")));
    let relation = reader
        .must(format!(
            "SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint, \
             pg_size_pretty(pg_total_relation_size(c.oid)) \
             FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE c.oid = to_regclass({qualified})"
        ))
        .await?;
    let (Some(found_schema), Some(found_table)) = (cell(&relation, 0, 0), cell(&relation, 0, 1))
    else {
        return Err(not_found(table, schema));
    };
    let (found_schema, found_table) = (found_schema.to_string(), found_table.to_string());
    let kind = match cell(&relation, 0, 2) {
        Some("r") => "table",
        Some("p") => "partitioned table",
        Some("v") => "view",
        Some("m") => "materialized view",
        Some("f") => "foreign table",
        _ => "relation",
    };
    let rows = match cell(&relation, 0, 3).and_then(|n| n.parse::<i64>().ok()) {
        Some(n) if n >= 0 => format!("about {n} rows (planner estimate)"),
        _ => "rows unknown (never analyzed)".to_string(),
    };
    let size = cell(&relation, 0, 4).unwrap_or("?").to_string();
    let columns = reader
        .must(format!(
            "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, \
             CASE WHEN a.attnotnull THEN 'not null' ELSE 'nullable' END AS nullable, \
             pg_get_expr(d.adbin, d.adrelid) AS default_value \
             FROM pg_attribute AS a LEFT JOIN pg_attrdef AS d \
             ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = to_regclass({qualified}) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum"
        ))
        .await?;
    let indexes = reader
        .must(format!(
            "SELECT indexname AS index, indexdef AS definition FROM pg_indexes \
             WHERE schemaname = {} AND tablename = {} ORDER BY indexname",
            literal(&found_schema),
            literal(&found_table)
        ))
        .await?;
    let mut out = format!(
        "{kind} {found_schema}.{found_table}: {rows}, {size} on disk with its indexes\n\ncolumns:\n"
    );
    out.push_str(&table::render(&columns));
    out.push_str("\nindexes:\n");
    out.push_str(&table::render(&indexes));
    Ok(out)
}

async fn mysql(
    reader: &mut Reader<'_>,
    schema: Option<&str>,
    table: &str,
) -> Result<String, String> {
    let database = schema.map_or("DATABASE()".to_string(), literal);
    let name = literal(table);
    let scope = format!("TABLE_SCHEMA = {database} AND TABLE_NAME = {name}");
    let relation = reader
        .must(format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, \
             DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES WHERE {scope}"
        ))
        .await?;
    let (Some(found_schema), Some(found_table)) = (cell(&relation, 0, 0), cell(&relation, 0, 1))
    else {
        return Err(not_found(table, schema));
    };
    let kind = cell(&relation, 0, 2).unwrap_or("table").to_lowercase();
    let engine = cell(&relation, 0, 3)
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    let rows = cell(&relation, 0, 4)
        .map(|n| format!("about {n} rows (estimate)"))
        .unwrap_or_else(|| "rows unknown".to_string());
    let size = cell(&relation, 0, 5)
        .and_then(|n| n.parse::<u64>().ok())
        .map_or("size unknown".to_string(), |bytes| {
            format!("{} on disk with its indexes", bytes_shown(bytes))
        });
    let mut out =
        format!("{kind} {found_schema}.{found_table}{engine}: {rows}, {size}\n\ncolumns:\n");
    let columns = reader
        .must(format!(
            "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, \
             CASE WHEN IS_NULLABLE = 'YES' THEN 'nullable' ELSE 'not null' END AS nullable, \
             COLUMN_DEFAULT AS default_value, COLUMN_KEY AS `key` \
             FROM information_schema.COLUMNS WHERE {scope} ORDER BY ORDINAL_POSITION"
        ))
        .await?;
    out.push_str(&table::render(&columns));
    let statistics = reader
        .must(format!(
            "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, INDEX_TYPE \
             FROM information_schema.STATISTICS WHERE {scope} ORDER BY INDEX_NAME, SEQ_IN_INDEX"
        ))
        .await?;
    out.push_str("\nindexes:\n");
    out.push_str(&mysql_indexes(&statistics));
    Ok(out)
}

/// One line per index from `information_schema.STATISTICS` rows (one row per column, in
/// order): `UNIQUE INDEX name (a, b) USING BTREE`.
fn mysql_indexes(statistics: &QueryResult) -> String {
    let mut indexes: Vec<(String, bool, Vec<String>, String)> = Vec::new();
    for row in &statistics.rows {
        let text = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let (name, column) = (text(0), text(2));
        match indexes.last_mut() {
            Some((last, _, columns, _)) if *last == name => columns.push(column),
            _ => indexes.push((name, text(1) == "0", vec![column], text(3))),
        }
    }
    if indexes.is_empty() {
        return "(none)\n".to_string();
    }
    let mut out = String::new();
    for (name, unique, columns, kind) in indexes {
        let _ = writeln!(
            out,
            "{}INDEX {name} ({}) USING {kind}",
            if unique { "UNIQUE " } else { "" },
            columns.join(", ")
        );
    }
    out
}

async fn sqlite(
    reader: &mut Reader<'_>,
    schema: Option<&str>,
    table: &str,
) -> Result<String, String> {
    if schema.is_some_and(|s| s != "main") {
        return Err(format!(
            "SQLite tables are named without a schema here: describe {table:?}"
        ));
    }
    let name = literal(table);
    let created = reader
        .must(format!(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = {name} \
             ORDER BY type DESC, name"
        ))
        .await?;
    if !created
        .rows
        .iter()
        .any(|row| matches!(row.first(), Some(Some(kind)) if kind == "table" || kind == "view"))
    {
        return Err(not_found(table, schema));
    }
    let mut out = String::new();
    let count = reader
        .must(format!("SELECT count(*) FROM \"{table}\""))
        .await?;
    let _ = writeln!(
        out,
        "table {table}: {} rows (counted); its size is not readable through the statement guard\n",
        cell(&count, 0, 0).unwrap_or("?")
    );
    let source = reader.source.name().to_string();
    out.push_str("columns:\n");
    match reader
        .read(format!(
            "SELECT name, type, CASE WHEN \"notnull\" THEN 'not null' ELSE 'nullable' END AS nullable, \
             dflt_value AS default_value, pk FROM pragma_table_info({name})"
        ))
        .await
    {
        Ok(columns) => out.push_str(&table::render(&columns)),
        Err(QueryError::Refused(refusal)) => {
            let _ = writeln!(
                out,
                "(pragma_table_info is refused by the statement guard of {source}: {refusal}; \
                 the columns are in the CREATE statement below)"
            );
        }
        Err(error) => return Err(worded(&source, &error)),
    }
    out.push_str("\nindexes and definitions (sqlite_master):\n");
    out.push_str(&table::render(&created));
    Ok(out)
}

fn not_found(table: &str, schema: Option<&str>) -> String {
    let name = schema.map_or(table.to_string(), |s| format!("{s}.{table}"));
    format!(
        "no table or view named {name} is visible to this source's role; list the tables with \
         sql_query (PostgreSQL: SELECT schemaname, tablename FROM pg_tables; MySQL: SHOW \
         TABLES; SQLite: SELECT name FROM sqlite_master WHERE type = 'table')"
    )
}

/// `123456789` -> `118 MB` (1024-based, one decimal under 10).
fn bytes_shown(bytes: u64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if value < 10.0 {
        format!("{value:.1} {}", units[unit])
    } else {
        format!("{value:.0} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        assert_eq!(table_name("orders"), Ok((None, "orders")));
        assert_eq!(
            table_name(" shop.Orders_2 "),
            Ok((Some("shop"), "Orders_2"))
        );
        for bad in [
            "orders; DROP TABLE users",
            "orders'--",
            "\"Orders\"",
            "a.b.c",
            "1orders",
            "",
            ".orders",
            "orders)",
            "pg_catalog.pg_class WHERE true",
        ] {
            assert!(
                table_name(bad)
                    .unwrap_err()
                    .contains("not a plain table name"),
                "{bad:?} taken"
            );
        }
        assert!(table_name(&"x".repeat(64)).is_err());
    }

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn mysql_index_rows_become_one_definition_each() {
        let row = |cells: [&str; 4]| cells.iter().map(|c| Some(c.to_string())).collect();
        let statistics = QueryResult {
            columns: vec![],
            rows: vec![
                row(["PRIMARY", "0", "id", "BTREE"]),
                row(["by_customer", "1", "customer_id", "BTREE"]),
                row(["by_customer", "1", "created_at", "BTREE"]),
            ],
            truncated: None,
        };
        assert_eq!(
            mysql_indexes(&statistics),
            "UNIQUE INDEX PRIMARY (id) USING BTREE\nINDEX by_customer (customer_id, created_at) USING BTREE\n"
        );
        let none = QueryResult {
            columns: vec![],
            rows: vec![],
            truncated: None,
        };
        assert_eq!(mysql_indexes(&none), "(none)\n");
    }

    #[test]
    fn sizes_are_worded() {
        assert_eq!(bytes_shown(512), "512 bytes");
        assert_eq!(bytes_shown(16_384), "16 kB");
        assert_eq!(bytes_shown(5 * 1024 * 1024 + 300_000), "5.3 MB");
    }
}

//! `sql_query {source, sql}`: one statement through the statement guard on a SQL source, the
//! path every watch's SQL takes (a single read, READ ONLY transaction, timeouts, row and byte
//! caps), as an aligned table.

use super::ToolOutput;
use super::args::{Args, object_schema, pick_source, source_property};
use super::setup::{Setup, listed};
use super::table;
use crate::llm::ToolDefinition;
use crate::source::registry::Sources;
use crate::source::sql::database::{QueryError, SqlSource};

pub(super) const NAME: &str = "sql_query";

/// The longest statement taken.
const MAX_SQL_CHARS: usize = 20_000;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.sql.is_empty() {
        return None;
    }
    let names = setup.sql_names();
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Run one read-only SQL statement (SELECT, WITH ... SELECT, SHOW, EXPLAIN without \
             ANALYZE) on a configured database and get the rows as a table. Writes, locks, \
             session changes and functions with side effects are refused before anything is \
             sent; results are capped in rows and bytes, so aggregate or LIMIT. Sources: {}.",
            setup.sql_described()
        ),
        input_schema: object_schema(
            serde_json::json!({
                "source": source_property(&names, "the database to read"),
                "sql": {"type": "string", "description": "one statement, in the database's own dialect"},
            }),
            &["source", "sql"],
        ),
    })
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
    let database = match database(sources, name, setup) {
        Ok(database) => database,
        Err(why) => return ToolOutput::failed(NAME, Some(name), sql, why),
    };
    match database.query(sql).await {
        Ok(result) => {
            ToolOutput::done(NAME, Some(name), sql, table::render(&result)).with_rows(result)
        }
        Err(error) => ToolOutput::failed(NAME, Some(name), sql, worded(name, &error)),
    }
}

/// The SQL source `name`.
pub(super) fn database<'s>(
    sources: &'s Sources,
    name: &str,
    setup: &Setup,
) -> Result<&'s SqlSource, String> {
    sources
        .database(name)
        .map_err(|error| format!("{error}; SQL sources: {}", listed(&setup.sql_names())))
}

/// Why a statement gave no rows, for the model: a refusal says nothing was sent.
pub(super) fn worded(source: &str, error: &QueryError) -> String {
    match error {
        QueryError::Refused(refusal) => format!(
            "nothing was sent to {source}: {refusal}. Only single reads, one statement at a \
             time, run here"
        ),
        QueryError::Source(error) => format!("{error}"),
    }
}

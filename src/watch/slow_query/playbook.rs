//! The slow-query playbook: the statement (its whole text from `pg_stat_statements`), its plan
//! through the same guarded EXPLAIN the watch uses (never ANALYZE), the sizes of the tables it
//! reads and their indexes, and what they say: a missing index (with the `CREATE INDEX
//! CONCURRENTLY` written out, never run), an index that exists but is not used or not valid, or
//! a plan that shows no scan to blame.

use crate::config::{SlowQuerySpec, WatchSpec};
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::source::sql::database::SqlSource;
use crate::source::sql::explain::Finding as PlanFinding;
use crate::source::sql::guard::SqlDialectKind;
use crate::source::sql::pg_stat;
use std::collections::BTreeSet;
use std::fmt::Write;

/// What the plan of the statement showed.
pub(crate) struct Plan<'a> {
    pub(crate) findings: &'a [PlanFinding],
    pub(crate) id: &'a str,
}

/// One index of a table the statement reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Index {
    /// The table, without its schema.
    pub(crate) table: String,
    pub(crate) name: String,
    /// The first key column (or expression), as PostgreSQL prints it.
    pub(crate) leading: String,
    /// False for an index a failed `CREATE INDEX CONCURRENTLY` left behind.
    pub(crate) valid: bool,
}

/// The table part of `schema.table`.
fn bare(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

/// An identifier as SQL needs it: bare when it is a plain lower-case name, quoted otherwise.
fn identifier(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    if plain && !name.is_empty() {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.table` (or `table`) with each part quoted as needed.
fn qualified(table: &str) -> String {
    table
        .split('.')
        .map(identifier)
        .collect::<Vec<_>>()
        .join(".")
}

/// The index that would serve the scan, written out for the operator to run.
pub(crate) fn create_index(table: &str, column: &str) -> String {
    let name: String = format!("{}_{}_idx", bare(table), column)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    format!(
        "CREATE INDEX CONCURRENTLY {} ON {} ({});",
        identifier(&name),
        qualified(table),
        identifier(column)
    )
}

/// A large scan filtering on a column no index serves.
#[derive(Clone, Copy)]
struct Missing<'a> {
    table: &'a str,
    column: &'a str,
    rows: u64,
    filter: &'a str,
    /// The index the scan walks whole, when it is not a sequential scan.
    whole_index: Option<&'a str>,
}

/// The missing index most worth creating: a column compared for equality first (the best
/// candidate), then any column a large scan filters on.
fn best_missing(findings: &[PlanFinding]) -> Option<Missing<'_>> {
    let missing = findings.iter().filter_map(|f| match f {
        PlanFinding::MissingIndex {
            table,
            column,
            estimated_rows,
            filter,
            whole_index,
        } => Some(Missing {
            table,
            column,
            rows: *estimated_rows,
            filter,
            whole_index: whole_index.as_deref(),
        }),
        PlanFinding::SeqScan { .. } => None,
    });
    let all: Vec<_> = missing.collect();
    all.iter()
        .find(|m| m.filter.contains(&format!("{} = ", m.column)))
        .or(all.first())
        .copied()
}

/// Judges the plan and the indexes. Pure: the playbook reads, this reasons.
pub(crate) fn judge(
    finding: &mut Finding,
    description: &str,
    statement: Option<(&str, &str)>,
    plan: Result<Plan<'_>, &str>,
    indexes: Option<(&[Index], &str)>,
) {
    let Some((text, statement_id)) = statement else {
        finding.summary = format!(
            "{description}: the statement is no longer in pg_stat_statements and the page did not keep its whole text, so its plan cannot be read."
        );
        finding.verdict = Verdict::Inconclusive;
        finding.confidence = Confidence::LOW;
        finding.steps.push(Step::run(
            "Find the slowest statements now",
            "SELECT queryid, calls, mean_exec_time, left(query, 200) FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT 10;",
        ));
        return;
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(error) => {
            finding.summary = format!(
                "{description}: a statement got slow; its plan could not be read ({error})."
            );
            finding.hypotheses.push(Hypothesis::guessed(
                "A missing index, a grown table or waiting on locks: the plan would tell which.",
                &[statement_id],
            ));
            finding.verdict = Verdict::Inconclusive;
            finding.confidence = Confidence::LOW;
            finding.steps.push(Step::run(
                "Read the plan by hand (with literal values in place of $1, $2, ...)",
                format!("EXPLAIN {text}"),
            ));
            return;
        }
    };
    let index_ids: Vec<&str> = [Some(plan.id), indexes.map(|(_, id)| id)]
        .into_iter()
        .flatten()
        .collect();
    if let Some(Missing {
        table,
        column,
        rows,
        filter,
        whole_index,
    }) = best_missing(plan.findings)
    {
        let existing: Vec<&Index> = indexes
            .map(|(list, _)| list)
            .unwrap_or_default()
            .iter()
            .filter(|index| index.table == bare(table) && index.leading == column)
            .collect();
        match existing.as_slice() {
            [] => {
                finding.summary = format!(
                    "{description}: missing index on {table}({column}) — the plan reads all ~{rows} rows of {table} to filter on {column}."
                );
                let how = match whole_index {
                    None => "sequentially".to_string(),
                    Some(index) => format!("through the whole index {index}"),
                };
                finding.hypotheses.push(Hypothesis::known(
                    format!("The plan scans ~{rows} rows of {table} {how}, filtered by {filter}."),
                    &[plan.id],
                ));
                match indexes {
                    Some((_, id)) => {
                        finding.hypotheses.push(Hypothesis::known(
                            format!("No index of {table} starts with {column}."),
                            &[id],
                        ));
                        finding.hypotheses.push(Hypothesis::discarded(
                            format!(
                                "An index on {table}({column}) exists and the planner ignores it."
                            ),
                            &[id],
                        ));
                        finding.confidence = Confidence::HIGH;
                    }
                    None => {
                        finding.hypotheses.push(Hypothesis::guessed(
                            format!("No index of {table} starts with {column} (the indexes could not be read)."),
                            &[plan.id],
                        ));
                        finding.confidence = Confidence::MEDIUM;
                    }
                }
                finding.verdict = Verdict::ActionNeeded;
                finding.classification = Classification::OpsOrConfig;
                finding.steps.push(Step::run(
                    format!(
                        "Create the index on {table}({column}). CONCURRENTLY builds it without blocking writes; run it by hand, outside a transaction, and expect it to take a while on ~{rows} rows"
                    ),
                    create_index(table, column),
                ));
                finding.steps.push(Step::run(
                    "Then check that the plan uses it (with a literal in place of each $n)",
                    format!("EXPLAIN {text}"),
                ));
            }
            found => {
                let names: Vec<&str> = found.iter().map(|i| i.name.as_str()).collect();
                let invalid: Vec<&&Index> = found.iter().filter(|i| !i.valid).collect();
                let indexes_id = indexes.map_or(plan.id, |(_, id)| id);
                finding.hypotheses.push(Hypothesis::known(
                    format!(
                        "The plan scans ~{rows} rows of {table} although {} starts with {column}.",
                        names.join(", ")
                    ),
                    &index_ids,
                ));
                finding.hypotheses.push(Hypothesis::discarded(
                    format!("{table} has no index on {column}."),
                    &[indexes_id],
                ));
                finding.verdict = Verdict::ActionSuggested;
                finding.classification = Classification::OpsOrConfig;
                finding.confidence = Confidence::MEDIUM;
                if let Some(broken) = invalid.first() {
                    finding.summary = format!(
                        "{description}: the index {} on {table}({column}) is INVALID (a failed concurrent build), so the plan reads all ~{rows} rows.",
                        broken.name
                    );
                    finding.hypotheses.push(Hypothesis::known(
                        format!(
                            "The index {} is marked invalid: the planner cannot use it.",
                            broken.name
                        ),
                        &[indexes_id],
                    ));
                    finding.verdict = Verdict::ActionNeeded;
                    finding.confidence = Confidence::HIGH;
                    finding.steps.push(Step::run(
                        "Rebuild the invalid index by hand without blocking writes",
                        format!("REINDEX INDEX CONCURRENTLY {};", identifier(&broken.name)),
                    ));
                } else {
                    finding.summary = format!(
                        "{description}: {table} has an index on {column} ({}) but the plan reads all ~{rows} rows: the planner's statistics or the compared types keep it from the index.",
                        names.join(", ")
                    );
                    finding.hypotheses.push(Hypothesis::guessed(
                        "The table's statistics are stale, or the value compared has another type than the column, so the index does not apply.",
                        &[plan.id],
                    ));
                    finding.steps.push(Step::run(
                        "Refresh the planner's statistics of the table",
                        format!("ANALYZE {};", qualified(table)),
                    ));
                }
            }
        }
        return;
    }
    if let Some(PlanFinding::SeqScan {
        table,
        estimated_rows,
    }) = plan.findings.first()
    {
        finding.summary = format!(
            "{description}: the plan reads all ~{estimated_rows} rows of {table} with no filter an index could serve."
        );
        finding.hypotheses.push(Hypothesis::known(
            format!("The plan scans ~{estimated_rows} rows of {table} without a usable filter."),
            &[plan.id],
        ));
        finding.hypotheses.push(Hypothesis::guessed(
            format!("{table} grew: the statement reads more of it than it used to."),
            &index_ids,
        ));
        finding.verdict = Verdict::ActionSuggested;
        finding.classification = Classification::OpsOrConfig;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(Step::say(format!(
            "Give the statement a condition an index can serve, or a LIMIT, if it does not need all of {table}."
        )));
        return;
    }
    finding.summary =
        format!("{description}: a statement got slow, but its plan shows no large scan to blame.");
    finding.hypotheses.push(Hypothesis::discarded(
        "A missing index (the plan uses indexes or reads small tables).",
        &[plan.id],
    ));
    finding.hypotheses.push(Hypothesis::guessed(
        "It waits on locks, the server is short of CPU or I/O, or some parameter values hit far more rows than others.",
        &[statement_id],
    ));
    finding.verdict = Verdict::Inconclusive;
    finding.classification = Classification::Unknown;
    finding.confidence = Confidence::LOW;
    finding.steps.push(Step::run(
        "See whether statements wait on locks now",
        "SELECT pid, wait_event_type, wait_event, now() - query_start AS running, left(query, 120) FROM pg_stat_activity WHERE state <> 'idle' ORDER BY query_start;",
    ));
}

/// `'a', 'b'` for an `IN (...)` list.
fn literals(names: &BTreeSet<String>) -> String {
    names
        .iter()
        .map(|name| format!("'{}'", name.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Table statistics and indexes of `tables` through the guarded path; each read is evidence,
/// each failure a gap.
async fn read_tables(
    finding: &mut Finding,
    database: &SqlSource,
    source: &str,
    tables: &BTreeSet<String>,
    ctx: &PlaybookContext<'_>,
) -> Option<(Vec<Index>, String)> {
    let list = literals(tables);
    if database.dialect() == SqlDialectKind::Sqlite {
        return read_sqlite_indexes(finding, database, source, &list, ctx).await;
    }
    let sizes = format!(
        "SELECT schemaname, relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)), \
         seq_scan, idx_scan, greatest(last_analyze, last_autoanalyze) \
         FROM pg_stat_user_tables WHERE relname IN ({list}) ORDER BY 1, 2"
    );
    match database.query(&sizes).await {
        Ok(result) => {
            let mut text = String::from(
                "schema.table: live rows, total size, seq scans, index scans, last analyzed\n",
            );
            for row in &result.rows {
                let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_else(|| "-".into());
                let _ = writeln!(
                    text,
                    "{}.{}: {} rows, {}, {} seq, {} idx, analyzed {}",
                    cell(0),
                    cell(1),
                    cell(2),
                    cell(3),
                    cell(4),
                    cell(5),
                    cell(6)
                );
            }
            finding
                .evidence
                .add("sql", Some(source), sizes, &text, ctx.now);
        }
        Err(error) => finding
            .gaps
            .push(format!("the table sizes could not be read: {error}")),
    }
    let indexes = format!(
        "SELECT n.nspname, t.relname, i.relname, pg_get_indexdef(x.indexrelid, 1, true), \
         x.indisvalid, pg_get_indexdef(x.indexrelid) \
         FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid \
         JOIN pg_class AS t ON t.oid = x.indrelid JOIN pg_namespace AS n ON n.oid = t.relnamespace \
         WHERE t.relname IN ({list}) ORDER BY 1, 2, 3"
    );
    match database.query(&indexes).await {
        Ok(result) => {
            let mut found = Vec::new();
            let mut text = String::new();
            for row in &result.rows {
                let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                let valid = cell(4) == "t" || cell(4) == "true";
                let _ = writeln!(
                    text,
                    "{}{}",
                    cell(5),
                    if valid { "" } else { " -- INVALID" }
                );
                found.push(Index {
                    table: cell(1),
                    name: cell(2),
                    leading: cell(3),
                    valid,
                });
            }
            if found.is_empty() {
                text.push_str("no indexes");
            }
            let id = finding
                .evidence
                .add("sql", Some(source), indexes, &text, ctx.now);
            Some((found, id))
        }
        Err(error) => {
            finding
                .gaps
                .push(format!("the indexes could not be read: {error}"));
            None
        }
    }
}

/// SQLite keeps no table statistics (the plan gave the sizes); its indexes are in
/// `sqlite_master`, each with the statement that made it.
async fn read_sqlite_indexes(
    finding: &mut Finding,
    database: &SqlSource,
    source: &str,
    list: &str,
    ctx: &PlaybookContext<'_>,
) -> Option<(Vec<Index>, String)> {
    let indexes = format!(
        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({list}) ORDER BY 1, 2"
    );
    match database.query(&indexes).await {
        Ok(result) => {
            let mut found = Vec::new();
            let mut text = String::new();
            for row in &result.rows {
                let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                let definition = cell(2);
                // An index SQLite made for a constraint has no statement.
                let shown = if definition.is_empty() {
                    format!("{} (made for a constraint)", cell(1))
                } else {
                    definition.clone()
                };
                let _ = writeln!(text, "{shown}");
                found.push(Index {
                    table: cell(0),
                    name: cell(1),
                    leading: sqlite_leading_column(&definition),
                    valid: true,
                });
            }
            if found.is_empty() {
                text.push_str("no indexes");
            }
            let id = finding
                .evidence
                .add("sql", Some(source), indexes, &text, ctx.now);
            Some((found, id))
        }
        Err(error) => {
            finding
                .gaps
                .push(format!("the indexes could not be read: {error}"));
            None
        }
    }
}

/// The first column of `CREATE INDEX name ON table (column, ...)`, unquoted.
fn sqlite_leading_column(definition: &str) -> String {
    let Some(open) = definition.find('(') else {
        return String::new();
    };
    definition[open + 1..]
        .split([',', ')'])
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches(['"', '`', '[', ']'])
        .to_string()
}

/// The statement's id from the alert's subject, `query <queryid>`.
fn queryid(subject: &str) -> Option<i64> {
    subject.strip_prefix("query ")?.trim().parse().ok()
}

/// Reads the statement, its plan, its tables and their indexes, then judges them.
pub(crate) async fn run(
    spec: &WatchSpec,
    slow_query: &SlowQuerySpec,
    ctx: &PlaybookContext<'_>,
) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let source = slow_query.source.as_str();
    let database = ctx.sources.database(source).ok();
    // The whole text from pg_stat_statements; the page keeps only its first 300 characters.
    let mut statement: Option<(String, String)> = None;
    let postgres = database.filter(|d| d.dialect() == SqlDialectKind::Postgres);
    if let (Some(database), Some(id)) = (postgres, queryid(&alert.subject)) {
        let sql = format!("SELECT query FROM pg_stat_statements WHERE queryid = {id} LIMIT 1");
        match pg_stat::query_text(database, id, None, None).await {
            Ok(Some(text)) => {
                let evidence = finding
                    .evidence
                    .add("sql", Some(source), sql, &text, ctx.now);
                statement = Some((text, evidence));
            }
            Ok(None) => {
                finding.evidence.add(
                    "sql",
                    Some(source),
                    sql,
                    "no row: the statement left pg_stat_statements",
                    ctx.now,
                );
            }
            Err(error) => finding
                .gaps
                .push(format!("the statement's text could not be read: {error}")),
        }
    }
    if statement.is_none()
        && let Some(text) = alert
            .facts
            .iter()
            .find_map(|fact| fact.strip_prefix("query: "))
            .filter(|text| !text.ends_with('…'))
    {
        let id = finding.evidence.add(
            "store",
            None,
            format!("the statement as the page of watch {} kept it", spec.name),
            text,
            ctx.now,
        );
        statement = Some((text.to_string(), id));
    }
    let Some((text, statement_id)) = statement else {
        judge(
            &mut finding,
            &spec.description,
            None,
            Err("no statement"),
            None,
        );
        return finding;
    };
    let plan = match ctx.sources.statements(source) {
        Ok(statistics) => statistics.explain(&text, ctx.now).await,
        Err(error) => Err(error.to_string()),
    };
    let (plan_id, plan) = match plan {
        Ok(plan) => {
            let mut excerpt = plan.plan_text.clone();
            for found in &plan.findings {
                let _ = writeln!(excerpt, "finding: {found}");
            }
            // Sizes are keyed both by `schema.table` and by the bare name the search path
            // finds; the qualified ones say it all when there are any.
            let qualified_only = plan.table_rows.keys().any(|t| t.contains('.'));
            let mut sizes: Vec<_> = plan
                .table_rows
                .iter()
                .filter(|(table, _)| !qualified_only || table.contains('.'))
                .collect();
            sizes.sort();
            for (table, rows) in sizes {
                let _ = writeln!(excerpt, "table {table}: ~{rows} rows");
            }
            let id = finding.evidence.add(
                "explain",
                Some(source),
                plan.explain_sql.clone(),
                &excerpt,
                ctx.now,
            );
            (id, Ok(plan))
        }
        Err(error) => {
            finding
                .gaps
                .push(format!("the plan could not be read: {error}"));
            (String::new(), Err(error))
        }
    };
    let indexes = match (&plan, database) {
        (Ok(plan), Some(database)) => {
            let tables: BTreeSet<String> = plan
                .table_rows
                .keys()
                .map(|table| bare(table).to_string())
                .chain(plan.findings.iter().map(|f| match f {
                    PlanFinding::MissingIndex { table, .. }
                    | PlanFinding::SeqScan { table, .. } => bare(table).to_string(),
                }))
                .collect();
            if tables.is_empty() {
                None
            } else {
                read_tables(&mut finding, database, source, &tables, ctx).await
            }
        }
        (Ok(_), None) => {
            finding.gaps.push(format!(
                "{source} answers statement statistics but not SQL, so the tables' indexes were not read."
            ));
            None
        }
        (Err(_), _) => None,
    };
    judge(
        &mut finding,
        &spec.description,
        Some((&text, &statement_id)),
        match &plan {
            Ok(plan) => Ok(Plan {
                findings: &plan.findings,
                id: &plan_id,
            }),
            Err(error) => Err(error.as_str()),
        },
        indexes
            .as_ref()
            .map(|(list, id)| (list.as_slice(), id.as_str())),
    );
    finding
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_leading_column_of_a_sqlite_index_is_read_from_its_statement() {
        assert_eq!(
            super::sqlite_leading_column("CREATE INDEX o_e ON orders (customer_email, created_at)"),
            "customer_email"
        );
        assert_eq!(
            super::sqlite_leading_column("CREATE INDEX \"o\" ON \"orders\"(\"email\" DESC)"),
            "email"
        );
        assert_eq!(super::sqlite_leading_column(""), "");
    }
    use super::*;
    use crate::investigate::finding::Basis;

    const STATEMENT: &str = "SELECT id FROM orders WHERE customer_email = $1";

    fn missing(table: &str, column: &str) -> PlanFinding {
        PlanFinding::MissingIndex {
            table: table.into(),
            column: column.into(),
            estimated_rows: 200_000,
            filter: "((created_at > '2000-01-01') AND (customer_email = '1'::text))".into(),
            whole_index: None,
        }
    }

    fn index(name: &str, leading: &str, valid: bool) -> Index {
        Index {
            table: "orders".into(),
            name: name.into(),
            leading: leading.into(),
            valid,
        }
    }

    fn judged(plan: Result<&[PlanFinding], &str>, indexes: Option<&[Index]>) -> Finding {
        let mut finding = Finding::open("");
        let now = chrono::Utc::now();
        let statement = finding.evidence.add("sql", None, "text", STATEMENT, now);
        let plan_id = finding.evidence.add("explain", None, "EXPLAIN", "..", now);
        let indexes_id = indexes.map(|_| finding.evidence.add("sql", None, "indexes", "..", now));
        judge(
            &mut finding,
            "Shop database",
            Some((STATEMENT, &statement)),
            plan.map(|findings| Plan {
                findings,
                id: &plan_id,
            }),
            indexes.zip(indexes_id.as_deref()),
        );
        finding.settle();
        finding
    }

    #[test]
    fn a_scan_with_no_index_on_its_column_names_the_table_column_and_the_index_to_create() {
        let plan = [
            missing("orders", "created_at"),
            missing("orders", "customer_email"),
        ];
        let finding = judged(Ok(&plan), Some(&[index("orders_pkey", "id", true)]));
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.classification, Classification::OpsOrConfig);
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(
            finding
                .summary
                .contains("missing index on orders(customer_email)"),
            "{}",
            finding.summary
        );
        assert!(finding.steps.iter().any(|s| s.command.as_deref()
            == Some(
                "CREATE INDEX CONCURRENTLY orders_customer_email_idx ON orders (customer_email);"
            )));
        assert!(finding.hypotheses.iter().any(|h| !h.kept));
    }

    #[test]
    fn an_index_walked_whole_to_filter_on_a_column_is_that_column_s_missing_index() {
        let walk = PlanFinding::MissingIndex {
            table: "orders".into(),
            column: "customer_email".into(),
            estimated_rows: 200_000,
            filter: "(customer_email = '1'::text)".into(),
            whole_index: Some("orders_created_at_idx".into()),
        };
        let finding = judged(
            Ok(&[walk]),
            Some(&[index("orders_created_at_idx", "created_at", true)]),
        );
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(
            finding
                .summary
                .contains("missing index on orders(customer_email)"),
            "{}",
            finding.summary
        );
        assert!(
            finding.hypotheses.iter().any(|h| h
                .statement
                .contains("through the whole index orders_created_at_idx")),
            "{:?}",
            finding.hypotheses
        );
    }

    #[test]
    fn without_the_indexes_the_missing_index_is_likely_but_not_certain() {
        let finding = judged(Ok(&[missing("orders", "customer_email")]), None);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.confidence, Confidence::MEDIUM);
        assert!(finding.hypotheses.iter().any(|h| h.basis == Basis::Guessed));
    }

    #[test]
    fn an_invalid_index_on_the_column_is_rebuilt_not_created_again() {
        let indexes = [index("orders_email_idx", "customer_email", false)];
        let finding = judged(Ok(&[missing("orders", "customer_email")]), Some(&indexes));
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(finding.summary.contains("INVALID"), "{}", finding.summary);
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.command.as_deref()
                    == Some("REINDEX INDEX CONCURRENTLY orders_email_idx;"))
        );
        assert!(!finding.steps.iter().any(|s| {
            s.command
                .as_deref()
                .is_some_and(|c| c.starts_with("CREATE INDEX"))
        }));
    }

    #[test]
    fn a_valid_index_the_plan_ignores_points_at_statistics() {
        let indexes = [index("orders_email_idx", "customer_email", true)];
        let finding = judged(
            Ok(&[missing("public.orders", "customer_email")]),
            Some(&indexes),
        );
        assert_eq!(finding.verdict, Verdict::ActionSuggested);
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.command.as_deref() == Some("ANALYZE public.orders;"))
        );
    }

    #[test]
    fn a_plan_without_a_large_scan_rules_out_an_index_and_stays_inconclusive() {
        let finding = judged(Ok(&[]), Some(&[]));
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert_eq!(finding.confidence, Confidence::LOW);
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.starts_with("A missing index"))
        );
    }

    #[test]
    fn no_plan_or_no_statement_is_inconclusive() {
        let finding = judged(Err("permission denied for table orders"), None);
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert!(
            finding.summary.contains("permission denied"),
            "{}",
            finding.summary
        );
        let mut nothing = Finding::open("");
        judge(
            &mut nothing,
            "Shop database",
            None,
            Err("no statement"),
            None,
        );
        nothing.settle();
        assert_eq!(nothing.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn identifiers_are_quoted_only_when_they_need_it() {
        assert_eq!(
            create_index("Sales.Orders", "Customer Email"),
            "CREATE INDEX CONCURRENTLY orders_customer_email_idx ON \"Sales\".\"Orders\" (\"Customer Email\");"
        );
        assert_eq!(queryid("query -42"), Some(-42));
        assert_eq!(queryid("query x"), None);
    }
}

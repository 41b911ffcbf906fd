//! PostgreSQL statement statistics (`pg_stat_statements`) and plan evidence for slow
//! statements, read through [`SqlSource::query`] like every other read: each statement passes
//! the guard and runs in a READ ONLY transaction.
//!
//! [`read_snapshot`] reads the counters of the current database into a
//! [`Snapshot`] for the slow-query core. [`explain_statement`] explains a statement without
//! running it: `EXPLAIN (FORMAT JSON)`, never ANALYZE. `pg_stat_statements` replaces constants
//! with parameters (`$1`, `$2`, ...), which a plain EXPLAIN cannot plan. PostgreSQL 16+ plans
//! them as they are with `EXPLAIN (GENERIC_PLAN)`. Before 16 each parameter is replaced by a
//! quoted literal of unknown type (`'1'`, `'2'`, ...), which PostgreSQL casts to whatever the
//! context needs, so a comparison keeps its shape (`customer_email = '1'::text`) and its
//! selectivity (one value, not NULL, which the planner would fold away). When a literal does
//! not fit the parameter's type (`'2'` as a boolean or a timestamp), the error names the type
//! and the value; the value tells which parameter it was, and a sample literal of that type
//! takes its place.

use super::database::{QueryError, QueryResult, SqlSource};
use super::explain::{self, ExplainConfig, Finding};
use super::statement_stats::{Snapshot, StatementStat};
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sqlparser::ast::{Expr, Statement, Value, visit_expressions_mut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

/// What an operator must do when the statistics are unavailable.
pub const PG_STAT_STATEMENTS_MISSING: &str = "pg_stat_statements is not installed: add \
     shared_preload_libraries = 'pg_stat_statements' and CREATE EXTENSION pg_stat_statements";

/// Longest statement text kept in a snapshot. [`query_text`] fetches the whole text.
pub const SNAPSHOT_QUERY_CHARS: usize = 4_096;

/// Reads `pg_stat_statements` for the database `source` is connected to.
///
/// Rows come most expensive first, so if the source's result caps cut the read short, the
/// statements that cost the most are the ones kept. Rows whose text the role may not see
/// (no `pg_read_all_stats`) are skipped.
pub async fn read_snapshot(source: &SqlSource) -> Result<Snapshot, QueryError> {
    let server = probe(source).await?;
    let time_column = if server.version_num >= 130_000 {
        "total_exec_time"
    } else {
        "total_time"
    };
    // pg_stat_statements_info (extension 1.9, PostgreSQL 14) records the last full reset.
    let (reset_column, reset_join) = if server.has_info_view() {
        (
            "extract(epoch FROM i.stats_reset)",
            " CROSS JOIN pg_stat_statements_info AS i",
        )
    } else {
        ("NULL", "")
    };
    let sql = format!(
        "SELECT s.queryid, s.dbid, s.userid, left(s.query, {SNAPSHOT_QUERY_CHARS}), s.calls, \
         s.{time_column}, s.rows, {reset_column} \
         FROM pg_stat_statements AS s{reset_join} \
         WHERE s.queryid IS NOT NULL \
         AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         ORDER BY s.{time_column} DESC"
    );
    let result = source
        .query(&sql)
        .await
        .map_err(|error| explain_missing_extension(source, error))?;
    let taken_at = Utc::now();
    let mut statements = Vec::with_capacity(result.rows.len());
    let mut stats_reset = None;
    for row in &result.rows {
        let cell = |index: usize| row.get(index).and_then(Option::as_deref);
        if stats_reset.is_none() {
            stats_reset = cell(7).and_then(parse_epoch);
        }
        let parsed = (|| {
            Some(StatementStat {
                queryid: cell(0)?.parse().ok()?,
                dbid: cell(1).and_then(|v| v.parse().ok()),
                userid: cell(2).and_then(|v| v.parse().ok()),
                query: cell(3)?.to_string(),
                calls: cell(4)?.parse().ok()?,
                total_exec_time_ms: cell(5)?.parse().ok().filter(|v: &f64| v.is_finite())?,
                rows: cell(6).and_then(|v| v.parse().ok()).unwrap_or(0),
            })
        })();
        match parsed {
            Some(stat) if stat.query != "<insufficient privilege>" => statements.push(stat),
            Some(_) => {}
            None => {
                return Err(QueryError::Source(SourceError::new(
                    source.name(),
                    SourceErrorKind::BadResponse,
                    format!("unexpected pg_stat_statements row: {row:?}"),
                )));
            }
        }
    }
    Ok(Snapshot {
        taken_at,
        stats_reset,
        statements,
    })
}

/// The whole text of one statement, or `None` if it is no longer in `pg_stat_statements`.
pub async fn query_text(
    source: &SqlSource,
    queryid: i64,
    dbid: Option<i64>,
    userid: Option<i64>,
) -> Result<Option<String>, QueryError> {
    let mut sql = format!("SELECT query FROM pg_stat_statements WHERE queryid = {queryid}");
    if let Some(dbid) = dbid {
        sql.push_str(&format!(" AND dbid = {dbid}"));
    }
    if let Some(userid) = userid {
        sql.push_str(&format!(" AND userid = {userid}"));
    }
    sql.push_str(" LIMIT 1");
    let result = source
        .query(&sql)
        .await
        .map_err(|error| explain_missing_extension(source, error))?;
    Ok(first_cell(&result).map(str::to_string))
}

/// What EXPLAIN says about a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEvidence {
    /// The EXPLAIN statement that was run.
    pub explain_sql: String,
    /// PostgreSQL's `EXPLAIN (FORMAT JSON)` output.
    pub plan_json: String,
    /// The plan as indented lines, one per node, for a message.
    pub plan_text: String,
    /// Table sizes (`pg_class.reltuples`) used for the analysis, by table name.
    pub table_rows: HashMap<String, u64>,
    /// What [`explain::analyze_plan_json`] found, e.g. a missing index.
    pub findings: Vec<Finding>,
}

/// Why no plan evidence could be gathered.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("only a single SELECT can be explained read-only; this statement is {0}")]
    NotASelect(String),
    #[error("the statement could not be parsed: {0}")]
    Unparseable(String),
    #[error("no literal fits parameter {parameter} (type {type_name}); the plan is unknown")]
    UnplannableParameter {
        parameter: String,
        type_name: String,
    },
    #[error(transparent)]
    Plan(#[from] explain::ExplainError),
}

/// Explains `query` (as `pg_stat_statements` shows it, with `$n` parameters) without running
/// it and analyses the plan. `seq_scan_row_threshold` is passed to the analysis; table sizes
/// are read from `pg_class`.
pub async fn explain_statement(
    source: &SqlSource,
    query: &str,
    seq_scan_row_threshold: u64,
) -> Result<PlanEvidence, EvidenceError> {
    let template = ParameterizedQuery::parse(query)?;
    let server = probe(source).await?;
    let (explain_sql, plan_json) = if template.parameters.is_empty() {
        let sql = format!("EXPLAIN (FORMAT JSON) {}", template.render(&HashMap::new()));
        let plan = run_explain(source, &sql).await?;
        (sql, plan)
    } else if server.version_num >= 160_000 {
        let sql = format!(
            "EXPLAIN (GENERIC_PLAN, FORMAT JSON) {}",
            template.render(&HashMap::new())
        );
        let plan = run_explain(source, &sql).await?;
        (sql, plan)
    } else {
        explain_with_literals(source, &template).await?
    };

    let relations = plan_relations(&plan_json)?;
    let table_rows = table_sizes(source, &relations).await?;
    evidence_from_plan(explain_sql, plan_json, table_rows, seq_scan_row_threshold)
}

/// Explains one SELECT as written, without running it, on any PostgreSQL (no
/// `pg_stat_statements` needed), and analyses the plan. `$n` parameters are replaced by
/// literals until PostgreSQL accepts them, as for [`explain_statement`] before version 16.
pub async fn explain_select(
    source: &SqlSource,
    query: &str,
    seq_scan_row_threshold: u64,
) -> Result<PlanEvidence, EvidenceError> {
    let template = ParameterizedQuery::parse(query)?;
    let (explain_sql, plan_json) = if template.parameters.is_empty() {
        let sql = format!("EXPLAIN (FORMAT JSON) {}", template.render(&HashMap::new()));
        let plan = run_explain(source, &sql).await?;
        (sql, plan)
    } else {
        explain_with_literals(source, &template).await?
    };
    let relations = plan_relations(&plan_json)?;
    let table_rows = table_sizes(source, &relations).await?;
    evidence_from_plan(explain_sql, plan_json, table_rows, seq_scan_row_threshold)
}

/// The evidence in a plan PostgreSQL gave (`EXPLAIN (FORMAT JSON)` output) for tables of the
/// given sizes: its outline and what the analysis finds in it.
pub fn evidence_from_plan(
    explain_sql: String,
    plan_json: String,
    table_rows: HashMap<String, u64>,
    seq_scan_row_threshold: u64,
) -> Result<PlanEvidence, EvidenceError> {
    let config = ExplainConfig {
        seq_scan_row_threshold,
        table_rows: table_rows.clone(),
    };
    let findings = explain::analyze_plan_json(&plan_json, &config)?;
    let plan_text = plan_outline(&plan_json)?;
    Ok(PlanEvidence {
        explain_sql,
        plan_json,
        plan_text,
        table_rows,
        findings,
    })
}

/// Substitutes literals for the parameters until PostgreSQL accepts them all.
async fn explain_with_literals(
    source: &SqlSource,
    template: &ParameterizedQuery,
) -> Result<(String, String), EvidenceError> {
    // Parameter `$n` starts as the literal 'k' for its position k: distinct values, so an
    // error quoting one names the parameter.
    let mut literals: HashMap<String, String> = template
        .parameters
        .iter()
        .enumerate()
        .map(|(index, name)| (name.clone(), (index + 1).to_string()))
        .collect();
    let initial = literals.clone();
    for _ in 0..=template.parameters.len() {
        let sql = format!("EXPLAIN (FORMAT JSON) {}", template.render(&literals));
        let error = match run_explain(source, &sql).await {
            Ok(plan) => return Ok((sql, plan)),
            Err(EvidenceError::Query(QueryError::Source(error))) => error,
            Err(other) => return Err(other),
        };
        let Some((type_name, value)) = rejected_literal(&error.detail) else {
            return Err(QueryError::Source(error).into());
        };
        let parameter = template
            .parameters
            .iter()
            .find(|name| literals.get(*name) == Some(&value) && initial.get(*name) == Some(&value))
            .cloned();
        let (Some(parameter), Some(sample)) = (parameter.clone(), sample_literal(&type_name))
        else {
            return Err(EvidenceError::UnplannableParameter {
                parameter: parameter.unwrap_or_else(|| format!("with value '{value}'")),
                type_name,
            });
        };
        literals.insert(parameter, sample.to_string());
    }
    Err(EvidenceError::UnplannableParameter {
        parameter: "?".to_string(),
        type_name: "unknown".to_string(),
    })
}

async fn run_explain(source: &SqlSource, sql: &str) -> Result<String, EvidenceError> {
    let result = source.query(sql).await?;
    first_cell(&result).map(str::to_string).ok_or_else(|| {
        EvidenceError::Query(QueryError::Source(SourceError::new(
            source.name(),
            SourceErrorKind::BadResponse,
            "EXPLAIN returned no plan",
        )))
    })
}

/// `(type, value)` from PostgreSQL's complaint about a literal, e.g.
/// `invalid input syntax for type boolean: "2"` or `malformed array literal: "2"`.
fn rejected_literal(detail: &str) -> Option<(String, String)> {
    let quoted_value = |rest: &str| {
        let start = rest.find(": \"")? + 3;
        let end = rest[start..].find('"')? + start;
        Some(rest[start..end].to_string())
    };
    if let Some(at) = detail.find("invalid input syntax for type ") {
        let rest = &detail[at + "invalid input syntax for type ".len()..];
        let type_name = rest.split(':').next()?.trim().to_string();
        return Some((type_name, quoted_value(rest)?));
    }
    if let Some(at) = detail.find("malformed array literal") {
        return Some(("array".to_string(), quoted_value(&detail[at..])?));
    }
    None
}

/// A literal PostgreSQL accepts for a type whose input rejected a small number.
fn sample_literal(type_name: &str) -> Option<&'static str> {
    Some(match type_name {
        "boolean" => "f",
        "timestamp without time zone" | "timestamp with time zone" | "date" => "2000-01-01",
        "time without time zone" | "time with time zone" => "00:00:00",
        "uuid" => "00000000-0000-0000-0000-000000000000",
        "inet" | "cidr" => "0.0.0.0",
        "macaddr" => "00:00:00:00:00:00",
        "macaddr8" => "00:00:00:00:00:00:00:00",
        "array" => "{}",
        "point" => "(0,0)",
        _ => return None,
    })
}

/// A single SELECT whose `$n` parameters can be replaced by literals.
struct ParameterizedQuery {
    statement: Statement,
    /// Parameter names (`$1`) in order of first appearance.
    parameters: Vec<String>,
}

impl ParameterizedQuery {
    fn parse(query: &str) -> Result<Self, EvidenceError> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, query)
            .map_err(|error| EvidenceError::Unparseable(error.to_string()))?;
        let mut statement = match <[Statement; 1]>::try_from(statements) {
            Ok([statement @ Statement::Query(_)]) => statement,
            Ok([other]) => {
                let keyword = other
                    .to_string()
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                return Err(EvidenceError::NotASelect(keyword));
            }
            Err(statements) => {
                return Err(EvidenceError::NotASelect(format!(
                    "{} statements",
                    statements.len()
                )));
            }
        };
        let mut parameters = Vec::new();
        let _ = visit_expressions_mut(&mut statement, |expr| {
            if let Some(name) = parameter_name(expr)
                && !parameters.contains(&name)
            {
                parameters.push(name);
            }
            ControlFlow::<()>::Continue(())
        });
        Ok(Self {
            statement,
            parameters,
        })
    }

    /// The statement with each parameter named in `literals` replaced by that quoted literal.
    fn render(&self, literals: &HashMap<String, String>) -> String {
        let mut statement = self.statement.clone();
        let _ = visit_expressions_mut(&mut statement, |expr| {
            if let Some(name) = parameter_name(expr)
                && let Some(literal) = literals.get(&name)
                && let Expr::Value(value) = expr
            {
                value.value = Value::SingleQuotedString(literal.clone());
            }
            ControlFlow::<()>::Continue(())
        });
        statement.to_string()
    }
}

/// `$n` if `expr` is a positional parameter.
fn parameter_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Placeholder(name)
                if name.len() > 1
                    && name.starts_with('$')
                    && name[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(name.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

/// Every `(schema, relation)` a plan reads; the schema only when the plan names it.
fn plan_relations(plan_json: &str) -> Result<BTreeSet<(Option<String>, String)>, EvidenceError> {
    fn walk(node: &Json, found: &mut BTreeSet<(Option<String>, String)>) {
        if let Some(relation) = node.get("Relation Name").and_then(Json::as_str) {
            let schema = node
                .get("Schema")
                .and_then(Json::as_str)
                .map(str::to_string);
            found.insert((schema, relation.to_string()));
        }
        for child in node
            .get("Plans")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            walk(child, found);
        }
    }
    let document: Json = serde_json::from_str(plan_json).map_err(explain::ExplainError::from)?;
    let mut found = BTreeSet::new();
    for entry in document.as_array().into_iter().flatten() {
        if let Some(plan) = entry.get("Plan") {
            walk(plan, &mut found);
        }
    }
    Ok(found)
}

/// `pg_class.reltuples` of the named relations, keyed by `schema.table` and, for the table
/// the search path finds, by the bare name. Tables never analysed (reltuples < 0) are left out.
async fn table_sizes(
    source: &SqlSource,
    relations: &BTreeSet<(Option<String>, String)>,
) -> Result<HashMap<String, u64>, QueryError> {
    let mut sizes = HashMap::new();
    if relations.is_empty() {
        return Ok(sizes);
    }
    let names: BTreeSet<&str> = relations.iter().map(|(_, name)| name.as_str()).collect();
    let list = names
        .iter()
        .map(|name| quote_literal(name))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT n.nspname, c.relname, c.reltuples, pg_table_is_visible(c.oid) \
         FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'm', 'f') AND c.relname IN ({list})"
    );
    let result = source.query(&sql).await?;
    for row in &result.rows {
        let cell = |index: usize| row.get(index).and_then(Option::as_deref);
        let (Some(schema), Some(name), Some(tuples)) = (cell(0), cell(1), cell(2)) else {
            continue;
        };
        let Some(tuples) = tuples
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && *t >= 0.0)
        else {
            continue;
        };
        let tuples = tuples.round() as u64;
        sizes.insert(format!("{schema}.{name}"), tuples);
        if cell(3) == Some("t") {
            sizes.insert(name.to_string(), tuples);
        }
    }
    Ok(sizes)
}

/// The plan as one indented line per node: `Seq Scan on orders (rows=1) Filter: (...)`.
pub fn plan_outline(plan_json: &str) -> Result<String, explain::ExplainError> {
    fn line(node: &Json, depth: usize, out: &mut String) {
        let text = |key: &str| node.get(key).and_then(Json::as_str);
        out.push_str(&"  ".repeat(depth));
        out.push_str(if depth > 0 { "-> " } else { "" });
        out.push_str(text("Node Type").unwrap_or("?"));
        if let Some(index) = text("Index Name") {
            out.push_str(&format!(" using {index}"));
        }
        if let Some(relation) = text("Relation Name") {
            match text("Schema") {
                Some(schema) => out.push_str(&format!(" on {schema}.{relation}")),
                None => out.push_str(&format!(" on {relation}")),
            }
        }
        if let Some(rows) = node.get("Plan Rows").and_then(Json::as_f64) {
            out.push_str(&format!(" (rows={rows})"));
        }
        for key in ["Index Cond", "Recheck Cond", "Filter"] {
            if let Some(condition) = text(key) {
                out.push_str(&format!(" {key}: {condition}"));
            }
        }
        out.push('\n');
        for child in node
            .get("Plans")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            line(child, depth + 1, out);
        }
    }
    let document: Json = serde_json::from_str(plan_json)?;
    let mut out = String::new();
    for entry in document.as_array().into_iter().flatten() {
        let plan = entry
            .get("Plan")
            .ok_or(explain::ExplainError::UnexpectedShape(
                "an entry has no \"Plan\" key",
            ))?;
        line(plan, 0, &mut out);
    }
    Ok(out)
}

/// What the server is, as far as reading its statistics goes.
struct ServerInfo {
    version_num: u32,
    /// `pg_extension.extversion` of pg_stat_statements in this database.
    extension_version: Option<String>,
}

impl ServerInfo {
    fn has_info_view(&self) -> bool {
        let Some(version) = &self.extension_version else {
            return false;
        };
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let major = parts.next().unwrap_or(0);
        let minor = parts.next().unwrap_or(0);
        self.version_num >= 140_000 && (major, minor) >= (1, 9)
    }
}

async fn probe(source: &SqlSource) -> Result<ServerInfo, QueryError> {
    let result = source
        .query(
            "SELECT current_setting('server_version_num'), \
             (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements')",
        )
        .await?;
    let row = result.rows.first();
    let cell = |index: usize| row.and_then(|r| r.get(index)).and_then(Option::as_deref);
    let version_num = cell(0).and_then(|v| v.parse().ok()).ok_or_else(|| {
        QueryError::Source(SourceError::new(
            source.name(),
            SourceErrorKind::BadResponse,
            "server_version_num is not a number",
        ))
    })?;
    let extension_version = cell(1).map(str::to_string);
    if extension_version.is_none() {
        return Err(missing_extension(source));
    }
    Ok(ServerInfo {
        version_num,
        extension_version,
    })
}

fn missing_extension(source: &SqlSource) -> QueryError {
    QueryError::Source(SourceError::new(
        source.name(),
        SourceErrorKind::QueryRejected,
        PG_STAT_STATEMENTS_MISSING,
    ))
}

/// Replaces PostgreSQL's own words for an extension that is created but not preloaded (or
/// dropped meanwhile) with what to do about it.
fn explain_missing_extension(source: &SqlSource, error: QueryError) -> QueryError {
    match &error {
        QueryError::Source(source_error)
            if source_error.detail.contains("shared_preload_libraries")
                || (source_error.detail.contains("pg_stat_statements")
                    && source_error.detail.contains("does not exist")) =>
        {
            missing_extension(source)
        }
        _ => error,
    }
}

fn first_cell(result: &QueryResult) -> Option<&str> {
    result.rows.first()?.first()?.as_deref()
}

fn parse_epoch(text: &str) -> Option<DateTime<Utc>> {
    let seconds: f64 = text.parse().ok()?;
    if !seconds.is_finite() {
        return None;
    }
    DateTime::from_timestamp_micros((seconds * 1e6).round() as i64)
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::sql::guard::{self, GuardPolicy, Refusal, SqlDialectKind};

    fn policy() -> GuardPolicy {
        GuardPolicy::new(SqlDialectKind::Postgres)
    }

    #[test]
    fn parameters_become_distinct_quoted_literals() {
        let template = ParameterizedQuery::parse(
            "SELECT id FROM orders WHERE customer_email = $1 AND amount > $2 \
             AND note <> '$3 is text' ORDER BY id LIMIT $1",
        )
        .expect("parses");
        assert_eq!(template.parameters, vec!["$1", "$2"]);
        let literals = HashMap::from([
            ("$1".to_string(), "1".to_string()),
            ("$2".to_string(), "it's".to_string()),
        ]);
        let rendered = template.render(&literals);
        assert_eq!(
            rendered,
            "SELECT id FROM orders WHERE customer_email = '1' AND amount > 'it''s' \
             AND note <> '$3 is text' ORDER BY id LIMIT '1'"
        );
    }

    #[test]
    fn only_a_select_is_explained() {
        for statement in [
            "UPDATE orders SET amount = $1 WHERE id = $2",
            "DELETE FROM orders WHERE id = $1",
            "SELECT 1; SELECT 2",
        ] {
            assert!(
                matches!(
                    ParameterizedQuery::parse(statement),
                    Err(EvidenceError::NotASelect(_))
                ),
                "{statement}"
            );
        }
    }

    #[test]
    fn the_guard_lets_the_reads_through() {
        for sql in [
            "SELECT s.queryid, s.calls FROM pg_stat_statements AS s \
             CROSS JOIN pg_stat_statements_info AS i ORDER BY s.total_exec_time DESC",
            "EXPLAIN (FORMAT JSON) SELECT id FROM orders WHERE customer_email = '1'",
            "EXPLAIN (GENERIC_PLAN, FORMAT JSON) SELECT id FROM orders WHERE customer_email = $1",
            "SELECT current_setting('server_version_num')",
        ] {
            assert!(guard::check(sql, &policy()).is_ok(), "{sql}");
        }
        assert_eq!(
            guard::check(
                "EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM orders",
                &policy()
            ),
            Err(Refusal::ExplainAnalyze)
        );
        assert!(guard::check("SELECT pg_stat_statements_reset()", &policy()).is_err());
    }

    #[test]
    fn rejected_literals_name_type_and_value() {
        assert_eq!(
            rejected_literal(
                "error returned from database: invalid input syntax for type boolean: \"2\""
            ),
            Some(("boolean".to_string(), "2".to_string()))
        );
        assert_eq!(
            rejected_literal(
                "invalid input syntax for type timestamp with time zone: \"12\" at character 5"
            ),
            Some(("timestamp with time zone".to_string(), "12".to_string()))
        );
        assert_eq!(
            rejected_literal("malformed array literal: \"3\""),
            Some(("array".to_string(), "3".to_string()))
        );
        assert_eq!(rejected_literal("relation \"x\" does not exist"), None);
    }

    #[test]
    fn outline_shows_nodes_scans_and_filters() {
        let plan = r#"[{"Plan": {"Node Type": "Aggregate", "Plan Rows": 1, "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "orders", "Plan Rows": 1,
             "Filter": "(customer_email = '1'::text)"}]}}]"#;
        assert_eq!(
            plan_outline(plan).expect("valid plan"),
            "Aggregate (rows=1)\n  -> Seq Scan on orders (rows=1) Filter: (customer_email = '1'::text)\n"
        );
        let relations = plan_relations(plan).expect("valid plan");
        assert_eq!(
            relations.into_iter().collect::<Vec<_>>(),
            vec![(None, "orders".to_string())]
        );
    }

    #[test]
    fn epoch_text_becomes_a_time() {
        let time = parse_epoch("1767225600.250000").expect("parses");
        assert_eq!(time.to_rfc3339(), "2026-01-01T00:00:00.250+00:00");
        assert_eq!(parse_epoch("NaN"), None);
        assert_eq!(parse_epoch("soon"), None);
    }
}

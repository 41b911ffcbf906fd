//! Analysis of PostgreSQL query plans for the slow-query watch.
//!
//! Input is the JSON text PostgreSQL returns for
//! `EXPLAIN (FORMAT JSON) <query>` (no ANALYZE: the query is never run).
//! [`analyze_plan_json`] walks every plan node and reports large sequential
//! scans; when such a scan filters on columns, it reports each column as a
//! likely missing index. An index scan with no index condition reads its whole
//! index (it serves an `ORDER BY`, typically with a `LIMIT`): when it filters
//! rows of a large table on a column, that column is a likely missing index too.
//!
//! A note on row estimates: a node's `Plan Rows` is the number of rows the
//! planner expects the node to *return*. For a sequential scan with a
//! selective filter that can be 1 even though the whole table is read, so the
//! caller should supply table sizes (`pg_class.reltuples`) through
//! [`ExplainConfig::table_rows`]; the larger of the two estimates is used.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

/// Default number of rows above which a sequential scan is worth reporting.
pub const DEFAULT_SEQ_SCAN_ROW_THRESHOLD: u64 = 10_000;

/// Settings for plan analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainConfig {
    /// Sequential scans over at least this many rows are reported.
    pub seq_scan_row_threshold: u64,
    /// Known table sizes, keyed by table name (`orders`) or schema-qualified
    /// name (`public.orders`), typically from `pg_class.reltuples`.
    pub table_rows: HashMap<String, u64>,
}

impl Default for ExplainConfig {
    fn default() -> Self {
        Self {
            seq_scan_row_threshold: DEFAULT_SEQ_SCAN_ROW_THRESHOLD,
            table_rows: HashMap::new(),
        }
    }
}

/// Something worth telling an operator about a query plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A large sequential scan filters on `column`: an index on it would
    /// likely let the planner avoid reading the whole table.
    MissingIndex {
        /// Table name, schema-qualified when the plan names the schema.
        table: String,
        /// Column referenced by the scan's filter.
        column: String,
        /// Estimated rows the scan reads.
        estimated_rows: u64,
        /// The filter expression as PostgreSQL printed it.
        filter: String,
        /// The index the scan walks whole, with no index condition; `None` for a
        /// sequential scan.
        whole_index: Option<String>,
    },
    /// A large sequential scan whose filter (if any) names no column.
    SeqScan {
        /// Table name, schema-qualified when the plan names the schema.
        table: String,
        /// Estimated rows the scan reads.
        estimated_rows: u64,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::MissingIndex {
                table,
                column,
                estimated_rows,
                filter,
                whole_index,
            } => write!(
                f,
                "missing index on {table}({column}): {} of ~{estimated_rows} rows filtered by {filter}",
                scan_words(whole_index.as_deref())
            ),
            Finding::SeqScan {
                table,
                estimated_rows,
            } => write!(
                f,
                "sequential scan of ~{estimated_rows} rows on {table} without a usable filter"
            ),
        }
    }
}

/// How a scan reads its table, in words: sequentially, or through a whole index.
fn scan_words(whole_index: Option<&str>) -> String {
    match whole_index {
        None => "sequential scan".to_string(),
        Some(index) => format!("scan of the whole index {index}"),
    }
}

/// Why a plan could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The text is not JSON.
    #[error("EXPLAIN output is not valid JSON: {0}")]
    InvalidJson(#[from] serde_json::Error),
    /// The JSON does not have the shape of `EXPLAIN (FORMAT JSON)` output.
    #[error("EXPLAIN output has an unexpected shape: {0}")]
    UnexpectedShape(&'static str),
}

/// Analyses the JSON text of `EXPLAIN (FORMAT JSON)` and returns its
/// findings in plan order (outer nodes first).
pub fn analyze_plan_json(json: &str, config: &ExplainConfig) -> Result<Vec<Finding>, ExplainError> {
    let document: Value = serde_json::from_str(json)?;
    analyze_plan_value(&document, config)
}

/// Like [`analyze_plan_json`], for output already parsed into JSON values
/// (as database drivers often return it).
pub fn analyze_plan_value(
    document: &Value,
    config: &ExplainConfig,
) -> Result<Vec<Finding>, ExplainError> {
    let entries = match document {
        Value::Array(entries) => entries.as_slice(),
        Value::Object(_) => std::slice::from_ref(document),
        _ => return Err(ExplainError::UnexpectedShape("expected an array of plans")),
    };
    let mut findings = Vec::new();
    for entry in entries {
        let plan = entry.get("Plan").ok_or(ExplainError::UnexpectedShape(
            "an entry has no \"Plan\" key",
        ))?;
        collect_findings(plan, config, &mut findings);
    }
    Ok(findings)
}

fn collect_findings(node: &Value, config: &ExplainConfig, findings: &mut Vec<Finding>) {
    match node.get("Node Type").and_then(Value::as_str) {
        Some("Seq Scan") => inspect_scan(node, config, None, findings),
        Some("Index Scan" | "Index Only Scan") if node.get("Index Cond").is_none() => {
            let index = node.get("Index Name").and_then(Value::as_str).unwrap_or("");
            inspect_scan(node, config, Some(index), findings);
        }
        _ => {}
    }
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for child in children {
            collect_findings(child, config, findings);
        }
    }
}

/// A scan that reads the whole table: sequentially, or through `whole_index` (an index scan
/// with no index condition). A whole-index scan is reported only when it filters on columns:
/// without a filter it serves an order and stops at its limit.
fn inspect_scan(
    node: &Value,
    config: &ExplainConfig,
    whole_index: Option<&str>,
    findings: &mut Vec<Finding>,
) {
    let Some(relation) = node.get("Relation Name").and_then(Value::as_str) else {
        return;
    };
    let schema = node.get("Schema").and_then(Value::as_str);
    let table = match schema {
        Some(schema) => format!("{schema}.{relation}"),
        None => relation.to_string(),
    };
    let plan_rows = node
        .get("Plan Rows")
        .and_then(Value::as_f64)
        .map_or(0, |rows| rows.max(0.0).round() as u64);
    let known_rows = config
        .table_rows
        .get(&table)
        .or_else(|| config.table_rows.get(relation))
        .copied()
        .unwrap_or(0);
    let estimated_rows = plan_rows.max(known_rows);
    if estimated_rows < config.seq_scan_row_threshold {
        return;
    }

    let filter = node.get("Filter").and_then(Value::as_str);
    let columns = filter.map(filter_columns).unwrap_or_default();
    match filter {
        Some(filter) if !columns.is_empty() => {
            findings.extend(columns.into_iter().map(|column| Finding::MissingIndex {
                table: table.clone(),
                column,
                estimated_rows,
                filter: filter.to_string(),
                whole_index: whole_index.map(str::to_string),
            }));
        }
        _ if whole_index.is_some() => {}
        _ => findings.push(Finding::SeqScan {
            table,
            estimated_rows,
        }),
    }
}

/// Words that appear in PostgreSQL's rendering of filter expressions but are
/// not column names.
const FILTER_KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "is",
    "null",
    "true",
    "false",
    "unknown",
    "any",
    "all",
    "some",
    "in",
    "like",
    "ilike",
    "similar",
    "to",
    "escape",
    "between",
    "symmetric",
    "distinct",
    "from",
    "array",
    "row",
    "case",
    "when",
    "then",
    "else",
    "end",
    "collate",
    "subplan",
    "initplan",
    "hashed",
    "alternatives",
    "returns",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "user",
];

/// Words that continue a multi-word type name after `::`
/// (`timestamp with time zone`, `character varying`, `double precision`).
const TYPE_CONTINUATION_WORDS: &[&str] =
    &["with", "without", "time", "zone", "varying", "precision"];

/// Column names referenced by a PostgreSQL filter expression, in order of
/// first appearance. String literals, casts (`::type`), function names,
/// parameters and keywords are skipped; a qualified `alias.column` yields
/// `column`.
pub fn filter_columns(filter: &str) -> Vec<String> {
    let tokens = tokenize_filter(filter);
    let mut columns: Vec<String> = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        match &tokens[index] {
            FilterToken::Cast => {
                index += 1;
                if tokens.get(index).is_some_and(FilterToken::is_word) {
                    index += 1;
                    while let Some(FilterToken::Word { text, .. }) = tokens.get(index) {
                        if TYPE_CONTINUATION_WORDS.contains(&text.to_lowercase().as_str()) {
                            index += 1;
                        } else {
                            break;
                        }
                    }
                }
                continue;
            }
            FilterToken::Word { text, quoted } => {
                let mut name = text.clone();
                let mut quoted = *quoted;
                while let (Some(FilterToken::Dot), Some(FilterToken::Word { text, quoted: q })) =
                    (tokens.get(index + 1), tokens.get(index + 2))
                {
                    name.clone_from(text);
                    quoted = *q;
                    index += 2;
                }
                let is_call = matches!(tokens.get(index + 1), Some(FilterToken::OpenParen));
                let is_keyword = !quoted && FILTER_KEYWORDS.contains(&name.to_lowercase().as_str());
                let is_number = name.starts_with(|c: char| c.is_ascii_digit());
                if !is_call && !is_keyword && !is_number && !columns.contains(&name) {
                    columns.push(name);
                }
            }
            FilterToken::Dot | FilterToken::OpenParen | FilterToken::Other => {}
        }
        index += 1;
    }
    columns
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FilterToken {
    Word { text: String, quoted: bool },
    Cast,
    Dot,
    OpenParen,
    Other,
}

impl FilterToken {
    fn is_word(&self) -> bool {
        matches!(self, FilterToken::Word { .. })
    }
}

fn tokenize_filter(filter: &str) -> Vec<FilterToken> {
    let chars: Vec<char> = filter.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while let Some(&current) = chars.get(index) {
        match current {
            '\'' => {
                // String literal; '' is an escaped quote.
                index += 1;
                while let Some(&c) = chars.get(index) {
                    index += 1;
                    if c == '\'' {
                        if chars.get(index) == Some(&'\'') {
                            index += 1;
                        } else {
                            break;
                        }
                    }
                }
                tokens.push(FilterToken::Other);
            }
            '"' => {
                let mut text = String::new();
                index += 1;
                while let Some(&c) = chars.get(index) {
                    index += 1;
                    if c == '"' {
                        if chars.get(index) == Some(&'"') {
                            text.push('"');
                            index += 1;
                        } else {
                            break;
                        }
                    } else {
                        text.push(c);
                    }
                }
                tokens.push(FilterToken::Word { text, quoted: true });
            }
            ':' if chars.get(index + 1) == Some(&':') => {
                tokens.push(FilterToken::Cast);
                index += 2;
            }
            '.' => {
                tokens.push(FilterToken::Dot);
                index += 1;
            }
            '(' => {
                tokens.push(FilterToken::OpenParen);
                index += 1;
            }
            '$' => {
                // Parameter reference such as $1.
                index += 1;
                while chars.get(index).is_some_and(char::is_ascii_digit) {
                    index += 1;
                }
                tokens.push(FilterToken::Other);
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = index;
                while chars
                    .get(index)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                {
                    index += 1;
                }
                tokens.push(FilterToken::Word {
                    text: chars[start..index].iter().collect(),
                    quoted: false,
                });
            }
            c if c.is_whitespace() => index += 1,
            _ => {
                tokens.push(FilterToken::Other);
                index += 1;
            }
        }
    }
    tokens
}

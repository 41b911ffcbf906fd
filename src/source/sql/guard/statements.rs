//! What kind of statement a parsed statement is: one of the accepted reads, or a refusal that
//! names it and says why statements of its kind never reach a watched database.

use super::refusal::Refusal;
use super::{GuardPolicy, StatementKind};
use sqlparser::ast::{SetExpr, Statement};

/// Decides whether one statement (top-level or nested) is an accepted read,
/// looking only at the statement itself; its contents are checked by
/// [`ReadOnlyWalker`].
pub(super) fn classify_statement(
    statement: &Statement,
    policy: &GuardPolicy,
) -> Result<StatementKind, Refusal> {
    match statement {
        Statement::Query(query) => Ok(classify_query_body(&query.body)),
        Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowProcessList { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowCharset(_)
        | Statement::ShowObjects(_)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. } => {
            if policy.allow_show {
                Ok(StatementKind::Show)
            } else {
                Err(Refusal::ShowDisabled)
            }
        }
        Statement::ExplainTable { .. } => {
            if policy.allow_explain {
                Ok(StatementKind::Describe)
            } else {
                Err(Refusal::ExplainDisabled)
            }
        }
        Statement::Explain {
            analyze, options, ..
        } => {
            let analyze_option = options.iter().flatten().any(|option| {
                option.name.value.eq_ignore_ascii_case("analyze")
                    || option.name.value.eq_ignore_ascii_case("analyse")
            });
            if *analyze || analyze_option {
                Err(Refusal::ExplainAnalyze)
            } else if policy.allow_explain {
                Ok(StatementKind::Explain)
            } else {
                Err(Refusal::ExplainDisabled)
            }
        }
        other => Err(Refusal::NotARead {
            statement: leading_keywords(other),
            reason: refused_statement_reason(other),
        }),
    }
}

pub(super) fn classify_query_body(body: &SetExpr) -> StatementKind {
    match body {
        SetExpr::Values(_) => StatementKind::Values,
        SetExpr::Query(inner) => classify_query_body(&inner.body),
        _ => StatementKind::Select,
    }
}

/// The first keywords of a statement's rendering, used to name it in a refusal (`DELETE`,
/// `CREATE TABLE`, `SET`). Only keywords are taken, so a name is never shown in other case
/// than it was written.
pub(super) fn leading_keywords(statement: &Statement) -> String {
    const SECOND_KEYWORDS: &[&str] = &[
        "TABLE",
        "INDEX",
        "VIEW",
        "SEQUENCE",
        "FUNCTION",
        "PROCEDURE",
        "ROLE",
        "USER",
        "SCHEMA",
        "DATABASE",
        "EXTENSION",
        "MATERIALIZED",
        "TRIGGER",
        "TYPE",
        "DOMAIN",
        "INTO",
        "FROM",
        "OR",
        "TEMPORARY",
        "TEMP",
        "UNIQUE",
        "POLICY",
        "RULE",
        "SERVER",
        "EVENT",
        "TABLES",
        "TRANSACTION",
        "WORK",
        "DATA",
    ];
    let rendered = statement.to_string();
    let mut words = rendered.split_whitespace();
    let Some(first) = words.next().filter(|word| {
        !word.is_empty() && word.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    }) else {
        return "this statement".to_string();
    };
    match words.next() {
        Some(second) if SECOND_KEYWORDS.contains(&second) => format!("{first} {second}"),
        _ => first.to_string(),
    }
}

fn refused_statement_reason(statement: &Statement) -> &'static str {
    match statement {
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Merge(_)
        | Statement::Truncate(_)
        | Statement::LoadData { .. } => "it writes data",
        Statement::Set(_) | Statement::Reset(_) | Statement::Use(_) => {
            "it changes session settings"
        }
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. } => {
            "it controls transactions, which Sentinel manages itself"
        }
        Statement::Copy { .. } => "it copies data to or from files or programs",
        Statement::Call(_) => "it runs a stored procedure",
        Statement::Lock(_) | Statement::LockTables { .. } | Statement::UnlockTables => {
            "it takes table locks"
        }
        Statement::Grant(_)
        | Statement::GrantRole(_)
        | Statement::Revoke(_)
        | Statement::RevokeRole(_)
        | Statement::Deny(_)
        | Statement::AlterDefaultPrivileges(_) => "it changes privileges",
        Statement::Vacuum(_) | Statement::Analyze(_) | Statement::OptimizeTable { .. } => {
            "it runs maintenance work on the database"
        }
        Statement::Pragma { .. } => "a PRAGMA can change database settings",
        Statement::AttachDatabase { .. } | Statement::AttachDuckDBDatabase { .. } => {
            "it attaches another database file"
        }
        Statement::LISTEN { .. } | Statement::UNLISTEN { .. } | Statement::NOTIFY { .. } => {
            "it uses asynchronous notifications"
        }
        Statement::Prepare { .. } | Statement::Execute { .. } | Statement::Deallocate { .. } => {
            "it manages prepared statements"
        }
        Statement::Kill { .. } => "it terminates other connections or queries",
        Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Open(_) => "it manages cursors",
        Statement::Comment { .. }
        | Statement::RenameTable(_)
        | Statement::RefreshMaterializedView(_) => "it changes the schema",
        other => {
            let rendered = other.to_string();
            let first = rendered
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            match first.as_str() {
                "CREATE" | "ALTER" | "DROP" => "it changes the schema (DDL)",
                _ => "it is not a read",
            }
        }
    }
}

//! `sentinel query SOURCE 'SQL'`: one statement through exactly the path watches and the
//! investigator use (guard, read-only transaction, timeouts, caps), printed as a table.
//! A refused statement says why and exits 1 without touching the database.

use super::{EXIT_CANNOT_RUN, cannot_run, load_config};
use crate::config::SourceSpecKind;
use crate::source::sql::caps::CapHit;
use crate::source::sql::database::{QueryError, QueryResult, SqlSource};
use std::path::Path;

/// Renders a result as an aligned text table with a row count (and the cap, if one stopped it).
pub fn render(result: &QueryResult) -> String {
    let cell = |value: &Option<String>| {
        value
            .clone()
            .unwrap_or_else(|| "NULL".to_string())
            .replace(['\n', '\r', '\t'], " ")
    };
    let mut widths: Vec<usize> = result.columns.iter().map(|c| c.chars().count()).collect();
    for row in &result.rows {
        for (i, value) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(cell(value).chars().count().min(80));
            }
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let shown: String = c.chars().take(80).collect();
                format!(
                    "{shown:<width$}",
                    width = widths.get(i).copied().unwrap_or(0)
                )
            })
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = String::new();
    out.push_str(&line(result.columns.clone()));
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.push('\n');
    for row in &result.rows {
        out.push_str(&line(row.iter().map(cell).collect()));
        out.push('\n');
    }
    let count = result.rows.len();
    out.push_str(&format!(
        "({count} row{})",
        if count == 1 { "" } else { "s" }
    ));
    match result.truncated {
        Some(CapHit::Rows(cap)) => out.push_str(&format!(" stopped at the row cap of {cap}")),
        Some(CapHit::Bytes(cap)) => out.push_str(&format!(" stopped at the byte cap of {cap}")),
        None => {}
    }
    out.push('\n');
    out
}

pub async fn run(config_path: &Path, source_name: &str, sql: &str) -> i32 {
    let config = match load_config(config_path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let Some(spec) = config.sources.iter().find(|s| s.name == source_name) else {
        let sql_sources: Vec<&str> = config
            .sources
            .iter()
            .filter(|s| matches!(s.kind, SourceSpecKind::Sql(_)))
            .map(|s| s.name.as_str())
            .collect();
        eprintln!(
            "no source named {source_name:?}; SQL sources in {}: {}",
            config_path.display(),
            if sql_sources.is_empty() {
                "none".to_string()
            } else {
                sql_sources.join(", ")
            }
        );
        return EXIT_CANNOT_RUN;
    };
    let SourceSpecKind::Sql(settings) = &spec.kind else {
        eprintln!("source {source_name:?} is not a SQL database");
        return EXIT_CANNOT_RUN;
    };
    let source = SqlSource::new(source_name, settings.clone());
    match source.query(sql).await {
        Ok(result) => {
            print!("{}", render(&result));
            0
        }
        Err(QueryError::Refused(refusal)) => {
            eprintln!("nothing was sent to {source_name}: {refusal}");
            1
        }
        Err(QueryError::Source(error)) => cannot_run(error),
    }
}

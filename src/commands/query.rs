//! `sentinel query SOURCE 'QUERY'`: one query through exactly the path watches and the
//! investigator use, printed as a table. On a SQL source: the guard, a read-only transaction,
//! timeouts and caps; a refused statement says why and exits 1 without touching the database.
//! On Prometheus: PromQL at this instant. On Loki: a metric query at this instant, or for a log
//! query (a stream selector) the newest lines of the last hour. A query the source rejects
//! exits 1 too; a source that cannot be reached exits 2.

use super::{EXIT_CANNOT_RUN, cannot_run, load_config};
use crate::config::{Config, SourceSpecKind};
use crate::engine::build;
use crate::source::loki::{Direction, LokiResult, LokiSource};
use crate::source::prometheus::{PrometheusSource, Series, subject_of};
use crate::source::sql::caps::CapHit;
use crate::source::sql::database::{QueryError, QueryResult, SqlSource};
use crate::source::{SourceError, SourceErrorKind};
use chrono::Utc;
use std::path::Path;

/// A log query on Loki shows at most this many of the last hour's lines, newest first.
const LOG_LINES: u32 = 100;

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

pub async fn run(config_path: &Path, source_name: &str, query: &str) -> i32 {
    let config = match load_config(config_path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let Some(spec) = config.sources.iter().find(|s| s.name == source_name) else {
        let queryable = queryable_sources(&config);
        eprintln!(
            "no source named {source_name:?}; sources `sentinel query` reads in {}: {}",
            config_path.display(),
            if queryable.is_empty() {
                "none".to_string()
            } else {
                queryable.join(", ")
            }
        );
        return EXIT_CANNOT_RUN;
    };
    if let SourceSpecKind::Sql(settings) = &spec.kind {
        if let Err(refusal) = build::judge_roles(&config, Some(source_name)).await {
            return cannot_run(refusal);
        }
        return sql(&SqlSource::new(source_name, settings.clone()), query).await;
    }
    let sources = match build::sources(&config) {
        Ok(sources) => sources,
        Err(error) => return cannot_run(error),
    };
    let answer = if let Some(prometheus) = sources.prometheus.get(source_name) {
        promql(prometheus, query).await
    } else if let Some(loki) = sources.loki.get(source_name) {
        logql(loki, query).await
    } else {
        eprintln!(
            "source {source_name:?} cannot be queried: `sentinel query` reads SQL, Prometheus and Loki sources"
        );
        return EXIT_CANNOT_RUN;
    };
    match answer {
        Ok(table) => {
            print!("{}", render(&table));
            0
        }
        Err(error) if error.kind == SourceErrorKind::QueryRejected => {
            eprintln!("{error}");
            1
        }
        Err(error) => cannot_run(error),
    }
}

/// The names of the sources `sentinel query` can read.
fn queryable_sources(config: &Config) -> Vec<&str> {
    config
        .sources
        .iter()
        .filter(|s| {
            matches!(
                s.kind,
                SourceSpecKind::Sql(_)
                    | SourceSpecKind::Prometheus { .. }
                    | SourceSpecKind::Loki { .. }
            )
        })
        .map(|s| s.name.as_str())
        .collect()
}

async fn sql(source: &SqlSource, statement: &str) -> i32 {
    match source.query(statement).await {
        Ok(result) => {
            print!("{}", render(&result));
            0
        }
        Err(QueryError::Refused(refusal)) => {
            eprintln!("nothing was sent to {}: {refusal}", source.name());
            1
        }
        Err(QueryError::Source(error)) => cannot_run(error),
    }
}

/// A table of series: their labels and value.
fn series_table(series: Vec<Series>) -> QueryResult {
    QueryResult {
        columns: vec!["series".to_string(), "value".to_string()],
        rows: series
            .into_iter()
            .map(|s| {
                let value = crate::watch::format_value(s.value);
                vec![Some(s.subject()), Some(value)]
            })
            .collect(),
        truncated: None,
    }
}

async fn promql(prometheus: &PrometheusSource, query: &str) -> Result<QueryResult, SourceError> {
    let series = prometheus.instant(query, Utc::now().timestamp()).await?;
    Ok(series_table(series))
}

async fn logql(loki: &LokiSource, query: &str) -> Result<QueryResult, SourceError> {
    let now = Utc::now();
    if query.trim_start().starts_with('{') {
        let found = loki
            .query_range(
                query,
                now - chrono::Duration::hours(1),
                now,
                LOG_LINES,
                Direction::Backward,
            )
            .await?;
        let streams = match found {
            LokiResult::Streams(streams) => streams,
            metric => return Ok(series_table(series_of(metric))),
        };
        let mut lines: Vec<_> = streams
            .into_iter()
            .flat_map(|stream| {
                let labels = subject_of(&stream.labels);
                stream
                    .entries
                    .into_iter()
                    .map(move |(at, line)| (at, labels.clone(), line))
            })
            .collect();
        lines.sort_by_key(|line| std::cmp::Reverse(line.0));
        lines.truncate(LOG_LINES as usize);
        let full = lines.len() == LOG_LINES as usize;
        return Ok(QueryResult {
            columns: vec!["time".into(), "stream".into(), "line".into()],
            rows: lines
                .into_iter()
                .map(|(at, labels, line)| {
                    vec![
                        Some(at.format("%Y-%m-%d %H:%M:%S%.3f").to_string()),
                        Some(labels),
                        Some(line),
                    ]
                })
                .collect(),
            truncated: full.then_some(CapHit::Rows(LOG_LINES as usize)),
        });
    }
    Ok(series_table(series_of(loki.query(query, now).await?)))
}

/// The series of a Loki metric result (none for log lines).
fn series_of(result: LokiResult) -> Vec<Series> {
    result
        .latest_values()
        .unwrap_or_default()
        .into_iter()
        .map(|(labels, value)| Series { labels, value })
        .collect()
}

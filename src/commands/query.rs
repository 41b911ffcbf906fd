//! `sentinel query SOURCE 'QUERY'`: one query through exactly the path watches and the
//! investigator use, printed as a table. On a SQL source: the guard, a read-only transaction,
//! timeouts and caps; a refused statement says why and exits 1 without touching the database.
//! On Prometheus: PromQL at this instant. On Loki: a metric query at this instant, or for a log
//! query (a stream selector) the newest lines of the last hour.
//!
//! Exit codes: 0 the table was printed (a result cut by a cap says so under it); 1 the query
//! is at fault: refused by the guard, rejected by the source, or stopped at its timeout; 2 it
//! could not be run: the configuration does not load, no such source, the source cannot be
//! reached or answers nonsense.

use super::{EXIT_CANNOT_RUN, cannot_run, load_config};
use crate::config::{Config, SourceSpecKind};
use crate::engine::build;
use crate::source::loki::{Direction, LokiResult, LokiSource};
use crate::source::prometheus::{Series, subject_of};
use crate::source::sql::caps::CapHit;
use crate::source::sql::database::{QueryError, QueryResult, SqlSource};
use crate::source::{SourceError, SourceErrorKind};
use chrono::Utc;
use std::path::Path;

/// A log query on Loki shows at most this many of the last hour's lines, newest first.
const LOG_LINES: u32 = 100;

/// The widest a column is shown, in terminal columns; longer text is cut and ends in `…`.
pub const MAX_CELL_WIDTH: usize = 80;

/// How a cell's text is shown: every control character (a line break, a tab, an escape that
/// would drive the terminal) becomes a space, so one row stays one line.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Terminal columns `text` takes (wide characters count two).
fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` cut to at most [`MAX_CELL_WIDTH`] columns, ending in `…` when cut.
pub fn clipped(text: &str) -> String {
    if width(text) <= MAX_CELL_WIDTH {
        return text.to_string();
    }
    let mut kept = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > MAX_CELL_WIDTH - 1 {
            break;
        }
        used += w;
        kept.push(c);
    }
    kept.push('…');
    kept
}

/// Renders a result as an aligned text table with a row count (and the cap, if one stopped it).
/// Any shape is rendered: no columns, rows longer or shorter than the header (a missing cell
/// is blank), huge or multi-line values.
pub fn render(result: &QueryResult) -> String {
    let shown = |value: &Option<String>| clipped(&visible(value.as_deref().unwrap_or("NULL")));
    let header: Vec<String> = result
        .columns
        .iter()
        .map(|c| clipped(&visible(c)))
        .collect();
    let body: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|row| row.iter().map(shown).collect())
        .collect();
    let mut out = crate::text_table::aligned(&header, &body);
    let rows = result.rows.len();
    out.push_str(&format!("({rows} row{})", if rows == 1 { "" } else { "s" }));
    match result.truncated {
        Some(CapHit::Rows(cap)) => out.push_str(&format!(
            " stopped at the row cap of {cap} (max_rows): more rows were left unread"
        )),
        Some(CapHit::Bytes(cap)) => out.push_str(&format!(
            " stopped at the byte cap of {cap} (max_bytes): the next row, or one of its values, is larger than what is left"
        )),
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
    let source = match sources.get(source_name) {
        Ok(source) => source,
        Err(error) => return cannot_run(error),
    };
    let answer = if let Some(loki) = source.loki() {
        logql(loki, query).await
    } else if let Some(readings) = source.readings() {
        readings.readings(query, Utc::now()).await.map(series_table)
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
        Err(error) => failed(&error),
    }
}

/// Exit code when the query itself is at fault (refused, rejected, too slow).
pub const EXIT_QUERY_FAILED: i32 = 1;

/// Prints why the query gave no table and gives the exit code for it.
fn failed(error: &SourceError) -> i32 {
    match error.kind {
        SourceErrorKind::QueryRejected | SourceErrorKind::Timeout => {
            eprintln!("{error}");
            EXIT_QUERY_FAILED
        }
        SourceErrorKind::Unreachable
        | SourceErrorKind::BadResponse
        | SourceErrorKind::RoleRefused
        | SourceErrorKind::Store => cannot_run(error),
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
            EXIT_QUERY_FAILED
        }
        Err(QueryError::Source(error)) => failed(&error),
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn result(columns: Vec<String>, rows: Vec<Vec<Option<String>>>) -> QueryResult {
        QueryResult {
            columns,
            rows,
            truncated: None,
        }
    }

    #[test]
    fn a_plain_table_is_aligned() {
        let table = render(&result(
            vec!["id".into(), "name".into()],
            vec![
                vec![Some("1".into()), Some("ada".into())],
                vec![Some("22".into()), None],
            ],
        ));
        assert_eq!(
            table,
            "id | name\n---+-----\n1  | ada\n22 | NULL\n(2 rows)\n"
        );
    }

    #[test]
    fn a_column_name_past_any_format_width_is_clipped() {
        let name = "a".repeat(70_000);
        let table = render(&result(vec![name], vec![vec![Some("1".into())]]));
        let header = table.lines().next().unwrap();
        assert_eq!(header, format!("{}…", "a".repeat(MAX_CELL_WIDTH - 1)));
    }

    #[test]
    fn wide_characters_count_two_columns() {
        let table = render(&result(
            vec!["日本".into(), "x".into()],
            vec![vec![Some("a".into()), Some("b".into())]],
        ));
        assert_eq!(table.lines().nth(2).unwrap(), "a    | b");
    }

    #[test]
    fn ragged_rows_and_no_columns_render() {
        let table = render(&result(
            vec!["a".into()],
            vec![vec![], vec![Some("1".into()), Some("extra".into())]],
        ));
        assert!(table.contains("1 | extra"), "{table}");
        let empty = render(&result(vec![], vec![vec![], vec![]]));
        assert_eq!(empty, "\n\n\n\n(2 rows)\n");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let table = render(&result(
            vec!["a\x1b[31mred".into()],
            vec![vec![Some("one\ntwo\r\tthree\u{7}".into())]],
        ));
        assert_eq!(table.lines().count(), 4, "{table}");
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
        assert!(table.contains("one two  three\n"), "{table}");
    }

    #[test]
    fn the_cap_that_cut_the_result_is_named() {
        let mut cut = result(vec!["a".into()], vec![]);
        cut.truncated = Some(CapHit::Bytes(1024));
        assert!(render(&cut).contains("stopped at the byte cap of 1024 (max_bytes)"));
        cut.truncated = Some(CapHit::Rows(5));
        assert!(render(&cut).contains("stopped at the row cap of 5 (max_rows)"));
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,12}",
            "[a-z\\n\\t\\r\\x1b]{0,120}",
            "[日本語é😀\\u{300}]{0,60}",
            (0usize..70_000).prop_map(|n| "x".repeat(n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_result_renders_every_cell_without_panicking(
            columns in prop::collection::vec(any_text(), 0..5),
            rows in prop::collection::vec(
                prop::collection::vec(prop::option::of(any_text()), 0..7),
                0..5,
            ),
        ) {
            let table = render(&result(columns.clone(), rows.clone()));
            prop_assert_eq!(table.lines().count(), rows.len() + 3);
            for text in columns.iter().chain(rows.iter().flatten().flatten()) {
                let shown = clipped(&visible(text));
                prop_assert!(table.contains(shown.trim_end()), "{:?} missing", shown);
                if width(text) <= MAX_CELL_WIDTH && !text.chars().any(char::is_control) {
                    prop_assert_eq!(&shown, text);
                }
            }
        }
    }
}

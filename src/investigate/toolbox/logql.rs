//! `logql {source, query, since?}`: LogQL on a configured Loki over the last `since` (1h by
//! default). A log query gives its newest [`MAX_LINES`] lines, newest last, with their
//! streams; a metric query gives every series with its points.

use super::ToolOutput;
use super::args::{Args, object_schema, pick_source, source_property};
use super::promql::points_text;
use super::setup::{Setup, listed};
use super::when;
use crate::llm::ToolDefinition;
use crate::source::loki::{Direction, LokiResult};
use crate::source::prometheus::subject_of;
use crate::source::registry::Sources;
use chrono::{DateTime, Utc};
use std::fmt::Write;

pub(super) const NAME: &str = "logql";

/// The most log lines shown.
pub(super) const MAX_LINES: u32 = 200;
/// The most characters of one line shown.
const MAX_LINE_CHARS: usize = 2_000;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.loki.is_empty() {
        return None;
    }
    let names: Vec<&str> = setup.loki.iter().map(String::as_str).collect();
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Run LogQL on a configured Loki over the last `since` (default 1h). A log query \
             ({{app=\"shop\"}} |= \"error\") returns its newest {MAX_LINES} lines, newest last; \
             a metric query (sum by (app) (count_over_time({{app=\"shop\"}} |= \"error\" [5m]))) \
             returns its series over that span. Sources: {}.",
            listed(&names)
        ),
        input_schema: object_schema(
            serde_json::json!({
                "source": source_property(&names, "the Loki to ask"),
                "query": {"type": "string", "description": "a LogQL log or metric query"},
                "since": {"type": "string", "description": "how far back, like 15m, 1h or 2d"},
            }),
            &["source", "query"],
        ),
    })
}

pub(super) async fn run(
    setup: &Setup,
    sources: &Sources,
    input: &serde_json::Value,
    now: DateTime<Utc>,
) -> ToolOutput {
    let names: Vec<&str> = setup.loki.iter().map(String::as_str).collect();
    let parsed = (|| {
        let args = Args::new(NAME, input, &["source", "query", "since"])?;
        let source = pick_source(NAME, "Loki", &names, args.optional_text("source", 200)?)?;
        let query = args.text("query", 10_000)?;
        let since = match args.optional_text("since", 100)? {
            Some(text) => when::span(text)?,
            None => std::time::Duration::from_secs(3600),
        };
        Ok::<_, String>((source, query, since))
    })();
    let (name, query, since) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let start = now - chrono::Duration::from_std(since).unwrap_or(chrono::Duration::hours(1));
    let shown = format!(
        "{query} from {} to {}",
        when::shown(start),
        when::shown(now)
    );
    let loki = match sources.loki(name) {
        Ok(loki) => loki,
        Err(error) => return ToolOutput::failed(NAME, Some(name), shown, error.to_string()),
    };
    match loki
        .query_range(query, start, now, MAX_LINES, Direction::Backward)
        .await
    {
        Ok(LokiResult::Streams(streams)) => {
            let lines = streams
                .into_iter()
                .flat_map(|stream| {
                    let labels = subject_of(&stream.labels);
                    stream
                        .entries
                        .into_iter()
                        .map(move |(at, line)| (at, labels.clone(), line))
                })
                .collect();
            ToolOutput::done(NAME, Some(name), shown, lines_text(lines))
        }
        Ok(LokiResult::Matrix(series)) => {
            let series: Vec<(String, Vec<(i64, f64)>)> = series
                .into_iter()
                .map(|s| {
                    let points = s
                        .samples
                        .iter()
                        .map(|(at, v)| (at.timestamp(), *v))
                        .collect();
                    (subject_of(&s.labels), points)
                })
                .collect();
            ToolOutput::done(
                NAME,
                Some(name),
                shown.clone(),
                points_text(&shown, &series),
            )
        }
        Ok(LokiResult::Vector(samples)) => {
            let series: Vec<(String, Vec<(i64, f64)>)> = samples
                .into_iter()
                .map(|s| (subject_of(&s.labels), vec![(s.at.timestamp(), s.value)]))
                .collect();
            ToolOutput::done(
                NAME,
                Some(name),
                shown.clone(),
                points_text(&shown, &series),
            )
        }
        Err(error) => ToolOutput::failed(NAME, Some(name), shown, error.to_string()),
    }
}

/// The newest [`MAX_LINES`] lines, newest last: `time {stream} line`.
pub(super) fn lines_text(mut lines: Vec<(DateTime<Utc>, String, String)>) -> String {
    lines.sort_by_key(|line| line.0);
    let total = lines.len();
    let skip = total.saturating_sub(MAX_LINES as usize);
    let mut out = String::new();
    if total == 0 {
        out.push_str("no lines matched in that span\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{} line{}{}, oldest first:",
        total - skip,
        if total - skip == 1 { "" } else { "s" },
        if skip > 0 || total == MAX_LINES as usize {
            " (the newest; older ones exist: narrow the query or shorten since)"
        } else {
            ""
        }
    );
    for (at, labels, line) in lines.into_iter().skip(skip) {
        let mut text: String = line.chars().take(MAX_LINE_CHARS).collect();
        if text.len() < line.len() {
            text.push('…');
        }
        let _ = writeln!(
            out,
            "{} {labels} {}",
            at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            text.replace(['\n', '\r'], " ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn lines_come_oldest_first_with_their_stream() {
        let at = |s| Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, s).unwrap();
        let text = lines_text(vec![
            (at(5), "{app=\"shop\"}".into(), "second\nline".into()),
            (at(1), "{app=\"shop\"}".into(), "first".into()),
        ]);
        assert_eq!(
            text,
            "2 lines, oldest first:\n2026-11-24T12:00:01.000Z {app=\"shop\"} first\n2026-11-24T12:00:05.000Z {app=\"shop\"} second line\n"
        );
        assert_eq!(lines_text(Vec::new()), "no lines matched in that span\n");
    }

    #[test]
    fn only_the_newest_lines_are_kept() {
        let at = |s: i64| Utc.timestamp_opt(1_790_000_000 + s, 0).unwrap();
        let lines = (0..(MAX_LINES as i64 + 10))
            .map(|i| (at(i), "{a=\"b\"}".to_string(), format!("line {i}")))
            .collect();
        let text = lines_text(lines);
        assert!(
            text.starts_with("200 lines (the newest; older ones exist"),
            "{text}"
        );
        assert!(!text.contains(" line 9\n"));
        assert!(text.contains(" line 10\n"));
        assert!(text.ends_with(" line 209\n"));
    }
}

//! `promql {source, query, start?, end?, step?}`: PromQL on a configured Prometheus, the
//! instant value of every series at `now`, or, given any of start, end or step, every series
//! over a range with its points (at most [`MAX_POINTS`] per series).

use super::ToolOutput;
use super::args::{Args, object_schema, pick_source, source_property};
use super::setup::{Setup, listed};
use super::table;
use super::when;
use crate::llm::ToolDefinition;
use crate::source::registry::Sources;
use crate::watch::format_value;
use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::time::Duration;

pub(super) const NAME: &str = "promql";

/// The most points a range query may ask for per series.
pub(super) const MAX_POINTS: u64 = 1_000;
/// The most series shown.
const MAX_SERIES: usize = 100;
/// The most points printed over all series; past it, series show their summary only.
const MAX_PRINTED_POINTS: usize = 20_000;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.prometheus.is_empty() {
        return None;
    }
    let names: Vec<&str> = setup.prometheus.iter().map(String::as_str).collect();
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Evaluate PromQL on a configured Prometheus. Without start/end/step: the value of \
             every series now. With any of them: every series over the range (start defaults \
             to -1h, end to now; times are RFC 3339 or relative like -6h; step like 1m, \
             chosen for about 100 points when omitted; at most {MAX_POINTS} points per \
             series). Sources: {}.",
            listed(&names)
        ),
        input_schema: object_schema(
            serde_json::json!({
                "source": source_property(&names, "the Prometheus to ask"),
                "query": {"type": "string", "description": "a PromQL expression"},
                "start": {"type": "string", "description": "range start: RFC 3339 or relative like -1h"},
                "end": {"type": "string", "description": "range end: RFC 3339, relative like -10m, or now"},
                "step": {"type": "string", "description": "resolution like 30s or 5m"},
            }),
            &["source", "query"],
        ),
    })
}

/// A range to evaluate over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Range {
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    pub(super) step: Duration,
}

/// The range the arguments ask for, or `None` for an instant query. The step is chosen for
/// about 100 points when not given; more than [`MAX_POINTS`] points are refused.
pub(super) fn range(
    start: Option<&str>,
    end: Option<&str>,
    step: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Range>, String> {
    if start.is_none() && end.is_none() && step.is_none() {
        return Ok(None);
    }
    let end = end.map_or(Ok(now), |text| when::moment(text, now))?;
    let start = match start {
        Some(text) => when::moment(text, now)?,
        None => end - chrono::Duration::hours(1),
    };
    if start >= end {
        return Err(format!(
            "start ({}) must be before end ({})",
            when::shown(start),
            when::shown(end)
        ));
    }
    let seconds = u64::try_from((end - start).num_seconds())
        .unwrap_or(0)
        .max(1);
    let step = match step {
        Some(text) => when::span(text)?,
        None => Duration::from_secs(seconds.div_ceil(100).max(1)),
    };
    let points = seconds / step.as_secs().max(1) + 1;
    if points > MAX_POINTS {
        return Err(format!(
            "a step of {}s over {seconds}s asks for {points} points per series; at most \
             {MAX_POINTS}: use a step of at least {}s or a shorter range",
            step.as_secs(),
            seconds.div_ceil(MAX_POINTS - 1)
        ));
    }
    Ok(Some(Range { start, end, step }))
}

pub(super) async fn run(
    setup: &Setup,
    sources: &Sources,
    input: &serde_json::Value,
    now: DateTime<Utc>,
) -> ToolOutput {
    let names: Vec<&str> = setup.prometheus.iter().map(String::as_str).collect();
    let parsed = (|| {
        let args = Args::new(NAME, input, &["source", "query", "start", "end", "step"])?;
        let source = pick_source(
            NAME,
            "Prometheus",
            &names,
            args.optional_text("source", 200)?,
        )?;
        let query = args.text("query", 10_000)?;
        let range = range(
            args.optional_text("start", 100)?,
            args.optional_text("end", 100)?,
            args.optional_text("step", 100)?,
            now,
        )?;
        Ok::<_, String>((source, query, range))
    })();
    let (name, query, range) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    match range {
        None => {
            let shown = format!("{query} @ {}", when::shown(now));
            let readings = match sources.readings(name) {
                Ok(readings) => readings,
                Err(error) => {
                    return ToolOutput::failed(NAME, Some(name), shown, error.to_string());
                }
            };
            match readings.readings(query, now).await {
                Ok(series) => {
                    let mut rows: Vec<Vec<Option<String>>> = series
                        .iter()
                        .map(|s| vec![Some(s.subject()), Some(format_value(s.value))])
                        .collect();
                    rows.sort();
                    let text = format!(
                        "{} series at {}:\n{}",
                        rows.len(),
                        when::shown(now),
                        table::render_rows(&["series".into(), "value".into()], &rows)
                    );
                    ToolOutput::done(NAME, Some(name), shown, text)
                }
                Err(error) => ToolOutput::failed(NAME, Some(name), shown, error.to_string()),
            }
        }
        Some(range) => {
            let shown = format!(
                "{query} from {} to {} step {}s",
                when::shown(range.start),
                when::shown(range.end),
                range.step.as_secs()
            );
            let series = match sources.series(name) {
                Ok(series) => series,
                Err(error) => {
                    return ToolOutput::failed(NAME, Some(name), shown, error.to_string());
                }
            };
            match series
                .series(query, range.start, range.end, range.step)
                .await
            {
                Ok(found) => {
                    let found: Vec<(String, Vec<(i64, f64)>)> = found.into_iter().collect();
                    ToolOutput::done(NAME, Some(name), shown.clone(), points_text(&shown, &found))
                }
                Err(error) => ToolOutput::failed(NAME, Some(name), shown, error.to_string()),
            }
        }
    }
}

/// Every series with a summary line and its points, `time value`, oldest first.
pub(super) fn points_text(what: &str, series: &[(String, Vec<(i64, f64)>)]) -> String {
    let mut out = format!("{} series for {what}\n", series.len());
    let mut printed = 0;
    for (subject, points) in series.iter().take(MAX_SERIES) {
        let values = points.iter().map(|(_, v)| *v);
        let min = values.clone().fold(f64::INFINITY, f64::min);
        let max = values.fold(f64::NEG_INFINITY, f64::max);
        let _ = write!(out, "\n{subject}: {} points", points.len());
        if let Some((at, last)) = points.last() {
            let _ = write!(
                out,
                ", min {}, max {}, last {} at {}",
                format_value(min),
                format_value(max),
                format_value(*last),
                DateTime::from_timestamp(*at, 0).map_or(at.to_string(), when::shown)
            );
        }
        out.push('\n');
        if printed + points.len() > MAX_PRINTED_POINTS {
            out.push_str("  (points not shown: too many; narrow the query or the range)\n");
            continue;
        }
        for (at, value) in points {
            let at = DateTime::from_timestamp(*at, 0).map_or(at.to_string(), when::shown);
            let _ = writeln!(out, "  {at} {}", format_value(*value));
        }
        printed += points.len();
    }
    if series.len() > MAX_SERIES {
        let _ = writeln!(
            out,
            "\n({} more series not shown: aggregate, e.g. sum by (label) (...), or filter)",
            series.len() - MAX_SERIES
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    #[test]
    fn no_range_argument_is_an_instant_query() {
        assert_eq!(range(None, None, None, now()), Ok(None));
    }

    #[test]
    fn a_range_defaults_to_the_last_hour_in_about_a_hundred_points() {
        let range = range(Some("-1h"), None, None, now()).unwrap().unwrap();
        assert_eq!(range.end, now());
        assert_eq!(range.start, now() - chrono::Duration::hours(1));
        assert_eq!(range.step, Duration::from_secs(36));
        let stepped = super::range(None, None, Some("5m"), now())
            .unwrap()
            .unwrap();
        assert_eq!(stepped.start, now() - chrono::Duration::hours(1));
        assert_eq!(stepped.step, Duration::from_secs(300));
    }

    #[test]
    fn too_many_points_or_a_backwards_range_are_refused_with_the_fix() {
        let dense = range(Some("-7d"), None, Some("1s"), now()).unwrap_err();
        assert!(
            dense.contains("604801 points per series; at most 1000: use a step of at least 606s"),
            "{dense}"
        );
        let backwards = range(Some("-1h"), Some("-2h"), None, now()).unwrap_err();
        assert!(backwards.contains("must be before end"), "{backwards}");
    }

    #[test]
    fn points_are_listed_with_a_summary_per_series() {
        let text = points_text(
            "q",
            &[(
                "{mount=\"/\"}".into(),
                vec![(1_790_000_000, 0.5), (1_790_000_060, 0.25)],
            )],
        );
        assert!(text.starts_with("1 series for q\n"), "{text}");
        assert!(
            text.contains("{mount=\"/\"}: 2 points, min 0.25, max 0.5, last 0.25 at 2026-09-21T"),
            "{text}"
        );
        assert!(text.contains("  2026-09-21T"), "{text}");
        assert_eq!(text.lines().filter(|l| l.starts_with("  ")).count(), 2);
    }
}

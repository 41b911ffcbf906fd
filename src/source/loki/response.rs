//! What Loki answers: log streams, metric series and samples, parsed from the JSON of
//! `/loki/api/v1/query` and `/query_range`, and the message of an error body.

use super::{Labels, SourceErrorKind};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::fmt;

/// At most this much of an error body is quoted in an error.
const EXCERPT_CHARS: usize = 300;

/// One log stream: its labels and its lines. Lines carrying structured metadata are put in a
/// stream of their own whose labels include that metadata, as Loki itself groups them when
/// it is not asked to categorize labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub labels: Labels,
    /// Timestamp (nanosecond precision) and line, in the order Loki sent them.
    pub entries: Vec<(DateTime<Utc>, String)>,
}

/// One series of a metric range query.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    pub labels: Labels,
    /// Oldest first.
    pub samples: Vec<(DateTime<Utc>, f64)>,
}

/// One series of a metric instant query.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// What a LogQL query returned.
#[derive(Debug, Clone, PartialEq)]
pub enum LokiResult {
    /// A log query: lines grouped by stream.
    Streams(Vec<Stream>),
    /// A metric query over a range.
    Matrix(Vec<RangeSeries>),
    /// A metric query at one instant (a scalar comes back as one unlabeled sample).
    Vector(Vec<Sample>),
}

impl LokiResult {
    /// A metric result as one `(labels, value)` per series (a range series by its newest
    /// sample); `None` for log lines.
    pub fn latest_values(self) -> Option<Vec<(Labels, f64)>> {
        match self {
            LokiResult::Vector(samples) => {
                Some(samples.into_iter().map(|s| (s.labels, s.value)).collect())
            }
            LokiResult::Matrix(series) => Some(
                series
                    .into_iter()
                    .filter_map(|s| {
                        let (_, value) = s.samples.last()?;
                        Some((s.labels, *value))
                    })
                    .collect(),
            ),
            LokiResult::Streams(_) => None,
        }
    }

    /// Number of log lines over all streams (0 for metric results).
    pub fn line_count(&self) -> usize {
        match self {
            LokiResult::Streams(streams) => streams.iter().map(|s| s.entries.len()).sum(),
            _ => 0,
        }
    }
}

/// The message of an error body: Loki answers errors in plain text; JSON bodies with an
/// `error` or `message` field (proxies, Prometheus-style) are understood too.
pub(super) fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
        ["error", "message"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_str).map(str::to_string))
    });
    let message = from_json.unwrap_or_else(|| text.trim().to_string());
    if message.is_empty() {
        return "(empty body)".to_string();
    }
    excerpt(&message)
}

fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

pub(super) type ParseError = (SourceErrorKind, String);

fn bad(detail: impl fmt::Display) -> ParseError {
    (
        SourceErrorKind::BadResponse,
        format!("response is not Loki API JSON: {detail}"),
    )
}

/// Parses a `/loki/api/v1/query` or `/query_range` success body.
pub(super) fn parse_response(body: &[u8]) -> Result<LokiResult, ParseError> {
    let root: Value = serde_json::from_slice(body).map_err(bad)?;
    match root.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let message = root
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            let kind = match root.get("errorType").and_then(Value::as_str) {
                Some("bad_data") => SourceErrorKind::QueryRejected,
                _ => SourceErrorKind::BadResponse,
            };
            return Err((kind, excerpt(message)));
        }
        other => return Err(bad(format!("status is {other:?}, not \"success\""))),
    }
    let data = root.get("data").ok_or_else(|| bad("no data"))?;
    let result = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("data.result is not an array"))?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("streams") => parse_streams(result).map(LokiResult::Streams),
        Some("matrix") => result
            .iter()
            .map(parse_series)
            .collect::<Result<_, _>>()
            .map(LokiResult::Matrix),
        Some("vector") => result
            .iter()
            .map(|item| {
                let (at, value) = parse_point(item.get("value").ok_or_else(|| bad("no value"))?)?;
                Ok(Sample {
                    labels: labels_of(item.get("metric"))?,
                    at,
                    value,
                })
            })
            .collect::<Result<_, _>>()
            .map(LokiResult::Vector),
        Some("scalar") => {
            let (at, value) = parse_point(&Value::Array(result.clone()))?;
            Ok(LokiResult::Vector(vec![Sample {
                labels: Labels::new(),
                at,
                value,
            }]))
        }
        other => Err(bad(format!("unknown resultType {other:?}"))),
    }
}

fn labels_of(value: Option<&Value>) -> Result<Labels, ParseError> {
    match value {
        None | Some(Value::Null) => Ok(Labels::new()),
        Some(Value::Object(map)) => Ok(string_map(map)),
        Some(other) => Err(bad(format!("labels are not an object: {other}"))),
    }
}

fn string_map(map: &Map<String, Value>) -> Labels {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Structured metadata of an entry: either a flat object, or (with the `categorize-labels`
/// encoding flag) `{"structuredMetadata": {...}, "parsed": {...}}`.
fn metadata_of(value: &Value) -> Result<Labels, ParseError> {
    let Value::Object(map) = value else {
        return Err(bad(format!("entry metadata is not an object: {value}")));
    };
    let categorized = ["structuredMetadata", "parsed"];
    if !map.is_empty() && map.keys().all(|k| categorized.contains(&k.as_str())) {
        let mut labels = Labels::new();
        for key in categorized {
            if let Some(Value::Object(inner)) = map.get(key) {
                labels.extend(string_map(inner));
            }
        }
        Ok(labels)
    } else {
        Ok(string_map(map))
    }
}

fn parse_streams(result: &[Value]) -> Result<Vec<Stream>, ParseError> {
    let mut streams: Vec<Stream> = Vec::with_capacity(result.len());
    for item in result {
        let labels = labels_of(item.get("stream"))?;
        let values = item
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a stream has no values array"))?;
        let mut plain = Vec::with_capacity(values.len());
        let mut with_metadata: Vec<Stream> = Vec::new();
        for value in values {
            let parts = value
                .as_array()
                .filter(|p| p.len() == 2 || p.len() == 3)
                .ok_or_else(|| {
                    bad(format!(
                        "a stream value is not [ts, line(, metadata)]: {value}"
                    ))
                })?;
            let nanos = parts[0]
                .as_str()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| bad(format!("timestamp {} is not nanoseconds", parts[0])))?;
            let line = parts[1]
                .as_str()
                .ok_or_else(|| bad(format!("log line {} is not a string", parts[1])))?
                .to_string();
            let entry = (DateTime::from_timestamp_nanos(nanos), line);
            let metadata = match parts.get(2) {
                Some(meta) => metadata_of(meta)?,
                None => Labels::new(),
            };
            if metadata.is_empty() {
                plain.push(entry);
                continue;
            }
            let mut merged = metadata;
            merged.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            match with_metadata.iter_mut().find(|s| s.labels == merged) {
                Some(stream) => stream.entries.push(entry),
                None => with_metadata.push(Stream {
                    labels: merged,
                    entries: vec![entry],
                }),
            }
        }
        if !plain.is_empty() || with_metadata.is_empty() {
            streams.push(Stream {
                labels,
                entries: plain,
            });
        }
        streams.extend(with_metadata);
    }
    Ok(streams)
}

fn parse_series(item: &Value) -> Result<RangeSeries, ParseError> {
    let values = item
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("a series has no values array"))?;
    Ok(RangeSeries {
        labels: labels_of(item.get("metric"))?,
        samples: values.iter().map(parse_point).collect::<Result<_, _>>()?,
    })
}

/// `[<unix seconds, number>, "<value>"]`.
fn parse_point(point: &Value) -> Result<(DateTime<Utc>, f64), ParseError> {
    let parts = point
        .as_array()
        .filter(|p| p.len() == 2)
        .ok_or_else(|| bad(format!("a sample is not [ts, value]: {point}")))?;
    let seconds = match &parts[0] {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite())
    .ok_or_else(|| bad(format!("sample timestamp {} is not seconds", parts[0])))?;
    let at = DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
        .ok_or_else(|| bad(format!("sample timestamp {seconds} is out of range")))?;
    let value = parts[1]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or_else(|| bad(format!("sample value {} is not a number string", parts[1])))?;
    Ok((at, value))
}

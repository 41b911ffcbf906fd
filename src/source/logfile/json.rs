//! Parsing of JSON lines: message, level and timestamp fields.

use super::level::normalize_level;
use serde_json::{Map, Value};

/// What a JSON line says.
pub(crate) struct JsonFields {
    pub message: Option<String>,
    pub level: Option<String>,
    pub at: Option<String>,
}

const MESSAGE_FIELDS: &[&str] = &["msg", "message"];
const LEVEL_FIELDS: &[&str] = &["level", "lvl", "severity", "log.level"];
const TIME_FIELDS: &[&str] = &["time", "ts", "timestamp", "@timestamp", "t"];

/// Fields of `line` if it is a JSON object, `None` otherwise.
pub(crate) fn parse(
    line: &str,
    message_field: Option<&str>,
    level_field: Option<&str>,
) -> Option<JsonFields> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) else {
        return None;
    };
    let message = pick(&map, message_field, MESSAGE_FIELDS).and_then(value_text);
    let level = pick(&map, level_field, LEVEL_FIELDS).and_then(level_text);
    let at = pick(&map, None, TIME_FIELDS).and_then(value_text);
    Some(JsonFields { message, level, at })
}

/// The configured field, or the first of the usual names present. A dotted name also
/// looks inside nested objects (`log.level` matches `{"log":{"level":..}}`).
fn pick<'a>(map: &'a Map<String, Value>, field: Option<&str>, auto: &[&str]) -> Option<&'a Value> {
    match field {
        Some(f) => lookup(map, f),
        None => auto.iter().find_map(|f| lookup(map, f)),
    }
}

fn lookup<'a>(map: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(field) {
        return Some(v);
    }
    let (head, rest) = field.split_once('.')?;
    match map.get(head)? {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Level from a string (`"error"`, `"Warning"`) or a number (pino/bunyan: 10 trace ... 60 fatal).
fn level_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(
            normalize_level(s)
                .map(str::to_string)
                .unwrap_or_else(|| s.to_ascii_uppercase()),
        ),
        Value::Number(n) => {
            let n = n.as_f64()?;
            let level = if n >= 60.0 {
                "FATAL"
            } else if n >= 50.0 {
                "ERROR"
            } else if n >= 40.0 {
                "WARN"
            } else if n >= 30.0 {
                "INFO"
            } else if n >= 20.0 {
                "DEBUG"
            } else {
                "TRACE"
            };
            Some(level.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_fields() {
        let f = parse(
            r#"{"time":"2024-05-01T12:00:00Z","level":"warning","msg":"disk 91%"}"#,
            None,
            None,
        )
        .unwrap();
        assert_eq!(f.message.as_deref(), Some("disk 91%"));
        assert_eq!(f.level.as_deref(), Some("WARN"));
        assert_eq!(f.at.as_deref(), Some("2024-05-01T12:00:00Z"));
    }

    #[test]
    fn configured_and_nested_fields() {
        let f = parse(
            r#"{"log":{"level":"ERROR"},"text":"boom","message":"other"}"#,
            Some("text"),
            Some("log.level"),
        )
        .unwrap();
        assert_eq!(f.message.as_deref(), Some("boom"));
        assert_eq!(f.level.as_deref(), Some("ERROR"));
    }

    #[test]
    fn numeric_and_unknown_levels() {
        let f = parse(r#"{"level":50,"message":"x"}"#, None, None).unwrap();
        assert_eq!(f.level.as_deref(), Some("ERROR"));
        let f = parse(r#"{"severity":"audit"}"#, None, None).unwrap();
        assert_eq!(f.level.as_deref(), Some("AUDIT"));
        assert!(f.message.is_none());
    }

    #[test]
    fn not_json() {
        assert!(parse("plain text", None, None).is_none());
        assert!(parse("{broken", None, None).is_none());
        assert!(parse("[1,2]", None, None).is_none());
    }
}

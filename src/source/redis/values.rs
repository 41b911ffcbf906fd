//! Reading what Redis answers about a queue: Redis values as strings and numbers, job times
//! in the shapes the queue libraries write them (epoch seconds, milliseconds, microseconds,
//! ISO 8601, stream ids), and the parts of `XINFO GROUPS` and `XPENDING` replies the probes use.

use chrono::{DateTime, NaiveDateTime, Utc};
use redis::Value;
use serde_json::Value as Json;
use std::time::Duration;

/// How long ago `at` was; zero for times in the future.
pub(super) fn age(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (now - at).to_std().unwrap_or(Duration::ZERO)
}

/// A Unix time in seconds, milliseconds (above 1e12) or microseconds (above 1e15).
pub(super) fn epoch_time(value: f64) -> Option<DateTime<Utc>> {
    if !value.is_finite() || value <= 0.0 {
        return None;
    }
    let micros = if value > 1e15 {
        value
    } else if value > 1e12 {
        value * 1e3
    } else {
        value * 1e6
    };
    if micros >= i64::MAX as f64 {
        return None;
    }
    DateTime::from_timestamp_micros(micros as i64)
}

/// ISO 8601 / RFC 3339; a time without offset is taken as UTC.
pub(super) fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// A timestamp in JSON: a number or numeric string (Unix time), or an ISO 8601 string.
pub(super) fn json_time(value: &Json) -> Option<DateTime<Utc>> {
    match value {
        Json::Number(n) => n.as_f64().and_then(epoch_time),
        Json::String(s) => match s.trim().parse::<f64>() {
            Ok(v) => epoch_time(v),
            Err(_) => parse_iso(s.trim()),
        },
        _ => None,
    }
}

pub(super) fn json_object(raw: &[u8]) -> Option<serde_json::Map<String, Json>> {
    match serde_json::from_slice::<Json>(raw) {
        Ok(Json::Object(map)) => Some(map),
        _ => None,
    }
}

pub(super) fn json_id(map: &serde_json::Map<String, Json>, fields: &[&str]) -> Option<String> {
    fields.iter().find_map(|f| match map.get(*f) {
        Some(Json::String(s)) => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

pub(super) fn value_string(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn value_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        other => value_string(other).and_then(|s| s.parse().ok()),
    }
}

pub(super) fn value_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Double(d) => Some(*d),
        Value::Int(n) => Some(*n as f64),
        other => value_string(other).and_then(|s| s.parse().ok()),
    }
}

/// The millisecond part of a stream id `<ms>-<seq>`.
pub(super) fn stream_id_time(id: &str) -> Option<DateTime<Utc>> {
    let ms = id.split('-').next()?.parse::<i64>().ok()?;
    DateTime::from_timestamp_millis(ms)
}

/// The id of the first entry in an `XRANGE` answer.
pub(super) fn first_entry_id(entries: &Value) -> Option<String> {
    match entries {
        Value::Array(items) => match items.first()? {
            Value::Array(entry) => entry.first().and_then(value_string),
            _ => None,
        },
        _ => None,
    }
}

/// The fields of one group in an `XINFO GROUPS` answer, flat array (RESP2) or map (RESP3).
pub(super) fn group_info(groups: &Value, group: &str) -> Option<Vec<(String, Value)>> {
    let Value::Array(groups) = groups else {
        return None;
    };
    groups.iter().find_map(|g| {
        let fields: Vec<(String, Value)> = match g {
            Value::Array(flat) => flat
                .chunks(2)
                .filter_map(|pair| match pair {
                    [k, v] => Some((value_string(k)?, v.clone())),
                    _ => None,
                })
                .collect(),
            Value::Map(pairs) => pairs
                .iter()
                .filter_map(|(k, v)| Some((value_string(k)?, v.clone())))
                .collect(),
            _ => return None,
        };
        let named = fields
            .iter()
            .any(|(k, v)| k == "name" && value_string(v).as_deref() == Some(group));
        named.then_some(fields)
    })
}

/// `XPENDING key group` summary: the pending count and the smallest pending id.
pub(super) fn pending_summary(summary: &Value) -> Option<(u64, Option<String>)> {
    let Value::Array(items) = summary else {
        return None;
    };
    let count = value_u64(items.first()?)?;
    let smallest = items.get(1).and_then(value_string);
    Some((count, smallest))
}

//! Reading what SQL queries give back: the text of a cell as a time or a number, and a query
//! failure as the blindness it causes. Databases print times in many shapes (PostgreSQL's
//! `2026-11-28 02:13:00.5+00`, MySQL's `2026-11-28 02:13:00`, ISO 8601 with `T` and `Z`,
//! Rails' `2026-11-28 02:13:00 UTC`, Unix seconds or milliseconds); all of them are read as
//! UTC unless they say otherwise.

use crate::source::sql::database::QueryError;
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// A database's text for a moment, as UTC.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let text = text.strip_suffix(" UTC").unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    if let Ok(number) = text.parse::<f64>() {
        if !number.is_finite() {
            return None;
        }
        // Milliseconds since the epoch are 13 digits for this century; seconds are 10.
        let millis = if number.abs() >= 1e12 {
            number
        } else {
            number * 1000.0
        };
        return Utc.timestamp_millis_opt(millis as i64).single();
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let spaced = text.replacen('T', " ", 1);
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(at) = DateTime::parse_from_str(&spaced, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    let naive = spaced.trim_end_matches('Z');
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(at.and_utc());
        }
        if format == "%Y-%m-%d"
            && let Ok(day) = chrono::NaiveDate::parse_from_str(naive, format)
        {
            return day.and_hms_opt(0, 0, 0).map(|at| at.and_utc());
        }
    }
    None
}

/// A cell as a number (`NULL` and text that is not a number are `None`).
pub(crate) fn parse_number(cell: Option<&str>) -> Option<f64> {
    cell.and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|value| value.is_finite())
}

/// A failed query as what it means for the watch: a refusal is the watch's fault (its query
/// must change), anything else means the database cannot be seen.
pub(crate) fn blindness(source: &str, error: QueryError) -> SourceError {
    match error {
        QueryError::Refused(refusal) => SourceError::new(
            source,
            SourceErrorKind::QueryRejected,
            format!("refused before reaching the database: {refusal}"),
        ),
        QueryError::Source(error) => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> String {
        parse_time(text).map_or("none".into(), |t| t.to_rfc3339())
    }

    #[test]
    fn times_in_every_common_database_shape() {
        let expected = "2026-11-28T02:13:00+00:00";
        assert_eq!(at("2026-11-28 02:13:00"), expected);
        assert_eq!(at("2026-11-28 02:13:00+00"), expected);
        assert_eq!(at("2026-11-28 03:13:00+01"), expected);
        assert_eq!(at("2026-11-28T02:13:00Z"), expected);
        assert_eq!(at("2026-11-28T02:13:00"), expected);
        assert_eq!(at("2026-11-28 03:13:00+01:00"), expected);
        assert_eq!(at("2026-11-28 02:13:00 UTC"), expected);
        assert_eq!(at("1795831980"), expected);
        assert_eq!(at("1795831980000"), expected);
        assert_eq!(
            at("2026-11-28 02:13:00.250+00"),
            "2026-11-28T02:13:00.250+00:00"
        );
        assert_eq!(at("2026-11-28"), "2026-11-28T00:00:00+00:00");
        assert_eq!(at("yesterday"), "none");
        assert_eq!(at(""), "none");
        assert_eq!(at("NaN"), "none");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(Some(" 12.5")), Some(12.5));
        assert_eq!(parse_number(Some("x")), None);
        assert_eq!(parse_number(None), None);
        assert_eq!(parse_number(Some("inf")), None);
    }
}

//! The moment a log line was written, read from its own text: the time a line format already
//! picked out (a JSON time field, an ISO-8601 / RFC 3339 prefix, an access log's
//! `[10/Oct/2026:13:55:36 +0000]`), or a syslog `Oct 10 13:55:36` prefix, whose year is not
//! written and is taken from the period being read. Times without a zone are UTC.

use super::json;
use chrono::{DateTime, Datelike, NaiveDateTime, Utc};

/// When `raw` was written: `at` is the time its format picked out, if any. `reference` is a
/// moment near the line (the end of the period read), for the year a syslog prefix leaves out.
pub(crate) fn line_time(
    raw: &str,
    at: Option<&str>,
    reference: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    at.and_then(written_time)
        .or_else(|| json_time(raw))
        .or_else(|| syslog_time(raw, reference))
}

/// A written time: RFC 3339 and its relatives (`2026-11-28 04:00:01,123`, `2026/11/28 ...`),
/// an access log's `10/Oct/2026:13:55:36 +0000`, or Unix epoch seconds / milliseconds.
pub(crate) fn written_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(at) = crate::logs::access::parse_clf_time(text.as_bytes()) {
        return Some(at.with_timezone(&Utc));
    }
    let normalized = normalize_iso(text);
    crate::source::sql::values::parse_time(&normalized)
}

/// `2026/11/28 04:00:01,123` as `2026-11-28 04:00:01.123`.
fn normalize_iso(text: &str) -> String {
    let mut out: String = text
        .char_indices()
        .map(|(i, c)| {
            if (i == 4 || i == 7) && c == '/' {
                '-'
            } else {
                c
            }
        })
        .collect();
    if let Some(comma) = out.get(19..20).filter(|c| *c == ",").map(|_| 19) {
        out.replace_range(comma..comma + 1, ".");
    }
    out
}

/// The time field of a JSON line, whatever the watch's line format.
fn json_time(raw: &str) -> Option<DateTime<Utc>> {
    json::parse(raw, None, None)?
        .at
        .as_deref()
        .and_then(written_time)
}

/// `Oct 10 13:55:36` (or `Oct  1 ...`) at the start of a syslog line, in the year that puts it
/// closest before `reference` (a December line read in January belongs to the year before).
fn syslog_time(raw: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let head = raw.get(..15)?;
    let year = reference.year();
    let parse = |year: i32| {
        NaiveDateTime::parse_and_remainder(&format!("{year} {head}"), "%Y %b %e %H:%M:%S")
            .ok()
            .map(|(at, _)| at.and_utc())
    };
    let at = parse(year)?;
    if at > reference + chrono::Duration::days(1) {
        return parse(year - 1);
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn time_of(raw: &str) -> Option<DateTime<Utc>> {
        let at = super::super::level::plain_timestamp(raw);
        line_time(raw, at.as_deref(), utc("2026-12-05T00:00:00Z"))
    }

    #[test]
    fn the_usual_prefixes_and_fields_give_the_moment() {
        let expected = Some(utc("2026-10-10T13:55:36Z"));
        assert_eq!(time_of("2026-10-10T13:55:36Z ERROR boom"), expected);
        assert_eq!(time_of("2026-10-10T15:55:36+02:00 ERROR boom"), expected);
        assert_eq!(time_of("2026-10-10 13:55:36 ERROR boom"), expected);
        assert_eq!(time_of("2026/10/10 13:55:36 [error] 12#12: boom"), expected);
        assert_eq!(
            time_of("2026-10-10 13:55:36,250 ERROR boom"),
            Some(utc("2026-10-10T13:55:36.250Z"))
        );
        assert_eq!(
            time_of(
                r#"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl""#
            ),
            expected
        );
        assert_eq!(
            time_of(r#"{"level":"error","time":"2026-10-10T13:55:36Z","msg":"boom"}"#),
            expected
        );
        assert_eq!(
            time_of(r#"{"level":50,"time":1791640536000,"msg":"boom"}"#),
            expected
        );
        assert_eq!(time_of("Oct 10 13:55:36 web1 app[12]: boom"), expected);
        assert_eq!(
            time_of("Oct  1 13:55:36 web1 app[12]: boom"),
            Some(utc("2026-10-01T13:55:36Z"))
        );
    }

    #[test]
    fn a_syslog_line_from_late_last_year_is_not_put_in_the_future() {
        let january = utc("2027-01-02T00:00:00Z");
        assert_eq!(
            line_time("Dec 31 23:59:00 web1 cron: done", None, january),
            Some(utc("2026-12-31T23:59:00Z"))
        );
    }

    #[test]
    fn a_line_without_a_time_has_none() {
        assert_eq!(time_of("ERROR boom"), None);
        assert_eq!(time_of("    at com.shop.Orders.show(Orders.java:42)"), None);
        assert_eq!(time_of(r#"{"msg":"no time here"}"#), None);
    }
}

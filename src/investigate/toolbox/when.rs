//! Times and spans as a model writes them: `now`, RFC 3339 (`2026-11-24T10:00:00Z`), or
//! relative to now (`-1h`, `30m ago`); spans like `1h` or `90m`.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How far back any tool reaches.
pub(super) const MAX_LOOKBACK: Duration = Duration::from_secs(90 * 86_400);

/// A span such as `1h`, `90m` or `2d` (a leading `-` is allowed), from one second to
/// [`MAX_LOOKBACK`].
pub(super) fn span(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let bare = trimmed
        .strip_prefix('-')
        .unwrap_or(trimmed)
        .trim_end_matches(" ago")
        .trim();
    let span = humantime::parse_duration(bare).map_err(|_| {
        format!("{text:?} is not a span of time: write a number with a unit, like 15m, 1h or 2d")
    })?;
    if span < Duration::from_secs(1) || span > MAX_LOOKBACK {
        return Err(format!(
            "{text:?} is out of range: a span from 1s to {}d",
            MAX_LOOKBACK.as_secs() / 86_400
        ));
    }
    Ok(span)
}

/// A moment: `now`, an RFC 3339 time, or a span before `now` (`-1h`, `1h ago`). Moments after
/// `now` and before [`MAX_LOOKBACK`] are refused.
pub(super) fn moment(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let trimmed = text.trim();
    let at = if trimmed.eq_ignore_ascii_case("now") {
        now
    } else if let Ok(at) = DateTime::parse_from_rfc3339(trimmed) {
        at.with_timezone(&Utc)
    } else if trimmed.starts_with('-') || trimmed.ends_with(" ago") {
        let back = span(trimmed)?;
        now - chrono::Duration::from_std(back).map_err(|e| e.to_string())?
    } else {
        return Err(format!(
            "{text:?} is not a time: write now, an RFC 3339 time like 2026-11-24T10:00:00Z, or a time before now like -1h"
        ));
    };
    let earliest = now - chrono::Duration::from_std(MAX_LOOKBACK).map_err(|e| e.to_string())?;
    if at > now {
        return Err(format!(
            "{text:?} is in the future (now is {})",
            now.to_rfc3339()
        ));
    }
    if at < earliest {
        return Err(format!(
            "{text:?} is more than {}d ago",
            MAX_LOOKBACK.as_secs() / 86_400
        ));
    }
    Ok(at)
}

/// A moment as the tools print it, to the second, in UTC.
pub(super) fn shown(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    #[test]
    fn moments_are_now_rfc3339_or_before_now() {
        assert_eq!(moment("now", now()).unwrap(), now());
        assert_eq!(
            moment("-1h", now()).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap()
        );
        assert_eq!(
            moment("30m ago", now()).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 24, 11, 30, 0).unwrap()
        );
        assert_eq!(
            moment("2026-11-24T10:00:00+01:00", now()).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
        );
    }

    #[test]
    fn moments_out_of_reach_or_unreadable_say_what_is_expected() {
        assert!(moment("+1h", now()).unwrap_err().contains("is not a time"));
        assert!(
            moment("2026-11-25T00:00:00Z", now())
                .unwrap_err()
                .contains("in the future")
        );
        assert!(moment("-400d", now()).unwrap_err().contains("out of range"));
        assert!(
            moment("2020-01-01T00:00:00Z", now())
                .unwrap_err()
                .contains("more than 90d ago")
        );
        assert!(moment("yesterday", now()).unwrap_err().contains("like -1h"));
    }

    #[test]
    fn spans_are_bounded() {
        assert_eq!(span("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(span("-2h").unwrap(), Duration::from_secs(7200));
        assert!(span("0s").unwrap_err().contains("out of range"));
        assert!(span("1000d").unwrap_err().contains("out of range"));
        assert!(span("soon").unwrap_err().contains("like 15m"));
    }
}

//! How dates and counts are written in the evidence pack.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// "2026-03-01 14:05 UTC".
pub(super) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "2026-03-01".
pub(super) fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// "2026-03-01T14:05:00Z".
pub(super) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// "1,234".
pub(super) fn count(value: usize) -> String {
    crate::evidence::money::group_thousands(value as u64)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn dates_are_written_in_utc_to_the_minute() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 14, 5, 59).unwrap();
        assert_eq!(when(at), "2026-03-01 14:05 UTC");
        assert_eq!(rfc3339(at), "2026-03-01T14:05:59Z");
        assert_eq!(count(1234567), "1,234,567");
    }
}

//! Short, human wording for durations and moments, as they appear in pages.

use chrono::{DateTime, TimeZone, Utc};

/// `90` -> `1m 30s`, `3600` -> `1h`, `93600` -> `1d 2h`: the largest unit and, if not zero,
/// the next one down; smaller remainders are dropped.
pub(crate) fn duration_secs(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let Some(first) = units.iter().position(|(size, _)| seconds >= *size) else {
        return "0s".to_string();
    };
    let (size, name) = units[first];
    let mut text = format!("{}{name}", seconds / size);
    if let Some((next_size, next_name)) = units.get(first + 1) {
        let next = (seconds % size) / next_size;
        if next > 0 {
            text.push_str(&format!(" {next}{next_name}"));
        }
    }
    text
}

/// A std duration the same way.
pub(crate) fn duration(d: std::time::Duration) -> String {
    duration_secs(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A moment relative to `now`, in `tz`: `today 03:12`, `yesterday 03:12`, `Mon 03:12`, or
/// `2026-11-02 03:12` when older than a week.
pub(crate) fn moment<Tz: TimeZone>(at: DateTime<Utc>, now: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let local = at.with_timezone(tz);
    let today = now.with_timezone(tz).date_naive();
    let days = (today - local.date_naive()).num_days();
    let clock = local.format("%H:%M");
    match days {
        0 => format!("today {clock}"),
        1 => format!("yesterday {clock}"),
        -1 => format!("tomorrow {clock}"),
        2..=6 => format!("{} {clock}", local.format("%a")),
        _ => format!("{} {clock}", local.format("%Y-%m-%d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_secs(0), "0s");
        assert_eq!(duration_secs(45), "45s");
        assert_eq!(duration_secs(90), "1m 30s");
        assert_eq!(duration_secs(3600), "1h");
        assert_eq!(duration_secs(3_660), "1h 1m");
        assert_eq!(duration_secs(93_600), "1d 2h");
        assert_eq!(duration_secs(86_460), "1d");
        assert_eq!(duration_secs(3 * 86_400 + 8), "3d");
        assert_eq!(duration_secs(3_605), "1h");
        assert_eq!(duration_secs(-5), "0s");
    }

    #[test]
    fn moments_are_relative_to_now() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap(); // 2027-01-15 08:00 UTC
        let same_day = now - chrono::Duration::hours(5);
        assert_eq!(moment(same_day, now, &Utc), "today 03:00");
        let yesterday = now - chrono::Duration::hours(29);
        assert_eq!(moment(yesterday, now, &Utc), "yesterday 03:00");
        let old = now - chrono::Duration::days(30);
        assert!(
            moment(old, now, &Utc).starts_with("2026-12-16"),
            "{}",
            moment(old, now, &Utc)
        );
    }
}

//! The period a backtest replays: each end as RFC 3339 or as a time before now (`7d`, `36h`),
//! `now` for the present; the start before the end; since when log watches had been learning
//! (`--learned-before`), at or before the start.

use chrono::{DateTime, Utc};

/// From when to when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Reads one end of the window.
pub fn moment(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let ago = humantime::parse_duration(text).map_err(|_| {
        format!("“{text}” is neither a time (2026-11-28T09:00:00Z) nor a span before now (7d, 36h)")
    })?;
    let ago = chrono::Duration::from_std(ago).map_err(|_| format!("“{text}” is too long ago"))?;
    now.checked_sub_signed(ago)
        .ok_or_else(|| format!("“{text}” is too long ago"))
}

impl Window {
    /// The window `from`..`to` as written, checked.
    pub fn parse(from: &str, to: &str, now: DateTime<Utc>) -> Result<Window, String> {
        let window = Window {
            from: moment(from, now).map_err(|e| format!("--from: {e}"))?,
            to: moment(to, now).map_err(|e| format!("--to: {e}"))?,
        };
        if window.from >= window.to {
            return Err(format!(
                "--from ({}) must come before --to ({})",
                window.from.to_rfc3339(),
                window.to.to_rfc3339()
            ));
        }
        if window.to > now {
            return Err(format!(
                "--to ({}) is in the future: history ends now",
                window.to.to_rfc3339()
            ));
        }
        Ok(window)
    }

    /// `--learned-before`: since when the log watches had been running, at or before the start.
    pub fn learned_before(&self, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        let at = moment(text, now).map_err(|e| format!("--learned-before: {e}"))?;
        if at > self.from {
            return Err(format!(
                "--learned-before ({}) must not come after --from ({}): the replay starts at --from",
                at.to_rfc3339(),
                self.from.to_rfc3339()
            ));
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ends_are_times_or_spans_before_now_and_must_be_in_order() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap();
        let window = Window::parse("7d", "now", now).unwrap();
        assert_eq!(window.from, now - chrono::Duration::days(7));
        assert_eq!(window.to, now);
        let window = Window::parse("2026-12-01T00:00:00Z", "36h", now).unwrap();
        assert_eq!(window.to, now - chrono::Duration::hours(36));
        let backwards = Window::parse("1h", "2h", now).unwrap_err();
        assert!(backwards.contains("must come before"), "{backwards}");
        assert!(
            Window::parse("yesterday", "now", now)
                .unwrap_err()
                .starts_with("--from: “yesterday”")
        );
        assert!(
            Window::parse("2d", "2026-12-06T00:00:00Z", now)
                .unwrap_err()
                .contains("future")
        );
    }

    #[test]
    fn learning_may_start_before_the_window_but_not_after_its_start() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let window = Window::parse("7d", "now", now).unwrap();
        assert_eq!(
            window.learned_before("30d", now),
            Ok(now - chrono::Duration::days(30))
        );
        assert_eq!(window.learned_before("7d", now), Ok(window.from));
        let late = window.learned_before("1d", now).unwrap_err();
        assert!(late.contains("must not come after --from"), "{late}");
    }
}

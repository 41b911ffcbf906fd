//! Keeping a pack readable and within what Stripe accepts: a long section shows its first and
//! last rows and says what it left out; a long timeline keeps every account event (sign-up,
//! verification, payments, terms) and the first and last logins and uses, the daily chart
//! counting them all.

use chrono::{DateTime, Utc};

use crate::evidence::pack::{SectionKind, Table, Timeline, TimelineEntry};

/// Rows a section's table shows at most.
pub(crate) const TABLE_ROWS: usize = 40;
/// Timeline entries a pack shows at most.
pub(crate) const TIMELINE_ENTRIES: usize = 600;
/// Of those, how many of the first logins and uses are kept (the rest are the latest).
const TIMELINE_FIRST: usize = 60;

/// `rows` as a table, cut to its first and last rows when long.
pub(crate) fn table(columns: &[String], rows: &[Vec<Option<String>>], noun: &str) -> Table {
    let total_rows = rows.len();
    let times: Vec<bool> = columns.iter().map(|c| is_time_column(c)).collect();
    let text = |row: &Vec<Option<String>>| -> Vec<String> {
        row.iter()
            .zip(&times)
            .map(|(cell, &time)| match cell {
                Some(value) if time => readable_time(value),
                Some(value) => value.clone(),
                None => String::new(),
            })
            .collect()
    };
    if total_rows <= TABLE_ROWS {
        return Table {
            columns: columns.to_vec(),
            rows: rows.iter().map(text).collect(),
            total_rows,
            omitted: None,
        };
    }
    let head = TABLE_ROWS / 2;
    let tail = TABLE_ROWS - head;
    let mut shown: Vec<Vec<String>> = rows[..head].iter().map(text).collect();
    shown.extend(rows[total_rows - tail..].iter().map(text));
    Table {
        columns: columns.to_vec(),
        rows: shown,
        total_rows,
        omitted: Some(format!(
            "{} {noun} rows between the first {head} and the last {tail} are left out of this table ({} in all); the activity chart and the device and location tables count every one",
            group(total_rows - TABLE_ROWS),
            group(total_rows)
        )),
    }
}

/// Whether a column holds moments, by its name (`time`, `at`, `created_at`, `last_login`...).
fn is_time_column(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "time" | "at" | "timestamp" | "date_joined" | "last_login"
    ) || name.ends_with("_at")
}

/// A database's moment as "2026-01-09 19:56 UTC"; text that is not one, unchanged.
fn readable_time(value: &str) -> String {
    let is_number = value.trim().parse::<f64>().is_ok();
    match crate::source::sql::values::parse_time(value) {
        Some(at) if !is_number => at.format("%Y-%m-%d %H:%M UTC").to_string(),
        _ => value.to_string(),
    }
}

/// The timeline, summarised when longer than [`TIMELINE_ENTRIES`].
pub(crate) fn timeline(mut entries: Vec<TimelineEntry>) -> Timeline {
    entries.sort_by_key(|entry| entry.at);
    if entries.len() <= TIMELINE_ENTRIES {
        return Timeline {
            entries,
            omitted: None,
        };
    }
    let frequent =
        |entry: &TimelineEntry| matches!(entry.kind, SectionKind::Logins | SectionKind::Usage);
    let account_events = entries.iter().filter(|e| !frequent(e)).count();
    let keep_account = account_events.min(TIMELINE_ENTRIES / 2);
    let budget = TIMELINE_ENTRIES - keep_account;
    let activity: Vec<usize> = (0..entries.len())
        .filter(|&i| frequent(&entries[i]))
        .collect();
    let first = TIMELINE_FIRST.min(budget / 2);
    let last = budget - first;
    let mut keep = vec![false; entries.len()];
    let mut kept_account = 0;
    for (index, entry) in entries.iter().enumerate().rev() {
        if !frequent(entry) && kept_account < keep_account {
            keep[index] = true;
            kept_account += 1;
        }
    }
    let (mut gap_from, mut gap_to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (None, None);
    for (position, &index) in activity.iter().enumerate() {
        if position < first || position >= activity.len().saturating_sub(last) {
            keep[index] = true;
        } else {
            gap_from.get_or_insert(entries[index].at);
            gap_to = Some(entries[index].at);
        }
    }
    let total = entries.len();
    let left_activity = activity.iter().filter(|&&i| !keep[i]).count();
    let left_account = account_events - kept_account;
    let kept: Vec<TimelineEntry> = entries
        .into_iter()
        .zip(keep)
        .filter_map(|(entry, keep)| keep.then_some(entry))
        .collect();
    let mut words = Vec::new();
    if left_activity > 0 {
        let span = match (gap_from, gap_to) {
            (Some(from), Some(to)) => format!(
                " between {} and {}",
                from.format("%Y-%m-%d"),
                to.format("%Y-%m-%d")
            ),
            _ => String::new(),
        };
        words.push(format!(
            "{} logins and uses{span} are left out of the timeline (the activity chart counts them per day)",
            group(left_activity)
        ));
    }
    if left_account > 0 {
        words.push(format!(
            "{} older account events are left out",
            group(left_account)
        ));
    }
    Timeline {
        entries: kept,
        omitted: Some(format!(
            "{} of {} entries shown: {}.",
            group(total - left_activity - left_account),
            group(total),
            words.join("; ")
        )),
    }
}

/// 12345 as "12,345".
pub(crate) fn group(value: usize) -> String {
    crate::evidence::money::group_thousands(value as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn entry(minutes: i64, kind: SectionKind) -> TimelineEntry {
        TimelineEntry {
            at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes),
            kind,
            text: format!("{} {minutes}", kind.name()),
        }
    }

    #[test]
    fn a_short_section_is_whole_and_a_long_one_keeps_its_first_and_last_rows() {
        let columns = vec!["n".to_string()];
        let rows: Vec<Vec<Option<String>>> = (0..1000).map(|n| vec![Some(n.to_string())]).collect();
        let short = table(&columns, &rows[..10], "login");
        assert_eq!(
            (short.rows.len(), short.total_rows, short.omitted),
            (10, 10, None)
        );
        let long = table(&columns, &rows, "login");
        assert_eq!(long.rows.len(), TABLE_ROWS);
        assert_eq!(long.rows[0], ["0"]);
        assert_eq!(long.rows[TABLE_ROWS - 1], ["999"]);
        assert_eq!(long.total_rows, 1000);
        assert!(long.omitted.unwrap().starts_with("960 login rows"));
    }

    #[test]
    fn a_long_timeline_keeps_every_account_event_and_the_first_and_last_activity() {
        let mut entries: Vec<TimelineEntry> = (0..100_000)
            .map(|m| entry(m, SectionKind::Logins))
            .collect();
        entries.push(entry(50_000, SectionKind::Payments));
        entries.push(entry(-5, SectionKind::Signup));
        let summarised = timeline(entries);
        assert_eq!(summarised.entries.len(), TIMELINE_ENTRIES);
        assert!(summarised.entries.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!(summarised.entries[0].kind, SectionKind::Signup);
        assert!(
            summarised
                .entries
                .iter()
                .any(|e| e.kind == SectionKind::Payments)
        );
        assert_eq!(
            summarised.entries.last().map(|e| e.text.as_str()),
            Some("logins 99999")
        );
        let omitted = summarised.omitted.unwrap();
        assert!(
            omitted.starts_with("600 of 100,002 entries shown: 99,402 logins and uses between"),
            "{omitted}"
        );
    }

    #[test]
    fn moments_are_written_alike_whatever_the_database_printed() {
        let columns: Vec<String> = ["created_at", "amount", "time"].map(String::from).to_vec();
        let rows = vec![vec![
            Some("2026-01-09 19:56:41.513608+00".to_string()),
            Some("2900".to_string()),
            Some("not a time".to_string()),
        ]];
        let shown = table(&columns, &rows, "payment");
        assert_eq!(
            shown.rows[0],
            ["2026-01-09 19:56 UTC", "2900", "not a time"]
        );
    }

    #[test]
    fn a_short_timeline_is_sorted_and_whole() {
        let summarised = timeline(vec![
            entry(5, SectionKind::Usage),
            entry(1, SectionKind::Logins),
        ]);
        assert_eq!(summarised.entries[0].text, "logins 1");
        assert_eq!(summarised.omitted, None);
    }
}

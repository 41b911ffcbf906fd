//! Logins and usage events per UTC day for the pack's chart: every day from the first to the
//! last (quiet days as zeros), at most the latest `MAX_DAYS` of them.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use crate::evidence::pack::DayCount;

/// The most days the chart shows; a longer history keeps its latest days.
pub(crate) const MAX_DAYS: u64 = 400;

/// Counts per day, gathered in any order.
#[derive(Debug, Default)]
pub(crate) struct DailyCounts {
    days: BTreeMap<NaiveDate, (usize, usize)>,
}

impl DailyCounts {
    pub(crate) fn login(&mut self, day: NaiveDate) {
        self.days.entry(day).or_default().0 += 1;
    }

    pub(crate) fn usage(&mut self, day: NaiveDate) {
        self.days.entry(day).or_default().1 += 1;
    }

    /// Every day from the first to the last, and a note when early days were left out.
    pub(crate) fn finish(self) -> (Vec<DayCount>, Option<String>) {
        let (Some(&first), Some(&last)) = (self.days.keys().next(), self.days.keys().next_back())
        else {
            return (Vec::new(), None);
        };
        let earliest_shown = last
            .checked_sub_days(Days::new(MAX_DAYS - 1))
            .map_or(first, |day| day.max(first));
        let note = (earliest_shown > first).then(|| {
            let (logins, usage) = self
                .days
                .range(..earliest_shown)
                .fold((0, 0), |(l, u), (_, (dl, du))| (l + dl, u + du));
            format!(
                "Daily counts show the last {MAX_DAYS} days ({earliest_shown} to {last}); \
                 the {} days from {first} before them ({logins} logins, {usage} usage events) \
                 are left out of the chart",
                (earliest_shown - first).num_days()
            )
        });
        let counts = earliest_shown
            .iter_days()
            .take_while(|day| *day <= last)
            .map(|date| {
                let (logins, usage) = self.days.get(&date).copied().unwrap_or_default();
                DayCount {
                    date,
                    logins,
                    usage,
                }
            })
            .collect();
        (counts, note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn quiet_days_between_are_zeros() {
        let mut counts = DailyCounts::default();
        counts.usage(day("2026-11-04"));
        counts.login(day("2026-11-01"));
        counts.login(day("2026-11-01"));
        counts.usage(day("2026-11-04"));
        counts.login(day("2026-11-04"));
        let (days, note) = counts.finish();
        assert_eq!(note, None);
        let shown: Vec<_> = days
            .iter()
            .map(|d| (d.date.to_string(), d.logins, d.usage))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("2026-11-01".to_owned(), 2, 0),
                ("2026-11-02".to_owned(), 0, 0),
                ("2026-11-03".to_owned(), 0, 0),
                ("2026-11-04".to_owned(), 1, 2),
            ]
        );
    }

    #[test]
    fn nothing_counted_is_no_days() {
        assert_eq!(DailyCounts::default().finish(), (Vec::new(), None));
    }

    #[test]
    fn a_long_history_keeps_its_latest_days_and_says_so() {
        let mut counts = DailyCounts::default();
        counts.login(day("2024-01-01"));
        counts.usage(day("2024-01-02"));
        counts.login(day("2026-11-30"));
        let (days, note) = counts.finish();
        assert_eq!(days.len() as u64, MAX_DAYS);
        assert_eq!(days.last().unwrap().date, day("2026-11-30"));
        assert_eq!(days[0].date, day("2025-10-27"));
        assert!(days.iter().all(|d| d.date != day("2024-01-01")));
        let note = note.unwrap();
        assert!(note.contains("last 400 days"), "{note}");
        assert!(note.contains("1 logins, 1 usage events"), "{note}");
    }
}

//! The activity chart: logins and usage events per UTC day as paired bars, drawn with plain
//! rectangles. Long spans are bucketed by week or by month so bars stay readable; the caption
//! says which.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::flow::{CONTENT_WIDTH, Flow, MARGIN, Op};
use super::format::{count, day};
use super::style::{self, Rgb};
use crate::evidence::pack::DayCount;

/// Spans up to this many days get one bar pair per day.
const MAX_DAILY_BARS: i64 = 92;
/// Spans up to this many weeks get one bar pair per week; longer ones, per month.
const MAX_WEEKLY_BARS: i64 = 160;
const PLOT_HEIGHT: f32 = 150.0;
const AXIS_WIDTH: f32 = 36.0;

/// How much time one bar pair stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Granularity {
    Day,
    /// Weeks starting on Monday.
    Week,
    Month,
}

/// One bar pair: the activity from `start` to the next bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bucket {
    pub(super) start: NaiveDate,
    pub(super) logins: usize,
    pub(super) usage: usize,
}

/// Every day, week or month from the first day to the last (quiet ones included, so the x
/// axis is time), summed.
pub(super) fn buckets(daily: &[DayCount]) -> (Granularity, Vec<Bucket>) {
    let (Some(first), Some(last)) = (
        daily.iter().map(|d| d.date).min(),
        daily.iter().map(|d| d.date).max(),
    ) else {
        return (Granularity::Day, Vec::new());
    };
    let span = (last - first).num_days() + 1;
    let granularity = if span <= MAX_DAILY_BARS {
        Granularity::Day
    } else if span <= MAX_WEEKLY_BARS * 7 {
        Granularity::Week
    } else {
        Granularity::Month
    };
    let mut buckets: Vec<Bucket> = Vec::new();
    let mut start = bucket_start(first, granularity);
    while start <= last {
        buckets.push(Bucket {
            start,
            logins: 0,
            usage: 0,
        });
        match next_start(start, granularity) {
            Some(next) => start = next,
            None => break,
        }
    }
    for entry in daily {
        let start = bucket_start(entry.date, granularity);
        if let Ok(index) = buckets.binary_search_by_key(&start, |bucket| bucket.start) {
            buckets[index].logins += entry.logins;
            buckets[index].usage += entry.usage;
        }
    }
    (granularity, buckets)
}

fn bucket_start(date: NaiveDate, granularity: Granularity) -> NaiveDate {
    match granularity {
        Granularity::Day => date,
        Granularity::Week => date.week(Weekday::Mon).first_day(),
        Granularity::Month => date.with_day(1).unwrap_or(date),
    }
}

fn next_start(start: NaiveDate, granularity: Granularity) -> Option<NaiveDate> {
    match granularity {
        Granularity::Day => start.checked_add_days(Days::new(1)),
        Granularity::Week => start.checked_add_days(Days::new(7)),
        Granularity::Month => start.checked_add_months(chrono::Months::new(1)),
    }
}

/// The y axis's top: the smallest 1, 2, 3, 4, 5, 6 or 8 times a power of ten at or above `max` (1 for
/// none).
pub(super) fn axis_max(max: usize) -> usize {
    let mut power = 1usize;
    loop {
        for step in [1, 2, 3, 4, 5, 6, 8] {
            let candidate = power.saturating_mul(step);
            if candidate >= max || candidate == usize::MAX {
                return candidate;
            }
        }
        power = power.saturating_mul(10);
    }
}

/// The height of a bar for `value` on an axis topping at `axis_max` over `plot_height`.
pub(super) fn bar_height(value: usize, axis_max: usize, plot_height: f32) -> f32 {
    if axis_max == 0 {
        return 0.0;
    }
    (value as f64 / axis_max as f64).min(1.0) as f32 * plot_height
}

/// Lays out the chart with its legend and caption.
pub(super) fn lay_chart(flow: &mut Flow<'_>, daily: &[DayCount]) {
    let (granularity, buckets) = buckets(daily);
    if buckets.is_empty() {
        flow.paragraph(0.0, style::NOTE, "No daily activity was recorded.");
        return;
    }
    let label = style::NOTE;
    let height = label.line_height() * 2.0 + PLOT_HEIGHT + label.line_height() * 3.0;
    if !flow.room(height) {
        return;
    }
    lay_legend(flow);
    let top = flow.y() + 4.0;
    let max = buckets
        .iter()
        .map(|bucket| bucket.logins.max(bucket.usage))
        .max()
        .unwrap_or(0);
    let top_value = axis_max(max);
    let plot_left = MARGIN + AXIS_WIDTH;
    let plot_width = CONTENT_WIDTH - AXIS_WIDTH;
    let bottom = top + PLOT_HEIGHT;
    flow.rule(plot_left, top, plot_width, style::RULE);
    flow.rule(plot_left, bottom, plot_width, style::MUTED);
    let top_label = count(top_value);
    let top_label_x = plot_left - 4.0 - flow.width(label, &top_label);
    flow.text_at(top_label_x, top - label.size / 2.0, label, top_label);
    let zero_x = plot_left - 4.0 - flow.width(label, "0");
    flow.text_at(zero_x, bottom - label.size / 2.0, label, "0".to_owned());
    let slot = plot_width / buckets.len() as f32;
    let bar = slot * 0.4;
    for (index, bucket) in buckets.iter().enumerate() {
        let x = plot_left + index as f32 * slot + slot * 0.1;
        bar_at(
            flow,
            x,
            bottom,
            bar,
            bar_height(bucket.logins, top_value, PLOT_HEIGHT),
            style::LOGINS,
        );
        bar_at(
            flow,
            x + bar,
            bottom,
            bar,
            bar_height(bucket.usage, top_value, PLOT_HEIGHT),
            style::USAGE,
        );
    }
    let first = day(buckets[0].start);
    let last = day(buckets[buckets.len() - 1].start);
    flow.text_at(plot_left, bottom + 2.0, label, first);
    let last_x = plot_left + plot_width - flow.width(label, &last);
    flow.text_at(last_x, bottom + 2.0, label, last);
    flow.advance(PLOT_HEIGHT + 4.0 + label.line_height() + 4.0);
    flow.paragraph(0.0, style::NOTE, &caption(granularity, &buckets, daily));
}

fn bar_at(flow: &mut Flow<'_>, x: f32, bottom: f32, width: f32, height: f32, color: Rgb) {
    if height > 0.0 {
        flow.push(Op::Rect {
            x,
            y: bottom - height,
            width,
            height,
            color,
        });
    }
}

fn lay_legend(flow: &mut Flow<'_>) {
    let label = style::NOTE;
    let top = flow.y();
    let mut x = MARGIN + AXIS_WIDTH;
    for (color, name) in [(style::LOGINS, "Logins"), (style::USAGE, "Usage events")] {
        flow.push(Op::Rect {
            x,
            y: top + 1.5,
            width: 8.0,
            height: 8.0,
            color,
        });
        flow.text_at(x + 12.0, top, label, name.to_owned());
        x += 12.0 + flow.width(label, name) + 18.0;
    }
    flow.advance(label.line_height() * 1.5);
}

fn caption(granularity: Granularity, buckets: &[Bucket], daily: &[DayCount]) -> String {
    let logins: usize = daily.iter().map(|d| d.logins).sum();
    let usage: usize = daily.iter().map(|d| d.usage).sum();
    let per = match granularity {
        Granularity::Day => format!("per UTC day ({} days)", count(buckets.len())),
        Granularity::Week => format!(
            "per week, Monday to Sunday UTC ({} weeks: too many days for one bar each)",
            count(buckets.len())
        ),
        Granularity::Month => format!(
            "per calendar month UTC ({} months: too many days for one bar each)",
            count(buckets.len())
        ),
    };
    format!(
        "Logins and usage events {per}; the axis tops at {}. {} logins and {} usage events in all.",
        count(axis_max(
            buckets
                .iter()
                .map(|b| b.logins.max(b.usage))
                .max()
                .unwrap_or(0)
        )),
        count(logins),
        count(usage)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day_count(date: &str, logins: usize, usage: usize) -> DayCount {
        DayCount {
            date: date.parse().unwrap(),
            logins,
            usage,
        }
    }

    #[test]
    fn the_axis_tops_at_a_round_number_just_above_the_highest_bar() {
        assert_eq!(axis_max(0), 1);
        assert_eq!(axis_max(1), 1);
        assert_eq!(axis_max(3), 3);
        assert_eq!(axis_max(7), 8);
        assert_eq!(axis_max(9), 10);
        assert_eq!(axis_max(22), 30);
        assert_eq!(axis_max(200), 200);
        assert_eq!(axis_max(801), 1000);
    }

    #[test]
    fn bars_scale_to_the_axis() {
        assert_eq!(bar_height(50, 100, 150.0), 75.0);
        assert_eq!(bar_height(100, 100, 150.0), 150.0);
        assert_eq!(bar_height(0, 100, 150.0), 0.0);
        assert_eq!(bar_height(5, 0, 150.0), 0.0);
    }

    #[test]
    fn quiet_days_are_kept_so_the_axis_is_time() {
        let (granularity, buckets) =
            buckets(&[day_count("2026-03-01", 2, 5), day_count("2026-03-04", 1, 0)]);
        assert_eq!(granularity, Granularity::Day);
        assert_eq!(buckets.len(), 4);
        assert_eq!((buckets[0].logins, buckets[0].usage), (2, 5));
        assert_eq!((buckets[1].logins, buckets[2].usage), (0, 0));
        assert_eq!(buckets[3].logins, 1);
    }

    #[test]
    fn long_spans_are_summed_per_week_from_monday() {
        // 2026-01-05 is a Monday; 2026-06-01 is 148 days later.
        let (granularity, buckets) = buckets(&[
            day_count("2026-01-05", 1, 1),
            day_count("2026-01-11", 2, 3),
            day_count("2026-01-12", 4, 0),
            day_count("2026-06-01", 1, 0),
        ]);
        assert_eq!(granularity, Granularity::Week);
        assert_eq!(buckets[0].start.to_string(), "2026-01-05");
        assert_eq!((buckets[0].logins, buckets[0].usage), (3, 4));
        assert_eq!(buckets[1].logins, 4);
        assert_eq!(buckets.len(), 22);
        let total: usize = buckets.iter().map(|b| b.logins).sum();
        assert_eq!(total, 8);
    }

    #[test]
    fn spans_of_years_are_summed_per_month() {
        let (granularity, buckets) =
            buckets(&[day_count("2020-01-15", 1, 0), day_count("2026-03-02", 1, 0)]);
        assert_eq!(granularity, Granularity::Month);
        assert_eq!(buckets.len(), 6 * 12 + 3);
        assert_eq!(buckets[0].start.to_string(), "2020-01-01");
    }
}

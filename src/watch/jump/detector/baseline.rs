//! Choosing the baseline a point is compared against: the trailing window, or the points at the
//! same time of day (or week) on previous days (or weeks) when seasonality is on.
//!
//! History is expected in ascending time order. Only points strictly before the judged point
//! (by position and by time) are used; non-finite values are skipped as missing.

use super::{BaselineWindow, JumpConfig, Seasonality};

/// Which set of past points a verdict's baseline came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineSource {
    /// The trailing window before the point.
    Trailing,
    /// Points at the same phase of previous days or weeks.
    Seasonal(Seasonality),
}

/// Fills `scratch` with the finite values of the trailing window before `history[index]`,
/// leaving out the most recent `gap` (so a jump in progress is not part of its own baseline).
pub(super) fn collect_trailing(
    history: &[(i64, f64)],
    index: usize,
    window: BaselineWindow,
    gap: BaselineWindow,
    scratch: &mut Vec<f64>,
) {
    scratch.clear();
    let Some(&(judged_time, _)) = history.get(index) else {
        return;
    };
    let (end, newest_allowed_exclusive) = match gap {
        BaselineWindow::Points(skipped) => (index.saturating_sub(skipped), judged_time),
        BaselineWindow::Seconds(span) if span > 0 => {
            let cutoff = judged_time.saturating_sub(span);
            (
                history[..index].partition_point(|(time, _)| *time < cutoff),
                cutoff,
            )
        }
        BaselineWindow::Seconds(_) => (index, judged_time),
    };
    let before = &history[..end];
    let usable =
        |&&(time, value): &&(i64, f64)| time < newest_allowed_exclusive && value.is_finite();
    match window {
        BaselineWindow::Points(count) => {
            scratch.extend(
                before
                    .iter()
                    .rev()
                    .filter(usable)
                    .take(count)
                    .map(|(_, value)| *value),
            );
        }
        BaselineWindow::Seconds(span) => {
            let oldest_allowed = judged_time.saturating_sub(span.max(0));
            let start = before.partition_point(|(time, _)| *time < oldest_allowed);
            scratch.extend(
                before[start..]
                    .iter()
                    .filter(usable)
                    .map(|(_, value)| *value),
            );
        }
    }
}

/// Fills `scratch` with finite values near the same phase of previous seasons and returns how
/// many distinct seasons contributed at least one value.
pub(super) fn collect_seasonal(
    history: &[(i64, f64)],
    index: usize,
    config: &JumpConfig,
    scratch: &mut Vec<f64>,
) -> usize {
    scratch.clear();
    let Some(period) = config.seasonality.period_seconds() else {
        return 0;
    };
    let Some(&(judged_time, _)) = history.get(index) else {
        return 0;
    };
    let before = &history[..index];
    let tolerance = config.seasonal_tolerance_seconds.clamp(0, period / 2);
    let mut seasons_with_data = 0;
    for seasons_back in 1..=config.seasonal_periods {
        let Some(offset) = i64::try_from(seasons_back)
            .ok()
            .and_then(|back| back.checked_mul(period))
        else {
            break;
        };
        let centre = judged_time.saturating_sub(offset);
        let from = centre.saturating_sub(tolerance);
        let to = centre.saturating_add(tolerance);
        let start = before.partition_point(|(time, _)| *time < from);
        let length_before = scratch.len();
        scratch.extend(
            before[start..]
                .iter()
                .take_while(|(time, _)| *time <= to)
                .filter(|(_, value)| value.is_finite())
                .map(|(_, value)| *value),
        );
        if scratch.len() > length_before {
            seasons_with_data += 1;
        }
        if start == 0 && before.first().is_none_or(|(time, _)| *time > to) {
            break;
        }
    }
    seasons_with_data
}

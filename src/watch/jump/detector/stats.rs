//! Robust statistics for the jump detector: median and median absolute deviation (MAD).
//!
//! Both work in place on a scratch buffer with linear-time selection, so judging one point
//! against a window of a few thousand values costs a few microseconds and no sorting.

/// Factor that turns a MAD into an estimate of the standard deviation for normal data.
pub(super) const MAD_TO_SIGMA: f64 = 1.4826;

/// Median of `values`, reordering them. `None` when empty. Values must be finite.
pub(super) fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let count = values.len();
    if count == 0 {
        return None;
    }
    let upper_middle_index = count / 2;
    let (lower_part, upper_middle, _) =
        values.select_nth_unstable_by(upper_middle_index, f64::total_cmp);
    let upper_middle = *upper_middle;
    if count % 2 == 1 {
        return Some(upper_middle);
    }
    let lower_middle = lower_part
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper_middle);
    Some(lower_middle + (upper_middle - lower_middle) / 2.0)
}

/// Factor that turns a mean absolute deviation into a standard deviation for normal data.
pub(super) const MEAN_DEVIATION_TO_SIGMA: f64 = 1.2533;

/// Centre and spread of a baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RobustSummary {
    /// Median of the values.
    pub median: f64,
    /// Median absolute deviation from the median, unscaled.
    pub mad: f64,
    /// Mean absolute deviation from the median, unscaled.
    pub mean_deviation: f64,
    /// The value at the lower tail quantile (e.g. the 1st percentile).
    pub lower_tail: f64,
    /// The value at the upper tail quantile (e.g. the 99th percentile).
    pub upper_tail: f64,
}

/// Rank (0-based, nearest rank) of quantile `fraction` among `count` sorted values.
fn nearest_rank(count: usize, fraction: f64) -> usize {
    let last_index = count.saturating_sub(1);
    let fraction = if fraction.is_nan() {
        0.5
    } else {
        fraction.clamp(0.0, 1.0)
    };
    (((last_index as f64) * fraction).round() as usize).min(last_index)
}

/// Value of the given rank in `values`, already partitioned around position `pivot` (everything
/// before it is no greater, everything after it no smaller). Selects within one side only.
fn value_at_rank(values: &mut [f64], pivot: usize, rank: usize) -> f64 {
    use std::cmp::Ordering;
    match rank.cmp(&pivot) {
        Ordering::Equal => values[pivot],
        Ordering::Less => {
            *values[..pivot]
                .select_nth_unstable_by(rank, f64::total_cmp)
                .1
        }
        Ordering::Greater => {
            *values[pivot + 1..]
                .select_nth_unstable_by(rank - pivot - 1, f64::total_cmp)
                .1
        }
    }
}

/// Median, MAD, mean absolute deviation and the tail quantiles at `tail_fraction` and
/// `1 - tail_fraction` of `values`, overwriting them. `None` when empty.
pub(super) fn summarize_in_place(values: &mut [f64], tail_fraction: f64) -> Option<RobustSummary> {
    let count = values.len();
    if count == 0 {
        return None;
    }
    let median = median_in_place(values)?;
    // `median_in_place` leaves the values partitioned around the upper middle position.
    let pivot = count / 2;
    let upper_tail = value_at_rank(values, pivot, nearest_rank(count, 1.0 - tail_fraction));
    let lower_tail = value_at_rank(values, pivot, nearest_rank(count, tail_fraction));
    let mut deviation_sum = 0.0;
    for value in values.iter_mut() {
        *value = (*value - median).abs();
        deviation_sum += *value;
    }
    let mean_deviation = deviation_sum / count as f64;
    let mad = median_in_place(values)?;
    Some(RobustSummary {
        median,
        mad,
        mean_deviation,
        lower_tail,
        upper_tail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median_in_place(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median_in_place(&mut []), None);
    }

    #[test]
    fn tail_quantiles_match_a_sorted_reference() {
        for count in 1..60usize {
            let original: Vec<f64> = (0..count).map(|i| ((i * 37 + 11) % 53) as f64).collect();
            let mut sorted = original.clone();
            sorted.sort_by(f64::total_cmp);
            for tail in [0.0, 0.01, 0.1, 0.25, 0.5] {
                let mut values = original.clone();
                let summary = summarize_in_place(&mut values, tail).unwrap();
                assert_eq!(summary.upper_tail, sorted[nearest_rank(count, 1.0 - tail)]);
                assert_eq!(summary.lower_tail, sorted[nearest_rank(count, tail)]);
                let middle = if count % 2 == 1 {
                    sorted[count / 2]
                } else {
                    (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0
                };
                assert_eq!(summary.median, middle);
            }
        }
    }

    #[test]
    fn mad_ignores_a_single_outlier() {
        let mut values = [10.0, 11.0, 9.0, 10.0, 1000.0];
        let summary = summarize_in_place(&mut values, 0.0).unwrap();
        assert_eq!((summary.lower_tail, summary.upper_tail), (9.0, 1000.0));
        assert_eq!(summary.median, 10.0);
        assert_eq!(summary.mad, 1.0);
        assert_eq!(
            summary.mean_deviation,
            (0.0 + 1.0 + 1.0 + 0.0 + 990.0) / 5.0
        );
    }
}

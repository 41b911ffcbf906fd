//! Behaviour of the jump detector on synthetic series: spikes, drops, flat and tiny series,
//! daily seasonality, missing values and the operator-facing sentence.

use super::*;

const FIVE_MINUTES: i64 = 300;
const HOUR: i64 = 3600;
const START: i64 = 1_700_000_000 - 1_700_000_000 % SECONDS_PER_DAY;

/// Deterministic wobble in [-1, 1] so baselines have a realistic, non-zero spread.
fn wobble(index: usize) -> f64 {
    let step = (index * 7919 + 13) % 17;
    step as f64 / 8.0 - 1.0
}

/// `count` five-minute points around `level` with a wobble of `amplitude`.
fn noisy_series(count: usize, level: f64, amplitude: f64) -> Vec<(i64, f64)> {
    (0..count)
        .map(|index| {
            (
                START + index as i64 * FIVE_MINUTES,
                level + amplitude * wobble(index),
            )
        })
        .collect()
}

fn push_next(series: &mut Vec<(i64, f64)>, value: f64) {
    let next_time = series.last().map_or(START, |(time, _)| time + FIVE_MINUTES);
    series.push((next_time, value));
}

fn detector() -> JumpDetector {
    JumpDetector::new(JumpConfig::default())
}

#[test]
fn default_config_is_valid() {
    assert_eq!(JumpConfig::default().validate(), Ok(()));
}

#[test]
fn spike_up_is_a_jump() {
    let mut series = noisy_series(500, 100.0, 2.0);
    push_next(&mut series, 180.0);
    let verdict = detector().judge_latest(&series).unwrap();
    assert!(verdict.is_jump, "{verdict:?}");
    assert_eq!(verdict.direction, ChangeDirection::Up);
    assert!(verdict.score > 6.0);
    assert!((verdict.baseline_median - 100.0).abs() < 2.0);
    assert!((verdict.change_abs - (180.0 - verdict.baseline_median)).abs() < 1e-9);
    let pct = verdict.change_pct.unwrap();
    assert!((pct - verdict.change_abs / verdict.baseline_median * 100.0).abs() < 1e-9);
}

#[test]
fn ordinary_point_is_not_a_jump() {
    let mut series = noisy_series(500, 100.0, 2.0);
    push_next(&mut series, 101.5);
    let verdict = detector().judge_latest(&series).unwrap();
    assert!(!verdict.is_jump, "{verdict:?}");
    assert!(verdict.score.abs() < 2.0);
}

#[test]
fn drop_down_respects_direction() {
    let mut series = noisy_series(500, 100.0, 2.0);
    push_next(&mut series, 20.0);
    let both = detector().judge_latest(&series).unwrap();
    assert!(both.is_jump);
    assert_eq!(both.direction, ChangeDirection::Down);
    assert!(both.score < -6.0);

    let down_only = JumpDetector::new(JumpConfig {
        direction: Direction::Down,
        ..JumpConfig::default()
    })
    .judge_latest(&series)
    .unwrap();
    assert!(down_only.is_jump);

    let up_only = JumpDetector::new(JumpConfig {
        direction: Direction::Up,
        ..JumpConfig::default()
    })
    .judge_latest(&series)
    .unwrap();
    assert!(!up_only.is_jump);
}

#[test]
fn flat_series_does_not_divide_by_zero() {
    let mut series: Vec<(i64, f64)> = (0..300)
        .map(|index| (START + index * FIVE_MINUTES, 5.0))
        .collect();
    push_next(&mut series, 5.0);
    let same = detector().judge_latest(&series).unwrap();
    assert!(!same.is_jump);
    assert_eq!(same.score, 0.0);
    assert_eq!(same.baseline_mad, 0.0);
    assert_eq!(same.direction, ChangeDirection::Flat);

    // 5.1 against a flat 5.0: the relative floor (5% of 5.0) keeps the score at 0.4.
    let last = series.len() - 1;
    series[last].1 = 5.1;
    let nudge = detector().judge_latest(&series).unwrap();
    assert!(!nudge.is_jump);
    assert!((nudge.score - 0.4).abs() < 1e-9, "{nudge:?}");

    series[last].1 = 50.0;
    let jump = detector().judge_latest(&series).unwrap();
    assert!(jump.is_jump);
    assert!(jump.score.is_finite());
}

#[test]
fn all_zero_series_uses_absolute_floor_and_min_abs_change() {
    let mut series: Vec<(i64, f64)> = (0..300)
        .map(|index| (START + index * FIVE_MINUTES, 0.0))
        .collect();
    push_next(&mut series, 2.0);
    let verdict = detector().judge_latest(&series).unwrap();
    assert!(verdict.score.is_finite());
    assert!(verdict.is_jump);
    assert_eq!(verdict.change_pct, None);

    assert_eq!(
        verdict.describe("errors"),
        "errors 2.00 is up 2.00 from its usual 0.00 (median of the last 7d)"
    );

    let quiet = JumpDetector::new(JumpConfig {
        min_abs_change: 5.0,
        ..JumpConfig::default()
    })
    .judge_latest(&series)
    .unwrap();
    assert!(!quiet.is_jump);
}

#[test]
fn mostly_idle_counter_uses_mean_deviation_when_mad_is_zero() {
    // 90% zeros with regular bursts of 1000: the MAD is 0, the bursts set the spread.
    let mut series: Vec<(i64, f64)> = (0..500)
        .map(|index| {
            let value = if index % 10 == 0 { 1000.0 } else { 0.0 };
            (START + index as i64 * FIVE_MINUTES, value)
        })
        .collect();
    push_next(&mut series, 5.0);
    let small = JumpDetector::new(JumpConfig {
        beyond_quantile: None,
        ..JumpConfig::default()
    })
    .judge_latest(&series)
    .unwrap();
    assert_eq!(small.baseline_mad, 0.0);
    assert!(!small.is_jump, "{small:?}");
    assert!(small.score < 1.0);
}

#[test]
fn small_numbers_under_min_abs_change_do_not_page() {
    let signups = [3.0, 2.0, 4.0, 3.0, 3.0, 2.0, 3.0, 4.0, 3.0, 3.0, 2.0, 3.0];
    let mut series: Vec<(i64, f64)> = signups
        .iter()
        .enumerate()
        .map(|(day, value)| (START + day as i64 * SECONDS_PER_DAY, *value))
        .collect();
    series.push((START + 12 * SECONDS_PER_DAY, 9.0));
    let config = JumpConfig {
        window: BaselineWindow::Points(10),
        ..JumpConfig::default()
    };
    let plain = JumpDetector::new(config.clone())
        .judge_latest(&series)
        .unwrap();
    assert!(plain.is_jump, "{plain:?}");

    let guarded = JumpDetector::new(JumpConfig {
        min_abs_change: 10.0,
        ..config
    })
    .judge_latest(&series)
    .unwrap();
    assert!(!guarded.is_jump);
    assert_eq!(guarded.score, plain.score);
}

/// Hourly points over `days` days: 100 at night, 300 from 12:00 to 14:00 every day.
fn daily_peaks(days: i64) -> Vec<(i64, f64)> {
    (0..days * 24)
        .map(|hour| {
            let time = START + hour * HOUR;
            let hour_of_day = hour % 24;
            let peak = (12..=14).contains(&hour_of_day);
            let base = if peak { 300.0 } else { 100.0 };
            (time, base + 3.0 * wobble(hour as usize))
        })
        .collect()
}

#[test]
fn daily_seasonality_stops_pages_at_each_daily_peak() {
    let series = daily_peaks(10);
    let noon_index = (9 * 24 + 12) as usize;
    let naive = JumpConfig {
        beyond_quantile: None,
        ..JumpConfig::default()
    };
    let naive_verdict = JumpDetector::new(naive.clone())
        .judge_at(&series, noon_index)
        .unwrap();
    assert!(naive_verdict.is_jump, "{naive_verdict:?}");
    assert_eq!(naive_verdict.baseline_source, BaselineSource::Trailing);

    let seasonal = JumpConfig {
        seasonality: Seasonality::Daily,
        ..naive
    };
    let mut seasonal_detector = JumpDetector::new(seasonal);
    let seasonal_verdict = seasonal_detector.judge_at(&series, noon_index).unwrap();
    assert!(!seasonal_verdict.is_jump, "{seasonal_verdict:?}");
    assert_eq!(
        seasonal_verdict.baseline_source,
        BaselineSource::Seasonal(Seasonality::Daily)
    );
    assert!((seasonal_verdict.baseline_median - 300.0).abs() < 5.0);

    // A peak-sized value at 03:00 is still a jump for the seasonal detector.
    let mut night_spike = series.clone();
    let night_index = (9 * 24 + 3) as usize;
    night_spike[night_index].1 = 300.0;
    let night = seasonal_detector
        .judge_at(&night_spike, night_index)
        .unwrap();
    assert!(night.is_jump, "{night:?}");
}

#[test]
fn seasonal_falls_back_to_trailing_without_enough_history() {
    let series = daily_peaks(2);
    let config = JumpConfig {
        seasonality: Seasonality::Daily,
        ..JumpConfig::default()
    };
    let verdict = JumpDetector::new(config)
        .judge_at(&series, series.len() - 1)
        .unwrap();
    assert_eq!(verdict.baseline_source, BaselineSource::Trailing);
}

#[test]
fn weekly_seasonality_compares_same_time_of_week() {
    // Hourly points over 5 weeks: Mondays (every 7th day) run at 500, other days at 100.
    let series: Vec<(i64, f64)> = (0..35 * 24)
        .map(|hour| {
            let day = hour / 24;
            let value = if day % 7 == 0 { 500.0 } else { 100.0 };
            (START + hour * HOUR, value + wobble(hour as usize))
        })
        .collect();
    let monday_index = 28 * 24 + 10;
    let config = JumpConfig {
        seasonality: Seasonality::Weekly,
        seasonal_periods: 4,
        min_seasonal_periods: 3,
        beyond_quantile: None,
        ..JumpConfig::default()
    };
    let verdict = JumpDetector::new(config.clone())
        .judge_at(&series, monday_index)
        .unwrap();
    assert_eq!(
        verdict.baseline_source,
        BaselineSource::Seasonal(Seasonality::Weekly)
    );
    assert!(!verdict.is_jump, "{verdict:?}");
    let trailing = JumpDetector::new(JumpConfig {
        seasonality: Seasonality::None,
        ..config
    })
    .judge_at(&series, monday_index)
    .unwrap();
    assert!(trailing.is_jump);
}

#[test]
fn missing_values_are_skipped_and_never_judged() {
    let mut series = noisy_series(200, 50.0, 1.0);
    for index in (0..200).step_by(7) {
        series[index].1 = f64::NAN;
    }
    series[3].1 = f64::INFINITY;
    series[4].1 = f64::NEG_INFINITY;
    push_next(&mut series, 90.0);
    let verdict = detector().judge_latest(&series).unwrap();
    let finite_before = series[..series.len() - 1]
        .iter()
        .filter(|(_, value)| value.is_finite())
        .count();
    assert_eq!(verdict.baseline_points, finite_before);
    assert!(verdict.baseline_median.is_finite());
    assert!(verdict.is_jump);

    push_next(&mut series, f64::NAN);
    assert_eq!(
        detector().judge_latest(&series),
        Err(NotJudged::MissingValue)
    );
}

#[test]
fn empty_and_short_histories_are_not_judged() {
    assert_eq!(detector().judge_latest(&[]), Err(NotJudged::NoPoint));
    assert_eq!(
        detector().judge_at(&[(START, 1.0)], 5),
        Err(NotJudged::NoPoint)
    );
    let series = noisy_series(5, 10.0, 1.0);
    assert_eq!(
        detector().judge_latest(&series),
        Err(NotJudged::Learning { have: 4, need: 7 })
    );
    let all_missing: Vec<(i64, f64)> = (0..50)
        .map(|index| (START + index * FIVE_MINUTES, f64::NAN))
        .chain([(START + 50 * FIVE_MINUTES, 1.0)])
        .collect();
    assert_eq!(
        detector().judge_latest(&all_missing),
        Err(NotJudged::Learning { have: 0, need: 7 })
    );
}

#[test]
fn judging_a_point_ignores_everything_after_it() {
    let mut series = noisy_series(400, 100.0, 2.0);
    push_next(&mut series, 170.0);
    let index = series.len() - 1;
    let alone = detector().judge_at(&series, index).unwrap();
    for _ in 0..50 {
        push_next(&mut series, 10_000.0);
    }
    let with_future = detector().judge_at(&series, index).unwrap();
    assert_eq!(alone, with_future);
}

#[test]
fn windows_limit_the_baseline() {
    // A level shift 2 days ago: a 1-day window has absorbed it, a 7-day window has not.
    let mut series = noisy_series(2016, 100.0, 2.0);
    for point in series.iter_mut().skip(2016 - 576) {
        point.1 += 100.0;
    }
    push_next(&mut series, 201.0);
    let unguarded = JumpConfig {
        beyond_quantile: None,
        ..JumpConfig::default()
    };
    let week = JumpDetector::new(unguarded.clone())
        .judge_latest(&series)
        .unwrap();
    let day = JumpDetector::new(JumpConfig {
        window: BaselineWindow::Seconds(SECONDS_PER_DAY),
        ..unguarded.clone()
    })
    .judge_latest(&series)
    .unwrap();
    let last_points = JumpDetector::new(JumpConfig {
        window: BaselineWindow::Points(100),
        ..unguarded
    })
    .judge_latest(&series)
    .unwrap();
    assert!(week.is_jump, "{week:?}");
    assert!(!day.is_jump, "{day:?}");
    assert_eq!(day.baseline_points, 288);
    assert_eq!(last_points.baseline_points, 100);
    assert!(!last_points.is_jump);

    // With the default quantile guard, a level the series already held for two days this week
    // is not news either.
    let guarded = detector().judge_latest(&series).unwrap();
    assert!(guarded.score > 6.0);
    assert!(!guarded.is_jump, "{guarded:?}");
}

#[test]
fn gap_keeps_a_jump_in_progress_out_of_its_own_baseline() {
    let mut series = noisy_series(300, 100.0, 2.0);
    for _ in 0..4 {
        push_next(&mut series, 160.0);
    }
    let config = JumpConfig {
        window: BaselineWindow::Points(4),
        min_points: 4,
        beyond_quantile: None,
        ..JumpConfig::default()
    };
    let without_gap = JumpDetector::new(config.clone())
        .judge_latest(&series)
        .unwrap();
    let with_gap = JumpDetector::new(JumpConfig {
        gap: BaselineWindow::Points(4),
        ..config
    })
    .judge_latest(&series)
    .unwrap();
    assert!(!without_gap.is_jump, "{without_gap:?}");
    assert!(with_gap.is_jump, "{with_gap:?}");
}

#[test]
fn routine_levels_are_not_news_with_the_quantile_guard() {
    // Idle at 1 with a short burst to 90 several times a day.
    let mut series: Vec<(i64, f64)> = (0..2016)
        .map(|index| {
            let value = if index % 48 < 2 { 90.0 } else { 1.0 };
            (
                START + index as i64 * FIVE_MINUTES,
                value + 0.01 * wobble(index),
            )
        })
        .collect();
    push_next(&mut series, 88.0);
    let guarded = detector().judge_latest(&series).unwrap();
    assert!(!guarded.is_jump, "{guarded:?}");
    let unguarded = JumpDetector::new(JumpConfig {
        beyond_quantile: None,
        ..JumpConfig::default()
    })
    .judge_latest(&series)
    .unwrap();
    assert!(unguarded.is_jump);
    let last = series.len() - 1;
    series[last].1 = 400.0;
    assert!(detector().judge_latest(&series).unwrap().is_jump);
}

#[test]
fn sustained_counts_recent_jumps() {
    let mut series = noisy_series(300, 100.0, 2.0);
    push_next(&mut series, 300.0);
    push_next(&mut series, 101.0);
    for _ in 0..3 {
        push_next(&mut series, 300.0);
    }
    let summary = detector().sustained(&series, 5);
    assert_eq!(summary.judged, 5);
    assert_eq!(summary.jumps, 4);
    assert_eq!(summary.latest_run, 3);

    push_next(&mut series, f64::NAN);
    let after_gap = detector().sustained(&series, 3);
    assert_eq!(after_gap.judged, 2);
    assert_eq!(after_gap.latest_run, 0);
    assert_eq!(detector().sustained(&[], 3), SustainedJumps::default());
}

#[test]
fn describes_a_jump_in_one_sentence() {
    let mut series: Vec<(i64, f64)> = [79.0, 80.0, 81.0, 80.5, 80.5, 82.0, 79.5]
        .iter()
        .enumerate()
        .map(|(day, value)| (START + day as i64 * SECONDS_PER_DAY, *value))
        .collect();
    series.push((START + 7 * SECONDS_PER_DAY, 412.0));
    let verdict = detector().judge_latest(&series).unwrap();
    assert!(verdict.is_jump);
    assert_eq!(
        verdict.describe("spend"),
        "spend 412.00 is 5.1x its usual 80.50 (median of the last 7d)"
    );

    let last = series.len() - 1;
    series[last].1 = 20.125;
    let drop = detector().judge_latest(&series).unwrap();
    assert_eq!(
        drop.describe("spend"),
        "spend 20.12 is 75% below its usual 80.50 (median of the last 7d)"
    );
}

#[test]
fn describes_a_seasonal_baseline() {
    let mut series = daily_peaks(10);
    let night_index = (9 * 24 + 3) as usize;
    series[night_index].1 = 300.0;
    let verdict = JumpDetector::new(JumpConfig {
        seasonality: Seasonality::Daily,
        ..JumpConfig::default()
    })
    .judge_at(&series, night_index)
    .unwrap();
    let sentence = verdict.describe("requests");
    assert!(
        sentence.ends_with("(median at this time of day over the last 7 days)"),
        "{sentence}"
    );
    assert!(
        sentence.starts_with("requests 300.00 is 3.0x its usual"),
        "{sentence}"
    );
}

#[test]
fn invalid_settings_are_named() {
    let bad = [
        JumpConfig {
            window: BaselineWindow::Seconds(0),
            ..JumpConfig::default()
        },
        JumpConfig {
            threshold: f64::NAN,
            ..JumpConfig::default()
        },
        JumpConfig {
            min_abs_change: -1.0,
            ..JumpConfig::default()
        },
        JumpConfig {
            beyond_quantile: Some(0.2),
            ..JumpConfig::default()
        },
        JumpConfig {
            seasonality: Seasonality::Daily,
            seasonal_periods: 2,
            min_seasonal_periods: 3,
            ..JumpConfig::default()
        },
    ];
    for config in bad {
        assert!(config.validate().is_err(), "{config:?}");
    }
}

#[test]
fn latest_point_over_a_week_of_five_minute_data_is_judged_from_2016_points() {
    let mut series = noisy_series(2016, 100.0, 2.0);
    push_next(&mut series, 100.0);
    let verdict = detector().judge_latest(&series).unwrap();
    assert_eq!(verdict.baseline_points, 2016);
}

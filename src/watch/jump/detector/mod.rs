//! The `jump` detector: does the latest point of a series depart from its own recent baseline?
//!
//! Pure and synchronous. The watch engine hands over a slice of `(unix_seconds, value)` points in
//! ascending time order and asks whether a point is a jump. The baseline is robust: the median
//! and the MAD (scaled by 1.4826 to estimate a standard deviation) of a trailing window, or, with
//! seasonality on, of the points at the same time of day (or week) on previous days (or weeks).
//!
//! `score = (value - median) / spread`, where `spread` is the scaled MAD, never less than
//! `relative_floor * |median|` nor `absolute_floor`; when the MAD is 0 (more than half of the
//! baseline on one value, e.g. a mostly idle counter) the mean absolute deviation stands in.
//!
//! A point is a jump when all of these hold:
//! - the score reaches `threshold` in the configured direction;
//! - the value moved at least `min_abs_change` from the median (3 -> 9 signups is no page);
//! - with `beyond_quantile = Some(q)`, the value lies beyond the baseline's `q` quantile (or below
//!   its `1 - q` quantile): a level the series visited routinely in the window is not news.
//!
//! Non-finite values are treated as missing. The detector keeps no state between calls: how long
//! a jump must last before anyone hears about it is the alert tracker's `for`;
//! [`JumpDetector::sustained`] reports how many of the last few points were jumps.

mod baseline;
mod stats;
#[cfg(test)]
mod tests;

use std::fmt;

pub use baseline::BaselineSource;
use stats::{MAD_TO_SIGMA, MEAN_DEVIATION_TO_SIGMA, RobustSummary, summarize_in_place};

const SECONDS_PER_DAY: i64 = 86_400;
const SECONDS_PER_WEEK: i64 = 7 * SECONDS_PER_DAY;

/// How much past the baseline covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineWindow {
    /// Points whose time is within this many seconds before the judged point.
    Seconds(i64),
    /// This many finite points immediately before the judged point.
    Points(usize),
}

/// Whether to compare a point with the same phase of previous days or weeks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seasonality {
    /// Compare with the trailing window only.
    #[default]
    None,
    /// Compare with the same time of day on previous days.
    Daily,
    /// Compare with the same time of the week on previous weeks.
    Weekly,
}

impl Seasonality {
    /// Length of one season in seconds, `None` when seasonality is off.
    pub fn period_seconds(self) -> Option<i64> {
        match self {
            Seasonality::None => None,
            Seasonality::Daily => Some(SECONDS_PER_DAY),
            Seasonality::Weekly => Some(SECONDS_PER_WEEK),
        }
    }
}

/// Which departures count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Only rises above the baseline.
    Up,
    /// Only falls below the baseline.
    Down,
    /// Either way.
    #[default]
    Both,
}

/// Which way a value moved from its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeDirection {
    /// Above the median.
    Up,
    /// Below the median.
    Down,
    /// Exactly on the median.
    Flat,
}

/// Settings of one jump watch.
#[derive(Debug, Clone, PartialEq)]
pub struct JumpConfig {
    /// Trailing window of the plain baseline (and of the learning-period count).
    pub window: BaselineWindow,
    /// The most recent stretch left out of the trailing baseline, so that a jump lasting a few
    /// points is not compared against itself. `Points(0)` or `Seconds(0)` leaves nothing out.
    pub gap: BaselineWindow,
    /// Compare with previous days or weeks instead of the trailing window when possible.
    pub seasonality: Seasonality,
    /// How many previous seasons (days or weeks) to look back at.
    pub seasonal_periods: usize,
    /// How far from the exact same phase a past point may be, in seconds.
    pub seasonal_tolerance_seconds: i64,
    /// Fewest previous seasons with data before the seasonal baseline is trusted; with fewer,
    /// the trailing window is used.
    pub min_seasonal_periods: usize,
    /// Fewest finite points in the trailing window before any point is judged.
    pub min_points: usize,
    /// Robust score a point must reach (in the configured direction) to be a jump.
    pub threshold: f64,
    /// Smallest absolute distance from the median that can be a jump, in the series' units.
    pub min_abs_change: f64,
    /// Which departures count.
    pub direction: Direction,
    /// When set to `q` (e.g. 0.99), a rise must also exceed the baseline's `q` quantile and a
    /// fall go below its `1 - q` quantile: values the series reached often lately are no jump.
    pub beyond_quantile: Option<f64>,
    /// The spread is never taken as less than this fraction of |median|.
    pub relative_floor: f64,
    /// The spread is never taken as less than this, in the series' units.
    pub absolute_floor: f64,
}

impl Default for JumpConfig {
    fn default() -> Self {
        JumpConfig {
            window: BaselineWindow::Seconds(SECONDS_PER_WEEK),
            gap: BaselineWindow::Points(0),
            seasonality: Seasonality::None,
            seasonal_periods: 7,
            seasonal_tolerance_seconds: 30 * 60,
            min_seasonal_periods: 3,
            min_points: 7,
            threshold: 6.0,
            min_abs_change: 0.0,
            direction: Direction::Both,
            beyond_quantile: Some(0.99),
            relative_floor: 0.05,
            absolute_floor: 1e-9,
        }
    }
}

impl JumpConfig {
    /// Checks the settings, naming the first one that cannot work.
    pub fn validate(&self) -> Result<(), String> {
        match self.window {
            BaselineWindow::Seconds(span) if span <= 0 => {
                return Err(format!("window must be positive, got {span}s"));
            }
            BaselineWindow::Points(0) => return Err("window must hold at least 1 point".into()),
            _ => {}
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(format!("threshold must be > 0, got {}", self.threshold));
        }
        for (name, value) in [
            ("min_abs_change", self.min_abs_change),
            ("relative_floor", self.relative_floor),
            ("absolute_floor", self.absolute_floor),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!("{name} must be >= 0, got {value}"));
            }
        }
        if let BaselineWindow::Seconds(span) = self.gap
            && span < 0
        {
            return Err(format!("gap must be >= 0, got {span}s"));
        }
        if let Some(quantile) = self.beyond_quantile
            && !(0.5..=1.0).contains(&quantile)
        {
            return Err(format!(
                "beyond_quantile must be within 0.5..=1, got {quantile}"
            ));
        }
        if self.seasonal_tolerance_seconds < 0 {
            return Err("seasonal_tolerance_seconds must be >= 0".into());
        }
        if self.seasonality != Seasonality::None
            && (self.seasonal_periods == 0 || self.min_seasonal_periods > self.seasonal_periods)
        {
            return Err(
                "seasonal_periods must be >= 1 and >= min_seasonal_periods when seasonality is on"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Why a point got no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotJudged {
    /// There is no point at that position.
    NoPoint,
    /// The point's value is NaN or infinite.
    MissingValue,
    /// Still learning: too little finite history in the window.
    Learning {
        /// Finite points in the trailing window.
        have: usize,
        /// Points needed before judging.
        need: usize,
    },
}

/// What the detector concluded about one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JumpVerdict {
    /// The point departs from its baseline by the configured rules.
    pub is_jump: bool,
    /// Robust score: signed distance from the median in units of the (floored) spread.
    pub score: f64,
    /// The judged value.
    pub value: f64,
    /// Median of the baseline.
    pub baseline_median: f64,
    /// MAD of the baseline scaled by 1.4826 (before any floor).
    pub baseline_mad: f64,
    /// Signed change from the median, in the series' units.
    pub change_abs: f64,
    /// Signed change from the median in percent of |median|; `None` when the median is 0.
    pub change_pct: Option<f64>,
    /// Which way the value moved.
    pub direction: ChangeDirection,
    /// Where the baseline came from.
    pub baseline_source: BaselineSource,
    /// How many finite points the baseline held.
    pub baseline_points: usize,
    /// The trailing window of the configuration, for the description.
    pub window: BaselineWindow,
    /// Previous seasons looked at, for the description of a seasonal baseline.
    pub seasonal_periods: usize,
}

impl JumpVerdict {
    /// One sentence for the operator, e.g.
    /// "spend 412.00 is 5.1x its usual 80.50 (median of the last 7d)".
    pub fn describe(&self, series_name: &str) -> String {
        let usual = format!("{:.2}", self.baseline_median);
        let how = self.relation_to_baseline();
        let over = self.baseline_description();
        format!(
            "{series_name} {value:.2} {how} {usual} ({over})",
            value = self.value
        )
    }

    fn relation_to_baseline(&self) -> String {
        let median = self.baseline_median;
        match self.direction {
            ChangeDirection::Flat => "is at its usual".to_string(),
            ChangeDirection::Up if median > 0.0 && self.value / median >= 1.95 => {
                format!("is {:.1}x its usual", self.value / median)
            }
            _ => match self.change_pct {
                Some(pct) if pct >= 0.0 => format!("is {pct:.0}% above its usual"),
                Some(pct) => format!("is {:.0}% below its usual", -pct),
                None if self.change_abs >= 0.0 => {
                    format!("is up {:.2} from its usual", self.change_abs)
                }
                None => format!("is down {:.2} from its usual", -self.change_abs),
            },
        }
    }

    fn baseline_description(&self) -> String {
        match self.baseline_source {
            BaselineSource::Seasonal(Seasonality::Weekly) => format!(
                "median at this time of week over the last {} weeks",
                self.seasonal_periods
            ),
            BaselineSource::Seasonal(_) => format!(
                "median at this time of day over the last {} days",
                self.seasonal_periods
            ),
            BaselineSource::Trailing => format!("median of the last {}", self.window),
        }
    }
}

impl fmt::Display for BaselineWindow {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BaselineWindow::Points(count) => write!(formatter, "{count} points"),
            BaselineWindow::Seconds(span) => {
                if span % SECONDS_PER_DAY == 0 {
                    write!(formatter, "{}d", span / SECONDS_PER_DAY)
                } else if span % 3600 == 0 {
                    write!(formatter, "{}h", span / 3600)
                } else if span % 60 == 0 {
                    write!(formatter, "{}m", span / 60)
                } else {
                    write!(formatter, "{span}s")
                }
            }
        }
    }
}

/// How many of the last few points were jumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SustainedJumps {
    /// Points among the last K that got a verdict.
    pub judged: usize,
    /// Of those, how many were jumps.
    pub jumps: usize,
    /// Jumps in a row ending at the latest point (a point without verdict ends the run).
    pub latest_run: usize,
}

/// A jump detector with its settings and a reusable scratch buffer.
#[derive(Debug, Clone)]
pub struct JumpDetector {
    config: JumpConfig,
    scratch: Vec<f64>,
    seasonal_scratch: Vec<f64>,
}

impl JumpDetector {
    /// A detector with these settings.
    pub fn new(config: JumpConfig) -> Self {
        JumpDetector {
            config,
            scratch: Vec::new(),
            seasonal_scratch: Vec::new(),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &JumpConfig {
        &self.config
    }

    /// Judges the last point of `history` against the points before it.
    pub fn judge_latest(&mut self, history: &[(i64, f64)]) -> Result<JumpVerdict, NotJudged> {
        match history.len().checked_sub(1) {
            Some(last) => self.judge_at(history, last),
            None => Err(NotJudged::NoPoint),
        }
    }

    /// Judges `history[index]` using only the points before it, as if it had just arrived.
    pub fn judge_at(
        &mut self,
        history: &[(i64, f64)],
        index: usize,
    ) -> Result<JumpVerdict, NotJudged> {
        let &(_, value) = history.get(index).ok_or(NotJudged::NoPoint)?;
        if !value.is_finite() {
            return Err(NotJudged::MissingValue);
        }
        let config = &self.config;
        baseline::collect_trailing(history, index, config.window, config.gap, &mut self.scratch);
        let trailing_points = self.scratch.len();
        let need = config.min_points.max(1);
        if trailing_points < need {
            return Err(NotJudged::Learning {
                have: trailing_points,
                need,
            });
        }
        let mut baseline_source = BaselineSource::Trailing;
        if config.seasonality != Seasonality::None {
            let seasons =
                baseline::collect_seasonal(history, index, config, &mut self.seasonal_scratch);
            if seasons >= config.min_seasonal_periods.max(1) {
                baseline_source = BaselineSource::Seasonal(config.seasonality);
            }
        }
        let baseline_values = match baseline_source {
            BaselineSource::Trailing => &mut self.scratch,
            BaselineSource::Seasonal(_) => &mut self.seasonal_scratch,
        };
        let baseline_points = baseline_values.len();
        let tail_fraction = config
            .beyond_quantile
            .map_or(0.0, |quantile| 1.0 - quantile.clamp(0.5, 1.0));
        let Some(summary) = summarize_in_place(baseline_values, tail_fraction) else {
            return Err(NotJudged::Learning { have: 0, need });
        };
        Ok(self.verdict(value, summary, baseline_source, baseline_points))
    }

    fn verdict(
        &self,
        value: f64,
        summary: RobustSummary,
        baseline_source: BaselineSource,
        baseline_points: usize,
    ) -> JumpVerdict {
        let config = &self.config;
        let median = summary.median;
        let scaled_mad = summary.mad * MAD_TO_SIGMA;
        // When more than half the baseline sits on one value (a mostly-zero counter), the MAD is
        // 0; the mean absolute deviation then stands in for it (Iglewicz and Hoaglin).
        let collapsed_spread_fallback = if summary.mad == 0.0 {
            summary.mean_deviation * MEAN_DEVIATION_TO_SIGMA
        } else {
            0.0
        };
        let spread = scaled_mad
            .max(collapsed_spread_fallback)
            .max(config.relative_floor * median.abs())
            .max(config.absolute_floor)
            .max(f64::MIN_POSITIVE);
        let change_abs = value - median;
        let score = change_abs / spread;
        let score = if score.is_finite() {
            score
        } else {
            // Only reachable with values near f64::MAX; keep the sign, stay finite.
            f64::MAX.copysign(change_abs)
        };
        let direction = if change_abs > 0.0 {
            ChangeDirection::Up
        } else if change_abs < 0.0 {
            ChangeDirection::Down
        } else {
            ChangeDirection::Flat
        };
        let directed_score = match config.direction {
            Direction::Up => score,
            Direction::Down => -score,
            Direction::Both => score.abs(),
        };
        let beyond_tail = config.beyond_quantile.is_none()
            || match direction {
                ChangeDirection::Up => value > summary.upper_tail,
                ChangeDirection::Down => value < summary.lower_tail,
                ChangeDirection::Flat => false,
            };
        let is_jump = beyond_tail
            && directed_score >= config.threshold
            && change_abs.abs() >= config.min_abs_change;
        let change_pct = (median != 0.0).then(|| change_abs / median.abs() * 100.0);
        JumpVerdict {
            is_jump,
            score,
            value,
            baseline_median: median,
            baseline_mad: scaled_mad,
            change_abs,
            change_pct,
            direction,
            baseline_source,
            baseline_points,
            window: config.window,
            seasonal_periods: config.seasonal_periods,
        }
    }

    /// Judges each of the last `last_k` points against its own past and counts the jumps.
    pub fn sustained(&mut self, history: &[(i64, f64)], last_k: usize) -> SustainedJumps {
        let first = history.len().saturating_sub(last_k);
        let mut summary = SustainedJumps::default();
        for index in first..history.len() {
            match self.judge_at(history, index) {
                Ok(verdict) => {
                    summary.judged += 1;
                    if verdict.is_jump {
                        summary.jumps += 1;
                        summary.latest_run += 1;
                    } else {
                        summary.latest_run = 0;
                    }
                }
                Err(_) => summary.latest_run = 0,
            }
        }
        summary
    }
}

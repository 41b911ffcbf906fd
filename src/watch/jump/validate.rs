//! Validation of a `jump` watch (a series leaving its baseline) and the keys it takes.

use crate::config::raw::{DirectionName, RawWatch, SeasonalityName, SourceKind};
use crate::config::validate::{Validator, dur, is_sql};
use crate::config::*;
use crate::watch::jump::detector::{BaselineWindow, Direction, JumpConfig, Seasonality};
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) const JUMP_KEYS: &[&str] = &[
    "source",
    "query",
    "step",
    "baseline",
    "seasonality",
    "direction",
    "min_change",
    "sensitivity",
];

impl Validator<'_> {
    /// Where `jump` reads a series: SQL, PromQL, or a LogQL metric query.
    const SERIES_SOURCES: [SourceKind; 5] = [
        SourceKind::Postgres,
        SourceKind::Mysql,
        SourceKind::Sqlite,
        SourceKind::Prometheus,
        SourceKind::Loki,
    ];

    pub(crate) fn jump(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let (source, kind) =
            self.source_of(raw, sources, "jump", &Self::SERIES_SOURCES, missing)?;
        let Some(query) = &raw.query else {
            let example = if is_sql(kind) {
                "\"SELECT day AS time, sum(amount) AS value FROM charges GROUP BY day\""
            } else if kind == SourceKind::Loki {
                "'sum(count_over_time({app=\"shop\"} |= \"error\" [1h]))'"
            } else {
                "\"sum(increase(charges_total[1h]))\""
            };
            missing(self, "query", example);
            return None;
        };
        let step = dur(&raw.step).unwrap_or(Duration::from_secs(3600));
        let baseline = dur(&raw.baseline).unwrap_or(Duration::from_secs(7 * 86_400));
        for value in [&raw.step, &raw.baseline].into_iter().flatten() {
            if value.get_ref().0.is_zero() {
                self.error(value.span(), "must be longer than zero");
            }
        }
        let seasonality = match raw.seasonality.as_ref().map(|s| *s.get_ref()) {
            Some(SeasonalityName::Daily) => Seasonality::Daily,
            Some(SeasonalityName::Weekly) => Seasonality::Weekly,
            Some(SeasonalityName::None) | None => Seasonality::None,
        };
        let direction = match raw.direction.as_ref().map(|d| *d.get_ref()) {
            Some(DirectionName::Up) => Direction::Up,
            Some(DirectionName::Down) => Direction::Down,
            Some(DirectionName::Both) | None => Direction::Both,
        };
        let mut detector = JumpConfig {
            window: BaselineWindow::Seconds(i64::try_from(baseline.as_secs()).unwrap_or(i64::MAX)),
            seasonality,
            direction,
            ..JumpConfig::default()
        };
        if let Some(min_change) = &raw.min_change {
            detector.min_abs_change = *min_change.get_ref();
        }
        if let Some(sensitivity) = &raw.sensitivity {
            detector.threshold = *sensitivity.get_ref();
        }
        if let Err(problem) = detector.validate() {
            let span = raw
                .min_change
                .as_ref()
                .map(|v| v.span())
                .or(raw.sensitivity.as_ref().map(|v| v.span()))
                .unwrap_or(raw.kind.span());
            self.error(span, format!("invalid jump settings: {problem}"));
            return None;
        }
        let season = seasonality.period_seconds().unwrap_or(0).max(0) as u64;
        let seasons = season * detector.seasonal_periods as u64;
        let lookback = Duration::from_secs(baseline.as_secs().max(seasons) + step.as_secs());
        Some(WatchSpecKind::Jump(JumpSpec {
            source,
            query: query.get_ref().clone(),
            step,
            lookback,
            detector,
        }))
    }
}

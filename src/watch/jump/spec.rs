//! The typed configuration of a `jump` watch.

use std::time::Duration;

/// `jump`: a series departs from its own recent baseline.
#[derive(Debug, Clone)]
pub struct JumpSpec {
    pub source: String,
    /// PromQL or a LogQL metric query (every returned series judged on its own), or SQL
    /// returning `time, value` rows (and optionally a `subject` column).
    pub query: String,
    /// Spacing of the points judged.
    pub step: Duration,
    /// How far back the points reach (the baseline window plus seasons).
    pub lookback: Duration,
    pub detector: crate::watch::jump::detector::JumpConfig,
}

impl JumpSpec {
    pub fn source(&self) -> &str {
        &self.source
    }
}

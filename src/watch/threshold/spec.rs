//! The typed configuration of a `threshold` watch.

#[derive(Debug, Clone)]
pub struct ThresholdSpec {
    pub source: String,
    /// PromQL, or a LogQL metric query when the source is Loki.
    pub query: String,
}

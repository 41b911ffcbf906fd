//! The typed configuration of a `freshness` watch.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct FreshnessSpec {
    pub target: FreshnessTarget,
    pub max_age: Duration,
}

#[derive(Debug, Clone)]
pub enum FreshnessTarget {
    /// The newest file matching a glob.
    Files { pattern: String },
    /// A PromQL expression returning Unix timestamps (seconds), one per subject.
    Query { source: String, query: String },
}

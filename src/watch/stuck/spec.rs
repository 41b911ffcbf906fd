//! The typed configuration of a `stuck` watch: a job table, a Redis queue or a PromQL series of
//! queue lengths.

use std::time::Duration;

/// `stuck`: work that is not draining.
#[derive(Debug, Clone)]
pub enum StuckSpec {
    /// Rows of a job table in a waiting/running state for longer than `older_than`, per job type.
    Sql {
        source: String,
        table: String,
        state_column: String,
        states: Vec<String>,
        /// The column holding when the row entered its state (or was created).
        since_column: String,
        /// The column naming the job type; without it all rows are one subject.
        group_by: Option<String>,
        older_than: Duration,
    },
    /// A Redis job queue: stuck when its oldest job waited longer than `older_than`, or when
    /// it stayed above zero without falling for `stalled_for` observations.
    Redis {
        source: String,
        queue: crate::source::redis::QueueProbe,
        older_than: Option<Duration>,
        stalled_for: u32,
    },
    /// A PromQL expression of queue lengths, one series per queue: stuck when a series stayed
    /// above zero without falling across `stalled_for` steps of `step`.
    Prometheus {
        source: String,
        query: String,
        step: Duration,
        stalled_for: u32,
    },
}

impl StuckSpec {
    pub fn source(&self) -> &str {
        match self {
            StuckSpec::Sql { source, .. }
            | StuckSpec::Redis { source, .. }
            | StuckSpec::Prometheus { source, .. } => source,
        }
    }
}

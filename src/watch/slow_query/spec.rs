//! The typed configuration of a `slow_query` watch.

/// `slow_query`: a PostgreSQL statement's mean time per call leaves its own baseline.
#[derive(Debug, Clone)]
pub struct SlowQuerySpec {
    /// A PostgreSQL source with `pg_stat_statements`.
    pub source: String,
    pub judge: crate::watch::slow_query::core::SlowQueryConfig,
}

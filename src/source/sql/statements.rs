//! The statement-statistics capability: cumulative per-statement counters (as PostgreSQL's
//! `pg_stat_statements` keeps them) and the plan of a statement. A PostgreSQL source answers
//! it through the guarded read-only path; the demo answers it with a simulated database.

use super::database::SqlSource;
use super::pg_stat::{self, PlanEvidence};
use super::statement_stats::Snapshot;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

/// A sequential scan over fewer rows than this is not worth an index.
pub(crate) const SEQ_SCAN_ROWS: u64 = 10_000;

/// A source of statement statistics and plans.
pub trait StatementStatistics: Send + Sync {
    /// The cumulative counters of every statement at `now`.
    fn snapshot(
        &self,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Snapshot, super::database::QueryError>>;
    /// The plan of `query` at `now`, analysed for missing indexes.
    fn explain<'a>(
        &'a self,
        query: &'a str,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PlanEvidence, String>>;
}

impl StatementStatistics for SqlSource {
    fn snapshot(
        &self,
        _now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Snapshot, super::database::QueryError>> {
        Box::pin(pg_stat::read_snapshot(self))
    }

    fn explain<'a>(
        &'a self,
        query: &'a str,
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PlanEvidence, String>> {
        Box::pin(async move {
            pg_stat::explain_statement(self, query, SEQ_SCAN_ROWS)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

//! What PostgreSQL's `pg_stat_statements` reports: the cumulative counters of each statement
//! ([`StatementStat`]) and all of them at one moment ([`Snapshot`]). Plain facts read from the
//! database (see [`super::pg_stat::read_snapshot`]); judging them is the slow-query watch's job.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One row of `pg_stat_statements`, with the counters Sentinel uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementStat {
    pub queryid: i64,
    /// OID of the database the statement ran in, when known.
    pub dbid: Option<i64>,
    /// OID of the role that ran the statement, when known.
    pub userid: Option<i64>,
    /// The statement text as normalized by PostgreSQL (constants become `$1`, `$2`, ...).
    pub query: String,
    /// Cumulative number of executions.
    pub calls: i64,
    /// Cumulative execution time, in milliseconds.
    pub total_exec_time_ms: f64,
    /// Cumulative number of rows returned or affected.
    pub rows: i64,
}

/// All of `pg_stat_statements` at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the snapshot was taken.
    pub taken_at: DateTime<Utc>,
    /// When all statistics were last reset (`pg_stat_statements_info.stats_reset`,
    /// PostgreSQL 14+), if known. A change starts a new epoch for every statement.
    pub stats_reset: Option<DateTime<Utc>>,
    pub statements: Vec<StatementStat>,
}

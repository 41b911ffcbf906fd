//! `slow_query`: a PostgreSQL statement got slow. Each evaluation reads `pg_stat_statements`
//! through the guarded read-only path; [`super::slow_query_core`] compares every statement's
//! mean time per call in the last window with its own baseline. A slow statement pages with
//! its normalized text, the numbers, and the evidence: its plan (EXPLAIN without ANALYZE) and
//! the likely cause, such as "missing index on orders(customer_email)". What was learned
//! survives restarts (the store). The demo reads a simulated database's statistics instead
//! ([`SimulatedStatements`]); every configured source is a real PostgreSQL.

use super::WatchContext;
use super::observation::{Evaluation, Observation};
use super::slow_query_core::{SlowQuery, SlowQueryState, StatementKey};
use super::sql_values::blindness;
use crate::config::{SlowQuerySpec, WatchSpec};
use crate::source::sql::database::QueryError;
use crate::source::sql::database::SqlSource;
use crate::source::sql::explain::Finding;
use crate::source::sql::pg_stat;
use crate::source::sql::pg_stat::PlanEvidence;
use crate::source::{SourceError, SourceErrorKind};
use crate::watch::slow_query_core::Snapshot;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A sequential scan over fewer rows than this is not worth an index.
pub const SEQ_SCAN_ROWS: u64 = 10_000;

/// Statement statistics and plans that come from a simulation rather than a PostgreSQL
/// connection: the demo's shop database.
pub trait SimulatedStatements: Send + Sync + std::fmt::Debug {
    /// The cumulative counters as `pg_stat_statements` would show them at `now`.
    fn snapshot(&self, now: DateTime<Utc>) -> Snapshot;
    /// The plan PostgreSQL would give for `query` at `now`, analysed.
    fn explain(&self, query: &str, now: DateTime<Utc>) -> Result<PlanEvidence, String>;
}

/// Where one evaluation reads statistics and plans.
enum Statistics<'a> {
    Database(&'a SqlSource),
    Simulated(&'a dyn SimulatedStatements),
}

impl Statistics<'_> {
    async fn snapshot(&self, now: DateTime<Utc>) -> Result<Snapshot, QueryError> {
        match self {
            Statistics::Database(database) => pg_stat::read_snapshot(database).await,
            Statistics::Simulated(simulated) => Ok(simulated.snapshot(now)),
        }
    }

    async fn explain(&self, query: &str, now: DateTime<Utc>) -> Result<PlanEvidence, String> {
        match self {
            Statistics::Database(database) => {
                pg_stat::explain_statement(database, query, SEQ_SCAN_ROWS)
                    .await
                    .map_err(|e| e.to_string())
            }
            Statistics::Simulated(simulated) => simulated.explain(query, now),
        }
    }
}

/// What the watch keeps between evaluations.
#[derive(Default)]
pub struct State {
    core: Option<SlowQueryState>,
    /// The page of each statement that is slow now, kept while it stays slow even through
    /// windows with too few calls to judge.
    slow: BTreeMap<i64, (StatementKey, Observation)>,
}

fn store_error(error: impl std::fmt::Display) -> SourceError {
    SourceError::new("store", SourceErrorKind::BadResponse, error.to_string())
}

pub async fn evaluate(
    spec: &WatchSpec,
    slow_query: &SlowQuerySpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Evaluation {
    let statistics = match (
        ctx.sources.simulated_statements.get(&slow_query.source),
        ctx.sources.sql.get(&slow_query.source),
    ) {
        (Some(simulated), _) => Statistics::Simulated(simulated.as_ref()),
        (None, Some(database)) => Statistics::Database(database),
        (None, None) => {
            return Evaluation::Blind(super::not_configured(&slow_query.source));
        }
    };
    if state.core.is_none() {
        let saved = match ctx.store.baseline(&spec.name, "", "statements").await {
            Ok(saved) => saved,
            Err(error) => return Evaluation::Blind(store_error(error)),
        };
        state.core = Some(
            saved
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
        );
    }
    let snapshot = match statistics.snapshot(ctx.now).await {
        Ok(snapshot) => snapshot,
        Err(error) => return Evaluation::Blind(blindness(&slow_query.source, error)),
    };
    let Some(core) = state.core.as_mut() else {
        return Evaluation::Blind(store_error("watch state unavailable"));
    };
    let findings = core.observe(&slow_query.judge, &snapshot);
    state.slow.retain(|_, (key, _)| core.is_slow(key));
    for finding in findings {
        let key = StatementKey {
            queryid: finding.queryid,
            dbid: finding.dbid,
            userid: finding.userid,
        };
        let observation = describe(spec, &statistics, &finding, ctx.now).await;
        state.slow.insert(finding.queryid, (key, observation));
    }
    match serde_json::to_string(&*core) {
        Ok(json) => {
            if let Err(error) = ctx
                .store
                .set_baseline(&spec.name, "", "statements", &json, ctx.now)
                .await
            {
                return Evaluation::Blind(store_error(error));
            }
        }
        Err(error) => return Evaluation::Blind(store_error(error)),
    }
    Evaluation::Complete(state.slow.values().map(|(_, o)| o.clone()).collect())
}

fn millis(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

/// The finding most worth acting on: a missing index on a column compared for equality (the
/// best index candidate), then any missing index, then anything else the plan showed.
fn likely_cause(findings: &[Finding]) -> Option<String> {
    let missing = |f: &&Finding| matches!(f, Finding::MissingIndex { .. });
    let equality = |f: &&Finding| match f {
        Finding::MissingIndex { column, filter, .. } => filter.contains(&format!("{column} = ")),
        Finding::SeqScan { .. } => false,
    };
    let best = findings
        .iter()
        .find(|f| missing(f) && equality(f))
        .or_else(|| findings.iter().find(missing))
        .or(findings.first())?;
    Some(match best {
        Finding::MissingIndex { table, column, .. } => {
            format!("missing index on {table}({column})")
        }
        other => other.to_string(),
    })
}

/// The page for a slow statement, with its plan and the likely cause.
async fn describe(
    spec: &WatchSpec,
    statistics: &Statistics<'_>,
    slow: &SlowQuery,
    now: DateTime<Utc>,
) -> Observation {
    let evidence = statistics.explain(&slow.query, now).await;
    let cause = evidence
        .as_ref()
        .ok()
        .and_then(|plan| likely_cause(&plan.findings));
    let mut title = format!(
        "{}: a query got slow, {} per call (usually {}, {:.0}x)",
        spec.description,
        millis(slow.mean_ms),
        millis(slow.baseline_ms),
        slow.ratio
    );
    if let Some(cause) = &cause {
        title.push_str(&format!(": likely {cause}"));
    }
    let mut observation = Observation::broken(format!("query {}", slow.queryid), title)
        .with_fact(format!("query: {}", one_line(&slow.query, 300)))
        .with_fact(format!("{} calls in the last window", slow.calls))
        .with_value(slow.mean_ms);
    match evidence {
        Ok(plan) => {
            let outline: Vec<&str> = plan.plan_text.lines().take(8).collect();
            observation = observation.with_fact(format!("plan:\n{}", outline.join("\n")));
            for finding in plan.findings.iter().take(3) {
                observation = observation.with_fact(finding.to_string());
            }
        }
        Err(error) => {
            observation = observation.with_fact(format!("no plan: {error}"));
        }
    }
    observation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_equality_column_is_the_likely_missing_index() {
        let scan = |column: &str, filter: &str| Finding::MissingIndex {
            table: "orders".into(),
            column: column.into(),
            estimated_rows: 200_000,
            filter: filter.into(),
        };
        let filter = "((created_at > '2000-01-01') AND (customer_email = '1'::text))";
        let findings = [scan("created_at", filter), scan("customer_email", filter)];
        assert_eq!(
            likely_cause(&findings).as_deref(),
            Some("missing index on orders(customer_email)")
        );
        assert_eq!(
            likely_cause(&findings[..1]).as_deref(),
            Some("missing index on orders(created_at)")
        );
        assert_eq!(likely_cause(&[]), None);
    }
}

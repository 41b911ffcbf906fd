//! `slow_query`: a PostgreSQL statement got slow. Each evaluation reads `pg_stat_statements`
//! through the guarded read-only path; [`super::slow_query::core`] compares every statement's
//! mean time per call in the last window with its own baseline. A slow statement pages with
//! its normalized text, the numbers, and the evidence: its plan (EXPLAIN without ANALYZE) and
//! the likely cause, such as "missing index on orders(customer_email)". What was learned
//! survives restarts (the store). The statistics come from any source with the
//! statement-statistics capability: a PostgreSQL source, or the demo's simulated database.

pub mod core;
mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::WatchContext;
use super::kind::Watch;
use super::memory::{Memory, store_failure};
use super::observation::{Evaluation, Observation};
use super::slow_query::core::{SlowQuery, SlowQueryState, StatementKey};
use crate::config::{SlowQuerySpec, WatchSpec};
use crate::investigate::finding::Finding as InvestigationFinding;
use crate::investigate::playbook::PlaybookContext;
use crate::source::sql::explain::Finding;
use crate::source::sql::statements::StatementStatistics;
use crate::source::sql::values::blindness;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;

/// What the watch keeps between evaluations.
#[derive(Default)]
pub struct State {
    core: Option<SlowQueryState>,
    /// The page of each statement that is slow now, kept while it stays slow even through
    /// windows with too few calls to judge.
    slow: BTreeMap<i64, (StatementKey, Observation)>,
}

pub async fn evaluate(
    spec: &WatchSpec,
    slow_query: &SlowQuerySpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Evaluation {
    let statistics = match ctx.sources.statements(&slow_query.source) {
        Ok(statistics) => statistics,
        Err(error) => return Evaluation::Blind(error),
    };
    let memory = Memory::of(ctx, &spec.name);
    if state.core.is_none() {
        match memory.load("", "statements").await {
            Ok(saved) => state.core = Some(saved.unwrap_or_default()),
            Err(error) => return Evaluation::Blind(error),
        }
    }
    let snapshot = match statistics.snapshot(ctx.now).await {
        Ok(snapshot) => snapshot,
        Err(error) => return Evaluation::Blind(blindness(&slow_query.source, error)),
    };
    let Some(core) = state.core.as_mut() else {
        return Evaluation::Blind(store_failure("watch state unavailable"));
    };
    let findings = core.observe(&slow_query.judge, &snapshot);
    state.slow.retain(|_, (key, _)| core.is_slow(key));
    for finding in findings {
        let key = StatementKey {
            queryid: finding.queryid,
            dbid: finding.dbid,
            userid: finding.userid,
        };
        let observation = describe(spec, statistics, &finding, ctx.now).await;
        state.slow.insert(finding.queryid, (key, observation));
    }
    if let Err(error) = memory.save("", "statements", &*core).await {
        return Evaluation::Blind(error);
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
    statistics: &dyn StatementStatistics,
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

impl Watch for SlowQuerySpec {
    fn replay(&self, _sources: &[crate::config::SourceSpec]) -> super::kind::Replay {
        super::kind::Replay::Skipped(
            "it reads the database's statement counters as they are now".to_string(),
        )
    }

    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(async move {
            match ctx.states.of::<State>(&spec.name).await {
                Ok(mut state) => evaluate(spec, self, ctx, &mut state).await,
                Err(error) => Evaluation::Blind(error),
            }
        })
    }

    fn source_name(&self) -> Option<&str> {
        Some(&self.source)
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, InvestigationFinding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn describe(&self, _hold: &str) -> String {
        format!(
            "statements {}x slower than usual (and {} ms more per call)",
            self.judge.ratio, self.judge.min_increase_ms
        )
    }
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
            whole_index: None,
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

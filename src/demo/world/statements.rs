//! The statement statistics of the shop's database, simulated: SQLite keeps none, so the demo
//! computes what PostgreSQL's `pg_stat_statements` would show. Two statements run all along:
//! a product lookup by primary key and the order history looked up by the customer's e-mail.
//! A migration drops the index on `orders(customer_email)`; until it is added back, the order
//! lookup scans all 2.1 million orders. Plans are those PostgreSQL gives for these statements
//! (`EXPLAIN (FORMAT JSON)`), analysed by the same code as a real database's.

use crate::source::registry::{Finding, Source};
use crate::source::series::SeriesSource;
use crate::source::sql::database::{QueryError, SqlSource};
use crate::source::sql::pg_stat::{PlanEvidence, evidence_from_plan};
use crate::source::sql::statement_stats::{Snapshot, StatementStat};
use crate::source::sql::statements::{SEQ_SCAN_ROWS, StatementStatistics};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::HashMap;

const ORDERS_ROWS: u64 = 2_100_000;
const PRODUCTS_ROWS: u64 = 240;

/// One simulated statement: how often it runs and how long a call takes, with and without
/// the index.
struct Statement {
    queryid: i64,
    query: &'static str,
    calls_per_minute: i64,
    ms_per_call: f64,
    ms_per_call_without_index: f64,
    plan: &'static str,
    plan_without_index: &'static str,
}

const STATEMENTS: [Statement; 2] = [
    Statement {
        queryid: 7_310_422_981_556_041_803,
        query: "SELECT id, name, price_cents FROM products WHERE id = $1",
        calls_per_minute: 120,
        ms_per_call: 0.04,
        ms_per_call_without_index: 0.04,
        plan: PRODUCT_PLAN,
        plan_without_index: PRODUCT_PLAN,
    },
    Statement {
        queryid: -2_955_180_447_102_736_615,
        query: "SELECT id, total_cents, created_at FROM orders WHERE customer_email = $1 ORDER BY created_at DESC LIMIT $2",
        calls_per_minute: 30,
        ms_per_call: 0.35,
        ms_per_call_without_index: 212.0,
        plan: ORDERS_PLAN,
        plan_without_index: ORDERS_SCAN_PLAN,
    },
];

const PRODUCT_PLAN: &str = r#"[{"Plan": {"Node Type": "Index Scan", "Parallel Aware": false, "Async Capable": false, "Scan Direction": "Forward", "Index Name": "products_pkey", "Relation Name": "products", "Alias": "products", "Startup Cost": 0.15, "Total Cost": 8.17, "Plan Rows": 1, "Plan Width": 44, "Index Cond": "(id = 1)"}}]"#;

const ORDERS_PLAN: &str = r#"[{"Plan": {"Node Type": "Limit", "Parallel Aware": false, "Async Capable": false, "Startup Cost": 8.46, "Total Cost": 8.47, "Plan Rows": 2, "Plan Width": 20, "Plans": [{"Node Type": "Sort", "Parent Relationship": "Outer", "Parallel Aware": false, "Async Capable": false, "Startup Cost": 8.46, "Total Cost": 8.47, "Plan Rows": 4, "Plan Width": 20, "Sort Key": ["created_at DESC"], "Plans": [{"Node Type": "Index Scan", "Parent Relationship": "Outer", "Parallel Aware": false, "Async Capable": false, "Scan Direction": "Forward", "Index Name": "orders_customer_email_idx", "Relation Name": "orders", "Alias": "orders", "Startup Cost": 0.43, "Total Cost": 8.45, "Plan Rows": 4, "Plan Width": 20, "Index Cond": "(customer_email = '1'::text)"}]}]}}]"#;

const ORDERS_SCAN_PLAN: &str = r#"[{"Plan": {"Node Type": "Limit", "Parallel Aware": false, "Async Capable": false, "Startup Cost": 30812.17, "Total Cost": 30812.18, "Plan Rows": 2, "Plan Width": 20, "Plans": [{"Node Type": "Sort", "Parent Relationship": "Outer", "Parallel Aware": false, "Async Capable": false, "Startup Cost": 30812.17, "Total Cost": 30812.18, "Plan Rows": 4, "Plan Width": 20, "Sort Key": ["created_at DESC"], "Plans": [{"Node Type": "Gather", "Parent Relationship": "Outer", "Parallel Aware": false, "Async Capable": false, "Startup Cost": 1000.00, "Total Cost": 30812.15, "Plan Rows": 4, "Plan Width": 20, "Workers Planned": 2, "Single Copy": false, "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Parallel Aware": true, "Async Capable": false, "Relation Name": "orders", "Alias": "orders", "Startup Cost": 0.00, "Total Cost": 29811.75, "Plan Rows": 2, "Plan Width": 20, "Filter": "(customer_email = '1'::text)"}]}]}]}}]"#;

/// The shop's statements, with the index missing during `index_dropped`.
#[derive(Debug)]
pub(crate) struct ShopStatements {
    pub start: DateTime<Utc>,
    pub index_dropped: (DateTime<Utc>, DateTime<Utc>),
}

impl ShopStatements {
    /// Milliseconds spent in `statement` from the start to `now`.
    fn total_ms(&self, statement: &Statement, now: DateTime<Utc>) -> f64 {
        let minutes = |from: DateTime<Utc>, to: DateTime<Utc>| {
            (to.min(now) - from.max(self.start)).num_seconds().max(0) as f64 / 60.0
        };
        let (dropped, restored) = self.index_dropped;
        let slow = minutes(dropped, restored);
        let all = minutes(self.start, now);
        let per_minute = statement.calls_per_minute as f64;
        (all - slow) * per_minute * statement.ms_per_call
            + slow * per_minute * statement.ms_per_call_without_index
    }

    fn index_missing(&self, now: DateTime<Utc>) -> bool {
        (self.index_dropped.0..self.index_dropped.1).contains(&now)
    }
}

/// The shop's SQLite database, with the statement statistics PostgreSQL would keep for it.
pub(crate) struct SimulatedShop {
    pub database: SqlSource,
    pub statements: ShopStatements,
}

impl Source for SimulatedShop {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn check(&self) -> BoxFuture<'_, Finding> {
        self.database.check()
    }

    fn series(&self) -> Option<&dyn SeriesSource> {
        Some(&self.database)
    }

    fn statements(&self) -> Option<&dyn StatementStatistics> {
        Some(&self.statements)
    }

    fn database(&self) -> Option<&SqlSource> {
        Some(&self.database)
    }
}

impl StatementStatistics for ShopStatements {
    fn snapshot(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<Snapshot, QueryError>> {
        Box::pin(std::future::ready(Ok(self.simulated_snapshot(now))))
    }

    fn explain<'a>(
        &'a self,
        query: &'a str,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PlanEvidence, String>> {
        Box::pin(std::future::ready(self.simulated_plan(query, now)))
    }
}

impl ShopStatements {
    /// The counters `pg_stat_statements` would show at `now`.
    fn simulated_snapshot(&self, now: DateTime<Utc>) -> Snapshot {
        let minutes = (now - self.start).num_seconds().max(0) / 60;
        Snapshot {
            taken_at: now,
            stats_reset: None,
            statements: STATEMENTS
                .iter()
                .map(|statement| StatementStat {
                    queryid: statement.queryid,
                    dbid: Some(16_384),
                    userid: Some(16_385),
                    query: statement.query.to_string(),
                    calls: minutes * statement.calls_per_minute,
                    total_exec_time_ms: self.total_ms(statement, now),
                    rows: minutes * statement.calls_per_minute,
                })
                .collect(),
        }
    }

    /// The plan PostgreSQL would give for `query` at `now`, analysed.
    fn simulated_plan(&self, query: &str, now: DateTime<Utc>) -> Result<PlanEvidence, String> {
        let statement = STATEMENTS
            .iter()
            .find(|s| s.query == query)
            .ok_or_else(|| format!("no such statement: {query}"))?;
        let plan = if self.index_missing(now) {
            statement.plan_without_index
        } else {
            statement.plan
        };
        let literal = statement.query.replace("$1", "'1'").replace("$2", "'2'");
        let table_rows = HashMap::from([
            ("orders".to_string(), ORDERS_ROWS),
            ("products".to_string(), PRODUCTS_ROWS),
        ]);
        evidence_from_plan(
            format!("EXPLAIN (FORMAT JSON) {literal}"),
            plan.to_string(),
            table_rows,
            SEQ_SCAN_ROWS,
        )
        .map_err(|e| e.to_string())
    }
}

//! Forgetting old heartbeat history: pings and runs past `[store] ping_retention`, or beyond
//! the newest `pings_per_check` / `runs_per_check` of a check, are deleted in small batches,
//! each its own short write transaction, so a ping waiting for the writer waits for one batch
//! at most. What a watch still needs to judge is never deleted: the latest ping of each kind,
//! the latest ping with output, a start no finish has closed yet, the latest run.

use super::{Store, StoreError, millis};
use crate::config::Retention;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Rows deleted per write transaction.
pub(crate) const BATCH: i64 = 500;

/// How often the daemon sweeps.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Every check that has pings, in one index step per check (a skip scan over `pings_watch`).
const CHECKS_WITH_PINGS: &str = "WITH RECURSIVE checks(watch) AS (
        SELECT MIN(watch) FROM pings
        UNION ALL
        SELECT (SELECT MIN(watch) FROM pings WHERE watch > checks.watch) FROM checks
        WHERE checks.watch IS NOT NULL)
     SELECT watch FROM checks WHERE watch IS NOT NULL";

/// The same for runs.
const CHECKS_WITH_RUNS: &str = "WITH RECURSIVE checks(watch) AS (
        SELECT MIN(watch) FROM runs
        UNION ALL
        SELECT (SELECT MIN(watch) FROM runs WHERE watch > checks.watch) FROM checks
        WHERE checks.watch IS NOT NULL)
     SELECT watch FROM checks WHERE watch IS NOT NULL";

/// The id of the oldest ping kept by count (the Nth newest), if the check has that many.
const NTH_NEWEST_PING: &str =
    "SELECT id FROM pings WHERE watch = ? ORDER BY id DESC LIMIT 1 OFFSET ?";
const NTH_NEWEST_RUN: &str =
    "SELECT id FROM runs WHERE watch = ? ORDER BY id DESC LIMIT 1 OFFSET ?";

/// One batch of a check's pings, oldest first: older than the count keeps (`id < ?2`) or the
/// age keeps (`received_at < ?3`), and needed by nothing. A ping is needed while it is the
/// latest of its kind, the latest with output, or a start that no later finish (with its run
/// id, when it has one) has closed.
const DELETE_PINGS: &str = "DELETE FROM pings WHERE id IN (
        SELECT p.id FROM pings p INDEXED BY pings_watch
        WHERE p.watch = ?1 AND (p.id < ?2 OR p.received_at < ?3)
          AND EXISTS (SELECT 1 FROM pings n WHERE n.watch = p.watch AND n.kind = p.kind AND n.id > p.id)
          AND (p.body = '' OR EXISTS (SELECT 1 FROM pings b WHERE b.watch = p.watch AND b.body != ''
               AND b.id > p.id))
          AND (p.kind != 'start' OR EXISTS (SELECT 1 FROM pings f WHERE f.watch = p.watch
               AND f.kind IN ('success', 'fail') AND f.id > p.id
               AND (p.run_id IS NULL OR f.run_id = p.run_id)))
        ORDER BY p.id LIMIT ?4)";

/// One batch of a check's runs, oldest first; the latest run (its duration is in pages) stays.
const DELETE_RUNS: &str = "DELETE FROM runs WHERE id IN (
        SELECT id FROM runs
        WHERE watch = ?1 AND (id < ?2 OR finished_at < ?3)
          AND id < (SELECT MAX(id) FROM runs WHERE watch = ?1)
        ORDER BY id LIMIT ?4)";

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub pings: u64,
    pub runs: u64,
}

impl Store {
    /// Deletes the pings and runs `retention` no longer keeps, as of `now`, in batches.
    pub async fn sweep_heartbeat_history(
        &self,
        retention: &Retention,
        now: DateTime<Utc>,
    ) -> Result<Swept, StoreError> {
        let too_old =
            millis(now) - i64::try_from(retention.max_age.as_millis()).unwrap_or(i64::MAX / 2);
        let mut swept = Swept::default();
        let checks: Vec<String> = sqlx::query_scalar(CHECKS_WITH_PINGS)
            .fetch_all(self.reader())
            .await?;
        for check in &checks {
            let keep_from = self
                .nth_newest(NTH_NEWEST_PING, check, retention.pings_per_check)
                .await?;
            swept.pings += self
                .delete_in_batches(DELETE_PINGS, check, keep_from, too_old)
                .await?;
        }
        let checks: Vec<String> = sqlx::query_scalar(CHECKS_WITH_RUNS)
            .fetch_all(self.reader())
            .await?;
        for check in &checks {
            let keep_from = self
                .nth_newest(NTH_NEWEST_RUN, check, retention.runs_per_check)
                .await?;
            swept.runs += self
                .delete_in_batches(DELETE_RUNS, check, keep_from, too_old)
                .await?;
        }
        Ok(swept)
    }

    /// The id of the `keep`-th newest row of `check` (rows below it are past the count), or 0
    /// when the check has fewer rows.
    async fn nth_newest(
        &self,
        query: &'static str,
        check: &str,
        keep: u32,
    ) -> Result<i64, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(query)
            .bind(check)
            .bind(i64::from(keep.max(1)) - 1)
            .fetch_optional(self.reader())
            .await?;
        Ok(id.unwrap_or(0))
    }

    async fn delete_in_batches(
        &self,
        statement: &'static str,
        check: &str,
        keep_from: i64,
        too_old: i64,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let batch = self
                .write_one(
                    sqlx::query(statement)
                        .bind(check)
                        .bind(keep_from)
                        .bind(too_old)
                        .bind(BATCH),
                )
                .await?
                .rows_affected();
            deleted += batch;
            if batch < BATCH as u64 {
                return Ok(deleted);
            }
            // Let the pings and evaluations queued for the writer go first.
            tokio::task::yield_now().await;
        }
    }
}

/// Sweeps every [`SWEEP_EVERY`] until dropped (the daemon aborts it on shutdown); the first
/// sweep comes one period after start, so starting up never waits on it.
pub(crate) async fn sweep_periodically(
    store: Store,
    retention: Retention,
    clock: crate::clock::SharedClock,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + SWEEP_EVERY, SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.sweep_heartbeat_history(&retention, clock.now()).await {
            Ok(swept) if swept != Swept::default() => tracing::info!(
                pings = swept.pings,
                runs = swept.runs,
                "forgot heartbeat history past [store] retention"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(
                "could not forget old heartbeat history (tried again in {}s): {error}",
                SWEEP_EVERY.as_secs()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::heartbeats::tests::ping;
    use crate::store::heartbeats::{Ping, PingKind};
    use chrono::Duration as Span;

    async fn count(store: &Store, table: &str, check: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE watch = ?"
        )))
        .bind(check)
        .fetch_one(store.reader())
        .await
        .unwrap()
    }

    fn keep(max_age_days: u64, pings: u32, runs: u32) -> Retention {
        Retention {
            max_age: Duration::from_secs(max_age_days * 24 * 3600),
            pings_per_check: pings,
            runs_per_check: runs,
        }
    }

    #[tokio::test]
    async fn the_count_keeps_the_newest_and_everything_a_watch_still_judges_by() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let at = |secs: i64| t0 + Span::seconds(secs);
        // The only failure, with the only output; then a run that crashed (its start has a run
        // id and no finish); then 600 start/success runs.
        let failed = Ping {
            body: "disk full".into(),
            ..ping(PingKind::Fail(Some(3)), at(0))
        };
        store.record_ping("job", &failed).await.unwrap();
        let crashed = Ping {
            run_id: Some("crashed".into()),
            ..ping(PingKind::Start, at(1))
        };
        store.record_ping("job", &crashed).await.unwrap();
        for n in 0..600 {
            store
                .record_ping("job", &ping(PingKind::Start, at(10 + 2 * n)))
                .await
                .unwrap();
            store
                .record_ping("job", &ping(PingKind::Success, at(11 + 2 * n)))
                .await
                .unwrap();
        }
        let status = store.heartbeat_status("job").await.unwrap();

        let swept = store
            .sweep_heartbeat_history(&keep(90, 10, 5), at(3600))
            .await
            .unwrap();
        // 1202 pings: the newest 10 stay, and the failure and the crashed start with them.
        assert_eq!(
            swept,
            Swept {
                pings: 1190,
                runs: 595
            }
        );
        assert_eq!(count(&store, "pings", "job").await, 12);
        assert_eq!(count(&store, "runs", "job").await, 5);
        assert_eq!(store.heartbeat_status("job").await.unwrap(), status);
        assert_eq!(
            store.last_ping_body("job").await.unwrap().as_deref(),
            Some("disk full")
        );

        // The crashed run can still be finished, and measured from its start.
        let finished = Ping {
            run_id: Some("crashed".into()),
            ..ping(PingKind::Success, at(2001))
        };
        store.record_ping("job", &finished).await.unwrap();
        assert_eq!(
            store.heartbeat_status("job").await.unwrap().last_run_ms,
            Some(2_000_000)
        );
        // That finish closed it: the start and the oldest run go on the next sweep.
        let swept = store
            .sweep_heartbeat_history(&keep(90, 10, 5), at(3600))
            .await
            .unwrap();
        assert_eq!(swept, Swept { pings: 2, runs: 1 });
    }

    #[tokio::test]
    async fn age_forgets_old_pings_but_never_the_latest_success() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let day = |d: i64| t0 + Span::days(d);
        store
            .record_ping("monthly", &ping(PingKind::Success, day(0)))
            .await
            .unwrap();
        for d in 1..=10 {
            store
                .record_ping("monthly", &ping(PingKind::Log, day(d)))
                .await
                .unwrap();
        }
        store
            .record_ping("monthly", &ping(PingKind::Success, day(50)))
            .await
            .unwrap();
        for d in 95..99 {
            store
                .record_ping("daily", &ping(PingKind::Success, day(d)))
                .await
                .unwrap();
        }

        let swept = store
            .sweep_heartbeat_history(&keep(30, 1000, 1000), day(100))
            .await
            .unwrap();
        // Past 30 days: the first success and 9 of the logs; the latest log and the latest
        // success (50 days old, still the reference for the schedule) stay.
        assert_eq!(swept.pings, 10);
        assert_eq!(count(&store, "pings", "monthly").await, 2);
        assert_eq!(
            store
                .heartbeat_status("monthly")
                .await
                .unwrap()
                .last_success,
            Some(day(50))
        );
        assert_eq!(
            count(&store, "pings", "daily").await,
            4,
            "recent pings stay"
        );
    }

    #[tokio::test]
    async fn the_deletion_walks_the_index_of_one_check() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let details: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {DELETE_PINGS}"
        )))
        .bind("job")
        .bind(0_i64)
        .bind(0_i64)
        .bind(BATCH)
        .fetch_all(store.reader())
        .await
        .unwrap()
        .iter()
        .map(|row| sqlx::Row::get::<String, _>(row, 3))
        .collect();
        assert!(
            details.iter().all(|d| !d.starts_with("SCAN ")),
            "{details:?}"
        );
        assert!(
            details
                .iter()
                .any(|d| d.contains("INDEX pings_watch (watch=?)")),
            "{details:?}"
        );
    }
}

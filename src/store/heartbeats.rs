//! Heartbeat pings and the runs they delimit (a `/start` followed by a success or a failure).

use super::{Store, StoreError, from_millis, millis, opt_from_millis};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// What a ping said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingKind {
    Success,
    Start,
    /// A failure, with the exit status when one was given (`/fail` has none).
    Fail(Option<u8>),
    /// Output only; changes nothing.
    Log,
}

impl PingKind {
    fn as_str(self) -> &'static str {
        match self {
            PingKind::Success => "success",
            PingKind::Start => "start",
            PingKind::Fail(_) => "fail",
            PingKind::Log => "log",
        }
    }

    fn exit_status(self) -> Option<i64> {
        match self {
            PingKind::Fail(Some(status)) => Some(i64::from(status)),
            PingKind::Success => Some(0),
            _ => None,
        }
    }
}

/// One received ping.
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    pub kind: PingKind,
    pub at: DateTime<Utc>,
    pub remote: String,
    pub body: String,
    pub run_id: Option<String>,
}

/// What the heartbeat watch needs to judge a check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeartbeatStatus {
    /// When Sentinel first knew this check: the reference when it was never pinged.
    pub created_at: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_start: Option<DateTime<Utc>>,
    pub last_fail: Option<(DateTime<Utc>, Option<i64>)>,
    /// Duration of the last completed run, in milliseconds.
    pub last_run_ms: Option<i64>,
}

/// One ping as an investigation shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentPing {
    /// `success`, `start`, `fail` or `log`.
    pub kind: String,
    pub exit_status: Option<i64>,
    pub received_at: DateTime<Utc>,
    /// What the job sent with it (its output), possibly empty.
    pub body: String,
}

/// The run a finish without a run id closes: the latest earlier start, unless a success or
/// failure already came after it. (When the latest start is finished, every older one is too,
/// so looking at the latest alone is exact, and one index step.)
pub(crate) const OPEN_START: &str = "SELECT s.received_at FROM
        (SELECT id, received_at FROM pings WHERE watch = ?1 AND kind = 'start' AND id < ?2
         ORDER BY id DESC LIMIT 1) s
     WHERE NOT EXISTS (SELECT 1 FROM pings f WHERE f.watch = ?1 AND f.kind IN ('success', 'fail')
         AND f.id > s.id AND f.id < ?2)";

/// The same for a finish with a run id: only starts and finishes with that id count.
pub(crate) const OPEN_START_OF_RUN: &str = "SELECT s.received_at FROM
        (SELECT id, received_at FROM pings WHERE watch = ?1 AND run_id = ?3 AND kind = 'start'
         AND id < ?2 ORDER BY id DESC LIMIT 1) s
     WHERE NOT EXISTS (SELECT 1 FROM pings f WHERE f.watch = ?1 AND f.run_id = ?3
         AND f.kind IN ('success', 'fail') AND f.id > s.id AND f.id < ?2)";

/// The latest ping of one kind.
pub(crate) const LATEST_OF_KIND: &str = "SELECT received_at, exit_status FROM pings WHERE watch = ? AND kind = ? ORDER BY id DESC LIMIT 1";

/// The latest ping that carried output.
pub(crate) const LATEST_BODY: &str =
    "SELECT body FROM pings WHERE watch = ? AND body != '' ORDER BY id DESC LIMIT 1";

/// The latest completed run.
pub(crate) const LATEST_RUN: &str =
    "SELECT duration_ms FROM runs WHERE watch = ? ORDER BY id DESC LIMIT 1";

impl Store {
    /// Records when a heartbeat watch was first seen; keeps the first time on later calls.
    /// Writes only the first time.
    pub async fn ensure_heartbeat(
        &self,
        watch: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let known: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM heartbeat_checks WHERE watch = ?")
                .bind(watch)
                .fetch_optional(self.reader())
                .await?;
        if let Some(known) = known {
            return Ok(from_millis(known));
        }
        let mut tx = self.write().await?;
        sqlx::query("INSERT OR IGNORE INTO heartbeat_checks (watch, created_at) VALUES (?, ?)")
            .bind(watch)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        let first: i64 =
            sqlx::query_scalar("SELECT created_at FROM heartbeat_checks WHERE watch = ?")
                .bind(watch)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(from_millis(first))
    }

    /// Stores a ping; a success or failure after a start also records the run and its duration.
    pub async fn record_ping(&self, watch: &str, ping: &Ping) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO pings (watch, kind, exit_status, received_at, remote, body, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(watch)
        .bind(ping.kind.as_str())
        .bind(ping.kind.exit_status())
        .bind(millis(ping.at))
        .bind(&ping.remote)
        .bind(&ping.body)
        .bind(&ping.run_id)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        if matches!(ping.kind, PingKind::Success | PingKind::Fail(_)) {
            // The run this ping finishes: the latest earlier start (with the same run id, if
            // given) that no success or failure has finished yet.
            let lookup = if ping.run_id.is_some() {
                OPEN_START_OF_RUN
            } else {
                OPEN_START
            };
            let start: Option<i64> = sqlx::query_scalar(lookup)
                .bind(watch)
                .bind(inserted)
                .bind(&ping.run_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(started) = start {
                let finished = millis(ping.at);
                sqlx::query(
                    "INSERT INTO runs (watch, started_at, finished_at, outcome, exit_status, duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(watch)
                .bind(started)
                .bind(finished)
                .bind(if ping.kind == PingKind::Success { "success" } else { "fail" })
                .bind(ping.kind.exit_status())
                .bind((finished - started).max(0))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The latest of each kind of ping for a watch.
    pub async fn heartbeat_status(&self, watch: &str) -> Result<HeartbeatStatus, StoreError> {
        let created: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM heartbeat_checks WHERE watch = ?")
                .bind(watch)
                .fetch_optional(self.reader())
                .await?;
        let latest = |kind: &'static str| {
            sqlx::query(LATEST_OF_KIND)
                .bind(watch)
                .bind(kind)
                .fetch_optional(self.reader())
        };
        let success = latest("success").await?;
        let start = latest("start").await?;
        let fail = latest("fail").await?;
        let last_run_ms: Option<i64> = sqlx::query_scalar(LATEST_RUN)
            .bind(watch)
            .fetch_optional(self.reader())
            .await?;
        let at =
            |row: &Option<sqlx::sqlite::SqliteRow>| -> Result<Option<DateTime<Utc>>, StoreError> {
                Ok(match row {
                    Some(row) => opt_from_millis(row.try_get(0)?),
                    None => None,
                })
            };
        Ok(HeartbeatStatus {
            created_at: opt_from_millis(created),
            last_success: at(&success)?,
            last_start: at(&start)?,
            last_fail: match &fail {
                Some(row) => Some((from_millis(row.try_get(0)?), row.try_get(1)?)),
                None => None,
            },
            last_run_ms,
        })
    }

    /// The latest `limit` pings of a watch, newest first (an investigation's evidence).
    pub async fn recent_pings(
        &self,
        watch: &str,
        limit: u32,
    ) -> Result<Vec<RecentPing>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, exit_status, received_at, body FROM pings WHERE watch = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(watch)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RecentPing {
                    kind: row.try_get(0)?,
                    exit_status: row.try_get(1)?,
                    received_at: from_millis(row.try_get(2)?),
                    body: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// The output of the most recent ping that carried a body.
    pub async fn last_ping_body(&self, watch: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(LATEST_BODY)
            .bind(watch)
            .fetch_optional(self.reader())
            .await?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::Duration;

    /// A ping of `kind` at `at` from loopback, without output or run id.
    pub(crate) fn ping(kind: PingKind, at: DateTime<Utc>) -> Ping {
        Ping {
            kind,
            at,
            remote: "127.0.0.1".into(),
            body: String::new(),
            run_id: None,
        }
    }

    #[tokio::test]
    async fn start_then_success_records_a_run_with_its_duration() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        store
            .record_ping("backup", &ping(PingKind::Start, t0))
            .await
            .unwrap();
        store
            .record_ping(
                "backup",
                &ping(PingKind::Success, t0 + Duration::seconds(754)),
            )
            .await
            .unwrap();
        let status = store.heartbeat_status("backup").await.unwrap();
        assert_eq!(status.last_success, Some(t0 + Duration::seconds(754)));
        assert_eq!(status.last_start, Some(t0));
        assert_eq!(status.last_run_ms, Some(754_000));

        // A success without a start records no new run.
        store
            .record_ping("backup", &ping(PingKind::Success, t0 + Duration::hours(1)))
            .await
            .unwrap();
        let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(runs, 1);
    }

    #[tokio::test]
    async fn failures_keep_their_exit_status() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        store
            .record_ping("job", &ping(PingKind::Fail(Some(3)), t0))
            .await
            .unwrap();
        let status = store.heartbeat_status("job").await.unwrap();
        assert_eq!(status.last_fail, Some((t0, Some(3))));
        assert_eq!(status.last_success, None);
    }

    #[tokio::test]
    async fn ensure_heartbeat_keeps_the_first_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(store.ensure_heartbeat("w", t0).await.unwrap(), t0);
        assert_eq!(
            store
                .ensure_heartbeat("w", t0 + Duration::days(1))
                .await
                .unwrap(),
            t0
        );
    }

    #[tokio::test]
    async fn run_ids_pair_each_finish_with_its_own_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let with_rid = |kind, secs, rid: &str| Ping {
            run_id: Some(rid.into()),
            ..ping(kind, t0 + Duration::seconds(secs))
        };
        store
            .record_ping("job", &with_rid(PingKind::Start, 0, "a"))
            .await
            .unwrap();
        store
            .record_ping("job", &with_rid(PingKind::Start, 10, "b"))
            .await
            .unwrap();
        store
            .record_ping("job", &with_rid(PingKind::Success, 100, "a"))
            .await
            .unwrap();
        assert_eq!(
            store.heartbeat_status("job").await.unwrap().last_run_ms,
            Some(100_000),
            "run a started at 0"
        );
        store
            .record_ping("job", &with_rid(PingKind::Fail(Some(2)), 130, "b"))
            .await
            .unwrap();
        assert_eq!(
            store.heartbeat_status("job").await.unwrap().last_run_ms,
            Some(120_000),
            "run b started at 10"
        );
        // Both runs are finished: neither a second finish of a nor one without a run id
        // makes a run.
        store
            .record_ping("job", &with_rid(PingKind::Success, 200, "a"))
            .await
            .unwrap();
        store
            .record_ping("job", &ping(PingKind::Success, t0 + Duration::seconds(300)))
            .await
            .unwrap();
        let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(runs, 2);
    }

    /// The details of `EXPLAIN QUERY PLAN` for `query` with `binds` (text values).
    async fn plan(store: &Store, query: &str, binds: &[&str]) -> Vec<String> {
        let mut explain = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {query}")));
        for bind in binds {
            explain = explain.bind(bind.to_string());
        }
        explain
            .fetch_all(store.reader())
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>(3))
            .collect()
    }

    #[tokio::test]
    async fn intake_and_the_heartbeat_watch_search_indexes_never_scan_the_pings() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        // Enough rows and fresh statistics that the planner's choice is the one it makes in
        // a full store.
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        for n in 0..200 {
            let kind = [PingKind::Start, PingKind::Success, PingKind::Log][n % 3];
            let check = format!("check-{}", n % 7);
            store
                .record_ping(&check, &ping(kind, t0 + Duration::seconds(n as i64)))
                .await
                .unwrap();
        }
        store.write_one(sqlx::query("ANALYZE")).await.unwrap();
        let cases: [(&str, &[&str], &str); 5] = [
            (OPEN_START, &["check-1", "150"], "pings_kind"),
            (OPEN_START_OF_RUN, &["check-1", "150", "rid-1"], "pings_run"),
            (LATEST_OF_KIND, &["check-1", "fail"], "pings_kind"),
            (LATEST_BODY, &["check-1"], "pings_body"),
            (LATEST_RUN, &["check-1"], "runs_watch"),
        ];
        for (query, binds, index) in cases {
            let details = plan(&store, query, binds).await;
            assert!(
                details
                    .iter()
                    .any(|d| d.contains(&format!("INDEX {index}"))),
                "{query}\nshould use {index}: {details:?}"
            );
            assert!(
                // `SCAN s` walks the one-row derived table of the latest start.
                !details
                    .iter()
                    .any(|d| d.starts_with("SCAN ") && d != "SCAN s"),
                "{query}\nmust not scan a table: {details:?}"
            );
        }
    }
}

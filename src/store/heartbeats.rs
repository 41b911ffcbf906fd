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

impl Store {
    /// Records when a heartbeat watch was first seen; keeps the first time on later calls.
    pub async fn ensure_heartbeat(
        &self,
        watch: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        sqlx::query("INSERT OR IGNORE INTO heartbeat_checks (watch, created_at) VALUES (?, ?)")
            .bind(watch)
            .bind(millis(now))
            .execute(self.pool())
            .await?;
        let created: i64 =
            sqlx::query_scalar("SELECT created_at FROM heartbeat_checks WHERE watch = ?")
                .bind(watch)
                .fetch_one(self.pool())
                .await?;
        Ok(from_millis(created))
    }

    /// Stores a ping; a success or failure after a start also records the run and its duration.
    pub async fn record_ping(&self, watch: &str, ping: &Ping) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
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
            let start: Option<i64> = sqlx::query_scalar(
                "SELECT s.received_at FROM pings s
                 WHERE s.watch = ?1 AND s.kind = 'start' AND s.id < ?2 AND (?3 IS NULL OR s.run_id = ?3)
                   AND NOT EXISTS (SELECT 1 FROM pings f WHERE f.watch = ?1 AND f.kind IN ('success', 'fail')
                       AND f.id > s.id AND f.id < ?2 AND (?3 IS NULL OR f.run_id = ?3))
                 ORDER BY s.id DESC LIMIT 1",
            )
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
                .fetch_optional(self.pool())
                .await?;
        let latest = |kind: &'static str| {
            sqlx::query("SELECT received_at, exit_status FROM pings WHERE watch = ? AND kind = ? ORDER BY id DESC LIMIT 1")
                .bind(watch)
                .bind(kind)
                .fetch_optional(self.pool())
        };
        let success = latest("success").await?;
        let start = latest("start").await?;
        let fail = latest("fail").await?;
        let last_run_ms: Option<i64> = sqlx::query_scalar(
            "SELECT duration_ms FROM runs WHERE watch = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(watch)
        .fetch_optional(self.pool())
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

    /// The output of the most recent ping that carried a body.
    pub async fn last_ping_body(&self, watch: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT body FROM pings WHERE watch = ? AND body != '' ORDER BY id DESC LIMIT 1",
        )
        .bind(watch)
        .fetch_optional(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn ping(kind: PingKind, at: DateTime<Utc>) -> Ping {
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
            .fetch_one(store.pool())
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
}

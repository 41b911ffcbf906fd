//! The outbox: every notice is written here (in the same transaction as the alert change that
//! caused it) before any channel sees it; delivery marks it sent, retries it, or gives up on
//! it loudly. Keys are unique, so a notice is enqueued at most once.

use super::{Store, StoreError, from_millis, millis};
use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

/// Where an outbox entry is in its life, as stored in the `state` column. Nothing reads the
/// column back: it only selects and marks entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboxState {
    /// Not yet delivered: waiting for its turn or its next attempt.
    Pending,
    /// Acknowledged by the channel; never sent again.
    Sent,
    /// Refused by the channel (or unreadable); given up on.
    Dead,
}

impl OutboxState {
    /// The name stored in the `state` column.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
        }
    }
}

/// One notice waiting for, or done with, one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: i64,
    /// Unique per (notice, channel); sent to channels that take an idempotency key.
    pub key: String,
    pub channel: String,
    /// The notice as JSON.
    pub payload: String,
    /// For channels that can edit: the key of the entry whose message this one edits.
    pub edits_key: Option<String>,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// Enqueues a notice for a channel. Returns false if that key was already enqueued.
pub(crate) async fn enqueue(
    conn: &mut SqliteConnection,
    key: &str,
    channel: &str,
    payload: &str,
    edits_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "INSERT OR IGNORE INTO outbox (key, channel, payload, edits_key, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(key)
    .bind(channel)
    .bind(payload)
    .bind(edits_key)
    .bind(millis(now))
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

impl Store {
    /// The oldest undelivered entry of a channel, if it is due. Delivery is in order: while
    /// the oldest waits for its retry, the ones behind it wait too.
    pub async fn outbox_head(
        &self,
        channel: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let row = sqlx::query(
            "SELECT id, key, channel, payload, edits_key, attempts, created_at, next_attempt_at FROM outbox
             WHERE channel = ? AND state = ? ORDER BY id LIMIT 1",
        )
        .bind(channel)
        .bind(OutboxState::Pending.as_str())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let next_attempt: i64 = row.try_get(7)?;
        if next_attempt > millis(now) {
            return Ok(None);
        }
        Ok(Some(OutboxEntry {
            id: row.try_get(0)?,
            key: row.try_get(1)?,
            channel: row.try_get(2)?,
            payload: row.try_get(3)?,
            edits_key: row.try_get(4)?,
            attempts: row.try_get(5)?,
            created_at: from_millis(row.try_get(6)?),
        }))
    }

    /// When the head of a channel's line (its oldest undelivered entry) is due: the entries
    /// behind it wait for it, so this is when the channel has something to deliver next. None
    /// when nothing waits.
    pub async fn outbox_head_due(
        &self,
        channel: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT next_attempt_at FROM outbox
             WHERE channel = ? AND state = ? ORDER BY id LIMIT 1",
        )
        .bind(channel)
        .bind(OutboxState::Pending.as_str())
        .fetch_optional(self.reader())
        .await?;
        Ok(at.map(from_millis))
    }

    /// The channel acknowledged the entry: it is never sent again.
    pub async fn outbox_sent(
        &self,
        id: i64,
        external_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let statement = sqlx::query("UPDATE outbox SET state = ?, sent_at = ?, external_id = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?")
            .bind(OutboxState::Sent.as_str())
            .bind(millis(now))
            .bind(external_id)
            .bind(id);
        self.write_one(statement).await?;
        Ok(())
    }

    /// Delivery failed and may succeed later.
    pub async fn outbox_retry(
        &self,
        id: i64,
        next_attempt: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let statement = sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?")
            .bind(millis(next_attempt))
            .bind(error)
            .bind(id);
        self.write_one(statement).await?;
        Ok(())
    }

    /// Delivery failed in a way retrying cannot fix (the channel rejected the message).
    pub async fn outbox_dead(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let statement = sqlx::query(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
        )
        .bind(OutboxState::Dead.as_str())
        .bind(error)
        .bind(id);
        self.write_one(statement).await?;
        Ok(())
    }

    /// Entries not yet delivered.
    pub async fn outbox_depth(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = ?")
                .bind(OutboxState::Pending.as_str())
                .fetch_one(self.reader())
                .await?,
        )
    }

    /// The channel's id of a delivered entry (to edit that message later).
    pub async fn outbox_external_id(&self, key: &str) -> Result<Option<String>, StoreError> {
        let id: Option<Option<String>> =
            sqlx::query_scalar("SELECT external_id FROM outbox WHERE key = ? AND state = ?")
                .bind(key)
                .bind(OutboxState::Sent.as_str())
                .fetch_optional(self.reader())
                .await?;
        Ok(id.flatten())
    }
}

impl Store {
    /// The pages (firing notices) written for delivery between `from` and `to`, once each
    /// whatever the number of channels, oldest first: what Sentinel really sent or tried to.
    pub async fn pages_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::alert::notice::Notice>, StoreError> {
        let rows = sqlx::query(
            "SELECT payload FROM outbox WHERE created_at >= ? AND created_at <= ? ORDER BY id",
        )
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(self.reader())
        .await?;
        let mut seen = std::collections::HashSet::new();
        let mut pages = Vec::new();
        for row in rows {
            let payload: String = row.get("payload");
            let Ok(notice) = serde_json::from_str::<crate::alert::notice::Notice>(&payload) else {
                continue;
            };
            if notice.kind == crate::alert::notice::NoticeKind::Firing
                && seen.insert(notice.key.clone())
            {
                pages.push(notice);
            }
        }
        Ok(pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[tokio::test]
    async fn delivery_is_in_order_and_a_waiting_head_holds_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let mut conn = store.write().await.unwrap();
        assert!(
            enqueue(&mut conn, "a@console", "console", "{}", None, now)
                .await
                .unwrap()
        );
        assert!(
            enqueue(&mut conn, "b@console", "console", "{}", None, now)
                .await
                .unwrap()
        );
        assert!(
            !enqueue(&mut conn, "a@console", "console", "{}", None, now)
                .await
                .unwrap(),
            "same key twice"
        );
        conn.commit().await.unwrap();
        assert_eq!(store.outbox_depth().await.unwrap(), 2);

        let head = store.outbox_head("console", now).await.unwrap().unwrap();
        assert_eq!(head.key, "a@console");
        store
            .outbox_retry(head.id, now + Duration::seconds(30), "timeout")
            .await
            .unwrap();
        assert_eq!(
            store.outbox_head("console", now).await.unwrap(),
            None,
            "b must wait behind a"
        );
        let head = store
            .outbox_head("console", now + Duration::seconds(31))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((head.key.as_str(), head.attempts), ("a@console", 1));

        store.outbox_sent(head.id, Some("42"), now).await.unwrap();
        assert_eq!(
            store
                .outbox_external_id("a@console")
                .await
                .unwrap()
                .as_deref(),
            Some("42")
        );
        let head = store.outbox_head("console", now).await.unwrap().unwrap();
        assert_eq!(head.key, "b@console");
        store.outbox_dead(head.id, "400 bad request").await.unwrap();
        assert_eq!(store.outbox_depth().await.unwrap(), 0);
        assert_eq!(store.outbox_head("console", now).await.unwrap(), None);
    }

    #[tokio::test]
    async fn states_are_stored_under_the_names_the_schema_allows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let mut conn = store.write().await.unwrap();
        for key in ["a", "b", "c"] {
            enqueue(&mut conn, key, "console", "{}", None, now)
                .await
                .unwrap();
        }
        conn.commit().await.unwrap();
        store.outbox_sent(1, None, now).await.unwrap();
        store.outbox_dead(2, "refused").await.unwrap();
        let states: Vec<String> = sqlx::query_scalar("SELECT state FROM outbox ORDER BY id")
            .fetch_all(store.reader())
            .await
            .unwrap();
        assert_eq!(states, ["sent", "dead", "pending"]);
        assert_eq!(
            [OutboxState::Sent, OutboxState::Dead, OutboxState::Pending].map(OutboxState::as_str),
            ["sent", "dead", "pending"]
        );
    }

    #[tokio::test]
    async fn a_line_is_due_when_its_head_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(store.outbox_head_due("console").await.unwrap(), None);
        let mut conn = store.write().await.unwrap();
        for key in ["a@console", "b@console"] {
            enqueue(&mut conn, key, "console", "{}", None, now)
                .await
                .unwrap();
        }
        enqueue(
            &mut conn,
            "a@phone",
            "phone",
            "{}",
            None,
            now + Duration::seconds(1),
        )
        .await
        .unwrap();
        conn.commit().await.unwrap();
        assert_eq!(store.outbox_head_due("console").await.unwrap(), Some(now));

        let head = store.outbox_head("console", now).await.unwrap().unwrap();
        store
            .outbox_retry(head.id, now + Duration::seconds(30), "timeout")
            .await
            .unwrap();
        assert_eq!(
            store.outbox_head_due("console").await.unwrap(),
            Some(now + Duration::seconds(30)),
            "b was due at once, but it waits behind a"
        );
        assert_eq!(
            store.outbox_head_due("phone").await.unwrap(),
            Some(now + Duration::seconds(1)),
            "another channel's line is its own"
        );
        store.outbox_sent(head.id, None, now).await.unwrap();
        let head = store.outbox_head("console", now).await.unwrap().unwrap();
        store.outbox_dead(head.id, "400 bad request").await.unwrap();
        assert_eq!(store.outbox_head_due("console").await.unwrap(), None);
    }
}

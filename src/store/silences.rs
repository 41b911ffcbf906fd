//! Snoozes (silence until a time) and mutes (silence until unmuted), per watch or per subject.

use super::{Store, StoreError, from_millis, millis, opt_from_millis};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// One silence as the operator set it.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    pub id: i64,
    pub watch: String,
    /// `None` silences every subject of the watch.
    pub subject: Option<String>,
    /// `None` is a mute: until unmuted.
    pub until: Option<DateTime<Utc>>,
    pub reason: String,
    pub created_by: String,
}

impl Store {
    /// Silences a watch (or one subject of it) until `until`, or until unmuted when `None`.
    pub async fn add_silence(
        &self,
        watch: &str,
        subject: Option<&str>,
        until: Option<DateTime<Utc>>,
        reason: &str,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let statement = sqlx::query(
            "INSERT INTO silences (watch, subject, until_at, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(watch)
        .bind(subject)
        .bind(until.map(millis))
        .bind(reason)
        .bind(created_by)
        .bind(millis(now));
        let result = self.write_one(statement).await?;
        Ok(result.last_insert_rowid())
    }

    /// Lifts every silence on a watch (and, if given, only those on that subject or the whole
    /// watch). Returns how many were lifted.
    pub async fn lift_silences(
        &self,
        watch: &str,
        subject: Option<&str>,
    ) -> Result<u64, StoreError> {
        let result = match subject {
            Some(subject) => {
                self.write_one(
                    sqlx::query(
                        "DELETE FROM silences WHERE watch = ? AND (subject = ? OR subject IS NULL)",
                    )
                    .bind(watch)
                    .bind(subject),
                )
                .await?
            }
            None => {
                self.write_one(sqlx::query("DELETE FROM silences WHERE watch = ?").bind(watch))
                    .await?
            }
        };
        Ok(result.rows_affected())
    }

    /// Silences in force at `now` (made by then, not yet over).
    pub async fn active_silences(&self, now: DateTime<Utc>) -> Result<Vec<Silence>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, watch, subject, until_at, reason, created_by FROM silences
             WHERE (until_at IS NULL OR until_at > ?) AND created_at <= ? ORDER BY id",
        )
        .bind(millis(now))
        .bind(millis(now))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(silence_of).collect()
    }

    /// Silences in force at some moment between `from` and `to`, each with when it was made
    /// (lifted ones are gone from the store). A backtest replays them.
    pub async fn silences_during(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Silence, DateTime<Utc>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, watch, subject, until_at, reason, created_by, created_at FROM silences
             WHERE (until_at IS NULL OR until_at > ?) AND created_at <= ? ORDER BY id",
        )
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| Ok((silence_of(row)?, from_millis(row.try_get(6)?))))
            .collect()
    }
}

fn silence_of(row: &sqlx::sqlite::SqliteRow) -> Result<Silence, StoreError> {
    Ok(Silence {
        id: row.try_get(0)?,
        watch: row.try_get(1)?,
        subject: row.try_get(2)?,
        until: opt_from_millis(row.try_get(3)?),
        reason: row.try_get(4)?,
        created_by: row.try_get(5)?,
    })
}

/// True when one of `silences` covers (watch, subject).
pub(crate) fn covers(silences: &[Silence], watch: &str, subject: &str) -> bool {
    silences
        .iter()
        .any(|s| s.watch == watch && s.subject.as_deref().is_none_or(|only| only == subject))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[tokio::test]
    async fn snoozes_expire_mutes_do_not_and_unmute_lifts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = Utc::now();
        store
            .add_silence(
                "backup",
                None,
                Some(now + Duration::hours(1)),
                "deploy",
                "op",
                now,
            )
            .await
            .unwrap();
        store
            .add_silence("disk", Some("/var"), None, "known", "op", now)
            .await
            .unwrap();

        let active = store.active_silences(now).await.unwrap();
        assert!(covers(&active, "backup", ""));
        assert!(covers(&active, "disk", "/var"));
        assert!(
            !covers(&active, "disk", "/home"),
            "a subject mute must not cover other subjects"
        );
        assert!(!covers(&active, "other", ""));

        let later = store
            .active_silences(now + Duration::hours(2))
            .await
            .unwrap();
        assert!(!covers(&later, "backup", ""), "snooze must expire");
        assert!(covers(&later, "disk", "/var"), "mute must last");

        assert_eq!(store.lift_silences("disk", Some("/var")).await.unwrap(), 1);
        assert!(!covers(
            &store.active_silences(now).await.unwrap(),
            "disk",
            "/var"
        ));
    }
}

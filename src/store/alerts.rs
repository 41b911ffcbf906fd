//! Persisted alert records: one row per (watch, subject), read and written by the tracker.

use super::{Store, StoreError, from_millis, millis, opt_from_millis};
use crate::alert::tracker::{AlertRecord, AlertState};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

const COLUMNS: &str = "watch, subject, state, incident, broken_since, fired_at, held_since, resolved_at, notified_at, title, facts, value, updated_at, notice_key";

fn decode(row: &SqliteRow) -> Result<AlertRecord, StoreError> {
    let state: String = row.try_get("state")?;
    let facts: String = row.try_get("facts")?;
    Ok(AlertRecord {
        watch: row.try_get("watch")?,
        subject: row.try_get("subject")?,
        state: AlertState::parse(&state)
            .ok_or_else(|| StoreError::Decode(format!("unknown alert state {state:?}")))?,
        incident: row.try_get("incident")?,
        broken_since: from_millis(row.try_get("broken_since")?),
        fired_at: opt_from_millis(row.try_get("fired_at")?),
        held_since: opt_from_millis(row.try_get("held_since")?),
        resolved_at: opt_from_millis(row.try_get("resolved_at")?),
        notified_at: opt_from_millis(row.try_get("notified_at")?),
        title: row.try_get("title")?,
        facts: serde_json::from_str(&facts).map_err(|e| StoreError::Decode(e.to_string()))?,
        value: row.try_get("value")?,
        updated_at: from_millis(row.try_get("updated_at")?),
        notice_key: row.try_get("notice_key")?,
    })
}

/// Every record of one watch (open or not).
pub(crate) async fn for_watch(
    conn: &mut SqliteConnection,
    watch: &str,
) -> Result<Vec<AlertRecord>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM alerts WHERE watch = ?"
    )))
    .bind(watch)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(decode).collect()
}

/// Inserts or replaces one record.
pub(crate) async fn upsert(
    conn: &mut SqliteConnection,
    record: &AlertRecord,
) -> Result<(), StoreError> {
    let facts =
        serde_json::to_string(&record.facts).map_err(|e| StoreError::Decode(e.to_string()))?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT OR REPLACE INTO alerts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(&record.watch)
    .bind(&record.subject)
    .bind(record.state.as_str())
    .bind(record.incident)
    .bind(millis(record.broken_since))
    .bind(record.fired_at.map(millis))
    .bind(record.held_since.map(millis))
    .bind(record.resolved_at.map(millis))
    .bind(record.notified_at.map(millis))
    .bind(&record.title)
    .bind(facts)
    .bind(record.value)
    .bind(millis(record.updated_at))
    .bind(&record.notice_key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Every alert record, open ones first, newest change first.
    pub async fn all_alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM alerts ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, updated_at DESC"
        )))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(decode).collect()
    }

    /// How many alerts are in each state.
    pub async fn alert_counts(&self) -> Result<Vec<(AlertState, i64)>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM alerts GROUP BY state")
            .fetch_all(self.reader())
            .await?;
        let mut counts = Vec::new();
        for row in rows {
            let state: String = row.try_get(0)?;
            if let Some(state) = AlertState::parse(&state) {
                counts.push((state, row.try_get(1)?));
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn record(subject: &str, state: AlertState) -> AlertRecord {
        let at = DateTime::<Utc>::from_timestamp_millis(1_800_000_000_123).unwrap();
        AlertRecord {
            watch: "disk".into(),
            subject: subject.into(),
            state,
            incident: 3,
            broken_since: at,
            fired_at: Some(at),
            held_since: None,
            resolved_at: None,
            notified_at: Some(at),
            title: "disk <full> & \"quoted\"".into(),
            facts: vec!["97% used".into(), "line\nbreak".into()],
            value: Some(97.5),
            updated_at: at,
            notice_key: Some("disk/firing/db#3".into()),
        }
    }

    #[tokio::test]
    async fn records_round_trip_exactly_and_upsert_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let mut conn = store.write().await.unwrap();
        let firing = record("db", AlertState::Firing);
        upsert(&mut conn, &firing).await.unwrap();
        upsert(&mut conn, &record("web", AlertState::Pending))
            .await
            .unwrap();
        let mut loaded = for_watch(&mut conn, "disk").await.unwrap();
        loaded.sort_by(|a, b| a.subject.cmp(&b.subject));
        assert_eq!(loaded[0], firing);
        assert_eq!(loaded.len(), 2);

        let mut resolved = firing.clone();
        resolved.state = AlertState::Resolved;
        upsert(&mut conn, &resolved).await.unwrap();
        conn.commit().await.unwrap();
        let counts = store.alert_counts().await.unwrap();
        assert!(counts.contains(&(AlertState::Resolved, 1)), "{counts:?}");
        assert!(counts.contains(&(AlertState::Pending, 1)), "{counts:?}");
        assert_eq!(
            store.all_alerts().await.unwrap()[0].state,
            AlertState::Pending
        );
    }
}

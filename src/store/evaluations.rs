//! How many evaluations of each watch were recorded: written in the same transaction as the
//! evaluation's alert changes and notices, so the count is exactly what the store kept.

use super::{Store, StoreError, from_millis, millis};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// What the store recorded of one watch's evaluations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationCount {
    pub watch: String,
    pub evaluations: i64,
    /// Evaluations that could not read their source.
    pub blind: i64,
    pub last_evaluated_at: DateTime<Utc>,
}

/// Counts one evaluation of `watch` (inside the transaction that applies it).
pub(crate) async fn count(
    conn: &mut SqliteConnection,
    watch: &str,
    blind: bool,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO watch_evaluations (watch, evaluations, blind, last_evaluated_at) VALUES (?1, 1, ?2, ?3)
         ON CONFLICT (watch) DO UPDATE SET evaluations = evaluations + 1, blind = blind + ?2,
             last_evaluated_at = MAX(last_evaluated_at, ?3)",
    )
    .bind(watch)
    .bind(i64::from(blind))
    .bind(millis(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// The recorded evaluations of every watch, by name.
    pub async fn evaluation_counts(&self) -> Result<Vec<EvaluationCount>, StoreError> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT watch, evaluations, blind, last_evaluated_at FROM watch_evaluations ORDER BY watch",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(watch, evaluations, blind, last)| EvaluationCount {
                watch,
                evaluations,
                blind,
                last_evaluated_at: from_millis(last),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_add_up_per_watch_and_keep_the_latest_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let later = t0 + chrono::Duration::seconds(5);
        let mut tx = store.write().await.unwrap();
        count(&mut tx, "disk", false, later).await.unwrap();
        count(&mut tx, "disk", true, t0).await.unwrap();
        count(&mut tx, "backup", false, t0).await.unwrap();
        tx.commit().await.unwrap();
        // A transaction that is not committed counts nothing.
        let mut dropped = store.write().await.unwrap();
        count(&mut dropped, "disk", false, later).await.unwrap();
        drop(dropped);

        let counts = store.evaluation_counts().await.unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].watch, "backup");
        assert_eq!(
            (
                counts[1].evaluations,
                counts[1].blind,
                counts[1].last_evaluated_at
            ),
            (2, 1, later)
        );
    }
}

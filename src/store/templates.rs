//! Log templates learned per source: what the miner has seen, with first/last seen and counts,
//! so "never seen before" survives restarts.

use super::{Store, StoreError};
use crate::logs::TemplateRecord;

impl Store {
    /// Replaces the stored templates of `source` with `records` (the miner's snapshot).
    pub async fn save_templates(
        &self,
        source: &str,
        records: &[TemplateRecord],
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM log_templates WHERE source = ?")
            .bind(source)
            .execute(&mut *tx)
            .await?;
        for record in records {
            sqlx::query("INSERT INTO log_templates (source, id, template, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(source)
                .bind(i64::try_from(record.id).unwrap_or(i64::MAX))
                .bind(&record.template)
                .bind(i64::try_from(record.count).unwrap_or(i64::MAX))
                .bind(record.first_seen)
                .bind(record.last_seen)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored templates of `source`, ready for the miner's `restore`.
    pub async fn load_templates(&self, source: &str) -> Result<Vec<TemplateRecord>, StoreError> {
        let rows: Vec<(i64, String, i64, i64, i64)> =
            sqlx::query_as("SELECT id, template, count, first_seen, last_seen FROM log_templates WHERE source = ? ORDER BY id")
                .bind(source)
                .fetch_all(self.reader())
                .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, template, count, first_seen, last_seen)| TemplateRecord {
                    id: u64::try_from(id).unwrap_or(0),
                    template,
                    count: u64::try_from(count).unwrap_or(0),
                    first_seen,
                    last_seen,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{Miner, MinerConfig};

    #[tokio::test]
    async fn templates_survive_a_restart_with_their_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let mut miner = Miner::new(MinerConfig::default());
        let first = miner
            .add_at("connection to db-1 refused after 3 retries", 10)
            .id;
        miner.add_at("connection to db-2 refused after 5 retries", 20);
        let other = miner.add_at("user alice logged in", 30).id;
        store
            .save_templates("app", &miner.snapshot())
            .await
            .unwrap();
        store.save_templates("other", &[]).await.unwrap();

        let mut restored = Miner::new(MinerConfig::default());
        restored.restore(store.load_templates("app").await.unwrap());
        let again = restored.add_at("connection to db-9 refused after 1 retries", 40);
        assert_eq!(
            again.id, first,
            "a known template keeps its id after restore"
        );
        assert!(!again.is_new);
        assert_ne!(
            restored.add_at("disk quota exceeded for volume x", 50).id,
            other
        );
        let record = restored.record(first).unwrap();
        assert_eq!(
            (record.count, record.first_seen, record.last_seen),
            (3, 10, 40)
        );
        assert!(store.load_templates("other").await.unwrap().is_empty());
    }
}

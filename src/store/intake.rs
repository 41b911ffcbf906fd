//! Alerts pushed by other systems (Alertmanager's webhook), one row per fingerprint and watch:
//! a re-sent alert updates its row, a resolved one marks it resolved. Resolved rows are
//! forgotten a week after their last update.

use super::{Store, StoreError, millis, opt_from_millis};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::BTreeMap;

/// How long a resolved alert is kept after its last update.
const KEEP_RESOLVED: chrono::Duration = chrono::Duration::days(7);

/// One alert as its sender last described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeAlert {
    pub fingerprint: String,
    /// `true` while the sender says firing; `false` once it said resolved.
    pub firing: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub generator_url: String,
    pub starts_at: Option<DateTime<Utc>>,
    /// When the sender says the alert ends (or ended); `None` when it gave no end.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Stores what one webhook call said, in one transaction.
    pub async fn record_intake_alerts(
        &self,
        watch: &str,
        alerts: &[IntakeAlert],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let encode = |map: &BTreeMap<String, String>| {
            serde_json::to_string(map).map_err(|e| StoreError::Decode(e.to_string()))
        };
        let mut tx = self.write().await?;
        for alert in alerts {
            sqlx::query(
                "INSERT INTO intake_alerts (watch, fingerprint, status, labels, annotations, generator_url, starts_at, ends_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (watch, fingerprint) DO UPDATE SET status = excluded.status,
                     labels = excluded.labels, annotations = excluded.annotations,
                     generator_url = excluded.generator_url, starts_at = excluded.starts_at,
                     ends_at = excluded.ends_at, updated_at = excluded.updated_at",
            )
            .bind(watch)
            .bind(&alert.fingerprint)
            .bind(if alert.firing { "firing" } else { "resolved" })
            .bind(encode(&alert.labels)?)
            .bind(encode(&alert.annotations)?)
            .bind(&alert.generator_url)
            .bind(alert.starts_at.map(millis))
            .bind(alert.ends_at.map(millis))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM intake_alerts WHERE watch = ? AND status = 'resolved' AND updated_at < ?",
        )
        .bind(watch)
        .bind(millis(now - KEEP_RESOLVED))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every stored alert of a watch, by fingerprint.
    pub async fn intake_alerts(&self, watch: &str) -> Result<Vec<IntakeAlert>, StoreError> {
        let rows = sqlx::query(
            "SELECT fingerprint, status, labels, annotations, generator_url, starts_at, ends_at
             FROM intake_alerts WHERE watch = ? ORDER BY fingerprint",
        )
        .bind(watch)
        .fetch_all(self.reader())
        .await?;
        let decode = |text: String| {
            serde_json::from_str::<BTreeMap<String, String>>(&text)
                .map_err(|e| StoreError::Decode(e.to_string()))
        };
        rows.into_iter()
            .map(|row| {
                Ok(IntakeAlert {
                    fingerprint: row.get(0),
                    firing: row.get::<String, _>(1) == "firing",
                    labels: decode(row.get(2))?,
                    annotations: decode(row.get(3))?,
                    generator_url: row.get(4),
                    starts_at: opt_from_millis(row.get(5)),
                    ends_at: opt_from_millis(row.get(6)),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(fingerprint: &str, firing: bool, summary: &str) -> IntakeAlert {
        IntakeAlert {
            fingerprint: fingerprint.into(),
            firing,
            labels: BTreeMap::from([("alertname".into(), "DiskFull".into())]),
            annotations: BTreeMap::from([("summary".into(), summary.into())]),
            generator_url: String::new(),
            starts_at: None,
            ends_at: None,
        }
    }

    #[tokio::test]
    async fn a_resent_alert_updates_its_row_and_a_resolution_marks_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = Utc::now();
        store
            .record_intake_alerts("am", &[alert("a1", true, "90% full")], now)
            .await
            .unwrap();
        store
            .record_intake_alerts(
                "am",
                &[alert("a1", true, "95% full"), alert("b2", true, "x")],
                now,
            )
            .await
            .unwrap();
        let stored = store.intake_alerts("am").await.unwrap();
        assert_eq!(stored.len(), 2, "{stored:?}");
        assert_eq!(stored[0].annotations["summary"], "95% full");
        assert!(store.intake_alerts("other").await.unwrap().is_empty());

        store
            .record_intake_alerts("am", &[alert("a1", false, "95% full")], now)
            .await
            .unwrap();
        let stored = store.intake_alerts("am").await.unwrap();
        assert_eq!(
            stored.iter().map(|a| a.firing).collect::<Vec<_>>(),
            [false, true]
        );

        // A week later the resolved one is forgotten; the firing one stays.
        store
            .record_intake_alerts("am", &[], now + chrono::Duration::days(8))
            .await
            .unwrap();
        let stored = store.intake_alerts("am").await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].fingerprint, "b2");
    }
}

//! Evidence packs as the daemon builds them: requests taken oldest first (one from the chat's
//! `/evidence`, or one a new dispute recorded), marked while building so a crash puts them
//! back, and closed with the PDF's path or why no pack was built; and the one reminder a
//! dispute gets a day before its evidence is due.

use super::disputes::Dispute;
use super::{Store, StoreError, from_millis, millis};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// One request for an evidence pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRequest {
    pub id: i64,
    /// `telegram:<user>` for `/evidence`, `stripe:<dispute id>` for a dispute.
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// The customer's email or id, as given.
    pub customer: String,
    /// The chat message the pack answers, when asked from the chat.
    pub reply_to_message: Option<i64>,
}

impl EvidenceRequest {
    /// The dispute the request was recorded for, when a dispute recorded it.
    pub fn dispute_id(&self) -> Option<&str> {
        self.requested_by.strip_prefix("stripe:")
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceOutcome {
    Built,
    Failed,
}

impl Store {
    /// Records which chat message a request answers.
    pub async fn set_evidence_reply_to(&self, id: i64, message_id: i64) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query("UPDATE evidence_requests SET reply_to_message = ? WHERE id = ?")
                .bind(message_id)
                .bind(id),
        )
        .await?;
        Ok(())
    }

    /// Takes the oldest waiting request and marks it as building.
    pub async fn claim_evidence_request(&self) -> Result<Option<EvidenceRequest>, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "UPDATE evidence_requests SET status = 'building' \
             WHERE id = (SELECT id FROM evidence_requests WHERE status = 'requested' ORDER BY id LIMIT 1) \
             RETURNING id, requested_by, requested_at, customer, reply_to_message",
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|row| EvidenceRequest {
            id: row.get("id"),
            requested_by: row.get("requested_by"),
            requested_at: from_millis(row.get("requested_at")),
            customer: row.get("customer"),
            reply_to_message: row.get("reply_to_message"),
        }))
    }

    /// Closes a request with what became of it.
    pub async fn finish_evidence_request(
        &self,
        id: i64,
        outcome: EvidenceOutcome,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let status = match outcome {
            EvidenceOutcome::Built => "built",
            EvidenceOutcome::Failed => "failed",
        };
        self.write_one(
            sqlx::query(
                "UPDATE evidence_requests SET status = ?, detail = ?, finished_at = ? WHERE id = ?",
            )
            .bind(status)
            .bind(detail)
            .bind(millis(now))
            .bind(id),
        )
        .await?;
        Ok(())
    }

    /// Puts requests a stop or crash left building back in the queue; returns how many.
    pub async fn requeue_interrupted_evidence(&self) -> Result<u64, StoreError> {
        let done = self
            .write_one(sqlx::query(
                "UPDATE evidence_requests SET status = 'requested' WHERE status = 'building'",
            ))
            .await?;
        Ok(done.rows_affected())
    }

    /// The status and detail of request `id`.
    pub async fn evidence_request_status(
        &self,
        id: i64,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let row = sqlx::query("SELECT status, detail FROM evidence_requests WHERE id = ?")
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|row| (row.get("status"), row.get("detail"))))
    }

    /// The PDF of the latest pack built for a dispute.
    pub async fn latest_pack_for_dispute(
        &self,
        dispute: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT detail FROM evidence_requests WHERE requested_by = ? AND status = 'built' ORDER BY id DESC LIMIT 1",
        )
        .bind(format!("stripe:{dispute}"))
        .fetch_optional(self.reader())
        .await?
        .flatten())
    }

    /// Open disputes due before `by` not reminded of yet, soonest first.
    pub async fn disputes_to_remind(&self, by: DateTime<Utc>) -> Result<Vec<Dispute>, StoreError> {
        let open = self.open_disputes_due_before(by).await?;
        let reminded: Vec<String> =
            sqlx::query_scalar("SELECT id FROM disputes WHERE reminded_at IS NOT NULL")
                .fetch_all(self.reader())
                .await?;
        Ok(open
            .into_iter()
            .filter(|d| !reminded.contains(&d.id))
            .collect())
    }

    /// Records that dispute `id` was reminded of.
    pub async fn mark_dispute_reminded(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query("UPDATE disputes SET reminded_at = ? WHERE id = ?")
                .bind(millis(now))
                .bind(id),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[tokio::test]
    async fn requests_are_taken_oldest_first_once_and_come_back_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let first = store
            .add_evidence_request("telegram:1", "a@example.com", at(10))
            .await
            .unwrap();
        let second = store
            .add_evidence_request("stripe:dp_9", "b@example.com", at(20))
            .await
            .unwrap();
        store.set_evidence_reply_to(first, 77).await.unwrap();
        let taken = store.claim_evidence_request().await.unwrap().unwrap();
        assert_eq!(
            (taken.id, taken.reply_to_message, taken.dispute_id()),
            (first, Some(77), None)
        );
        let next = store.claim_evidence_request().await.unwrap().unwrap();
        assert_eq!((next.id, next.dispute_id()), (second, Some("dp_9")));
        assert_eq!(store.claim_evidence_request().await.unwrap(), None);
        store
            .finish_evidence_request(first, EvidenceOutcome::Built, "/tmp/x.pdf", at(30))
            .await
            .unwrap();
        assert_eq!(store.requeue_interrupted_evidence().await.unwrap(), 1);
        assert_eq!(
            store.claim_evidence_request().await.unwrap().map(|r| r.id),
            Some(second)
        );
        assert_eq!(
            store.evidence_request_status(first).await.unwrap(),
            Some(("built".to_string(), Some("/tmp/x.pdf".to_string())))
        );
    }
}

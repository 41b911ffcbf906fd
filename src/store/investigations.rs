//! The lifecycle of an investigation request: approved by the operator (the only way one
//! starts), then running, then done or failed, each exactly once. Requests are taken oldest
//! first; one interrupted by a stop or a crash is found running at the next start and goes
//! back to the head of the queue, never silently dropped.

use super::operator::InvestigationRequest;
use super::{Store, StoreError, millis};
use chrono::{DateTime, Utc};
use std::fmt;

/// Where an investigation request stands. The stored names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// The operator approved it; it waits its turn.
    Approved,
    /// An investigation is working on it.
    Running,
    /// It ended with a report.
    Done,
    /// It ended without one (the reason is its outcome).
    Failed,
}

impl RequestStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Approved => "approved",
            RequestStatus::Running => "running",
            RequestStatus::Done => "done",
            RequestStatus::Failed => "failed",
        }
    }

    /// The status stored as `text`; anything else is a decode error.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "approved" => Ok(RequestStatus::Approved),
            "running" => Ok(RequestStatus::Running),
            "done" => Ok(RequestStatus::Done),
            "failed" => Ok(RequestStatus::Failed),
            other => Err(StoreError::Decode(format!(
                "unknown investigation request status {other:?}"
            ))),
        }
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for RequestStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How an investigation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// With a report; the text is its verdict line.
    Done(String),
    /// Without one; the text says why.
    Failed(String),
}

impl Store {
    /// Takes the oldest approved request and marks it running, in one write transaction, so
    /// two takers never get the same request. `None` when nothing waits.
    pub async fn claim_investigation(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<InvestigationRequest>, StoreError> {
        let mut tx = self.write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM investigation_requests WHERE status = ? ORDER BY id LIMIT 1",
        )
        .bind(RequestStatus::Approved.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        sqlx::query("UPDATE investigation_requests SET status = ?, started_at = ? WHERE id = ?")
            .bind(RequestStatus::Running.as_str())
            .bind(millis(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.investigation_request(id).await
    }

    /// Takes the approved request `id` and marks it running; `None` when it is not waiting
    /// (already taken, ended, or unknown).
    pub async fn claim_investigation_id(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<InvestigationRequest>, StoreError> {
        let result = self
            .write_one(
                sqlx::query(
                    "UPDATE investigation_requests SET status = ?, started_at = ? WHERE id = ? AND status = ?",
                )
                .bind(RequestStatus::Running.as_str())
                .bind(millis(now))
                .bind(id)
                .bind(RequestStatus::Approved.as_str()),
            )
            .await?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        self.investigation_request(id).await
    }

    /// How many requests wait (approved) and how many run.
    pub async fn investigation_counts(&self) -> Result<(i64, i64), StoreError> {
        let count = |status: RequestStatus| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM investigation_requests WHERE status = ?",
            )
            .bind(status.as_str())
            .fetch_one(self.reader())
        };
        Ok((
            count(RequestStatus::Approved).await?,
            count(RequestStatus::Running).await?,
        ))
    }

    /// Ends the running request `id`. False when it is not running (already ended, or never
    /// taken): an ending is recorded once.
    pub async fn finish_investigation(
        &self,
        id: i64,
        ending: &Ending,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (status, outcome) = match ending {
            Ending::Done(verdict) => (RequestStatus::Done, verdict),
            Ending::Failed(reason) => (RequestStatus::Failed, reason),
        };
        let result = self
            .write_one(
                sqlx::query(
                    "UPDATE investigation_requests SET status = ?, finished_at = ?, outcome = ?
                     WHERE id = ? AND status = ?",
                )
                .bind(status.as_str())
                .bind(millis(now))
                .bind(outcome)
                .bind(id)
                .bind(RequestStatus::Running.as_str()),
            )
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// At start-up: requests left running by a stop or a crash go back to the queue, ahead of
    /// those approved after them (the queue is by id). Returns how many.
    pub async fn requeue_interrupted_investigations(&self) -> Result<u64, StoreError> {
        let result = self
            .write_one(
                sqlx::query(
                    "UPDATE investigation_requests SET status = ?, started_at = NULL WHERE status = ?",
                )
                .bind(RequestStatus::Approved.as_str())
                .bind(RequestStatus::Running.as_str()),
            )
            .await?;
        Ok(result.rows_affected())
    }

    /// How many investigations are running now (to keep to the configured concurrency).
    pub async fn running_investigations(&self) -> Result<u64, StoreError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM investigation_requests WHERE status = ?")
                .bind(RequestStatus::Running.as_str())
                .fetch_one(self.reader())
                .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::operator::About;

    async fn store_with(questions: &[&str]) -> (tempfile::TempDir, Store, DateTime<Utc>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        for question in questions {
            store
                .add_investigation_request("ops", About::default(), question, now)
                .await
                .unwrap();
        }
        (dir, store, now)
    }

    #[tokio::test]
    async fn requests_are_taken_oldest_first_and_each_once() {
        let (_dir, store, now) = store_with(&["first?", "second?"]).await;
        let first = store.claim_investigation(now).await.unwrap().unwrap();
        assert_eq!(
            (first.question.as_str(), first.status),
            ("first?", RequestStatus::Running)
        );
        let second = store.claim_investigation(now).await.unwrap().unwrap();
        assert_eq!(second.question, "second?");
        assert!(store.claim_investigation(now).await.unwrap().is_none());
        assert_eq!(store.running_investigations().await.unwrap(), 2);
    }

    #[tokio::test]
    async fn concurrent_takers_never_share_a_request() {
        let (_dir, store, now) = store_with(&["a?", "b?", "c?", "d?"]).await;
        let takers = (0..8).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_investigation(now).await.unwrap() })
        });
        let mut taken: Vec<i64> = Vec::new();
        for taker in takers {
            if let Some(request) = taker.await.unwrap() {
                taken.push(request.id);
            }
        }
        taken.sort_unstable();
        assert_eq!(taken, [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn an_ending_is_recorded_once() {
        let (_dir, store, now) = store_with(&["why?"]).await;
        let request = store.claim_investigation(now).await.unwrap().unwrap();
        let done = Ending::Done("action needed: add the index".into());
        assert!(
            store
                .finish_investigation(request.id, &done, now)
                .await
                .unwrap()
        );
        let failed = Ending::Failed("late".into());
        assert!(
            !store
                .finish_investigation(request.id, &failed, now)
                .await
                .unwrap()
        );
        let stored = &store.investigation_requests().await.unwrap()[0];
        assert_eq!(stored.status, RequestStatus::Done);
        assert_eq!(store.running_investigations().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn an_interrupted_request_goes_back_to_the_head_of_the_queue() {
        let (dir, store, now) = store_with(&["interrupted?", "later?"]).await;
        let interrupted = store.claim_investigation(now).await.unwrap().unwrap();
        store.close().await;
        // A restart.
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        assert_eq!(store.requeue_interrupted_investigations().await.unwrap(), 1);
        let next = store.claim_investigation(now).await.unwrap().unwrap();
        assert_eq!(next.id, interrupted.id, "resumed before the later request");
    }

    #[test]
    fn statuses_keep_their_stored_names() {
        for status in [
            RequestStatus::Approved,
            RequestStatus::Running,
            RequestStatus::Done,
            RequestStatus::Failed,
        ] {
            assert_eq!(RequestStatus::parse(status.as_str()).unwrap(), status);
        }
        assert!(RequestStatus::parse("queued").is_err());
    }
}

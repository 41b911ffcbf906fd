//! Chargebacks Stripe reported: the webhook events already handled (so a redelivery is stored
//! once) and each dispute as last described, with an evidence request recorded for the
//! customer when a dispute first arrives, for the evidence pack built later.

use super::operator::insert_evidence_request;
use super::{Store, StoreError, WriteTx, from_millis, millis, opt_from_millis};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// One dispute as Stripe last described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// Stripe's dispute id (`dp_...`).
    pub id: String,
    /// The disputed charge's id (`ch_...`).
    pub charge: String,
    /// In the currency's smallest unit (cents).
    pub amount: i64,
    /// Lowercase ISO code, as Stripe sends it.
    pub currency: String,
    pub reason: String,
    /// The card network's reason code, when Stripe gave it.
    pub network_reason_code: Option<String>,
    pub status: String,
    /// When the evidence must be submitted by.
    pub evidence_due_by: Option<DateTime<Utc>>,
    /// `None` when the event did not carry the customer's email.
    pub customer_email: Option<String>,
    /// The app's customer id, from the configured metadata key.
    pub customer_id: Option<String>,
    pub payment_intent: Option<String>,
    /// When Stripe opened the dispute.
    pub created_at: DateTime<Utc>,
    /// When Sentinel last stored it.
    pub updated_at: DateTime<Utc>,
    /// The dispute object as received.
    pub raw_json: String,
}

impl Dispute {
    /// Whom evidence is about: the customer's email, else the app's customer id.
    pub fn customer(&self) -> Option<&str> {
        self.customer_email
            .as_deref()
            .or(self.customer_id.as_deref())
    }
}

/// What storing a dispute event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeRecord {
    /// This event id was handled before: nothing changed.
    Duplicate,
    /// A dispute not seen before, with the evidence request's id when its customer is known.
    New { evidence_request: Option<i64> },
    /// A known dispute, updated (its status, due date).
    Updated,
}

/// Dispute statuses in which evidence can still be submitted.
const OPEN_STATUSES: &str = "('warning_needs_response', 'needs_response')";

const SELECT_DISPUTE: &str = "SELECT id, charge, amount, currency, reason, network_reason_code, status, evidence_due_by, customer_email, customer_id, payment_intent, created_at, updated_at, raw_json FROM disputes";

impl Store {
    /// Stores one verified dispute event in one transaction: the event id once, the dispute,
    /// and for a new dispute an evidence request about its customer.
    pub async fn record_dispute_event(
        &self,
        event_id: &str,
        event_type: &str,
        dispute: &Dispute,
        now: DateTime<Utc>,
    ) -> Result<DisputeRecord, StoreError> {
        let mut tx = self.write().await?;
        if !record_stripe_event(&mut tx, event_id, event_type, now).await? {
            return Ok(DisputeRecord::Duplicate);
        }
        let record = if upsert_dispute(&mut tx, dispute).await? {
            // Without a customer the request still stands: the operator is told whose
            // dispute could not be told, and how to build the pack.
            let evidence_request = Some(
                insert_evidence_request(
                    &mut tx,
                    &format!("stripe:{}", dispute.id),
                    dispute.customer().unwrap_or(""),
                    now,
                )
                .await?,
            );
            DisputeRecord::New { evidence_request }
        } else {
            DisputeRecord::Updated
        };
        tx.commit().await?;
        Ok(record)
    }

    /// Every recorded dispute, the soonest evidence deadline first (those without one last).
    pub async fn disputes(&self) -> Result<Vec<Dispute>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_DISPUTE} ORDER BY evidence_due_by IS NULL, evidence_due_by, id"
        )))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(dispute_of).collect())
    }

    /// Disputes still awaiting evidence whose deadline falls before `by`, soonest first.
    pub async fn open_disputes_due_before(
        &self,
        by: DateTime<Utc>,
    ) -> Result<Vec<Dispute>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_DISPUTE} WHERE status IN {OPEN_STATUSES} AND evidence_due_by < ? ORDER BY evidence_due_by, id"
        )))
        .bind(millis(by))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(dispute_of).collect())
    }
}

/// Records a webhook event id; `false` when it was recorded before.
pub(crate) async fn record_stripe_event(
    tx: &mut WriteTx,
    id: &str,
    event_type: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "INSERT INTO stripe_events (id, type, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(event_type)
    .bind(millis(now))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Inserts or updates a dispute; `true` when it was not stored before. A later event keeps an
/// email or customer id an earlier one carried.
pub(crate) async fn upsert_dispute(
    tx: &mut WriteTx,
    dispute: &Dispute,
) -> Result<bool, StoreError> {
    let known: Option<String> = sqlx::query_scalar("SELECT id FROM disputes WHERE id = ?")
        .bind(&dispute.id)
        .fetch_optional(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO disputes (id, charge, amount, currency, reason, network_reason_code, status, evidence_due_by, customer_email, customer_id, payment_intent, created_at, updated_at, raw_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET charge = excluded.charge, amount = excluded.amount,
             currency = excluded.currency, reason = excluded.reason,
             network_reason_code = COALESCE(excluded.network_reason_code, network_reason_code),
             status = excluded.status,
             evidence_due_by = COALESCE(excluded.evidence_due_by, evidence_due_by),
             customer_email = COALESCE(excluded.customer_email, customer_email),
             customer_id = COALESCE(excluded.customer_id, customer_id),
             payment_intent = COALESCE(excluded.payment_intent, payment_intent),
             updated_at = excluded.updated_at, raw_json = excluded.raw_json",
    )
    .bind(&dispute.id)
    .bind(&dispute.charge)
    .bind(dispute.amount)
    .bind(&dispute.currency)
    .bind(&dispute.reason)
    .bind(&dispute.network_reason_code)
    .bind(&dispute.status)
    .bind(dispute.evidence_due_by.map(millis))
    .bind(&dispute.customer_email)
    .bind(&dispute.customer_id)
    .bind(&dispute.payment_intent)
    .bind(millis(dispute.created_at))
    .bind(millis(dispute.updated_at))
    .bind(&dispute.raw_json)
    .execute(&mut **tx)
    .await?;
    Ok(known.is_none())
}

fn dispute_of(row: &sqlx::sqlite::SqliteRow) -> Dispute {
    Dispute {
        id: row.get("id"),
        charge: row.get("charge"),
        amount: row.get("amount"),
        currency: row.get("currency"),
        reason: row.get("reason"),
        network_reason_code: row.get("network_reason_code"),
        status: row.get("status"),
        evidence_due_by: opt_from_millis(row.get("evidence_due_by")),
        customer_email: row.get("customer_email"),
        customer_id: row.get("customer_id"),
        payment_intent: row.get("payment_intent"),
        created_at: from_millis(row.get("created_at")),
        updated_at: from_millis(row.get("updated_at")),
        raw_json: row.get("raw_json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn dispute(id: &str, status: &str, due: i64, email: Option<&str>) -> Dispute {
        Dispute {
            id: id.into(),
            charge: "ch_1".into(),
            amount: 1000,
            currency: "usd".into(),
            reason: "fraudulent".into(),
            network_reason_code: Some("10.4".into()),
            status: status.into(),
            evidence_due_by: Some(at(due)),
            customer_email: email.map(str::to_string),
            customer_id: None,
            payment_intent: None,
            created_at: at(1_000),
            updated_at: at(1_000),
            raw_json: "{}".into(),
        }
    }

    #[tokio::test]
    async fn an_event_is_stored_once_and_a_new_dispute_asks_for_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let created = dispute("dp_1", "needs_response", 5_000, Some("jo@example.com"));
        let first = store
            .record_dispute_event("evt_1", "charge.dispute.created", &created, at(1_000))
            .await
            .unwrap();
        assert!(matches!(
            first,
            DisputeRecord::New {
                evidence_request: Some(_)
            }
        ));
        let again = store
            .record_dispute_event("evt_1", "charge.dispute.created", &created, at(1_001))
            .await
            .unwrap();
        assert_eq!(again, DisputeRecord::Duplicate);
        // A later update without the email keeps it, and asks for no more evidence.
        let mut closed = dispute("dp_1", "lost", 5_000, None);
        closed.network_reason_code = None;
        let update = store
            .record_dispute_event("evt_2", "charge.dispute.closed", &closed, at(2_000))
            .await
            .unwrap();
        assert_eq!(update, DisputeRecord::Updated);
        let stored = store.disputes().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].status, "lost");
        assert_eq!(stored[0].customer_email.as_deref(), Some("jo@example.com"));
        assert_eq!(stored[0].network_reason_code.as_deref(), Some("10.4"));
        assert_eq!(store.evidence_requests().await.unwrap(), ["jo@example.com"]);
    }

    #[tokio::test]
    async fn a_dispute_without_a_known_customer_asks_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let record = store
            .record_dispute_event(
                "evt_1",
                "charge.dispute.created",
                &dispute("dp_1", "needs_response", 5_000, None),
                at(1_000),
            )
            .await
            .unwrap();
        assert!(matches!(
            record,
            DisputeRecord::New {
                evidence_request: Some(_)
            }
        ));
        assert_eq!(store.evidence_requests().await.unwrap(), [""]);
    }

    #[tokio::test]
    async fn only_open_disputes_due_in_time_are_listed_for_a_reminder() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        for (event, d) in [
            ("evt_1", dispute("dp_soon", "needs_response", 3_000, None)),
            ("evt_2", dispute("dp_late", "needs_response", 9_000, None)),
            ("evt_3", dispute("dp_won", "won", 2_000, None)),
            (
                "evt_4",
                dispute("dp_warn", "warning_needs_response", 2_500, None),
            ),
        ] {
            store
                .record_dispute_event(event, "charge.dispute.created", &d, at(1_000))
                .await
                .unwrap();
        }
        let due: Vec<String> = store
            .open_disputes_due_before(at(5_000))
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(due, ["dp_warn", "dp_soon"]);
        let all: Vec<String> = store
            .disputes()
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(all, ["dp_won", "dp_warn", "dp_soon", "dp_late"]);
    }
}

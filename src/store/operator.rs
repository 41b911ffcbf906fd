//! What the operator decided through the chat: approved investigation requests, evidence
//! requests, verdicts on pages, and the record of every gate passed (who, when, on what).

use super::{Store, StoreError, WriteTx, from_millis, millis};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::fmt;

/// What the operator did from the chat, as recorded in a gate. The stored names are stable:
/// stores written by earlier versions read back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateAction {
    /// An investigation requested (a page's button, a reply to a page, `/investigate`).
    Investigate,
    /// A page snoozed for an hour by its button.
    Snooze1h,
    /// A page snoozed for a day by its button.
    Snooze1d,
    /// A watch snoozed for a while by `/snooze`.
    Snooze,
    /// A page or a watch muted until unmuted.
    Mute,
    /// A watch's silences lifted by `/unmute`.
    Unmute,
    /// A page judged not actionable (and muted).
    NotActionable,
    /// Evidence about a customer requested by `/evidence`.
    Evidence,
    /// Opening an issue and a fix approved under an investigation's report (the second gate).
    Fix,
}

impl GateAction {
    pub const ALL: [GateAction; 9] = [
        GateAction::Investigate,
        GateAction::Snooze1h,
        GateAction::Snooze1d,
        GateAction::Snooze,
        GateAction::Mute,
        GateAction::Unmute,
        GateAction::NotActionable,
        GateAction::Evidence,
        GateAction::Fix,
    ];

    /// The name stored in the `gates` table.
    pub fn as_str(self) -> &'static str {
        match self {
            GateAction::Investigate => "investigate",
            GateAction::Snooze1h => "snooze_1h",
            GateAction::Snooze1d => "snooze_1d",
            GateAction::Snooze => "snooze",
            GateAction::Mute => "mute",
            GateAction::Unmute => "unmute",
            GateAction::NotActionable => "not_actionable",
            GateAction::Evidence => "evidence",
            GateAction::Fix => "fix",
        }
    }

    /// The action a stored name stands for; an unknown name is a decode error.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        GateAction::ALL
            .into_iter()
            .find(|action| action.as_str() == name)
            .ok_or_else(|| StoreError::Decode(format!("unknown gate action {name:?}")))
    }
}

impl fmt::Display for GateAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operator's judgement of a page, as stored in `verdicts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The page asked for nothing the operator could or should do.
    NotActionable,
}

impl Verdict {
    /// The name stored in the `verdicts` table.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::NotActionable => "not_actionable",
        }
    }

    /// The verdict a stored name stands for; an unknown name is a decode error.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        match name {
            "not_actionable" => Ok(Verdict::NotActionable),
            _ => Err(StoreError::Decode(format!("unknown verdict {name:?}"))),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verdict compares equal to its stored name.
impl PartialEq<&str> for Verdict {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

/// An investigation the operator approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestigationRequest {
    pub id: i64,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub watch: Option<String>,
    pub subjects: Vec<String>,
    pub notice_key: Option<String>,
    pub question: String,
    pub status: super::investigations::RequestStatus,
}

/// One gate the operator passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    pub actor: String,
    pub at: DateTime<Utc>,
    pub action: GateAction,
    pub target: String,
    pub detail: String,
}

/// The alert an operator's action is about, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    pub watch: Option<&'a str>,
    pub subjects: &'a [String],
    pub notice_key: Option<&'a str>,
}

/// The columns of an investigation request, as [`request_of`] reads them.
const SELECT_REQUEST: &str = "SELECT id, requested_by, requested_at, watch, subjects, notice_key, question, status FROM investigation_requests";

fn request_of(row: &sqlx::sqlite::SqliteRow) -> Result<InvestigationRequest, StoreError> {
    let subjects: Option<String> = row.try_get(4)?;
    Ok(InvestigationRequest {
        id: row.try_get(0)?,
        requested_by: row.try_get(1)?,
        requested_at: from_millis(row.try_get(2)?),
        watch: row.try_get(3)?,
        subjects: match subjects {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| StoreError::Decode(e.to_string()))?
            }
            None => Vec::new(),
        },
        notice_key: row.try_get(5)?,
        question: row.try_get(6)?,
        status: super::investigations::RequestStatus::parse(&row.try_get::<String, _>(7)?)?,
    })
}

fn json(subjects: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(subjects).map_err(|e| StoreError::Decode(e.to_string()))
}

impl Store {
    /// Records an approved investigation request; returns its id.
    pub async fn add_investigation_request(
        &self,
        requested_by: &str,
        about: About<'_>,
        question: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let statement = sqlx::query(
            "INSERT INTO investigation_requests (requested_by, requested_at, watch, subjects, notice_key, question) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(requested_by)
        .bind(millis(now))
        .bind(about.watch)
        .bind(json(about.subjects)?)
        .bind(about.notice_key)
        .bind(question);
        let result = self.write_one(statement).await?;
        Ok(result.last_insert_rowid())
    }

    /// Every investigation request, oldest first.
    pub async fn investigation_requests(&self) -> Result<Vec<InvestigationRequest>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT_REQUEST} ORDER BY id")))
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(request_of).collect()
    }

    /// The investigation request `id`, if there is one.
    pub async fn investigation_request(
        &self,
        id: i64,
    ) -> Result<Option<InvestigationRequest>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_REQUEST} WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(request_of).transpose()
    }

    /// Records a request for evidence about a customer; returns its id.
    pub async fn add_evidence_request(
        &self,
        requested_by: &str,
        customer: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_evidence_request(&mut tx, requested_by, customer, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Customers evidence was asked about, oldest first.
    pub async fn evidence_requests(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT customer FROM evidence_requests ORDER BY id")
                .fetch_all(self.reader())
                .await?,
        )
    }

    /// Records the operator's verdict on a page.
    pub async fn add_verdict(
        &self,
        given_by: &str,
        about: About<'_>,
        verdict: Verdict,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let statement = sqlx::query(
            "INSERT INTO verdicts (watch, subjects, notice_key, verdict, given_by, given_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(about.watch.unwrap_or_default())
        .bind(json(about.subjects)?)
        .bind(about.notice_key.unwrap_or_default())
        .bind(verdict.as_str())
        .bind(given_by)
        .bind(millis(now));
        self.write_one(statement).await?;
        Ok(())
    }

    /// Verdicts as (notice key, verdict, given by), oldest first.
    pub async fn verdicts(&self) -> Result<Vec<(String, Verdict, String)>, StoreError> {
        let rows = sqlx::query("SELECT notice_key, verdict, given_by FROM verdicts ORDER BY id")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                let verdict: String = row.try_get(1)?;
                Ok((row.try_get(0)?, Verdict::parse(&verdict)?, row.try_get(2)?))
            })
            .collect()
    }

    /// Records a gate the operator passed.
    pub async fn add_gate(&self, gate: &Gate) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query(
                "INSERT INTO gates (actor, at, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&gate.actor)
            .bind(millis(gate.at))
            .bind(gate.action.as_str())
            .bind(&gate.target)
            .bind(&gate.detail),
        )
        .await?;
        Ok(())
    }

    /// Every gate, oldest first.
    pub async fn gates(&self) -> Result<Vec<Gate>, StoreError> {
        let rows = sqlx::query("SELECT actor, at, action, target, detail FROM gates ORDER BY id")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                let action: String = row.try_get(2)?;
                Ok(Gate {
                    actor: row.try_get(0)?,
                    at: from_millis(row.try_get(1)?),
                    action: GateAction::parse(&action)?,
                    target: row.try_get(3)?,
                    detail: row.try_get(4)?,
                })
            })
            .collect()
    }
}

/// Records a request for evidence about a customer inside a write already under way (the
/// `/evidence` command, a dispute from Stripe); returns its id.
pub(crate) async fn insert_evidence_request(
    tx: &mut WriteTx,
    requested_by: &str,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let result = sqlx::query(
        "INSERT INTO evidence_requests (requested_by, requested_at, customer) VALUES (?, ?, ?)",
    )
    .bind(requested_by)
    .bind(millis(now))
    .bind(customer)
    .execute(&mut **tx)
    .await?;
    Ok(result.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_verdicts_and_gates_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = DateTime::<Utc>::from_timestamp_millis(1_800_000_000_000).unwrap();
        let subjects = vec!["/var".to_string()];
        let about = About {
            watch: Some("disk"),
            subjects: &subjects,
            notice_key: Some("disk/firing//var#1"),
        };
        store
            .add_investigation_request("telegram:111", about, "why now?", now)
            .await
            .unwrap();
        let requests = store.investigation_requests().await.unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].question, "why now?");
        assert_eq!(requests[0].watch.as_deref(), Some("disk"));
        assert_eq!(requests[0].subjects, subjects);
        assert_eq!(requests[0].status, "approved");
        assert_eq!(requests[0].requested_at, now);

        store
            .add_evidence_request("telegram:111", "acme", now)
            .await
            .unwrap();
        assert_eq!(store.evidence_requests().await.unwrap(), vec!["acme"]);

        store
            .add_verdict("telegram:111", about, Verdict::NotActionable, now)
            .await
            .unwrap();
        assert_eq!(store.verdicts().await.unwrap()[0].1, "not_actionable");

        let gate = Gate {
            actor: "telegram:111".into(),
            at: now,
            action: GateAction::Mute,
            target: "disk".into(),
            detail: String::new(),
        };
        store.add_gate(&gate).await.unwrap();
        assert_eq!(store.gates().await.unwrap(), vec![gate]);
    }

    #[test]
    fn stored_names_are_the_ones_earlier_stores_hold() {
        let names: Vec<&str> = GateAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "investigate",
                "snooze_1h",
                "snooze_1d",
                "snooze",
                "mute",
                "unmute",
                "not_actionable",
                "evidence",
                "fix"
            ]
        );
        for action in GateAction::ALL {
            assert_eq!(GateAction::parse(action.as_str()).unwrap(), action);
        }
        assert_eq!(
            Verdict::parse("not_actionable").unwrap(),
            Verdict::NotActionable
        );
    }

    #[tokio::test]
    async fn an_unknown_stored_action_or_verdict_is_a_decode_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        store
            .write_one(sqlx::query(
                "INSERT INTO gates (actor, at, action, target, detail) VALUES ('telegram:1', 0, 'delete_everything', 'disk', '')",
            ))
            .await
            .unwrap();
        store
            .write_one(sqlx::query(
                "INSERT INTO verdicts (watch, subjects, notice_key, verdict, given_by, given_at) VALUES ('disk', '[]', 'k', 'shrug', 'telegram:1', 0)",
            ))
            .await
            .unwrap();
        let gates = store.gates().await.unwrap_err().to_string();
        assert!(
            gates.contains("unknown gate action \"delete_everything\""),
            "{gates}"
        );
        let verdicts = store.verdicts().await.unwrap_err().to_string();
        assert!(verdicts.contains("unknown verdict \"shrug\""), "{verdicts}");
    }
}

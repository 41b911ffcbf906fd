//! The audit trail of investigations: every model request and response and every tool call and
//! result, appended in order and hash-chained. Each entry's hash is SHA-256 over the previous
//! entry's hash and the entry's own id, time, investigation, kind and body, so editing,
//! deleting or reordering any entry breaks the chain from there on, and [`Store::audit_verify`]
//! names the first entry that no longer fits. Nothing in Sentinel updates or deletes an entry.

use super::{Store, StoreError, millis};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The hash the first entry chains to.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A request sent to a model provider, as sent.
    ModelRequest,
    /// A model provider's answer, as received.
    ModelResponse,
    /// A tool the investigation called, with its arguments.
    ToolCall,
    /// What the tool returned (as the model saw it).
    ToolResult,
    /// The report the investigation ended with.
    Report,
}

impl AuditKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::ModelRequest => "model_request",
            AuditKind::ModelResponse => "model_response",
            AuditKind::ToolCall => "tool_call",
            AuditKind::ToolResult => "tool_result",
            AuditKind::Report => "report",
        }
    }
}

/// What checking the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry fits the one before it. `head` is the last entry's hash (none when empty):
    /// kept elsewhere, it also proves later that no entry was cut off the end.
    Intact { entries: u64, head: Option<String> },
    /// The entry `id` does not fit: it, or one before it, was changed, removed or moved.
    Broken { id: i64, reason: String },
}

/// The hash of one entry, chained to `prev_hash`. Fields are length-prefixed, so no two
/// different entries encode alike.
fn entry_hash(
    prev_hash: &str,
    id: i64,
    at: i64,
    investigation: &str,
    kind: &str,
    body: &str,
) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev_hash.as_bytes(),
        id.to_string().as_bytes(),
        at.to_string().as_bytes(),
        investigation.as_bytes(),
        kind.as_bytes(),
        body.as_bytes(),
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    hex::encode(hasher.finalize())
}

impl Store {
    /// Appends one entry to the audit trail of `investigation`; returns its id.
    pub async fn audit_append(
        &self,
        investigation: &str,
        kind: AuditKind,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        // AUTOINCREMENT never hands out an id twice, even after the last row was removed.
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0) + 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let prev_hash = last.map_or_else(|| GENESIS.to_string(), |(_, hash)| hash);
        let at = millis(at);
        let hash = entry_hash(&prev_hash, next, at, investigation, kind.as_str(), body);
        sqlx::query(
            "INSERT INTO audit (id, at, investigation, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(next)
        .bind(at)
        .bind(investigation)
        .bind(kind.as_str())
        .bind(body)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Walks the whole audit trail in order and checks every link.
    pub async fn audit_verify(&self) -> Result<AuditVerdict, StoreError> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, (i64, i64, String, String, String, String, String)>(
            "SELECT id, at, investigation, kind, body, prev_hash, hash FROM audit ORDER BY id",
        )
        .fetch(self.reader());
        let mut expected_prev = GENESIS.to_string();
        let mut entries = 0u64;
        while let Some((id, at, investigation, kind, body, prev_hash, hash)) =
            rows.try_next().await?
        {
            if prev_hash != expected_prev {
                return Ok(AuditVerdict::Broken {
                    id,
                    reason: "it does not follow the entry before it (an entry was removed, moved or rewritten)".into(),
                });
            }
            if entry_hash(&prev_hash, id, at, &investigation, &kind, &body) != hash {
                return Ok(AuditVerdict::Broken {
                    id,
                    reason: "its content no longer matches its hash (it was edited)".into(),
                });
            }
            expected_prev = hash;
            entries += 1;
        }
        Ok(AuditVerdict::Intact {
            entries,
            head: (entries > 0).then_some(expected_prev),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn trail() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        for (kind, body) in [
            (AuditKind::ModelRequest, r#"{"messages":[]}"#),
            (AuditKind::ToolCall, r#"{"tool":"sql","query":"SELECT 1"}"#),
            (AuditKind::ToolResult, "1 row"),
            (AuditKind::Report, "verdict: none"),
        ] {
            store.audit_append("inv-1", kind, body, at).await.unwrap();
        }
        (dir, store)
    }

    async fn tamper(store: &Store, sql: &str) {
        store
            .write_one(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_untouched_trail_is_intact() {
        let (_dir, store) = trail().await;
        match store.audit_verify().await.unwrap() {
            AuditVerdict::Intact { entries, head } => {
                assert_eq!(entries, 4);
                assert_eq!(head.map(|h| h.len()), Some(64));
            }
            broken => panic!("{broken:?}"),
        }
    }

    #[tokio::test]
    async fn an_empty_trail_is_intact() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        assert_eq!(
            store.audit_verify().await.unwrap(),
            AuditVerdict::Intact {
                entries: 0,
                head: None
            }
        );
    }

    #[tokio::test]
    async fn an_edited_entry_is_named() {
        let (_dir, store) = trail().await;
        tamper(&store, "UPDATE audit SET body = '0 rows' WHERE id = 3").await;
        assert!(matches!(
            store.audit_verify().await.unwrap(),
            AuditVerdict::Broken { id: 3, .. }
        ));
    }

    #[tokio::test]
    async fn a_removed_entry_breaks_the_one_after_it() {
        let (_dir, store) = trail().await;
        tamper(&store, "DELETE FROM audit WHERE id = 2").await;
        assert!(matches!(
            store.audit_verify().await.unwrap(),
            AuditVerdict::Broken { id: 3, .. }
        ));
    }

    #[tokio::test]
    async fn a_rewritten_entry_with_a_fresh_hash_still_breaks_the_next() {
        let (_dir, store) = trail().await;
        let (at, prev): (i64, String) =
            sqlx::query_as("SELECT at, prev_hash FROM audit WHERE id = 2")
                .fetch_one(store.reader())
                .await
                .unwrap();
        let forged = entry_hash(&prev, 2, at, "inv-1", "tool_call", "{}");
        tamper(
            &store,
            &format!("UPDATE audit SET body = '{{}}', hash = '{forged}' WHERE id = 2"),
        )
        .await;
        assert!(matches!(
            store.audit_verify().await.unwrap(),
            AuditVerdict::Broken { id: 3, .. }
        ));
    }

    #[tokio::test]
    async fn swapped_entries_are_found() {
        let (_dir, store) = trail().await;
        tamper(&store, "UPDATE audit SET id = 100 WHERE id = 2").await;
        tamper(&store, "UPDATE audit SET id = 2 WHERE id = 3").await;
        tamper(&store, "UPDATE audit SET id = 3 WHERE id = 100").await;
        assert!(matches!(
            store.audit_verify().await.unwrap(),
            AuditVerdict::Broken { id: 2, .. }
        ));
    }

    #[tokio::test]
    async fn new_entries_chain_on_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        {
            let store = Store::open(&path).await.unwrap();
            store
                .audit_append("inv-1", AuditKind::ToolCall, "a", at)
                .await
                .unwrap();
            store.close().await;
        }
        let store = Store::open(&path).await.unwrap();
        store
            .audit_append("inv-2", AuditKind::ToolCall, "b", at)
            .await
            .unwrap();
        assert!(matches!(
            store.audit_verify().await.unwrap(),
            AuditVerdict::Intact { entries: 2, .. }
        ));
    }
}

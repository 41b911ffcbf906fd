//! `sentinel audit verify` on a real store: an untouched trail is intact and its head printed;
//! an entry edited behind Sentinel's back is named with exit 1; a missing store is exit 2.

mod support;

use chrono::{DateTime, Utc};
use sentinel::store::Store;
use sentinel::store::audit::AuditKind;
use std::path::Path;
use std::process::Command;

fn verify(store: &Path) -> (i32, String, String) {
    let output = Command::new(support::sentinel_bin())
        .args(["audit", "verify", "--store"])
        .arg(store)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn verify_proves_the_trail_untouched_and_names_an_edited_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.db");
    let store = Store::open(&path).await.unwrap();
    let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
    store
        .audit_append("inv-7", AuditKind::ToolCall, r#"{"tool":"sql"}"#, at)
        .await
        .unwrap();
    store
        .audit_append("inv-7", AuditKind::ToolResult, "3 rows", at)
        .await
        .unwrap();
    store
        .audit_append("inv-7", AuditKind::Report, "verdict: none", at)
        .await
        .unwrap();
    store.close().await;

    let (code, out, err) = verify(&path);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("intact: 3 entries, head "), "{out}");

    let store = Store::open(&path).await.unwrap();
    store
        .write_one(sqlx::query(
            "UPDATE audit SET body = 'nothing found' WHERE kind = 'tool_result'",
        ))
        .await
        .unwrap();
    store.close().await;
    let (code, out, _) = verify(&path);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at entry 2"), "{out}");
    assert!(out.contains("edited"), "{out}");
}

#[test]
fn a_missing_store_is_exit_2_and_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = verify(&dir.path().join("none.db"));
    assert_eq!(code, 2);
    assert!(err.contains("no store at"), "{err}");
    assert!(
        !dir.path().join("none.db").exists(),
        "verify creates nothing"
    );
}

//! `sentinel investigations` on a real store: the approved requests, oldest first, each with
//! where it stands (approved, running, done, failed) and what it asks.

mod support;

use chrono::{DateTime, Utc};
use sentinel::store::Store;
use sentinel::store::investigations::Ending;
use std::process::Command;

#[tokio::test]
async fn requests_are_listed_oldest_first_with_their_status() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.db");
    let store = Store::open(&path).await.unwrap();
    let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
    for question in [
        "why did the backup fail?",
        "what changed at 3am?",
        "is it fixed?",
    ] {
        store
            .add_investigation_request("1234", Default::default(), question, at)
            .await
            .unwrap();
    }
    let first = store.claim_investigation(at).await.unwrap().unwrap();
    store
        .finish_investigation(first.id, &Ending::Done("action needed".into()), at)
        .await
        .unwrap();
    store.claim_investigation(at).await.unwrap().unwrap();
    store.close().await;

    let output = Command::new(support::sentinel_bin())
        .args(["investigations", "--store"])
        .arg(&path)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("#1    done"), "{out}");
    assert!(lines[0].ends_with("why did the backup fail?"), "{out}");
    assert!(lines[1].starts_with("#2    running"), "{out}");
    assert!(lines[2].starts_with("#3    approved"), "{out}");
}

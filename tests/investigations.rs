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

/// Polls the store until request `id` has `status`, or fails after `within`.
async fn wait_for_status(store: &Store, id: i64, status: &str, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let request = store.investigation_request(id).await.unwrap().unwrap();
        if request.status == status {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "request #{id} is {} after {within:?}, not {status}",
            request.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sentinel_run_answers_requests_beside_the_loop_and_resumes_one_a_crash_interrupted() {
    use serde_json::json;
    use std::time::Duration;
    use support::fake_llm::{FakeLlm, Scripted, anthropic};

    let fake = FakeLlm::anthropic("sk-ant-test");
    // The first answer never comes before the crash.
    fake.script(
        Scripted::ok(anthropic::message(
            json!([{"type": "text", "text": "too late"}]),
            "end_turn",
            anthropic::usage(10, 2, 0, 0),
        ))
        .delayed(Duration::from_secs(60)),
    );
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let db = dir.path().join("s.db");
    let config = support::write_config(
        dir.path(),
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}\"\n\
             [investigator]\nprovider = \"anthropic\"\nbase_url = \"{}\"\napi_key = \"${{KEY}}\"\n",
            db.display(),
            fake.url
        ),
    );
    let env = [("KEY", "sk-ant-test")];
    let mut daemon = support::Daemon::start_with_env(&config, port, &env);
    let store = Store::open(&db).await.unwrap();
    let at = Utc::now();
    let id = store
        .add_investigation_request("1234", Default::default(), "what is broken?", at)
        .await
        .unwrap();
    wait_for_status(&store, id, "running", Duration::from_secs(20)).await;
    daemon.kill9();

    // At the next start the interrupted request is taken again, first, and answered.
    fake.script(Scripted::ok(anthropic::message(
        json!([{"type": "tool_use", "id": "toolu_1", "name": "submit_report", "input": {
            "verdict": "no_action", "summary": "Nothing is broken right now.",
            "classification": "unknown", "confidence": 0.5,
            "hypotheses": [{"statement": "every watch holds", "basis": "known", "kept": true, "supported_by": ["E1"]}],
            "steps": []
        }}]),
        "tool_use",
        anthropic::usage(400, 40, 0, 0),
    )));
    let _daemon = support::Daemon::start_with_env(&config, port, &env);
    wait_for_status(&store, id, "done", Duration::from_secs(30)).await;
    let report = store.report(id).await.unwrap().expect("a report");
    assert!(
        report.markdown.contains("Nothing is broken right now."),
        "{}",
        report.markdown
    );
    assert_eq!(fake.calls(), 2, "one call cut by the crash, one answered");
    let requests = store.investigation_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        1,
        "the request ran again, no new one was made"
    );
}

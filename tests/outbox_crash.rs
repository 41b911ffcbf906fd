//! Nothing lost, nothing acknowledged sent twice: `sentinel run` is killed with SIGKILL again
//! and again while it delivers pages to a slow webhook; after the last restart every page has
//! arrived, and the only repeats are at most one in-flight delivery per kill, each carrying the
//! same Idempotency-Key so the receiver can drop it.

mod support;

use axum::http::HeaderMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Daemon, free_port, serve_in_background, write_config};

const WATCHES: usize = 12;

#[test]
fn kill_9_during_delivery_loses_and_duplicates_nothing() {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                assert!(body.contains("\"state\":\"firing\""), "{body}");
                log.lock().unwrap().push(key);
                // Slow enough that kills land mid-delivery.
                tokio::time::sleep(Duration::from_millis(150)).await;
                "ok"
            }
        }),
    );
    let hook = serve_in_background(receiver);

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n[engine]\ninterval = \"1s\"\n\
         [channels.hook]\nkind = \"webhook\"\nurl = \"http://{hook}/hook\"\ntimeout = \"5s\"\n",
        dir.path().display()
    );
    for i in 0..WATCHES {
        // Never pinged, due a second after creation, no grace: each fires once, soon.
        config.push_str(&format!("[watches.job-{i:02}]\nkind = \"heartbeat\"\ntoken = \"token-for-job-number-{i:02}\"\nperiod = \"1s\"\ngrace = \"0s\"\n"));
    }
    let path = write_config(dir.path(), &config);

    let distinct = |received: &Arc<Mutex<Vec<String>>>| {
        received
            .lock()
            .unwrap()
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .len()
    };
    let mut kills: usize = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut daemon = Daemon::start(&path, port);
    while distinct(&received) < WATCHES {
        assert!(
            Instant::now() < deadline,
            "not every page arrived: {:?}",
            received.lock().unwrap()
        );
        // Let it deliver for a moment, then kill it mid-flight and start it again.
        std::thread::sleep(Duration::from_millis(200 + 170 * (kills as u64 % 3)));
        if distinct(&received) < WATCHES && kills < 8 {
            daemon.kill9();
            kills += 1;
            daemon = Daemon::start(&path, port);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(daemon.terminate(), Some(0));

    let received = received.lock().unwrap().clone();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for key in &received {
        *counts.entry(key.as_str()).or_default() += 1;
    }
    let expected: BTreeSet<String> = (0..WATCHES)
        .map(|i| format!("job-{i:02}/firing/#1@hook"))
        .collect();
    assert_eq!(
        counts
            .keys()
            .map(|k| k.to_string())
            .collect::<BTreeSet<_>>(),
        expected,
        "every page, each under its own stable key"
    );
    let repeats: usize = counts.values().map(|n| n - 1).sum();
    assert!(
        kills >= 3,
        "the test must actually kill during delivery (killed {kills} times)"
    );
    assert!(
        repeats <= kills,
        "{repeats} repeats after {kills} kills: only an in-flight delivery may repeat"
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = sentinel::store::Store::open(&dir.path().join("s.db"))
            .await
            .unwrap();
        assert_eq!(
            store.outbox_depth().await.unwrap(),
            0,
            "everything acknowledged"
        );
        let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(sent, WATCHES as i64);
    });
}

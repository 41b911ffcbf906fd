//! A stuck channel holds only its own line: `sentinel run` pages two real webhook receivers on
//! loopback, one of which takes a page and does not answer until the test releases it. While
//! it hangs, evaluations go on being recorded and the other channel gets the next page; the
//! stuck channel's next page waits behind its head, and arrives after it once released. SIGTERM
//! stops the daemon while a channel hangs; the unanswered page stays in the outbox and is
//! delivered, under the same key, after the next start.

mod support;

use axum::http::HeaderMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Daemon, free_port, http_status, serve_in_background, write_config};
use tokio::sync::watch;

const FIRST: &str = "token-for-the-first-job";
const SECOND: &str = "token-for-the-second-job";

/// The Idempotency-Keys a receiver was sent, in arrival order (recorded as each request
/// arrives, before it is answered).
type Seen = Arc<Mutex<Vec<String>>>;

/// A webhook receiver on loopback. With `hold`, each request waits, unanswered, until the
/// test sends `true`.
fn receiver(hold: Option<watch::Receiver<bool>>) -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let log = log.clone();
            let hold = hold.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                log.lock().unwrap().push(key);
                if let Some(mut hold) = hold {
                    let _ = hold.wait_for(|released| *released).await;
                }
                "ok"
            }
        }),
    );
    (serve_in_background(router), seen)
}

/// Two webhook channels, `quick` and `stuck`; `first` fires at once (never pinged), `second`
/// only when its job reports a failure.
fn config(dir: &Path, port: u16, quick: SocketAddr, stuck: SocketAddr) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n\
             [engine]\ninterval = \"1s\"\n\
             [channels.quick]\nkind = \"webhook\"\nurl = \"http://{quick}/hook\"\ntimeout = \"5s\"\n\
             [channels.stuck]\nkind = \"webhook\"\nurl = \"http://{stuck}/hook\"\ntimeout = \"10m\"\n\
             [watches.first]\nkind = \"heartbeat\"\ntoken = \"{FIRST}\"\nperiod = \"1s\"\ngrace = \"0s\"\n\
             [watches.second]\nkind = \"heartbeat\"\ntoken = \"{SECOND}\"\nperiod = \"1h\"\ngrace = \"1h\"\n",
            dir.display()
        ),
    )
}

fn keys(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap().clone()
}

/// Waits (generously: this is about what happens, not how fast) until `done`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The evaluations of `watch` the store recorded, read beside the running daemon through a
/// read-only connection of the test's own.
fn recorded(runtime: &tokio::runtime::Runtime, db: &Path, watch: &str) -> i64 {
    runtime.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .read_only(true);
        let Ok(mut conn) = sqlx::ConnectOptions::connect(&options).await else {
            return 0;
        };
        sqlx::query_scalar("SELECT evaluations FROM watch_evaluations WHERE watch = ?")
            .bind(watch)
            .fetch_optional(&mut conn)
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    })
}

/// Every outbox row as (key, state), by key.
fn outbox(runtime: &tokio::runtime::Runtime, db: &Path) -> Vec<(String, String)> {
    runtime.block_on(async {
        let store = sentinel::store::Store::open(db).await.unwrap();
        let rows = sqlx::query_as("SELECT key, state FROM outbox ORDER BY key")
            .fetch_all(store.reader())
            .await
            .unwrap();
        store.close().await;
        rows
    })
}

fn rows(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(key, state)| (key.to_string(), state.to_string()))
        .collect()
}

/// A daemon with two webhook channels, `quick` (answers at once) and `stuck` (holds every
/// delivery unanswered until `release` is sent `true`), once its first page reached both.
struct Stage {
    runtime: tokio::runtime::Runtime,
    release: watch::Sender<bool>,
    quick_seen: Seen,
    stuck_seen: Seen,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    path: std::path::PathBuf,
    port: u16,
    daemon: Daemon,
}

fn stage() -> Stage {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (release, hold) = watch::channel(false);
    let (quick, quick_seen) = receiver(None);
    let (stuck, stuck_seen) = receiver(Some(hold));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let port = free_port();
    let path = config(dir.path(), port, quick, stuck);
    let daemon = Daemon::start(&path, port);
    wait_until("the first page reaches both channels", || {
        keys(&quick_seen).contains(&"first/firing/#1@quick".to_string())
            && keys(&stuck_seen).contains(&"first/firing/#1@stuck".to_string())
    });
    Stage {
        runtime,
        release,
        quick_seen,
        stuck_seen,
        _dir: dir,
        db,
        path,
        port,
        daemon,
    }
}

#[test]
fn a_stuck_channel_holds_up_neither_evaluations_nor_other_channels() {
    let Stage {
        runtime,
        release,
        quick_seen,
        stuck_seen,
        _dir,
        db,
        mut daemon,
        ..
    } = stage();
    // `stuck` now holds its first page unanswered, for as long as the test wants.
    let before = recorded(&runtime, &db, "first");
    wait_until("evaluations are recorded while a channel hangs", || {
        recorded(&runtime, &db, "first") >= before + 3
    });
    assert_eq!(
        http_status(&daemon.url(&format!("/ping/{SECOND}/fail"))),
        Ok(200)
    );
    wait_until("the second page reaches the channel that answers", || {
        keys(&quick_seen).contains(&"second/firing/#1@quick".to_string())
    });
    assert_eq!(
        keys(&stuck_seen),
        ["first/firing/#1@stuck"],
        "the stuck channel's next page waits behind its unanswered head"
    );

    release.send(true).unwrap();
    wait_until("the stuck channel catches up once released", || {
        keys(&stuck_seen).len() >= 2
    });
    assert_eq!(daemon.terminate(), Some(0));
    assert_eq!(
        keys(&stuck_seen),
        ["first/firing/#1@stuck", "second/firing/#1@stuck"],
        "in order, each once"
    );
    assert_eq!(
        keys(&quick_seen),
        ["first/firing/#1@quick", "second/firing/#1@quick"]
    );
    assert_eq!(
        outbox(&runtime, &db),
        rows(&[
            ("first/firing/#1@quick", "sent"),
            ("first/firing/#1@stuck", "sent"),
            ("second/firing/#1@quick", "sent"),
            ("second/firing/#1@stuck", "sent"),
        ])
    );
}

#[test]
fn sigterm_stops_a_daemon_whose_channel_hangs_and_the_page_waits_for_the_next_start() {
    let Stage {
        runtime,
        release,
        quick_seen,
        stuck_seen,
        _dir,
        db,
        path,
        port,
        mut daemon,
    } = stage();
    assert_eq!(
        daemon.terminate(),
        Some(0),
        "a hanging channel gets a bounded last chance, then sentinel stops cleanly"
    );
    assert_eq!(
        outbox(&runtime, &db),
        rows(&[
            ("first/firing/#1@quick", "sent"),
            ("first/firing/#1@stuck", "pending"),
        ]),
        "never answered, so never marked sent"
    );

    release.send(true).unwrap();
    let mut daemon = Daemon::start(&path, port);
    wait_until("the pending page is delivered after the restart", || {
        keys(&stuck_seen).len() >= 2
    });
    assert_eq!(daemon.terminate(), Some(0));
    assert_eq!(
        keys(&stuck_seen),
        ["first/firing/#1@stuck", "first/firing/#1@stuck"],
        "the unanswered delivery is repeated under the same key"
    );
    assert_eq!(keys(&quick_seen), ["first/firing/#1@quick"]);
    assert_eq!(
        outbox(&runtime, &db),
        rows(&[
            ("first/firing/#1@quick", "sent"),
            ("first/firing/#1@stuck", "sent"),
        ])
    );
}

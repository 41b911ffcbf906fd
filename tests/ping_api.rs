//! The ping API of a real `sentinel run`, driven with curl exactly as cron scripts drive
//! healthchecks.io: success, start, fail, exit statuses, logs with bodies, and every kind of
//! bad request answered with the right 4xx and counted in /metrics.

mod support;

use std::process::Command;
use support::{Daemon, free_port, write_config};

const BACKUP: &str = "5f0c3a9e2b7d41c6a8e9f01234567890";
const WORKER: &str = "worker-token-0123456789";

fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-m", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

fn start(dir: &std::path::Path) -> Daemon {
    let port = free_port();
    let config = write_config(
        dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nmax_body = \"1KB\"\n[store]\npath = \"{}/s.db\"\n\
             [watches.backup]\nkind = \"heartbeat\"\ntoken = \"{BACKUP}\"\nschedule = \"0 3 * * *\"\ngrace = \"1h\"\n\
             [watches.worker]\nkind = \"heartbeat\"\ntoken = \"{WORKER}\"\nperiod = \"5m\"\n",
            dir.display()
        ),
    );
    Daemon::start(&config, port)
}

#[test]
fn cron_style_pings_are_recorded_with_runs_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = start(dir.path());
    // Exactly what a healthchecks.io crontab line does, with only the base URL changed.
    let status = Command::new("curl")
        .args(["-fsS", "-m", "10", "--retry", "5", "-o", "/dev/null"])
        .arg(daemon.url(&format!("/ping/{BACKUP}/start")))
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(std::time::Duration::from_millis(30));
    let (code, body) = curl(&[
        "--data-raw",
        "pg_dump: 1.2 MB written",
        &daemon.url(&format!("/ping/{BACKUP}")),
    ]);
    assert_eq!((code, body.as_str()), (200, "OK"));
    assert_eq!(
        curl(&["-I", &daemon.url(&format!("/ping/{WORKER}"))]).0,
        200,
        "HEAD works"
    );
    assert_eq!(curl(&[&daemon.url(&format!("/ping/{WORKER}/1"))]).0, 200);
    assert_eq!(curl(&[&daemon.url(&format!("/ping/{WORKER}/fail"))]).0, 200);
    assert_eq!(
        curl(&[
            "--data-raw",
            "step 2 of 3",
            &daemon.url(&format!("/ping/{WORKER}/log"))
        ])
        .0,
        200
    );
    assert_eq!(
        curl(&[&daemon.url(&format!(
            "/ping/{WORKER}/0?rid=4b0c5a1e-1111-2222-3333-444455556666"
        ))])
        .0,
        200
    );

    let metrics = curl(&[&daemon.url("/metrics")]).1;
    assert!(
        metrics.contains("sentinel_pings_total{kind=\"success\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sentinel_pings_total{kind=\"fail\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sentinel_pings_total{kind=\"start\"} 1"),
        "{metrics}"
    );
    assert_eq!(daemon.terminate(), Some(0), "SIGTERM stops it cleanly");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = sentinel::store::Store::open(&dir.path().join("s.db"))
            .await
            .unwrap();
        let status = store.heartbeat_status("backup").await.unwrap();
        assert!(status.last_success.is_some() && status.last_start.is_some());
        assert!(
            status.last_run_ms.is_some(),
            "start + success makes a run with a duration"
        );
        assert_eq!(
            store.last_ping_body("backup").await.unwrap().as_deref(),
            Some("pg_dump: 1.2 MB written")
        );
        let worker = store.heartbeat_status("worker").await.unwrap();
        assert_eq!(
            worker.last_fail.map(|(_, code)| code),
            Some(None),
            "the latest failure was /fail, without a code"
        );
    });
}

#[test]
fn bad_requests_get_the_right_4xx_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path());
    let (code, _) = curl(&[&daemon.url("/ping/not-a-known-token-000000")]);
    assert_eq!(code, 404);
    let big = "x".repeat(5000);
    assert_eq!(
        curl(&["--data-raw", &big, &daemon.url(&format!("/ping/{BACKUP}"))]).0,
        413
    );
    let (code, body) = curl(&[&daemon.url(&format!("/ping/{BACKUP}/256"))]);
    assert_eq!(code, 400);
    assert!(body.contains("0-255"), "{body}");
    assert_eq!(
        curl(&[&daemon.url(&format!("/ping/{BACKUP}/restart"))]).0,
        400
    );
    assert_eq!(
        curl(&["-X", "PUT", &daemon.url(&format!("/ping/{BACKUP}"))]).0,
        405
    );
    assert_eq!(
        curl(&[
            "-X",
            "DELETE",
            &daemon.url(&format!("/ping/{BACKUP}/start"))
        ])
        .0,
        405
    );
    assert_eq!(curl(&[&daemon.url("/healthz")]).0, 200);

    let metrics = curl(&[&daemon.url("/metrics")]).1;
    assert!(
        metrics.contains("sentinel_unknown_pings_total 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("sentinel_pings_total{"),
        "no bad request may count as a ping:\n{metrics}"
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = sentinel::store::Store::open(&dir.path().join("s.db"))
            .await
            .unwrap();
        assert_eq!(
            store.heartbeat_status("backup").await.unwrap().last_success,
            None,
            "nothing recorded from bad requests"
        );
    });
}

#[test]
fn a_second_daemon_on_the_same_store_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let _first = start(dir.path());
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n",
            dir.path().display()
        ),
    );
    let out = Command::new(support::sentinel_bin())
        .args(["run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another sentinel process"));
}

//! `sentinel backtest` against a real Prometheus holding six hours of history: a two-minute
//! blip is swallowed by `for`, a forty-minute outage pages exactly once, within `for` plus one
//! interval of its start, and resolves; a watch that cannot be replayed is listed with the
//! reason; a bad window or an unknown watch is refused.

mod support;

use sentinel::alert::notice::{Notice, NoticeKind, NoticeState};
use sentinel::config::Severity;
use sentinel::store::Store;
use std::process::Command;
use support::prometheus_history::{HistoryPrometheus, sample};
use support::{sentinel_bin, write_config};

const SERIES: &str = "app_free_ratio{host=\"db1\"}";
const OTHER: &str = "app_free_ratio{host=\"web1\"}";

#[test]
fn a_recorded_outage_pages_once_and_a_blip_is_swallowed() {
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    let blip = now - 5 * 3600;
    let outage = (now - 3 * 3600, now - 3 * 3600 + 40 * 60);
    let free = |at: i64| {
        if (blip..blip + 120).contains(&at) || (outage.0..outage.1).contains(&at) {
            0.05
        } else {
            0.5
        }
    };
    let mut history = String::from("# TYPE app_free_ratio gauge\n");
    for series in [SERIES, OTHER] {
        for at in (now - 6 * 3600..now - 120).step_by(60) {
            let value = if series == SERIES { free(at) } else { 0.5 };
            history.push_str(&sample(series, value, at));
        }
    }
    let prometheus =
        HistoryPrometheus::start(&history, &[("app", format!("{SERIES} 0.5\n{OTHER} 0.5\n"))]);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[store]\npath = \"{store}\"\n\
             [sources.prom]\nkind = \"prometheus\"\nurl = \"{url}\"\n\
             [watches.disk]\nkind = \"threshold\"\ndescription = \"Free space\"\nsource = \"prom\"\nquery = \"app_free_ratio < 0.1\"\nfor = \"5m\"\ninterval = \"1m\"\n\
             [watches.api]\nkind = \"http\"\nurl = \"http://127.0.0.1:9/health\"\n",
            store = dir.path().join("s.db").display(),
            url = prometheus.url,
        ),
    );
    // What Sentinel really sent over the period, as its store holds it: the same outage
    // page three minutes later than the replay's, and a page the replay does not have.
    let real_page = |key: &str, subject: &str, at: i64| Notice {
        key: key.into(),
        kind: NoticeKind::Firing,
        watch: "disk".into(),
        subject: subject.into(),
        state: NoticeState::Firing,
        severity: Severity::Warning,
        title: "Free space".into(),
        facts: vec![],
        subjects: vec![],
        at: chrono::DateTime::from_timestamp(at, 0).unwrap(),
        lasted_seconds: None,
        resolves: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        store.close().await;
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        for (notice, channel) in [
            (real_page("disk/firing/a#1", "{host=\"db1\"}", outage.0 + 8 * 60), "phone"),
            (real_page("disk/firing/a#1", "{host=\"db1\"}", outage.0 + 8 * 60), "webhook"),
            (real_page("disk/firing/b#1", "{host=\"web1\"}", blip), "phone"),
        ] {
            sqlx::query("INSERT INTO outbox (key, channel, payload, created_at, next_attempt_at, state) VALUES (?, ?, ?, ?, ?, 'sent')")
                .bind(format!("{}@{channel}", notice.key))
                .bind(channel)
                .bind(serde_json::to_string(&notice).unwrap())
                .bind(notice.at.timestamp_millis())
                .bind(notice.at.timestamp_millis())
                .execute(&mut conn)
                .await
                .unwrap();
        }
    });

    let out = Command::new(sentinel_bin())
        .args([
            "backtest", "--from", "6h", "--to", "now", "--json", "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("replaying: 100%"),
        "progress on stderr: {stderr}"
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pages = outcome["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let page = &pages[0];
    assert_eq!(page["watch"], "disk");
    assert!(page["subject"].as_str().unwrap().contains("db1"), "{page}");
    let at = chrono::DateTime::parse_from_rfc3339(page["at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!(
        at >= outage.0 + 5 * 60 && at <= outage.0 + 5 * 60 + 2 * 60,
        "paged {} s after the outage began",
        at - outage.0
    );
    let disk = outcome["watches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["watch"] == "disk")
        .unwrap();
    assert_eq!(
        (disk["pages"].as_u64(), disk["incidents"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(disk["resolved"].as_u64(), Some(1));
    let skipped = outcome["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0][0], "api");
    assert!(
        skipped[0][1]
            .as_str()
            .unwrap()
            .contains("probes the endpoint now")
    );
    assert_eq!(outcome["blind_evaluations"].as_u64(), Some(0));
    assert_eq!(
        outcome["notes"].as_array().map(Vec::len),
        Some(0),
        "{outcome}"
    );
    let comparison = &outcome["comparison"];
    assert_eq!(
        comparison["same"].as_array().map(Vec::len),
        Some(1),
        "{comparison}"
    );
    assert_eq!(
        comparison["only_in_replay"].as_array().map(Vec::len),
        Some(0)
    );
    let only_real = comparison["only_in_reality"].as_array().unwrap();
    assert_eq!(only_real.len(), 1, "{comparison}");
    assert_eq!(only_real[0]["subject"], "{host=\"web1\"}");

    let text = Command::new(sentinel_bin())
        .args(["backtest", "--from", "6h", "--watch", "disk", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("1 pages would have been sent"), "{text}");
    assert!(text.contains("Free space"), "{text}");

    // A snooze the operator set before the outage, still in the store, silences the replay too.
    runtime.block_on(async {
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let made = chrono::DateTime::from_timestamp(outage.0 - 600, 0).unwrap();
        store
            .add_silence(
                "disk",
                None,
                Some(made + chrono::Duration::hours(2)),
                "",
                "telegram:1",
                made,
            )
            .await
            .unwrap();
        store.close().await;
    });
    let silenced = Command::new(sentinel_bin())
        .args(["backtest", "--from", "6h", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let silenced: serde_json::Value = serde_json::from_slice(&silenced.stdout).unwrap();
    assert_eq!(
        silenced["pages"].as_array().map(Vec::len),
        Some(0),
        "{silenced}"
    );

    // A period that begins before Prometheus holds anything is a gap, not an all-clear.
    let early = Command::new(sentinel_bin())
        .args([
            "backtest", "--from", "8h", "--to", "7h", "--json", "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let early: serde_json::Value = serde_json::from_slice(&early.stdout).unwrap();
    let notes = early["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["watch"] == "disk"
            && n["gap"] == true
            && n["note"].as_str().unwrap().contains("holds no samples")),
        "{early}"
    );

    // Tuning: with `for` at one hour, the forty-minute outage would not have paged.
    let tuned = Command::new(sentinel_bin())
        .args([
            "backtest",
            "--from",
            "6h",
            "--set",
            "watch.disk.for=1h",
            "--json",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        tuned.status.success(),
        "{}",
        String::from_utf8_lossy(&tuned.stderr)
    );
    let tuned: serde_json::Value = serde_json::from_slice(&tuned.stdout).unwrap();
    assert_eq!(tuned["pages"].as_array().map(Vec::len), Some(0), "{tuned}");

    for (args, expected) in [
        (vec!["--from", "6h", "--set", "watch.disk.fro=1h"], "fro"),
        (
            vec!["--from", "6h", "--set", "watch.nope.for=1h"],
            "no watch named `nope`",
        ),
        (vec!["--from", "1h", "--to", "2h"], "must come before"),
        (
            vec!["--from", "6h", "--watch", "nope"],
            "no watch named `nope`",
        ),
        (vec!["--from", "last tuesday"], "neither a time"),
    ] {
        let out = Command::new(sentinel_bin())
            .arg("backtest")
            .args(&args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

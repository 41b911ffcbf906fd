//! The `new_error` watch fed by Loki and by the systemd journal instead of files.
//!
//! Loki is an in-process fake speaking its documented HTTP API (`GET /loki/api/v1/query_range`,
//! streams result, nanosecond timestamps as strings, `X-Scope-OrgID`, basic auth): Loki is not
//! packaged by Debian and is AGPL, so the test command does not install it. The journal is real: `systemd-journal-remote` writes
//! journal files from the export format and the machine's `journalctl -o json` reads them.

mod support;

use chrono::{DateTime, Utc};
use sentinel::alert::notice::Notice;
use sentinel::config::Config;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use support::engine_pass;
use support::fake_loki::{FakeLoki, nanos};

fn loki_config(dir: &Path, url: &str) -> Config {
    let text = format!(
        r#"
[store]
path = "{dir}/s.db"

[sources.loki]
kind = "loki"
url = "{url}"
tenant = "shop-team"
username = "sentinel"
password = "${{LOKI_PASSWORD}}"

[watches.shop-errors]
kind = "new_error"
description = "shop logs"
source = "loki"
query = '{{app="shop"}}'
learn_for = "0s"
"#,
        dir = dir.display()
    );
    let lookup = |name: &str| (name == "LOKI_PASSWORD").then(|| "s3cret".to_string());
    Config::parse(&dir.join("sentinel.toml"), &text, &lookup).unwrap()
}

fn shop_line(loki: &FakeLoki, level: &str, at: DateTime<Utc>, line: &str) {
    loki.push(&[("app", "shop"), ("level", level)], at, line);
}

fn new_error_pages(pages: &Arc<Mutex<Vec<Notice>>>) -> Vec<Notice> {
    pages
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n.title.starts_with("New error") && n.state == "firing")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_new_error_on_loki_pages_once_and_the_tail_resumes_after_restart() {
    let (loki, address) = FakeLoki::serve();
    let dir = tempfile::tempdir().unwrap();
    let config = loki_config(dir.path(), &format!("http://{address}"));
    let pages = Arc::new(Mutex::new(Vec::new()));

    let start = Utc::now() - chrono::Duration::minutes(5);
    for i in 0..20 {
        shop_line(
            &loki,
            "info",
            start + chrono::Duration::seconds(i),
            &format!("GET /orders/{i} 200"),
        );
    }
    // Level from the stream's label: the text itself carries no level word.
    for i in 0..3 {
        shop_line(
            &loki,
            "error",
            start + chrono::Duration::seconds(30 + i),
            &format!("card declined by provider for order {} code=51", 1000 + i),
        );
    }
    // Another app's stream is not part of the query.
    loki.push(
        &[("app", "billing")],
        start + chrono::Duration::seconds(40),
        "ERROR billing exploded",
    );

    let report = engine_pass(&config, &pages).await;
    assert_eq!(report.blind, 0, "{report:?}");
    let firing = new_error_pages(&pages);
    assert_eq!(firing.len(), 1, "{firing:#?}");
    assert!(
        firing[0].title.contains("card declined by provider"),
        "{}",
        firing[0].title
    );
    assert!(
        firing[0].facts.iter().any(|f| f.contains("app=\"shop\"")),
        "the page names the stream: {:?}",
        firing[0].facts
    );
    assert!(
        !pages
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.title.contains("billing")),
        "another stream must not be read"
    );
    let (params, headers) = loki.requests.lock().unwrap()[0].clone();
    assert_eq!(params["direction"], "forward");
    assert_eq!(headers["x-scope-orgid"], "shop-team");
    assert!(
        headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with("Basic "),
        "{headers:?}"
    );
    let newest = nanos(start + chrono::Duration::seconds(32));

    // A restart (every engine_pass is a new engine) starts reading at the stored cursor.
    loki.requests.lock().unwrap().clear();
    let report = engine_pass(&config, &pages).await;
    assert_eq!(report.blind, 0, "{report:?}");
    let first_after_restart = loki.requests.lock().unwrap()[0].0.clone();
    assert_eq!(
        first_after_restart["start"],
        newest.to_string(),
        "the tail resumes where it stopped"
    );
    assert_eq!(
        new_error_pages(&pages).len(),
        1,
        "still the same incident: not paged again"
    );

    // Loki unreachable: the watch is blind, nothing panics, the cursor stays.
    *loki.down.lock().unwrap() = true;
    let report = engine_pass(&config, &pages).await;
    assert_eq!(report.blind, 1, "{report:?}");
    *loki.down.lock().unwrap() = false;
    loki.requests.lock().unwrap().clear();
    engine_pass(&config, &pages).await;
    assert_eq!(
        loki.requests.lock().unwrap()[0].0["start"],
        newest.to_string()
    );
}

/// Finds `systemd-journal-remote`, which writes journal files from the export format.
fn journal_remote() -> Option<PathBuf> {
    [
        "/lib/systemd/systemd-journal-remote",
        "/usr/lib/systemd/systemd-journal-remote",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Writes `entries` (priority, unit, message) at one-second steps from `start` as a journal
/// file `name` in `dir`.
fn write_journal(
    remote: &Path,
    dir: &Path,
    name: &str,
    start: DateTime<Utc>,
    entries: &[(u8, &str, &str)],
) {
    let mut export = String::new();
    for (i, (priority, unit, message)) in entries.iter().enumerate() {
        let micros = start.timestamp_micros() + i as i64 * 1_000_000;
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={micros}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE={message}\nPRIORITY={priority}\n_SYSTEMD_UNIT={unit}\nSYSLOG_IDENTIFIER=shop\n\n",
            micros / 1000
        ));
    }
    let export_path = dir.join(format!("{name}.export"));
    std::fs::write(&export_path, export).unwrap();
    let journal = dir.join(format!("{name}.journal"));
    let made = std::process::Command::new(remote)
        .arg(format!("--output={}", journal.display()))
        .arg(&export_path)
        .output()
        .unwrap();
    assert!(
        made.status.success() && journal.exists(),
        "systemd-journal-remote: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::remove_file(export_path).unwrap();
}

/// A journal directory of a test's own, written by `systemd-journal-remote` and read through a
/// journald source of `shop.service`.
struct Journal {
    remote: PathBuf,
    dir: tempfile::TempDir,
    journal_dir: PathBuf,
}

impl Journal {
    /// `None` (and a note) where `systemd-journal-remote` is missing.
    fn new() -> Option<Journal> {
        let Some(remote) = journal_remote() else {
            eprintln!(
                "skipped: systemd-journal-remote is not installed (scripts/test.sh installs it)"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let journal_dir = dir.path().join("journal");
        std::fs::create_dir(&journal_dir).unwrap();
        Some(Journal {
            remote,
            dir,
            journal_dir,
        })
    }

    /// A config with its store `store` and a `new_error` watch on the journal with `settings`.
    fn config(&self, store: &str, settings: &str) -> Config {
        let text = format!(
            r#"
[store]
path = "{dir}/{store}.db"

[sources.journal]
kind = "journald"
directory = "{journal}"
units = ["shop.service"]

[watches.shop-journal]
kind = "new_error"
description = "shop service"
source = "journal"
{settings}
"#,
            dir = self.dir.path().display(),
            journal = self.journal_dir.display()
        );
        Config::parse(&self.dir.path().join("sentinel.toml"), &text, &|_| None).unwrap()
    }

    fn write(&self, name: &str, start: DateTime<Utc>, entries: &[(u8, &str, &str)]) {
        write_journal(&self.remote, &self.journal_dir, name, start, entries);
    }
}

#[tokio::test]
async fn a_new_error_in_the_journal_pages_and_later_entries_are_read_after_restart() {
    let Some(journal) = Journal::new() else {
        return;
    };
    let config = journal.config("s", "learn_for = \"0s\"");
    let pages = Arc::new(Mutex::new(Vec::new()));

    let start = Utc::now() - chrono::Duration::minutes(10);
    journal.write(
        "first",
        start,
        &[
            (6, "shop.service", "order 1 paid"),
            (3, "shop.service", "disk quota exceeded for tenant 41"),
            (3, "shop.service", "disk quota exceeded for tenant 42"),
            (3, "cron.service", "cron had a bad day"),
            (3, "cron.service", "cron had a bad day"),
            (3, "cron.service", "cron had a bad day"),
            (3, "shop.service", "disk quota exceeded for tenant 43"),
            (6, "shop.service", "order 2 paid"),
        ],
    );
    let checked = sentinel::commands::doctor::check_all(&config)
        .await
        .unwrap();
    assert_eq!(
        checked[0].2,
        sentinel::commands::doctor::Finding::Ok("readable: 5 entries in the last hour".to_string()),
        "doctor counts the unit's entries"
    );

    let report = engine_pass(&config, &pages).await;
    assert_eq!(report.blind, 0, "{report:?}");
    let firing = new_error_pages(&pages);
    assert_eq!(firing.len(), 1, "{firing:#?}");
    assert!(
        firing[0].title.contains("disk quota exceeded"),
        "an error by its journal priority alone: {}",
        firing[0].title
    );
    assert!(
        !format!("{firing:?}").contains("cron had a bad day"),
        "other units are not read"
    );

    // Later entries, a restart in between: only they are new, and a second error pages.
    journal.write(
        "second",
        start + chrono::Duration::minutes(5),
        &[
            (
                3,
                "shop.service",
                "smtp relay refused connection from worker 1",
            ),
            (
                3,
                "shop.service",
                "smtp relay refused connection from worker 2",
            ),
            (
                3,
                "shop.service",
                "smtp relay refused connection from worker 3",
            ),
        ],
    );
    let report = engine_pass(&config, &pages).await;
    assert_eq!(report.blind, 0, "{report:?}");
    let firing = new_error_pages(&pages);
    assert_eq!(firing.len(), 2, "{firing:#?}");
    assert!(
        firing[1].title.contains("smtp relay refused"),
        "{firing:#?}"
    );
}

#[tokio::test]
async fn a_day_of_journal_history_is_learned_so_a_daily_error_never_pages() {
    let Some(journal) = Journal::new() else {
        return;
    };
    let config = |store: &str, history: &str| journal.config(store, history);
    let nightly = |n: u32| format!("nightly export failed for batch {n}: upstream closed");
    let attached = Utc::now();
    // Last night's run of the export failed, as it does most nights.
    let (a, b, c) = (nightly(1), nightly(2), nightly(3));
    journal.write(
        "last-night",
        attached - chrono::Duration::hours(20),
        &[
            (3, "shop.service", &a),
            (3, "shop.service", &b),
            (3, "shop.service", &c),
        ],
    );
    let with_history = config("day", "history = \"1d\"");
    let hour_only = config("hour", "");
    let clock = Arc::new(sentinel::clock::ManualClock::new(attached));
    let day_pages = Arc::new(Mutex::new(Vec::new()));
    let hour_pages = Arc::new(Mutex::new(Vec::new()));
    for (config, pages) in [(&with_history, &day_pages), (&hour_only, &hour_pages)] {
        let report = support::engine_pass_at(config, pages, clock.clone()).await;
        assert_eq!((report.blind, report.firing), (0, 0), "{report:?}");
    }

    // Tonight: the same failure again, and one never seen before.
    let tonight = attached + chrono::Duration::minutes(15);
    let (d, e, f) = (nightly(4), nightly(5), nightly(6));
    journal.write(
        "tonight",
        tonight,
        &[
            (3, "shop.service", &d),
            (3, "shop.service", &e),
            (3, "shop.service", &f),
            (3, "shop.service", "search index shard 2 is read-only"),
            (3, "shop.service", "search index shard 3 is read-only"),
            (3, "shop.service", "search index shard 5 is read-only"),
        ],
    );
    clock.set(tonight + chrono::Duration::minutes(5));
    for (config, pages) in [(&with_history, &day_pages), (&hour_only, &hour_pages)] {
        let report = support::engine_pass_at(config, pages, clock.clone()).await;
        assert_eq!(report.blind, 0, "{report:?}");
    }
    // Every new template paged, whether alone or grouped with others in one notice.
    let titles = support::new_error_titles;
    let day = titles(&day_pages);
    assert_eq!(day.len(), 1, "{day:#?}");
    assert!(day[0].contains("search index shard"), "{day:#?}");
    let hour = titles(&hour_pages);
    assert_eq!(
        hour.len(),
        2,
        "an hour of history never saw last night's run: {hour:#?}"
    );
    assert!(
        hour.iter().any(|t| t.contains("nightly export failed")),
        "{hour:#?}"
    );
}

#[tokio::test]
async fn lines_written_before_attachment_but_read_late_are_learned() {
    let Some(journal) = Journal::new() else {
        return;
    };
    let config = journal.config("s", "");
    let attached = Utc::now();
    let clock = Arc::new(sentinel::clock::ManualClock::new(attached));
    let pages = Arc::new(Mutex::new(Vec::new()));
    support::engine_pass_at(&config, &pages, clock.clone()).await;

    // Written before attachment, but only read after it (the journal file arrived late):
    // history, learned. Then a new error, five minutes after attachment: judged.
    journal.write(
        "late",
        attached - chrono::Duration::minutes(5),
        &[
            (
                3,
                "shop.service",
                "cache node 1 evicted under memory pressure",
            ),
            (
                3,
                "shop.service",
                "cache node 2 evicted under memory pressure",
            ),
            (
                3,
                "shop.service",
                "cache node 4 evicted under memory pressure",
            ),
        ],
    );
    journal.write(
        "after",
        attached + chrono::Duration::minutes(5),
        &[
            (
                3,
                "shop.service",
                "payment webhook signature mismatch for event 7",
            ),
            (
                3,
                "shop.service",
                "payment webhook signature mismatch for event 8",
            ),
            (
                3,
                "shop.service",
                "payment webhook signature mismatch for event 9",
            ),
        ],
    );
    clock.set(attached + chrono::Duration::minutes(8));
    let report = support::engine_pass_at(&config, &pages, clock.clone()).await;
    assert_eq!((report.blind, report.firing), (0, 1), "{report:?}");
    let firing = new_error_pages(&pages);
    assert_eq!(firing.len(), 1, "{firing:#?}");
    assert!(
        firing[0]
            .title
            .contains("payment webhook signature mismatch"),
        "{}",
        firing[0].title
    );
}

#[tokio::test]
async fn a_files_own_timestamps_never_silence_a_new_error() {
    // The app writes UTC-looking times from a clock five hours behind: its lines look older
    // than the attachment, but a file's text is not trusted to say when it was written.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let text = format!(
        "[store]\npath = \"{dir}/s.db\"\n\n[watches.app-errors]\nkind = \"new_error\"\ndescription = \"app log\"\npath = \"{log}\"\n",
        dir = dir.path().display(),
        log = log.display()
    );
    let config = Config::parse(&dir.path().join("sentinel.toml"), &text, &|_| None).unwrap();
    let attached = Utc::now();
    let clock = Arc::new(sentinel::clock::ManualClock::new(attached));
    let pages = Arc::new(Mutex::new(Vec::new()));
    support::engine_pass_at(&config, &pages, clock.clone()).await;

    clock.set(attached + chrono::Duration::minutes(30));
    let skewed = attached + chrono::Duration::minutes(25) - chrono::Duration::hours(5);
    let lines: String = (0..3)
        .map(|i| {
            format!(
                "{} ERROR ledger export rejected batch {i}: checksum mismatch\n",
                (skewed + chrono::Duration::seconds(i)).to_rfc3339()
            )
        })
        .collect();
    std::fs::write(&log, lines).unwrap();
    let report = support::engine_pass_at(&config, &pages, clock.clone()).await;
    assert_eq!((report.blind, report.firing), (0, 1), "{report:?}");
    let firing = new_error_pages(&pages);
    assert!(
        firing[0].title.contains("ledger export rejected"),
        "{firing:#?}"
    );
}

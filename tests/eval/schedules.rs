//! What should happen on a schedule: a nightly backup that ran and failed on a full disk (its
//! pings and output through the ping API), an hourly sync that stopped running, and a backup
//! folder left empty.

use super::Scenario;
use super::grade::{Fact, Field, VerdictClass};
use super::lab::{Lab, Pager, Staged, expect};
use chrono::{DateTime, Duration, Timelike, Utc};
use sentinel::clock::{Clock, ManualClock, SharedClock};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "heartbeat: backup failed, disk full",
            family: "schedules",
            fault: "Tonight's pg_dump ran out of disk: the backup script pinged its start, then its failure with exit status 1 and the tail of its output.",
            question: "Did the backup run tonight?",
            stage: |lab| Box::pin(backup_failed(lab)),
            facts: vec![
                Fact::text("the failing exit", Field::Summary, "exit status 1"),
                Fact::matching("the cause: a full disk", Field::Summary, r"disk .*full"),
                Fact::text(
                    "the output that says so",
                    Field::Anywhere,
                    "No space left on device",
                ),
                Fact::matching("how to see the disks", Field::Steps, r"\bdf -h\b"),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "heartbeat: job stopped running",
            family: "schedules",
            fault: "The hourly invoice sync last succeeded three hours ago; its cron entry was lost in a host move, so nothing pinged since.",
            question: "Is the invoice sync running?",
            stage: |lab| Box::pin(sync_stopped(lab)),
            facts: vec![
                Fact::matching(
                    "no ping since the last success",
                    Field::Summary,
                    r"no ping since",
                ),
                Fact::matching(
                    "a reported failure ruled out",
                    Field::Summary,
                    r"did not happen|could not report",
                ),
                Fact::matching(
                    "where to look: the scheduler",
                    Field::Steps,
                    r"cron|list-timers",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "freshness: backup folder empty",
            family: "schedules",
            fault: "The dump job moved hosts and writes nowhere; the rotation deleted the last old dumps, leaving the folder empty.",
            question: "Where are the database dumps?",
            stage: |lab| Box::pin(folder_empty(lab)),
            facts: vec![
                Fact::matching("no file at all", Field::Summary, r"no file matches"),
                Fact::matching("the folder watched", Field::Summary, r"dumps/\*\.dump"),
                Fact::matching(
                    "how to look at the folder and its disk",
                    Field::Steps,
                    r"ls -lt .*dumps.*df -h",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
    ]
}

/// Sends one ping through Sentinel's ping API (the routes and their gate, in process) at the
/// time `clock` says, as a cron script's curl would.
async fn ping(
    config: &sentinel::config::Config,
    clock: &Arc<ManualClock>,
    at: DateTime<Utc>,
    path: &str,
    body: &str,
) -> Result<(), String> {
    clock.set(at);
    let store = sentinel::store::Store::open(&config.store.path)
        .await
        .unwrap();
    let shared: SharedClock = clock.clone();
    let state = sentinel::server::AppState::new(
        config,
        store.clone(),
        Arc::new(sentinel::telemetry::Metrics::new()),
        shared,
    );
    let method = if body.is_empty() { "GET" } else { "POST" };
    let response = sentinel::server::router(state, 1000)
        .oneshot(
            axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header("user-agent", "curl/7.88.1")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    store.close().await;
    expect(
        response.status() == axum::http::StatusCode::OK,
        format!("ping {path} answered {}", response.status()),
    )
}

/// The start of the latest 03:00 UTC at least `margin` ago.
fn last_three_am(now: DateTime<Utc>, margin: Duration) -> DateTime<Utc> {
    let latest = now - margin;
    let today = latest
        .with_hour(3)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    if today <= latest {
        today
    } else {
        today - Duration::days(1)
    }
}

const BACKUP_TOKEN: &str = "b4ckup-7f1d9c2e5a8b4e60";
const SYNC_TOKEN: &str = "sync-3e8a1f0c9d7b2a64";

async fn backup_failed(lab: &Lab) -> Result<Staged, String> {
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.nightly-backup]\nkind = \"heartbeat\"\ndescription = \"Nightly backup\"\n\
             token = \"{BACKUP_TOKEN}\"\nschedule = \"0 3 * * *\"\ntz = \"UTC\"\ngrace = \"1h\"\n"
        ),
        None,
    );
    let now = Utc::now();
    let tonight = last_three_am(now, Duration::minutes(30));
    let clock = Arc::new(ManualClock::new(tonight - Duration::days(4)));
    for night in (1..=3).rev() {
        let start = tonight - Duration::days(night) + Duration::minutes(2);
        ping(
            &parsed,
            &clock,
            start,
            &format!("/ping/{BACKUP_TOKEN}/start"),
            "",
        )
        .await?;
        ping(
            &parsed,
            &clock,
            start + Duration::minutes(11),
            &format!("/ping/{BACKUP_TOKEN}"),
            "",
        )
        .await?;
    }
    let start = tonight + Duration::minutes(2);
    ping(
        &parsed,
        &clock,
        start,
        &format!("/ping/{BACKUP_TOKEN}/start"),
        "",
    )
    .await?;
    let output = "+ pg_dump --format=custom --file=/var/backups/shop/shop-nightly.dump shop\n\
                  pg_dump: dumping contents of table \"public.order_items\"\n\
                  pg_dump: error: could not write to output file: No space left on device\n\
                  + rc=1\n\
                  + echo 'backup failed'\n\
                  backup failed\n";
    let failed = start + Duration::minutes(4);
    ping(
        &parsed,
        &clock,
        failed,
        &format!("/ping/{BACKUP_TOKEN}/1"),
        output,
    )
    .await?;
    let pager = Pager::new(&parsed);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "nightly-backup".into(),
        pages: pager.paged()?,
        facts: vec![Fact::text(
            "when the run failed",
            Field::Summary,
            &failed.format("failed at %Y-%m-%d %H:%M UTC").to_string(),
        )],
        guards: Vec::new(),
    })
}

async fn sync_stopped(lab: &Lab) -> Result<Staged, String> {
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.invoice-sync]\nkind = \"heartbeat\"\ndescription = \"Invoice sync\"\n\
             token = \"{SYNC_TOKEN}\"\nperiod = \"1h\"\ngrace = \"10m\"\n"
        ),
        None,
    );
    let now = Utc::now();
    let clock = Arc::new(ManualClock::new(now - Duration::hours(9)));
    let mut last_success = now;
    for hours_ago in (3..=8).rev() {
        let start = now - Duration::hours(hours_ago);
        last_success = start + Duration::seconds(40);
        ping(
            &parsed,
            &clock,
            start,
            &format!("/ping/{SYNC_TOKEN}/start"),
            "",
        )
        .await?;
        ping(
            &parsed,
            &clock,
            start + Duration::seconds(40),
            &format!("/ping/{SYNC_TOKEN}/0"),
            "",
        )
        .await?;
    }
    expect(clock.now() < now, "the pings lie in the past")?;
    let pager = Pager::new(&parsed);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "invoice-sync".into(),
        pages: pager.paged()?,
        facts: vec![Fact::text(
            "the last success",
            Field::Summary,
            &last_success
                .format("last succeeded at %Y-%m-%d %H:%M UTC")
                .to_string(),
        )],
        guards: Vec::new(),
    })
}

async fn folder_empty(lab: &Lab) -> Result<Staged, String> {
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("dumps");
    std::fs::create_dir(&dumps).unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.db-dumps]\nkind = \"freshness\"\ndescription = \"Database dumps\"\n\
             path = \"{}/*.dump\"\nmax_age = \"26h\"\n",
            dumps.display()
        ),
        None,
    );
    expect(is_empty(&dumps), "the dumps folder is empty")?;
    let pager = Pager::new(&parsed);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "db-dumps".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

fn is_empty(folder: &Path) -> bool {
    std::fs::read_dir(folder)
        .map(|mut entries| entries.next().is_none())
        .unwrap_or(false)
}

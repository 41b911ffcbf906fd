//! Metrics on a Prometheus that has days of history: a retry loop multiplies the spend on a
//! paid API (a jump in a sum, traced to the series inside it), the database disk fills up (a
//! threshold getting worse), a backup's success timestamp stops moving (freshness of a
//! metric), and a replica's lag pages just before its exporter dies (a threshold whose series
//! stopped reporting: nobody can say whether it still lags).

use super::Scenario;
use super::grade::{Fact, Field, VerdictClass};
use super::lab::{Lab, Pager, Staged, expect};
use crate::support::prometheus_history::{HistoryPrometheus, sample};
use std::fmt::Write;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "jump: spend from a retry loop",
            family: "metrics",
            fault: "The ticket summarizer retries every failed completion at once and forever: its spend on the model API went from $0.25 to $7.50 an hour fifty minutes ago.",
            question: "Why did the API spend jump?",
            stage: |lab| Box::pin(spend_jump(lab)),
            facts: vec![
                Fact::matching(
                    "the series the jump comes from",
                    Field::Summary,
                    r#"source: \{[^}]*feature="ticket-summarizer""#,
                ),
                Fact::matching(
                    "how far it is from its usual",
                    Field::Summary,
                    r"\d+(\.\d+)?x its usual",
                ),
                Fact::absent(
                    "the chat feature blamed",
                    Field::Summary,
                    r#"source: \{[^}]*feature="chat""#,
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "threshold: database disk filling",
            family: "metrics",
            fault: "An inactive replication slot holds WAL: the PostgreSQL volume went from 42% free to 7% in five hours and keeps falling.",
            question: "How bad is the disk on db-1?",
            stage: |lab| Box::pin(disk_filling(lab)),
            facts: vec![
                Fact::text(
                    "the volume",
                    Field::Summary,
                    "mountpoint=\"/var/lib/postgresql\"",
                ),
                Fact::matching(
                    "its value against the bound",
                    Field::Summary,
                    r"is 0\.0\d+ \(bound < 0\.1\)",
                ),
                Fact::matching("it keeps falling", Field::Summary, r"getting worse"),
                Fact::absent(
                    "the healthy root volume named",
                    Field::Summary,
                    r#"mountpoint="/""#,
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "freshness: backup timestamp stalled",
            family: "metrics",
            fault: "The nightly dump writes its success time for node_exporter's textfile collector; it has failed for two nights, so the timestamp stays at the night before.",
            question: "When did the shop database last back up?",
            stage: |lab| Box::pin(backup_timestamp_stalled(lab)),
            facts: vec![
                Fact::text(
                    "the database it is about",
                    Field::Summary,
                    "database=\"shop\"",
                ),
                Fact::matching(
                    "how often it usually moves",
                    Field::Summary,
                    r"usually arrive every 1d",
                ),
                Fact::absent(
                    "the healthy database blamed",
                    Field::Summary,
                    r#"database="analytics""#,
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "threshold: series stopped reporting",
            family: "metrics",
            fault: "The replica's lag paged at 16 minutes; then its postgres_exporter died, so the lag series is gone: whether the replica still lags is unknown.",
            question: "Is the replica still lagging?",
            stage: |lab| Box::pin(lag_series_gone(lab)),
            facts: vec![
                Fact::matching(
                    "the series stopped, not healed",
                    Field::Summary,
                    r"stopped reporting|no longer report|unknown",
                ),
                Fact::absent(
                    "called healed",
                    Field::Summary,
                    r"back within its bound|healed",
                ),
            ],
            expected: VerdictClass::Inconclusive,
            certainty_allowed: false,
        },
    ]
}

/// Labels of the spend counter, per feature.
fn spend_series(feature: &str) -> String {
    format!(
        "llm_api_spend_dollars_total{{feature=\"{feature}\",instance=\"api-1:9464\",job=\"shop-api\"}}"
    )
}

/// Labels of a volume's series.
fn volume(metric: &str, device: &str, mountpoint: &str) -> String {
    format!(
        "{metric}{{device=\"{device}\",fstype=\"ext4\",instance=\"db-1:9100\",job=\"node\",mountpoint=\"{mountpoint}\"}}"
    )
}

/// The success timestamp a backup job leaves for node_exporter's textfile collector.
fn backup_series(database: &str) -> String {
    format!(
        "backup_last_success_timestamp_seconds{{database=\"{database}\",instance=\"db-1:9100\",job=\"node\"}}"
    )
}

/// The success time a nightly backup reports at `at`: 03:10 of each night it succeeded, the
/// shop's last success three nights before the last one.
fn last_backup(database: &str, at: i64, now: i64) -> f64 {
    let night = at - at.rem_euclid(86_400) + 3 * 3600 + 600;
    let latest = if night <= at { night } else { night - 86_400 };
    let stalled = now - now.rem_euclid(86_400) + 3 * 3600 + 600 - 2 * 86_400;
    match database {
        "shop" => latest.min(stalled) as f64,
        _ => latest as f64,
    }
}

const LAG: &str =
    "pg_replication_lag_seconds{instance=\"db-2:9187\",job=\"postgres\",slot=\"replica_db2\"}";
const VOLUME_SIZE: f64 = 214_748_364_800.0;

/// Dollars an hour a feature spends at `at` (unix seconds), with `incident` the start of the
/// retry loop.
fn spend_rate(feature: &str, at: i64, incident: i64) -> f64 {
    let day = (at % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU;
    match feature {
        "chat" => 0.9 + 0.3 * day.sin(),
        "search-rerank" => 0.35 + 0.05 * (day * 3.0).cos(),
        _ if at >= incident => 7.5,
        _ => 0.25 + 0.03 * (day * 2.0).sin(),
    }
}

/// The free share of the PostgreSQL volume at `at`: steady, then falling for five hours.
fn postgres_free(at: i64, now: i64) -> f64 {
    let falling_since = now - 5 * 3600;
    if at < falling_since {
        0.42 + 0.003 * ((at / 600) % 3) as f64
    } else {
        0.42 - 0.35 * (at - falling_since) as f64 / (5.0 * 3600.0)
    }
}

/// The replica's lag at `at`: a second or two, then climbing for the last 16 minutes.
fn lag(at: i64, now: i64) -> f64 {
    let since = now - 16 * 60;
    if at < since {
        1.0 + ((at / 60) % 3) as f64 * 0.5
    } else {
        (at - since) as f64
    }
}

/// The Prometheus of this family: three days of spend, six of backup timestamps, eight hours
/// of disks and replication lag, written before it starts; its exporter then serves the
/// latest values.
async fn prometheus(lab: &Lab) -> &HistoryPrometheus {
    lab.prometheus
        .get_or_init(|| async {
            tokio::task::spawn_blocking(|| {
                let now = chrono::Utc::now().timestamp() - 15;
                let incident = now - 50 * 60;
                let features = ["chat", "search-rerank", "ticket-summarizer"];
                let mut history = String::from("# TYPE llm_api_spend_dollars counter\n");
                let mut current = String::new();
                for feature in features {
                    let mut total = 0.0;
                    for at in (now - 3 * 86_400..=now).step_by(60) {
                        total += spend_rate(feature, at, incident) / 60.0;
                        history.push_str(&sample(&spend_series(feature), total, at));
                    }
                    let _ = writeln!(current, "{} {total}", spend_series(feature));
                }
                history.push_str("# TYPE node_filesystem_avail_bytes gauge\n");
                let mounts = [
                    ("/dev/nvme1n1", "/var/lib/postgresql"),
                    ("/dev/nvme0n1p2", "/"),
                ];
                for (device, mountpoint) in mounts {
                    let free = |at: i64| match mountpoint {
                        "/" => 0.61,
                        _ => postgres_free(at, now),
                    };
                    let series = volume("node_filesystem_avail_bytes", device, mountpoint);
                    for at in (now - 8 * 3600..=now).step_by(30) {
                        history.push_str(&sample(&series, (free(at) * VOLUME_SIZE).round(), at));
                    }
                    let _ = writeln!(current, "{series} {}", (free(now) * VOLUME_SIZE).round());
                }
                history.push_str("# TYPE node_filesystem_size_bytes gauge\n");
                for (device, mountpoint) in mounts {
                    let series = volume("node_filesystem_size_bytes", device, mountpoint);
                    for at in (now - 8 * 3600..=now).step_by(30) {
                        history.push_str(&sample(&series, VOLUME_SIZE, at));
                    }
                    let _ = writeln!(current, "{series} {VOLUME_SIZE}");
                }
                history.push_str("# TYPE backup_last_success_timestamp_seconds gauge\n");
                for database in ["analytics", "shop"] {
                    for at in (now - 6 * 86_400..=now).step_by(300) {
                        history.push_str(&sample(
                            &backup_series(database),
                            last_backup(database, at, now),
                            at,
                        ));
                    }
                    let _ = writeln!(
                        current,
                        "{} {}",
                        backup_series(database),
                        last_backup(database, now, now)
                    );
                }
                history.push_str("# TYPE pg_replication_lag_seconds gauge\n");
                for at in (now - 8 * 3600..=now).step_by(15) {
                    history.push_str(&sample(LAG, lag(at, now), at));
                }
                let replica = format!("{LAG} {}\n", lag(now, now));
                HistoryPrometheus::start(&history, &[("shop", current), ("replica", replica)])
            })
            .await
            .unwrap()
        })
        .await
}

/// The `[sources.prom]` section on this family's Prometheus.
fn source(prometheus: &HistoryPrometheus) -> String {
    format!(
        "[sources.prom]\nkind = \"prometheus\"\nurl = \"{}\"\ntimeout = \"10s\"\n\n",
        prometheus.url
    )
}

async fn spend_jump(lab: &Lab) -> Result<Staged, String> {
    let prom = prometheus(lab).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "{}[watches.api-spend]\nkind = \"jump\"\ndescription = \"Model API spend per hour\"\nsource = \"prom\"\n\
             query = 'sum(increase(llm_api_spend_dollars_total[1h]))'\nstep = \"1h\"\nbaseline = \"2d\"\n\
             direction = \"up\"\nmin_change = 1\n",
            source(prom)
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    let pass = pager.pass().await;
    expect(pass.blind == 0, "Prometheus could not be read")?;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "api-spend".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

async fn disk_filling(lab: &Lab) -> Result<Staged, String> {
    let prom = prometheus(lab).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "{}[watches.disk-free]\nkind = \"threshold\"\ndescription = \"Disk space\"\nsource = \"prom\"\n\
             query = 'node_filesystem_avail_bytes{{fstype!=\"tmpfs\"}} / node_filesystem_size_bytes{{fstype!=\"tmpfs\"}} < 0.1'\n\
             keep_firing_for = \"15m\"\n",
            source(prom)
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    let pass = pager.pass().await;
    expect(pass.blind == 0, "Prometheus could not be read")?;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "disk-free".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

async fn backup_timestamp_stalled(lab: &Lab) -> Result<Staged, String> {
    let prom = prometheus(lab).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "{}[watches.backups]\nkind = \"freshness\"\ndescription = \"Database backups\"\nsource = \"prom\"\n\
             query = 'backup_last_success_timestamp_seconds'\nmax_age = \"26h\"\n",
            source(prom)
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    let pass = pager.pass().await;
    expect(pass.blind == 0, "Prometheus could not be read")?;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "backups".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

async fn lag_series_gone(lab: &Lab) -> Result<Staged, String> {
    let prom = prometheus(lab).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "{}[watches.replica-lag]\nkind = \"threshold\"\ndescription = \"Replication lag\"\nsource = \"prom\"\n\
             query = 'pg_replication_lag_seconds > 300'\nkeep_firing_for = \"15m\"\n",
            source(prom)
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    expect(pager.pass().await.firing == 1, "the lag made no page")?;
    // The exporter on db-2 dies: its series goes stale at the next scrape.
    prom.withdraw("replica");
    prom.wait_for("pg_replication_lag_seconds", 0).await;
    // Queries name whole seconds: let the series' end lie a little in the past.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let pass = pager.pass().await;
    expect(
        pass.firing == 1,
        "the alert is still open (keep_firing_for) after the series went away",
    )?;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "replica-lag".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

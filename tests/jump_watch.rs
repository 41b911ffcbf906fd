//! The `jump` watch end to end against real databases: an hourly spend series bucketed by the
//! database itself. The hour still filling never reads as a drop, spend already far above the
//! usual pages before the hour is over, and a whole hour that fell to nothing pages too.

mod support;

use sentinel::config::Config;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn config(dir: &Path, kind: &str, url: &str, query: &str, direction: &str) -> Config {
    let text = format!(
        r#"
[store]
path = "{store}"

[sources.app]
kind = "{kind}"
url = "{url}"

[watches.spend]
kind = "jump"
description = "API spend per hour"
source = "app"
query = "{query}"
step = "1h"
baseline = "2d"
direction = "{direction}"
min_change = 5
"#,
        store = dir.join("s.db").display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

/// Two days of complete hours, each about 10 spent in three charges.
fn usual_hours(table: &str, hour_start: &str, interval: &dyn Fn(i64) -> String) -> Vec<String> {
    (1..=48)
        .map(|hours_ago| {
            let at = format!("{hour_start} - {}", interval(hours_ago));
            let wobble = (hours_ago % 3) as f64 * 0.1;
            format!(
                "INSERT INTO {table} (at, cost) VALUES ({at}, 4), ({at}, 3), ({at}, {})",
                3.0 + wobble
            )
        })
        .collect()
}

#[tokio::test]
async fn spend_buckets_on_postgres_page_early_and_never_on_the_open_hour() {
    let schema = format!("sentinel_jump_{}", std::process::id());
    let table = format!("{schema}.spend");
    let mut setup = vec![
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
        format!("CREATE TABLE {table} (at timestamptz NOT NULL, cost numeric NOT NULL)"),
    ];
    // Ten minutes into each past hour, so every charge sits well inside its bucket.
    setup.extend(usual_hours(
        &table,
        "date_trunc('hour', now()) + interval '10 minutes'",
        &|h| format!("interval '{h} hours'"),
    ));
    support::postgres_setup(&setup).await;
    let query = format!(
        "SELECT date_trunc('hour', at) AS time, sum(cost) AS value FROM {table} GROUP BY 1"
    );
    let dir = tempfile::tempdir().unwrap();
    let both = config(
        dir.path(),
        "postgres",
        &support::postgres_reader().await,
        &query,
        "both",
    );
    let pages = Arc::new(Mutex::new(Vec::new()));

    // The hour now open has one small charge: the usual start of an hour, not a drop.
    support::postgres_setup(&[format!("INSERT INTO {table} VALUES (now(), 0.5)")]).await;
    let report = support::engine_pass(&both, &pages).await;
    assert_eq!((report.firing, report.blind), (0, 0), "{report:?}");
    assert!(pages.lock().unwrap().is_empty());

    // A retry loop: 120 spent already, twelve times a usual hour before the hour is over.
    support::postgres_setup(&[format!(
        "INSERT INTO {table} SELECT now(), 1 FROM generate_series(1, 120)"
    )])
    .await;
    let report = support::engine_pass(&both, &pages).await;
    assert_eq!((report.firing, report.blind), (1, 0), "{report:?}");
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 1, "{pages:?}");
        let page = &pages[0];
        assert!(
            page.title
                .contains("API spend per hour 120.50 is 11.9x its usual 10.10"),
            "{}",
            page.title
        );
        let facts = page.facts.join("\n");
        assert!(facts.contains("so far: "), "{facts}");
        assert!(facts.contains("on pace for"), "{facts}");
    }
    support::postgres_setup(&[format!("DROP SCHEMA {schema} CASCADE")]).await;
}

#[tokio::test]
async fn a_whole_hour_without_spend_pages_as_a_drop_on_mariadb() {
    let table = format!("sentinel_jump_{}", std::process::id());
    let hour_start = "(UTC_TIMESTAMP() - INTERVAL MINUTE(UTC_TIMESTAMP()) MINUTE - INTERVAL SECOND(UTC_TIMESTAMP()) SECOND + INTERVAL 10 MINUTE)";
    let mut setup = vec![
        format!("DROP TABLE IF EXISTS {table}"),
        format!("CREATE TABLE {table} (at datetime NOT NULL, cost decimal(10,2) NOT NULL)"),
    ];
    // The last complete hour is left empty: no row at all, so the query gives it a zero.
    setup.extend(
        usual_hours(&table, hour_start, &|h| format!("INTERVAL {h} HOUR"))
            .into_iter()
            .skip(1),
    );
    support::mariadb_setup(&setup).await;
    // Hours with no charge are zero, not missing: a calendar of hours joined to the charges.
    let query = format!(
        "WITH RECURSIVE hours (h) AS (SELECT DATE_FORMAT(UTC_TIMESTAMP() - INTERVAL 48 HOUR, '%Y-%m-%d %H:00:00') UNION ALL SELECT DATE_FORMAT(h + INTERVAL 1 HOUR, '%Y-%m-%d %H:00:00') FROM hours WHERE h < UTC_TIMESTAMP() - INTERVAL 1 HOUR) SELECT hours.h AS time, COALESCE(SUM({table}.cost), 0) AS value FROM hours LEFT JOIN {table} ON DATE_FORMAT({table}.at, '%Y-%m-%d %H:00:00') = hours.h GROUP BY hours.h"
    );
    let dir = tempfile::tempdir().unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let up_only = config(
        dir.path(),
        "mysql",
        &support::mariadb_reader().await,
        &query,
        "up",
    );
    let report = support::engine_pass(&up_only, &pages).await;
    assert_eq!(
        (report.firing, report.blind),
        (0, 0),
        "a drop is no page when only rises are asked for: {report:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let both = config(
        dir.path(),
        "mysql",
        &support::mariadb_reader().await,
        &query,
        "both",
    );
    let report = support::engine_pass(&both, &pages).await;
    assert_eq!((report.firing, report.blind), (1, 0), "{report:?}");
    {
        let pages = pages.lock().unwrap();
        let page = &pages[0];
        assert!(
            page.title
                .contains("API spend per hour 0.00 is 100% below its usual"),
            "{}",
            page.title
        );
        assert!(!page.facts.join("\n").contains("so far"), "{page:?}");
    }
    support::mariadb_setup(&[format!("DROP TABLE {table}")]).await;
}

//! `sentinel backtest` on a SQL `jump` watch: a real PostgreSQL spend table holding five days of
//! hourly charges, with a three-hour spike a day and a half ago. Replayed over the last three
//! days, the spike pages once, in the hour it began, and the ordinary days page nothing.

mod support;

use std::process::Command;
use support::{sentinel_bin, write_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_spend_spike_pages_once_in_the_hour_it_began() {
    let schema = format!("sentinel_backtest_spend_{}", std::process::id());
    let table = format!("{schema}.spend");
    let now = chrono::Utc::now();
    let this_hour = now.timestamp() / 3600 * 3600;
    let spike_hours = 36..=38;
    let mut setup = vec![
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
        format!("CREATE TABLE {table} (at timestamptz NOT NULL, cost numeric NOT NULL)"),
    ];
    for hours_ago in 1..=5 * 24 {
        // Ten minutes into each past hour.
        let at = format!("to_timestamp({})", this_hour - hours_ago * 3600 + 600);
        let wobble = (hours_ago % 3) as f64 * 0.1;
        let extra = if spike_hours.contains(&hours_ago) {
            format!(", ({at}, 70)")
        } else {
            String::new()
        };
        setup.push(format!(
            "INSERT INTO {table} (at, cost) VALUES ({at}, 4), ({at}, 3), ({at}, {}){extra}",
            3.0 + wobble
        ));
    }
    support::postgres_setup(&setup).await;
    let reader = support::postgres_reader().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[store]\npath = \"{store}\"\n\
             [sources.app]\nkind = \"postgres\"\nurl = \"{reader}\"\n\
             [watches.spend]\nkind = \"jump\"\ndescription = \"API spend per hour\"\nsource = \"app\"\n\
             query = \"SELECT date_trunc('hour', at) AS time, sum(cost) AS value FROM {table} GROUP BY 1\"\n\
             step = \"1h\"\nbaseline = \"2d\"\ndirection = \"up\"\nmin_change = 5\ninterval = \"10m\"\n",
            store = dir.path().join("s.db").display(),
        ),
    );
    let out = Command::new(sentinel_bin())
        .args(["backtest", "--from", "3d", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pages = outcome["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let at = chrono::DateTime::parse_from_rfc3339(pages[0]["at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let spike_start = this_hour - spike_hours.end() * 3600;
    assert!(
        (spike_start..spike_start + 3600 + 600).contains(&at),
        "paged {} s after the spike's hour began",
        at - spike_start
    );
    assert_eq!(outcome["blind_evaluations"].as_u64(), Some(0));
    assert!(outcome["skipped"].as_array().unwrap().is_empty());
}

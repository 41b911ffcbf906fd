//! How long the evidence enrichment takes for a customer with 100,000 rows over two years
//! (60,000 logins from 200 addresses with 12 user agents, every fourth with a device id, and
//! 40,000 usage events), without and with a GeoIP database (written in the GeoLite2 layout by
//! the test writer). Prints the best of five runs of each.

// The GeoIP database file is written by the integration tests' writer (only part of it is used).
#[allow(dead_code)]
#[path = "../tests/support/mmdb.rs"]
mod mmdb;

use std::time::{Duration, Instant};

use sentinel::evidence::enrich::{GeoDb, SectionRows, enrich};
use sentinel::evidence::pack::SectionKind;

const LOGINS: usize = 60_000;
const USAGE: usize = 40_000;
const RUNS: usize = 5;
/// 2024-12-01T00:00:00Z.
const START: i64 = 1_733_011_200;
const SPAN_SECONDS: i64 = 730 * 86_400;

const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/1{}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
     Gecko) Version/1{}.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:12{}.0) Gecko/20100101 Firefox/12{}.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/12{}.0.6099.144 Mobile Safari/537.36",
];

fn time(index: usize, count: usize) -> String {
    let at = START + SPAN_SECONDS * index as i64 / count as i64;
    chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S+00")
        .to_string()
}

fn main() {
    let login_columns: Vec<String> = ["signed_in_at", "ip", "user_agent", "device_id"]
        .map(str::to_owned)
        .into();
    let logins: Vec<Vec<Option<String>>> = (0..LOGINS)
        .map(|i| {
            let agent = AGENTS[i % AGENTS.len()].replace("{}", &(i % 3).to_string());
            vec![
                Some(time(i, LOGINS)),
                Some(format!("203.0.{}.{}", i % 2, (i / 2) % 100 + 1)),
                Some(agent),
                (i % 4 == 0).then(|| format!("device-{:04}", i % 50)),
            ]
        })
        .collect();
    let usage_columns: Vec<String> = ["event", "created_at", "plan"].map(str::to_owned).into();
    let usage: Vec<Vec<Option<String>>> = (0..USAGE)
        .map(|i| {
            vec![
                Some(format!("export-{}", i % 7)),
                Some(time(i, USAGE)),
                Some("pro".to_owned()),
            ]
        })
        .collect();
    let sections = [
        SectionRows {
            kind: SectionKind::Logins,
            title: "Logins",
            columns: &login_columns,
            rows: &logins,
        },
        SectionRows {
            kind: SectionKind::Usage,
            title: "Usage",
            columns: &usage_columns,
            rows: &usage,
        },
    ];

    let dir = tempfile::tempdir().unwrap();
    let mut writer = mmdb::MmdbWriter::new("GeoLite2-City", 1_795_478_400);
    writer.insert(
        "203.0.0.0/24",
        &mmdb::city_record("Berlin", "Germany", "DE"),
    );
    writer.insert("203.0.1.0/24", &mmdb::city_record("Paris", "France", "FR"));
    let path = dir.path().join("GeoLite2-City.mmdb");
    std::fs::write(&path, writer.to_bytes()).unwrap();
    let geo = GeoDb::open(&path).unwrap();

    println!(
        "input: {} rows ({LOGINS} logins, {USAGE} usage events)",
        LOGINS + USAGE
    );
    for (name, geo) in [("without GeoIP", None), ("with GeoIP", Some(&geo))] {
        let mut best = Duration::MAX;
        let mut last = None;
        for _ in 0..RUNS {
            let started = Instant::now();
            let enriched = enrich(&sections, geo);
            best = best.min(started.elapsed());
            last = Some(enriched);
        }
        let enriched = last.unwrap();
        println!(
            "{name}: best of {RUNS} {:.1} ms ({:.0} rows/s); {} timeline entries, {} devices, \
             {} locations, {} days",
            best.as_secs_f64() * 1000.0,
            (LOGINS + USAGE) as f64 / best.as_secs_f64(),
            enriched.timeline.len(),
            enriched.devices.len(),
            enriched.locations.len(),
            enriched.daily.len(),
        );
    }
}

//! How long rendering an evidence pack takes: 10,000 timeline entries (which the page limit
//! cuts, as it does the 2,000 logins and the 1,000 devices and locations) and 100,000, each
//! rendered a few times; prints the time per render and the PDF's size. Target: well under a
//! second per render in an optimized build.

use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sentinel::evidence::pack::{
    Customer, DayCount, Pack, QuerySource, Section, SectionKind, SectionOutcome, Seen, Table,
    Timeline, TimelineEntry,
};
use sentinel::evidence::pdf::render;

const RUNS: u32 = 5;

fn pack(timeline_entries: usize) -> Pack {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let rows = (0..2_000)
        .map(|index| {
            vec![
                (start + Duration::hours(index)).to_rfc3339(),
                format!("198.51.100.{}", index % 250),
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".to_owned(),
            ]
        })
        .collect();
    Pack {
        generated_at: start,
        customer: Customer {
            id: "cus_bench".into(),
            email: Some("bench@example.com".into()),
            name: Some("Bench Customer".into()),
        },
        dispute: None,
        summary: "Used the product every day since signing up.".into(),
        ce3: None,
        sections: vec![Section {
            name: "logins".into(),
            title: "Logins".into(),
            kind: SectionKind::Logins,
            source: QuerySource {
                source: "app".into(),
                query: "SELECT created_at, ip, user_agent FROM logins WHERE user_id = :customer"
                    .into(),
            },
            outcome: SectionOutcome::Rows(Table {
                columns: vec!["created_at".into(), "ip".into(), "user_agent".into()],
                rows,
                total_rows: 2_000,
                omitted: None,
            }),
        }],
        devices: (0..1_000)
            .map(|index| seen(format!("Firefox 128 on Linux, device {index:04x}"), start))
            .collect(),
        locations: (0..1_000)
            .map(|index| seen(format!("198.51.100.{}", index % 250), start))
            .collect(),
        geo_note: "IP addresses only: no GeoIP database configured.".into(),
        timeline: Timeline {
            entries: (0..timeline_entries)
                .map(|index| TimelineEntry {
                    at: start + Duration::minutes(index as i64 * 7),
                    kind: SectionKind::Usage,
                    text: format!("Opened project #{index} and exported its report as CSV"),
                })
                .collect(),
            omitted: None,
        },
        daily: (0..365)
            .map(|day| DayCount {
                date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(day),
                logins: (day as usize * 7) % 11,
                usage: (day as usize * 13) % 40,
            })
            .collect(),
        left_out: Vec::new(),
    }
}

fn seen(label: String, first: DateTime<Utc>) -> Seen {
    Seen {
        label,
        first,
        last: first + Duration::days(300),
        count: 12,
    }
}

fn main() {
    for entries in [10_000, 100_000] {
        let pack = pack(entries);
        let started = Instant::now();
        let mut bytes = Vec::new();
        for _ in 0..RUNS {
            bytes = render(&pack).expect("the bench pack renders");
        }
        let per_render = started.elapsed() / RUNS;
        println!(
            "{entries} timeline entries: {:.0} ms per render, {} KB of PDF",
            per_render.as_secs_f64() * 1000.0,
            bytes.len() / 1024,
        );
    }
}

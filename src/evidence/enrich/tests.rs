//! The enrichment end to end, without a GeoIP database (tests/evidence_geoip.rs has one).

use super::*;

const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                          (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) \
                             AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 \
                             Mobile/15E148 Safari/604.1";

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn rows(cells: &[&[Option<&str>]]) -> Vec<Vec<Option<String>>> {
    cells
        .iter()
        .map(|row| row.iter().map(|cell| cell.map(str::to_owned)).collect())
        .collect()
}

struct Fixture {
    login_columns: Vec<String>,
    logins: Vec<Vec<Option<String>>>,
    usage_columns: Vec<String>,
    usage: Vec<Vec<Option<String>>>,
    payment_columns: Vec<String>,
    payments: Vec<Vec<Option<String>>>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            login_columns: columns(&["signed_in_at", "ip", "user_agent"]),
            logins: rows(&[
                &[
                    Some("2026-11-03 08:00:00+00"),
                    Some("203.0.113.7"),
                    Some(SAFARI_IPHONE),
                ],
                &[
                    Some("2026-11-01T09:30:00Z"),
                    Some("203.0.113.7"),
                    Some(CHROME_MAC),
                ],
                &[Some("1793606400"), Some("10.0.0.8"), Some(CHROME_MAC)],
                &[None, Some("198.51.100.1"), Some(CHROME_MAC)],
            ]),
            usage_columns: columns(&["event", "created_at", "device_id"]),
            usage: rows(&[
                &[
                    Some("export"),
                    Some("2026-11-01 10:00:00"),
                    Some("3f2a9c1e77d04b5a"),
                ],
                &[
                    Some("report"),
                    Some("2026-11-04 12:00:00.5"),
                    Some("3f2a9c1e77d04b5a"),
                ],
                &[Some("import"), Some("yesterday"), None],
            ]),
            payment_columns: columns(&["id", "amount", "currency", "status", "paid_at"]),
            payments: rows(&[&[
                Some("ch_123"),
                Some("49.00"),
                Some("usd"),
                Some("succeeded"),
                Some("2026-10-31"),
            ]]),
        }
    }

    fn sections(&self) -> Vec<SectionRows<'_>> {
        vec![
            SectionRows {
                kind: SectionKind::Logins,
                title: "Logins",
                columns: &self.login_columns,
                rows: &self.logins,
            },
            SectionRows {
                kind: SectionKind::Usage,
                title: "Usage",
                columns: &self.usage_columns,
                rows: &self.usage,
            },
            SectionRows {
                kind: SectionKind::Payments,
                title: "Payments",
                columns: &self.payment_columns,
                rows: &self.payments,
            },
        ]
    }
}

fn at(text: &str) -> DateTime<Utc> {
    parse_time(text).unwrap()
}

#[test]
fn the_timeline_merges_every_section_oldest_first() {
    let fixture = Fixture::new();
    let enriched = enrich(&fixture.sections(), None);
    let timeline: Vec<(String, &str)> = enriched
        .timeline
        .iter()
        .map(|entry| (entry.at.to_rfc3339(), entry.text.as_str()))
        .collect();
    assert_eq!(
        timeline,
        vec![
            (
                "2026-10-31T00:00:00+00:00".to_owned(),
                "Payment ch_123 49.00 usd succeeded"
            ),
            (
                "2026-11-01T09:30:00+00:00".to_owned(),
                "Login from 203.0.113.7, Chrome 120 on macOS"
            ),
            ("2026-11-01T10:00:00+00:00".to_owned(), "Used: export"),
            (
                "2026-11-02T08:00:00+00:00".to_owned(),
                "Login from private address (10.0.0.8), Chrome 120 on macOS"
            ),
            (
                "2026-11-03T08:00:00+00:00".to_owned(),
                "Login from 203.0.113.7, Safari 17 on iOS"
            ),
            ("2026-11-04T12:00:00.500+00:00".to_owned(), "Used: report"),
        ]
    );
    assert_eq!(
        enriched.undated, 2,
        "the login without a time and 'yesterday'"
    );
    assert_eq!(
        enriched.geo_note,
        "No GeoIP database configured: locations are IP addresses only"
    );
}

/// Each seen thing as (label, first, last, count), times in RFC 3339.
fn seen_rows(seen: &[Seen]) -> Vec<(String, String, String, usize)> {
    seen.iter()
        .map(|seen| {
            let time = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            (
                seen.label.clone(),
                time(seen.first),
                time(seen.last),
                seen.count,
            )
        })
        .collect()
}

fn expected(rows: &[(&str, &str, &str, usize)]) -> Vec<(String, String, String, usize)> {
    rows.iter()
        .map(|&(label, first, last, count)| (label.into(), first.into(), last.into(), count))
        .collect()
}

#[test]
fn devices_by_id_else_by_user_agent_with_first_and_last_seen() {
    let fixture = Fixture::new();
    let devices = enrich(&fixture.sections(), None).devices;
    assert_eq!(
        seen_rows(&devices),
        expected(&[
            (
                "Chrome 120 on macOS (desktop)",
                "2026-11-01T09:30:00Z",
                "2026-11-02T08:00:00Z",
                2
            ),
            (
                "unknown browser, device 3f2a9c1e…",
                "2026-11-01T10:00:00Z",
                "2026-11-04T12:00:00Z",
                2
            ),
            (
                "Safari 17 on iOS (mobile)",
                "2026-11-03T08:00:00Z",
                "2026-11-03T08:00:00Z",
                1
            ),
        ])
    );
}

#[test]
fn locations_by_address_without_geoip() {
    let fixture = Fixture::new();
    let locations = enrich(&fixture.sections(), None).locations;
    assert_eq!(
        seen_rows(&locations),
        expected(&[
            (
                "203.0.113.7",
                "2026-11-01T09:30:00Z",
                "2026-11-03T08:00:00Z",
                2
            ),
            (
                "private address (10.0.0.8)",
                "2026-11-02T08:00:00Z",
                "2026-11-02T08:00:00Z",
                1
            ),
        ])
    );
}

#[test]
fn daily_counts_logins_and_usage_only() {
    let fixture = Fixture::new();
    let enriched = enrich(&fixture.sections(), None);
    let daily: Vec<_> = enriched
        .daily
        .iter()
        .map(|day| (day.date.to_string(), day.logins, day.usage))
        .collect();
    assert_eq!(
        daily,
        vec![
            ("2026-11-01".to_owned(), 1, 1),
            ("2026-11-02".to_owned(), 1, 0),
            ("2026-11-03".to_owned(), 1, 0),
            ("2026-11-04".to_owned(), 0, 1),
        ]
    );
    assert_eq!(enriched.daily_note, None);
}

#[test]
fn a_place_with_several_addresses_lists_them() {
    let group = Group {
        label: "Berlin, Germany (203.0.113.9)".to_owned(),
        first: at("2026-11-01T00:00:00Z"),
        last: at("2026-11-02T00:00:00Z"),
        count: 9,
        members: ["203.0.113.7", "203.0.113.8", "203.0.113.9", "203.0.113.10"]
            .map(str::to_owned)
            .into(),
    };
    assert_eq!(
        location_label(&group),
        "Berlin, Germany (203.0.113.10, 203.0.113.7, 203.0.113.8 and 1 more)"
    );
}

#[test]
fn nothing_in_nothing_out() {
    let enriched = enrich(&[], None);
    assert!(enriched.timeline.is_empty() && enriched.devices.is_empty());
    assert!(enriched.daily.is_empty());
    assert_eq!(enriched.undated, 0);
}

#[test]
fn a_later_row_without_a_user_agent_keeps_the_devices_browser() {
    let login_columns = columns(&["time", "user_agent", "device_id"]);
    let logins = rows(&[&[
        Some("2026-11-01 09:00:00+00"),
        Some(CHROME_MAC),
        Some("dev-laptop-7f3a"),
    ]]);
    let payment_columns = columns(&["time", "charge", "device_id"]);
    let payments = rows(&[&[
        Some("2026-11-05 09:00:00+00"),
        Some("ch_1"),
        Some("dev-laptop-7f3a"),
    ]]);
    let sections = [
        SectionRows {
            kind: SectionKind::Logins,
            title: "Logins",
            columns: &login_columns,
            rows: &logins,
        },
        SectionRows {
            kind: SectionKind::Payments,
            title: "Payments",
            columns: &payment_columns,
            rows: &payments,
        },
    ];
    let devices = enrich(&sections, None).devices;
    assert_eq!(devices.len(), 1);
    assert_eq!(
        devices[0].label,
        "Chrome 120 on macOS (desktop), device dev-lapt…"
    );
    assert_eq!(devices[0].count, 2);
    assert_eq!(devices[0].last.to_rfc3339(), "2026-11-05T09:00:00+00:00");
}

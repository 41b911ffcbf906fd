//! GeoIP in evidence packs against real MaxMind database files, written by the test in the
//! GeoLite2 layout and read with the same reader production uses: two cities, a private
//! address and an address the database does not cover; a country-only database; files that
//! are missing or not a database.

mod support;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use sentinel::evidence::enrich::{GeoDb, GeoError, SectionRows, enrich};
use sentinel::evidence::pack::SectionKind;
use support::mmdb::{MmdbWriter, city_record, country_record};

/// 2026-11-24T00:00:00Z.
const BUILT: u64 = 1_795_478_400;

const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                          (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn city_database(dir: &Path) -> PathBuf {
    let mut writer = MmdbWriter::new("GeoLite2-City", BUILT);
    writer.insert("203.0.113.0/24", &city_record("Berlin", "Germany", "DE"));
    writer.insert("198.51.100.0/25", &city_record("Paris", "France", "FR"));
    writer.insert("2001:db8:1::/48", &city_record("Lisbon", "Portugal", "PT"));
    let path = dir.join("GeoLite2-City.mmdb");
    std::fs::write(&path, writer.to_bytes()).unwrap();
    path
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn the_written_file_is_a_valid_database_for_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = city_database(dir.path());
    let reader = maxminddb::Reader::open_readfile(&path).unwrap();
    reader.verify().unwrap();
    assert_eq!(reader.metadata().database_type, "GeoLite2-City");
    assert_eq!(reader.metadata().build_epoch, BUILT);
    let result = reader.lookup(ip("203.0.113.7")).unwrap();
    let city: maxminddb::geoip2::City = result.decode().unwrap().unwrap();
    assert_eq!(city.city.names.english, Some("Berlin"));
    assert_eq!(city.country.iso_code, Some("DE"));
    assert!(!reader.lookup(ip("8.8.8.8")).unwrap().has_data());
}

#[test]
fn public_addresses_get_their_city_and_others_none() {
    let dir = tempfile::tempdir().unwrap();
    let geo = GeoDb::open(&city_database(dir.path())).unwrap();

    let berlin = geo.lookup(ip("203.0.113.7")).unwrap();
    assert_eq!(berlin.label(), "Berlin, Germany");
    assert_eq!(berlin.country_code.as_deref(), Some("DE"));
    assert_eq!(
        geo.lookup(ip("198.51.100.20")).unwrap().label(),
        "Paris, France"
    );
    assert_eq!(
        geo.lookup(ip("2001:db8:1::5")).unwrap().label(),
        "Lisbon, Portugal"
    );
    // Outside the /25 written for Paris.
    assert_eq!(geo.lookup(ip("198.51.100.200")), None);
    assert_eq!(geo.lookup(ip("8.8.8.8")), None);
    assert_eq!(geo.lookup(ip("192.168.1.10")), None);
    assert_eq!(geo.lookup(ip("127.0.0.1")), None);
    assert_eq!(
        geo.note(),
        "Places from GeoLite2-City.mmdb (built 2026-11-24)"
    );
}

#[test]
fn a_pack_groups_locations_by_place() {
    let dir = tempfile::tempdir().unwrap();
    let geo = GeoDb::open(&city_database(dir.path())).unwrap();
    let columns: Vec<String> = ["at", "ip", "user_agent"].map(str::to_owned).into();
    let logins: Vec<Vec<Option<String>>> = [
        ("2026-11-01 08:00:00", "203.0.113.7"),
        ("2026-11-02 08:00:00", "198.51.100.20"),
        ("2026-11-03 08:00:00", "203.0.113.8"),
        ("2026-11-04 08:00:00", "192.168.1.10"),
        ("2026-11-05 08:00:00", "8.8.8.8"),
        ("2026-11-06 08:00:00", "203.0.113.7"),
    ]
    .iter()
    .map(|(at, ip)| {
        vec![
            Some(at.to_string()),
            Some(ip.to_string()),
            Some(CHROME_MAC.into()),
        ]
    })
    .collect();
    let sections = [SectionRows {
        kind: SectionKind::Logins,
        title: "Logins",
        columns: &columns,
        rows: &logins,
    }];

    let enriched = enrich(&sections, Some(&geo));

    let locations: Vec<(&str, usize, String, String)> = enriched
        .locations
        .iter()
        .map(|seen| {
            (
                seen.label.as_str(),
                seen.count,
                seen.first.date_naive().to_string(),
                seen.last.date_naive().to_string(),
            )
        })
        .collect();
    assert_eq!(
        locations,
        vec![
            (
                "Berlin, Germany (203.0.113.7, 203.0.113.8)",
                3,
                "2026-11-01".into(),
                "2026-11-06".into()
            ),
            (
                "Paris, France (198.51.100.20)",
                1,
                "2026-11-02".into(),
                "2026-11-02".into()
            ),
            (
                "private address (192.168.1.10)",
                1,
                "2026-11-04".into(),
                "2026-11-04".into()
            ),
            (
                "place unknown (8.8.8.8)",
                1,
                "2026-11-05".into(),
                "2026-11-05".into()
            ),
        ]
    );
    assert_eq!(
        enriched.timeline[0].text,
        "Login from Berlin, Germany (203.0.113.7), Chrome 120 on macOS"
    );
    assert_eq!(
        enriched.geo_note,
        "Places from GeoLite2-City.mmdb (built 2026-11-24)"
    );
}

#[test]
fn a_country_database_gives_countries() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = MmdbWriter::new("GeoLite2-Country", BUILT);
    writer.insert("203.0.113.0/24", &country_record("Germany", "DE"));
    let path = dir.path().join("GeoLite2-Country.mmdb");
    std::fs::write(&path, writer.to_bytes()).unwrap();
    let geo = GeoDb::open(&path).unwrap();
    assert_eq!(geo.lookup(ip("203.0.113.7")).unwrap().label(), "Germany");
}

#[test]
fn missing_and_foreign_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.mmdb");
    let error = GeoDb::open(&missing).unwrap_err();
    assert!(matches!(error, GeoError::Missing { .. }));
    assert!(error.to_string().contains("nowhere.mmdb"), "{error}");

    let text = dir.path().join("GeoLite2-City.mmdb");
    std::fs::write(&text, "this is a text file, not a database\n").unwrap();
    let error = GeoDb::open(&text).unwrap_err();
    assert!(matches!(error, GeoError::NotMmdb { .. }));
    assert!(error.to_string().contains("GeoLite2-City.mmdb"), "{error}");
}

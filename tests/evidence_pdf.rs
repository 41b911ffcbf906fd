//! The evidence pack rendered to PDF and read back with poppler (`pdftotext`, `pdfinfo`,
//! `pdftoppm`): a realistic pack shows its dispute, customer, sections, missing data, footers
//! and sources; a pack far too large for Stripe is cut to the page limit and says so. With
//! `SENTINEL_WRITE_README_PNG=1` the realistic pack's first page is saved as
//! `docs/evidence-pack.png`.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sentinel::evidence::ce3::{self, ElementKind, Elements, SchemaCoverage, Transaction};
use sentinel::evidence::pack::{
    Customer, DayCount, DisputeFacts, Pack, QuerySource, Section, SectionKind, SectionOutcome,
    Seen, Table, Timeline, TimelineEntry,
};
use sentinel::evidence::pdf::{MAX_PAGES, render};

const DISPUTE_ID: &str = "dp_1QxYz2EvidenceTest";
const EMAIL: &str = "zoe.angstrom@example.se";
const LOGINS_QUERY: &str =
    "SELECT created_at, ip, user_agent FROM logins WHERE user_id = :customer ORDER BY created_at";
const MISSING_REASON: &str = "the query failed: no such table: email_verifications";

/// Whether poppler's tools are here; without them the test is skipped, unless CI asked for
/// them with `SENTINEL_REQUIRE_POPPLER`.
fn poppler_present() -> bool {
    let present = Command::new("pdftotext").arg("-v").output().is_ok();
    if !present {
        assert!(
            std::env::var_os("SENTINEL_REQUIRE_POPPLER").is_none(),
            "SENTINEL_REQUIRE_POPPLER is set but pdftotext is missing: apt-get install poppler-utils"
        );
        eprintln!("skipped: pdftotext not found (apt-get install poppler-utils)");
    }
    present
}

fn disputed_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 15, 30, 0).unwrap()
}

fn transaction(charge: &str, days_before: i64, disputed: bool) -> Transaction {
    Transaction {
        charge: charge.into(),
        at: disputed_at() - Duration::days(days_before),
        payment_method: "card_fp_1".into(),
        paid: true,
        disputed,
        elements: Elements {
            ip: Some("203.0.113.7".into()),
            email: Some(EMAIL.into()),
            ..Elements::default()
        },
        product_description: Some("Pro plan".into()),
    }
}

fn verdict() -> ce3::Ce3Verdict {
    let history = [
        transaction("ch_prior_130", 130, false),
        transaction("ch_prior_300", 300, false),
        transaction("ch_recent_30", 30, false),
    ];
    let schema = SchemaCoverage {
        has: [ElementKind::Ip, ElementKind::Email].into_iter().collect(),
    };
    let verdict = ce3::judge(
        Some("10.4"),
        &transaction("ch_disputed", 0, true),
        &history,
        &schema,
    );
    assert!(verdict.qualifies, "{verdict:?}");
    verdict
}

fn section(title: &str, kind: SectionKind, query: &str, outcome: SectionOutcome) -> Section {
    Section {
        name: title.to_lowercase(),
        title: title.into(),
        kind,
        source: QuerySource {
            source: "app".into(),
            query: query.into(),
        },
        outcome,
    }
}

fn table(
    columns: &[&str],
    rows: Vec<Vec<String>>,
    total_rows: usize,
    omitted: Option<&str>,
) -> SectionOutcome {
    SectionOutcome::Rows(Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
        total_rows,
        omitted: omitted.map(str::to_owned),
    })
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 21, 8, 0, 0).unwrap()
}

fn login_rows(count: usize) -> Vec<Vec<String>> {
    (0..count)
        .map(|i| {
            vec![
                (start() + Duration::hours(i as i64 * 5)).format("%Y-%m-%d %H:%M").to_string(),
                format!("203.0.113.{}", i % 250),
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15".into(),
            ]
        })
        .collect()
}

fn timeline(count: usize) -> Vec<TimelineEntry> {
    (0..count)
        .map(|i| TimelineEntry {
            at: start() + Duration::minutes(i as i64 * 37),
            kind: if i % 3 == 0 { SectionKind::Logins } else { SectionKind::Usage },
            text: if i == 7 {
                // Characters DejaVu Sans lacks: drawn as its placeholder, never a panic.
                "Exported report “季度报告” 🙂 from Stockholm".into()
            } else {
                format!("Login from Stockholm, Sweden (203.0.113.{}), Safari 17 on macOS; opened project #{i}", i % 250)
            },
        })
        .collect()
}

fn seen(label: String, count: usize) -> Seen {
    Seen {
        label,
        first: start(),
        last: start() + Duration::days(58),
        count,
    }
}

fn realistic_pack() -> Pack {
    let first_day = NaiveDate::from_ymd_opt(2026, 9, 21).unwrap();
    Pack {
        generated_at: Utc.with_ymd_and_hms(2026, 11, 22, 9, 15, 0).unwrap(),
        customer: Customer {
            id: "cus_8842".into(),
            email: Some(EMAIL.into()),
            name: Some("Zoë Ångström".into()),
        },
        dispute: Some(DisputeFacts {
            id: DISPUTE_ID.into(),
            charge: "ch_disputed".into(),
            amount_minor: 4900,
            currency: "eur".into(),
            reason: "fraudulent".into(),
            network_reason_code: Some("10.4".into()),
            evidence_due_by: Some(Utc.with_ymd_and_hms(2026, 12, 1, 23, 59, 0).unwrap()),
            status: "needs_response".into(),
        }),
        summary: "Zoë Ångström signed up on 2025-06-02 with this email address, verified it the same day, and has logged in 412 times from the same Mac in Stockholm, including 21 times in the week before and after the disputed charge. She created 38 projects and exported 12 reports after paying. Two earlier charges on the same card, paid and never disputed, came from the same IP address and email.".into(),
        ce3: Some(verdict()),
        sections: vec![
            section("Profile", SectionKind::Profile, "SELECT id, email, name, created_at FROM users WHERE id = :customer",
                table(&["id", "email", "name", "created_at"], vec![vec!["cus_8842".into(), EMAIL.into(), "Zoë Ångström".into(), "2025-06-02 10:11".into()]], 1, None)),
            section("Email verification", SectionKind::Verification, "SELECT verified_at FROM email_verifications WHERE user_id = :customer",
                SectionOutcome::Missing { reason: MISSING_REASON.into() }),
            section("Logins", SectionKind::Logins, LOGINS_QUERY,
                table(&["created_at", "ip", "user_agent"], login_rows(40), 412, Some("372 logins between 2026-09-29 and 2026-11-19 left out: see the daily counts"))),
            section("Payments", SectionKind::Payments, &format!("SELECT id, created, amount, status, card_fingerprint, description FROM charges WHERE customer = :customer AND created > :since {}", "AND status IN ('succeeded', 'refunded', 'disputed') ".repeat(4)),
                table(&["id", "created", "amount", "status"], vec![
                    vec!["ch_prior_300".into(), "2026-01-24 15:30".into(), "€49.00".into(), "succeeded".into()],
                    vec!["ch_prior_130".into(), "2026-07-13 15:30".into(), "€49.00".into(), "succeeded".into()],
                    vec!["ch_disputed".into(), "2026-11-20 15:30".into(), "€49.00".into(), "disputed".into()],
                ], 3, None)),
        ],
        devices: vec![seen("Safari 17 on macOS (desktop), device 3f2a9c".into(), 380), seen("Mobile Safari on iOS (phone)".into(), 32)],
        locations: vec![seen("Stockholm, Sweden (203.0.113.7)".into(), 401), seen("Uppsala, Sweden (198.51.100.4)".into(), 11)],
        geo_note: "Places from the configured GeoIP database (GeoLite2 City).".into(),
        timeline: Timeline {
            entries: timeline(300),
            omitted: Some("112 usage events before 2026-09-21 are counted in the daily chart only.".into()),
        },
        daily: (0..60)
            .map(|i| DayCount {
                date: first_day + Duration::days(i),
                logins: (i as usize * 7) % 9,
                usage: (i as usize * 13) % 23,
            })
            .collect(),
        left_out: vec!["372 logins older than the last 40 (daily counts kept).".into()],
    }
}

fn write_pdf(pack: &Pack, dir: &Path) -> PathBuf {
    let bytes = render(pack).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let path = dir.join("evidence.pdf");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The standard output of a poppler tool that must succeed.
fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pdf_text(path: &Path) -> String {
    poppler(
        "pdftotext",
        &["-layout".as_ref(), path.as_os_str(), "-".as_ref()],
    )
}

fn page_count(path: &Path) -> usize {
    poppler("pdfinfo", &[path.as_os_str()])
        .lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn render_first_page(pdf: &Path, dpi: u32, prefix: &Path) -> PathBuf {
    let status = Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            &dpi.to_string(),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
        ])
        .arg(pdf)
        .arg(prefix)
        .status()
        .unwrap();
    assert!(status.success());
    prefix.with_extension("png")
}

#[test]
fn a_realistic_pack_reads_back_with_its_facts_and_footers() {
    if !poppler_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pack = realistic_pack();
    let pdf = write_pdf(&pack, dir.path());
    let text = pdf_text(&pdf);
    let pages = page_count(&pdf);
    assert!((3..=MAX_PAGES).contains(&pages), "{pages} pages");
    for expected in [
        "Chargeback evidence",
        DISPUTE_ID,
        "€49.00",
        "10.4",
        EMAIL,
        "Zoë Ångström",
        "Qualifies for CE 3.0",
        "ch_prior_130",
        "ch_prior_300",
        &format!("Missing: {MISSING_REASON}"),
        "372 logins between 2026-09-29 and 2026-11-19",
        "Devices",
        "Locations",
        "Activity per day",
        "per UTC day (60 days)",
        "Timeline",
        "Left out",
        "Appendix: sources",
        LOGINS_QUERY,
        "2026-09-21 08:00 UTC",
        &format!("Page 1 of {pages}"),
        &format!("Page {pages} of {pages}"),
        "Generated 2026-11-22T09:15:00Z by Sentinel",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    for section in &pack.sections {
        assert!(text.contains(&section.title), "{} missing", section.title);
    }
    assert!(
        !text.contains("left out: page limit"),
        "nothing should be cut:\n{text}"
    );
    let png = render_first_page(&pdf, 60, &dir.path().join("page1"));
    let size = std::fs::metadata(&png).unwrap().len();
    assert!(size > 10_000, "page 1 rendered to only {size} bytes");
    if std::env::var_os("SENTINEL_WRITE_README_PNG").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        let readme_png = render_first_page(&pdf, 80, &docs.join("evidence-pack"));
        eprintln!("wrote {}", readme_png.display());
    }
}

#[test]
fn without_a_dispute_the_cover_says_it_is_an_activity_record() {
    if !poppler_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pack = Pack {
        dispute: None,
        ce3: None,
        ..realistic_pack()
    };
    let text = pdf_text(&write_pdf(&pack, dir.path()));
    assert!(
        text.contains("No dispute given: customer activity record"),
        "{text}"
    );
    assert!(!text.contains(DISPUTE_ID));
}

#[test]
fn a_pack_too_large_for_stripe_is_cut_to_the_page_limit() {
    if !poppler_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut pack = realistic_pack();
    pack.timeline.entries = timeline(100_000);
    let huge_rows = login_rows(20_000);
    for section in &mut pack.sections {
        if let SectionOutcome::Rows(table) = &mut section.outcome {
            table.columns = ["created_at", "ip", "user_agent"]
                .map(str::to_owned)
                .to_vec();
            table.rows = huge_rows.clone();
            table.total_rows = huge_rows.len();
        }
    }
    pack.devices = (0..5_000)
        .map(|i| seen(format!("Device {i}: Chrome 120 on Windows 11"), i))
        .collect();
    pack.locations = (0..5_000)
        .map(|i| seen(format!("Town {i}, Sweden (198.51.100.{})", i % 250), i))
        .collect();
    let pdf = write_pdf(&pack, dir.path());
    let pages = page_count(&pdf);
    let bytes = std::fs::metadata(&pdf).unwrap().len();
    assert!(pages <= MAX_PAGES, "{pages} pages");
    assert!(bytes < 4_500_000, "{bytes} bytes");
    let text = pdf_text(&pdf);
    assert!(
        text.contains("further timeline entries left out: page limit"),
        "{text}"
    );
    assert!(text.contains("further rows of Logins left out: page limit"));
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    assert!(
        text.contains("Appendix: sources"),
        "the sources still fit after the cut"
    );
}

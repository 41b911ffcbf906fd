//! `sentinel backtest` over a week of log files, read again by the lines' own timestamps: an
//! app log rotated twice (`app.log`, `app.log.1`, `app.log.2.gz`) full of old recurring errors
//! and, from day 5, a new one; an nginx access log with a scanner storm and a real fault (a route
//! answering a malformed id with 500, the API's log saying why). Exactly the new error and the
//! fault page; a period that begins before the oldest line is a gap; `--learned-before` moves
//! where learning ends.

mod support;

use assert_cmd::Command;
use chrono::{DateTime, Duration, DurationRound, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use support::{sentinel_bin, write_config};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const NEW_ERROR: &str = "disk quota exceeded writing /var/uploads/invoice";
const UNTIMED: usize = 5;

/// The week the logs cover: day 0 starts at `start`.
struct Week {
    start: DateTime<Utc>,
}

impl Week {
    fn new() -> Self {
        let start = (Utc::now() - Duration::days(8))
            .duration_trunc(Duration::hours(1))
            .unwrap();
        Self { start }
    }

    fn day(&self, day: i64) -> DateTime<Utc> {
        self.start + Duration::days(day)
    }

    /// When the new error first occurs: day 5, 10:00 after the start of the day.
    fn new_error_begins(&self) -> DateTime<Utc> {
        self.day(5) + Duration::hours(10)
    }

    /// When the malformed id starts failing: day 6, 14:00 after the start of the day.
    fn fault_begins(&self) -> DateTime<Utc> {
        self.day(6) + Duration::hours(14)
    }
}

/// The app's log lines from `from` to `to`: info lines, two old errors every half hour (one
/// with a stack trace), and the new error every two minutes for twenty minutes once it began.
fn app_lines(week: &Week, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut at = from;
    let mut n = 0;
    while at < to {
        let stamp = at.format("%Y-%m-%dT%H:%M:%SZ");
        lines.push(format!("{stamp} INFO served {n} requests"));
        if n % 3 == 0 {
            lines.push(format!(
                "{stamp} ERROR payment gateway timeout after 30000ms (order {n})"
            ));
            lines.push(format!(
                "{stamp} ERROR NullPointerException in ReportJob.run"
            ));
            lines.push("    at com.shop.ReportJob.run(ReportJob.java:42)".to_string());
            lines.push("    at java.base/java.lang.Thread.run(Thread.java:1583)".to_string());
        }
        let since_new = at - week.new_error_begins();
        if since_new >= Duration::zero() && since_new < Duration::minutes(20) {
            lines.push(format!("{stamp} ERROR {NEW_ERROR}-{n}.pdf"));
        }
        at += if since_new >= Duration::zero() && since_new < Duration::minutes(20) {
            Duration::minutes(2)
        } else {
            Duration::minutes(10)
        };
        n += 1;
    }
    lines
}

/// A line in nginx's `combined` format.
fn nginx(client: &str, at: DateTime<Utc>, request: &str, status: u16, agent: &str) -> String {
    format!(
        "{client} - - [{}] \"{request} HTTP/1.1\" {status} 512 \"-\" \"{agent}\"",
        at.format("%d/%b/%Y:%H:%M:%S %z")
    )
}

fn uuid_like(i: i64) -> String {
    format!("{:08x}-4b1c-4d2e-9f3a-{:012x}", 0x1234_0000 + i, 0xabc0 + i)
}

/// The access log and the API's log: normal traffic all week, a scanner storm of 404s on day
/// 3, and on day 6 a malformed order id answered with 500 while the API logs PostgreSQL's
/// refusal of it.
fn access_and_api_lines(week: &Week) -> (Vec<String>, Vec<String>) {
    let mut access = Vec::new();
    let mut api = vec![format!(
        "{} INFO api started",
        week.day(0).format("%Y-%m-%dT%H:%M:%SZ")
    )];
    let storm = week.day(3) + Duration::hours(2);
    let mut scanner_sent = false;
    let mut fault_sent = false;
    let mut at = week.day(0);
    let mut i = 0;
    while at < week.day(7) {
        let client = format!("203.0.113.{}", i % 20 + 1);
        let request = match i % 3 {
            0 => format!("GET /orders/{}", uuid_like(i)),
            1 => "GET /".to_string(),
            _ => "GET /static/app.css".to_string(),
        };
        access.push(nginx(&client, at, &request, 200, BROWSER));
        if !scanner_sent && at >= storm {
            scanner_sent = true;
            let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
            for probe in 0..400 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let path = format!("/{:x}/{:x}.php", seed, seed.rotate_left(17));
                access.push(nginx(
                    "192.0.2.66",
                    at + Duration::milliseconds(200 * probe),
                    &format!("GET {path}"),
                    404,
                    "Mozilla/5.0 zgrab/0.x",
                ));
            }
        }
        if !fault_sent && at >= week.fault_begins() {
            fault_sent = true;
            for k in 0..5 {
                let failed = at + Duration::seconds(10 * k + 5);
                api.push(format!(
                    "{} ERROR request_id=req{k} GET /orders/abc-123: error returned from database: invalid input syntax for type uuid: \"abc-123\" (SQLSTATE 22P02)",
                    failed.to_rfc3339()
                ));
                access.push(nginx(
                    &format!("198.51.100.{}", k + 1),
                    failed,
                    "GET /orders/abc-123?expand=items",
                    500,
                    BROWSER,
                ));
            }
        }
        at += Duration::minutes(3);
        i += 1;
    }
    (access, api)
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn write_gzipped(path: &Path, lines: &[String]) {
    let mut encoder = GzEncoder::new(std::fs::File::create(path).unwrap(), Compression::fast());
    encoder
        .write_all((lines.join("\n") + "\n").as_bytes())
        .unwrap();
    encoder.finish().unwrap();
}

/// The logs of the week and a configuration with both watches.
fn setup(dir: &Path, week: &Week) -> std::path::PathBuf {
    write_gzipped(
        &dir.join("app.log.2.gz"),
        &app_lines(week, week.day(0), week.day(2)),
    );
    write_lines(
        &dir.join("app.log.1"),
        &app_lines(week, week.day(2), week.day(4)),
    );
    let mut current = vec!["worker pool starting".to_string(); UNTIMED];
    current.extend(app_lines(week, week.day(4), week.day(7)));
    write_lines(&dir.join("app.log"), &current);
    let (access, api) = access_and_api_lines(week);
    write_lines(&dir.join("access.log"), &access);
    write_lines(&dir.join("api.log"), &api);
    write_config(
        dir,
        &format!(
            "[store]\npath = \"{dir}/s.db\"\n\
             [watches.app]\nkind = \"new_error\"\ndescription = \"Shop app\"\npath = \"{dir}/app.log\"\nmin_count = 3\nwindow = \"1h\"\ninterval = \"5m\"\n\
             [watches.api]\nkind = \"error_class\"\ndescription = \"Shop API\"\npath = \"{dir}/access.log\"\napp_log = \"{dir}/api.log\"\nmin_count = 3\nwindow = \"10m\"\ninterval = \"5m\"\n",
            dir = dir.display()
        ),
    )
}

/// What `sentinel backtest` prints for `from`..`to` with `extra` arguments.
fn backtest(config: &Path, from: DateTime<Utc>, to: DateTime<Utc>, extra: &[&str]) -> String {
    let out = Command::new(sentinel_bin())
        .arg("backtest")
        .args(["--from", &from.to_rfc3339(), "--to", &to.to_rfc3339()])
        .args(extra)
        .arg("--config")
        .arg(config)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// The outcome of the backtest as JSON.
fn backtest_json(config: &Path, from: DateTime<Utc>, to: DateTime<Utc>, extra: &[&str]) -> Value {
    let extra: Vec<&str> = extra.iter().copied().chain(["--json"]).collect();
    serde_json::from_str(&backtest(config, from, to, &extra)).unwrap()
}

fn at(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .to_utc()
}

fn notes_of<'a>(outcome: &'a Value, watch: &str) -> Vec<&'a Value> {
    outcome["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|note| note["watch"] == watch)
        .collect()
}

#[test]
fn a_week_of_rotated_logs_pages_the_new_error_and_the_fault_only() {
    let dir = tempfile::tempdir().unwrap();
    let week = Week::new();
    let config = setup(dir.path(), &week);
    let outcome = backtest_json(&config, week.day(1), week.day(7), &[]);
    assert_eq!(outcome["skipped"], serde_json::json!([]), "{outcome:#}");
    let pages = outcome["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2, "{pages:#?}");

    let new_error = pages.iter().find(|p| p["watch"] == "app").unwrap();
    assert!(
        new_error["title"]
            .as_str()
            .unwrap()
            .contains("disk quota exceeded"),
        "{new_error}"
    );
    let paged = at(&new_error["at"]);
    assert!(
        paged >= week.new_error_begins() && paged <= week.new_error_begins() + Duration::hours(1),
        "the new error paged {} after it began",
        paged - week.new_error_begins()
    );

    let fault = pages.iter().find(|p| p["watch"] == "api").unwrap();
    assert!(
        fault["title"].as_str().unwrap().contains("/orders/:uuid"),
        "{fault}"
    );
    let paged = at(&fault["at"]);
    assert!(
        paged >= week.fault_begins() && paged <= week.fault_begins() + Duration::minutes(15),
        "the fault paged {} after it began",
        paged - week.fault_begins()
    );

    assert_eq!(
        outcome["blind_evaluations"].as_u64(),
        Some(0),
        "{outcome:#}"
    );
    let app_notes = notes_of(&outcome, "app");
    assert!(
        app_notes.iter().all(|note| note["gap"] == false),
        "the files cover the period: {app_notes:#?}"
    );
    assert!(
        app_notes.iter().any(|note| {
            let text = note["note"].as_str().unwrap();
            text.contains("app.log:")
                && text.contains(&format!("{UNTIMED} lines without a readable time"))
        }),
        "the untimed lines are counted, the stack frames are not: {app_notes:#?}"
    );
}

#[test]
fn a_period_starting_before_the_oldest_line_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let week = Week::new();
    let config = setup(dir.path(), &week);
    let text = backtest(
        &config,
        week.day(0) - Duration::hours(6),
        week.day(0) + Duration::hours(6),
        &["--watch", "app"],
    );
    assert!(
        text.contains("gap app: ")
            && text.contains("app.log.2.gz starts")
            && text.contains("after --from"),
        "{text}"
    );
}

#[test]
fn learning_ends_where_the_watch_was_said_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let week = Week::new();
    let config = setup(dir.path(), &week);
    // Running since before the oldest line: nothing was learned, so the errors written
    // before --from are as new as any, and they page when the replay starts.
    let first_hour = (week.day(1), week.day(1) + Duration::hours(1));
    let long_before = (week.day(0) - Duration::days(1)).to_rfc3339();
    let outcome = backtest_json(
        &config,
        first_hour.0,
        first_hour.1,
        &["--watch", "app", "--learned-before", &long_before],
    );
    let pages = outcome["pages"].as_array().unwrap();
    assert!(
        pages
            .iter()
            .any(|p| p["watch"] == "app" && at(&p["at"]) <= week.day(1) + Duration::minutes(5)),
        "{pages:#?}"
    );
    // Learning until --from (the default): the same hour pages nothing.
    let outcome = backtest_json(&config, first_hour.0, first_hour.1, &["--watch", "app"]);
    assert_eq!(outcome["pages"], serde_json::json!([]), "{outcome:#}");
}

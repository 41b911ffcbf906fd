//! A fault that begins soon after `new_error` is first attached still pages: what the log held
//! when attached is learned, everything written afterwards is judged from the first minute.
//!
//! A log already holds a week of recurring errors when the watch is attached. The same new
//! fault then begins 1, 10 or 50 minutes later (one run each, with a store of its own) and
//! pages within `window` of its start, while the old errors keep occurring, often enough to
//! page were they new, and never page. Once with a real file, once with Loki (an in-process
//! fake of its HTTP API, as in `new_error_feeds.rs`).

mod support;

use chrono::{DateTime, Duration, Utc};
use sentinel::clock::ManualClock;
use sentinel::config::Config;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use support::fake_loki::FakeLoki;

/// Minutes after attachment at which the fault begins, one run each.
const FAULT_STARTS: [i64; 3] = [1, 10, 50];
/// The watch's `window` (the default).
const WINDOW_MINUTES: i64 = 10;

/// The old errors, as the app writes them at minute `n`: each one recurs every few minutes.
fn old_errors(n: i64) -> Vec<String> {
    let mut errors = Vec::new();
    if n % 3 == 0 {
        errors.push(format!(
            "ERROR payment gateway timeout after 30000ms (order {})",
            4700 + n
        ));
    }
    if n % 4 == 0 {
        errors.push(format!(
            "ERROR redis connection reset by peer on shard {}",
            n.rem_euclid(5)
        ));
    }
    if n % 5 == 0 {
        errors.push(format!(
            "ERROR mail bounced for customer {}: mailbox full",
            n.rem_euclid(97)
        ));
    }
    errors
}

/// The new fault, as written at minute `n`.
fn fault(n: i64) -> String {
    format!("ERROR invalid input syntax for type uuid: \"a{n}x\" (GET /orders/a{n}x)")
}

/// What the app writes at minute `n` (minutes from attachment), the fault from `fault_from` on.
fn minute_of_log(n: i64, fault_from: Option<i64>) -> Vec<String> {
    let mut lines = vec![format!(
        "INFO request GET /products/{} 200",
        n.rem_euclid(17)
    )];
    lines.extend(old_errors(n));
    if fault_from.is_some_and(|from| n >= from) {
        lines.push(fault(n));
    }
    lines
}

/// A week of minutes before attachment, the first 20 of every hour (the old errors recur all
/// week long).
fn week_before() -> impl Iterator<Item = i64> {
    (-7 * 24 * 60..0i64).filter(|n| n.rem_euclid(60) < 20)
}

/// Drives the watch one pass per simulated minute from attachment until `window` after the
/// fault began, writing each minute's lines with `write` first; returns the minute the fault
/// paged, asserting nothing else ever did.
async fn minute_of_first_page(
    config: &Config,
    attached: DateTime<Utc>,
    fault_from: i64,
    write: &dyn Fn(i64, Vec<String>),
) -> Option<i64> {
    let clock = Arc::new(ManualClock::new(attached));
    let pages = Arc::new(Mutex::new(Vec::new()));
    let report = support::engine_pass_at(config, &pages, clock.clone()).await;
    assert_eq!((report.blind, report.firing), (0, 0), "{report:?}");
    let mut paged_at = None;
    for n in 1..=fault_from + WINDOW_MINUTES {
        write(n, minute_of_log(n, Some(fault_from)));
        clock.set(attached + Duration::minutes(n));
        let report = support::engine_pass_at(config, &pages, clock.clone()).await;
        assert_eq!(report.blind, 0, "{report:?}");
        let titles = support::new_error_titles(&pages);
        assert!(
            titles.iter().all(|t| t.contains("invalid input syntax")),
            "an old error paged at minute {n}: {titles:#?}"
        );
        if paged_at.is_none() && !titles.is_empty() {
            paged_at = Some(n);
        }
    }
    paged_at
}

fn assert_paged_within_window(paged_at: Option<i64>, fault_from: i64) {
    let Some(paged_at) = paged_at else {
        panic!("a fault beginning {fault_from} min after attachment never paged");
    };
    assert!(
        paged_at - fault_from <= WINDOW_MINUTES,
        "a fault beginning at minute {fault_from} paged only at minute {paged_at}"
    );
}

fn parse(dir: &Path, watch: &str) -> Config {
    let text = format!(
        "[store]\npath = \"{dir}/s.db\"\n\n[watches.app-errors]\nkind = \"new_error\"\ndescription = \"app log\"\n{watch}\n",
        dir = dir.display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

#[tokio::test]
async fn a_fault_beginning_after_attachment_pages_however_soon_in_a_file() {
    for fault_from in FAULT_STARTS {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let attached = Utc::now();
        let stamp = |n: i64| (attached + Duration::minutes(n)).format("%Y-%m-%dT%H:%M:%SZ");
        let week: String = week_before()
            .flat_map(|n| minute_of_log(n, None).into_iter().map(move |l| (n, l)))
            .map(|(n, line)| format!("{} {line}\n", stamp(n)))
            .collect();
        std::fs::write(&log, week).unwrap();
        let config = parse(dir.path(), &format!("path = \"{}\"", log.display()));

        let append = |n: i64, lines: Vec<String>| {
            let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            for line in lines {
                writeln!(file, "{} {line}", stamp(n)).unwrap();
            }
        };
        let paged_at = minute_of_first_page(&config, attached, fault_from, &append).await;
        assert_paged_within_window(paged_at, fault_from);
    }
}

#[tokio::test]
async fn a_fault_beginning_after_attachment_pages_however_soon_on_loki() {
    for fault_from in FAULT_STARTS {
        let (loki, address) = FakeLoki::serve();
        let dir = tempfile::tempdir().unwrap();
        // Attached in the past, so every minute of the run is already past for the tail.
        let attached = Utc::now() - Duration::hours(2);
        let push = |n: i64, lines: Vec<String>| {
            for (i, line) in lines.iter().enumerate() {
                let at = attached + Duration::minutes(n) + Duration::milliseconds(i as i64);
                loki.push(&[("app", "shop")], at, line);
            }
        };
        for n in week_before() {
            push(n, minute_of_log(n, None));
        }
        let config = parse(
            dir.path(),
            &format!(
                "source = \"loki\"\nquery = '{{app=\"shop\"}}'\nhistory = \"7d\"\n\n[sources.loki]\nkind = \"loki\"\nurl = \"http://{address}\""
            ),
        );
        let paged_at = minute_of_first_page(&config, attached, fault_from, &push).await;
        assert_paged_within_window(paged_at, fault_from);
    }
}

#[tokio::test]
async fn a_log_that_did_not_exist_when_attached_is_judged_whole_once_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = parse(dir.path(), &format!("path = \"{}\"", log.display()));
    let attached = Utc::now();
    let clock = Arc::new(ManualClock::new(attached));
    let pages = Arc::new(Mutex::new(Vec::new()));
    let report = support::engine_pass_at(&config, &pages, clock.clone()).await;
    assert_eq!(report.blind, 1, "no file yet: {report:?}");

    // The app's first run, two minutes later, fails from its first request on.
    let lines: String = (2..5).map(|n| format!("{}\n", fault(n))).collect();
    std::fs::write(&log, lines).unwrap();
    clock.set(attached + Duration::minutes(5));
    let report = support::engine_pass_at(&config, &pages, clock.clone()).await;
    assert_eq!((report.blind, report.firing), (0, 1), "{report:?}");
    let titles = support::new_error_titles(&pages);
    assert!(titles[0].contains("invalid input syntax"), "{titles:#?}");
}

/// Everything logged at info and above while the guard lives, as text.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn start(&self) -> tracing::subscriber::DefaultGuard {
        let log = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || log.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn the_log_says_once_what_was_learned_from_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let held: String = (0..12)
        .flat_map(|n| minute_of_log(n - 60, None))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&log, held).unwrap();
    let config = parse(dir.path(), &format!("path = \"{}\"", log.display()));
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let pages = Arc::new(Mutex::new(Vec::new()));
    let captured = CapturedLog::default();
    let _guard = captured.start();

    support::engine_pass_at(&config, &pages, clock.clone()).await;
    let said = format!(
        "new_error app-errors: learned 3 templates from what {} held when attached; every new template from now on is judged",
        log.display()
    );
    assert_eq!(
        captured.text().matches(&said).count(),
        1,
        "{}",
        captured.text()
    );

    // A restart neither learns nor says it again.
    support::engine_pass_at(&config, &pages, clock.clone()).await;
    assert_eq!(
        captured.text().matches("learned").count(),
        1,
        "{}",
        captured.text()
    );
}

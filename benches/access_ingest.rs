//! Access-log ingest throughput for the `error_class` watch: generates a deterministic nginx
//! combined log (normal traffic, scanner bursts, a short database outage, and 500s on malformed
//! order ids with matching PostgreSQL 22P02 app errors), then times parse-only and
//! parse + classify passes over it, line by line through a `BufReader`, and checks that the
//! planted route pages while scanner and outage routes do not.
//!
//! Run with `cargo bench --bench access_ingest`; `SENTINEL_BENCH_BYTES` sets the log size
//! (default 1 GB).

use chrono::{DateTime, Duration, TimeZone, Utc};
use sentinel::logs::access::{AccessFormat, parse_access_line};
use sentinel::watch::error_class::core::{ErrorClassConfig, ErrorClassifier, ErrorEvent};
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

const DEFAULT_BYTES: u64 = 1 << 30;
const PLANTED_ROUTE: &str = "/orders/:uuid";
const OUTAGE_ROUTE: &str = "/api/v1/reports";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    fn word(&mut self, len: usize) -> String {
        const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len)
            .map(|_| ALPHA[self.below(ALPHA.len() as u64) as usize] as char)
            .collect()
    }
}

const UAS: &[&str] = &[
    r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"#,
    r#"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1"#,
    r#"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"#,
    r#"okhttp/4.12.0"#,
    r#"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) \"Safari\"/605.1.15"#,
];

const PROBES: &[&str] = &[
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/xmlrpc.php",
    "/.env",
    "/.git/config",
    "/phpmyadmin/index.php",
    "/.aws/credentials",
    "/actuator/env",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci",
    "/server-status",
    "/config.php",
];

struct Planted {
    lines: u64,
    bytes: u64,
    malformed: u64,
    scanner: u64,
    outage: u64,
}

fn clf(t: DateTime<Utc>) -> String {
    t.format("%d/%b/%Y:%H:%M:%S +0000").to_string()
}

/// One request as nginx logs it with `log_format main '$remote_addr - $remote_user
/// [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
/// $request_time "$request_id"'`.
struct Req<'a> {
    client: &'a str,
    time: &'a str,
    method: &'a str,
    target: &'a str,
    status: u16,
    bytes: u64,
    ua: &'a str,
    rt_ms: u64,
    id: &'a str,
}

fn line(out: &mut impl Write, r: &Req) -> std::io::Result<u64> {
    let text = format!(
        "{} - - [{}] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\" {}.{:03} \"{}\"\n",
        r.client,
        r.time,
        r.method,
        r.target,
        r.status,
        r.bytes,
        r.ua,
        r.rt_ms / 1000,
        r.rt_ms % 1000,
        r.id
    );
    out.write_all(text.as_bytes())?;
    Ok(text.len() as u64)
}

fn generate(access: &Path, app: &Path, target: u64) -> std::io::Result<Planted> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(access)?);
    let mut errors = BufWriter::new(File::create(app)?);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let orders: Vec<String> = (0..5000).map(|_| rng.uuid()).collect();
    let clients: Vec<String> = (0..3000)
        .map(|i| {
            if i % 10 == 0 {
                format!("2001:db8:{:x}::{:x}", i / 256, i % 256)
            } else {
                format!(
                    "{}.{}.{}.{}",
                    10 + i % 200,
                    (i * 7) % 256,
                    (i * 13) % 256,
                    i % 250 + 1
                )
            }
        })
        .collect();
    let start = Utc
        .with_ymd_and_hms(2024, 3, 5, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut p = Planted {
        lines: 0,
        bytes: 0,
        malformed: 0,
        scanner: 0,
        outage: 0,
    };
    let mut ms: i64 = 0;
    let mut seq: u64 = 0;
    let mut last_sec = -1;
    let mut time = String::new();
    while p.bytes < target {
        ms += 1 + rng.below(9) as i64; // ~200 requests/s
        let now = start + Duration::milliseconds(ms);
        if ms / 1000 != last_sec {
            last_sec = ms / 1000;
            time = clf(now);
        }
        seq += 1;
        let id = format!("{seq:016x}{:016x}", rng.next());
        let client = &clients[rng.below(clients.len() as u64) as usize];
        let ua = UAS[rng.below(UAS.len() as u64) as usize];
        let minute = ms / 60_000;

        // Two minutes in every seven: a few 500s on malformed order ids (PostgreSQL 22P02).
        if seq.is_multiple_of(5000) && minute % 7 < 2 {
            let bad =
                ["abc", "undefined", "null", "12345", "%7Border_id%7D"][rng.below(5) as usize];
            let target = format!("/orders/{bad}?expand=items");
            p.bytes += line(
                &mut out,
                &Req {
                    client,
                    time: &time,
                    method: "GET",
                    target: &target,
                    status: 500,
                    bytes: 21,
                    ua,
                    rt_ms: 4,
                    id: &id,
                },
            )?;
            writeln!(
                errors,
                r#"{{"time":"{}","level":"error","request_id":"{id}","msg":"query failed: error returned from database: invalid input syntax for type uuid: \"{bad}\" (SQLSTATE 22P02)"}}"#,
                now.to_rfc3339()
            )?;
            p.malformed += 1;
            p.lines += 1;
            continue;
        }
        // One minute in every twenty a scanner sweeps ~3000 paths, some of them answered 500.
        if minute % 20 == 3 && seq.is_multiple_of(40) {
            let scanner = format!("185.220.{}.{}", minute % 200, (minute / 200) % 250 + 1);
            for k in 0..10 {
                let (path, status) = match rng.below(4) {
                    0 => (
                        PROBES[rng.below(PROBES.len() as u64) as usize].to_string(),
                        404,
                    ),
                    1 => (format!("/{}", rng.word(10)), 404),
                    2 => (format!("/orders/{}", rng.word(6)), 500),
                    _ => (
                        format!("/{}/{}.php", rng.word(5), rng.word(8)),
                        if k % 3 == 0 { 500 } else { 404 },
                    ),
                };
                let sid = format!("{seq:016x}{k:016x}");
                p.bytes += line(
                    &mut out,
                    &Req {
                        client: &scanner,
                        time: &time,
                        method: "GET",
                        target: &path,
                        status,
                        bytes: 153,
                        ua: "Mozilla/5.0 zgrab/0.x",
                        rt_ms: 1,
                        id: &sid,
                    },
                )?;
                if status == 500 {
                    writeln!(
                        errors,
                        r#"{{"time":"{}","level":"error","request_id":"{sid}","msg":"invalid input syntax for type uuid: \"x\" (SQLSTATE 22P02)"}}"#,
                        now.to_rfc3339()
                    )?;
                }
                p.scanner += 1;
                p.lines += 1;
            }
            continue;
        }
        // A one-minute database outage each hour: the reports endpoint fails.
        let outage = minute % 60 == 45 && seq.is_multiple_of(50);
        let (method, target, status): (&str, String, u16) = if outage {
            writeln!(
                errors,
                r#"{{"time":"{}","level":"error","request_id":"{id}","msg":"sqlx::Error: error communicating with database: Connection refused (os error 111)"}}"#,
                now.to_rfc3339()
            )?;
            p.outage += 1;
            ("GET", OUTAGE_ROUTE.to_string(), 500)
        } else {
            match rng.below(100) {
                0..=24 => (
                    "GET",
                    format!(
                        "/orders/{}",
                        orders[rng.below(orders.len() as u64) as usize]
                    ),
                    200,
                ),
                25..=39 => (
                    "GET",
                    format!("/api/v1/products?page={}&sort=price", rng.below(40)),
                    200,
                ),
                40..=54 => (
                    "GET",
                    format!("/users/{}", rng.below(100_000)),
                    if rng.below(50) == 0 { 404 } else { 200 },
                ),
                55..=64 => ("GET", "/static/app.3f9a2b.js".to_string(), 304),
                65..=74 => ("POST", "/api/v1/cart".to_string(), 201),
                75..=84 => ("GET", "/".to_string(), 200),
                85..=89 => ("GET", OUTAGE_ROUTE.to_string(), 200),
                90..=94 => (
                    "GET",
                    format!(
                        "/search?q={}&email=user{}@example.com",
                        rng.word(5),
                        rng.below(999)
                    ),
                    200,
                ),
                _ => ("GET", "/health".to_string(), 200),
            }
        };
        let rt = 2 + rng.below(80);
        let bytes = 512 + rng.below(20_000);
        p.bytes += line(
            &mut out,
            &Req {
                client,
                time: &time,
                method,
                target: &target,
                status,
                bytes,
                ua,
                rt_ms: rt,
                id: &id,
            },
        )?;
        p.lines += 1;
    }
    out.flush()?;
    errors.flush()?;
    Ok(p)
}

fn peak_rss_kb() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn parse_event(line: &str) -> Option<ErrorEvent> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(ErrorEvent {
        time: v
            .get("time")?
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
        text: v.get("msg")?.as_str()?.to_string(),
        request_id: v
            .get("request_id")
            .and_then(|r| r.as_str())
            .map(str::to_string),
    })
}

struct Pass {
    name: &'static str,
    lines: u64,
    bytes: u64,
    secs: f64,
}

fn parse_only(path: &Path) -> std::io::Result<Pass> {
    let started = Instant::now();
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut buf = String::new();
    let (mut lines, mut bytes, mut statuses) = (0u64, 0u64, 0u64);
    while reader.read_line(&mut buf)? > 0 {
        bytes += buf.len() as u64;
        lines += 1;
        if let Some(r) = parse_access_line(&buf, AccessFormat::Auto) {
            statuses += u64::from(r.status);
        }
        buf.clear();
    }
    assert!(statuses > lines * 100, "lines did not parse");
    Ok(Pass {
        name: "parse",
        lines,
        bytes,
        secs: started.elapsed().as_secs_f64(),
    })
}

struct Outcome {
    pass: Pass,
    paged: BTreeSet<(String, String)>,
    labels: BTreeSet<String>,
    scanner_max: u64,
    other_max: u64,
    evaluations: u64,
}

fn parse_and_classify(access: &Path, app: &Path) -> std::io::Result<Outcome> {
    let started = Instant::now();
    let mut reader = BufReader::with_capacity(1 << 16, File::open(access)?);
    let mut app_lines = BufReader::new(File::open(app)?).lines();
    let mut next_event = app_lines.next().transpose()?.and_then(|l| parse_event(&l));
    let mut classifier = ErrorClassifier::new(ErrorClassConfig::default());
    let mut buf = String::new();
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut next_eval: Option<DateTime<Utc>> = None;
    let mut out = Outcome {
        pass: Pass {
            name: "parse + classify",
            lines: 0,
            bytes: 0,
            secs: 0.0,
        },
        paged: BTreeSet::new(),
        labels: BTreeSet::new(),
        scanner_max: 0,
        other_max: 0,
        evaluations: 0,
    };
    while reader.read_line(&mut buf)? > 0 {
        bytes += buf.len() as u64;
        lines += 1;
        if let Some(record) = parse_access_line(&buf, AccessFormat::Auto) {
            let now = record.time.map(|t| t.with_timezone(&Utc));
            classifier.observe_access(&record);
            // The app log is tailed alongside: feed its events up to this request's time.
            while let (Some(ev), Some(now)) = (&next_event, now)
                && ev.time.is_some_and(|t| t <= now + Duration::seconds(1))
            {
                classifier.observe_error(ev);
                next_event = app_lines.next().transpose()?.and_then(|l| parse_event(&l));
            }
            if let Some(now) = now {
                // One evaluation per simulated minute.
                if next_eval.is_none_or(|t| now >= t) {
                    next_eval = Some(now + Duration::seconds(60));
                    let report = classifier.report(now);
                    out.evaluations += 1;
                    out.scanner_max = out.scanner_max.max(report.scanner_requests);
                    out.other_max = out.other_max.max(report.other_5xx);
                    for f in report.paging(3) {
                        out.paged.insert((f.method.clone(), f.route.clone()));
                        out.labels.insert(f.error_label.clone());
                    }
                }
            }
        }
        buf.clear();
    }
    out.pass.lines = lines;
    out.pass.bytes = bytes;
    out.pass.secs = started.elapsed().as_secs_f64();
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = std::env::var("SENTINEL_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_BYTES);
    let dir = std::env::temp_dir().join(format!("sentinel-errclass-bench-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let result = run(&dir, target);
    let _ = fs::remove_dir_all(&dir);
    result
}

fn run(dir: &Path, target: u64) -> Result<(), Box<dyn std::error::Error>> {
    let (access, app) = (dir.join("access.log"), dir.join("app.log"));
    let started = Instant::now();
    let planted = generate(&access, &app, target)?;
    println!(
        "generated {} lines, {:.1} MB in {:.1}s ({} malformed-id 500s, {} scanner requests, {} outage 500s)",
        planted.lines,
        planted.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        planted.malformed,
        planted.scanner,
        planted.outage
    );

    let parse = parse_only(&access)?;
    let outcome = parse_and_classify(&access, &app)?;
    println!(
        "{:<18} {:>12} {:>10} {:>14} {:>10}",
        "pass", "lines", "seconds", "lines/s", "MB/s"
    );
    for p in [&parse, &outcome.pass] {
        println!(
            "{:<18} {:>12} {:>10.2} {:>14.0} {:>10.1}",
            p.name,
            p.lines,
            p.secs,
            p.lines as f64 / p.secs,
            p.bytes as f64 / 1e6 / p.secs
        );
    }
    println!(
        "evaluations {}, paged routes {:?}, labels {:?}, max scanner requests/window {}, max other 5xx/window {}",
        outcome.evaluations, outcome.paged, outcome.labels, outcome.scanner_max, outcome.other_max
    );
    match peak_rss_kb() {
        Some(kb) => println!("peak RSS (VmHWM): {:.1} MB", kb as f64 / 1024.0),
        None => println!("peak RSS: unavailable"),
    }

    assert_eq!(parse.lines, planted.lines);
    assert!(
        outcome
            .paged
            .contains(&("GET".to_string(), PLANTED_ROUTE.to_string())),
        "planted route not found: {:?}",
        outcome.paged
    );
    assert_eq!(
        outcome.paged.len(),
        1,
        "unexpected pages: {:?}",
        outcome.paged
    );
    assert!(
        outcome
            .labels
            .contains("invalid input syntax for type uuid")
    );
    if planted.scanner > 0 {
        assert!(outcome.scanner_max > 0, "scanner requests not counted");
    }
    if planted.outage > 0 {
        assert!(outcome.other_max > 0, "outage 500s not counted");
    }
    println!("checks passed: planted route paged; scanner and outage routes did not");
    Ok(())
}

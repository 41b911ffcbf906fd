//! The world's second act: the shop's web server access log, a job table, the spend on an
//! outside API, and what goes wrong with them. A scanner probes hundreds of random paths (some
//! even break a handler): nothing to act on. A partner's integration starts posting malformed
//! JSON, which the cart endpoint answers with 500 instead of 400. Invoice jobs get stuck after a
//! worker crash, until someone restarts it. A migration drops the index the order history needs
//! (see [`super::statements`]) until it is added back. A runaway retry loop multiplies the API
//! spend.

use super::{Happening, World};
use chrono::{DateTime, Timelike, Utc};
use std::io::Write;

/// When the second act's faults happen.
#[derive(Debug, Clone)]
pub(crate) struct Faults {
    pub scanner: (DateTime<Utc>, DateTime<Utc>),
    pub bad_json: (DateTime<Utc>, DateTime<Utc>),
    pub stuck_jobs: (DateTime<Utc>, DateTime<Utc>),
    pub index_dropped: (DateTime<Utc>, DateTime<Utc>),
    pub spend_loop: (DateTime<Utc>, DateTime<Utc>),
}

/// The tables the second act needs in the shop's database.
pub(super) const TABLES: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, started_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS api_spend (id INTEGER PRIMARY KEY, at TEXT NOT NULL, cost_usd REAL NOT NULL)",
];

const BROWSER: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";

fn within((from, to): (DateTime<Utc>, DateTime<Utc>), now: DateTime<Utc>) -> bool {
    (from..to).contains(&now)
}

/// A small deterministic mixer: the same world every run.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

impl World {
    fn access(&self, at: DateTime<Utc>, client: &str, request: &str, status: u16, agent: &str) {
        let id = format!(
            "{:016x}",
            mix(at.timestamp() as u64 ^ request.len() as u64 ^ u64::from(status))
        );
        self.access_with_id(at, client, request, status, agent, &id);
    }

    fn access_with_id(
        &self,
        at: DateTime<Utc>,
        client: &str,
        request: &str,
        status: u16,
        agent: &str,
        request_id: &str,
    ) {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.access_log)
        {
            let _ = writeln!(
                file,
                "{client} - - [{}] \"{request} HTTP/1.1\" {status} 1532 \"-\" \"{agent}\" rt=0.031 request_id={request_id}",
                at.format("%d/%b/%Y:%H:%M:%S %z")
            );
        }
    }

    /// The second act's minute `now`.
    pub(super) async fn tick_faults(&mut self, now: DateTime<Utc>) -> Vec<Happening> {
        let mut happened = Vec::new();
        let faults = self.script.faults.clone();
        let minute = now.minute();
        let seed = now.timestamp() as u64;

        // Ordinary traffic: customers look at products and their orders, fill carts.
        for i in 0..3u64 {
            let client = format!("203.0.113.{}", mix(seed + i) % 50 + 1);
            let request = match (mix(seed * 7 + i)) % 3 {
                0 => format!("GET /products/{}", mix(seed + i) % 40),
                1 => format!(
                    "GET /orders/{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    mix(seed + i) as u32,
                    mix(seed + i + 1) as u16,
                    mix(seed + i + 2) % 0xfff,
                    mix(seed + i + 3) % 0xfff,
                    mix(seed + i + 4) % 0xffff_ffff_ffff
                ),
                _ => "POST /api/cart".to_string(),
            };
            self.access(now, &client, &request, 200, BROWSER);
        }
        // Once, early on: one malformed cart request (known, rare, learned).
        if now == self.start + chrono::Duration::minutes(7) {
            self.bad_json(now, "198.51.100.23");
        }

        if now == faults.scanner.0 {
            happened.push(Happening::ScannerStarts);
        }
        if within(faults.scanner, now) {
            for i in 0..30u64 {
                let path = match i % 6 {
                    0 => "/wp-login.php".to_string(),
                    1 => "/.env".to_string(),
                    2 => format!("/{:x}.php", mix(seed + i)),
                    _ => format!("/{:x}/{:x}", mix(seed + i), mix(seed ^ i)),
                };
                // Most probes get a 404; a few reach a handler that breaks on them.
                let status = if mix(seed + i).is_multiple_of(9) {
                    500
                } else {
                    404
                };
                self.access(
                    now,
                    "45.155.205.17",
                    &format!("GET {path}"),
                    status,
                    "Mozilla/5.0 zgrab/0.x",
                );
            }
        }

        if now == faults.bad_json.0 {
            happened.push(Happening::BadJsonStarts);
        }
        if within(faults.bad_json, now) && minute.is_multiple_of(2) {
            let partner = format!("192.0.2.{}", 10 + minute % 4);
            self.bad_json(now, &partner);
        }

        // Jobs: an e-mail job every ten minutes, done a minute later; invoices hourly.
        if minute.is_multiple_of(10) {
            self.job("email", "running", now).await;
        }
        if minute % 10 == 1 {
            self.finish_jobs("email").await;
        }
        if minute == 15 {
            self.job("invoice", "running", now).await;
        }
        if minute == 17 && !within(faults.stuck_jobs, now) {
            self.finish_jobs("invoice").await;
        }
        if now == faults.stuck_jobs.0 {
            happened.push(Happening::WorkerCrashed);
        }
        if now == faults.stuck_jobs.1 {
            self.finish_jobs("invoice").await;
            happened.push(Happening::WorkerRestarted);
        }

        if now == faults.index_dropped.0 {
            happened.push(Happening::IndexDropped);
        }
        if now == faults.index_dropped.1 {
            happened.push(Happening::IndexRestored);
        }

        // Spend on an outside API: a few cents a minute, around the clock (nightly batch work
        // makes up for the quieter shop).
        let mut cost = 0.03 + (mix(seed) % 20) as f64 / 1000.0;
        if now == faults.spend_loop.0 {
            happened.push(Happening::SpendLoopStarts);
        }
        if within(faults.spend_loop, now) {
            cost *= 25.0;
        }
        let _ = sqlx::query("INSERT INTO api_spend (at, cost_usd) VALUES (?, ?)")
            .bind(now.format("%Y-%m-%d %H:%M:%S").to_string())
            .bind(cost)
            .execute(&self.app_db)
            .await;
        happened
    }

    fn bad_json(&self, now: DateTime<Utc>, client: &str) {
        let id = format!("{:016x}", mix(now.timestamp() as u64 ^ 0xca27));
        self.append_log(
            now,
            &format!("ERROR request_id={id} POST /api/cart failed: JSON parse error: expected value at line 1 column 1"),
        );
        self.access_with_id(now, client, "POST /api/cart", 500, "partner-sync/2.3", &id);
    }

    async fn job(&self, kind: &str, state: &str, now: DateTime<Utc>) {
        let _ = sqlx::query("INSERT INTO jobs (kind, state, started_at) VALUES (?, ?, ?)")
            .bind(kind)
            .bind(state)
            .bind(now.format("%Y-%m-%d %H:%M:%S").to_string())
            .execute(&self.app_db)
            .await;
    }

    async fn finish_jobs(&self, kind: &str) {
        let _ = sqlx::query("UPDATE jobs SET state = 'done' WHERE kind = ? AND state = 'running'")
            .bind(kind)
            .execute(&self.app_db)
            .await;
    }
}

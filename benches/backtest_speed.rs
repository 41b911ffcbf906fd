//! How fast `sentinel backtest` replays: a week of one-minute evaluations of 50 `threshold`
//! watches against a real Prometheus on loopback holding that week (written with `promtool tsdb
//! create-blocks-from openmetrics`), through the release binary, start to finish. The goal is
//! under a minute.
//!
//! Run with `cargo bench --bench backtest_speed` (Debian's `prometheus` package, as
//! `scripts/test.sh` installs it).

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;
use support::prometheus_history::{HistoryPrometheus, sample};

const WATCHES: usize = 50;
const DAYS: i64 = 7;

fn main() {
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    let started = Instant::now();
    let mut history = String::from("# TYPE bench_ratio gauge\n");
    let mut current = String::new();
    for n in 0..WATCHES {
        let series = format!("bench_ratio{{n=\"{n}\"}}");
        for at in (now - DAYS * 86_400..now - 120).step_by(60) {
            // A short blip every day and, for every fifth series, one long breach in the week.
            let minute = (at / 60) as usize;
            let blip = (minute + n * 37) % 1440 < 2;
            let breach = n % 5 == 0 && (at - (now - 3 * 86_400)).abs() < 1_200;
            let value = if blip || breach { 0.95 } else { 0.4 };
            history.push_str(&sample(&series, value, at));
        }
        let _ = writeln!(current, "{series} 0.4");
    }
    let prometheus = HistoryPrometheus::start(&history, &[("bench", current)]);
    println!(
        "Prometheus with {} samples ready in {:.1} s",
        WATCHES as i64 * DAYS * 1440,
        started.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config = format!(
        "[store]\npath = \"{}\"\n[sources.prom]\nkind = \"prometheus\"\nurl = \"{}\"\n",
        dir.path().join("s.db").display(),
        prometheus.url
    );
    for n in 0..WATCHES {
        let _ = write!(
            config,
            "[watches.ratio-{n}]\nkind = \"threshold\"\nsource = \"prom\"\nquery = 'bench_ratio{{n=\"{n}\"}} > 0.9'\nfor = \"5m\"\ninterval = \"1m\"\n"
        );
    }
    let path = dir.path().join("sentinel.toml");
    std::fs::write(&path, config).unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args([
            "backtest",
            "--from",
            &format!("{DAYS}d"),
            "--json",
            "--config",
        ])
        .arg(&path)
        .env("SENTINEL_LOG", "error")
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let evaluations = outcome["evaluations"].as_u64().unwrap_or(0);
    println!(
        "backtest of {WATCHES} watches over {DAYS} days: {evaluations} evaluations in {seconds:.1} s ({:.0} evaluations/s), {} pages (expected {}), {} blind",
        evaluations as f64 / seconds,
        outcome["pages"].as_array().map_or(0, Vec::len),
        WATCHES / 5,
        outcome["blind_evaluations"]
    );
    println!("(goal: under 60 s)");
}

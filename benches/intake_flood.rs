//! Valid pings while one address floods the intake with unknown tokens: `sentinel run` on
//! loopback, eight connections from 127.0.0.2 sending unknown tokens as fast as they are
//! answered, one client on 127.0.0.3 pinging a valid token every 20 ms. Prints how many pings
//! succeeded, their latency (median, p99, worst) with and without the flood, and the flood's
//! answers per second. Then the limiter alone: admissions per second for one client and for
//! a million distinct addresses through a table of 10,000.
//!
//! cargo bench --bench intake_flood

use sentinel::server::client::ClientKey;
use sentinel::server::limiter::{Budgets, Limiter, Work};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-valid-token-000000000";
const PINGS: usize = 250;

fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(address))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Pings the valid token `PINGS` times, 20 ms apart; returns the successes and latencies.
async fn pings(base: &str) -> (usize, Vec<Duration>) {
    let client = client_from([127, 0, 0, 3]);
    let mut latencies = Vec::with_capacity(PINGS);
    let mut ok = 0;
    for _ in 0..PINGS {
        let started = Instant::now();
        let status = client
            .get(format!("{base}/ping/{TOKEN}"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok();
        latencies.push(started.elapsed());
        if status == Some(200) {
            ok += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    (ok, latencies)
}

fn report(label: &str, (ok, latencies): &(usize, Vec<Duration>)) {
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "{label}: {ok}/{PINGS} valid pings answered 200; latency median {:.2} ms, p99 {:.2} ms, worst {:.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

async fn end_to_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n\
         [watches.job]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"1h\"\n",
        dir.path().display()
    );
    let path = dir.path().join("sentinel.toml");
    std::fs::write(&path, config).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args(["run", "--config"])
        .arg(&path)
        .env("SENTINEL_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sentinel run");
    let base = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while probe
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(Instant::now() < deadline, "sentinel run did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    report("quiet", &pings(&base).await);

    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooder = client_from([127, 0, 0, 2]);
    let floods: Vec<_> = (0..8)
        .map(|_| {
            let (flooder, answered, stop) = (flooder.clone(), answered.clone(), stop.clone());
            let url = format!("{base}/ping/not-a-known-token-000000");
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if flooder.get(&url).send().await.is_ok() {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    let flooded = pings(&base).await;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for flood in floods {
        let _ = flood.await;
    }
    report("during the flood", &flooded);
    println!(
        "the flood: {:.0} answers/s from 127.0.0.2 (almost all 429)",
        answered.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

fn limiter_alone() {
    let budgets = Budgets {
        requests_per_second: 50,
        failures_per_minute: 60,
        failure_burst: 20,
        max_clients: 10_000,
    };
    let limiter = Limiter::new(budgets);
    let one = ClientKey::of(IpAddr::from([127, 0, 0, 2]));
    let now = Instant::now();
    let count = 2_000_000u32;
    let started = Instant::now();
    for _ in 0..count {
        let _ = limiter.admit(one, Work::Other, now);
    }
    println!(
        "limiter, one flooding client: {:.1} M admissions/s",
        f64::from(count) / started.elapsed().as_secs_f64() / 1e6
    );
    let limiter = Limiter::new(budgets);
    let count = 1_000_000u32;
    let started = Instant::now();
    for i in 0..count {
        let key = ClientKey::of(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)));
        let _ = limiter.admit(key, Work::Other, now);
    }
    println!(
        "limiter, {count} distinct addresses: {:.1} M admissions/s, {} clients remembered (cap 10000)",
        f64::from(count) / started.elapsed().as_secs_f64() / 1e6,
        limiter.clients()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(end_to_end());
    limiter_alone();
}

//! Throughput of a full read of a ~200 MB nginx-style access log through `LogTail::poll`.
//! Run with `cargo bench --bench tail_throughput` (release build); prints lines/s and MB/s.

use sentinel::source::logfile::{LogTail, Offsets, TailOptions};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::time::Instant;

const TARGET_BYTES: u64 = 200 * 1024 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("sentinel-tail-bench-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let path = dir.join("access.log");
    let result = run(&path);
    let _ = fs::remove_dir_all(&dir);
    result
}

fn run(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let written = write_log(path)?;
    println!(
        "wrote {} lines, {:.1} MB to {}",
        written.0,
        written.1 as f64 / 1e6,
        path.display()
    );

    let opts = TailOptions {
        start_at_end: false,
        ..TailOptions::default()
    };
    let pattern = path.to_str().ok_or("temp path is not UTF-8")?;
    let mut tail = LogTail::new(pattern, opts)?;
    let mut offsets = Offsets::new();
    let started = Instant::now();
    let mut lines = 0u64;
    let mut levels = 0u64;
    let mut polls = 0u64;
    loop {
        let batch = tail.poll(&mut offsets)?;
        if batch.is_empty() {
            break;
        }
        polls += 1;
        lines += batch.len() as u64;
        levels += batch.iter().filter(|l| l.at.is_some()).count() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let bytes = tail.stats().bytes_read as f64;
    println!(
        "read {lines} lines in {polls} polls, {secs:.2} s: {:.0} lines/s, {:.1} MB/s ({} with a timestamp)",
        lines as f64 / secs,
        bytes / 1e6 / secs,
        levels
    );
    if lines != written.0 {
        return Err(format!("expected {} lines, read {lines}", written.0).into());
    }
    Ok(())
}

/// Combined-format access log lines with varied fields; returns (lines, bytes).
fn write_log(path: &std::path::Path) -> std::io::Result<(u64, u64)> {
    const PATHS: &[&str] = &[
        "/",
        "/api/v1/orders",
        "/api/v1/orders/12345/items",
        "/static/app.3f9c2b.js",
        "/login",
        "/health",
        "/images/banner-large.png",
    ];
    const AGENTS: &[&str] = &[
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "curl/8.5.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "Prometheus/2.51.0",
    ];
    const STATUS: &[u16] = &[200, 200, 200, 200, 301, 304, 404, 500, 502];
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    let (mut lines, mut bytes) = (0u64, 0u64);
    while bytes < TARGET_BYTES {
        let r = next();
        let line = format!(
            "10.{}.{}.{} - - [{:02}/May/2024:{:02}:{:02}:{:02} +0000] \"GET {} HTTP/1.1\" {} {} \"-\" \"{}\" {}.{:03}\n",
            r % 256,
            (r >> 8) % 256,
            (r >> 16) % 256,
            1 + r % 28,
            r % 24,
            (r >> 5) % 60,
            (r >> 11) % 60,
            PATHS[r % PATHS.len()],
            STATUS[(r >> 3) % STATUS.len()],
            r % 50_000,
            AGENTS[(r >> 7) % AGENTS.len()],
            r % 3,
            r % 1000,
        );
        out.write_all(line.as_bytes())?;
        lines += 1;
        bytes += line.len() as u64;
    }
    out.flush()?;
    Ok((lines, bytes))
}

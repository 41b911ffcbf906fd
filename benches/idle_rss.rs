//! Idle memory of `sentinel run` with 100 watches configured (60 heartbeats, 40 freshness
//! watches on files), after it has evaluated every watch a few times. Prints VmRSS and VmHWM.
//!
//! cargo bench --bench idle_rss

use std::process::{Command, Stdio};
use std::time::Duration;

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).expect("backups dir");
    std::fs::write(backups.join("a.sql.gz"), b"x").expect("file");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n[engine]\ninterval = \"2s\"\n[channels.console]\nkind = \"console\"\n",
        dir.path().display()
    );
    for i in 0..60 {
        config.push_str(&format!("[watches.job-{i}]\nkind = \"heartbeat\"\ntoken = \"bench-token-number-{i:04}\"\nperiod = \"1h\"\n"));
    }
    for i in 0..40 {
        config.push_str(&format!(
            "[watches.files-{i}]\nkind = \"freshness\"\npath = \"{}/*.sql.gz\"\nmax_age = \"1h\"\n",
            backups.display()
        ));
    }
    let path = dir.path().join("sentinel.toml");
    std::fs::write(&path, config).expect("config");

    let mut child = Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args(["run", "--config"])
        .arg(&path)
        .env("SENTINEL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sentinel run");
    // Let every watch run several times, then sample while idle between passes.
    std::thread::sleep(Duration::from_secs(12));
    let pid = child.id();
    let samples: Vec<u64> = (0..5)
        .filter_map(|_| {
            std::thread::sleep(Duration::from_millis(400));
            status_kb(pid, "VmRSS:")
        })
        .collect();
    let peak = status_kb(pid, "VmHWM:").unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    let rss = samples.iter().copied().max().unwrap_or(0);
    println!(
        "idle RSS of `sentinel run` with 100 watches: {:.1} MB (peak {:.1} MB; goal <= 20 MB)",
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
}

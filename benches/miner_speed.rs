//! Single-thread throughput of the template miner on the Loghub-2k message
//! contents, repeated to at least one million lines, side by side with
//! drain3 on the same input, both bare (no masking) and with the masking of drain3's own
//! example configuration (the comparable setting: Sentinel always masks variables).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sentinel::logs::{Miner, MinerConfig};

const MIN_LINES: usize = 1_000_000;

fn main() {
    let Some(datasets) = common::load_datasets() else {
        println!(
            "Loghub-2k data not found under {}/data/loghub_2k (set SENTINEL_SHARED); skipping.",
            common::shared_dir().display()
        );
        return;
    };
    let base: Vec<&str> = datasets
        .iter()
        .flat_map(|dataset| dataset.contents.iter().map(|line| line.as_str()))
        .map(|line| line.lines().next().unwrap_or(""))
        .collect();
    let mut lines: Vec<&str> = Vec::with_capacity(MIN_LINES + base.len());
    while lines.len() < MIN_LINES {
        lines.extend_from_slice(&base);
    }
    let bytes: usize = lines.iter().map(|line| line.len() + 1).sum();
    let names: Vec<&str> = datasets
        .iter()
        .map(|dataset| dataset.name.as_str())
        .collect();
    println!(
        "input: {} distinct lines from {} repeated to {} lines",
        base.len(),
        names.join(", "),
        lines.len()
    );

    // Warm-up run on the base set, then several timed passes, each on a
    // fresh miner. The machine may be shared, so the median pass is the
    // reported number and the best pass is shown beside it.
    let mut warm = Miner::new(MinerConfig::default());
    for line in &base {
        std::hint::black_box(warm.add(line));
    }
    const PASSES: usize = 5;
    let mut timings = Vec::with_capacity(PASSES);
    let mut template_count = 0;
    for _ in 0..PASSES {
        let mut miner = Miner::new(MinerConfig::default());
        let start = Instant::now();
        let mut checksum = 0u64;
        for line in &lines {
            checksum = checksum.wrapping_add(miner.add(line).id.0);
        }
        timings.push(start.elapsed().as_secs_f64());
        std::hint::black_box(checksum);
        template_count = miner.template_count();
    }
    timings.sort_by(f64::total_cmp);
    let median = timings[PASSES / 2];
    let ours = lines.len() as f64 / median;
    let best = lines.len() as f64 / timings[0];

    println!(
        "{:<10} {:>10} {:>10} {:>14} {:>10}",
        "engine", "lines", "seconds", "lines/s", "templates"
    );
    println!(
        "{:<10} {:>10} {:>10.3} {:>14.0} {:>10}   (median of {PASSES} passes; best {:.0} lines/s; {:.1} MB/s)",
        "sentinel",
        lines.len(),
        median,
        ours,
        template_count,
        best,
        bytes as f64 / median / 1e6
    );

    if std::env::var_os("SENTINEL_SKIP_DRAIN3").is_some() {
        println!("drain3: skipped (SENTINEL_SKIP_DRAIN3 set)");
        return;
    }
    let target = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target"));
    let input_path = target.join("miner_speed_input.txt");
    if let Err(error) = std::fs::write(&input_path, lines.join("\n") + "\n") {
        println!("drain3: cannot write input file: {error}");
        return;
    }
    for (label, masking) in [
        ("drain3 (default, no masking)", false),
        ("drain3 (its example masking)", true),
    ] {
        match run_drain3(&target, &input_path, masking) {
            Ok(theirs) => {
                println!("{label:<30} {:>10} {:>14.0} lines/s", lines.len(), theirs);
                println!("ratio sentinel / {label}: {:.1}x", ours / theirs);
            }
            Err(reason) => println!("{label}: not measured ({reason})"),
        }
    }
}

/// Runs `benches/drain3_speed.py` in a virtualenv under `target/`, creating
/// it and installing drain3 when missing. Returns drain3's lines per second.
fn run_drain3(target: &Path, input: &Path, masking: bool) -> Result<f64, String> {
    let venv = target.join("drain3-venv");
    let python = venv.join("bin").join("python");
    let has_drain3 = |python: &Path| {
        Command::new(python)
            .args(["-c", "import drain3"])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if !has_drain3(&python) {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map_err(|error| format!("python3 not available: {error}"))?;
        if !created.success() {
            return Err("python3 -m venv failed".into());
        }
        let installed = Command::new(venv.join("bin").join("pip"))
            .args(["install", "-q", "drain3"])
            .status()
            .map_err(|error| format!("pip not available: {error}"))?;
        if !installed.success() || !has_drain3(&python) {
            return Err("pip install drain3 failed".into());
        }
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/drain3_speed.py");
    let output = Command::new(&python)
        .arg(script)
        .arg(input)
        .args(masking.then_some("--masking"))
        .output()
        .map_err(|error| format!("cannot run drain3 script: {error}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("drain3_lines_per_sec "))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("unexpected drain3 output: {stdout}"))
}

//! Evaluates the `jump` detector on the NAB realAWSCloudwatch series.
//!
//! Every series is streamed point by point; each point is judged only on its past, as live.
//! A simulated alert tracker pages once when a run of jump points lasts `for` consecutive points.
//! A page inside a labelled anomaly window detects that window (NAB convention: the page falls
//! inside the window); a page outside every window is a false page.
//!
//! Data location: `$SENTINEL_SHARED/data/nab`, default `<crate>/../shared/data/nab`. The data is
//! read in place and never copied. Without it, this prints a note and exits successfully.
//!
//! `JUMP_NAB_ONLY=<label>` runs one setting with its per-file table. `JUMP_NAB_GRID` replaces the
//! settings with a list for exploring:
//! `"window_hours,threshold,relative_floor,for,min_points,daily(0|1),gap_minutes,quantile(0=off);..."`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use sentinel::watch::jump::detector::{
    BaselineWindow, Direction, JumpConfig, JumpDetector, Seasonality,
};

const SERIES_FOLDER: &str = "realAWSCloudwatch";

/// One general setting evaluated over every file.
struct Setting {
    label: &'static str,
    config: JumpConfig,
    for_points: usize,
}

#[derive(Default, Clone, Copy)]
struct Score {
    windows: usize,
    windows_detected: usize,
    pages: usize,
    pages_in_windows: usize,
    false_pages: usize,
    judged_points: usize,
    series_days: f64,
    elapsed: Duration,
}

impl Score {
    fn add(&mut self, other: &Score) {
        self.windows += other.windows;
        self.windows_detected += other.windows_detected;
        self.pages += other.pages;
        self.pages_in_windows += other.pages_in_windows;
        self.false_pages += other.false_pages;
        self.judged_points += other.judged_points;
        self.series_days += other.series_days;
        self.elapsed += other.elapsed;
    }

    fn recall(&self) -> f64 {
        ratio(self.windows_detected, self.windows)
    }

    fn false_pages_per_day(&self) -> f64 {
        if self.series_days > 0.0 {
            self.false_pages as f64 / self.series_days
        } else {
            0.0
        }
    }

    fn precision(&self) -> f64 {
        ratio(self.pages_in_windows, self.pages)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Extra settings from `JUMP_NAB_GRID="window_hours,threshold,relative_floor,for,min_points,seasonal;..."`.
fn grid_settings() -> Vec<Setting> {
    let Ok(grid) = std::env::var("JUMP_NAB_GRID") else {
        return Vec::new();
    };
    let mut settings = Vec::new();
    for entry in grid.split(';').filter(|entry| !entry.trim().is_empty()) {
        let fields: Vec<f64> = entry
            .split(',')
            .filter_map(|field| field.trim().parse().ok())
            .collect();
        let [
            hours,
            threshold,
            relative_floor,
            for_points,
            min_points,
            seasonal,
            gap,
            quantile,
        ] = fields[..]
        else {
            println!("ignoring grid entry {entry:?}");
            continue;
        };
        settings.push(Setting {
            label: Box::leak(entry.trim().to_string().into_boxed_str()),
            config: JumpConfig {
                window: BaselineWindow::Seconds((hours * 3600.0) as i64),
                threshold,
                relative_floor,
                gap: BaselineWindow::Seconds((gap * 60.0) as i64),
                beyond_quantile: (quantile > 0.0).then_some(quantile),
                min_points: min_points as usize,
                seasonality: if seasonal > 0.0 {
                    Seasonality::Daily
                } else {
                    Seasonality::None
                },
                ..JumpConfig::default()
            },
            for_points: for_points as usize,
        });
    }
    settings
}

fn settings() -> Vec<Setting> {
    let grid = grid_settings();
    if !grid.is_empty() {
        return grid;
    }
    let product_default = JumpConfig::default();
    vec![
        Setting {
            label: "default",
            config: product_default.clone(),
            for_points: 3,
        },
        Setting {
            label: "sensitive",
            config: JumpConfig {
                threshold: 4.0,
                ..product_default.clone()
            },
            for_points: 2,
        },
        Setting {
            label: "daily-seasonal",
            config: JumpConfig {
                seasonality: Seasonality::Daily,
                ..product_default.clone()
            },
            for_points: 3,
        },
        Setting {
            label: "no-quantile-guard",
            config: JumpConfig {
                beyond_quantile: None,
                ..product_default
            },
            for_points: 3,
        },
    ]
}

fn parse_time(text: &str) -> Option<i64> {
    let trimmed = text.trim();
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S"))
        .ok()
        .map(|time| time.and_utc().timestamp())
}

/// Reads `timestamp,value` rows; unreadable values become NaN (missing).
fn read_series(path: &Path) -> Result<Vec<(i64, f64)>, String> {
    let text = fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut points = Vec::new();
    for line in text.lines().skip(1) {
        let Some((time_text, value_text)) = line.split_once(',') else {
            continue;
        };
        let Some(time) = parse_time(time_text) else {
            continue;
        };
        let value = value_text.trim().parse::<f64>().unwrap_or(f64::NAN);
        points.push((time, value));
    }
    points.sort_by_key(|(time, _)| *time);
    Ok(points)
}

type LabelWindows = HashMap<String, Vec<(i64, i64)>>;

fn read_windows(path: &Path) -> Result<LabelWindows, String> {
    let text = fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let raw: HashMap<String, Vec<Vec<String>>> =
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut windows = LabelWindows::new();
    for (file, pairs) in raw {
        let mut parsed = Vec::new();
        for pair in pairs {
            if let [start, end] = pair.as_slice()
                && let (Some(start), Some(end)) = (parse_time(start), parse_time(end))
            {
                parsed.push((start, end));
            }
        }
        windows.insert(file, parsed);
    }
    Ok(windows)
}

/// One simulated page: when it went out and what it said.
struct Page {
    time: i64,
    sentence: String,
}

/// Streams a series through the detector and the simulated tracker; returns the pages sent and
/// how many points got a verdict.
fn simulate_pages(
    series: &[(i64, f64)],
    setting: &Setting,
    series_name: &str,
) -> (Vec<Page>, usize) {
    let mut detector = JumpDetector::new(setting.config.clone());
    let mut pages = Vec::new();
    let mut run_length = 0usize;
    let mut judged = 0usize;
    for (index, &(time, _)) in series.iter().enumerate() {
        match detector.judge_at(series, index) {
            Ok(verdict) => {
                judged += 1;
                if verdict.is_jump {
                    run_length += 1;
                    if run_length == setting.for_points.max(1) {
                        pages.push(Page {
                            time,
                            sentence: verdict.describe(series_name),
                        });
                    }
                } else {
                    run_length = 0;
                }
            }
            Err(_) => run_length = 0,
        }
    }
    (pages, judged)
}

fn score_file(
    series: &[(i64, f64)],
    windows: &[(i64, i64)],
    setting: &Setting,
    series_name: &str,
) -> (Score, Vec<Page>) {
    let started = Instant::now();
    let (pages, judged_points) = simulate_pages(series, setting, series_name);
    let elapsed = started.elapsed();
    let inside = |time: i64| {
        windows
            .iter()
            .any(|(start, end)| (*start..=*end).contains(&time))
    };
    let windows_detected = windows
        .iter()
        .filter(|(start, end)| {
            pages
                .iter()
                .any(|page| (*start..=*end).contains(&page.time))
        })
        .count();
    let pages_in_windows = pages.iter().filter(|page| inside(page.time)).count();
    let series_days = match (series.first(), series.last()) {
        (Some((first, _)), Some((last, _))) => (last - first) as f64 / 86_400.0,
        _ => 0.0,
    };
    let score = Score {
        windows: windows.len(),
        windows_detected,
        pages: pages.len(),
        pages_in_windows,
        false_pages: pages.len() - pages_in_windows,
        judged_points,
        series_days,
        elapsed,
    };
    (score, pages)
}

fn describe_setting(setting: &Setting) -> String {
    let config = &setting.config;
    let direction = match config.direction {
        Direction::Up => "up",
        Direction::Down => "down",
        Direction::Both => "both",
    };
    let quantile = config
        .beyond_quantile
        .map_or_else(|| "off".to_string(), |quantile| quantile.to_string());
    format!(
        "{}: window={} gap={} seasonality={:?} threshold={} min_points={} min_abs_change={} \
         beyond_quantile={quantile} relative_floor={} absolute_floor={} direction={direction} \
         for={} points",
        setting.label,
        config.window,
        config.gap,
        config.seasonality,
        config.threshold,
        config.min_points,
        config.min_abs_change,
        config.relative_floor,
        config.absolute_floor,
        setting.for_points,
    )
}

fn print_row(name: &str, score: &Score) {
    println!(
        "{name:<42} {:>4} {:>5} {:>5} {:>5} {:>6} {:>6.2} {:>6.2}",
        score.windows,
        score.windows_detected,
        score.pages,
        score.false_pages,
        score.judged_points,
        score.recall(),
        score.precision(),
    );
}

fn shared_dir() -> PathBuf {
    std::env::var_os("SENTINEL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")))
}

fn main() {
    let nab = shared_dir().join("data").join("nab");
    let series_dir = nab.join(SERIES_FOLDER);
    let labels_path = nab.join("combined_windows.json");
    if !series_dir.is_dir() || !labels_path.is_file() {
        println!(
            "NAB data not found under {} (set SENTINEL_SHARED); skipping the jump benchmark.",
            nab.display()
        );
        return;
    }
    let windows = match read_windows(&labels_path) {
        Ok(windows) => windows,
        Err(error) => {
            println!("cannot read NAB labels: {error}; skipping the jump benchmark.");
            return;
        }
    };
    let mut files: Vec<PathBuf> = match fs::read_dir(&series_dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "csv"))
            .collect(),
        Err(error) => {
            println!("cannot list {}: {error}; skipping.", series_dir.display());
            return;
        }
    };
    files.sort();
    let mut series_by_file = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        match read_series(path) {
            Ok(series) => series_by_file.push((name, series)),
            Err(error) => println!("skipping {error}"),
        }
    }

    let only = std::env::var("JUMP_NAB_ONLY").ok();
    let header = format!(
        "{:<42} {:>4} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6}",
        "file", "win", "found", "pages", "false", "judged", "recall", "prec"
    );
    let mut totals = Vec::new();
    for (position, setting) in settings().iter().enumerate() {
        if only.as_deref().is_some_and(|label| label != setting.label) {
            continue;
        }
        println!("\nsetting {}", describe_setting(setting));
        let per_file =
            (position == 0 || only.is_some()) && std::env::var_os("JUMP_NAB_GRID").is_none();
        if per_file {
            println!("{header}");
        }
        let mut total = Score::default();
        let mut sample_sentences = Vec::new();
        for (name, series) in &series_by_file {
            let key = format!("{SERIES_FOLDER}/{name}");
            let file_windows = windows.get(&key).map(Vec::as_slice).unwrap_or(&[]);
            let series_name = name.trim_end_matches(".csv");
            let (score, pages) = score_file(series, file_windows, setting, series_name);
            if per_file {
                print_row(name, &score);
                if let Some(first_page) = pages.first() {
                    sample_sentences.push(first_page.sentence.clone());
                }
            }
            total.add(&score);
        }
        if per_file {
            print_row("TOTAL", &total);
            println!("first page of each file that paged:");
            for sentence in &sample_sentences {
                println!("  {sentence}");
            }
        }
        totals.push((setting.label, total));
    }

    println!("\nsummary (one configuration for all files)");
    println!(
        "{:<24} {:>4} {:>5} {:>5} {:>5} {:>6} {:>6} {:>9} {:>9}",
        "setting", "win", "found", "pages", "false", "recall", "prec", "false/day", "us/point"
    );
    for (label, total) in totals {
        let micros_per_point = if total.judged_points == 0 {
            0.0
        } else {
            total.elapsed.as_secs_f64() * 1e6 / total.judged_points as f64
        };
        println!(
            "{label:<24} {:>4} {:>5} {:>5} {:>5} {:>6.2} {:>6.2} {:>9.3} {:>9.1}",
            total.windows,
            total.windows_detected,
            total.pages,
            total.false_pages,
            total.recall(),
            total.precision(),
            total.false_pages_per_day(),
            micros_per_point,
        );
    }
}

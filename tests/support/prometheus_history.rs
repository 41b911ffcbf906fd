//! A real Prometheus that already remembers: hours or days of samples written into its storage
//! before it starts (`promtool tsdb create-blocks-from openmetrics`, the backfill Prometheus
//! documents), and an exporter whose series the test changes while Prometheus scrapes it every
//! second. Range queries over the past then read what a long-running server would hold, and
//! the present moves as the test says: a series rises, heals, or stops being exported.
//!
//! The scrape keeps the exported `job` and `instance` labels (`honor_labels`), so a series of
//! the history and the same series scraped now are one series.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running Prometheus with history; stopped when the test process exits.
pub struct HistoryPrometheus {
    pub url: String,
    /// What the exporter serves, by group: the text exposition lines of each.
    exported: Arc<Mutex<BTreeMap<String, String>>>,
}

/// One sample line of the OpenMetrics history: `name{labels} value unix_seconds`.
pub fn sample(series: &str, value: f64, at: i64) -> String {
    format!("{series} {value} {at}\n")
}

impl HistoryPrometheus {
    /// Writes `history` (OpenMetrics families, each with its `# TYPE` line and its samples in
    /// time order; `# EOF` is added) into a fresh storage, then starts Prometheus on it,
    /// scraping an exporter that serves `exported` (group name, text exposition lines).
    pub fn start(history: &str, exported: &[(&str, String)]) -> HistoryPrometheus {
        let binary =
            std::env::var("SENTINEL_TEST_PROMETHEUS_BIN").unwrap_or_else(|_| "prometheus".into());
        let promtool =
            std::env::var("SENTINEL_TEST_PROMTOOL_BIN").unwrap_or_else(|_| "promtool".into());
        for tool in [&binary, &promtool] {
            if Command::new(tool).arg("--version").output().is_err() {
                panic!(
                    "these tests need a real Prometheus and its promtool: install Debian's `prometheus` package or run scripts/test.sh, which does"
                );
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("sentinel-test-prom-history-")
            .tempdir()
            .unwrap()
            .keep();
        let data = dir.join("data");
        let input = dir.join("history.om");
        std::fs::write(&input, format!("{history}# EOF\n")).unwrap();
        let made = Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg(&input)
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "promtool could not write the history: {}",
            String::from_utf8_lossy(&made.stderr)
        );

        let groups: BTreeMap<String, String> = exported
            .iter()
            .map(|(group, lines)| (group.to_string(), lines.clone()))
            .collect();
        let exported = Arc::new(Mutex::new(groups));
        let served = exported.clone();
        let exporter = super::serve_in_background(axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let body: String = served.lock().unwrap().values().cloned().collect();
                async move { body }
            }),
        ));
        let config = dir.join("prometheus.yml");
        let mut file = std::fs::File::create(&config).unwrap();
        write!(
            file,
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: exporter\n    honor_labels: true\n    static_configs:\n      - targets: ['{exporter}']\n"
        )
        .unwrap();
        let port = super::free_port();
        super::spawn_until_tests_exit(
            &format!(
                "{binary} --config.file={config} --storage.tsdb.path={data} --storage.tsdb.retention.time=30d --web.listen-address=127.0.0.1:{port} --log.level=warn",
                config = config.display(),
                data = data.display(),
            ),
            &dir,
            "prometheus.log",
        );
        let prometheus = HistoryPrometheus {
            url: format!("http://127.0.0.1:{port}"),
            exported,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while prometheus.instant("up").map(|n| n == 0).unwrap_or(true) {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
                panic!("Prometheus did not start or scrape in time; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        prometheus
    }

    /// Serves `lines` (text exposition, no `# TYPE`) as the group `group`, replacing what it
    /// served before.
    pub fn export(&self, group: &str, lines: String) {
        self.exported
            .lock()
            .unwrap()
            .insert(group.to_string(), lines);
    }

    /// Stops serving the group `group`: its series go stale at the next scrape.
    pub fn withdraw(&self, group: &str) {
        self.exported.lock().unwrap().remove(group);
    }

    /// How many series the instant query `query` returns now.
    pub fn instant(&self, query: &str) -> Result<usize, String> {
        let out = Command::new("curl")
            .args(["-s", "-m", "5", "-G", "--data-urlencode"])
            .arg(format!("query={query}"))
            .arg(format!("{}/api/v1/query", self.url))
            .output()
            .map_err(|e| e.to_string())?;
        let body: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        body["data"]["result"]
            .as_array()
            .map(Vec::len)
            .ok_or_else(|| format!("no result in {body}"))
    }

    /// Waits (up to 20 s) until the instant query `query` returns `series` series: a change
    /// of the exporter has been scraped.
    pub async fn wait_for(&self, query: &str, series: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now = self.instant(query);
            if now == Ok(series) {
                return;
            }
            if Instant::now() > deadline {
                panic!("{query} returns {now:?} series, not {series}, after 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

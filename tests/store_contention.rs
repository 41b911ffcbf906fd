//! A real `sentinel run` under load on its own store: 50 watches evaluating every second while
//! a flood of concurrent pings arrives. Every acknowledged ping must be stored, none refused
//! with 503, every evaluation recorded, and the log must never say the store was locked or
//! busy. And the configuration `sentinel init` writes must record its very first evaluations.

mod support;

use sentinel::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{free_port, http_status, sentinel_bin, write_config};

const WATCHES: usize = 50;
const PINGS: usize = 3000;
const AT_ONCE: usize = 48;

fn token(n: usize) -> String {
    format!("contention-token-{n:04}")
}

/// `sentinel run` with its log (info and up) written to `log`.
struct Run {
    child: Child,
    port: u16,
}

impl Run {
    fn start(config: &Path, port: u16, log: &Path, env: &[(&str, &str)]) -> Run {
        let child = Command::new(sentinel_bin())
            .args(["run", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .env("SENTINEL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let run = Run { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while http_status(&run.url("/healthz")) != Ok(200) {
            assert!(
                Instant::now() < deadline,
                "sentinel run did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        run
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, and wait for the graceful stop.
    fn stop(mut self) {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert_eq!(status.code(), Some(0), "sentinel run must stop cleanly");
                return;
            }
            assert!(Instant::now() < deadline, "sentinel run did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Lines of the log that speak of a locked or busy store, or of anything not recorded.
fn lock_trouble(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|line| {
            let line = line.to_ascii_lowercase();
            line.contains("locked") || line.contains("busy") || line.contains("could not record")
        })
        .map(str::to_string)
        .collect()
}

fn evaluations_started(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with("sentinel_evaluations_total{"))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum()
}

async fn store_at(path: PathBuf) -> Store {
    Store::open(&path).await.unwrap()
}

/// How many watches have recorded an evaluation, read beside the running daemon through a
/// read-only connection of the test's own (0 while the store does not exist yet).
async fn watches_recorded(path: &Path) -> usize {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let Ok(mut conn) = sqlx::ConnectOptions::connect(&options).await else {
        return 0;
    };
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM watch_evaluations")
        .fetch_one(&mut conn)
        .await
        .map_or(0, |n| n as usize)
}

#[test]
fn fifty_watches_and_a_ping_flood_lose_nothing_and_never_lock() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nrate_limit_per_second = 100000\n\
         [store]\npath = \"{}/s.db\"\n[engine]\nconcurrency = 16\n",
        dir.path().display()
    );
    for n in 0..WATCHES {
        text.push_str(&format!(
            "[watches.job-{n:02}]\nkind = \"heartbeat\"\ntoken = \"{}\"\nperiod = \"1h\"\ninterval = \"1s\"\n",
            token(n)
        ));
    }
    let config = write_config(dir.path(), &text);
    let log = dir.path().join("sentinel.log");
    let run = Run::start(&config, port, &log, &[]);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (statuses, metrics) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let base = run.url("/ping/");
        let mut statuses = Vec::with_capacity(PINGS);
        let mut next = 0;
        let mut in_flight = tokio::task::JoinSet::new();
        while next < PINGS || !in_flight.is_empty() {
            while next < PINGS && in_flight.len() < AT_ONCE {
                // Runs that start and finish, with and without run ids, and plain successes.
                let action = ["start", "", "start", "0", "log", "fail", "1"][next % 7];
                let rid = if next % 5 == 0 { "?rid=r-1" } else { "" };
                let path = match action {
                    "" => token(next % WATCHES),
                    action => format!("{}/{action}", token(next % WATCHES)),
                };
                let url = format!("{base}{path}{rid}");
                let client = client.clone();
                in_flight.spawn(async move {
                    match client.post(url).body("out").send().await {
                        Ok(response) => response.status().as_u16(),
                        Err(_) => 0,
                    }
                });
                next += 1;
            }
            if let Some(status) = in_flight.join_next().await {
                statuses.push(status.unwrap());
            }
        }
        // Let the watches go on evaluating for a few seconds more.
        tokio::time::sleep(Duration::from_secs(4).saturating_sub(started.elapsed())).await;
        let metrics = client
            .get(run.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (statuses, metrics)
    });
    let seconds = started.elapsed().as_secs();
    let started_evaluations = evaluations_started(&metrics);
    run.stop();

    let acknowledged = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(refused, 0, "no ping may be refused for want of the store");
    assert_eq!(acknowledged, PINGS, "every ping answered 200: {statuses:?}");
    let trouble = lock_trouble(&log);
    assert!(
        trouble.is_empty(),
        "the log speaks of trouble: {trouble:#?}"
    );

    runtime.block_on(async {
        let store = store_at(dir.path().join("s.db")).await;
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pings")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(stored as usize, acknowledged, "every acknowledged ping is stored");
        let counts = store.evaluation_counts().await.unwrap();
        assert_eq!(counts.len(), WATCHES, "every watch recorded evaluations");
        let recorded: i64 = counts.iter().map(|c| c.evaluations).sum();
        assert!(
            recorded as u64 >= started_evaluations,
            "{started_evaluations} evaluations had started before the metrics were read, only {recorded} recorded"
        );
        let fewest = counts.iter().map(|c| c.evaluations).min().unwrap_or(0);
        // Each watch is due every second; on a loaded machine a pass can slip, but no watch may
        // starve behind the others or the flood.
        assert!(
            fewest >= 2,
            "every watch keeps being evaluated: one did only {fewest} times in {seconds}s"
        );
    });
}

#[test]
fn the_first_evaluations_of_a_fresh_init_configuration_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sentinel.toml");
    let status = Command::new(sentinel_bin())
        .arg("init")
        .arg(&config)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // The example as written, on a free port and with the store in the user's data directory
    // (here a fresh one).
    let port = free_port();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("127.0.0.1:9477", &format!("127.0.0.1:{port}"));
    std::fs::write(&config, text).unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("sentinel.log");
    let data_env = data.display().to_string();
    let run = Run::start(&config, port, &log, &[("XDG_DATA_HOME", &data_env)]);
    let store_path = data.join("sentinel").join("sentinel.db");
    let watches = sentinel::config::Config::load(&config)
        .unwrap()
        .watches
        .len();

    // Every watch of the example runs at start; wait until each has been recorded.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let recorded = runtime.block_on(watches_recorded(&store_path));
        if recorded == watches {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {recorded} of {watches} watches recorded their first evaluation"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    run.stop();
    let trouble = lock_trouble(&log);
    assert!(
        trouble.is_empty(),
        "the log speaks of trouble: {trouble:#?}"
    );
    runtime.block_on(async {
        let store = store_at(store_path).await;
        let counts = store.evaluation_counts().await.unwrap();
        assert!(
            counts.iter().any(|c| c.watch == "backup-files"),
            "{counts:?}"
        );
    });
}

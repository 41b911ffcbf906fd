//! Shared pieces of the integration tests: free loopback ports, the `sentinel` binary, a
//! config file on disk, a real Prometheus started on loopback (scraping an exporter served by
//! the test itself; another with days of history written before it starts), small HTTP
//! servers that misbehave on purpose, scripted fakes of the model APIs, and GeoIP database
//! files written for the test.
#![allow(dead_code)]

pub mod evidence_app;
pub mod fake_llm;
pub mod fake_loki;
pub mod fake_telegram;
pub mod mmdb;
pub mod pg_cluster;
pub mod prometheus_history;
pub mod stripe_events;
pub mod telegram_emulator;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn sentinel_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sentinel"))
}

pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("sentinel.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A `sentinel run` process, killed (SIGKILL) when dropped unless already stopped.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
}

impl Daemon {
    pub fn start(config: &Path, port: u16) -> Daemon {
        Self::start_with_env(config, port, &[])
    }

    /// Starts `sentinel run` with extra environment variables (secrets).
    pub fn start_with_env(config: &Path, port: u16, env: &[(&str, &str)]) -> Daemon {
        let child = Command::new(sentinel_bin())
            .args(["run", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .env("SENTINEL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let daemon = Daemon { child, port };
        daemon.wait_healthy();
        daemon
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if http_status(&self.url("/healthz")) == Ok(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sentinel run did not become healthy on port {}", self.port);
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait; returns the exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill9();
        }
    }
}

/// The HTTP status of a GET, by curl (usable outside an async runtime).
pub fn http_status(url: &str) -> Result<u16, String> {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-m",
            "5",
            url,
        ])
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())
}

/// Serves `router` on a loopback port from a background thread; returns its address.
pub fn serve_in_background(router: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    addr
}

/// Starts `command_line` (a service under test) in the background with its output in
/// `dir/log`; a watchdog stops it and removes `dir` when this test process exits.
pub fn spawn_until_tests_exit(command_line: &str, dir: &Path, log: &str) {
    let command = format!(
        "{command_line} > {log} 2>&1 & child=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $child; wait $child; rm -rf {dir}",
        log = dir.join(log).display(),
        parent = std::process::id(),
        dir = dir.display(),
    );
    // The watchdog outlives this call on purpose: it stops the service when the tests exit.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
}

/// One engine pass over `config` with every notice collected in `pages`; the store is closed
/// afterwards so the next pass (or the test) reads what this one wrote.
pub async fn engine_pass(
    config: &sentinel::config::Config,
    pages: &std::sync::Arc<std::sync::Mutex<Vec<sentinel::alert::notice::Notice>>>,
) -> sentinel::engine::PassReport {
    engine_pass_at(
        config,
        pages,
        std::sync::Arc::new(sentinel::clock::SystemClock),
    )
    .await
}

/// [`engine_pass`] at the time `clock` says.
pub async fn engine_pass_at(
    config: &sentinel::config::Config,
    pages: &std::sync::Arc<std::sync::Mutex<Vec<sentinel::alert::notice::Notice>>>,
    clock: std::sync::Arc<dyn sentinel::clock::Clock>,
) -> sentinel::engine::PassReport {
    let store = sentinel::store::Store::open(&config.store.path)
        .await
        .unwrap();
    let channels = sentinel::notify::dispatch::Channels {
        list: vec![(
            "memory".into(),
            sentinel::notify::Channel::Memory(pages.clone()),
        )],
    };
    let engine =
        sentinel::engine::build::engine(config.clone(), store.clone(), clock, channels).unwrap();
    let report = engine.pass(true).await.unwrap();
    store.close().await;
    report
}

/// The titles of every firing new-error page in `pages`, one per template, whether paged
/// alone or grouped with others in one notice.
pub fn new_error_titles(
    pages: &std::sync::Arc<std::sync::Mutex<Vec<sentinel::alert::notice::Notice>>>,
) -> Vec<String> {
    pages
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n.state == "firing")
        .flat_map(|n| match n.subjects.len() {
            0 => vec![n.title.clone()],
            _ => n.subjects.iter().map(|s| s.title.clone()).collect(),
        })
        .filter(|title| title.starts_with("New error"))
        .collect()
}

/// A real Prometheus on loopback, scraping an exporter the test serves. Started once per test
/// binary; a watchdog stops it when the test process exits.
pub struct Prometheus {
    pub url: String,
    /// Unix time the exporter's timestamps are relative to.
    pub exported_at: i64,
}

pub const EXPORTED: &str = "# TYPE demo_disk_free_ratio gauge
demo_disk_free_ratio{mount=\"/\"} 0.42
demo_disk_free_ratio{mount=\"/var\"} 0.03
# TYPE demo_backup_last_success_timestamp_seconds gauge
demo_backup_last_success_timestamp_seconds{db=\"shop\"} NOW_MINUS_1H
demo_backup_last_success_timestamp_seconds{db=\"legacy\"} NOW_MINUS_3D
# TYPE demo_queue_length gauge
demo_queue_length{queue=\"mailers\"} 12
demo_queue_length{queue=\"reports\"} 0
";

pub fn prometheus() -> &'static Prometheus {
    static INSTANCE: OnceLock<Prometheus> = OnceLock::new();
    INSTANCE.get_or_init(start_prometheus)
}

fn start_prometheus() -> Prometheus {
    let binary =
        std::env::var("SENTINEL_TEST_PROMETHEUS_BIN").unwrap_or_else(|_| "prometheus".into());
    if Command::new(&binary).arg("--version").output().is_err() {
        panic!(
            "these tests need a real Prometheus: install Debian's `prometheus` package or run scripts/test.sh, which does"
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = EXPORTED
        .replace("NOW_MINUS_1H", &(now - 3600).to_string())
        .replace("NOW_MINUS_3D", &(now - 3 * 86400).to_string());
    let exporter = serve_in_background(axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    ));
    let dir = tempfile::Builder::new()
        .prefix("sentinel-test-prom-")
        .tempdir()
        .unwrap()
        .keep();
    let config = dir.join("prometheus.yml");
    let mut file = std::fs::File::create(&config).unwrap();
    write!(
        file,
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['{exporter}']\n"
    )
    .unwrap();
    let port = free_port();
    spawn_until_tests_exit(
        &format!(
            "{binary} --config.file={config} --storage.tsdb.path={data} --web.listen-address=127.0.0.1:{port} --log.level=warn",
            config = config.display(),
            data = dir.join("data").display(),
        ),
        &dir,
        "prometheus.log",
    );
    let url = format!("http://127.0.0.1:{port}");
    // Ready when the exporter's series are queryable.
    let deadline = Instant::now() + Duration::from_secs(60);
    let probe = format!("{url}/api/v1/query?query=demo_disk_free_ratio");
    loop {
        let out = Command::new("curl")
            .args(["-s", "-m", "2", &probe])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).contains("/var") {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
            panic!("Prometheus did not start or scrape in time; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Queries name whole seconds: make sure the first samples lie a little in the past.
    std::thread::sleep(Duration::from_secs(2));
    Prometheus {
        url,
        exported_at: now,
    }
}

/// Creates the SQLite file `path` with `script` (a test's own setup, read-write) and returns
/// the URL a source reads it by.
pub async fn sqlite_file_with(path: &Path, script: &str) -> String {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_string()))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    format!("sqlite://{}", path.display())
}

/// The machine's PostgreSQL, as the tests reach it (scripts/test.sh starts it).
pub const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Runs `statements` in order, as the administrator, on the PostgreSQL or MariaDB at `url`: a
/// test's own setup, never Sentinel's.
pub async fn run_sql(url: &str, statements: &[String]) {
    if let Err(error) = try_run_sql(url, statements).await {
        panic!("{url} (scripts/test.sh starts it): {error}");
    }
}

/// [`run_sql`] on the machine's PostgreSQL.
pub async fn postgres_setup(statements: &[String]) {
    run_sql(POSTGRES, statements).await;
}

/// The machine's MariaDB, as the tests reach it (scripts/test.sh starts it).
pub const MARIADB: &str = "mysql://root@127.0.0.1:3306/test";

/// [`run_sql`] on the machine's MariaDB.
pub async fn mariadb_setup(statements: &[String]) {
    run_sql(MARIADB, statements).await;
}

/// The login role (PostgreSQL) and account (MariaDB) the tests give Sentinel: it only reads,
/// as an operator's should. The tests' own setup keeps the administrator.
pub const READER: &str = "sentinel_reader";

/// Makes [`READER`] able to read every table of the database at `admin_url` (PostgreSQL or
/// MariaDB, reached as the administrator), now and the ones created later, and returns the URL
/// that logs in as it. Idempotent and safe while other test binaries do the same.
pub async fn reader_url(admin_url: &str) -> String {
    let (scheme, rest) = admin_url.split_once("://").unwrap();
    let (_, server) = rest.split_once('@').unwrap();
    let statements: Vec<String> = if scheme == "postgres" {
        vec![
            format!(
                "DO $$ BEGIN CREATE ROLE {READER} LOGIN; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            ),
            format!("GRANT pg_read_all_stats TO {READER}"),
            format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT SELECT ON TABLES TO {READER}"
            ),
            format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT USAGE ON SCHEMAS TO {READER}"
            ),
            format!(
                "DO $$ DECLARE s text; BEGIN \
                 FOR s IN SELECT nspname FROM pg_namespace \
                   WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP \
                   EXECUTE format('GRANT USAGE ON SCHEMA %I TO {READER}', s); \
                   EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO {READER}', s); \
                 END LOOP; END $$"
            ),
        ]
    } else {
        let database = server.rsplit_once('/').map_or("test", |(_, db)| db);
        ["127.0.0.1", "localhost"]
            .iter()
            .flat_map(|host| {
                [
                    format!("CREATE USER IF NOT EXISTS '{READER}'@'{host}'"),
                    format!("GRANT SELECT ON `{database}`.* TO '{READER}'@'{host}'"),
                ]
            })
            .collect()
    };
    // Concurrent GRANTs on one object can fail ("tuple concurrently updated"): try again.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_run_sql(admin_url, &statements).await {
            Ok(()) => break,
            Err(error) if attempt < 10 => {
                eprintln!("setting up {READER} (attempt {attempt}): {error}");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(error) => panic!("cannot set up {READER} on {admin_url}: {error}"),
        }
    }
    format!("{scheme}://{READER}@{server}")
}

/// [`run_sql`] that reports the first error instead of panicking.
async fn try_run_sql(url: &str, statements: &[String]) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    async fn run<C: Connection>(url: &str, statements: &[String]) -> Result<(), sqlx::Error>
    where
        for<'c> &'c mut C: sqlx::Executor<'c>,
    {
        let mut conn = C::connect(url).await?;
        for statement in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }
    if url.starts_with("postgres") {
        run::<sqlx::PgConnection>(url, statements).await
    } else {
        run::<sqlx::MySqlConnection>(url, statements).await
    }
}

/// [`reader_url`] on the machine's PostgreSQL.
pub async fn postgres_reader() -> String {
    reader_url(POSTGRES).await
}

/// [`reader_url`] on the machine's MariaDB.
pub async fn mariadb_reader() -> String {
    reader_url(MARIADB).await
}

//! The demo's embedded world: a small shop's server in a temp directory. An app writes its log
//! and keeps its data in SQLite, a worker pings every five minutes, a nightly cron job backs
//! the database up and pings Sentinel through the real ping API (in-process, no network).
//! The script decides when things go wrong.

mod faults;
pub(crate) mod statements;

pub(crate) use faults::Faults;

use crate::server::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use chrono::{DateTime, Timelike, Utc};
use sqlx::SqlitePool;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// What happens in the world, minute by minute.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// Nights (0-based from the start) on which the backup still runs.
    pub backup_runs_on_nights: Vec<u32>,
    /// The app writes nothing in this window (a deploy restart): a blip.
    pub app_pause: (DateTime<Utc>, DateTime<Utc>),
    /// The worker skips the ping due in this minute: a blip.
    pub worker_missed_ping: DateTime<Utc>,
    /// A deploy ships a bug: from then on a route answers malformed ids with an error nobody
    /// has seen before, every few minutes for a while.
    pub new_error_from: DateTime<Utc>,
    pub new_error_until: DateTime<Utc>,
    pub faults: Faults,
}

pub(crate) struct World {
    pub dir: PathBuf,
    pub log_path: PathBuf,
    pub access_log: PathBuf,
    pub backups: PathBuf,
    app_db: SqlitePool,
    router: axum::Router,
    pub backup_token: String,
    pub worker_token: String,
    start: DateTime<Utc>,
    script: Script,
}

/// Something the narrator may mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Happening {
    BackupRan { minutes: u32 },
    BackupSkipped,
    AppPaused { minutes: i64 },
    AppResumed,
    WorkerSkippedPing,
    NewErrorStarts,
    ScannerStarts,
    BadJsonStarts,
    WorkerCrashed,
    WorkerRestarted,
    IndexDropped,
    IndexRestored,
    SpendLoopStarts,
}

fn set_mtime(path: &Path, at: DateTime<Utc>) -> std::io::Result<()> {
    let when = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(at.timestamp_millis()).unwrap_or(0));
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(when)
}

impl World {
    pub(crate) async fn create(
        dir: &Path,
        start: DateTime<Utc>,
        script: Script,
        backup_token: String,
        worker_token: String,
        state: AppState,
    ) -> Result<World, String> {
        let log_dir = dir.join("logs");
        let backups = dir.join("backups");
        let nginx_dir = dir.join("nginx");
        for d in [&log_dir, &backups, &nginx_dir] {
            std::fs::create_dir_all(d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("shop.db"))
            .create_if_missing(true);
        let app_db = SqlitePool::connect_with(options)
            .await
            .map_err(|e| format!("cannot create the demo app database: {e}"))?;
        for statement in [
            "CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, amount_cents INTEGER NOT NULL, created_at TEXT NOT NULL)",
            faults::TABLES[0],
            faults::TABLES[1],
        ] {
            sqlx::query(statement)
                .execute(&app_db)
                .await
                .map_err(|e| format!("cannot set up the demo app database: {e}"))?;
        }
        let log_path = log_dir.join("app.log");
        std::fs::write(&log_path, b"")
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        set_mtime(&log_path, start).map_err(|e| e.to_string())?;
        let access_log = nginx_dir.join("access.log");
        std::fs::write(&access_log, b"")
            .map_err(|e| format!("cannot create {}: {e}", access_log.display()))?;
        Ok(World {
            dir: dir.to_path_buf(),
            log_path,
            access_log,
            backups,
            app_db,
            router: crate::server::router(state, 10_000),
            backup_token,
            worker_token,
            start,
            script,
        })
    }

    /// Pings through the real ping API handler, as curl in a crontab would.
    async fn ping(&self, path: &str, body: &str) {
        let request = Request::post(path)
            .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))))
            .body(Body::from(body.to_string()));
        if let Ok(request) = request {
            let _ = self.router.clone().oneshot(request).await;
        }
    }

    fn append_log(&self, at: DateTime<Utc>, line: &str) {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log_path)
        {
            let _ = writeln!(file, "{} {line}", at.format("%Y-%m-%dT%H:%M:%SZ"));
        }
        let _ = set_mtime(&self.log_path, at);
    }

    /// Advances the world to minute `now`; returns what is worth narrating.
    pub(crate) async fn tick(&mut self, now: DateTime<Utc>) -> Vec<Happening> {
        let mut happened = self.tick_faults(now).await;
        let (pause_from, pause_to) = self.script.app_pause;
        if now == pause_from {
            happened.push(Happening::AppPaused {
                minutes: (pause_to - pause_from).num_minutes(),
            });
        }
        if now == pause_to {
            happened.push(Happening::AppResumed);
        }
        if !(pause_from..pause_to).contains(&now) {
            let minute = now.minute();
            self.append_log(
                now,
                &format!(
                    "INFO request GET /products/{} 200 {}ms",
                    minute % 17,
                    20 + minute % 30
                ),
            );
            // A familiar error: the payment gateway times out once an hour, never `min_count`
            // times within `window`, so it is never paged.
            if minute == 30 {
                self.append_log(
                    now,
                    &format!(
                        "ERROR payment gateway timeout after 30000ms (order {})",
                        4700 + now.hour()
                    ),
                );
            }
            if now == self.script.new_error_from {
                happened.push(Happening::NewErrorStarts);
            }
            if (self.script.new_error_from..self.script.new_error_until).contains(&now)
                && minute.is_multiple_of(3)
            {
                let id = format!("a{}x-{}", minute, now.hour());
                self.append_log(
                    now,
                    &format!("ERROR invalid input syntax for type uuid: \"{id}\" (GET /orders/{id}, customer bob@example.com)"),
                );
            }
            if minute == 0 {
                let _ = sqlx::query(
                    "INSERT INTO orders (customer_id, amount_cents, created_at) VALUES (?, ?, ?)",
                )
                .bind(i64::from(now.hour()) % 7 + 1)
                .bind(1999 + i64::from(now.hour()) * 100)
                .bind(now.to_rfc3339())
                .execute(&self.app_db)
                .await;
            }
        }
        if now.minute().is_multiple_of(5) {
            if now == self.script.worker_missed_ping {
                happened.push(Happening::WorkerSkippedPing);
            } else {
                self.ping(&format!("/ping/{}", self.worker_token), "").await;
            }
        }
        if now.hour() == 3 && now.minute() == 0 {
            let night = u32::try_from((now.date_naive() - self.start.date_naive()).num_days() - 1)
                .unwrap_or(0);
            if self.script.backup_runs_on_nights.contains(&night) {
                self.ping(&format!("/ping/{}/start", self.backup_token), "")
                    .await;
                happened.push(Happening::BackupRan { minutes: 12 });
            } else {
                happened.push(Happening::BackupSkipped);
            }
        }
        if now.hour() == 3 && now.minute() == 12 {
            let night = u32::try_from((now.date_naive() - self.start.date_naive()).num_days() - 1)
                .unwrap_or(0);
            if self.script.backup_runs_on_nights.contains(&night) {
                let file = self
                    .backups
                    .join(format!("shop-{}.sql.gz", now.format("%Y-%m-%d")));
                if std::fs::write(&file, b"\x1f\x8b demo backup").is_ok() {
                    let _ = set_mtime(&file, now);
                }
                self.ping(
                    &format!("/ping/{}", self.backup_token),
                    "pg_dump: 1.2 MB written\n",
                )
                .await;
            }
        }
        happened
    }
}

//! Sentinel's own embedded SQLite store (WAL): alert states, silences, heartbeat pings and
//! runs, baselines, the outbox, and what the operator decided through the chat. The only
//! database Sentinel ever writes.

pub mod alerts;
pub mod chat;
pub mod heartbeats;
pub mod intake;
pub mod operator;
pub mod outbox;
pub mod silences;
pub mod templates;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the store could not be used. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the store directory {path}: {source}; create it or set [store] path to a writable place"
    )]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the store at {path} is damaged ({detail}). Nothing was changed: move it aside (mv {path} {path}.damaged) and start again to get a fresh store, or restore it from a backup"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the store at {path} is in use by another sentinel process (lock {lock}); stop that process or point this one at another store with [store] path"
    )]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("the store at {path} could not be opened: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("store data could not be decoded: {0}")]
    Decode(String),
}

/// A handle on the store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    /// Held for the life of the process when opened exclusively; released on drop.
    _lock: Option<std::sync::Arc<File>>,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Store {
    /// Opens (creating if missing) the store for a long-running process that must be the
    /// only writer: `sentinel run` and `sentinel check`.
    pub async fn open_exclusive(path: &Path) -> Result<Store, StoreError> {
        Self::create_parent(path)?;
        let lock = lock_path(path);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|error| StoreError::Open {
                path: path.to_path_buf(),
                detail: format!("cannot open lock file {}: {error}", lock.display()),
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: path.to_path_buf(),
                    lock,
                });
            }
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(StoreError::Open {
                    path: path.to_path_buf(),
                    detail: format!("cannot lock {}: {error}", lock.display()),
                });
            }
        }
        let mut store = Self::open(path).await?;
        store._lock = Some(std::sync::Arc::new(file));
        Ok(store)
    }

    /// Opens (creating if missing) the store without taking the process lock.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        Self::create_parent(path)?;
        let existed = path.exists();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let corrupt = |detail: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            detail,
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|error| classify_open_error(path, error))?;
        if existed {
            let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
                .fetch_one(&pool)
                .await
                .map_err(|error| corrupt(error.to_string()))?;
            if verdict != "ok" {
                return Err(corrupt(verdict));
            }
        }
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|error| match error {
                sqlx::migrate::MigrateError::Execute(inner) => classify_open_error(path, inner),
                other => corrupt(other.to_string()),
            })?;
        Ok(Store {
            pool,
            path: path.to_path_buf(),
            _lock: None,
        })
    }

    fn create_parent(path: &Path) -> Result<(), StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        Ok(())
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the write-ahead log into the main file and closes every connection.
    pub async fn close(&self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }

    /// Reads a remembered value of a watch (a baseline, a learned number).
    pub async fn baseline(
        &self,
        watch: &str,
        subject: &str,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT value FROM baselines WHERE watch = ? AND subject = ? AND name = ?")
                .bind(watch)
                .bind(subject)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Remembers a value of a watch.
    pub async fn set_baseline(
        &self,
        watch: &str,
        subject: &str,
        name: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO baselines (watch, subject, name, value, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (watch, subject, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(watch)
        .bind(subject)
        .bind(name)
        .bind(value)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn classify_open_error(path: &Path, error: sqlx::Error) -> StoreError {
    let detail = error.to_string();
    let lowered = detail.to_ascii_lowercase();
    if lowered.contains("not a database")
        || lowered.contains("malformed")
        || lowered.contains("corrupt")
    {
        StoreError::Corrupt {
            path: path.to_path_buf(),
            detail,
        }
    } else if lowered.contains("locked") || lowered.contains("busy") {
        StoreError::Locked {
            path: path.to_path_buf(),
            lock: lock_path(path),
        }
    } else {
        StoreError::Open {
            path: path.to_path_buf(),
            detail,
        }
    }
}

/// Times are stored as Unix milliseconds.
pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn opt_from_millis(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_reported_as_damaged_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sentinel.db");
        let garbage = b"this is not sqlite, it is somebody's notes\n".repeat(200);
        std::fs::write(&path, &garbage).unwrap();
        let error = Store::open(&path).await.unwrap_err();
        assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
        assert!(error.to_string().contains("move it aside"), "{error}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            garbage,
            "the damaged file must not be touched"
        );
    }

    #[tokio::test]
    async fn a_second_exclusive_open_is_refused_while_the_first_lives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = Store::open_exclusive(&path).await.unwrap();
        let error = Store::open_exclusive(&path).await.unwrap_err();
        assert!(matches!(error, StoreError::Locked { .. }), "{error}");
        drop(first);
        Store::open_exclusive(&path).await.unwrap();
    }

    #[tokio::test]
    async fn baselines_round_trip_and_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = Utc::now();
        assert_eq!(store.baseline("w", "s", "median").await.unwrap(), None);
        store
            .set_baseline("w", "s", "median", "4.5", now)
            .await
            .unwrap();
        store
            .set_baseline("w", "s", "median", "5.5", now)
            .await
            .unwrap();
        assert_eq!(
            store.baseline("w", "s", "median").await.unwrap().as_deref(),
            Some("5.5")
        );
    }
}

//! Sentinel's own embedded SQLite store (WAL): alert states, silences, heartbeat pings and
//! runs, what watches remember, the outbox, and what the operator decided through the chat. The only
//! database Sentinel ever writes.
//!
//! One writer: every write goes through [`Store::write`], a `BEGIN IMMEDIATE` transaction on
//! the store's single writer connection, so writes queue in the process instead of failing
//! with "database is locked". Reads use [`Store::reader`], a pool of read-only connections
//! (a write attempted through it fails at once), which WAL lets run beside the writer.

pub(crate) mod alerts;
pub mod audit;
pub(crate) mod chat;
pub mod disputes;
pub(crate) mod evaluations;
pub mod evidence_packs;
pub mod heartbeats;
pub mod intake;
pub mod investigations;
pub mod operator;
pub(crate) mod outbox;
pub mod reports;
pub(crate) mod retention;
pub(crate) mod silences;
pub(crate) mod templates;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool};
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

/// A write transaction on the store's one writer connection; commit it, or dropping it rolls
/// everything back.
pub type WriteTx = sqlx::Transaction<'static, Sqlite>;

/// How long a write waits for another process holding the database (`sentinel logs learn`
/// beside the daemon), and a read for a checkpoint.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a write waits for its turn on the writer connection before giving up.
const WRITER_WAIT: Duration = Duration::from_secs(30);

/// The writer's page cache (SQLite's negative size: KiB), grown only as pages are used: enough
/// for the index pages every ping touches (one leaf per check in each ping index) in a store of
/// a million pings, so a ping does not wait on the disk.
const WRITER_CACHE: &str = "-16384";

/// Read-only connections: the heartbeat watches, /status, the dispatcher's lookups.
const READERS: u32 = 4;

/// A handle on the store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Read-only connections; a write through them fails ("attempt to write a readonly database").
    reader: SqlitePool,
    /// The one connection every write goes through, in `BEGIN IMMEDIATE` transactions.
    writer: SqlitePool,
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
        let corrupt = |detail: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            detail,
        };
        let writer_options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", WRITER_CACHE);
        // The writer lives as long as the store: it keeps the WAL files in place for the
        // read-only connections, which cannot create them.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(WRITER_WAIT)
            .connect_with(writer_options)
            .await
            .map_err(|error| classify_open_error(path, error))?;
        if existed {
            let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
                .fetch_one(&writer)
                .await
                .map_err(|error| corrupt(error.to_string()))?;
            if verdict != "ok" {
                return Err(corrupt(verdict));
            }
        }
        sqlx::migrate!("./migrations")
            .run(&writer)
            .await
            .map_err(|error| match error {
                sqlx::migrate::MigrateError::Execute(inner) => classify_open_error(path, inner),
                other => corrupt(other.to_string()),
            })?;
        let reader_options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT);
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(reader_options)
            .await
            .map_err(|error| classify_open_error(path, error))?;
        Ok(Store {
            reader,
            writer,
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

    /// The read-only connections, for queries. Writes go through [`Store::write`].
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Starts a write transaction: waits for the one writer connection, then takes SQLite's
    /// write lock at once (`BEGIN IMMEDIATE`), so nothing it reads can be overtaken by
    /// another write before it commits.
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Runs one writing statement in a write transaction of its own.
    pub async fn write_one(
        &self,
        statement: sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<sqlx::sqlite::SqliteQueryResult, StoreError> {
        let mut tx = self.write().await?;
        let result = statement.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(result)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the write-ahead log into the main file and closes every connection.
    pub async fn close(&self) {
        self.reader.close().await;
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await;
        self.writer.close().await;
    }

    /// Reads what a watch remembered under `subject` and `name` (a baseline, a read position).
    pub async fn remembered(
        &self,
        watch: &str,
        subject: &str,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT value FROM watch_memory WHERE watch = ? AND subject = ? AND name = ?",
        )
        .bind(watch)
        .bind(subject)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Remembers a value of a watch under `subject` and `name`.
    pub async fn remember(
        &self,
        watch: &str,
        subject: &str,
        name: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO watch_memory (watch, subject, name, value, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (watch, subject, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(watch)
        .bind(subject)
        .bind(name)
        .bind(value)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
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
    async fn watch_memory_round_trips_and_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = Utc::now();
        assert_eq!(store.remembered("w", "s", "median").await.unwrap(), None);
        store
            .remember("w", "s", "median", "4.5", now)
            .await
            .unwrap();
        store
            .remember("w", "s", "median", "5.5", now)
            .await
            .unwrap();
        assert_eq!(
            store
                .remembered("w", "s", "median")
                .await
                .unwrap()
                .as_deref(),
            Some("5.5")
        );
    }

    #[tokio::test]
    async fn a_write_through_the_read_connections_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let error = sqlx::query("INSERT INTO chat_state (name, value) VALUES ('offset', '1')")
            .execute(store.reader())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("readonly"), "{error}");
        assert_eq!(store.chat_state("offset").await.unwrap(), None);
    }

    /// What the engine and the ping route do at once: transactions that read before they
    /// write (the tracker's), single writes, and reads, all concurrently.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_queue_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..64 {
            let store = store.clone();
            tasks.spawn(async move {
                let watch = format!("w{}", n % 8);
                for round in 0..10 {
                    // Read first, then write, in one transaction: SQLite's BUSY_SNAPSHOT case
                    // when the transaction is deferred.
                    let mut tx = store.write().await?;
                    let seen: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM watch_memory WHERE watch = ?")
                            .bind(&watch)
                            .fetch_one(&mut *tx)
                            .await?;
                    tokio::task::yield_now().await;
                    sqlx::query("INSERT INTO watch_memory (watch, subject, name, value, updated_at) VALUES (?, ?, ?, ?, 0)")
                        .bind(&watch)
                        .bind(format!("{n}"))
                        .bind(format!("r{round}"))
                        .bind(seen.to_string())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    store
                        .set_chat_state(&format!("task{n}"), &round.to_string())
                        .await?;
                    store.remembered(&watch, &format!("{n}"), "r0").await?;
                    store.ensure_heartbeat(&watch, now).await?;
                }
                Ok::<(), StoreError>(())
            });
        }
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM watch_memory")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(rows, 640);
    }
}

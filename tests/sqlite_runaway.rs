//! A runaway SQLite statement (an endless recursive CTE) stops at its timeout, or when its
//! caller stops waiting, and leaves no thread spinning behind it. Alone in its test binary: it
//! counts the threads and the CPU time of the whole process, which other tests would disturb.

mod support;

use sentinel::source::sql::caps::ResultCaps;
use sentinel::source::sql::database::{QueryError, QueryResult, SqlSettings, SqlSource};
use sentinel::source::sql::guard::{GuardPolicy, SqlDialectKind};
use sentinel::source::{SourceError, SourceErrorKind};
use std::time::{Duration, Instant};

fn source(url: &str, statement_timeout: Duration) -> SqlSource {
    SqlSource::new(
        "app",
        SqlSettings {
            url: url.to_string(),
            statement_timeout,
            lock_timeout: Duration::from_millis(300),
            caps: ResultCaps::default(),
            policy: GuardPolicy::new(SqlDialectKind::Sqlite),
            allow_privileged_role: false,
        },
    )
}

fn source_error(result: Result<QueryResult, QueryError>) -> SourceError {
    match result {
        Err(QueryError::Source(error)) => error,
        other => panic!("expected an error from the database, got {other:?}"),
    }
}

fn threads_of_this_process() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// CPU time this process used (user + system), from /proc/self/stat, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; after the name they are 12th and 13th.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

const INFINITE_CTE: &str =
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r";

/// Waits (briefly) until the process is back to at most `threads` threads. Fewer is fine: the
/// runtime may retire an idle worker of its own meanwhile.
fn settle_threads(threads: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let now = threads_of_this_process();
        if now <= threads || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn sqlite_runaway_statement_stops_at_its_timeout_and_leaves_no_thread() {
    let dir = tempfile::tempdir().unwrap();
    let url = support::sqlite_file_with(
        &dir.path().join("app.db"),
        "CREATE TABLE t (id INTEGER, body TEXT); INSERT INTO t VALUES (1, 'a')",
    )
    .await;
    let timeout = Duration::from_millis(500);
    let lite = source(&url, timeout);
    // A first query so that whatever the runtime starts once is already there.
    lite.query("SELECT 1").await.unwrap();
    let threads = threads_of_this_process();

    let started = Instant::now();
    let error = source_error(lite.query(INFINITE_CTE).await);
    let took = started.elapsed();
    assert_eq!(error.kind, SourceErrorKind::Timeout, "{error}");
    assert!(
        error.detail.contains("statement_timeout (500ms)"),
        "{error}"
    );
    assert!(
        took < timeout + Duration::from_secs(1),
        "stopped after {took:?}, the timeout is {timeout:?}"
    );
    let after = settle_threads(threads);
    assert!(
        after <= threads,
        "a worker thread outlived the statement: {after} threads, {threads} before it"
    );

    // A caller that stops waiting (a watch's own timeout) stops the statement too.
    let patient = source(&url, Duration::from_secs(60));
    let gave_up =
        tokio::time::timeout(Duration::from_millis(300), patient.query(INFINITE_CTE)).await;
    assert!(gave_up.is_err(), "the statement cannot finish");
    let after = settle_threads(threads);
    assert!(
        after <= threads,
        "the abandoned statement kept its thread: {after} threads, {threads} before it"
    );
    let before = cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks() - before;
    assert!(
        spent < 20,
        "{spent} ticks of CPU in an idle second: something still spins"
    );
}

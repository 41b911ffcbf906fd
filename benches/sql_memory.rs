//! Memory of `sentinel query` on results that are huge in one way: one 300 MB cell on
//! PostgreSQL, a 400 MB blob on SQLite, 20 million rows on PostgreSQL and SQLite, with the
//! default caps (1000 rows, 1 MiB). Each runs the built binary as a child process against the
//! local PostgreSQL and a temporary SQLite file; the peak RSS of the child (its `ru_maxrss`
//! from `wait4`) is printed next to that of `SELECT 1` on the same source, with the wall time.
//! Goal: under 100 MB above idle for each.
//!
//! cargo bench --bench sql_memory

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const GOAL_MB: f64 = 100.0;

/// What one run of `sentinel query` cost.
struct Run {
    peak_mb: f64,
    wall: Duration,
    code: i32,
    last_line: String,
}

// The child is reaped by `wait4`, which also gives its own peak RSS; `Child::wait` would not.
#[allow(clippy::zombie_processes)]
fn sentinel_query(config: &Path, source: &str, query: &str) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args(["query", "-c"])
        .arg(config)
        .args([source, query])
        .env("SENTINEL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sentinel query");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let mut err = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = stderr.read_to_string(&mut err);
        format!("{out}{err}")
    });
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 on sentinel query");
    let wall = started.elapsed();
    let text = reader.join().unwrap_or_default();
    Run {
        // ru_maxrss is in kilobytes on Linux.
        peak_mb: usage.ru_maxrss as f64 / 1024.0,
        wall,
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        last_line: text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .chars()
            .take(110)
            .collect(),
    }
}

fn sqlite_file(dir: &Path) -> String {
    let path = dir.join("app.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
                .await
                .expect("create the SQLite file");
        sqlx::query("CREATE TABLE t (id INTEGER)")
            .execute(&mut conn)
            .await
            .expect("table");
        conn.close().await.expect("close");
    });
    format!("sqlite://{}", path.display())
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = sqlite_file(dir.path());
    let config = dir.path().join("sentinel.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}/s.db\"\n\
             [sources.pg]\nkind = \"postgres\"\nurl = \"{POSTGRES}\"\nstatement_timeout = \"60s\"\n\
             [sources.lite]\nkind = \"sqlite\"\nurl = \"{sqlite}\"\nstatement_timeout = \"60s\"\n",
            dir.path().display()
        ),
    )
    .expect("config");

    let idle_pg = sentinel_query(&config, "pg", "SELECT 1");
    let idle_lite = sentinel_query(&config, "lite", "SELECT 1");
    println!(
        "idle (SELECT 1): PostgreSQL {:.1} MB, SQLite {:.1} MB peak RSS",
        idle_pg.peak_mb, idle_lite.peak_mb
    );
    let cases = [
        (
            "one 300 MB cell, PostgreSQL",
            "pg",
            "SELECT repeat('x', 300000000) AS big",
            idle_pg.peak_mb,
        ),
        (
            "one 400 MB blob, SQLite",
            "lite",
            "SELECT randomblob(400000000) AS big",
            idle_lite.peak_mb,
        ),
        (
            "20 M rows, PostgreSQL",
            "pg",
            "SELECT g FROM generate_series(1, 20000000) AS g",
            idle_pg.peak_mb,
        ),
        (
            "20 M rows, SQLite",
            "lite",
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 20000000) SELECT n FROM r",
            idle_lite.peak_mb,
        ),
    ];
    let mut all_within = true;
    for (name, source, query, idle) in cases {
        let run = sentinel_query(&config, source, query);
        let above = run.peak_mb - idle;
        all_within &= above < GOAL_MB;
        println!(
            "{name}: peak RSS {:.1} MB ({above:+.1} MB over idle; goal < {GOAL_MB:.0}), {:.2} s, exit {}: {}",
            run.peak_mb,
            run.wall.as_secs_f64(),
            run.code,
            run.last_line
        );
    }
    println!(
        "{}",
        if all_within {
            "every case within the goal"
        } else {
            "SOME CASE OVER THE GOAL"
        }
    );
}

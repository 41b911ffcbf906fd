//! The `stuck` watch end to end against real databases: jobs stuck in `running` page once, do
//! not page again while still stuck, and resolve when they finish (PostgreSQL), and the same
//! generated query finds stuck rows on MariaDB and SQLite with their own clocks and time types.

mod support;

use sentinel::config::Config;
use sentinel::store::Store;
use sqlx::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn config(dir: &Path, kind: &str, url: &str, table: &str) -> Config {
    let text = format!(
        r#"
[store]
path = "{store}"

[sources.app]
kind = "{kind}"
url = "{url}"

[watches.jobs]
kind = "stuck"
description = "Background jobs"
source = "app"
table = "{table}"
state_column = "state"
states = ["running"]
since_column = "started_at"
group_by = "kind"
older_than = "15m"
notify_resolved = true
"#,
        store = dir.join("s.db").display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

#[tokio::test]
async fn stuck_jobs_page_once_and_resolve_when_they_finish() {
    let schema = format!("sentinel_stuck_{}", std::process::id());
    support::postgres_setup(&[
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
        format!("CREATE TABLE {schema}.jobs (id int, kind text, state text, started_at timestamptz)"),
        // Three e-mail jobs running for an hour (stuck), a report running for two minutes (not
        // yet), and plenty of finished work.
        format!("INSERT INTO {schema}.jobs VALUES (1, 'email', 'running', now() - interval '61 minutes'), (2, 'email', 'running', now() - interval '40 minutes'), (3, 'email', 'running', now() - interval '20 minutes'), (4, 'report', 'running', now() - interval '2 minutes')"),
        format!("INSERT INTO {schema}.jobs SELECT g, 'email', 'done', now() - interval '3 hours' FROM generate_series(10, 500) g"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        "postgres",
        &support::postgres_reader().await,
        &format!("{schema}.jobs"),
    );
    let pages = Arc::new(Mutex::new(Vec::new()));

    let first = support::engine_pass(&config, &pages).await;
    assert_eq!((first.firing, first.blind), (1, 0), "{first:?}");
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 1, "{pages:?}");
        let page = &pages[0];
        assert_eq!(page.state, "firing");
        assert!(
            page.title.contains("3 email jobs stuck in running"),
            "names the job type and how many: {}",
            page.title
        );
        assert!(page.title.contains("oldest since"), "{}", page.title);
        assert!(
            page.title.contains("1h 1m"),
            "says for how long: {}",
            page.title
        );
        assert!(!page.title.contains("report"), "{}", page.title);
    }

    // Still stuck: nothing new is said.
    let second = support::engine_pass(&config, &pages).await;
    assert_eq!(second.firing, 1);
    assert_eq!(
        pages.lock().unwrap().len(),
        1,
        "no second page while still stuck"
    );

    // The jobs finish: the alert resolves.
    support::postgres_setup(&[format!(
        "UPDATE {schema}.jobs SET state = 'done' WHERE kind = 'email'"
    )])
    .await;
    let third = support::engine_pass(&config, &pages).await;
    assert_eq!(third.firing, 0, "{third:?}");
    {
        let pages = pages.lock().unwrap();
        assert_eq!(pages.len(), 2, "{pages:?}");
        assert_eq!(pages[1].state, "resolved");
    }
    support::postgres_setup(&[format!("DROP SCHEMA {schema} CASCADE")]).await;
}

#[tokio::test]
async fn mariadb_and_sqlite_find_stuck_rows_with_their_own_time_types() {
    // MariaDB: DATETIME in UTC, as most frameworks store it.
    let table = format!("sentinel_stuck_{}", std::process::id());
    support::mariadb_setup(&[
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} (id int, kind varchar(20), state varchar(20), started_at datetime)"
        ),
        format!(
            "INSERT INTO {table} VALUES (1, 'sync', 'running', UTC_TIMESTAMP() - INTERVAL 2 HOUR), (2, 'sync', 'running', UTC_TIMESTAMP() - INTERVAL 1 MINUTE)"
        ),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let report = support::engine_pass(
        &config(
            dir.path(),
            "mysql",
            &support::mariadb_reader().await,
            &table,
        ),
        &pages,
    )
    .await;
    assert_eq!((report.firing, report.blind), (1, 0), "{report:?}");
    assert!(pages.lock().unwrap()[0].title.contains("1 sync job stuck"));
    support::mariadb_setup(&[format!("DROP TABLE {table}")]).await;

    // SQLite: text timestamps in two layouts and Unix seconds, side by side.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let mut lite = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    for statement in [
        "CREATE TABLE jobs (id int, kind text, state text, started_at)".to_string(),
        format!(
            "INSERT INTO jobs VALUES (1, 'a', 'running', '{}')",
            hour_ago.format("%Y-%m-%d %H:%M:%S")
        ),
        format!(
            "INSERT INTO jobs VALUES (2, 'b', 'running', '{}')",
            hour_ago.to_rfc3339()
        ),
        format!(
            "INSERT INTO jobs VALUES (3, 'c', 'running', {})",
            hour_ago.timestamp()
        ),
        "INSERT INTO jobs VALUES (4, 'd', 'running', datetime('now'))".to_string(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut lite)
            .await
            .unwrap();
    }
    lite.close().await.unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let config = config(
        dir.path(),
        "sqlite",
        &format!("sqlite://{}", db.display()),
        "jobs",
    );
    let report = support::engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (3, 0), "{report:?}");
    let store = Store::open(&config.store.path).await.unwrap();
    let mut subjects: Vec<String> = store
        .all_alerts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.subject)
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["a", "b", "c"], "the fresh job d is not stuck");
}

fn redis_config(dir: &Path, queue: &str, layout: &str, extra: &str) -> Config {
    let text = format!(
        r#"
[store]
path = "{store}"

[sources.queues]
kind = "redis"
url = "redis://127.0.0.1:6379/0"

[watches.mail]
kind = "stuck"
description = "Mail queue"
source = "queues"
queue = "{queue}"
layout = "{layout}"
{extra}
"#,
        store = dir.join("s.db").display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open("redis://127.0.0.1:6379/0")
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis on 127.0.0.1:6379 (scripts/test.sh starts it)")
}

#[tokio::test]
async fn a_sidekiq_queue_whose_oldest_job_waited_too_long_pages() {
    let queue = format!("sentinel-stuck-{}", std::process::id());
    let key = format!("queue:{queue}");
    let mut conn = redis().await;
    let hour_ago = chrono::Utc::now().timestamp() as f64 - 3600.0;
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    for (i, at) in [hour_ago, hour_ago + 60.0, hour_ago + 120.0]
        .iter()
        .enumerate()
    {
        // Sidekiq LPUSHes new jobs: the oldest sits at the right end.
        let job = format!(r#"{{"class":"MailJob","jid":"j{i}","enqueued_at":{at}}}"#);
        let _: () = redis::cmd("LPUSH")
            .arg(&key)
            .arg(job)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = redis_config(dir.path(), &queue, "sidekiq", "older_than = \"15m\"");
    let pages = Arc::new(Mutex::new(Vec::new()));
    let report = support::engine_pass(&config, &pages).await;
    assert_eq!((report.firing, report.blind), (1, 0), "{report:?}");
    let title = pages.lock().unwrap()[0].title.clone();
    assert!(
        title.contains(&format!("3 jobs waiting in {queue}, the oldest for 1h")),
        "{title}"
    );

    // The workers catch up: the queue empties and the alert resolves.
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let report = support::engine_pass(&config, &pages).await;
    assert_eq!(report.firing, 0, "{report:?}");
}

#[tokio::test]
async fn a_list_that_never_falls_is_stuck_only_after_enough_observations() {
    let key = format!("sentinel-stalled-{}", std::process::id());
    let mut conn = redis().await;
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = redis_config(dir.path(), &key, "list", "stalled_for = 3");
    let pages = Arc::new(Mutex::new(Vec::new()));
    let mut firing = Vec::new();
    // Lengths 2, 1 (draining), 1, 2, 2: stuck only once three observations never fell.
    for length in [2, 1, 1, 2, 2] {
        let _: () = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        for i in 0..length {
            let _: () = redis::cmd("RPUSH")
                .arg(&key)
                .arg(i)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        firing.push(support::engine_pass(&config, &pages).await.firing);
    }
    assert_eq!(firing, [0, 0, 0, 1, 1], "judged on the remembered lengths");
    assert_eq!(
        pages.lock().unwrap().len(),
        1,
        "one page while it stays stuck"
    );
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
}

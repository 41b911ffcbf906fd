//! The investigator's toolbox against the real parts it reads: PostgreSQL and MariaDB (the
//! machine's, through a read-only role), SQLite files, a real Prometheus, the machine's Redis,
//! log files, a git repository, and a local HTTP server that counts requests. Loki is the
//! in-repo fake of its documented query API (Loki is not packaged for this machine).
//!
//! Each tool runs once for real; writes through `sql_query` are refused with the data intact;
//! paths out of the repository, git options passed as arguments and URLs no watch probes are
//! refused, with nothing read, written or requested.

mod support;

use axum::Router;
use chrono::Utc;
use sentinel::config::Config;
use sentinel::investigate::toolbox::{ToolOutput, Toolbox};
use serde_json::{Value, json};
use sqlx::Connection;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn config(dir: &Path, sections: &str) -> Config {
    let text = format!(
        "[store]\npath = \"{}\"\n\n{sections}",
        dir.join("s.db").display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

fn toolbox(config: &Config) -> Toolbox {
    let sources = sentinel::engine::build::sources(config).unwrap();
    Toolbox::new(config, &sources)
}

async fn call(toolbox: &Toolbox, tool: &str, input: Value) -> ToolOutput {
    let output = toolbox.call(tool, &input, Utc::now()).await;
    assert_eq!(output.tool, tool);
    output
}

/// The output of a call that must succeed.
async fn ok(toolbox: &Toolbox, tool: &str, input: Value) -> ToolOutput {
    let output = call(toolbox, tool, input.clone()).await;
    assert!(!output.is_error, "{tool} {input} failed: {}", output.text);
    output
}

/// The output of a call that must be refused or fail.
async fn refused(toolbox: &Toolbox, tool: &str, input: Value) -> ToolOutput {
    let output = call(toolbox, tool, input.clone()).await;
    assert!(
        output.is_error,
        "{tool} {input} was not refused: {}",
        output.text
    );
    output
}

fn names(toolbox: &Toolbox) -> Vec<String> {
    toolbox.definitions().into_iter().map(|d| d.name).collect()
}

#[tokio::test]
async fn postgres_reads_describes_and_explains_and_refuses_every_write() {
    let schema = format!("sentinel_toolbox_{}", std::process::id());
    support::postgres_setup(&[
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
        format!(
            "CREATE TABLE {schema}.orders (id int PRIMARY KEY, customer_email text NOT NULL, \
             total_cents int DEFAULT 0)"
        ),
        format!("CREATE INDEX orders_total_idx ON {schema}.orders (total_cents)"),
        format!(
            "INSERT INTO {schema}.orders VALUES (1, 'a@example.com', 500), \
             (2, 'b@example.com', 1200), (3, 'c@example.com', 80)"
        ),
        format!("ANALYZE {schema}.orders"),
    ])
    .await;
    let reader = support::postgres_reader().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!("[sources.app]\nkind = \"postgres\"\nurl = \"{reader}\"\n"),
    );
    let toolbox = toolbox(&config);
    assert_eq!(names(&toolbox), ["sql_query", "describe_table", "explain"]);
    let definition = &toolbox.definitions()[0];
    assert!(
        definition.description.contains("app (PostgreSQL)"),
        "{}",
        definition.description
    );
    assert_eq!(
        definition.input_schema["properties"]["source"]["enum"],
        json!(["app"])
    );

    let rows = ok(
        &toolbox,
        "sql_query",
        json!({"source": "app", "sql": format!("SELECT id, total_cents FROM {schema}.orders ORDER BY id")}),
    )
    .await;
    assert_eq!(rows.source.as_deref(), Some("app"));
    assert_eq!(
        rows.text,
        "id | total_cents\n---+------------\n1  | 500\n2  | 1200\n3  | 80\n(3 rows)\n"
    );

    let described = ok(
        &toolbox,
        "describe_table",
        json!({"source": "app", "table": format!("{schema}.orders")}),
    )
    .await;
    for expected in [
        &format!("table {schema}.orders: about 3 rows (planner estimate)"),
        "customer_email | text    | not null",
        "total_cents    | integer | nullable | 0",
        "orders_pkey",
        &format!("CREATE INDEX orders_total_idx ON {schema}.orders USING btree (total_cents)"),
    ] {
        assert!(
            described.text.contains(expected),
            "{expected:?} missing from:\n{}",
            described.text
        );
    }
    assert!(
        described.query.contains("to_regclass("),
        "{}",
        described.query
    );
    let missing = refused(
        &toolbox,
        "describe_table",
        json!({"source": "app", "table": "no_such_table"}),
    )
    .await;
    assert!(
        missing
            .text
            .contains("no table or view named no_such_table"),
        "{}",
        missing.text
    );
    let injected = refused(
        &toolbox,
        "describe_table",
        json!({"source": "app", "table": "orders'); DROP TABLE orders; --"}),
    )
    .await;
    assert!(
        injected.text.contains("not a plain table name"),
        "{}",
        injected.text
    );

    let plan = ok(
        &toolbox,
        "explain",
        json!({"source": "app", "sql": format!("SELECT * FROM {schema}.orders WHERE customer_email = $1")}),
    )
    .await;
    assert!(
        plan.query.starts_with("EXPLAIN (FORMAT JSON) SELECT"),
        "{}",
        plan.query
    );
    assert!(plan.text.contains("Seq Scan on orders"), "{}", plan.text);
    assert!(plan.text.contains("findings:"), "{}", plan.text);
    let analyze = refused(
        &toolbox,
        "explain",
        json!({"source": "app", "sql": format!("EXPLAIN ANALYZE SELECT * FROM {schema}.orders")}),
    )
    .await;
    assert!(analyze.text.contains("without EXPLAIN"), "{}", analyze.text);

    for write in [
        format!("UPDATE {schema}.orders SET total_cents = 0"),
        format!(
            "WITH gone AS (DELETE FROM {schema}.orders RETURNING id) SELECT count(*) FROM gone"
        ),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity".to_string(),
        format!("SELECT 1; DELETE FROM {schema}.orders"),
    ] {
        let output = refused(
            &toolbox,
            "sql_query",
            json!({"source": "app", "sql": write}),
        )
        .await;
        assert!(
            output.text.starts_with("nothing was sent to app: refused:"),
            "{write}: {}",
            output.text
        );
        assert_eq!(output.query, write);
    }
    let mut admin = sqlx::PgConnection::connect(support::POSTGRES)
        .await
        .unwrap();
    let (count, total): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), sum(total_cents) FROM {schema}.orders"
    )))
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!((count, total), (3, 1780), "the data is intact");
    admin.close().await.unwrap();

    let unknown = refused(
        &toolbox,
        "sql_query",
        json!({"source": "prod", "sql": "SELECT 1"}),
    )
    .await;
    assert_eq!(unknown.text, "no SQL source named \"prod\"; sources: app");
    support::postgres_setup(&[format!("DROP SCHEMA {schema} CASCADE")]).await;
}

#[tokio::test]
async fn mariadb_and_sqlite_are_read_described_and_explained() {
    let table = format!("sentinel_toolbox_{}", std::process::id());
    support::mariadb_setup(&[
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} (id int PRIMARY KEY, kind varchar(20) NOT NULL, \
             state varchar(20), KEY by_kind_state (kind, state))"
        ),
        format!("INSERT INTO {table} VALUES (1, 'sync', 'running'), (2, 'mail', 'done')"),
    ])
    .await;
    let reader = support::mariadb_reader().await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = support::sqlite_file_with(
        &dir.path().join("shop.db"),
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL, started_at TEXT);
         CREATE INDEX jobs_state ON jobs (state);
         INSERT INTO jobs VALUES (1, 'running', '2026-11-24 10:00:00'), (2, 'done', NULL);",
    )
    .await;
    let config = config(
        dir.path(),
        &format!(
            "[sources.maria]\nkind = \"mysql\"\nurl = \"{reader}\"\n\n\
             [sources.shop]\nkind = \"sqlite\"\nurl = \"{sqlite}\"\n"
        ),
    );
    let toolbox = toolbox(&config);

    let rows = ok(
        &toolbox,
        "sql_query",
        json!({"source": "maria", "sql": format!("SELECT kind, state FROM {table} ORDER BY id")}),
    )
    .await;
    assert_eq!(
        rows.text,
        "kind | state\n-----+--------\nsync | running\nmail | done\n(2 rows)\n"
    );
    let described = ok(
        &toolbox,
        "describe_table",
        json!({"source": "maria", "table": table}),
    )
    .await;
    for expected in [
        "rows (estimate)",
        "kind  | varchar(20) | not null",
        "state | varchar(20) | nullable",
        "UNIQUE INDEX PRIMARY (id) USING BTREE",
        "INDEX by_kind_state (kind, state) USING BTREE",
    ] {
        assert!(
            described.text.contains(expected),
            "{expected:?} missing from:\n{}",
            described.text
        );
    }
    let plan = ok(
        &toolbox,
        "explain",
        json!({"source": "maria", "sql": format!("SELECT * FROM {table} WHERE kind = 'sync'")}),
    )
    .await;
    assert!(plan.query.starts_with("EXPLAIN SELECT"), "{}", plan.query);
    assert!(
        plan.text.contains("select_type") && plan.text.contains(&table),
        "{}",
        plan.text
    );
    let write = refused(
        &toolbox,
        "sql_query",
        json!({"source": "maria", "sql": format!("DELETE FROM {table}")}),
    )
    .await;
    assert!(
        write.text.contains("nothing was sent to maria"),
        "{}",
        write.text
    );

    let rows = ok(
        &toolbox,
        "sql_query",
        json!({"source": "shop", "sql": "SELECT id, state, started_at FROM jobs ORDER BY id"}),
    )
    .await;
    assert!(
        rows.text.contains("2  | done    | NULL\n(2 rows)"),
        "{}",
        rows.text
    );
    let described = ok(
        &toolbox,
        "describe_table",
        json!({"source": "shop", "table": "jobs"}),
    )
    .await;
    for expected in [
        "table jobs: 2 rows (counted)",
        "CREATE INDEX jobs_state ON jobs (state)",
        "state TEXT NOT NULL",
    ] {
        assert!(
            described.text.contains(expected),
            "{expected:?} missing from:\n{}",
            described.text
        );
    }
    let plan = ok(
        &toolbox,
        "explain",
        json!({"source": "shop", "sql": "SELECT * FROM jobs WHERE state = 'running'"}),
    )
    .await;
    assert!(
        plan.query.starts_with("EXPLAIN QUERY PLAN SELECT"),
        "{}",
        plan.query
    );
    assert!(
        plan.text.contains("jobs_state"),
        "the plan uses the index: {}",
        plan.text
    );
    let write = refused(
        &toolbox,
        "sql_query",
        json!({"source": "shop", "sql": "UPDATE jobs SET state = 'done'"}),
    )
    .await;
    assert!(
        write.text.contains("nothing was sent to shop"),
        "{}",
        write.text
    );
    let state: String = {
        let mut conn = sqlx::SqliteConnection::connect(&sqlite).await.unwrap();
        let (state,): (String,) = sqlx::query_as("SELECT state FROM jobs WHERE id = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        state
    };
    assert_eq!(state, "running", "the data is intact");

    let ambiguous = refused(&toolbox, "sql_query", json!({"sql": "SELECT 1"})).await;
    assert!(
        ambiguous
            .text
            .contains("needs the argument \"source\": one of maria, shop"),
        "{}",
        ambiguous.text
    );
    support::mariadb_setup(&[format!("DROP TABLE {table}")]).await;
}

#[tokio::test]
async fn prometheus_answers_instant_and_range_queries() {
    let prometheus = support::prometheus();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!(
            "[sources.prom]\nkind = \"prometheus\"\nurl = \"{}\"\n",
            prometheus.url
        ),
    );
    let toolbox = toolbox(&config);
    assert_eq!(names(&toolbox), ["promql"]);
    let now = ok(
        &toolbox,
        "promql",
        json!({"source": "prom", "query": "demo_disk_free_ratio"}),
    )
    .await;
    assert!(now.text.starts_with("2 series at "), "{}", now.text);
    assert!(now.text.contains("mount=\"/var\""), "{}", now.text);
    assert!(now.text.contains("| 0.03"), "{}", now.text);
    let range = ok(
        &toolbox,
        "promql",
        json!({"source": "prom", "query": "demo_queue_length{queue=\"mailers\"}", "start": "-30s", "step": "5s"}),
    )
    .await;
    assert!(range.query.contains("step 5s"), "{}", range.query);
    assert!(range.text.starts_with("1 series for "), "{}", range.text);
    assert!(range.text.contains("last 12 at "), "{}", range.text);
    let dense = refused(
        &toolbox,
        "promql",
        json!({"source": "prom", "query": "up", "start": "-30d", "step": "1s"}),
    )
    .await;
    assert!(dense.text.contains("at most 1000"), "{}", dense.text);
    let bad = refused(
        &toolbox,
        "promql",
        json!({"source": "prom", "query": "sum(("}),
    )
    .await;
    assert!(bad.text.contains("query rejected"), "{}", bad.text);
}

#[tokio::test]
async fn loki_lines_come_newest_last() {
    let (loki, address) = support::fake_loki::FakeLoki::serve();
    let now = Utc::now();
    loki.push(
        &[("app", "shop")],
        now - chrono::Duration::minutes(20),
        "ERROR payment timeout",
    );
    loki.push(
        &[("app", "shop")],
        now - chrono::Duration::minutes(5),
        "ERROR cart failed",
    );
    loki.push(
        &[("app", "other")],
        now - chrono::Duration::minutes(5),
        "not this one",
    );
    loki.push(
        &[("app", "shop")],
        now - chrono::Duration::hours(3),
        "too old",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!("[sources.logs]\nkind = \"loki\"\nurl = \"http://{address}\"\n"),
    );
    let toolbox = toolbox(&config);
    let lines = ok(
        &toolbox,
        "logql",
        json!({"source": "logs", "query": "{app=\"shop\"}", "since": "1h"}),
    )
    .await;
    let shown: Vec<&str> = lines.text.lines().collect();
    assert_eq!(shown.len(), 3, "{}", lines.text);
    assert!(
        shown[1].ends_with("{app=\"shop\"} ERROR payment timeout"),
        "{}",
        lines.text
    );
    assert!(
        shown[2].ends_with("{app=\"shop\"} ERROR cart failed"),
        "{}",
        lines.text
    );
    let requests = loki.requests.lock().unwrap();
    let (params, _) = requests.last().unwrap();
    assert_eq!(params["direction"], "backward");
}

#[tokio::test]
async fn redis_queues_show_length_age_and_oldest_entries() {
    let queue = format!("sentinel-toolbox-{}", std::process::id());
    let key = format!("queue:{queue}");
    let mut conn = redis::Client::open("redis://127.0.0.1:6379/0")
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis on 127.0.0.1:6379 (scripts/test.sh starts it)");
    let hour_ago = Utc::now().timestamp() as f64 - 3600.0;
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    for (i, at) in [hour_ago, hour_ago + 600.0].iter().enumerate() {
        let job = format!(r#"{{"class":"MailJob","jid":"j{i}","enqueued_at":{at}}}"#);
        let _: () = redis::cmd("LPUSH")
            .arg(&key)
            .arg(job)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let _: () = redis::cmd("SET")
        .arg("session:secret")
        .arg("s3cr3t")
        .query_async(&mut conn)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!(
            "[sources.queues]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\n\n\
             [watches.mail]\nkind = \"stuck\"\nsource = \"queues\"\nqueue = \"{queue}\"\nlayout = \"sidekiq\"\nolder_than = \"15m\"\n"
        ),
    );
    let toolbox = toolbox(&config);
    let read = ok(&toolbox, "redis_queue", json!({"source": "queues"})).await;
    assert!(
        read.text
            .contains(&format!("queue {queue} (sidekiq, watched by mail):")),
        "{}",
        read.text
    );
    assert!(
        read.text.contains("2 waiting, the oldest for 1h (id j0)"),
        "{}",
        read.text
    );
    let waiting: Vec<&str> = read
        .text
        .lines()
        .filter(|l| l.starts_with("    - j"))
        .collect();
    assert_eq!(waiting.len(), 2, "{}", read.text);
    assert!(
        waiting[0].starts_with("    - j0 MailJob, since ") && waiting[0].ends_with("(1h ago)"),
        "oldest first: {}",
        read.text
    );
    assert!(
        waiting[1].starts_with("    - j1 MailJob, since "),
        "{}",
        read.text
    );
    assert!(read.text.contains("  workers: "), "{}", read.text);
    assert!(
        read.query.contains(&format!("LRANGE queue:{queue}")),
        "the commands sent are in the evidence: {}",
        read.query
    );
    let other = refused(
        &toolbox,
        "redis_queue",
        json!({"source": "queues", "queue": "session:secret"}),
    )
    .await;
    assert!(
        other
            .text
            .contains("no queue named \"session:secret\" is watched on queues"),
        "{}",
        other.text
    );
    assert!(!other.text.contains("s3cr3t"));
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .arg("session:secret")
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn http_get_requests_only_what_a_watch_probes() {
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let server =
        support::serve_in_background(Router::new().fallback(move |uri: axum::http::Uri| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                format!("{{\"db\":\"ok\",\"path\":\"{}\"}}", uri.path())
            }
        }));
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!("[watches.health]\nkind = \"http\"\nurl = \"http://{server}/health\"\n"),
    );
    let toolbox = toolbox(&config);
    assert_eq!(names(&toolbox), ["http_get"]);
    for url in [
        format!("http://{server}/admin"),
        format!("http://{server}/healthz"),
        format!("http://{server}/health/../admin"),
        format!("http://{server}/health/%2e%2e/admin"),
        format!("http://localhost:{}/health", server.port()),
        "http://192.0.2.1/health".to_string(),
    ] {
        let output = refused(&toolbox, "http_get", json!({"url": url})).await;
        assert!(
            output.text.contains("refused") || output.text.contains("no request was made"),
            "{url}: {}",
            output.text
        );
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "no refused URL was requested"
    );

    let health = ok(
        &toolbox,
        "http_get",
        json!({"url": format!("http://{server}/health")}),
    )
    .await;
    assert_eq!(health.source.as_deref(), Some("health"));
    assert!(
        health.text.starts_with("HTTP 200 after "),
        "{}",
        health.text
    );
    assert!(
        health.text.contains("{\"db\":\"ok\",\"path\":\"/health\"}"),
        "{}",
        health.text
    );
    let deeper = ok(
        &toolbox,
        "http_get",
        json!({"url": format!("http://{server}/health/db?verbose=1")}),
    )
    .await;
    assert!(
        deeper.text.contains("\"path\":\"/health/db\""),
        "{}",
        deeper.text
    );
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn search_logs_reads_only_the_watched_globs() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("app.log.1"),
        "2026-11-24T09:00:00Z ERROR Payment timeout after 30s\n2026-11-24T09:01:00Z INFO ok\n",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        logs.join("app.log"),
        "2026-11-24T10:00:00Z INFO started\n2026-11-24T10:04:00Z ERROR payment TIMEOUT after 31s\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("other.log"),
        "ERROR payment timeout in another file\n",
    )
    .unwrap();
    let config = config(
        dir.path(),
        &format!(
            "[watches.app-errors]\nkind = \"new_error\"\npath = \"{}/app.log*\"\n",
            logs.display()
        ),
    );
    let toolbox = toolbox(&config);
    assert_eq!(names(&toolbox), ["search_logs"]);
    let found = ok(
        &toolbox,
        "search_logs",
        json!({"pattern": "payment timeout"}),
    )
    .await;
    let lines: Vec<&str> = found.text.lines().collect();
    assert!(
        lines[0].starts_with("2 matching lines (newest last) in "),
        "{}",
        found.text
    );
    assert!(
        lines[1].ends_with("app.log.1:1: 2026-11-24T09:00:00Z ERROR Payment timeout after 30s"),
        "{}",
        found.text
    );
    assert!(
        lines[2].ends_with("app.log:2: 2026-11-24T10:04:00Z ERROR payment TIMEOUT after 31s"),
        "{}",
        found.text
    );
    assert!(!found.text.contains("another file"));
    let named = refused(
        &toolbox,
        "search_logs",
        json!({"pattern": "x", "path": "/etc/passwd"}),
    )
    .await;
    assert!(
        named.text.contains("has no argument \"path\""),
        "{}",
        named.text
    );
    let newest = ok(
        &toolbox,
        "search_logs",
        json!({"pattern": "timeout", "limit": 1}),
    )
    .await;
    assert!(
        newest.text.contains("app.log:2:") && !newest.text.contains("app.log.1:1:"),
        "{}",
        newest.text
    );
}

/// Runs git in `repo` as the test's own setup.
fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "user.name=Ada",
            "-c",
            "user.email=ada@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[tokio::test]
async fn repository_tools_read_inside_the_repository_only() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(
        repo.join("src/cart.rb"),
        "def add(item)\n  items << item\nend\n",
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "Cart can add items"]);
    std::fs::write(
        repo.join("src/cart.rb"),
        "def add(item)\n  raise CartFull if items.size > 99\n  items << item\nend\n",
    )
    .unwrap();
    std::fs::write(repo.join(".env"), "STRIPE_KEY=sk_live_do_not_show\n").unwrap();
    git(&repo, &["add", "."]);
    git(
        &repo,
        &["commit", "-q", "-m", "Cart refuses the 100th item"],
    );
    std::os::unix::fs::symlink("/etc/passwd", repo.join("src/passwd")).unwrap();
    let config = config(
        dir.path(),
        &format!(
            "[investigator]\nprovider = \"offline\"\nrepository = \"{}\"\n",
            repo.display()
        ),
    );
    let toolbox = toolbox(&config);
    assert_eq!(
        names(&toolbox),
        ["search_code", "read_file", "git_log", "git_show"]
    );

    let found = ok(
        &toolbox,
        "search_code",
        json!({"pattern": "CartFull", "path_glob": "src/*.rb"}),
    )
    .await;
    assert_eq!(
        found.text,
        "1 match in 1 file searched\nsrc/cart.rb:2:   raise CartFull if items.size > 99\n"
    );
    let secret = ok(&toolbox, "search_code", json!({"pattern": "sk_live"})).await;
    assert!(
        secret.text.starts_with("0 matches"),
        ".env is not searched: {}",
        secret.text
    );

    let read = ok(
        &toolbox,
        "read_file",
        json!({"path": "src/cart.rb", "start_line": 2, "end_line": 3}),
    )
    .await;
    assert_eq!(
        read.text,
        "src/cart.rb lines 2-3:\n     2 |   raise CartFull if items.size > 99\n     3 |   items << item\n(the file goes on after line 3)\n"
    );
    for (path, why) in [
        ("../../etc/passwd", "leads outside the repository"),
        ("src/passwd", "a link to a place outside the repository"),
        ("/etc/passwd", "relative to the repository"),
        (".git/config", "git's own files"),
        (".env", ".env files"),
    ] {
        let output = refused(&toolbox, "read_file", json!({"path": path})).await;
        assert!(output.text.contains(why), "{path}: {}", output.text);
        assert!(
            !output.text.contains("root:"),
            "nothing of /etc/passwd is shown"
        );
    }

    let log = ok(&toolbox, "git_log", json!({"limit": 5})).await;
    let commits: Vec<&str> = log.text.lines().collect();
    assert_eq!(commits.len(), 2, "{}", log.text);
    assert!(
        commits[0].ends_with("Ada: Cart refuses the 100th item"),
        "{}",
        log.text
    );
    let newest = commits[0].split(' ').next().unwrap().to_string();
    assert_eq!(newest.len(), 40);

    let shown = ok(&toolbox, "git_show", json!({"commit": newest})).await;
    assert!(
        shown
            .text
            .starts_with(&format!("commit {newest}\nAuthor: Ada\n")),
        "{}",
        shown.text
    );
    assert!(
        shown.text.contains("+  raise CartFull if items.size > 99"),
        "{}",
        shown.text
    );
    assert!(
        !shown.text.contains("sk_live") && !shown.text.contains("ada@example.com"),
        "{}",
        shown.text
    );
    let first = ok(
        &toolbox,
        "git_show",
        json!({"commit": "HEAD~1", "path": "src/cart.rb"}),
    )
    .await;
    assert!(first.text.contains("Cart can add items"), "{}", first.text);

    let target = dir.path().join("written-by-git");
    let option = format!("--output={}", target.display());
    let as_commit = refused(&toolbox, "git_show", json!({"commit": option})).await;
    assert!(
        as_commit.text.contains("is not a revision"),
        "{}",
        as_commit.text
    );
    let as_path = refused(
        &toolbox,
        "git_show",
        json!({"commit": "HEAD", "path": option}),
    )
    .await;
    assert!(
        as_path.text.contains("may not start with -"),
        "{}",
        as_path.text
    );
    let as_log_path = refused(&toolbox, "git_log", json!({"path": option})).await;
    assert!(
        as_log_path.text.contains("may not start with -"),
        "{}",
        as_log_path.text
    );
    let blob = refused(&toolbox, "git_show", json!({"commit": "HEAD:.env"})).await;
    assert!(blob.text.contains("is not a revision"), "{}", blob.text);
    assert!(!target.exists(), "git wrote nothing");
    let missing = refused(&toolbox, "git_show", json!({"commit": "0123456789abcdef"})).await;
    assert!(
        missing.text.contains("git answered:")
            && missing.text.contains("git_log lists the commits"),
        "{}",
        missing.text
    );
    assert!(!repo.join(".git/index.lock").exists());
}

#[tokio::test]
async fn unknown_tools_and_bad_arguments_are_errors_that_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite =
        support::sqlite_file_with(&dir.path().join("a.db"), "CREATE TABLE t (x int);").await;
    let config = config(
        dir.path(),
        &format!("[sources.a]\nkind = \"sqlite\"\nurl = \"{sqlite}\"\n"),
    );
    let toolbox = toolbox(&config);
    let unknown = refused(&toolbox, "shell", json!({"command": "rm -rf /"})).await;
    assert_eq!(
        unknown.text,
        "there is no tool named \"shell\"; tools: sql_query, describe_table, explain"
    );
    let unconfigured = refused(&toolbox, "read_file", json!({"path": "src/main.rs"})).await;
    assert!(
        unconfigured
            .text
            .contains("the tool read_file is not available here"),
        "{}",
        unconfigured.text
    );
    let not_object = refused(&toolbox, "sql_query", json!("SELECT 1")).await;
    assert!(
        not_object
            .text
            .contains("takes a JSON object of arguments (source, sql)"),
        "{}",
        not_object.text
    );
    let extra = refused(
        &toolbox,
        "sql_query",
        json!({"source": "a", "sql": "SELECT 1", "allow_writes": true}),
    )
    .await;
    assert!(
        extra.text.contains("has no argument \"allow_writes\""),
        "{}",
        extra.text
    );
    let alone = ok(
        &toolbox,
        "sql_query",
        json!({"sql": "SELECT count(*) AS n FROM t"}),
    )
    .await;
    assert_eq!(
        alone.source.as_deref(),
        Some("a"),
        "the only SQL source is taken"
    );
}

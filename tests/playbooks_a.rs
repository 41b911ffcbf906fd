//! The playbooks of the slow_query, stuck, jump, threshold and freshness watches, end to end
//! against the real parts: a watch pages through the engine, then an investigation of its alert
//! runs the kind's playbook through the same sources, and the report (as `sentinel investigate`
//! prints it) names the decisive facts: the table and column of a missing index, the stuck
//! jobs and the worker that died, the source of a jump, a threshold's course, the newest files.

mod support;

use sentinel::clock::SystemClock;
use sentinel::config::Config;
use sentinel::engine::Engine;
use sentinel::investigate::render;
use sentinel::investigate::report::Report;
use sentinel::notify::Channel;
use sentinel::notify::dispatch::Channels;
use sentinel::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// An engine over `config` whose pages are collected in `pages`.
async fn engine(
    config: &Config,
    pages: &Arc<Mutex<Vec<sentinel::alert::notice::Notice>>>,
) -> (Engine, Store) {
    let store = Store::open(&config.store.path).await.unwrap();
    let channels = Channels {
        list: vec![("memory".into(), Channel::Memory(pages.clone()))],
    };
    let engine = sentinel::engine::build::engine(
        config.clone(),
        store.clone(),
        Arc::new(SystemClock),
        channels,
    )
    .unwrap();
    (engine, store)
}

/// `sentinel investigate <watch> --json` on the configuration at `path`, as an operator runs
/// it: the report, and its Markdown as the command prints it without `--json`.
fn investigate(path: &Path, watch: &str) -> (Report, String) {
    let output = Command::new(support::sentinel_bin())
        .args(["investigate", watch, "--json", "--config"])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Report = serde_json::from_str(&stdout).unwrap();
    let markdown = render::markdown(&report);
    (report, markdown)
}

/// The configuration `text` written to `dir` and parsed: its path and what it says.
fn config_at(dir: &Path, text: &str) -> (PathBuf, Config) {
    let path = support::write_config(dir, text);
    let config = Config::parse(&path, text, &|_| None).unwrap();
    (path, config)
}

/// Evidence of one playbook stays short enough for a model's context.
fn assert_evidence_is_short(report: &Report) {
    let total: usize = report
        .finding
        .evidence
        .items()
        .iter()
        .map(|item| item.query.len() + item.excerpt.len())
        .sum();
    assert!(total < 16_000, "{total} characters of evidence");
}

mod slow_query {
    use super::*;
    use sqlx::{Connection, Executor, PgConnection};
    use support::pg_cluster;

    const APP_QUERY: &str = "SELECT id, amount FROM orders WHERE customer_email = $1 \
                             AND created_at > $2 ORDER BY created_at DESC LIMIT 20";

    async fn run_app_query(app: &mut PgConnection, calls: usize, round: usize) {
        let since = chrono::Utc::now() - chrono::Duration::days(3650);
        for call in 0..calls {
            let email = format!(
                "customer{}@example.com",
                1 + (round * 97 + call * 13) % 200_000
            );
            sqlx::query(APP_QUERY)
                .bind(email)
                .bind(since)
                .fetch_all(&mut *app)
                .await
                .unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_index_is_named_with_the_index_to_create() {
        let url = pg_cluster::fresh_database("playbook_slowq", true).await;
        let mut app = PgConnection::connect(&url).await.unwrap();
        for statement in [
            "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_email text NOT NULL, \
             amount numeric NOT NULL, created_at timestamptz NOT NULL, note text)",
            "INSERT INTO orders (customer_email, amount, created_at, note) \
             SELECT 'customer' || g || '@example.com', g % 100, now() - g * interval '1 minute', \
             repeat('x', 100) FROM generate_series(1, 200000) AS g",
            "CREATE INDEX orders_customer_email_idx ON orders (customer_email)",
            "ANALYZE orders",
        ] {
            app.execute(statement).await.unwrap();
        }
        let reader = support::reader_url(&url).await;
        let dir = tempfile::tempdir().unwrap();
        let (path, config) = config_at(
            dir.path(),
            &format!(
                "[store]\npath = \"{}/s.db\"\n\n[sources.shop]\nkind = \"postgres\"\nurl = \"{reader}\"\n\n\
                 [watches.queries]\nkind = \"slow_query\"\ndescription = \"Shop database\"\nsource = \"shop\"\nmin_increase = \"10ms\"\n",
                dir.path().display()
            ),
        );
        let pages = Arc::new(Mutex::new(Vec::new()));
        let (engine, store) = engine(&config, &pages).await;
        for round in 0..5 {
            run_app_query(&mut app, 8, round).await;
            assert_eq!(engine.pass(true).await.unwrap().firing, 0);
        }
        app.execute("DROP INDEX orders_customer_email_idx")
            .await
            .unwrap();
        let mut firing = 0;
        for round in 10..12 {
            run_app_query(&mut app, 8, round).await;
            firing = engine.pass(true).await.unwrap().firing;
            if firing > 0 {
                break;
            }
        }
        assert_eq!(
            firing, 1,
            "the slow query fires within two windows of the drop"
        );

        store.close().await;
        drop(engine);

        let (report, markdown) = investigate(&path, "queries");
        let finding = &report.finding;
        assert_eq!(finding.verdict.label(), "action needed", "{markdown}");
        assert_eq!(
            finding.classification.label(),
            "ops or config",
            "{markdown}"
        );
        assert!(
            finding
                .summary
                .contains("missing index on orders(customer_email)"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "CREATE INDEX CONCURRENTLY orders_customer_email_idx ON orders (customer_email);"
            ),
            "{markdown}"
        );
        // The statement's whole text, its plan (never ANALYZE), the table and its indexes.
        assert!(markdown.contains("customer_email = $1"), "{markdown}");
        assert!(markdown.contains("Seq Scan on orders"), "{markdown}");
        assert!(!markdown.contains("EXPLAIN (ANALYZE"), "{markdown}");
        assert!(markdown.contains("public.orders: "), "{markdown}");
        assert!(
            markdown.contains("orders_pkey"),
            "the indexes that exist: {markdown}"
        );
        assert!(finding.gaps.is_empty(), "{:?}", finding.gaps);
        assert!(finding.confidence.value() >= 0.85, "{markdown}");
        assert_evidence_is_short(&report);

        // The index is back: the next evaluation finds it fast, and the page's alert is no
        // longer the plan's fault.
        app.execute("CREATE INDEX orders_customer_email_idx ON orders (customer_email)")
            .await
            .unwrap();
        let (report, markdown) = investigate(&path, "queries");
        assert!(
            !markdown.contains("CREATE INDEX CONCURRENTLY"),
            "an index that exists is not proposed again: {markdown}"
        );
        assert_ne!(
            report.finding.verdict.label(),
            "action needed",
            "{markdown}"
        );
        store.close().await;
    }
}

mod stuck {
    use super::*;

    #[tokio::test]
    async fn stuck_rows_are_named_by_id_with_the_worker_that_took_them() {
        let schema = format!("sentinel_pbstuck_{}", std::process::id());
        support::postgres_setup(&[
            format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
            format!("CREATE SCHEMA {schema}"),
            format!(
                "CREATE TABLE {schema}.jobs (id int, kind text, state text, started_at timestamptz, locked_by text)"
            ),
            format!(
                "INSERT INTO {schema}.jobs VALUES \
                 (11, 'email', 'running', now() - interval '61 minutes', 'worker-7:4242'), \
                 (12, 'email', 'running', now() - interval '40 minutes', 'worker-7:4242'), \
                 (13, 'email', 'running', now() - interval '20 minutes', 'worker-7:4242'), \
                 (14, 'email', 'running', now() - interval '1 minute', 'worker-2:77'), \
                 (15, 'report', 'running', now() - interval '2 minutes', 'worker-2:77')"
            ),
        ])
        .await;
        let dir = tempfile::tempdir().unwrap();
        let (path, config) = config_at(
            dir.path(),
            &format!(
                "[store]\npath = \"{}/s.db\"\n\n[sources.app]\nkind = \"postgres\"\nurl = \"{}\"\n\n\
                 [watches.jobs]\nkind = \"stuck\"\ndescription = \"Background jobs\"\nsource = \"app\"\n\
                 table = \"{schema}.jobs\"\nstate_column = \"state\"\nstates = [\"running\"]\n\
                 since_column = \"started_at\"\ngroup_by = \"kind\"\nolder_than = \"15m\"\n",
                dir.path().display(),
                support::postgres_reader().await
            ),
        );
        let pages = Arc::new(Mutex::new(Vec::new()));
        let pass = support::engine_pass(&config, &pages).await;
        assert_eq!((pass.firing, pass.blind), (1, 0), "{pass:?}");

        let (report, markdown) = investigate(&path, "jobs");
        assert_eq!(
            report.finding.verdict.label(),
            "action needed",
            "{markdown}"
        );
        assert_eq!(report.finding.classification.label(), "ops or config");
        assert!(
            report.finding.summary.contains("ids 11, 12, 13"),
            "{markdown}"
        );
        assert!(
            report.finding.summary.contains("taken by worker-7:4242"),
            "the worker that took them: {markdown}"
        );
        assert!(
            !markdown.contains("| 14 |"),
            "a young row is not stuck: {markdown}"
        );
        assert!(report.finding.gaps.is_empty(), "{:?}", report.finding.gaps);
        assert_evidence_is_short(&report);

        // The worker comes back and finishes them: the investigation says it healed.
        support::postgres_setup(&[format!(
            "UPDATE {schema}.jobs SET state = 'done' WHERE kind = 'email'"
        )])
        .await;
        let (report, markdown) = investigate(&path, "jobs");
        assert_eq!(report.finding.verdict.label(), "no action", "{markdown}");
        assert_eq!(report.finding.classification.label(), "transient");
        support::postgres_setup(&[format!("DROP SCHEMA {schema} CASCADE")]).await;
    }

    async fn redis() -> redis::aio::MultiplexedConnection {
        redis::Client::open("redis://127.0.0.1:6379/0")
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("Redis on 127.0.0.1:6379 (scripts/test.sh starts it)")
    }

    async fn send(conn: &mut redis::aio::MultiplexedConnection, args: &[&str]) {
        let mut command = redis::cmd(args[0]);
        for arg in &args[1..] {
            command.arg(*arg);
        }
        let _: redis::Value = command.query_async(conn).await.unwrap();
    }

    #[tokio::test]
    async fn a_sidekiq_queue_names_its_oldest_jobs_and_the_process_that_stopped_beating() {
        let tag = format!("pb{}", std::process::id());
        let queue = format!("sentinel-{tag}");
        let key = format!("queue:{queue}");
        let identity = format!("host-{tag}:4242:0a1b2c");
        let work = format!("{identity}:work");
        let mut conn = redis().await;
        send(&mut conn, &["DEL", &key, &identity, &work]).await;
        let now = chrono::Utc::now().timestamp() as f64;
        for (i, at) in [now - 3600.0, now - 3540.0, now - 3480.0]
            .iter()
            .enumerate()
        {
            // Sidekiq LPUSHes new jobs: the oldest sits at the right end.
            let job = format!(r#"{{"class":"MailJob","jid":"jid-{i}","enqueued_at":{at}}}"#);
            send(&mut conn, &["LPUSH", &key, &job]).await;
        }
        // The only process serving the queue last beat ten minutes ago, in the middle of a job.
        let info = format!(
            r#"{{"hostname":"host-{tag}","pid":4242,"queues":["{queue}"],"concurrency":5}}"#
        );
        let beat = (now - 600.0).to_string();
        send(&mut conn, &["SADD", "processes", &identity]).await;
        send(
            &mut conn,
            &["HSET", &identity, "info", &info, "busy", "1", "beat", &beat],
        )
        .await;
        let running = format!(
            r#"{{"queue":"{queue}","payload":"{{\"class\":\"MailJob\",\"jid\":\"jid-held\"}}","run_at":{}}}"#,
            now - 700.0
        );
        send(&mut conn, &["HSET", &work, "tid-1", &running]).await;

        let dir = tempfile::tempdir().unwrap();
        let (path, config) = config_at(
            dir.path(),
            &format!(
                "[store]\npath = \"{}/s.db\"\n\n[sources.queues]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\n\n\
                 [watches.mail]\nkind = \"stuck\"\ndescription = \"Mail queue\"\nsource = \"queues\"\n\
                 queue = \"{queue}\"\nlayout = \"sidekiq\"\nolder_than = \"15m\"\n",
                dir.path().display()
            ),
        );
        let pages = Arc::new(Mutex::new(Vec::new()));
        let pass = support::engine_pass(&config, &pages).await;
        assert_eq!((pass.firing, pass.blind), (1, 0), "{pass:?}");

        let (report, markdown) = investigate(&path, "mail");
        send(&mut conn, &["SREM", "processes", &identity]).await;
        send(&mut conn, &["DEL", &key, &identity, &work]).await;
        let summary = &report.finding.summary;
        assert_eq!(
            report.finding.verdict.label(),
            "action needed",
            "{markdown}"
        );
        assert!(summary.contains("oldest jid-0, jid-1, jid-2"), "{markdown}");
        assert!(
            summary.contains(&format!("The dead worker {identity} holds jid-held")),
            "{markdown}"
        );
        assert!(
            summary.contains(&format!("No live worker takes from {queue}")),
            "{markdown}"
        );
        assert!(
            markdown.contains("last seen 2026") || markdown.contains("last seen "),
            "{markdown}"
        );
        assert!(report.finding.confidence.value() >= 0.85, "{markdown}");
        assert_evidence_is_short(&report);
    }
}

mod on_prometheus {
    use super::*;

    fn prometheus_config(dir: &Path, watches: &str) -> (PathBuf, Config) {
        let prom = support::prometheus();
        config_at(
            dir,
            &format!(
                "[store]\npath = \"{}/s.db\"\n[sources.prom]\nkind = \"prometheus\"\nurl = \"{}\"\ntimeout = \"5s\"\n{watches}",
                dir.display(),
                prom.url
            ),
        )
    }

    #[tokio::test]
    async fn a_jump_in_a_sum_is_traced_to_the_series_inside_it_that_moved() {
        let dir = tempfile::tempdir().unwrap();
        // Checkout requests go from 10 to 410 an hour from ten minutes ago; the home page keeps
        // its 5: the sum jumps, and the checkout route is where it comes from.
        let since = chrono::Utc::now().timestamp() - 600;
        let watch = format!(
            "[watches.requests]\nkind = \"jump\"\ndescription = \"Requests per hour\"\nsource = \"prom\"\n\
             query = 'sum(label_replace(vector(10 + 400 * (time() >= bool {since})), \"route\", \"/checkout\", \"\", \"\") or label_replace(vector(5), \"route\", \"/\", \"\", \"\"))'\n\
             step = \"1h\"\nbaseline = \"1d\"\nmin_change = 20\n"
        );
        let (path, config) = prometheus_config(dir.path(), &watch);
        let pages = Arc::new(Mutex::new(Vec::new()));
        let pass = support::engine_pass(&config, &pages).await;
        assert_eq!((pass.firing, pass.blind), (1, 0), "{pass:?}");

        let (report, markdown) = investigate(&path, "requests");
        let summary = &report.finding.summary;
        assert_eq!(
            report.finding.verdict.label(),
            "action needed",
            "{markdown}"
        );
        assert!(
            summary.contains("415.00 is 27.7x its usual 15.00"),
            "{markdown}"
        );
        assert!(
            summary.contains("Its source: {route=\"/checkout\"}"),
            "the jump's source: {markdown}"
        );
        assert!(markdown.contains("+400 of +400 in all, 100%"), "{markdown}");
        assert!(report.finding.confidence.value() >= 0.85, "{markdown}");
        assert_evidence_is_short(&report);
    }

    #[tokio::test]
    async fn a_threshold_names_the_broken_series_its_value_and_since_when() {
        let dir = tempfile::tempdir().unwrap();
        let watch = "[watches.disk]\nkind = \"threshold\"\ndescription = \"Disk space\"\nsource = \"prom\"\nquery = 'demo_disk_free_ratio < 0.05'\n";
        let (path, config) = prometheus_config(dir.path(), watch);
        let pages = Arc::new(Mutex::new(Vec::new()));
        let pass = support::engine_pass(&config, &pages).await;
        assert_eq!((pass.firing, pass.blind), (1, 0), "{pass:?}");

        let (report, markdown) = investigate(&path, "disk");
        let summary = &report.finding.summary;
        assert_eq!(
            report.finding.verdict.label(),
            "action needed",
            "{markdown}"
        );
        assert!(summary.contains("mount=\"/var\"}"), "{markdown}");
        assert!(
            summary.contains("is 0.03 (bound < 0.05), broken since"),
            "{markdown}"
        );
        // The history is of the compared side, so it shows the value itself, not only the
        // moments it was below the bound.
        assert!(
            markdown.contains("demo_disk_free_ratio over the last 6h"),
            "{markdown}"
        );
        assert!(
            markdown.contains("sentinel query prom 'demo_disk_free_ratio'"),
            "{markdown}"
        );
        assert!(report.finding.gaps.is_empty(), "{:?}", report.finding.gaps);

        // The same watch with a bound the disk now meets: the investigation of the open alert
        // finds the query no longer returns it.
        let (path, _) = prometheus_config(dir.path(), &watch.replace("< 0.05", "< 0.01"));
        let (report, markdown) = investigate(&path, "disk");
        assert_eq!(report.finding.verdict.label(), "no action", "{markdown}");
        assert!(
            report.finding.summary.contains("back within its bound"),
            "{markdown}"
        );
    }
}

mod freshness {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[tokio::test]
    async fn a_late_backup_names_the_newest_files_their_rhythm_and_a_cut_short_one() {
        let dir = tempfile::tempdir().unwrap();
        let backups = dir.path().join("backups");
        std::fs::create_dir(&backups).unwrap();
        let now = SystemTime::now();
        // Nightly dumps of about 900 KB; the last one, 50 hours ago, has only 12 bytes.
        for (name, hours_ago, size) in [
            ("shop-1.sql.gz", 122u64, 900_000usize),
            ("shop-2.sql.gz", 98, 910_000),
            ("shop-3.sql.gz", 74, 905_000),
            ("shop-4.sql.gz", 50, 12),
        ] {
            let path = backups.join(name);
            std::fs::write(&path, vec![b'x'; size]).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(now - Duration::from_secs(hours_ago * 3600))
                .unwrap();
        }
        let (path, config) = config_at(
            dir.path(),
            &format!(
                "[store]\npath = \"{dir}/s.db\"\n\n[watches.backup]\nkind = \"freshness\"\n\
                 description = \"Shop backup\"\npath = \"{dir}/backups/*.sql.gz\"\nmax_age = \"26h\"\n",
                dir = dir.path().display()
            ),
        );
        let pages = Arc::new(Mutex::new(Vec::new()));
        let pass = support::engine_pass(&config, &pages).await;
        assert_eq!((pass.firing, pass.blind), (1, 0), "{pass:?}");

        let (report, markdown) = investigate(&path, "backup");
        let summary = &report.finding.summary;
        assert_eq!(
            report.finding.verdict.label(),
            "action needed",
            "{markdown}"
        );
        assert!(summary.contains("shop-4.sql.gz"), "{markdown}");
        assert!(summary.contains("2d 2h old (limit 1d 2h)"), "{markdown}");
        assert!(summary.contains("usually arrive every 1d"), "{markdown}");
        assert!(summary.contains("only 12 B"), "{markdown}");
        assert!(
            markdown.contains("4 files match; newest first:"),
            "{markdown}"
        );
        assert!(
            markdown.contains("shop-1.sql.gz"),
            "every file is listed: {markdown}"
        );

        // Tonight's dump arrives: the investigation finds it fresh again.
        std::fs::write(backups.join("shop-5.sql.gz"), vec![b'x'; 900_000]).unwrap();
        let (report, markdown) = investigate(&path, "backup");
        assert_eq!(report.finding.verdict.label(), "no action", "{markdown}");
        assert!(
            report.finding.summary.contains("shop-5.sql.gz"),
            "{markdown}"
        );
    }
}

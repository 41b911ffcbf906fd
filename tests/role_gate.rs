//! Least privilege, enforced: `sentinel run`, `check --once` and `query` refuse a SQL source
//! whose role can do more than read (exit 2, as for a wrong configuration), naming what the role
//! can do and the SQL for a read-only role on the configured database; with
//! `allow_privileged_role = true` they run and warn. Against the machine's real PostgreSQL and
//! MariaDB; the roles that can do one thing too many are made per test and dropped after.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const POSTGRES_ADMIN: &str = support::POSTGRES;
const MARIADB_ADMIN: &str = support::MARIADB;

/// A config with one SQL source `app` (and `extra` lines appended to it).
fn config(dir: &Path, kind: &str, url: &str, extra: &str) -> PathBuf {
    let port = support::free_port();
    support::write_config(
        dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n\
             [sources.app]\nkind = \"{kind}\"\nurl = \"{url}\"\n{extra}",
            dir.display()
        ),
    )
}

fn sentinel(args: &[&str], config: &Path) -> Output {
    Command::new(support::sentinel_bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .env("SENTINEL_LOG", "warn")
        .output()
        .unwrap()
}

fn query(config: &Path) -> Output {
    sentinel(&["query", "app", "SELECT 1 AS one"], config)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `sentinel run` until it exits (or `limit` passes: then it is killed and `None`), with its
/// standard error.
fn run_for(config: &Path, limit: Duration) -> (Option<i32>, String) {
    let log = config.with_file_name("run.log");
    let mut child = Command::new(support::sentinel_bin())
        .args(["run", "--config"])
        .arg(config)
        .env("SENTINEL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (code, std::fs::read_to_string(&log).unwrap())
}

/// The port `sentinel run` listens on in `config`.
fn listen_port(config: &Path) -> u16 {
    let text = std::fs::read_to_string(config).unwrap();
    let (_, rest) = text.split_once("127.0.0.1:").unwrap();
    rest.split('"').next().unwrap().parse().unwrap()
}

fn assert_refused(output: &Output, role: &str, what: &str, remedy: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_refusal_text(&err, role, what, remedy);
}

fn assert_refusal_text(err: &str, role: &str, what: &str, remedy: &str) {
    assert!(
        err.contains(&format!("source app: refusing to run with {role}")),
        "{err}"
    );
    assert!(err.contains(what), "{err}");
    assert!(err.contains(remedy), "{err}");
    assert!(
        err.contains("Or set allow_privileged_role = true on [sources.app] to run anyway."),
        "{err}"
    );
}

#[test]
fn a_postgres_superuser_is_refused_by_run_check_and_query() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "postgres", POSTGRES_ADMIN, "");
    let remedy = "GRANT CONNECT ON DATABASE test TO sentinel_ro";

    let (code, err) = run_for(&config, Duration::from_secs(20));
    assert_eq!(code, Some(2), "run must refuse, not serve: {err}");
    assert_refusal_text(&err, "role postgres", "is a superuser", remedy);
    assert!(
        err.contains("CREATE ROLE sentinel_ro LOGIN"),
        "the remedy creates a role: {err}"
    );

    let check = sentinel(&["check", "--once"], &config);
    assert_refused(&check, "role postgres", "is a superuser", remedy);

    let answer = query(&config);
    assert_refused(&answer, "role postgres", "is a superuser", remedy);
    assert!(answer.stdout.is_empty(), "nothing was queried");
}

#[test]
fn allow_privileged_role_runs_and_warns_at_every_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        "postgres",
        POSTGRES_ADMIN,
        "allow_privileged_role = true\n",
    );
    let warning = "source app: role postgres can do more than read (is a superuser";
    let running_anyway = "running anyway because allow_privileged_role = true";

    let answer = query(&config);
    assert_eq!(answer.status.code(), Some(0), "{}", stderr(&answer));
    assert!(
        String::from_utf8_lossy(&answer.stdout).starts_with("one\n"),
        "{answer:?}"
    );
    assert!(stderr(&answer).contains(warning), "{}", stderr(&answer));
    assert!(stderr(&answer).contains(running_anyway));

    let check = sentinel(&["check", "--once"], &config);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(stderr(&check).contains(warning), "{}", stderr(&check));

    // The daemon serves, and said so at start.
    let port = listen_port(&config);
    let log = config.with_file_name("daemon.log");
    let mut child = Command::new(support::sentinel_bin())
        .args(["run", "--config"])
        .arg(&config)
        .env("SENTINEL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = format!("http://127.0.0.1:{port}/healthz");
    while support::http_status(&url) != Ok(200) {
        assert!(Instant::now() < deadline, "sentinel run did not start");
        assert!(child.try_wait().unwrap().is_none(), "sentinel run exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let err = std::fs::read_to_string(&log).unwrap();
    assert!(
        err.contains(warning) && err.contains(running_anyway),
        "{err}"
    );
}

#[test]
fn a_source_unreachable_at_start_does_not_stop_run() {
    let dir = tempfile::tempdir().unwrap();
    let closed = format!(
        "postgres://postgres@127.0.0.1:{}/test",
        support::free_port()
    );
    let config = config(dir.path(), "postgres", &closed, "");
    let (code, err) = run_for(&config, Duration::from_secs(4));
    assert_eq!(code, None, "run must keep running: {err}");
    assert!(err.contains("its role is not checked yet"), "{err}");
}

/// The verdict the gate takes on the first connection that works is the watches' verdict:
/// their source is blind with the refusal, and a read-only role reads.
#[tokio::test]
async fn watches_on_a_privileged_source_are_blind_with_the_refusal() {
    use sentinel::source::sql::database::QueryError;
    let dir = tempfile::tempdir().unwrap();
    let text = |url: &str| {
        format!(
            "[store]\npath = \"{}/s.db\"\n[sources.app]\nkind = \"postgres\"\nurl = \"{url}\"\n\
             [watches.spend]\nkind = \"jump\"\nsource = \"app\"\n\
             query = \"SELECT now() AS time, 1 AS value\"\nstep = \"1h\"\nbaseline = \"2d\"\n",
            dir.path().display()
        )
    };
    let parse = |url: &str| {
        sentinel::config::Config::parse(&dir.path().join("s.toml"), &text(url), &|_| None).unwrap()
    };
    let pages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));

    let privileged = parse(POSTGRES_ADMIN);
    let report = support::engine_pass(&privileged, &pages).await;
    assert_eq!((report.evaluated, report.blind), (1, 1), "{report:?}");
    let sources = sentinel::engine::build::sources(&privileged).unwrap();
    match sources.database("app").unwrap().query("SELECT 1").await {
        Err(QueryError::Source(error)) => {
            let text = error.to_string();
            assert!(
                text.contains("refusing to run with role postgres"),
                "{text}"
            );
        }
        other => panic!("expected the refusal, got {other:?}"),
    }

    let reader = parse(&support::postgres_reader().await);
    let report = support::engine_pass(&reader, &pages).await;
    assert_eq!((report.evaluated, report.blind), (1, 0), "{report:?}");
}

/// One power beyond reading is enough: a single write grant, CREATE on a schema, or
/// membership of pg_signal_backend through another role.
#[tokio::test]
async fn a_postgres_role_with_one_power_too_many_is_refused() {
    let pid = std::process::id();
    let (table, schema, middle) = (
        format!("gate_table_{pid}"),
        format!("gate_schema_{pid}"),
        format!("gate_middle_{pid}"),
    );
    let roles = [
        (
            format!("gate_writer_{pid}"),
            vec![format!(
                "GRANT UPDATE ON public.{table} TO gate_writer_{pid}"
            )],
            format!("can UPDATE on 1 table (public.{table})"),
        ),
        (
            format!("gate_creator_{pid}"),
            vec![format!(
                "GRANT CREATE ON SCHEMA {schema} TO gate_creator_{pid}"
            )],
            format!("can CREATE in schema {schema}"),
        ),
        (
            format!("gate_signaller_{pid}"),
            vec![
                format!("CREATE ROLE {middle} NOLOGIN"),
                format!("GRANT pg_signal_backend TO {middle}"),
                format!("GRANT {middle} TO gate_signaller_{pid}"),
            ],
            "member of pg_signal_backend".to_string(),
        ),
    ];
    let mut cleanup = vec![
        format!("DROP TABLE IF EXISTS public.{table}"),
        format!("DROP SCHEMA IF EXISTS {schema}"),
    ];
    for (role, _, _) in &roles {
        cleanup.push(format!("DROP ROLE IF EXISTS {role}"));
    }
    cleanup.push(format!("DROP ROLE IF EXISTS {middle}"));
    support::run_sql(POSTGRES_ADMIN, &cleanup).await;
    let mut setup = vec![
        format!("CREATE TABLE public.{table} (id int)"),
        format!("CREATE SCHEMA {schema}"),
    ];
    for (role, grants, _) in &roles {
        setup.push(format!("CREATE ROLE {role} LOGIN"));
        setup.push(format!("GRANT SELECT ON public.{table} TO {role}"));
        setup.extend(grants.iter().cloned());
    }
    support::run_sql(POSTGRES_ADMIN, &setup).await;

    let dir = tempfile::tempdir().unwrap();
    let outputs: Vec<(String, Output)> = roles
        .iter()
        .map(|(role, _, what)| {
            let url = format!("postgres://{role}@127.0.0.1:5432/test");
            (
                what.clone(),
                query(&config(dir.path(), "postgres", &url, "")),
            )
        })
        .collect();
    support::run_sql(POSTGRES_ADMIN, &cleanup).await;
    for ((role, _, _), (what, output)) in roles.iter().zip(&outputs) {
        assert_refused(
            output,
            &format!("role {role}"),
            what,
            "GRANT CONNECT ON DATABASE test TO sentinel_ro",
        );
    }
}

#[tokio::test]
async fn mariadb_root_and_writers_are_refused_with_the_configured_database() {
    let dir = tempfile::tempdir().unwrap();
    let root = query(&config(dir.path(), "mysql", MARIADB_ADMIN, ""));
    assert_refused(
        &root,
        "user root@",
        "can ALL PRIVILEGES/GRANT OPTION on *.*",
        "GRANT SELECT, SHOW VIEW ON `test`.* TO 'sentinel_ro'@'%';",
    );

    // Its grants name another database first or not: the remedy is for the configured one.
    let pid = std::process::id();
    let (user, elsewhere) = (format!("gate_{pid}"), format!("gate_elsewhere_{pid}"));
    let cleanup = [format!("DROP USER IF EXISTS '{user}'@'%'")];
    support::run_sql(MARIADB_ADMIN, &cleanup).await;
    support::run_sql(
        MARIADB_ADMIN,
        &[
            format!("CREATE USER '{user}'@'%'"),
            format!("GRANT SELECT ON test.* TO '{user}'@'%'"),
            format!("GRANT INSERT ON `{elsewhere}`.* TO '{user}'@'%'"),
        ],
    )
    .await;
    let url = format!("mysql://{user}@127.0.0.1:3306/test");
    let writer = query(&config(dir.path(), "mysql", &url, ""));
    support::run_sql(MARIADB_ADMIN, &cleanup).await;
    assert_refused(
        &writer,
        &format!("user {user}@%"),
        &format!("can INSERT on `{elsewhere}`.*"),
        "GRANT SELECT, SHOW VIEW ON `test`.* TO 'sentinel_ro'@'%';",
    );
    assert!(!stderr(&writer).contains(&format!("SHOW VIEW ON `{elsewhere}`")));

    // The test's own reader passes.
    let reader = support::mariadb_reader().await;
    let answer = query(&config(dir.path(), "mysql", &reader, ""));
    assert_eq!(answer.status.code(), Some(0), "{}", stderr(&answer));
}

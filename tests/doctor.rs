//! `sentinel doctor` against the machine's real databases: a role that can only SELECT is
//! `ok` (exit 0); one that can INSERT is a WARNING naming the table and the SQL for a read-only
//! role (exit 1); on PostgreSQL and MariaDB alike. Plus a real Prometheus, a SQLite file, an
//! unreachable source, Loki and journald sources that cannot be read, and a configuration that
//! cannot load (exit 2).

mod support;

use sqlx::Connection;
use std::path::Path;
use std::process::Command;

const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const MARIADB_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

/// Runs `sentinel doctor` on a config with `sources`; returns (exit code, stdout, stderr).
fn doctor(dir: &Path, sources: &str) -> (i32, String, String) {
    let config = support::write_config(
        dir,
        &format!("[store]\npath = \"{}/s.db\"\n{sources}", dir.display()),
    );
    let out = Command::new(support::sentinel_bin())
        .args(["doctor", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `statements` as the administrator of the database at `url` (PostgreSQL or MariaDB).
async fn admin(url: &str, statements: &[String]) {
    support::run_sql(url, statements).await;
}

/// Creates the read-only and the writing account, runs doctor as each, and cleans up before
/// the caller asserts anything.
async fn as_reader_and_writer(
    admin_url: &str,
    setup: &[String],
    cleanup: &[String],
    source: impl Fn(&str) -> String,
    (reader, writer): (&str, &str),
) -> [(i32, String, String); 2] {
    admin(admin_url, cleanup).await;
    admin(admin_url, setup).await;
    let dir = tempfile::tempdir().unwrap();
    let results = [
        doctor(dir.path(), &source(reader)),
        doctor(dir.path(), &source(writer)),
    ];
    admin(admin_url, cleanup).await;
    results
}

/// The reader's run is exactly `ok_line` with exit 0; the writer's is a WARNING starting with
/// `warning` and carrying `remedy`, with exit 1.
fn assert_verdicts(
    results: [(i32, String, String); 2],
    ok_line: &str,
    warning: &str,
    remedy: &str,
) {
    let [(code, out, err), (writer_code, writer_out, writer_err)] = results;
    assert_eq!((code, out.trim()), (0, ok_line), "{err}");
    assert_eq!(writer_code, 1, "{writer_out}{writer_err}");
    assert!(writer_out.starts_with(warning), "{writer_out}");
    assert!(writer_out.contains(remedy), "{writer_out}");
}

#[tokio::test]
async fn postgres_select_only_is_ok_and_insert_is_a_loud_warning() {
    let pid = std::process::id();
    let (ro, rw, table) = (
        format!("sentinel_ro_{pid}"),
        format!("sentinel_rw_{pid}"),
        format!("sentinel_doctor_{pid}"),
    );
    let [read_only, writer] = as_reader_and_writer(
        POSTGRES_ADMIN,
        &[
            format!("CREATE TABLE public.{table} (id int)"),
            format!("CREATE ROLE {ro} LOGIN"),
            format!("CREATE ROLE {rw} LOGIN"),
            format!("GRANT SELECT ON public.{table} TO {ro}"),
            format!("GRANT SELECT, INSERT ON public.{table} TO {rw}"),
        ],
        &[
            format!("DROP TABLE IF EXISTS public.{table}"),
            format!("DROP ROLE IF EXISTS {ro}"),
            format!("DROP ROLE IF EXISTS {rw}"),
        ],
        |role| {
            format!(
                "[sources.app]\nkind = \"postgres\"\nurl = \"postgres://{role}@127.0.0.1:5432/test\"\n"
            )
        },
        (&ro, &rw),
    )
    .await;
    assert_verdicts(
        [read_only, writer],
        &format!(
            "ok  app (postgres): read-only role {ro}, default_transaction_read_only=off for the role (Sentinel sets it on for its own sessions)"
        ),
        &format!(
            "WARNING app (postgres): role {rw} can INSERT on 1 table (public.{table}); create a read-only role: CREATE ROLE sentinel_ro LOGIN"
        ),
        "GRANT CONNECT ON DATABASE test TO sentinel_ro",
    );
}

#[tokio::test]
async fn a_postgres_role_that_can_set_role_to_a_writer_is_a_warning() {
    let pid = std::process::id();
    let (reader, writer, table) = (
        format!("sentinel_noinherit_{pid}"),
        format!("sentinel_writer_{pid}"),
        format!("sentinel_doctor_set_{pid}"),
    );
    let cleanup = [
        format!("DROP TABLE IF EXISTS public.{table}"),
        format!("DROP ROLE IF EXISTS {reader}"),
        format!("DROP ROLE IF EXISTS {writer}"),
    ];
    admin(POSTGRES_ADMIN, &cleanup).await;
    admin(
        POSTGRES_ADMIN,
        &[
            format!("CREATE TABLE public.{table} (id int)"),
            format!("CREATE ROLE {writer} NOLOGIN"),
            format!("GRANT INSERT ON public.{table} TO {writer}"),
            // Reads by itself; holds the writer's role without inheriting it.
            format!("CREATE ROLE {reader} LOGIN NOINHERIT"),
            format!("GRANT SELECT ON public.{table} TO {reader}"),
            format!("GRANT {writer} TO {reader}"),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = doctor(
        dir.path(),
        &format!(
            "[sources.app]\nkind = \"postgres\"\nurl = \"postgres://{reader}@127.0.0.1:5432/test\"\n"
        ),
    );
    admin(POSTGRES_ADMIN, &cleanup).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "WARNING app (postgres): role {reader} can SET ROLE to {writer}, which can do more than read"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_postgres_superuser_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = doctor(
        dir.path(),
        &format!("[sources.admin]\nkind = \"postgres\"\nurl = \"{POSTGRES_ADMIN}\"\n"),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("WARNING admin (postgres): role postgres is a superuser; can create roles"),
        "{out}"
    );
}

#[tokio::test]
async fn mariadb_select_only_is_ok_and_insert_is_a_loud_warning() {
    let pid = std::process::id();
    let (ro, rw, table) = (
        format!("sentinel_ro_{pid}"),
        format!("sentinel_rw_{pid}"),
        format!("sentinel_doctor_{pid}"),
    );
    let [read_only, writer] = as_reader_and_writer(
        MARIADB_ADMIN,
        &[
            format!("CREATE TABLE test.{table} (id int)"),
            format!("CREATE USER '{ro}'@'%'"),
            format!("CREATE USER '{rw}'@'%'"),
            format!("GRANT SELECT ON test.* TO '{ro}'@'%'"),
            format!("GRANT SELECT, INSERT ON test.{table} TO '{rw}'@'%'"),
        ],
        &[
            format!("DROP TABLE IF EXISTS test.{table}"),
            format!("DROP USER IF EXISTS '{ro}'@'%'"),
            format!("DROP USER IF EXISTS '{rw}'@'%'"),
        ],
        |user| {
            format!(
                "[sources.shop]\nkind = \"mysql\"\nurl = \"mysql://{user}@127.0.0.1:3306/test\"\n"
            )
        },
        (&ro, &rw),
    )
    .await;
    assert_verdicts(
        [read_only, writer],
        &format!("ok  shop (mysql): read-only user {ro}@%"),
        &format!(
            "WARNING shop (mysql): user {rw}@% can INSERT on `test`.`{table}`; create a read-only user: CREATE USER 'sentinel_ro'@'%'"
        ),
        "GRANT SELECT, SHOW VIEW ON `test`.* TO 'sentinel_ro'@'%'",
    );
}

#[tokio::test]
async fn mariadb_writes_through_roles_are_found_active_or_not() {
    let pid = std::process::id();
    let (user, role, inner, table) = (
        format!("sentinel_roles_{pid}"),
        format!("sentinel_reporting_{pid}"),
        format!("sentinel_loader_{pid}"),
        format!("sentinel_doctor_roles_{pid}"),
    );
    let cleanup = [
        format!("DROP TABLE IF EXISTS test.{table}"),
        format!("DROP USER IF EXISTS '{user}'@'%'"),
        format!("DROP ROLE IF EXISTS {role}"),
        format!("DROP ROLE IF EXISTS {inner}"),
    ];
    admin(MARIADB_ADMIN, &cleanup).await;
    admin(
        MARIADB_ADMIN,
        &[
            format!("CREATE TABLE test.{table} (id int)"),
            format!("CREATE ROLE {inner}"),
            format!("GRANT INSERT ON test.{table} TO {inner}"),
            format!("CREATE ROLE {role}"),
            format!("GRANT SELECT ON test.* TO {role}"),
            format!("GRANT {inner} TO {role}"),
            format!("CREATE USER '{user}'@'%'"),
            format!("GRANT SELECT ON test.* TO '{user}'@'%'"),
            format!("GRANT {role} TO '{user}'@'%'"),
        ],
    )
    .await;
    let source =
        format!("[sources.shop]\nkind = \"mysql\"\nurl = \"mysql://{user}@127.0.0.1:3306/test\"\n");
    let dir = tempfile::tempdir().unwrap();
    // Granted but not active: its privileges are hidden from the account, so it may write.
    let hidden = doctor(dir.path(), &source);
    admin(
        MARIADB_ADMIN,
        &[format!("SET DEFAULT ROLE {role} FOR '{user}'@'%'")],
    )
    .await;
    // Active on connect: the write is found, two roles down.
    let active = doctor(dir.path(), &source);
    admin(MARIADB_ADMIN, &cleanup).await;

    let (code, out, err) = hidden;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "WARNING shop (mysql): user {user}@% may write through role `{role}`, which is not active"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("REVOKE `{role}` FROM `{user}`@`%`")),
        "{out}"
    );
    let (code, out, err) = active;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "WARNING shop (mysql): user {user}@% can INSERT on `test`.`{table}` through role `{inner}`;"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn prometheus_sqlite_unreachable_and_broken_configs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::raw_sql("CREATE TABLE t (id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let prom = support::prometheus();
    let (code, out, err) = doctor(
        dir.path(),
        &format!(
            "[sources.prom]\nkind = \"prometheus\"\nurl = \"{}\"\n[sources.cache]\nkind = \"sqlite\"\nurl = \"sqlite://{}\"\n",
            prom.url,
            db.display()
        ),
    );
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("ok  cache (sqlite): opened read-only; note: "),
        "{out}"
    );
    assert!(
        lines[0].contains("is writable by the user Sentinel runs as"),
        "{out}"
    );
    assert_eq!(
        lines[1],
        format!(
            "ok  prom (prometheus): reachable at {}, queries only",
            prom.url
        )
    );

    let closed = support::free_port();
    let (code, out, _) = doctor(
        dir.path(),
        &format!(
            "[sources.gone]\nkind = \"postgres\"\nurl = \"postgres://x@127.0.0.1:{closed}/x\"\n"
        ),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAIL gone (postgres): cannot check: "),
        "{out}"
    );

    let (code, out, err) = doctor(dir.path(), "[sources.bad]\nkind = \"postgres\"\n");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("sentinel.toml:4:8: source `bad` needs url"),
        "{err}"
    );
}

#[test]
fn a_loki_that_does_not_answer_and_a_missing_journalctl_fail() {
    let dir = tempfile::tempdir().unwrap();
    let sources = format!(
        "[sources.logs]\nkind = \"loki\"\nurl = \"http://127.0.0.1:{}\"\ntimeout = \"2s\"\n\n[sources.journal]\nkind = \"journald\"\njournalctl = \"{}/no-such-journalctl\"\n",
        support::free_port(),
        dir.path().display()
    );
    let (code, stdout, stderr) = doctor(dir.path(), &sources);
    assert_eq!(code, 1, "{stdout}{stderr}");
    for expected in [
        "FAIL logs (loki): cannot query",
        "FAIL journal (journald): cannot read the journal",
    ] {
        assert!(
            stdout.lines().any(|line| line.starts_with(expected)),
            "{expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn the_files_the_watches_read_are_checked_too() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("app.log"), "ERROR boom\n").unwrap();
    std::fs::write(logs.join("worker.log"), "").unwrap();
    let watches = format!(
        "[watches.app-errors]\nkind = \"new_error\"\npath = \"{logs}/*.log\"\n\
         [watches.api]\nkind = \"error_class\"\npath = \"{logs}/access.log\"\napp_log = \"{logs}/*.log\"\n\
         [watches.backups]\nkind = \"freshness\"\npath = \"{dir}/backups/*.sql.gz\"\nmax_age = \"26h\"\n",
        logs = logs.display(),
        dir = dir.path().display()
    );
    let (code, out, err) = doctor(dir.path(), &watches);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "WARNING api (files): {}/access.log: no file matches yet; the watch is blind until one does",
                logs.display()
            ),
            format!(
                "ok  api (files): {}/*.log: 2 files readable",
                logs.display()
            ),
            format!(
                "FAIL backups (files): {}/backups/*.sql.gz: cannot read directory {}/backups: No such file or directory (os error 2)",
                dir.path().display(),
                dir.path().display()
            ),
        ],
        "watches in name order; the app log glob once, though two watches read it"
    );
}

#[test]
fn a_configured_model_is_asked_for_one_word_and_a_rejected_key_fails() {
    use support::fake_llm::{FakeLlm, Scripted, anthropic};
    let fake = FakeLlm::anthropic("sk-ant-right");
    fake.script(Scripted::ok(anthropic::message(
        serde_json::json!([{"type": "text", "text": "OK"}]),
        "end_turn",
        anthropic::usage(12, 1, 0, 0),
    )));
    let dir = tempfile::tempdir().unwrap();
    let run = |key: &str| {
        let config = support::write_config(
            dir.path(),
            &format!(
                "[store]\npath = \"{}/s.db\"\n[investigator]\nprovider = \"anthropic\"\nbase_url = \"{}\"\napi_key = \"${{MODEL_KEY}}\"\n",
                dir.path().display(),
                fake.url
            ),
        );
        let out = Command::new(support::sentinel_bin())
            .args(["doctor", "--config"])
            .arg(&config)
            .env("MODEL_KEY", key)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = run("sk-ant-right");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("ok  investigator (model): anthropic claude-sonnet-4-5"),
        "{out}"
    );
    assert!(out.contains("answered (12 tokens in, 1 out)"), "{out}");
    let (code, out) = run("sk-ant-wrong");
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("FAIL investigator (model):"), "{out}");
    assert!(out.contains("offline investigator"), "{out}");
    assert!(
        !out.contains("sk-ant-wrong"),
        "the key is never printed: {out}"
    );
    assert_eq!(fake.calls(), 2);
}

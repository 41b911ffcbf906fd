//! Statements an attacker would try, against real PostgreSQL, MariaDB and SQLite: every one is
//! refused, with a superuser role (where the guard is all that stands) and with a read-only
//! role, and each is proved harmless by a before/after look at what it aimed at: table
//! contents, sequences, settings, locks, other sessions, replication slots, large objects,
//! files, and (on PostgreSQL) the server's own statement statistics.

mod support;

use sentinel::source::sql::caps::ResultCaps;
use sentinel::source::sql::database::{QueryError, SqlSettings, SqlSource};
use sentinel::source::sql::guard::{GuardPolicy, SqlDialectKind};
use sqlx::{Connection, Executor, Row};
use std::time::Duration;
use support::pg_cluster;

/// A source as an operator configures it; `privileged` is `allow_privileged_role`, which the
/// superuser sources need to run at all (the guard then stands alone).
fn source(name: &str, url: &str, dialect: SqlDialectKind, privileged: bool) -> SqlSource {
    SqlSource::new(
        name,
        SqlSettings {
            url: url.to_string(),
            statement_timeout: Duration::from_secs(3),
            lock_timeout: Duration::from_secs(1),
            caps: ResultCaps::default(),
            policy: GuardPolicy::new(dialect),
            allow_privileged_role: privileged,
        },
    )
}

/// Sends every attack through `source` and insists each is refused by the guard.
async fn all_refused(source: &SqlSource, attacks: &[String]) {
    let mut let_through = Vec::new();
    for sql in attacks {
        match source.query(sql).await {
            Err(QueryError::Refused(_)) => {}
            other => let_through.push(format!("{sql}\n    -> {other:?}")),
        }
    }
    assert!(
        let_through.is_empty(),
        "{} of {} attacks were not refused by the guard on {}:\n{}",
        let_through.len(),
        attacks.len(),
        source.name(),
        let_through.join("\n")
    );
}

/// Each probe's one value, read on the administrator's connection `$admin`, as
/// `probe => value` lines to compare before and after.
macro_rules! read_probes {
    ($admin:expr, $probes:expr) => {{
        let mut state = Vec::new();
        for probe in $probes {
            let value: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(probe.clone()))
                .fetch_one(&mut *$admin)
                .await
                .unwrap_or_else(|e| panic!("{probe}: {e}"));
            state.push(format!("{probe} => {}", value.unwrap_or_default()));
        }
        state
    }};
}

// ------------------------------------------------------------------------ PostgreSQL

/// `{t}` is the canary table, `{dir}` a directory no statement may write into.
const POSTGRES_ATTACKS: &[&str] = &[
    // Functions that run SQL given to them as text.
    "SELECT * FROM ts_stat($$SELECT to_tsvector(pg_terminate_backend(pid)::text) FROM pg_stat_activity WHERE pid <> pg_backend_pid()$$)",
    "SELECT * FROM ts_stat('SELECT to_tsvector(lo_export(0, ''{dir}/x'')::text)')",
    "SELECT ts_rewrite('a & b'::tsquery, 'SELECT ''a''::tsquery, ''c''::tsquery FROM {t}')",
    "SELECT query_to_xml('DELETE FROM {t} RETURNING 1', true, true, '')",
    "SELECT query_to_xml_and_xmlschema('SELECT pg_reload_conf()', true, true, '')",
    "SELECT query_to_xmlschema('SELECT 1', true, true, '')",
    "SELECT table_to_xml('{t}', true, true, '')",
    "SELECT table_to_xmlschema('{t}', true, true, '')",
    "SELECT schema_to_xml('public', true, true, '')",
    "SELECT database_to_xml(true, true, '')",
    "SELECT cursor_to_xml('c', 1, true, true, '')",
    "SELECT pg_catalog.ts_stat('SELECT 1')",
    "SELECT \"ts_stat\"('SELECT 1')",
    // Session and server administration.
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity",
    "SELECT pg_reload_conf()",
    "SELECT pg_rotate_logfile()",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT pg_catalog.set_config('statement_timeout', '0', false)",
    "SELECT setseed(0.5)",
    "SELECT pg_log_backend_memory_contexts(pg_backend_pid())",
    "SELECT pg_switch_wal()",
    "SELECT pg_create_restore_point('x')",
    "SELECT pg_backup_start('x')",
    "SELECT pg_stat_reset()",
    "SELECT pg_stat_reset_shared('bgwriter')",
    "SELECT pg_stat_statements_reset()",
    "SELECT pg_stat_clear_snapshot()",
    "SELECT pg_export_snapshot()",
    // Index maintenance and replication.
    "SELECT brin_summarize_new_values('{t}_brin')",
    "SELECT brin_summarize_range('{t}_brin', 0)",
    "SELECT brin_desummarize_range('{t}_brin', 0)",
    "SELECT gin_clean_pending_list('{t}_gin')",
    "SELECT pg_create_physical_replication_slot('attack_slot')",
    "SELECT pg_create_logical_replication_slot('attack_slot', 'test_decoding')",
    "SELECT pg_copy_physical_replication_slot('existing_slot', 'attack_copy')",
    "SELECT pg_replication_slot_advance('existing_slot', pg_current_wal_lsn())",
    "SELECT pg_drop_replication_slot('existing_slot')",
    "SELECT pg_logical_emit_message(true, 'x', 'y')",
    "SELECT pg_replication_origin_create('attack')",
    // Locks, files, large objects, remote connections.
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_try_advisory_lock(42)",
    "SELECT pg_advisory_xact_lock(42)",
    "SELECT lo_import('/etc/hostname')",
    "SELECT lo_export(0, '{dir}/exported')",
    "SELECT lo_create(0)",
    "SELECT lo_from_bytea(0, 'x')",
    "SELECT lo_unlink(1)",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT pg_read_binary_file('/etc/hostname')",
    "SELECT * FROM pg_ls_dir('/')",
    "SELECT pg_stat_file('/etc/hostname')",
    "SELECT * FROM pg_catalog.pg_hba_file_rules()",
    "SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS r(a int)",
    "SELECT dblink_exec('dbname=postgres', 'DELETE FROM {t}')",
    // Writes hidden in function calls.
    "SELECT nextval('{t}_seq')",
    "SELECT setval('{t}_seq', 1000)",
    "SELECT txid_current()",
    "SELECT pg_current_xact_id()",
    "SELECT pg_notify('channel', 'payload')",
    "SELECT pg_sleep(10)",
    "SELECT pg_sleep_for('10 seconds')",
    // The operator's own functions, and namesakes of built-ins.
    "SELECT kill_others()",
    "SELECT public.kill_others()",
    "SELECT * FROM {t} WHERE id = bump_balance(1)",
    "SELECT lower(1)",
    "SELECT length(1::int)",
    "SELECT public.lower(1)",
    "SELECT * FROM {t} WHERE id = ANY (SELECT bump_balance(id) FROM {t})",
    "SELECT 1 OPERATOR(public.###) 2",
    "SELECT 1 ### 2",
    "SELECT 'x'::positive_balance",
    "SELECT CAST(5 AS positive_balance)",
    "SELECT positive_balance '7'",
    "SELECT '7'::wrapped_int",
    "SELECT * FROM set_returning_attack()",
    // Structural attacks (every layer keeps its word).
    "DELETE FROM {t}",
    "UPDATE {t} SET balance = 0",
    "WITH gone AS (DELETE FROM {t} RETURNING *) SELECT count(*) FROM gone",
    "SELECT * FROM {t} FOR UPDATE",
    "SELECT * INTO {t}_copy FROM {t}",
    "SET transaction_read_only = off",
    "SELECT 1; DELETE FROM {t}",
    "DO $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity; END $$",
    "CALL kill_others_proc()",
    "COPY {t} TO '{dir}/copied'",
    "COPY (SELECT 1) TO PROGRAM 'touch {dir}/program'",
    "EXPLAIN ANALYZE SELECT kill_others()",
    "EXPLAIN SELECT kill_others()",
    "PREPARE p AS SELECT 1",
    "LISTEN attack",
    "VACUUM {t}",
    "ANALYZE {t}",
    "REFRESH MATERIALIZED VIEW {t}_mv",
    "LOCK TABLE {t}",
    "CREATE TABLE attack (a int)",
    "ALTER SYSTEM SET work_mem = '1GB'",
    "RESET ALL",
    "DISCARD ALL",
    "CHECKPOINT",
];

/// What the attacks aimed at, read as the administrator.
async fn postgres_state(admin: &mut sqlx::PgConnection, table: &str) -> Vec<String> {
    let probes = [
        format!("SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '') FROM {table} t"),
        format!("SELECT last_value::text || is_called::text FROM {table}_seq"),
        "SELECT md5(string_agg(name || '=' || setting, ',' ORDER BY name)) FROM pg_settings"
            .to_string(),
        "SELECT pg_conf_load_time()::text".to_string(),
        "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory'".to_string(),
        "SELECT string_agg(slot_name || ':' || coalesce(restart_lsn::text, ''), ',' ORDER BY slot_name) FROM pg_replication_slots".to_string(),
        "SELECT count(*)::text FROM pg_largeobject_metadata".to_string(),
        "SELECT count(*)::text FROM pg_replication_origin".to_string(),
        "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'attack%'".to_string(),
    ];
    read_probes!(admin, probes)
}

#[tokio::test]
async fn postgres_attacks_are_refused_with_a_superuser_and_with_a_read_only_role() {
    let url = pg_cluster::fresh_database("attacks", true).await;
    let table = "canary".to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let setup = [
        format!("CREATE TABLE {table} (id int PRIMARY KEY, balance int, doc tsvector)"),
        format!("INSERT INTO {table} SELECT g, 100, to_tsvector('word') FROM generate_series(1, 50) g"),
        format!("CREATE SEQUENCE {table}_seq"),
        format!("CREATE INDEX {table}_brin ON {table} USING brin (id)"),
        format!("CREATE INDEX {table}_gin ON {table} USING gin (doc) WITH (fastupdate = on)"),
        format!("CREATE MATERIALIZED VIEW {table}_mv AS SELECT count(*) FROM {table}"),
        // Slots belong to the cluster: one left by an earlier run is replaced.
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'existing_slot'".to_string(),
        "SELECT pg_create_physical_replication_slot('existing_slot', true)".to_string(),
        "CREATE FUNCTION kill_others() RETURNS int LANGUAGE sql AS \
         $$ SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname IS NOT NULL $$"
            .to_string(),
        format!("CREATE FUNCTION bump_balance(i int) RETURNS int LANGUAGE sql STABLE AS \
         $$ UPDATE {table} SET balance = balance + 1 RETURNING i $$"),
        "CREATE FUNCTION public.lower(i int) RETURNS int LANGUAGE sql AS \
         $$ SELECT pg_reload_conf()::int $$".to_string(),
        "CREATE FUNCTION public.length(i int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT i $$"
            .to_string(),
        "CREATE FUNCTION attack_op(a int, b int) RETURNS int LANGUAGE sql VOLATILE AS \
         $$ SELECT pg_reload_conf()::int $$".to_string(),
        "CREATE OPERATOR public.### (LEFTARG = int, RIGHTARG = int, FUNCTION = attack_op)"
            .to_string(),
        "CREATE FUNCTION positive(i int) RETURNS bool LANGUAGE sql AS \
         $$ SELECT pg_reload_conf() AND i > 0 $$".to_string(),
        "CREATE DOMAIN positive_balance AS int CHECK (positive(VALUE))".to_string(),
        "CREATE TYPE wrapped_int AS (v int)".to_string(),
        "CREATE FUNCTION wrap(t text) RETURNS wrapped_int LANGUAGE sql VOLATILE AS \
         $$ SELECT ROW(pg_reload_conf()::int)::wrapped_int $$".to_string(),
        "CREATE CAST (text AS wrapped_int) WITH FUNCTION wrap(text)".to_string(),
        "CREATE FUNCTION set_returning_attack() RETURNS SETOF int LANGUAGE sql AS \
         $$ SELECT pg_reload_conf()::int $$".to_string(),
        "CREATE PROCEDURE kill_others_proc() LANGUAGE sql AS $$ SELECT 1 $$".to_string(),
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'attack_reader') THEN \
         CREATE ROLE attack_reader LOGIN; END IF; END $$".to_string(),
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO attack_reader".to_string(),
        "SELECT pg_stat_statements_reset()".to_string(),
    ];
    for statement in &setup {
        admin
            .execute(sqlx::AssertSqlSafe(statement.clone()))
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    // Another session, which attacks on sessions would end.
    let mut bystander = sqlx::PgConnection::connect(&url).await.unwrap();
    let bystander_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut bystander)
        .await
        .unwrap();

    let before = postgres_state(&mut admin, &table).await;
    let attacks: Vec<String> = POSTGRES_ATTACKS
        .iter()
        .map(|a| {
            a.replace("{t}", &table)
                .replace("{dir}", &dir.path().display().to_string())
        })
        .collect();
    let reader_url = url.replacen("postgres@", "attack_reader@", 1);
    for (name, url, privileged) in [
        ("superuser", url.as_str(), true),
        ("reader", reader_url.as_str(), false),
    ] {
        all_refused(
            &source(name, url, SqlDialectKind::Postgres, privileged),
            &attacks,
        )
        .await;
    }
    assert_eq!(postgres_state(&mut admin, &table).await, before);

    // The bystander is alive, no file was written, and the server never ran an attack.
    let alive: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut bystander)
        .await
        .expect("the other session survives");
    assert_eq!(alive, bystander_pid);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let recorded: Vec<String> = sqlx::query(
        "SELECT query FROM pg_stat_statements WHERE query ~* '(canary|kill_others|bump_balance|reload|terminate|ts_stat|lo_|xml|slot|advisory|###|positive|wrapped)' \
         AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%md5(string_agg%' \
         AND query NOT ILIKE '%FROM canary_seq%' AND query NOT ILIKE '%pg_replication_slots%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get::<String, _>(0))
    .collect();
    assert!(
        recorded.is_empty(),
        "the server ran statements it should never have seen: {recorded:#?}"
    );

    // A positive control: the same path does run reads, built-ins included.
    let reader = source("reader", &reader_url, SqlDialectKind::Postgres, false);
    let result = reader
        .query(&format!(
            "SELECT count(*), pg_catalog.lower('A'), upper('abc'), now() IS NOT NULL FROM {table} WHERE balance = 100 AND id <> ALL (ARRAY[0])"
        ))
        .await
        .unwrap();
    assert_eq!(result.rows[0][0].as_deref(), Some("50"));
    assert_eq!(result.rows[0][1].as_deref(), Some("a"));
    admin
        .execute("SELECT pg_drop_replication_slot('existing_slot')")
        .await
        .unwrap();
    admin.close().await.unwrap();
}

// ------------------------------------------------------------------------ MariaDB

const MARIADB_ATTACKS: &[&str] = &[
    "SELECT set_global_connections()",
    "SELECT attacks.set_global_connections()",
    "SELECT * FROM {t} WHERE id = drain_balance(id)",
    "SELECT json_wipe()",
    "SELECT regexp_drain('x')",
    "SELECT sleep(10)",
    "SELECT SLEEP(10)",
    "SELECT `sleep`(10)",
    "SELECT benchmark(100000000, md5('x'))",
    "SELECT get_lock('attack', 0)",
    "SELECT release_lock('attack')",
    "SELECT release_all_locks()",
    "SELECT load_file('/etc/hostname')",
    "SELECT master_pos_wait('log', 1)",
    "SELECT master_gtid_wait('0-1-1', 5)",
    "SELECT last_insert_id(42)",
    "SELECT nextval(attack_seq)",
    "SELECT NEXT VALUE FOR attack_seq",
    "SELECT setval(attack_seq, 1000)",
    "SELECT @a := 1",
    "SELECT * FROM {t} INTO OUTFILE '{dir}/out'",
    "SELECT * FROM {t} INTO DUMPFILE '{dir}/dump'",
    "SELECT id INTO @v FROM {t} LIMIT 1",
    "SELECT * FROM {t} FOR UPDATE",
    "SELECT * FROM {t} LOCK IN SHARE MODE",
    "SELECT 1 /*! ; DELETE FROM {t} */",
    "SELECT 1 /*!50000 , sleep(5) */",
    "DELETE FROM {t}",
    "UPDATE {t} SET balance = 0",
    "REPLACE INTO {t} VALUES (1, 0)",
    "INSERT INTO {t} VALUES (999, 0)",
    "SET GLOBAL max_connections = 1",
    "SET SESSION sql_mode = ''",
    "DO sleep(5)",
    "CALL drain_all()",
    "KILL 1",
    "KILL QUERY 1",
    "FLUSH TABLES",
    "LOCK TABLES {t} WRITE",
    "HANDLER {t} OPEN",
    "LOAD DATA INFILE '/etc/hostname' INTO TABLE {t}",
    "ANALYZE TABLE {t}",
    "OPTIMIZE TABLE {t}",
    "CREATE TABLE attack (a int)",
    "TRUNCATE {t}",
    "SHUTDOWN",
    "INSTALL PLUGIN attack SONAME 'attack.so'",
];

async fn mariadb_state(admin: &mut sqlx::MySqlConnection, table: &str) -> Vec<String> {
    let probes = [
        format!("SELECT CAST(COALESCE(SUM(CRC32(CONCAT(id, ':', balance))), 0) AS CHAR) FROM {table}"),
        "SELECT CAST(max_connections_value AS CHAR) FROM (SELECT @@GLOBAL.max_connections AS max_connections_value) v".to_string(),
        "SELECT MD5(GROUP_CONCAT(VARIABLE_NAME, '=', VARIABLE_VALUE ORDER BY VARIABLE_NAME)) FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME NOT LIKE '%TIMESTAMP%' AND VARIABLE_NAME NOT IN ('GTID_BINLOG_POS', 'GTID_CURRENT_POS', 'GTID_BINLOG_STATE')".to_string(),
        "SELECT CAST(COALESCE(IS_USED_LOCK('attack'), 0) AS CHAR)".to_string(),
        "SELECT CAST(NEXT_NOT_CACHED_VALUE AS CHAR) FROM attack_seq".to_string(),
        "SELECT COALESCE(GROUP_CONCAT(TABLE_NAME), '') FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'attacks' AND TABLE_NAME LIKE 'attack%' AND TABLE_NAME <> 'attack_seq'".to_string(),
    ];
    read_probes!(admin, probes)
}

#[tokio::test]
async fn mariadb_attacks_are_refused_with_root_and_with_a_read_only_user() {
    let server = support::MARIADB.rsplit_once('/').unwrap().0.to_string();
    let table = "canary";
    let dir = tempfile::tempdir().unwrap();
    support::run_sql(
        support::MARIADB,
        &[
            "DROP DATABASE IF EXISTS attacks".to_string(),
            "CREATE DATABASE attacks".to_string(),
            format!("CREATE TABLE attacks.{table} (id int PRIMARY KEY, balance int)"),
            format!("INSERT INTO attacks.{table} SELECT seq, 100 FROM seq_1_to_50"),
            "CREATE SEQUENCE attacks.attack_seq".to_string(),
            "CREATE FUNCTION attacks.set_global_connections() RETURNS int DETERMINISTIC \
             BEGIN SET GLOBAL max_connections = 7; RETURN 1; END"
                .to_string(),
            format!(
                "CREATE FUNCTION attacks.drain_balance(i int) RETURNS int MODIFIES SQL DATA \
             BEGIN UPDATE attacks.{table} SET balance = 0; RETURN i; END"
            ),
            format!("CREATE PROCEDURE attacks.drain_all() BEGIN DELETE FROM attacks.{table}; END"),
            // Stored functions named like families of built-ins.
            format!(
                "CREATE FUNCTION attacks.json_wipe() RETURNS int MODIFIES SQL DATA \
             BEGIN DELETE FROM attacks.{table}; RETURN 1; END"
            ),
            "CREATE FUNCTION attacks.regexp_drain(s text) RETURNS int DETERMINISTIC \
             BEGIN SET GLOBAL max_connections = 9; RETURN 1; END"
                .to_string(),
            "CREATE USER IF NOT EXISTS 'attack_reader'@'%'".to_string(),
            "CREATE USER IF NOT EXISTS 'attack_reader'@'localhost'".to_string(),
            "GRANT SELECT ON attacks.* TO 'attack_reader'@'%'".to_string(),
            "GRANT SELECT ON attacks.* TO 'attack_reader'@'localhost'".to_string(),
        ],
    )
    .await;
    let root_url = format!("{server}/attacks");
    let reader_url = root_url.replacen("root@", "attack_reader@", 1);
    let mut admin = sqlx::MySqlConnection::connect(&root_url).await.unwrap();
    let mut bystander = sqlx::MySqlConnection::connect(&root_url).await.unwrap();
    let before = mariadb_state(&mut admin, table).await;
    let attacks: Vec<String> = MARIADB_ATTACKS
        .iter()
        .map(|a| {
            a.replace("{t}", table)
                .replace("{dir}", &dir.path().display().to_string())
        })
        .collect();
    for (name, url, privileged) in [
        ("root", root_url.as_str(), true),
        ("reader", reader_url.as_str(), false),
    ] {
        all_refused(
            &source(name, url, SqlDialectKind::MySql, privileged),
            &attacks,
        )
        .await;
    }
    assert_eq!(mariadb_state(&mut admin, table).await, before);
    bystander
        .execute("SELECT 1")
        .await
        .expect("the other session survives");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let reader = source("reader", &reader_url, SqlDialectKind::MySql, false);
    let result = reader
        .query(&format!(
            "SELECT COUNT(*), LOWER('A'), DATE_FORMAT(NOW(), '%Y') > '2000' FROM {table} WHERE balance = 100"
        ))
        .await
        .unwrap();
    assert_eq!(result.rows[0][0].as_deref(), Some("50"));
    assert_eq!(result.rows[0][1].as_deref(), Some("a"));
}

// ------------------------------------------------------------------------ SQLite

const SQLITE_ATTACKS: &[&str] = &[
    "SELECT load_extension('/tmp/attack.so')",
    "SELECT fts3_tokenizer('simple', x'00')",
    "SELECT writefile('{dir}/written', 'x')",
    "SELECT readfile('/etc/hostname')",
    "SELECT edit('x', 'vi')",
    "SELECT app_defined()",
    "SELECT main.lower('A')",
    "SELECT zipfile('x')",
    "SELECT * FROM fsdir('/')",
    "SELECT * FROM pragma_journal_mode('delete')",
    "ATTACH DATABASE '{dir}/other.db' AS other",
    "DETACH DATABASE main",
    "PRAGMA writable_schema = 1",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA user_version = 7",
    "VACUUM",
    "VACUUM INTO '{dir}/copy.db'",
    "REINDEX",
    "ANALYZE",
    "DELETE FROM {t}",
    "UPDATE {t} SET balance = 0",
    "INSERT INTO {t} VALUES (999, 0)",
    "REPLACE INTO {t} VALUES (1, 0)",
    "INSERT OR REPLACE INTO {t} VALUES (1, 0)",
    "WITH gone AS (DELETE FROM {t} RETURNING *) SELECT count(*) FROM gone",
    "CREATE TEMP TABLE attack AS SELECT * FROM {t}",
    "CREATE TRIGGER attack AFTER INSERT ON {t} BEGIN DELETE FROM {t}; END",
    "DROP TABLE {t}",
    "ALTER TABLE {t} RENAME TO attack",
    "BEGIN IMMEDIATE",
    "SAVEPOINT attack",
    "SELECT 1; DELETE FROM {t}",
];

#[tokio::test]
async fn sqlite_attacks_are_refused_and_the_file_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let url = support::sqlite_file_with(
        &path,
        "CREATE TABLE canary (id INTEGER PRIMARY KEY, balance INT); \
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 50) \
         INSERT INTO canary SELECT n, 100 FROM g",
    )
    .await;
    let before = std::fs::read(&path).unwrap();
    let attacks: Vec<String> = SQLITE_ATTACKS
        .iter()
        .map(|a| {
            a.replace("{t}", "canary")
                .replace("{dir}", &target.path().display().to_string())
        })
        .collect();
    let app = source("app", &url, SqlDialectKind::Sqlite, false);
    all_refused(&app, &attacks).await;
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is byte-for-byte unchanged"
    );
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);

    let result = app
        .query("SELECT count(*), lower('A'), json_extract('{\"a\": 1}', '$.a') FROM canary")
        .await
        .unwrap();
    assert_eq!(result.rows[0][0].as_deref(), Some("50"));
    assert_eq!(result.rows[0][1].as_deref(), Some("a"));
}

//! Behaviour of the statement guard: which SQL may reach a watched database.

use sentinel::source::sql::guard::{
    CheckedStatement, GuardPolicy, Refusal, SqlDialectKind, StatementKind, check,
};

use SqlDialectKind::{MySql, Postgres, Sqlite};

const ALL_DIALECTS: [SqlDialectKind; 3] = [Postgres, MySql, Sqlite];

fn policy(dialect: SqlDialectKind) -> GuardPolicy {
    GuardPolicy::new(dialect)
}

/// Passes every check the guard makes on its own (PostgreSQL's catalog, where the statement
/// needs it, is consulted in `tests/sql_attacks.rs` and `tests/sql_allowlist.rs`).
fn allowed(dialect: SqlDialectKind, sql: &str) -> CheckedStatement {
    match check(sql, &policy(dialect)) {
        Ok(allowed) => allowed,
        Err(refusal) => panic!("{dialect:?}: expected {sql:?} to be allowed, got: {refusal}"),
    }
}

fn refused(dialect: SqlDialectKind, sql: &str) -> Refusal {
    match check(sql, &policy(dialect)) {
        Ok(allowed) => panic!(
            "{dialect:?}: expected {sql:?} to be refused, but it was allowed as {:?}",
            allowed.kind(),
        ),
        Err(refusal) => refusal,
    }
}

fn assert_denied_function(dialect: SqlDialectKind, sql: &str, function: &str) {
    match refused(dialect, sql) {
        Refusal::DeniedFunction {
            function: named, ..
        } => assert!(
            named
                .to_lowercase()
                .replace(['"', '`'], "")
                .ends_with(function),
            "{sql:?}: refused for function {named}, expected {function}"
        ),
        other => panic!("{sql:?}: expected a denied-function refusal for {function}, got: {other}"),
    }
}

fn assert_not_a_read(dialect: SqlDialectKind, sql: &str) {
    match refused(dialect, sql) {
        Refusal::NotARead { .. } => {}
        other => panic!("{dialect:?} {sql:?}: expected NotARead, got: {other:?}"),
    }
}

// ---------------------------------------------------------------- good reads

#[test]
fn plain_reads_are_allowed_in_every_dialect() {
    let reads = [
        "SELECT 1",
        "select * from jobs",
        "SELECT j.id, u.name FROM jobs j JOIN users u ON u.id = j.user_id WHERE j.state = 'failed'",
        "SELECT kind, count(*) FROM jobs GROUP BY kind HAVING count(*) > 10 ORDER BY 2 DESC LIMIT 5",
        "SELECT id, row_number() OVER (PARTITION BY kind ORDER BY created_at DESC) AS rn FROM jobs",
        "WITH recent AS (SELECT * FROM jobs WHERE id > 100) SELECT count(*) FROM recent",
        "SELECT a FROM t UNION ALL SELECT b FROM u",
        "SELECT * FROM t WHERE id IN (SELECT job_id FROM failures)",
        "SELECT CASE WHEN x > 1 THEN 'big' ELSE 'small' END FROM t",
        "SELECT 1;",
    ];
    for dialect in ALL_DIALECTS {
        for sql in reads {
            assert_eq!(allowed(dialect, sql).kind(), StatementKind::Select, "{sql}");
        }
    }
}

#[test]
fn postgres_specific_reads_are_allowed() {
    let reads = [
        "SELECT now() - max(created_at) FROM jobs WHERE state = 'running' GROUP BY kind",
        "SELECT query, calls, mean_exec_time FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT 10",
        "SELECT pid, state, now() - query_start FROM pg_stat_activity WHERE state <> 'idle'",
        "SELECT currval('jobs_id_seq')",
        "SELECT current_setting('default_transaction_read_only')",
        "SELECT * FROM jobs j, LATERAL (SELECT * FROM runs r WHERE r.job_id = j.id LIMIT 1) last_run",
        "SELECT relname, n_dead_tup FROM pg_catalog.pg_stat_user_tables",
        "SELECT x::text FROM generate_series(1, 3) AS x",
    ];
    for sql in reads {
        assert_eq!(
            allowed(Postgres, sql).kind(),
            StatementKind::Select,
            "{sql}"
        );
    }
}

#[test]
fn values_is_a_read() {
    for dialect in ALL_DIALECTS {
        assert_eq!(
            allowed(dialect, "VALUES (1, 'a'), (2, 'b')").kind(),
            StatementKind::Values
        );
    }
}

#[test]
fn show_is_allowed_by_default_and_can_be_disabled() {
    assert_eq!(
        allowed(Postgres, "SHOW server_version").kind(),
        StatementKind::Show
    );
    assert_eq!(allowed(MySql, "SHOW TABLES").kind(), StatementKind::Show);
    assert_eq!(
        allowed(MySql, "SHOW FULL PROCESSLIST").kind(),
        StatementKind::Show
    );
    let no_show = GuardPolicy {
        allow_show: false,
        ..GuardPolicy::new(Postgres)
    };
    assert_eq!(
        check("SHOW server_version", &no_show),
        Err(Refusal::ShowDisabled)
    );
}

#[test]
fn explain_without_analyze_is_allowed() {
    let explains = [
        (Postgres, "EXPLAIN SELECT * FROM jobs WHERE state = 'x'"),
        (Postgres, "EXPLAIN (FORMAT JSON) SELECT * FROM jobs"),
        (Postgres, "EXPLAIN (VERBOSE, COSTS) SELECT * FROM jobs"),
        (MySql, "EXPLAIN SELECT * FROM jobs"),
        (MySql, "EXPLAIN FORMAT=JSON SELECT * FROM jobs"),
        (Sqlite, "EXPLAIN QUERY PLAN SELECT * FROM jobs"),
    ];
    for (dialect, sql) in explains {
        assert_eq!(
            allowed(dialect, sql).kind(),
            StatementKind::Explain,
            "{sql}"
        );
    }
}

#[test]
fn describe_is_a_read_where_the_dialect_parses_it() {
    assert_eq!(
        allowed(MySql, "DESCRIBE jobs").kind(),
        StatementKind::Describe
    );
}

#[test]
fn explain_can_be_disabled() {
    let no_explain = GuardPolicy {
        allow_explain: false,
        ..GuardPolicy::new(Postgres)
    };
    assert_eq!(
        check("EXPLAIN SELECT 1", &no_explain),
        Err(Refusal::ExplainDisabled)
    );
}

#[test]
fn normalized_sql_drops_comments_and_is_what_gets_executed() {
    let statement = allowed(
        Postgres,
        "/* dashboard */ SeLeCt id -- trailing\n FROM jobs WHERE state > 'running'",
    );
    let statement = statement
        .confirm(None)
        .expect_err("an operator needs the catalog's word");
    assert!(matches!(statement, Refusal::CatalogUnavailable { .. }));
    let statement = allowed(
        MySql,
        "/* dashboard */ SeLeCt id -- trailing\n FROM jobs WHERE state = 'running'",
    )
    .confirm(None)
    .unwrap();
    assert_eq!(
        statement.normalized_sql(),
        "SELECT id FROM jobs WHERE state = 'running'"
    );
    // The normalized text passes the guard again unchanged.
    let again = allowed(MySql, statement.normalized_sql())
        .confirm(None)
        .unwrap();
    assert_eq!(again.normalized_sql(), statement.normalized_sql());
}

// ---------------------------------------------------------------- writes and DDL

#[test]
fn writes_are_refused() {
    let writes = [
        (Postgres, "INSERT INTO t (a) VALUES (1)"),
        (
            Postgres,
            "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2",
        ),
        (Postgres, "UPDATE t SET a = 1"),
        (Postgres, "DELETE FROM t"),
        (
            Postgres,
            "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
        ),
        (Postgres, "TRUNCATE t"),
        (Postgres, "INSERT INTO t SELECT * FROM u"),
        (MySql, "REPLACE INTO t (a) VALUES (1)"),
        (
            MySql,
            "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2",
        ),
        (MySql, "UPDATE t SET a = 1 WHERE id = 2"),
        (MySql, "DELETE FROM t WHERE id = 2"),
        (Sqlite, "INSERT OR REPLACE INTO t (a) VALUES (1)"),
        (Sqlite, "REPLACE INTO t (a) VALUES (1)"),
        (
            Sqlite,
            "INSERT INTO t (a) VALUES (1) ON CONFLICT(a) DO UPDATE SET a = excluded.a",
        ),
        (Sqlite, "DELETE FROM t"),
    ];
    for (dialect, sql) in writes {
        match refused(dialect, sql) {
            Refusal::NotARead { reason, .. } => {
                assert_eq!(reason, "it writes data", "{sql}")
            }
            other => panic!("{sql}: expected a write refusal, got {other:?}"),
        }
    }
}

#[test]
fn ddl_is_refused() {
    let ddl = [
        "CREATE TABLE t (a int)",
        "CREATE INDEX i ON t (a)",
        "CREATE VIEW v AS SELECT 1",
        "ALTER TABLE t ADD COLUMN b int",
        "DROP TABLE t",
        "DROP INDEX i",
    ];
    for dialect in ALL_DIALECTS {
        for sql in ddl {
            assert_not_a_read(dialect, sql);
        }
    }
    assert_not_a_read(Postgres, "COMMENT ON TABLE t IS 'x'");
    assert_not_a_read(
        Postgres,
        "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
    );
    assert_not_a_read(Postgres, "GRANT SELECT ON t TO bob");
    assert_not_a_read(Postgres, "REVOKE SELECT ON t FROM bob");
}

#[test]
fn refusal_names_the_statement_and_says_what_is_accepted() {
    let message = refused(Postgres, "DELETE FROM t").to_string();
    assert!(message.starts_with("refused: DELETE"), "{message}");
    assert!(message.contains("writes data"), "{message}");
    assert!(message.contains("only SELECT"), "{message}");
}

// ---------------------------------------------------------------- locking and INTO

#[test]
fn row_locking_clauses_are_refused() {
    let locking = [
        (Postgres, "SELECT * FROM t FOR UPDATE", "FOR UPDATE"),
        (Postgres, "SELECT * FROM t FOR SHARE", "FOR SHARE"),
        (
            Postgres,
            "SELECT * FROM t FOR UPDATE SKIP LOCKED",
            "FOR UPDATE",
        ),
        (
            Postgres,
            "SELECT * FROM t FOR UPDATE OF t NOWAIT",
            "FOR UPDATE",
        ),
        (MySql, "SELECT * FROM t FOR UPDATE", "FOR UPDATE"),
        (MySql, "SELECT * FROM t FOR SHARE", "FOR SHARE"),
        (
            Postgres,
            "WITH c AS (SELECT * FROM t FOR UPDATE) SELECT * FROM c",
            "FOR UPDATE",
        ),
        (
            Postgres,
            "SELECT * FROM u WHERE id IN (SELECT id FROM t FOR UPDATE)",
            "FOR UPDATE",
        ),
    ];
    for (dialect, sql, clause) in locking {
        match refused(dialect, sql) {
            Refusal::LockingClause { clause: found } => {
                assert!(found.starts_with(clause), "{sql}: {found}")
            }
            other => panic!("{sql}: expected a locking refusal, got {other:?}"),
        }
    }
    let message = refused(Postgres, "SELECT * FROM t FOR UPDATE").to_string();
    assert_eq!(
        message,
        "refused: SELECT ... FOR UPDATE takes row locks; remove the locking clause"
    );
}

#[test]
fn lock_variants_the_parser_cannot_read_are_still_refused() {
    // FOR NO KEY UPDATE, FOR KEY SHARE and MySQL's LOCK IN SHARE MODE take
    // row locks too; whether refused as locks or as unparseable, they must
    // never pass.
    for (dialect, sql) in [
        (Postgres, "SELECT * FROM t FOR NO KEY UPDATE"),
        (Postgres, "SELECT * FROM t FOR KEY SHARE"),
        (MySql, "SELECT * FROM t LOCK IN SHARE MODE"),
    ] {
        let refusal = refused(dialect, sql);
        assert!(
            matches!(
                refusal,
                Refusal::LockingClause { .. } | Refusal::Unparseable { .. }
            ),
            "{sql}: {refusal:?}"
        );
    }
}

#[test]
fn select_into_is_refused() {
    assert_eq!(
        refused(Postgres, "SELECT * INTO new_table FROM t"),
        Refusal::SelectInto
    );
    assert_eq!(
        refused(Postgres, "SELECT * INTO TEMPORARY new_table FROM t"),
        Refusal::SelectInto
    );
    assert_eq!(
        refused(MySql, "SELECT a INTO @x FROM t"),
        Refusal::SelectInto
    );
    for sql in [
        "SELECT * FROM t INTO OUTFILE '/tmp/x'",
        "SELECT * INTO OUTFILE '/tmp/x' FROM t",
        "SELECT * FROM t INTO DUMPFILE '/tmp/x'",
    ] {
        let refusal = refused(MySql, sql);
        assert!(
            matches!(refusal, Refusal::SelectInto | Refusal::Unparseable { .. }),
            "{sql}: {refusal:?}"
        );
    }
}

// ---------------------------------------------------------------- CTEs

#[test]
fn data_modifying_ctes_are_refused() {
    let cases = [
        "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
        "WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x",
        "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x",
        "WITH ok AS (SELECT 1), x AS (DELETE FROM t RETURNING *) SELECT * FROM ok, x",
        "SELECT * FROM (WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x) sub",
    ];
    for sql in cases {
        match refused(Postgres, sql) {
            Refusal::DataModifyingCte { cte } => assert!(cte == "x", "{sql}: {cte}"),
            other => panic!("{sql}: expected a data-modifying CTE refusal, got {other:?}"),
        }
    }
    let message = refused(Postgres, cases[0]).to_string();
    assert!(message.contains("data-modifying CTE"), "{message}");
}

#[test]
fn with_clause_in_front_of_a_write_is_refused() {
    let refusal = refused(
        Postgres,
        "WITH src AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM src",
    );
    assert!(matches!(refusal, Refusal::NotARead { .. }), "{refusal:?}");
}

// ---------------------------------------------------------------- several statements

#[test]
fn multiple_statements_are_refused_even_if_all_are_reads() {
    for dialect in ALL_DIALECTS {
        assert_eq!(
            refused(dialect, "SELECT 1; SELECT 2"),
            Refusal::MultipleStatements { count: 2 }
        );
        assert_eq!(
            refused(dialect, "SELECT 1; SELECT 2; SELECT 3"),
            Refusal::MultipleStatements { count: 3 }
        );
    }
    assert_eq!(
        refused(Postgres, "SELECT 1; SELECT 2").to_string(),
        "refused: statement 2 of 2 — only one statement per query is allowed; send each query on its own"
    );
}

#[test]
fn empty_input_is_refused() {
    for sql in ["", "   ", "-- just a comment", ";"] {
        let refusal = refused(Postgres, sql);
        assert!(
            matches!(refusal, Refusal::Empty | Refusal::Unparseable { .. }),
            "{sql:?}: {refusal:?}"
        );
    }
}

#[test]
fn unparseable_input_is_refused_plainly() {
    match refused(Postgres, "SELEC 1") {
        Refusal::Unparseable { .. } => {}
        other => panic!("expected unparseable, got {other:?}"),
    }
    let message = refused(Postgres, "SELECT FROM WHERE (((").to_string();
    assert!(
        message.starts_with("refused: the statement cannot be parsed"),
        "{message}"
    );
}

// ---------------------------------------------------------------- leaving read-only mode

#[test]
fn session_settings_cannot_be_changed() {
    for sql in [
        "SET default_transaction_read_only = off",
        "SET SESSION default_transaction_read_only = off",
        "SET transaction_read_only TO off",
        "SET TRANSACTION READ WRITE",
        "RESET default_transaction_read_only",
        "RESET ALL",
        "SET search_path = evil",
        "SET ROLE admin",
    ] {
        assert_not_a_read(Postgres, sql);
    }
    let refusal = refused(
        Postgres,
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    );
    assert!(
        matches!(
            refusal,
            Refusal::NotARead { .. } | Refusal::Unparseable { .. }
        ),
        "{refusal:?}"
    );
    assert_not_a_read(MySql, "SET SESSION TRANSACTION READ WRITE");
    assert_not_a_read(MySql, "SET autocommit = 1");
    assert_not_a_read(MySql, "USE other_db");
}

#[test]
fn set_config_is_refused_everywhere_it_can_hide() {
    assert_denied_function(
        Postgres,
        "SELECT set_config('default_transaction_read_only','off',false)",
        "set_config",
    );
    assert_denied_function(
        Postgres,
        "SELECT PG_CATALOG.SET_CONFIG('default_transaction_read_only','off',false)",
        "set_config",
    );
    assert_denied_function(
        Postgres,
        "SELECT \"SET_CONFIG\"('default_transaction_read_only','off',false)",
        "set_config",
    );
    assert_denied_function(
        Postgres,
        "SELECT \"pg_catalog\".\"set_config\"('x','y',false)",
        "set_config",
    );
    let message = refused(Postgres, "SELECT set_config('a','b',false)").to_string();
    assert_eq!(
        message,
        "refused: function set_config is not allowed (it can change session settings)"
    );
}

#[test]
fn transaction_control_is_refused() {
    for sql in [
        "BEGIN",
        "START TRANSACTION",
        "START TRANSACTION READ WRITE",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT s1",
        "RELEASE SAVEPOINT s1",
        "ROLLBACK TO SAVEPOINT s1",
    ] {
        assert_not_a_read(Postgres, sql);
    }
    assert_not_a_read(MySql, "START TRANSACTION");
    assert_not_a_read(Sqlite, "BEGIN TRANSACTION");
}

// ---------------------------------------------------------------- other statements

#[test]
fn other_side_effect_statements_are_refused() {
    let statements = [
        (Postgres, "COPY t TO '/tmp/out.csv'"),
        (Postgres, "COPY t FROM '/tmp/in.csv'"),
        (Postgres, "COPY (SELECT 1) TO PROGRAM 'rm -rf /'"),
        (Postgres, "CALL do_things()"),
        (Postgres, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"),
        (Postgres, "VACUUM t"),
        (Postgres, "ANALYZE t"),
        (Postgres, "LISTEN jobs"),
        (Postgres, "NOTIFY jobs, 'x'"),
        (Postgres, "PREPARE p AS SELECT 1"),
        (Postgres, "EXECUTE p"),
        (Postgres, "DEALLOCATE p"),
        (Postgres, "DISCARD ALL"),
        (MySql, "LOCK TABLES t READ"),
        (MySql, "KILL 42"),
        (Sqlite, "PRAGMA writable_schema = 1"),
        (Sqlite, "PRAGMA user_version"),
        (Sqlite, "ATTACH DATABASE '/tmp/x.db' AS x"),
        (Sqlite, "VACUUM"),
    ];
    for (dialect, sql) in statements {
        assert_not_a_read(dialect, sql);
    }
}

#[test]
fn do_blocks_are_refused() {
    let refusal = refused(
        Postgres,
        "DO $$ BEGIN PERFORM set_config('a','b',false); END $$",
    );
    assert!(
        matches!(
            refusal,
            Refusal::NotARead { .. } | Refusal::Unparseable { .. }
        ),
        "{refusal:?}"
    );
}

#[test]
fn statement_specific_reasons_are_given() {
    let cases = [
        (Postgres, "COPY t TO '/tmp/x'", "files or programs"),
        (Postgres, "LOCK TABLE t", "table locks"),
        (Postgres, "BEGIN", "transactions"),
        (Postgres, "SET a = 1", "session settings"),
        (Sqlite, "PRAGMA user_version = 3", "PRAGMA"),
        (Sqlite, "ATTACH DATABASE 'x.db' AS x", "attaches"),
        (Postgres, "DROP TABLE t", "schema"),
    ];
    for (dialect, sql, expected) in cases {
        let message = refused(dialect, sql).to_string();
        assert!(message.contains(expected), "{sql}: {message}");
    }
}

// ---------------------------------------------------------------- EXPLAIN ANALYZE

#[test]
fn explain_analyze_is_refused_in_every_spelling() {
    for (dialect, sql) in [
        (Postgres, "EXPLAIN ANALYZE SELECT * FROM t"),
        (Postgres, "EXPLAIN ANALYZE VERBOSE SELECT * FROM t"),
        (Postgres, "EXPLAIN (ANALYZE) SELECT * FROM t"),
        (
            Postgres,
            "EXPLAIN (ANALYZE true, FORMAT JSON) SELECT * FROM t",
        ),
        (Postgres, "EXPLAIN (FORMAT JSON, analyze) SELECT * FROM t"),
        (MySql, "EXPLAIN ANALYZE SELECT * FROM t"),
    ] {
        assert_eq!(refused(dialect, sql), Refusal::ExplainAnalyze, "{sql}");
    }
    // PostgreSQL also accepts the British spelling.
    let refusal = refused(Postgres, "explain analyse select 1");
    assert!(
        matches!(
            refusal,
            Refusal::ExplainAnalyze | Refusal::Unparseable { .. }
        ),
        "{refusal:?}"
    );
}

#[test]
fn explain_of_a_write_is_refused() {
    assert_not_a_read(Postgres, "EXPLAIN DELETE FROM t");
    assert_not_a_read(Postgres, "EXPLAIN INSERT INTO t VALUES (1)");
    assert_denied_function(Postgres, "EXPLAIN SELECT pg_sleep(10)", "pg_sleep");
}

// ---------------------------------------------------------------- denied functions

const POSTGRES_DENIED: &[&str] = &[
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_advisory_lock",
    "pg_advisory_xact_lock",
    "pg_advisory_unlock_all",
    "pg_try_advisory_lock",
    "pg_try_advisory_xact_lock_shared",
    "lo_import",
    "lo_export",
    "lo_unlink",
    "lo_create",
    "lo_open",
    "lo_write",
    "lo_put",
    "lo_from_bytea",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_ls_waldir",
    "pg_ls_logdir",
    "pg_stat_file",
    "nextval",
    "setval",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_start_backup",
    "pg_backup_start",
    "pg_promote",
    "txid_current",
    "pg_notify",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "query_to_xml",
    "cursor_to_xml",
    "pg_stat_reset",
    "pg_stat_statements_reset",
];

const MYSQL_DENIED: &[&str] = &[
    "sleep",
    "benchmark",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "load_file",
];

const SQLITE_DENIED: &[&str] = &["load_extension", "writefile", "readfile", "edit"];

/// Every place a function call can sit in a query; `{f}` is replaced by a
/// call to the function under test.
const CALL_SITES: &[&str] = &[
    "SELECT {f}",
    "SELECT id, {f} AS x FROM t",
    "SELECT * FROM t WHERE {f} IS NOT NULL",
    "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE {f} IS NULL)",
    "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = {f})",
    "WITH c AS (SELECT {f} AS v) SELECT * FROM c",
    "SELECT coalesce(NULL, {f})",
    "SELECT lower(cast({f} AS text))",
    "SELECT * FROM t ORDER BY {f}",
    "SELECT kind FROM t GROUP BY kind HAVING count(*) > {f}",
    "SELECT CASE WHEN id > 0 THEN {f} ELSE 0 END FROM t",
    "SELECT * FROM t JOIN u ON t.id = u.id AND {f} IS NULL",
    "SELECT * FROM (SELECT {f} AS v) AS sub",
    "SELECT count(*) FILTER (WHERE {f} IS NULL) FROM t",
    "SELECT sum(id) OVER (PARTITION BY {f}) FROM t",
    "SELECT 1 UNION SELECT {f}",
    "VALUES ({f})",
];

fn call_of(function: &str) -> String {
    format!("{function}(1)")
}

#[test]
fn postgres_denied_functions_are_refused_at_every_call_site() {
    for function in POSTGRES_DENIED {
        for site in CALL_SITES {
            let sql = site.replace("{f}", &call_of(function));
            assert_denied_function(Postgres, &sql, function);
        }
    }
}

#[test]
fn postgres_lateral_and_from_clause_calls_are_checked() {
    for sql in [
        "SELECT * FROM t, LATERAL (SELECT pg_sleep(1)) AS s",
        "SELECT * FROM dblink('host=x', 'DELETE FROM t') AS r(a int)",
        "SELECT * FROM pg_ls_dir('.') AS f",
        "SELECT * FROM t CROSS JOIN LATERAL pg_read_file('/etc/passwd') AS f",
        "SELECT * FROM t WINDOW w AS (ORDER BY pg_sleep(1))",
        "SELECT array_agg(id ORDER BY nextval('s')) FROM t",
    ] {
        let refusal = refused(Postgres, sql);
        assert!(
            matches!(refusal, Refusal::DeniedFunction { .. }),
            "{sql}: {refusal:?}"
        );
    }
}

#[test]
fn mysql_denied_functions_are_refused() {
    for function in MYSQL_DENIED {
        for site in [
            "SELECT {f}",
            "SELECT * FROM t WHERE id = {f}",
            "SELECT * FROM t WHERE id IN (SELECT {f})",
            "SELECT * FROM t ORDER BY {f}",
        ] {
            let sql = site.replace("{f}", &call_of(function));
            assert_denied_function(MySql, &sql, function);
        }
    }
}

#[test]
fn sqlite_denied_functions_are_refused() {
    for function in SQLITE_DENIED {
        for site in [
            "SELECT {f}",
            "SELECT * FROM t WHERE id = {f}",
            "WITH c AS (SELECT {f} AS v) SELECT * FROM c",
        ] {
            let sql = site.replace("{f}", &call_of(function));
            assert_denied_function(Sqlite, &sql, function);
        }
    }
}

#[test]
fn harmless_functions_with_similar_names_are_allowed() {
    for sql in [
        "SELECT lower(name), log(10), localtimestamp FROM t",
        "SELECT currval('s'), lastval()",
        "SELECT txid_current_if_assigned()",
        "SELECT pg_is_in_recovery(), pg_database_size('x'), pg_relation_size('t')",
        "SELECT pg_stat_get_live_tuples(1)",
        "SELECT * FROM pg_stat_activity",
        "SELECT * FROM pg_locks",
    ] {
        allowed(Postgres, sql);
    }
}

#[test]
fn extra_denied_functions_come_from_policy() {
    let strict = GuardPolicy {
        extra_denied_functions: vec!["Expensive_Report".to_string(), "audit.purge".to_string()],
        ..GuardPolicy::new(Postgres)
    };
    for sql in [
        "SELECT expensive_report()",
        "SELECT * FROM t WHERE x = EXPENSIVE_REPORT(1)",
        "SELECT reports.expensive_report()",
        "SELECT audit.purge()",
    ] {
        match check(sql, &strict) {
            Err(Refusal::DeniedFunction { reason, .. }) => {
                assert!(reason.contains("configuration"), "{sql}: {reason}")
            }
            other => panic!("{sql}: expected configured denial, got {other:?}"),
        }
    }
    // Outside pg_catalog nothing is known unless the source allows it by name.
    assert!(matches!(
        check("SELECT other.purge()", &strict),
        Err(Refusal::FunctionNotAllowlisted { .. })
    ));
    let allowing = GuardPolicy {
        allowed_functions: vec!["other.purge".to_string()],
        ..strict.clone()
    };
    assert!(check("SELECT other.purge()", &allowing).is_ok());
    assert!(matches!(
        check("SELECT audit.purge()", &allowing),
        Err(Refusal::DeniedFunction { .. })
    ));
    assert!(check("SELECT expensive_report()", &policy(Postgres)).is_ok());
}

// ---------------------------------------------------------------- disguises

#[test]
fn comments_quoting_and_casing_do_not_hide_anything() {
    assert_denied_function(
        Postgres,
        "SeLeCt/**/pg_terminate_backend(1)",
        "pg_terminate_backend",
    );
    assert_denied_function(
        Postgres,
        "select /* harmless */ PG_TERMINATE_BACKEND /* really */ (1)",
        "pg_terminate_backend",
    );
    assert_denied_function(Postgres, "SELECT \"pg_sleep\"(1)", "pg_sleep");
    assert_denied_function(Postgres, "SELECT \"PG_SLEEP\"(1)", "pg_sleep");
    assert_denied_function(
        Postgres,
        "SELECT PG_CATALOG.SET_CONFIG('default_transaction_read_only', 'off', false)",
        "set_config",
    );
    assert_denied_function(MySql, "SELECT `sleep`(5)", "sleep");
    assert_denied_function(MySql, "SELECT SlEeP(5)", "sleep");

    assert_eq!(
        refused(Postgres, "select 1 -- \n; drop table t"),
        Refusal::MultipleStatements { count: 2 }
    );
    assert_not_a_read(Postgres, "/* ; */ DELETE FROM t");
    assert_not_a_read(Postgres, "-- SELECT\nDELETE FROM t");
}

#[test]
fn mysql_executable_comments_are_checked_as_code() {
    // MySQL runs the text inside /*! ... */, and so does the guard.
    assert_eq!(
        refused(MySql, "SELECT 1 /*! ; DROP TABLE t */"),
        Refusal::MultipleStatements { count: 2 }
    );
    assert_denied_function(MySql, "SELECT 1 /*!50000 , sleep(5) */", "sleep");
}

#[test]
fn string_literals_mentioning_denied_things_are_fine() {
    let statement = allowed(
        Postgres,
        "SELECT 'pg_sleep(1); DROP TABLE t' AS note FROM t WHERE msg LIKE '%FOR UPDATE%'",
    );
    assert_eq!(statement.kind(), StatementKind::Select);
}

#[test]
fn absurdly_deep_nesting_is_refused_without_crashing() {
    let depth = 5_000;
    let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
    let refusal = refused(Postgres, &sql);
    assert!(
        matches!(refusal, Refusal::Unparseable { .. }),
        "{refusal:?}"
    );
    // Moderate nesting is an ordinary read.
    let sql = format!("SELECT {}1{}", "(".repeat(20), ")".repeat(20));
    allowed(Postgres, &sql);
}

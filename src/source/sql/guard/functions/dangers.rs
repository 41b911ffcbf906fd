//! Functions known to have side effects, with what each does. The allowlist alone decides what
//! may run; this list only gives a refusal its reason, and makes sure that no configuration
//! (`allow_functions`) and no catalog marking can ever let one of these through.

/// How an entry matches a function name.
#[derive(Debug, Clone, Copy)]
pub(super) enum NameMatch {
    Exact,
    Prefix,
}

const SESSION_SETTINGS: &str = "it can change session settings";
const SIGNALS_BACKENDS: &str = "it cancels or terminates other database sessions";
const SERVER_ADMIN: &str = "it changes server state";
const MAINTENANCE: &str = "it runs maintenance that changes indexes or replication state";
const ADVISORY_LOCKS: &str = "it takes or releases advisory locks";
const NAMED_LOCKS: &str = "it takes or releases named locks";
const SERVER_FILES: &str = "it reads or writes files on the database server";
const LARGE_OBJECTS: &str = "it reads or writes large objects or server files";
const REMOTE_CONNECTIONS: &str = "it opens connections to other databases";
const SEQUENCES: &str = "it advances or changes a sequence";
const ASSIGNS_XID: &str = "it assigns a transaction id, which is a write";
const NOTIFICATIONS: &str = "it sends asynchronous notifications";
const STALLS: &str = "it deliberately stalls the database";
const RUNS_SQL_TEXT: &str = "it runs SQL given to it as text, which no check can see";
const NATIVE_CODE: &str = "it loads native code into the database";
const SERVER_LOG: &str = "it writes to the server's log";
const SESSION_STATE: &str = "it changes session state";

/// Functions with side effects, in any dialect. Names are lowercase.
pub(super) const KNOWN_DANGERS: &[(&str, NameMatch, &str)] = &[
    // PostgreSQL: functions that execute a query given as text (their own SQL is invisible
    // to the guard, so every other rule could be bypassed through them).
    ("query_to_xml", NameMatch::Prefix, RUNS_SQL_TEXT),
    ("cursor_to_xml", NameMatch::Prefix, RUNS_SQL_TEXT),
    ("table_to_xml", NameMatch::Prefix, RUNS_SQL_TEXT),
    ("schema_to_xml", NameMatch::Prefix, RUNS_SQL_TEXT),
    ("database_to_xml", NameMatch::Prefix, RUNS_SQL_TEXT),
    ("ts_stat", NameMatch::Exact, RUNS_SQL_TEXT),
    ("ts_rewrite", NameMatch::Exact, RUNS_SQL_TEXT),
    ("dblink", NameMatch::Prefix, REMOTE_CONNECTIONS),
    ("postgres_fdw", NameMatch::Prefix, REMOTE_CONNECTIONS),
    // PostgreSQL: session and server administration.
    ("set_config", NameMatch::Exact, SESSION_SETTINGS),
    ("setseed", NameMatch::Exact, SESSION_STATE),
    ("pg_terminate_backend", NameMatch::Exact, SIGNALS_BACKENDS),
    ("pg_cancel_backend", NameMatch::Exact, SIGNALS_BACKENDS),
    (
        "pg_log_backend_memory_contexts",
        NameMatch::Exact,
        SERVER_LOG,
    ),
    ("pg_reload_conf", NameMatch::Exact, SERVER_ADMIN),
    ("pg_rotate_logfile", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_switch_wal", NameMatch::Exact, SERVER_ADMIN),
    ("pg_switch_xlog", NameMatch::Exact, SERVER_ADMIN),
    ("pg_create_", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_start_backup", NameMatch::Exact, SERVER_ADMIN),
    ("pg_stop_backup", NameMatch::Exact, SERVER_ADMIN),
    ("pg_backup_", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_promote", NameMatch::Exact, SERVER_ADMIN),
    ("pg_wal_replay_", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_stat_reset", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_stat_statements_reset", NameMatch::Exact, SERVER_ADMIN),
    ("pg_stat_clear_snapshot", NameMatch::Exact, SESSION_STATE),
    ("pg_stat_force_next_flush", NameMatch::Exact, SESSION_STATE),
    ("pg_drop_replication_slot", NameMatch::Exact, SERVER_ADMIN),
    ("pg_replication_origin_", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_replication_slot_advance", NameMatch::Exact, MAINTENANCE),
    ("pg_copy_", NameMatch::Prefix, MAINTENANCE),
    ("pg_logical_", NameMatch::Prefix, MAINTENANCE),
    (
        "pg_import_system_collations",
        NameMatch::Exact,
        SERVER_ADMIN,
    ),
    ("pg_export_snapshot", NameMatch::Exact, SESSION_STATE),
    ("pg_nextoid", NameMatch::Exact, SERVER_ADMIN),
    (
        "pg_stop_making_pinned_objects",
        NameMatch::Exact,
        SERVER_ADMIN,
    ),
    ("pg_extension_config_dump", NameMatch::Exact, SERVER_ADMIN),
    ("binary_upgrade_", NameMatch::Prefix, SERVER_ADMIN),
    ("brin_summarize_", NameMatch::Prefix, MAINTENANCE),
    ("brin_desummarize_range", NameMatch::Exact, MAINTENANCE),
    ("gin_clean_pending_list", NameMatch::Exact, MAINTENANCE),
    // PostgreSQL: locks, files.
    ("pg_advisory_", NameMatch::Prefix, ADVISORY_LOCKS),
    ("pg_try_advisory_", NameMatch::Prefix, ADVISORY_LOCKS),
    ("lo_", NameMatch::Prefix, LARGE_OBJECTS),
    ("loread", NameMatch::Exact, LARGE_OBJECTS),
    ("lowrite", NameMatch::Exact, LARGE_OBJECTS),
    ("pg_read_", NameMatch::Prefix, SERVER_FILES),
    ("pg_ls_", NameMatch::Prefix, SERVER_FILES),
    ("pg_stat_file", NameMatch::Exact, SERVER_FILES),
    ("pg_file_", NameMatch::Prefix, SERVER_FILES),
    ("pg_hba_file_rules", NameMatch::Exact, SERVER_FILES),
    ("pg_ident_file_mappings", NameMatch::Exact, SERVER_FILES),
    ("pg_show_all_file_settings", NameMatch::Exact, SERVER_FILES),
    // PostgreSQL: writes hidden in function calls.
    ("nextval", NameMatch::Exact, SEQUENCES),
    ("setval", NameMatch::Exact, SEQUENCES),
    ("txid_current", NameMatch::Exact, ASSIGNS_XID),
    ("pg_current_xact_id", NameMatch::Exact, ASSIGNS_XID),
    ("pg_notify", NameMatch::Exact, NOTIFICATIONS),
    ("pg_sleep", NameMatch::Prefix, STALLS),
    // MySQL / MariaDB.
    ("sleep", NameMatch::Exact, STALLS),
    ("benchmark", NameMatch::Exact, STALLS),
    ("master_pos_wait", NameMatch::Exact, STALLS),
    ("source_pos_wait", NameMatch::Exact, STALLS),
    ("master_gtid_wait", NameMatch::Exact, STALLS),
    ("wait_for_executed_gtid_set", NameMatch::Exact, STALLS),
    (
        "wait_until_sql_thread_after_gtids",
        NameMatch::Exact,
        STALLS,
    ),
    ("get_lock", NameMatch::Exact, NAMED_LOCKS),
    ("release_lock", NameMatch::Exact, NAMED_LOCKS),
    ("release_all_locks", NameMatch::Exact, NAMED_LOCKS),
    ("load_file", NameMatch::Exact, SERVER_FILES),
    ("last_insert_id", NameMatch::Exact, SESSION_STATE),
    // SQLite.
    ("load_extension", NameMatch::Exact, NATIVE_CODE),
    ("fts3_tokenizer", NameMatch::Exact, NATIVE_CODE),
    ("writefile", NameMatch::Exact, SERVER_FILES),
    ("readfile", NameMatch::Exact, SERVER_FILES),
    ("edit", NameMatch::Exact, SERVER_FILES),
];

/// What `name` (lowercase, unqualified) is known to do, if it is a known danger.
pub(super) fn known_danger(name: &str) -> Option<&'static str> {
    KNOWN_DANGERS
        .iter()
        .find(|(pattern, name_match, _)| match name_match {
            NameMatch::Exact => name == *pattern,
            NameMatch::Prefix => name.starts_with(pattern),
        })
        .map(|(_, _, reason)| *reason)
}

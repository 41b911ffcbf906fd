//! The statement guard: the single gate every SQL statement passes before it
//! may be sent to a watched database.
//!
//! Sentinel only ever reads a production database. [`check`] parses the text
//! with `sqlparser` in the database's dialect, accepts exactly one read
//! statement (SELECT / VALUES / WITH ... SELECT, SHOW, EXPLAIN without
//! ANALYZE, DESCRIBE), walks the whole syntax tree to refuse row locks,
//! `SELECT ... INTO`, data-modifying CTEs and calls to functions with side
//! effects, and hands back the statement re-rendered from the syntax tree.
//! Callers execute that normalized text, never the raw input, so comments and
//! odd formatting cannot smuggle anything past the guard.

use std::fmt;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, ObjectName, ObjectNamePart, Query, Select, SetExpr, Statement,
    TableFactor, Visit, Visitor,
};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

/// The SQL dialect of a watched database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqlDialectKind {
    /// PostgreSQL.
    #[default]
    Postgres,
    /// MySQL / MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

impl SqlDialectKind {
    fn parser_dialect(self) -> Box<dyn Dialect> {
        match self {
            SqlDialectKind::Postgres => Box::new(PostgreSqlDialect {}),
            SqlDialectKind::MySql => Box::new(MySqlDialect {}),
            SqlDialectKind::Sqlite => Box::new(SQLiteDialect {}),
        }
    }
}

/// What the guard lets through for one watched database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Dialect used to parse statements.
    pub dialect: SqlDialectKind,
    /// Whether `SHOW ...` statements are accepted.
    pub allow_show: bool,
    /// Whether `EXPLAIN` (never `EXPLAIN ANALYZE`) and `DESCRIBE` are accepted.
    pub allow_explain: bool,
    /// Further function names to refuse, in addition to the built-in list.
    /// Matched case-insensitively against the unqualified and the
    /// schema-qualified name of every call.
    pub extra_denied_functions: Vec<String>,
}

impl GuardPolicy {
    /// A policy for `dialect` with SHOW and EXPLAIN allowed and no extra
    /// denied functions.
    pub fn new(dialect: SqlDialectKind) -> Self {
        Self {
            dialect,
            allow_show: true,
            allow_explain: true,
            extra_denied_functions: Vec::new(),
        }
    }
}

impl Default for GuardPolicy {
    fn default() -> Self {
        Self::new(SqlDialectKind::default())
    }
}

/// The kind of statement the guard accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// SELECT, WITH ... SELECT, set operations, `TABLE t`.
    Select,
    /// A bare `VALUES (...)` list.
    Values,
    /// `SHOW ...`.
    Show,
    /// `EXPLAIN <statement>` without ANALYZE.
    Explain,
    /// `DESCRIBE t` / `EXPLAIN TABLE t`.
    Describe,
}

/// A statement that passed the guard. Only [`check`] can build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedStatement {
    kind: StatementKind,
    normalized_sql: String,
}

impl AllowedStatement {
    /// What kind of read this is.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The statement re-rendered from its syntax tree. This, never the raw
    /// input, is what must be sent to the database.
    pub fn normalized_sql(&self) -> &str {
        &self.normalized_sql
    }
}

/// Why the guard refused a statement. `Display` explains the reason and what
/// to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The input held no statement at all.
    #[error("refused: no SQL statement was given")]
    Empty,
    /// The parser rejected the input.
    #[error(
        "refused: the statement could not be parsed ({message}); only plain read queries are accepted"
    )]
    Unparseable {
        /// The parser's own message.
        message: String,
    },
    /// More than one statement was given.
    #[error(
        "refused: statement 2 of {count} — only one statement per query is allowed; send each query on its own"
    )]
    MultipleStatements {
        /// How many statements the input held.
        count: usize,
    },
    /// The statement (or one nested in it) is not a read.
    #[error(
        "refused: {statement} is not allowed ({reason}); only SELECT, VALUES, WITH ... SELECT, SHOW and EXPLAIN are accepted"
    )]
    NotARead {
        /// Leading keywords of the offending statement, e.g. `DELETE`.
        statement: String,
        /// Why statements of this kind are refused.
        reason: &'static str,
    },
    /// A CTE holds INSERT / UPDATE / DELETE / MERGE.
    #[error(
        "refused: CTE {cte} modifies data (data-modifying CTE); every CTE must be a plain SELECT"
    )]
    DataModifyingCte {
        /// Name of the offending CTE.
        cte: String,
    },
    /// `SELECT ... FOR UPDATE` and friends.
    #[error("refused: SELECT ... {clause} takes row locks; remove the locking clause")]
    LockingClause {
        /// The locking clause as written, e.g. `FOR UPDATE`.
        clause: String,
    },
    /// `SELECT ... INTO`.
    #[error(
        "refused: SELECT ... INTO writes its result (into a new table, a file or a variable); remove the INTO clause"
    )]
    SelectInto,
    /// MySQL `@variable := value` inside a query.
    #[error(
        "refused: assigning a variable (:=) changes session state; compute the value in the query instead"
    )]
    VariableAssignment,
    /// `EXPLAIN ANALYZE` (in any spelling).
    #[error("refused: EXPLAIN ANALYZE executes the statement; use EXPLAIN without ANALYZE")]
    ExplainAnalyze,
    /// SHOW while the policy disables it.
    #[error("refused: SHOW statements are disabled for this database (allow_show = false)")]
    ShowDisabled,
    /// EXPLAIN or DESCRIBE while the policy disables it.
    #[error("refused: EXPLAIN and DESCRIBE are disabled for this database (allow_explain = false)")]
    ExplainDisabled,
    /// Re-rendering the statement did not reproduce it exactly, so the text
    /// that would be executed cannot be trusted to be the one checked.
    #[error(
        "refused: the statement could not be normalized faithfully; simplify the query (for example, avoid unusual syntax or quoting)"
    )]
    UnfaithfulNormalization,
    /// A call to a function on the deny list.
    #[error("refused: function {function} is not allowed ({reason})")]
    DeniedFunction {
        /// The function name as written (possibly schema-qualified).
        function: String,
        /// What the function does that makes it unsafe.
        reason: &'static str,
    },
}

/// Checks `sql` against `policy` and returns the statement to execute, or
/// the reason it must not reach the database.
pub fn check(sql: &str, policy: &GuardPolicy) -> Result<AllowedStatement, Refusal> {
    let dialect = policy.dialect.parser_dialect();
    let statements =
        Parser::parse_sql(dialect.as_ref(), sql).map_err(|error| Refusal::Unparseable {
            message: error.to_string(),
        })?;
    let statement = match statements.as_slice() {
        [] => return Err(Refusal::Empty),
        [only] => only,
        more => return Err(Refusal::MultipleStatements { count: more.len() }),
    };
    let kind = classify_statement(statement, policy)?;
    let mut walker = ReadOnlyWalker { policy };
    if let ControlFlow::Break(refusal) = statement.visit(&mut walker) {
        return Err(refusal);
    }
    let normalized_sql = statement.to_string();
    ensure_faithful_rendering(&normalized_sql, statement, dialect.as_ref())?;
    Ok(AllowedStatement {
        kind,
        normalized_sql,
    })
}

/// The normalized text is what gets executed, so it must mean exactly what
/// was checked: parsing it again has to give back the same single statement.
fn ensure_faithful_rendering(
    normalized_sql: &str,
    checked: &Statement,
    dialect: &dyn Dialect,
) -> Result<(), Refusal> {
    match Parser::parse_sql(dialect, normalized_sql).as_deref() {
        Ok([reparsed]) if reparsed == checked => Ok(()),
        _ => Err(Refusal::UnfaithfulNormalization),
    }
}

/// Decides whether one statement (top-level or nested) is an accepted read,
/// looking only at the statement itself; its contents are checked by
/// [`ReadOnlyWalker`].
fn classify_statement(
    statement: &Statement,
    policy: &GuardPolicy,
) -> Result<StatementKind, Refusal> {
    match statement {
        Statement::Query(query) => Ok(classify_query_body(&query.body)),
        Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowProcessList { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowCharset(_)
        | Statement::ShowObjects(_)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. } => {
            if policy.allow_show {
                Ok(StatementKind::Show)
            } else {
                Err(Refusal::ShowDisabled)
            }
        }
        Statement::ExplainTable { .. } => {
            if policy.allow_explain {
                Ok(StatementKind::Describe)
            } else {
                Err(Refusal::ExplainDisabled)
            }
        }
        Statement::Explain {
            analyze, options, ..
        } => {
            let analyze_option = options.iter().flatten().any(|option| {
                option.name.value.eq_ignore_ascii_case("analyze")
                    || option.name.value.eq_ignore_ascii_case("analyse")
            });
            if *analyze || analyze_option {
                Err(Refusal::ExplainAnalyze)
            } else if policy.allow_explain {
                Ok(StatementKind::Explain)
            } else {
                Err(Refusal::ExplainDisabled)
            }
        }
        other => Err(Refusal::NotARead {
            statement: leading_keywords(other),
            reason: refused_statement_reason(other),
        }),
    }
}

fn classify_query_body(body: &SetExpr) -> StatementKind {
    match body {
        SetExpr::Values(_) => StatementKind::Values,
        SetExpr::Query(inner) => classify_query_body(&inner.body),
        _ => StatementKind::Select,
    }
}

/// The first keywords of a statement's rendering, used to name it in a
/// refusal (`DELETE`, `CREATE TABLE`, `SET`).
fn leading_keywords(statement: &Statement) -> String {
    let rendered = statement.to_string();
    let keywords: Vec<&str> = rendered
        .split_whitespace()
        .take(2)
        .take_while(|word| word.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .collect();
    if keywords.is_empty() {
        "this statement".to_string()
    } else {
        keywords.join(" ").to_ascii_uppercase()
    }
}

fn refused_statement_reason(statement: &Statement) -> &'static str {
    match statement {
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Merge(_)
        | Statement::Truncate(_)
        | Statement::LoadData { .. } => "it writes data",
        Statement::Set(_) | Statement::Reset(_) | Statement::Use(_) => {
            "it changes session settings"
        }
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. } => {
            "it controls transactions, which Sentinel manages itself"
        }
        Statement::Copy { .. } => "it copies data to or from files or programs",
        Statement::Call(_) => "it runs a stored procedure",
        Statement::Lock(_) | Statement::LockTables { .. } | Statement::UnlockTables => {
            "it takes table locks"
        }
        Statement::Grant(_)
        | Statement::GrantRole(_)
        | Statement::Revoke(_)
        | Statement::RevokeRole(_)
        | Statement::Deny(_)
        | Statement::AlterDefaultPrivileges(_) => "it changes privileges",
        Statement::Vacuum(_) | Statement::Analyze(_) | Statement::OptimizeTable { .. } => {
            "it runs maintenance work on the database"
        }
        Statement::Pragma { .. } => "a PRAGMA can change database settings",
        Statement::AttachDatabase { .. } | Statement::AttachDuckDBDatabase { .. } => {
            "it attaches another database file"
        }
        Statement::LISTEN { .. } | Statement::UNLISTEN { .. } | Statement::NOTIFY { .. } => {
            "it uses asynchronous notifications"
        }
        Statement::Prepare { .. } | Statement::Execute { .. } | Statement::Deallocate { .. } => {
            "it manages prepared statements"
        }
        Statement::Kill { .. } => "it terminates other connections or queries",
        Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Open(_) => "it manages cursors",
        Statement::Comment { .. }
        | Statement::RenameTable(_)
        | Statement::RefreshMaterializedView(_) => "it changes the schema",
        other => {
            let rendered = other.to_string();
            let first = rendered
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            match first.as_str() {
                "CREATE" | "ALTER" | "DROP" => "it changes the schema (DDL)",
                _ => "it is not a read",
            }
        }
    }
}

/// Walks every node of an accepted statement and stops at the first
/// construct that is not a pure read.
struct ReadOnlyWalker<'policy> {
    policy: &'policy GuardPolicy,
}

impl Visitor for ReadOnlyWalker<'_> {
    type Break = Refusal;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Refusal> {
        match classify_statement(statement, self.policy) {
            Ok(_) => ControlFlow::Continue(()),
            Err(refusal) => ControlFlow::Break(refusal),
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if is_data_modifying(&cte.query.body) {
                    return ControlFlow::Break(Refusal::DataModifyingCte {
                        cte: cte.alias.name.to_string(),
                    });
                }
            }
        }
        if let Some(lock) = query.locks.first() {
            return ControlFlow::Break(Refusal::LockingClause {
                clause: lock.to_string(),
            });
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Refusal> {
        if select.into.is_some() {
            return ControlFlow::Break(Refusal::SelectInto);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Refusal> {
        match expr {
            Expr::Function(function) => self.check_function_name(&function.name),
            Expr::BinaryOp {
                op: BinaryOperator::Assignment,
                ..
            } => ControlFlow::Break(Refusal::VariableAssignment),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_table_factor(&mut self, table_factor: &TableFactor) -> ControlFlow<Refusal> {
        match table_factor {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.check_function_name(name),
            _ => ControlFlow::Continue(()),
        }
    }
}

impl ReadOnlyWalker<'_> {
    fn check_function_name(&self, name: &ObjectName) -> ControlFlow<Refusal> {
        match function_denial_reason(name, &self.policy.extra_denied_functions) {
            Some(reason) => ControlFlow::Break(Refusal::DeniedFunction {
                function: name.to_string(),
                reason,
            }),
            None => ControlFlow::Continue(()),
        }
    }
}

fn is_data_modifying(body: &SetExpr) -> bool {
    match body {
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => true,
        SetExpr::Query(inner) => is_data_modifying(&inner.body),
        SetExpr::SetOperation { left, right, .. } => {
            is_data_modifying(left) || is_data_modifying(right)
        }
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => false,
    }
}

/// How a deny-list entry matches a function name.
#[derive(Debug, Clone, Copy)]
enum NameMatch {
    Exact,
    Prefix,
}

const SESSION_SETTINGS: &str = "it can change session settings";
const SIGNALS_BACKENDS: &str = "it cancels or terminates other database sessions";
const SERVER_ADMIN: &str = "it changes server state";
const ADVISORY_LOCKS: &str = "it takes or releases advisory locks";
const NAMED_LOCKS: &str = "it takes or releases named locks";
const SERVER_FILES: &str = "it reads or writes files on the database server";
const LARGE_OBJECTS: &str = "it reads or writes large objects or server files";
const REMOTE_CONNECTIONS: &str = "it opens connections to other databases";
const SEQUENCES: &str = "it advances or changes a sequence";
const ASSIGNS_XID: &str = "it assigns a transaction id, which is a write";
const NOTIFICATIONS: &str = "it sends asynchronous notifications";
const STALLS: &str = "it deliberately stalls the database";
const RUNS_SQL_TEXT: &str = "it runs arbitrary SQL text";
const NATIVE_CODE: &str = "it loads native code into the database";
const CONFIGURED: &str = "it is denied by this database's configuration";

/// Functions with side effects that must never run against a watched
/// database, in any dialect. Names are lowercase.
const DENIED_FUNCTIONS: &[(&str, NameMatch, &str)] = &[
    // PostgreSQL: session and server administration.
    ("set_config", NameMatch::Exact, SESSION_SETTINGS),
    ("pg_terminate_backend", NameMatch::Exact, SIGNALS_BACKENDS),
    ("pg_cancel_backend", NameMatch::Exact, SIGNALS_BACKENDS),
    ("pg_reload_conf", NameMatch::Exact, SERVER_ADMIN),
    ("pg_rotate_logfile", NameMatch::Exact, SERVER_ADMIN),
    ("pg_switch_wal", NameMatch::Exact, SERVER_ADMIN),
    ("pg_switch_xlog", NameMatch::Exact, SERVER_ADMIN),
    ("pg_create_restore_point", NameMatch::Exact, SERVER_ADMIN),
    ("pg_start_backup", NameMatch::Exact, SERVER_ADMIN),
    ("pg_stop_backup", NameMatch::Exact, SERVER_ADMIN),
    ("pg_backup_start", NameMatch::Exact, SERVER_ADMIN),
    ("pg_backup_stop", NameMatch::Exact, SERVER_ADMIN),
    ("pg_promote", NameMatch::Exact, SERVER_ADMIN),
    ("pg_wal_replay_", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_stat_reset", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_stat_statements_reset", NameMatch::Exact, SERVER_ADMIN),
    ("pg_create_", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_drop_replication_slot", NameMatch::Exact, SERVER_ADMIN),
    ("pg_replication_origin_", NameMatch::Prefix, SERVER_ADMIN),
    ("pg_logical_emit_message", NameMatch::Exact, SERVER_ADMIN),
    (
        "pg_import_system_collations",
        NameMatch::Exact,
        SERVER_ADMIN,
    ),
    // PostgreSQL: locks, files, remote connections.
    ("pg_advisory_", NameMatch::Prefix, ADVISORY_LOCKS),
    ("pg_try_advisory_", NameMatch::Prefix, ADVISORY_LOCKS),
    ("lo_", NameMatch::Prefix, LARGE_OBJECTS),
    ("dblink", NameMatch::Prefix, REMOTE_CONNECTIONS),
    ("pg_read_", NameMatch::Prefix, SERVER_FILES),
    ("pg_ls_", NameMatch::Prefix, SERVER_FILES),
    ("pg_stat_file", NameMatch::Exact, SERVER_FILES),
    ("pg_file_", NameMatch::Prefix, SERVER_FILES),
    // PostgreSQL: writes hidden in function calls.
    ("nextval", NameMatch::Exact, SEQUENCES),
    ("setval", NameMatch::Exact, SEQUENCES),
    ("txid_current", NameMatch::Exact, ASSIGNS_XID),
    ("pg_current_xact_id", NameMatch::Exact, ASSIGNS_XID),
    ("pg_notify", NameMatch::Exact, NOTIFICATIONS),
    ("pg_sleep", NameMatch::Prefix, STALLS),
    ("query_to_xml", NameMatch::Prefix, RUNS_SQL_TEXT),
    ("query_to_xmlschema", NameMatch::Exact, RUNS_SQL_TEXT),
    ("cursor_to_xml", NameMatch::Prefix, RUNS_SQL_TEXT),
    // MySQL.
    ("sleep", NameMatch::Exact, STALLS),
    ("benchmark", NameMatch::Exact, STALLS),
    ("master_pos_wait", NameMatch::Exact, STALLS),
    ("source_pos_wait", NameMatch::Exact, STALLS),
    ("wait_for_executed_gtid_set", NameMatch::Exact, STALLS),
    ("get_lock", NameMatch::Exact, NAMED_LOCKS),
    ("release_lock", NameMatch::Exact, NAMED_LOCKS),
    ("release_all_locks", NameMatch::Exact, NAMED_LOCKS),
    ("load_file", NameMatch::Exact, SERVER_FILES),
    // SQLite.
    ("load_extension", NameMatch::Exact, NATIVE_CODE),
    ("fts3_tokenizer", NameMatch::Exact, NATIVE_CODE),
    ("writefile", NameMatch::Exact, SERVER_FILES),
    ("readfile", NameMatch::Exact, SERVER_FILES),
    ("edit", NameMatch::Exact, SERVER_FILES),
];

/// The reason a call to `name` is refused, or `None` if it may run.
///
/// Both the unqualified name (`set_config`) and the fully qualified one
/// (`pg_catalog.set_config`) are compared, case-insensitively, so quoting and
/// schema prefixes cannot hide a denied function.
fn function_denial_reason(name: &ObjectName, extra_denied: &[String]) -> Option<&'static str> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => ident.value.to_lowercase(),
            ObjectNamePart::Function(function) => function.to_string().to_lowercase(),
        })
        .collect();
    let unqualified = parts.last()?.as_str();
    let qualified = parts.join(".");

    let built_in = DENIED_FUNCTIONS
        .iter()
        .find(|(pattern, name_match, _)| match name_match {
            NameMatch::Exact => unqualified == *pattern,
            NameMatch::Prefix => unqualified.starts_with(pattern),
        });
    if let Some((_, _, reason)) = built_in {
        return Some(reason);
    }
    extra_denied
        .iter()
        .map(|denied| denied.trim().to_lowercase())
        .any(|denied| denied == unqualified || denied == qualified)
        .then_some(CONFIGURED)
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StatementKind::Select => "SELECT",
            StatementKind::Values => "VALUES",
            StatementKind::Show => "SHOW",
            StatementKind::Explain => "EXPLAIN",
            StatementKind::Describe => "DESCRIBE",
        })
    }
}

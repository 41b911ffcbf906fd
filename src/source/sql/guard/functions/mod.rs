//! The function allowlist: a statement may call only functions known to be free of side
//! effects. Known dangers are refused with what they do; a source's `deny_functions` refuses
//! more; its `allow_functions` admits the operator's own pure functions; what is left is decided
//! per dialect: PostgreSQL by its catalog (see [`super::catalog`]), MySQL/MariaDB and SQLite by
//! explicit lists of their built-ins.

mod dangers;
mod mysql;
mod postgres;
mod sqlite;

use super::refusal::Refusal;
use super::{GuardPolicy, SqlDialectKind};
use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

/// One function call as the statement names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCall {
    /// The name as written, for messages (`pg_catalog."lower"`).
    pub written: String,
    /// The schema (or database) it is qualified with, folded the way the server folds it.
    pub schema: Option<String>,
    /// The function's own name, folded the way the server folds it.
    pub name: String,
    /// Whether the name was quoted (a quoted name is never one of the grammar's constructs).
    pub quoted: bool,
}

impl FunctionCall {
    /// The call named by `name` in `dialect`; `None` for a name with no parts.
    pub fn from_name(name: &ObjectName, dialect: SqlDialectKind) -> Option<Self> {
        let idents: Vec<Option<&Ident>> = name
            .0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(ident) => Some(ident),
                ObjectNamePart::Function(_) => None,
            })
            .collect();
        let last = match idents.last()? {
            Some(ident) => *ident,
            // A computed name part (`IDENTIFIER(...)`) cannot be vouched for.
            None => {
                return Some(Self {
                    written: name.to_string(),
                    schema: Some(String::new()),
                    name: name.to_string().to_lowercase(),
                    quoted: true,
                });
            }
        };
        let schema = match idents.len() {
            1 => None,
            // A computed qualifier cannot be vouched for either: an empty schema never matches.
            _ => Some(
                idents[idents.len() - 2]
                    .map(|ident| fold(ident, dialect))
                    .unwrap_or_default(),
            ),
        };
        let schema = if idents.len() > 2 {
            // `db.schema.f` / `catalog.schema.f`: anything beyond a schema is not a built-in.
            Some(format!("{}.", schema.unwrap_or_default()))
        } else {
            schema
        };
        Some(Self {
            written: name.to_string(),
            schema,
            name: fold(last, dialect),
            quoted: last.quote_style.is_some(),
        })
    }

    fn qualified(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// An identifier as the server resolves it: PostgreSQL folds unquoted names to lowercase and
/// keeps quoted ones exactly; MySQL and SQLite compare function names case-insensitively.
fn fold(ident: &Ident, dialect: SqlDialectKind) -> String {
    match (dialect, ident.quote_style) {
        (SqlDialectKind::Postgres, Some(_)) => ident.value.clone(),
        _ => ident.value.to_lowercase(),
    }
}

/// What the allowlist says about one call before any catalog is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// The call may run.
    Allowed,
    /// Only the server's catalog can tell (PostgreSQL): look the name up.
    AskCatalog,
    /// The call must not run.
    Refused(Refusal),
}

/// Judges `call` under `policy`.
pub fn judge(call: &FunctionCall, policy: &GuardPolicy) -> Judgement {
    if let Some(reason) = dangers::known_danger(&call.name.to_lowercase()) {
        return Judgement::Refused(Refusal::DeniedFunction {
            function: call.written.clone(),
            reason,
        });
    }
    if denied_by(&policy.extra_denied_functions, call) {
        return Judgement::Refused(Refusal::DeniedFunction {
            function: call.written.clone(),
            reason: "it is denied by this database's configuration",
        });
    }
    if allowed_by(&policy.allowed_functions, call) {
        return Judgement::Allowed;
    }
    match policy.dialect {
        SqlDialectKind::Postgres => judge_postgres(call),
        SqlDialectKind::MySql => judge_listed(call, mysql::PURE, mysql::PURE_PREFIXES, "MySQL"),
        SqlDialectKind::Sqlite => judge_listed(call, sqlite::PURE, sqlite::PURE_PREFIXES, "SQLite"),
    }
}

fn judge_postgres(call: &FunctionCall) -> Judgement {
    match call.schema.as_deref() {
        None if !call.quoted && postgres::SYNTAX_FUNCTIONS.contains(&call.name.as_str()) => {
            Judgement::Allowed
        }
        None | Some("pg_catalog") => Judgement::AskCatalog,
        Some(schema) => Judgement::Refused(Refusal::FunctionNotAllowlisted {
            function: call.written.clone(),
            reason: format!(
                "it is defined in schema {schema}, and only built-in functions of pg_catalog are known"
            ),
        }),
    }
}

fn judge_listed(
    call: &FunctionCall,
    pure: &[&str],
    pure_prefixes: &[&str],
    server: &str,
) -> Judgement {
    let name = call.name.as_str();
    if call.schema.is_some() {
        return Judgement::Refused(Refusal::FunctionNotAllowlisted {
            function: call.written.clone(),
            reason: "a qualified name calls a stored function, which can do anything".to_string(),
        });
    }
    if pure.contains(&name) || pure_prefixes.iter().any(|prefix| name.starts_with(prefix)) {
        Judgement::Allowed
    } else {
        Judgement::Refused(Refusal::FunctionNotAllowlisted {
            function: call.written.clone(),
            reason: format!("it is not one of {server}'s built-ins that only compute or read"),
        })
    }
}

/// Whether PostgreSQL may run a volatile built-in called `name`: one that only reads.
pub(super) fn postgres_pure_volatile(name: &str) -> bool {
    postgres::PURE_VOLATILE.contains(&name)
}

/// Whether `deny_functions` holds `call`: an entry names a function in every schema, or one
/// schema's function when qualified.
fn denied_by(configured: &[String], call: &FunctionCall) -> bool {
    let qualified = call.qualified().to_lowercase();
    let name = call.name.to_lowercase();
    configured.iter().any(|entry| {
        let entry = entry.trim().to_lowercase();
        entry == qualified || entry == name
    })
}

/// Whether `allow_functions` holds `call`: exactly as it is called, so that allowing `f`
/// does not allow some other schema's `f`.
fn allowed_by(configured: &[String], call: &FunctionCall) -> bool {
    let qualified = call.qualified().to_lowercase();
    configured
        .iter()
        .any(|entry| entry.trim().to_lowercase() == qualified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(dialect: SqlDialectKind, sql_name: &str) -> FunctionCall {
        let sql = format!("SELECT {sql_name}(1)");
        let parsed =
            sqlparser::parser::Parser::parse_sql(&*super::super::parser_dialect(dialect), &sql)
                .unwrap();
        let mut found = None;
        let _ = sqlparser::ast::visit_expressions(&parsed, |expr| {
            if let sqlparser::ast::Expr::Function(function) = expr {
                found = FunctionCall::from_name(&function.name, dialect);
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        found.unwrap()
    }

    #[test]
    fn postgres_folds_unquoted_names_and_keeps_quoted_ones() {
        let plain = call(SqlDialectKind::Postgres, "LOWER");
        assert_eq!((plain.name.as_str(), plain.quoted), ("lower", false));
        let quoted = call(SqlDialectKind::Postgres, "\"Lower\"");
        assert_eq!((quoted.name.as_str(), quoted.quoted), ("Lower", true));
        let qualified = call(SqlDialectKind::Postgres, "Public.f");
        assert_eq!(qualified.schema.as_deref(), Some("public"));
    }

    #[test]
    fn a_known_danger_is_refused_even_when_configured_as_allowed() {
        let mut policy = GuardPolicy::new(SqlDialectKind::Postgres);
        policy.allowed_functions = vec!["pg_sleep".to_string()];
        let judged = judge(&call(SqlDialectKind::Postgres, "pg_sleep"), &policy);
        assert!(matches!(
            judged,
            Judgement::Refused(Refusal::DeniedFunction { .. })
        ));
    }

    #[test]
    fn configured_functions_are_allowed_by_their_own_or_qualified_name() {
        let mut policy = GuardPolicy::new(SqlDialectKind::MySql);
        let refused = judge(&call(SqlDialectKind::MySql, "shop.net_price"), &policy);
        assert!(matches!(refused, Judgement::Refused(_)));
        policy.allowed_functions = vec!["Shop.Net_Price".to_string()];
        let judged = judge(&call(SqlDialectKind::MySql, "shop.net_price"), &policy);
        assert_eq!(judged, Judgement::Allowed);
        // The unqualified entry does not admit a call qualified with some schema.
        policy.allowed_functions = vec!["net_price".to_string()];
        let judged = judge(&call(SqlDialectKind::MySql, "shop.net_price"), &policy);
        assert!(matches!(judged, Judgement::Refused(_)));
    }

    #[test]
    fn postgres_asks_the_catalog_for_built_ins_and_refuses_other_schemas() {
        let policy = GuardPolicy::new(SqlDialectKind::Postgres);
        let judged = |name| judge(&call(SqlDialectKind::Postgres, name), &policy);
        assert_eq!(judged("lower"), Judgement::AskCatalog);
        assert_eq!(judged("pg_catalog.lower"), Judgement::AskCatalog);
        assert_eq!(judged("coalesce"), Judgement::Allowed);
        // A quoted "coalesce" is an ordinary function name, looked up like any other.
        assert_eq!(judged("\"coalesce\""), Judgement::AskCatalog);
        assert!(matches!(judged("public.lower"), Judgement::Refused(_)));
        assert!(matches!(
            judged("db.pg_catalog.lower"),
            Judgement::Refused(_)
        ));
    }

    #[test]
    fn listed_dialects_allow_only_their_pure_built_ins() {
        for dialect in [SqlDialectKind::MySql, SqlDialectKind::Sqlite] {
            let policy = GuardPolicy::new(dialect);
            let judged = |name| judge(&call(dialect, name), &policy);
            assert_eq!(judged("LOWER"), Judgement::Allowed, "{dialect:?}");
            assert_eq!(judged("json_extract"), Judgement::Allowed, "{dialect:?}");
            assert!(matches!(judged("wipe_everything"), Judgement::Refused(_)));
        }
    }

    #[test]
    fn no_pure_list_names_a_known_danger() {
        let lists = [
            mysql::PURE,
            sqlite::PURE,
            postgres::PURE_VOLATILE,
            postgres::SYNTAX_FUNCTIONS,
        ];
        for name in lists.iter().flat_map(|list| list.iter()) {
            assert_eq!(dangers::known_danger(name), None, "{name}");
        }
    }
}

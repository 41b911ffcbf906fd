//! What a watched database would let Sentinel's role do beyond reading, were a statement ever
//! to slip past the guard: be a superuser, replicate, bypass row security, signal other
//! sessions, write a table, create objects, touch the server's files. These checks are what
//! the role gate ([`super::role_gate`]) refuses on and what `sentinel doctor` reports. Every
//! check is a read that runs through [`SqlSource::query`], the one guarded read-only path; the
//! answers are judged here by pure functions, and a role that can do more than read gets the
//! SQL that creates a read-only one for the configured database.

use super::database::{QueryError, QueryResult, SqlSource};
use super::guard::SqlDialectKind;

/// What the role can do, as far as the checks could tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Who the database says Sentinel is (`sentinel`, `sentinel@%`).
    pub role: String,
    /// Everything the role can do beyond reading (write, create, signal, replicate, ...);
    /// empty when it only reads.
    pub writes: Vec<String>,
    /// Facts worth printing either way (`default_transaction_read_only=on`).
    pub notes: Vec<String>,
    /// The SQL that creates a read-only role for this database.
    pub remedy: String,
}

impl Verdict {
    pub(crate) fn read_only(&self) -> bool {
        self.writes.is_empty()
    }
}

/// PostgreSQL: who the role is and what it may do beyond single tables, including the roles it
/// could `SET ROLE` to that can do more where it cannot itself (superuser, REPLICATION,
/// BYPASSRLS and the CREATE attributes are never inherited; table privileges are not, for a
/// NOINHERIT membership). Membership of the predefined roles (`pg_signal_backend`, the server
/// file roles) counts through any chain of roles, inherited or not.
pub(crate) const PG_ROLE: &str = "SELECT current_user AS role, current_database() AS db, \
     r.rolsuper, r.rolcreaterole, r.rolcreatedb, \
     has_database_privilege(current_database(), 'CREATE') AS create_db, \
     EXISTS (SELECT 1 FROM pg_roles w WHERE w.rolname = 'pg_write_all_data' \
             AND pg_has_role(current_user, w.oid, 'MEMBER')) AS write_all_data, \
     COALESCE((SELECT array_to_string(r.rolconfig, ',')), '') AS config, \
     (SELECT string_agg(n.nspname, ', ' ORDER BY n.nspname) FROM pg_namespace n \
      WHERE substr(n.nspname, 1, 3) <> 'pg_' AND n.nspname <> 'information_schema' \
        AND has_schema_privilege(n.oid, 'CREATE')) AS create_schemas, \
     (SELECT string_agg(m.rolname, ', ' ORDER BY m.rolname) FROM pg_roles m \
      WHERE NOT r.rolsuper AND m.rolname <> current_user \
        AND pg_has_role(current_user, m.oid, 'MEMBER') \
        AND (m.rolsuper OR m.rolcreaterole OR m.rolcreatedb \
             OR (NOT pg_has_role(current_user, m.oid, 'USAGE') AND EXISTS ( \
                 SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'v', 'f') \
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                   AND has_table_privilege(m.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))) \
             OR m.rolreplication OR m.rolbypassrls)) \
       AS set_roles, \
     r.rolreplication, r.rolbypassrls, \
     NOT r.rolsuper AND EXISTS (SELECT 1 FROM pg_roles s WHERE s.rolname = 'pg_signal_backend' \
             AND pg_has_role(current_user, s.oid, 'MEMBER')) AS signal_backend, \
     COALESCE((SELECT string_agg(f.rolname, ', ' ORDER BY f.rolname) FROM pg_roles f \
      WHERE NOT r.rolsuper AND f.rolname IN ('pg_read_server_files', 'pg_write_server_files', \
            'pg_execute_server_program') AND pg_has_role(current_user, f.oid, 'MEMBER')), '') \
       AS server_files \
     FROM pg_roles r WHERE r.rolname = current_user";

/// PostgreSQL: user tables the role may INSERT, UPDATE, DELETE or TRUNCATE: how many, the
/// first few, and which of the four.
pub(crate) const PG_TABLES: &str = "WITH w AS (SELECT n.nspname || '.' || c.relname AS name, \
       has_table_privilege(c.oid, 'INSERT') AS i, has_table_privilege(c.oid, 'UPDATE') AS u, \
       has_table_privilege(c.oid, 'DELETE') AS d, has_table_privilege(c.oid, 'TRUNCATE') AS t \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'v', 'f') \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
       AND n.nspname NOT LIKE 'pg_toast%'), \
   x AS (SELECT * FROM w WHERE i OR u OR d OR t) \
   SELECT (SELECT count(*) FROM x) AS tables, \
     COALESCE((SELECT string_agg(name, ', ') FROM (SELECT name FROM x ORDER BY name LIMIT 5) AS s), '') AS sample, \
     COALESCE((SELECT bool_or(i) FROM x), false), COALESCE((SELECT bool_or(u) FROM x), false), \
     COALESCE((SELECT bool_or(d) FROM x), false), COALESCE((SELECT bool_or(t) FROM x), false)";

/// MySQL/MariaDB: the grants of the account Sentinel logged in as.
pub(crate) const MYSQL_GRANTS: &str = "SHOW GRANTS";

/// MySQL/MariaDB: the account (`user@host`) the server matched, and the database it is in.
pub(crate) const MYSQL_USER: &str = "SELECT CURRENT_USER(), DATABASE()";

/// Runs the checks for `source`'s dialect; `url` is the source's URL, whose database the remedy
/// names. SQLite files are opened read-only and have no role, so they always pass here;
/// whether the file itself is writable is the caller's (informational) concern.
///
/// The checks read through the guarded path with the role gate open for them (they are how the
/// gate learns its verdict), so `sentinel doctor` reports on a role the gate would refuse.
pub(crate) async fn check(source: &SqlSource, url: &str) -> Result<Verdict, QueryError> {
    super::role_gate::judging(check_role(source, url)).await
}

async fn check_role(source: &SqlSource, url: &str) -> Result<Verdict, QueryError> {
    let configured = database_of(source.dialect(), url);
    match source.dialect() {
        SqlDialectKind::Postgres => {
            let role = source.query(PG_ROLE).await?;
            let tables = source.query(PG_TABLES).await?;
            let role = first_row(&role);
            let database = configured
                .or_else(|| role.get(1).filter(|db| !db.is_empty()).cloned())
                .unwrap_or_else(|| "app".to_string());
            Ok(judge_postgres(&role, &first_row(&tables), &database))
        }
        SqlDialectKind::MySql => {
            let user = source.query(MYSQL_USER).await?;
            let grants = source.query(MYSQL_GRANTS).await?;
            let lines: Vec<String> = grants
                .rows
                .iter()
                .filter_map(|row| row.first().cloned().flatten())
                .collect();
            let user = first_row(&user);
            let database = configured
                .or_else(|| user.get(1).filter(|db| !db.is_empty()).cloned())
                .unwrap_or_else(|| "app".to_string());
            let account = user.first().cloned().unwrap_or_default();
            Ok(judge_mysql(&account, &database, &lines))
        }
        SqlDialectKind::Sqlite => {
            source.query("SELECT 1").await?;
            Ok(Verdict {
                role: String::new(),
                writes: Vec::new(),
                notes: vec!["opened read-only".to_string()],
                remedy: String::new(),
            })
        }
    }
}

/// The database a PostgreSQL or MySQL/MariaDB URL names (`None` when it names none or does
/// not parse; the server then says which one it connected to).
pub(crate) fn database_of(dialect: SqlDialectKind, url: &str) -> Option<String> {
    let database = match dialect {
        SqlDialectKind::Postgres => url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .ok()?
            .get_database()
            .map(str::to_string),
        SqlDialectKind::MySql => url
            .parse::<sqlx::mysql::MySqlConnectOptions>()
            .ok()?
            .get_database()
            .map(str::to_string),
        SqlDialectKind::Sqlite => None,
    };
    database.filter(|db| !db.is_empty())
}

fn first_row(result: &QueryResult) -> Vec<String> {
    result
        .rows
        .first()
        .map(|row| row.iter().map(|v| v.clone().unwrap_or_default()).collect())
        .unwrap_or_default()
}

fn truthy(value: Option<&String>) -> bool {
    matches!(
        value.map(|v| v.trim().to_ascii_lowercase()).as_deref(),
        Some("t" | "true" | "1" | "on" | "yes")
    )
}

/// Judges the answers of [`PG_ROLE`] and [`PG_TABLES`] (as text, in their column order) for a
/// source configured on `database`.
pub(crate) fn judge_postgres(role: &[String], tables: &[String], database: &str) -> Verdict {
    let name = role.first().cloned().unwrap_or_default();
    let mut writes = Vec::new();
    for (index, what) in [
        (2, "is a superuser"),
        (3, "can create roles (CREATEROLE)"),
        (4, "can create databases (CREATEDB)"),
        (5, "can CREATE schemas in the database"),
        (6, "is a member of pg_write_all_data"),
        (
            10,
            "has REPLICATION (can stream every table, bypassing grants)",
        ),
        (11, "has BYPASSRLS (reads past row-level security)"),
        (
            12,
            "can signal other sessions: cancel or terminate them (member of pg_signal_backend)",
        ),
    ] {
        if truthy(role.get(index)) {
            writes.push(what.to_string());
        }
    }
    let config = role.get(7).cloned().unwrap_or_default();
    if let Some(schemas) = role.get(8).filter(|s| !s.is_empty()) {
        writes.push(format!("can CREATE in schema {schemas}"));
    }
    if let Some(roles) = role.get(13).filter(|s| !s.is_empty()) {
        writes.push(format!(
            "can read, write or run programs on the database server's machine (member of {roles})"
        ));
    }
    if let Some(roles) = role.get(9).filter(|s| !s.is_empty()) {
        writes.push(format!(
            "can SET ROLE to {roles}, which can do more than read (revoke the membership)"
        ));
    }
    let count: u64 = tables
        .first()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    if count > 0 {
        let verbs: Vec<&str> = ["INSERT", "UPDATE", "DELETE", "TRUNCATE"]
            .into_iter()
            .enumerate()
            .filter(|(i, _)| truthy(tables.get(i + 2)))
            .map(|(_, verb)| verb)
            .collect();
        let sample = tables.get(1).cloned().unwrap_or_default();
        let more = if count > 5 { ", ..." } else { "" };
        writes.push(format!(
            "can {} on {count} table{} ({sample}{more})",
            verbs.join("/"),
            if count == 1 { "" } else { "s" }
        ));
    }
    let read_only_default = config
        .split(',')
        .any(|setting| setting.trim() == "default_transaction_read_only=on");
    let notes = vec![format!(
        "default_transaction_read_only={}",
        if read_only_default {
            "on"
        } else {
            "off for the role (Sentinel sets it on for its own sessions)"
        }
    )];
    Verdict {
        role: name,
        writes,
        notes,
        remedy: postgres_remedy(if database.is_empty() { "app" } else { database }),
    }
}

/// The SQL that makes a PostgreSQL role that can read every table of `database`'s public
/// schema (now and later) and nothing else.
pub(crate) fn postgres_remedy(database: &str) -> String {
    let db = quote_ident(database);
    format!(
        "CREATE ROLE sentinel_ro LOGIN PASSWORD '<choose a password>'; \
         GRANT CONNECT ON DATABASE {db} TO sentinel_ro; \
         GRANT USAGE ON SCHEMA public TO sentinel_ro; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO sentinel_ro; \
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO sentinel_ro; \
         ALTER ROLE sentinel_ro SET default_transaction_read_only = on;"
    )
}

fn quote_ident(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Privileges that do more than read: change data, schema or the server, kill other sessions
/// (SUPER, CONNECTION ADMIN), replicate (the binary log carries every table), lock tables
/// against the app, manage accounts, or act on the server's files. Anything else (SELECT, SHOW
/// VIEW, PROCESS, USAGE, SHOW DATABASES, CREATE TEMPORARY TABLES, ...) only reads or stays
/// within the session.
fn is_write_privilege(privilege: &str) -> bool {
    let p = privilege.trim().to_ascii_uppercase().replace('_', " ");
    matches!(
        p.as_str(),
        "ALL"
            | "ALL PRIVILEGES"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "DELETE HISTORY"
            | "DROP"
            | "ALTER"
            | "ALTER ROUTINE"
            | "INDEX"
            | "TRIGGER"
            | "EVENT"
            | "SUPER"
            | "FILE"
            | "GRANT OPTION"
            | "LOCK TABLES"
            | "RELOAD"
            | "SHUTDOWN"
            | "REPLICATION SLAVE"
            | "REPLICATION REPLICA"
            | "BINLOG REPLAY"
            | "SET USER"
            | "PROXY"
    ) || p.contains("ADMIN")
        || (p.starts_with("CREATE") && p != "CREATE TEMPORARY TABLES")
}

/// One `GRANT ... ON ... TO ...` line, split. `None` for lines that grant a role or a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantLine {
    pub privileges: Vec<String>,
    pub object: String,
    /// Who holds the grant, as printed (`` `app`@`%` `` for an account, `` `writer` `` for a role).
    pub grantee: String,
}

/// Splits a line of `SHOW GRANTS` output.
pub(crate) fn parse_grant(line: &str) -> Option<GrantLine> {
    let rest = line.trim().strip_prefix("GRANT ")?;
    // Privileges run up to the first " ON " outside parentheses (column lists).
    let mut depth = 0usize;
    let mut split = None;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ' ' if depth == 0 && rest[i..].starts_with(" ON ") => {
                split = Some(i);
                break;
            }
            _ => {}
        }
    }
    let split = split?;
    let privilege_text = &rest[..split];
    let after = &rest[split + 4..];
    let (object, grantee) = after.split_once(" TO ").unwrap_or((after, ""));
    let object = object.trim().to_string();
    let grantee = grantee_of(grantee);
    let mut privileges = Vec::new();
    let mut current = String::new();
    depth = 0;
    for c in privilege_text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => privileges.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    privileges.push(current);
    let privileges = privileges
        .into_iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let mut grant = GrantLine {
        privileges,
        object,
        grantee,
    };
    if line.to_ascii_uppercase().contains(" WITH GRANT OPTION") {
        grant.privileges.push("GRANT OPTION".to_string());
    }
    Some(grant)
}

/// The account or role a grant goes to: the text after ` TO ` up to any trailing clause
/// (`IDENTIFIED BY ...`, `WITH GRANT OPTION`).
fn grantee_of(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The role of a `GRANT `role` TO `account`` line, as printed.
fn granted_role(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix("GRANT ")?;
    let (role, grantee) = rest.split_once(" TO ")?;
    let role = role.trim();
    (!role.is_empty() && !role.contains(' ')).then(|| (role.to_string(), grantee_of(grantee)))
}

/// Judges `SHOW GRANTS` output for the account `user` (`name@host`) of a source configured on
/// `database`.
///
/// The output lists the privileges of the account and of its active roles (the default role
/// and the roles it holds); a write through one of them names the role. A role that is granted
/// but not active lists nothing: the account could still `SET ROLE` to it (Sentinel never
/// does; `SET` is refused), so it is counted as a way to write until an administrator revokes
/// it or shows it reads only.
pub(crate) fn judge_mysql(user: &str, database: &str, grants: &[String]) -> Verdict {
    let mut writes = Vec::new();
    let notes = Vec::new();
    let mut parsed: Vec<GrantLine> = Vec::new();
    let mut roles: Vec<(String, String)> = Vec::new();
    for line in grants {
        match parse_grant(line) {
            Some(grant) => parsed.push(grant),
            None => roles.extend(granted_role(line)),
        }
    }
    let visible: std::collections::BTreeSet<&str> =
        parsed.iter().map(|grant| grant.grantee.as_str()).collect();
    let is_role = |grantee: &str| roles.iter().any(|(role, _)| role == grantee);
    for grant in &parsed {
        let object = grant.object.to_ascii_uppercase();
        if object.starts_with("PROCEDURE ") || object.starts_with("FUNCTION ") {
            continue;
        }
        let written: Vec<&str> = grant
            .privileges
            .iter()
            .filter(|p| is_write_privilege(p))
            .map(String::as_str)
            .collect();
        if written.is_empty() {
            continue;
        }
        let through = if is_role(&grant.grantee) {
            format!(" through role {}", grant.grantee)
        } else {
            String::new()
        };
        writes.push(format!(
            "can {} on {}{through}",
            written.join("/"),
            grant.object
        ));
    }
    for (role, grantee) in &roles {
        if !visible.contains(role.as_str()) {
            writes.push(format!(
                "may write through role {role}, which is not active so its privileges are hidden \
                 (check SHOW GRANTS FOR {role} as an administrator, or REVOKE {role} FROM {grantee})"
            ));
        }
    }
    Verdict {
        role: user.to_string(),
        writes,
        notes,
        remedy: mysql_remedy(database),
    }
}

/// The SQL that makes a MySQL/MariaDB account that can only read `database`.
pub(crate) fn mysql_remedy(database: &str) -> String {
    let db = format!("`{}`", database.replace('`', "``"));
    format!(
        "CREATE USER 'sentinel_ro'@'%' IDENTIFIED BY '<choose a password>'; \
         GRANT SELECT, SHOW VIEW ON {db}.* TO 'sentinel_ro'@'%';"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn a_postgres_role_with_only_select_is_read_only() {
        let verdict = judge_postgres(
            &strings(&[
                "sentinel",
                "app",
                "f",
                "f",
                "f",
                "f",
                "f",
                "default_transaction_read_only=on",
                "",
            ]),
            &strings(&["0", "", "f", "f", "f", "f"]),
            "app",
        );
        assert!(verdict.read_only(), "{verdict:?}");
        assert_eq!(verdict.notes, ["default_transaction_read_only=on"]);
    }

    #[test]
    fn every_postgres_way_to_write_is_named() {
        let verdict = judge_postgres(
            &strings(&[
                "app",
                "shop",
                "t",
                "t",
                "t",
                "t",
                "t",
                "",
                "public, sales",
                "loader",
                "t",
                "t",
                "t",
                "pg_read_server_files, pg_write_server_files",
            ]),
            &strings(&[
                "12",
                "public.a, public.b, public.c, public.d, public.e",
                "t",
                "t",
                "f",
                "t",
            ]),
            "shop",
        );
        assert_eq!(
            verdict.writes,
            [
                "is a superuser",
                "can create roles (CREATEROLE)",
                "can create databases (CREATEDB)",
                "can CREATE schemas in the database",
                "is a member of pg_write_all_data",
                "has REPLICATION (can stream every table, bypassing grants)",
                "has BYPASSRLS (reads past row-level security)",
                "can signal other sessions: cancel or terminate them (member of pg_signal_backend)",
                "can CREATE in schema public, sales",
                "can read, write or run programs on the database server's machine (member of pg_read_server_files, pg_write_server_files)",
                "can SET ROLE to loader, which can do more than read (revoke the membership)",
                "can INSERT/UPDATE/TRUNCATE on 12 tables (public.a, public.b, public.c, public.d, public.e, ...)",
            ]
        );
        assert!(verdict.notes[0].starts_with("default_transaction_read_only=off"));
        assert!(
            verdict
                .remedy
                .contains("GRANT CONNECT ON DATABASE shop TO sentinel_ro")
        );
        assert!(
            verdict
                .remedy
                .contains("default_transaction_read_only = on")
        );
    }

    #[test]
    fn odd_database_names_are_quoted_in_the_remedy() {
        assert!(postgres_remedy("My-App").contains("DATABASE \"My-App\" TO"));
        assert!(mysql_remedy("sh`op").contains("`sh``op`.*"));
    }

    #[test]
    fn grant_lines_split_into_privileges_and_object() {
        assert_eq!(
            parse_grant("GRANT SELECT, INSERT (a, b), UPDATE ON `shop`.`orders` TO `app`@`%`"),
            Some(GrantLine {
                privileges: strings(&["SELECT", "INSERT", "UPDATE"]),
                object: "`shop`.`orders`".into(),
                grantee: "`app`@`%`".into(),
            })
        );
        assert_eq!(
            parse_grant("GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION")
                .unwrap()
                .privileges,
            strings(&["ALL PRIVILEGES", "GRANT OPTION"])
        );
        assert_eq!(parse_grant("GRANT `reader` TO `sentinel`@`%`"), None);
    }

    #[test]
    fn mysql_select_only_and_usage_are_read_only() {
        let verdict = judge_mysql(
            "sentinel@%",
            "shop",
            &strings(&[
                "GRANT USAGE ON *.* TO `sentinel`@`%` IDENTIFIED BY PASSWORD '*ABC'",
                "GRANT SELECT, SHOW VIEW, PROCESS ON `shop`.* TO `sentinel`@`%`",
                "GRANT CREATE TEMPORARY TABLES ON `shop`.* TO `sentinel`@`%`",
            ]),
        );
        assert!(verdict.read_only(), "{verdict:?}");
        assert!(
            verdict.remedy.contains("ON `shop`.* TO"),
            "{}",
            verdict.remedy
        );
    }

    #[test]
    fn mysql_write_grants_are_named_with_their_objects() {
        let verdict = judge_mysql(
            "app@%",
            "shop",
            &strings(&[
                "GRANT USAGE ON *.* TO `app`@`%`",
                "GRANT SELECT, INSERT, DELETE ON `shop`.`orders` TO `app`@`%`",
                "GRANT CREATE VIEW, DROP ON `shop`.* TO `app`@`%`",
                "GRANT SUPER ON *.* TO `app`@`%`",
                "GRANT `writer` TO `app`@`%`",
            ]),
        );
        assert_eq!(
            verdict.writes,
            [
                "can INSERT/DELETE on `shop`.`orders`",
                "can CREATE VIEW/DROP on `shop`.*",
                "can SUPER on *.*",
                "may write through role `writer`, which is not active so its privileges are hidden \
                 (check SHOW GRANTS FOR `writer` as an administrator, or REVOKE `writer` FROM `app`@`%`)",
            ]
        );
    }

    #[test]
    fn writes_through_active_roles_name_the_role() {
        // MariaDB's SHOW GRANTS for an account whose default role holds another role.
        let verdict = judge_mysql(
            "app@%",
            "shop",
            &strings(&[
                "GRANT `reporting` TO `app`@`%`",
                "GRANT USAGE ON *.* TO `app`@`%`",
                "GRANT SELECT ON `shop`.* TO `app`@`%`",
                "GRANT `loader` TO `reporting`",
                "GRANT USAGE ON *.* TO `reporting`",
                "GRANT SELECT ON `shop`.* TO `reporting`",
                "GRANT USAGE ON *.* TO `loader`",
                "GRANT INSERT ON `shop`.`events` TO `loader`",
                "SET DEFAULT ROLE `reporting` FOR `app`@`%`",
            ]),
        );
        assert_eq!(
            verdict.writes,
            ["can INSERT on `shop`.`events` through role `loader`"]
        );
    }

    #[test]
    fn an_active_role_that_only_reads_is_read_only() {
        let verdict = judge_mysql(
            "app@%",
            "shop",
            &strings(&[
                "GRANT `reporting` TO `app`@`%`",
                "GRANT USAGE ON *.* TO `app`@`%`",
                "GRANT USAGE ON *.* TO `reporting`",
                "GRANT SELECT ON `shop`.* TO `reporting`",
            ]),
        );
        assert!(verdict.read_only(), "{verdict:?}");
    }

    #[test]
    fn one_predefined_role_or_attribute_is_enough_to_do_more_than_read() {
        let base = [
            "sentinel", "app", "f", "f", "f", "f", "f", "", "", "", "f", "f", "f", "",
        ];
        let no_tables = strings(&["0", "", "f", "f", "f", "f"]);
        for (index, value, expected) in [
            (10, "t", "has REPLICATION"),
            (11, "t", "has BYPASSRLS"),
            (12, "t", "member of pg_signal_backend"),
            (5, "t", "can CREATE schemas"),
            (8, "public", "can CREATE in schema public"),
            (13, "pg_execute_server_program", "pg_execute_server_program"),
        ] {
            let mut role = strings(&base);
            role[index] = value.to_string();
            let verdict = judge_postgres(&role, &no_tables, "app");
            assert_eq!(verdict.writes.len(), 1, "{verdict:?}");
            assert!(verdict.writes[0].contains(expected), "{verdict:?}");
        }
        let one_table = strings(&["1", "public.orders", "f", "t", "f", "f"]);
        let verdict = judge_postgres(&strings(&base), &one_table, "app");
        assert_eq!(verdict.writes, ["can UPDATE on 1 table (public.orders)"]);
        assert!(judge_postgres(&strings(&base), &no_tables, "app").read_only());
    }

    #[test]
    fn the_remedy_names_the_configured_database_not_one_from_the_grants() {
        let verdict = judge_mysql(
            "root@localhost",
            "billing",
            &strings(&[
                "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
                "GRANT SELECT ON `shop`.* TO `root`@`localhost`",
            ]),
        );
        assert!(
            verdict.remedy.contains("ON `billing`.* TO"),
            "{}",
            verdict.remedy
        );
        assert!(!verdict.remedy.contains("shop"), "{}", verdict.remedy);
        let verdict = judge_postgres(
            &strings(&["postgres", "postgres", "t"]),
            &strings(&["0"]),
            "billing",
        );
        assert!(
            verdict
                .remedy
                .contains("GRANT CONNECT ON DATABASE billing TO"),
            "{}",
            verdict.remedy
        );
    }

    #[test]
    fn mysql_kill_replication_and_lock_privileges_do_more_than_read() {
        for grant in [
            "GRANT CONNECTION ADMIN ON *.* TO `s`@`%`",
            "GRANT CONNECTION_ADMIN ON *.* TO `s`@`%`",
            "GRANT REPLICATION SLAVE ON *.* TO `s`@`%`",
            "GRANT LOCK TABLES ON `shop`.* TO `s`@`%`",
            "GRANT CREATE ROUTINE ON `shop`.* TO `s`@`%`",
            "GRANT FILE ON *.* TO `s`@`%`",
            "GRANT UPDATE (email) ON `shop`.`users` TO `s`@`%`",
        ] {
            let verdict = judge_mysql("s@%", "shop", &strings(&[grant]));
            assert_eq!(verdict.writes.len(), 1, "{grant}: {verdict:?}");
        }
    }

    #[test]
    fn databases_come_from_the_source_url() {
        assert_eq!(
            database_of(
                SqlDialectKind::Postgres,
                "postgres://ro:pw@127.0.0.1:5432/billing?sslmode=disable"
            )
            .as_deref(),
            Some("billing")
        );
        assert_eq!(
            database_of(SqlDialectKind::MySql, "mysql://ro@127.0.0.1:3306/shop").as_deref(),
            Some("shop")
        );
        assert_eq!(
            database_of(SqlDialectKind::MySql, "mysql://ro@127.0.0.1:3306"),
            None
        );
    }
}

//! `sentinel doctor` on a SQL source: reachable through the guarded read-only path, and a
//! role that cannot write (or, for SQLite, a file this process could write, as a hint). A role
//! that can do more than read is a warning with every way it could write and the SQL that
//! creates a read-only one.

use super::database::{QueryError, SqlSource};
use super::guard::SqlDialectKind;
use super::privileges::{self, Verdict};
use crate::source::registry::Finding;

/// Can the source be read, and could its role do more than read? Every check runs through
/// the guarded read-only path.
pub(crate) async fn check(source: &SqlSource) -> Finding {
    let url = source.url();
    match privileges::check(source, url).await {
        Ok(verdict) if source.dialect() == SqlDialectKind::Sqlite => {
            let mut text = verdict.notes.join(", ");
            if let Some(note) = sqlite_file_note(url) {
                text.push_str(&format!("; note: {note}"));
            }
            Finding::Ok(text)
        }
        Ok(verdict) => judge(source.dialect(), &verdict),
        Err(QueryError::Refused(refusal)) => Finding::Fail(format!(
            "the statement guard refused a check ({refusal}): allow_show = true lets SHOW GRANTS through"
        )),
        Err(QueryError::Source(error)) => Finding::Fail(format!("cannot check: {error}")),
    }
}

/// The line for a SQL verdict: ok when read-only, otherwise every way to write and the remedy.
pub(crate) fn judge(dialect: SqlDialectKind, verdict: &Verdict) -> Finding {
    let who = match dialect {
        SqlDialectKind::MySql => "user",
        _ => "role",
    };
    if verdict.read_only() {
        let mut text = format!("read-only {who} {}", verdict.role);
        for note in &verdict.notes {
            text.push_str(&format!(", {note}"));
        }
        return Finding::Ok(text);
    }
    Finding::Warning(format!(
        "{who} {} {}; create a read-only {who}: {}",
        verdict.role,
        verdict.writes.join("; "),
        verdict.remedy
    ))
}

/// For a SQLite source: whether this process could write the file (Sentinel opens it
/// read-only either way; this is a hint to tighten permissions).
fn sqlite_file_note(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let metadata = std::fs::metadata(path).ok()?;
    writable_by_this_process(&metadata).then(|| {
        format!(
            "{path} is writable by the user Sentinel runs as (it is only ever opened read-only)"
        )
    })
}

#[cfg(target_os = "linux")]
fn writable_by_this_process(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let ids = |field: &str| -> Vec<u32> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .map(|rest| {
                rest.split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Uid: real, effective, ...; Gid likewise; Groups: supplementary.
    let Some(&euid) = ids("Uid:").get(1) else {
        return !metadata.permissions().readonly();
    };
    let mut groups = ids("Groups:");
    groups.extend(ids("Gid:").get(1));
    let mode = metadata.mode();
    euid == 0
        || (metadata.uid() == euid && mode & 0o200 != 0)
        || (groups.contains(&metadata.gid()) && mode & 0o020 != 0)
        || mode & 0o002 != 0
}

#[cfg(not(target_os = "linux"))]
fn writable_by_this_process(metadata: &std::fs::Metadata) -> bool {
    !metadata.permissions().readonly()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writing_role_gets_every_way_and_the_remedy() {
        let verdict = Verdict {
            role: "app".into(),
            writes: vec![
                "is a superuser".into(),
                "can INSERT on 2 tables (a, b)".into(),
            ],
            notes: vec![],
            remedy: "CREATE ROLE sentinel_ro ...".into(),
        };
        assert_eq!(
            judge(SqlDialectKind::Postgres, &verdict),
            Finding::Warning(
                "role app is a superuser; can INSERT on 2 tables (a, b); create a read-only role: CREATE ROLE sentinel_ro ...".into()
            )
        );
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.db");
        std::fs::write(&file, b"").unwrap();
        let url = format!("sqlite://{}?mode=ro", file.display());
        // The test's own file is writable by the test's user.
        assert!(sqlite_file_note(&url).is_some_and(|n| n.contains("app.db")));
        assert_eq!(sqlite_file_note("sqlite::memory:"), None);
        assert_eq!(sqlite_file_note("sqlite:///does/not/exist.db"), None);
    }
}

//! `sentinel doctor`: for every configured source, can Sentinel reach it, and could its role
//! write anything? One line per source: `ok`, `WARNING` (the role can write: with the SQL that
//! creates a read-only one) or `FAIL` (unreachable). Then the files the watches read (see
//! [`files`]): logs that match nothing or cannot be opened, folders that cannot be listed.
//! Every SQL check runs through the guarded read-only path; a Prometheus or Loki source answers
//! `vector(1)`; a journald source reads its last hour (and says how many entries its units
//! wrote, so an empty unit filter shows).
//!
//! Exit codes: 0 every source reachable and read-only and every file readable, 1 a source can
//! write or something could not be checked or read, 2 the configuration cannot be loaded.

mod files;

use super::{cannot_run, load_config};
use crate::config::{Config, SourceSpec, SourceSpecKind};
use crate::engine::build;
use crate::source::prometheus::PrometheusSource;
use crate::source::sql::database::{QueryError, SqlSource};
use crate::source::sql::guard::SqlDialectKind;
use crate::source::sql::privileges::{self, Verdict};
use std::path::Path;

/// What one source's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Ok(String),
    /// The role can write.
    Warning(String),
    /// The source could not be checked.
    Fail(String),
}

impl Finding {
    /// The printed line for source `name` of kind `kind`.
    pub fn line(&self, name: &str, kind: &str) -> String {
        match self {
            Finding::Ok(text) => format!("ok  {name} ({kind}): {text}"),
            Finding::Warning(text) => format!("WARNING {name} ({kind}): {text}"),
            Finding::Fail(text) => format!("FAIL {name} ({kind}): {text}"),
        }
    }
}

pub async fn run(config_path: &Path) -> i32 {
    let config = match load_config(config_path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let mut findings = match check_all(&config).await {
        Ok(findings) => findings,
        Err(error) => return cannot_run(error),
    };
    findings.extend(files::check(&config));
    if findings.is_empty() {
        println!(
            "nothing to check: no sources and no files in {}",
            config_path.display()
        );
        return 0;
    }
    let mut code = 0;
    for (name, kind, finding) in findings {
        println!("{}", finding.line(&name, kind));
        if !matches!(finding, Finding::Ok(_)) {
            code = 1;
        }
    }
    code
}

/// Checks every source of `config`, in configuration order, through the same connections the
/// engine builds.
pub async fn check_all(config: &Config) -> Result<Vec<(String, &'static str, Finding)>, String> {
    let sources = build::sources(config)?;
    let mut out = Vec::new();
    for spec in &config.sources {
        let (kind, finding) = if let Some(source) = sources.prometheus.get(&spec.name) {
            ("prometheus", check_prometheus(source, spec).await)
        } else if let Some(source) = sources.sql.get(&spec.name) {
            check_sql(source, spec).await
        } else if let Some(source) = sources.redis.get(&spec.name) {
            let finding = match source.ping().await {
                Ok(()) => Finding::Ok(
                    "reachable; Sentinel sends only read commands (an allowlist checked before sending)"
                        .to_string(),
                ),
                Err(error) => Finding::Fail(format!("cannot reach: {error}")),
            };
            ("redis", finding)
        } else if let Some(source) = sources.loki.get(&spec.name) {
            let finding = match source.query("vector(1)", chrono::Utc::now()).await {
                Ok(_) => Finding::Ok("reachable, queries only".to_string()),
                Err(error) => Finding::Fail(format!("cannot query: {error}")),
            };
            ("loki", finding)
        } else if let Some(source) = sources.journald.get(&spec.name) {
            let finding = match source.read(None).await {
                Ok(read) if read.lines.is_empty() => Finding::Warning(
                    "readable, but nothing in the last hour: check `units`".to_string(),
                ),
                Ok(read) => Finding::Ok(format!(
                    "readable: {}{} entries in the last hour",
                    read.lines.len(),
                    if read.more { "+" } else { "" }
                )),
                Err(error) => Finding::Fail(format!("cannot read the journal: {error}")),
            };
            ("journald", finding)
        } else {
            continue;
        };
        out.push((spec.name.clone(), kind, finding));
    }
    Ok(out)
}

async fn check_prometheus(source: &PrometheusSource, spec: &SourceSpec) -> Finding {
    let url = match &spec.kind {
        SourceSpecKind::Prometheus { url, .. } => url.as_str(),
        _ => "",
    };
    match source
        .instant("vector(1)", chrono::Utc::now().timestamp())
        .await
    {
        Ok(_) => Finding::Ok(format!("reachable at {url}, queries only")),
        Err(error) => Finding::Fail(format!("cannot query {url}: {error}")),
    }
}

async fn check_sql(source: &SqlSource, spec: &SourceSpec) -> (&'static str, Finding) {
    let kind = match source.dialect() {
        SqlDialectKind::Postgres => "postgres",
        SqlDialectKind::MySql => "mysql",
        SqlDialectKind::Sqlite => "sqlite",
    };
    let url = match &spec.kind {
        SourceSpecKind::Sql(settings) => settings.url.as_str(),
        _ => "",
    };
    let finding = match privileges::check(source, url).await {
        Ok(verdict) if source.dialect() == SqlDialectKind::Sqlite => {
            let mut text = verdict.notes.join(", ");
            if let SourceSpecKind::Sql(settings) = &spec.kind
                && let Some(note) = sqlite_file_note(&settings.url)
            {
                text.push_str(&format!("; note: {note}"));
            }
            Finding::Ok(text)
        }
        Ok(verdict) => judge(source.dialect(), &verdict),
        Err(QueryError::Refused(refusal)) => Finding::Fail(format!(
            "the statement guard refused a check ({refusal}): allow_show = true lets SHOW GRANTS through"
        )),
        Err(QueryError::Source(error)) => Finding::Fail(format!("cannot check: {error}")),
    };
    (kind, finding)
}

/// The line for a SQL verdict: ok when read-only, otherwise every way to write and the remedy.
pub fn judge(dialect: SqlDialectKind, verdict: &Verdict) -> Finding {
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
    fn lines_say_ok_warning_or_fail_with_the_source() {
        assert_eq!(
            Finding::Ok("read-only role s".into()).line("app", "postgres"),
            "ok  app (postgres): read-only role s"
        );
        assert!(
            Finding::Warning("x".into())
                .line("app", "mysql")
                .starts_with("WARNING app (mysql): ")
        );
    }

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

//! The role gate: least privilege, enforced. No statement of a watch (or of `sentinel query`)
//! runs on a PostgreSQL or MySQL/MariaDB source whose role can do more than read (see
//! [`privileges`] for what counts) unless the source sets `allow_privileged_role = true`, in
//! which case it runs with a warning that is logged and shown in `/status`.
//!
//! The verdict is taken on the first connection that works and kept for the life of the
//! process, one per source (name and URL): start-up asks for it early, and a source that was
//! unreachable then is judged before the first statement that reaches it. The checks
//! themselves read through [`SqlSource::query`]'s guarded path; they open the gate for
//! themselves only (a task-local marker, which no SQL text can set). SQLite has no role: its
//! file is opened read-only, so nothing can be refused there.

use super::database::{QueryError, SqlSettings, SqlSource};
use super::guard::SqlDialectKind;
use super::privileges::{self, Verdict};
use crate::source::{SourceError, SourceErrorKind};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use tokio::sync::OnceCell;

tokio::task_local! {
    /// Set while the role checks run: their own reads pass the gate.
    static JUDGING: ();
}

/// Runs `work` with the gate open for its reads (the role checks, `sentinel doctor`).
pub(crate) async fn judging<F: Future>(work: F) -> F::Output {
    JUDGING.scope((), work).await
}

fn is_judging() -> bool {
    JUDGING.try_with(|_| ()).is_ok()
}

/// What the gate decided for one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admission {
    /// The role only reads (or the source is a SQLite file, which has no role).
    ReadOnly,
    /// The role can do more, and `allow_privileged_role = true` lets it run: the warning.
    Privileged(String),
    /// The role can do more: nothing runs on the source. Why, and what to do.
    Refused(String),
}

/// The gate's verdict for source `name` from what the checks found. Pure.
pub(crate) fn admission(
    name: &str,
    dialect: SqlDialectKind,
    verdict: &Verdict,
    allow: bool,
) -> Admission {
    if verdict.read_only() {
        return Admission::ReadOnly;
    }
    let who = who(dialect);
    let can = verdict.writes.join("; ");
    if allow {
        Admission::Privileged(format!(
            "source {name}: {who} {} can do more than read ({can}); running anyway because \
             allow_privileged_role = true",
            verdict.role
        ))
    } else {
        Admission::Refused(format!(
            "source {name}: refusing to run with {who} {}, which can do more than read: {can}. \
             Create a read-only {who} and put it in the source's url: {} \
             Or set allow_privileged_role = true on [sources.{name}] to run anyway.",
            verdict.role, verdict.remedy
        ))
    }
}

/// The gate's verdict when the guard refused one of the checks (so the role is unknown).
fn unchecked(name: &str, reason: &str, allow: bool) -> Admission {
    if allow {
        Admission::Privileged(format!(
            "source {name}: its role could not be checked ({reason}); running anyway because \
             allow_privileged_role = true"
        ))
    } else {
        Admission::Refused(format!(
            "source {name}: refusing to run: its role could not be checked ({reason}). \
             Set allow_privileged_role = true on [sources.{name}] to run anyway."
        ))
    }
}

fn who(dialect: SqlDialectKind) -> &'static str {
    match dialect {
        SqlDialectKind::MySql => "user",
        _ => "role",
    }
}

type Verdicts = HashMap<(String, String), Arc<OnceCell<Admission>>>;

/// One verdict per source (name, URL) for the life of the process.
static VERDICTS: LazyLock<Mutex<Verdicts>> = LazyLock::new(Mutex::default);

fn verdict_cell(name: &str, url: &str) -> Arc<OnceCell<Admission>> {
    let mut verdicts = VERDICTS.lock().unwrap_or_else(PoisonError::into_inner);
    verdicts
        .entry((name.to_string(), url.to_string()))
        .or_default()
        .clone()
}

/// Lets a statement through to source `name` only once its role was judged to only read (or
/// allowed to do more). Called first thing by [`SqlSource::query`]; a refusal is a source error,
/// so the source's watches are blind with the refusal as the reason.
pub(crate) async fn admit(name: &str, settings: &SqlSettings) -> Result<(), QueryError> {
    if settings.policy.dialect == SqlDialectKind::Sqlite || is_judging() {
        return Ok(());
    }
    match judge(name, settings).await? {
        Admission::Refused(message) => {
            let detail = message
                .strip_prefix(&format!("source {name}: "))
                .unwrap_or(&message)
                .to_string();
            Err(QueryError::Source(SourceError::new(
                name,
                SourceErrorKind::RoleRefused,
                detail,
            )))
        }
        Admission::ReadOnly | Admission::Privileged(_) => Ok(()),
    }
}

/// The verdict for source `name`: the kept one, or judged now (and kept) if the database
/// answers. An error means it could not be reached; it is asked again next time.
pub(crate) async fn judge(name: &str, settings: &SqlSettings) -> Result<Admission, QueryError> {
    if settings.policy.dialect == SqlDialectKind::Sqlite {
        return Ok(Admission::ReadOnly);
    }
    let cell = verdict_cell(name, &settings.url);
    cell.get_or_try_init(|| judge_now(name, settings))
        .await
        .cloned()
}

type Judging<'a> = Pin<Box<dyn Future<Output = Result<Admission, QueryError>> + Send + 'a>>;

/// Boxed: the checks run through [`SqlSource::query`], which calls back into the gate.
fn judge_now<'a>(name: &'a str, settings: &'a SqlSettings) -> Judging<'a> {
    Box::pin(judge_with_checks(name, settings))
}

async fn judge_with_checks(name: &str, settings: &SqlSettings) -> Result<Admission, QueryError> {
    // The checks need SHOW GRANTS even where the watches' statements may not use SHOW.
    let mut checking = settings.clone();
    checking.policy.allow_show = true;
    let checker = SqlSource::new(name, checking);
    let dialect = settings.policy.dialect;
    let admission = match privileges::check(&checker, &settings.url).await {
        Ok(verdict) => admission(name, dialect, &verdict, settings.allow_privileged_role),
        Err(QueryError::Refused(refusal)) => unchecked(
            name,
            &format!("the statement guard refused a check: {refusal}"),
            settings.allow_privileged_role,
        ),
        Err(error) => return Err(error),
    };
    // A refusal is told by whoever asked: start-up exits with it, a watch is blind with it.
    if let Admission::Privileged(warning) = &admission {
        tracing::warn!("{warning}");
    }
    Ok(admission)
}

/// The warnings of every source this process runs although its role can do more than read,
/// sorted by source (for `/status`).
pub(crate) fn privileged_warnings() -> Vec<String> {
    let verdicts = VERDICTS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut warnings: Vec<(&(String, String), String)> = verdicts
        .iter()
        .filter_map(|(key, cell)| match cell.get() {
            Some(Admission::Privileged(warning)) => Some((key, warning.clone())),
            _ => None,
        })
        .collect();
    warnings.sort();
    warnings.into_iter().map(|(_, warning)| warning).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn superuser() -> Verdict {
        Verdict {
            role: "postgres".into(),
            writes: vec!["is a superuser".into()],
            notes: vec![],
            remedy:
                "CREATE ROLE sentinel_ro LOGIN ...; GRANT CONNECT ON DATABASE shop TO sentinel_ro;"
                    .into(),
        }
    }

    #[test]
    fn a_privileged_role_is_refused_with_the_remedy_and_the_way_out() {
        let Admission::Refused(message) =
            admission("app", SqlDialectKind::Postgres, &superuser(), false)
        else {
            panic!("not refused");
        };
        assert!(message.starts_with("source app: "), "{message}");
        assert!(message.contains("role postgres"), "{message}");
        assert!(message.contains("is a superuser"), "{message}");
        assert!(
            message.contains("DATABASE shop TO sentinel_ro"),
            "{message}"
        );
        assert!(
            message.contains("Or set allow_privileged_role = true on [sources.app] to run anyway."),
            "{message}"
        );
    }

    #[test]
    fn allowed_privileged_roles_run_with_a_warning() {
        let Admission::Privileged(warning) =
            admission("app", SqlDialectKind::MySql, &superuser(), true)
        else {
            panic!("not allowed");
        };
        assert!(
            warning.contains("user postgres can do more than read"),
            "{warning}"
        );
        assert!(
            warning.contains("allow_privileged_role = true"),
            "{warning}"
        );
    }

    #[test]
    fn read_only_roles_pass_either_way() {
        let reader = Verdict {
            writes: vec![],
            ..superuser()
        };
        for allow in [false, true] {
            assert_eq!(
                admission("app", SqlDialectKind::Postgres, &reader, allow),
                Admission::ReadOnly
            );
        }
    }

    #[test]
    fn a_role_that_cannot_be_checked_is_refused_unless_allowed() {
        assert!(
            matches!(unchecked("app", "x", false), Admission::Refused(m) if m.contains("[sources.app]"))
        );
        assert!(matches!(
            unchecked("app", "x", true),
            Admission::Privileged(_)
        ));
    }
}

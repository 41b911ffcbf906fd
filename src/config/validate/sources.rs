//! Validation of `[sources.NAME]`: Prometheus-compatible endpoints, SQL databases, Redis,
//! Loki and the systemd journal.

use super::applicable::{Kind, Section};
use super::{Validator, dur};
use crate::config::raw::{RawSource, SourceKind, WrittenKeys};
use crate::config::*;
use toml::Spanned;

/// Keys every source takes, whatever its kind (`for`: how long it may stay unreadable).
pub(super) const SOURCE_COMMON_KEYS: &[&str] = &["kind", "for"];

pub(super) const PROMETHEUS_KEYS: &[&str] = &["url", "timeout", "bearer_token"];

pub(super) const LOKI_KEYS: &[&str] = &[
    "url",
    "timeout",
    "bearer_token",
    "tenant",
    "username",
    "password",
];

pub(super) const JOURNALD_KEYS: &[&str] = &["journalctl", "units", "directory", "timeout"];

pub(super) const REDIS_KEYS: &[&str] = &["url", "timeout"];

/// Keys of the SQL sources (postgres, mysql, sqlite): their time and result limits and their
/// statement guard's policy.
pub(super) const SQL_SOURCE_KEYS: &[&str] = &[
    "url",
    "statement_timeout",
    "lock_timeout",
    "max_rows",
    "max_bytes",
    "allow_show",
    "allow_explain",
    "deny_functions",
    "allow_functions",
    "allow_privileged_role",
];

/// Every kind of source and the keys it takes.
pub(super) const SOURCES: Section = Section {
    naming: "{} sources",
    they_take: "they take",
    common: SOURCE_COMMON_KEYS,
    kinds: &[
        Kind {
            name: "prometheus",
            takes: &[PROMETHEUS_KEYS],
        },
        Kind {
            name: "postgres",
            takes: &[SQL_SOURCE_KEYS],
        },
        Kind {
            name: "mysql",
            takes: &[SQL_SOURCE_KEYS],
        },
        Kind {
            name: "sqlite",
            takes: &[SQL_SOURCE_KEYS],
        },
        Kind {
            name: "redis",
            takes: &[REDIS_KEYS],
        },
        Kind {
            name: "loki",
            takes: &[LOKI_KEYS],
        },
        Kind {
            name: "journald",
            takes: &[JOURNALD_KEYS],
        },
    ],
};

impl Validator<'_> {
    pub(super) fn source(
        &mut self,
        name: &Spanned<String>,
        raw: &RawSource,
        written: &WrittenKeys,
        engine: &EngineConfig,
    ) -> Option<SourceSpec> {
        let name_ok = self.name_ok(name, "source");
        self.refuse_inapplicable(written, &SOURCES, raw.kind.get_ref().name());
        let kind = match raw.kind.get_ref() {
            SourceKind::Prometheus => {
                let Some(url) = &raw.url else {
                    self.error(
                        raw.kind.span(),
                        format!(
                            "source `{}` needs url = \"http://host:9090\"",
                            name.get_ref()
                        ),
                    );
                    return None;
                };
                let url = self.url(url);
                let bearer_token = self.secret(&raw.bearer_token, "bearer_token");
                SourceSpecKind::Prometheus {
                    url: url?,
                    timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(10)),
                    bearer_token,
                }
            }
            SourceKind::Loki => {
                let Some(url) = &raw.url else {
                    self.error(
                        raw.kind.span(),
                        format!(
                            "source `{}` needs url = \"http://127.0.0.1:3100\"",
                            name.get_ref()
                        ),
                    );
                    return None;
                };
                let url = self.url(url);
                let password = self.secret(&raw.password, "password");
                let basic_auth = match (&raw.username, password) {
                    (Some(user), Some(password)) => Some((user.get_ref().clone(), password)),
                    (Some(user), None) => {
                        self.error(
                            user.span(),
                            "`username` needs password = \"${LOKI_PASSWORD}\"",
                        );
                        None
                    }
                    (None, Some(_)) => {
                        if let Some(p) = &raw.password {
                            self.error(p.span(), "`password` needs a `username`");
                        }
                        None
                    }
                    (None, None) => None,
                };
                SourceSpecKind::Loki {
                    url: url?,
                    timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(10)),
                    tenant: raw.tenant.as_ref().map(|t| t.get_ref().clone()),
                    basic_auth,
                    bearer_token: self.secret(&raw.bearer_token, "bearer_token"),
                }
            }
            SourceKind::Journald => {
                let directory = match &raw.directory {
                    Some(directory) => Some(self.expanded(directory)?),
                    None => None,
                };
                SourceSpecKind::Journald {
                    directory,
                    journalctl: raw
                        .journalctl
                        .as_ref()
                        .map_or_else(|| "journalctl".to_string(), |j| j.get_ref().clone()),
                    units: raw
                        .units
                        .as_ref()
                        .map(|u| u.get_ref().clone())
                        .unwrap_or_default(),
                    timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(30)),
                }
            }
            SourceKind::Redis => {
                let Some(url) = &raw.url else {
                    self.error(
                        raw.kind.span(),
                        format!(
                            "source `{}` needs url = \"redis://127.0.0.1:6379/0\" (a password goes in as redis://:${{REDIS_PASSWORD}}@host)",
                            name.get_ref()
                        ),
                    );
                    return None;
                };
                let url = self.expanded(url)?;
                SourceSpecKind::Redis {
                    timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(5)),
                    url,
                }
            }
            SourceKind::Postgres | SourceKind::Mysql | SourceKind::Sqlite => {
                self.sql_source(name, raw)?
            }
        };
        name_ok.then(|| SourceSpec {
            name: name.get_ref().clone(),
            blind_for: dur(&raw.blind_for).unwrap_or(engine.blind_for),
            kind,
        })
    }

    pub(super) fn sql_source(
        &mut self,
        name: &Spanned<String>,
        raw: &RawSource,
    ) -> Option<SourceSpecKind> {
        use crate::source::sql::caps::ResultCaps;
        use crate::source::sql::guard::{GuardPolicy, SqlDialectKind};
        let (dialect, example) = match raw.kind.get_ref() {
            SourceKind::Mysql => (
                SqlDialectKind::MySql,
                "\"mysql://sentinel_ro:${APP_DB_PASSWORD}@127.0.0.1/app\"",
            ),
            SourceKind::Sqlite => (SqlDialectKind::Sqlite, "\"sqlite:///var/lib/app/app.db\""),
            _ => (
                SqlDialectKind::Postgres,
                "\"postgres://sentinel_ro:${APP_DB_PASSWORD}@127.0.0.1/app\"",
            ),
        };
        let Some(url) = &raw.url else {
            self.error(
                raw.kind.span(),
                format!("source `{}` needs url = {example}", name.get_ref()),
            );
            return None;
        };
        let url = self.expanded(url)?;
        let mut policy = GuardPolicy::new(dialect);
        policy.allow_show = raw.allow_show.as_ref().is_none_or(|v| *v.get_ref());
        policy.allow_explain = raw.allow_explain.as_ref().is_none_or(|v| *v.get_ref());
        policy.extra_denied_functions = raw
            .deny_functions
            .as_ref()
            .map(|v| v.get_ref().clone())
            .unwrap_or_default();
        policy.allowed_functions = raw
            .allow_functions
            .as_ref()
            .map(|v| v.get_ref().clone())
            .unwrap_or_default();
        let defaults = ResultCaps::default();
        Some(SourceSpecKind::Sql(
            crate::source::sql::database::SqlSettings {
                url,
                statement_timeout: dur(&raw.statement_timeout).unwrap_or(Duration::from_secs(5)),
                lock_timeout: dur(&raw.lock_timeout).unwrap_or(Duration::from_secs(1)),
                caps: ResultCaps {
                    max_rows: raw
                        .max_rows
                        .as_ref()
                        .map_or(defaults.max_rows, |v| *v.get_ref() as usize),
                    max_bytes: raw.max_bytes.as_ref().map_or(defaults.max_bytes, |v| {
                        usize::try_from(v.get_ref().0).unwrap_or(usize::MAX)
                    }),
                },
                policy,
                allow_privileged_role: raw
                    .allow_privileged_role
                    .as_ref()
                    .is_some_and(|v| *v.get_ref()),
            },
        ))
    }
}

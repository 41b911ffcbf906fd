//! Validation of `[sources.NAME]`: Prometheus-compatible endpoints, SQL databases, Redis,
//! Loki and the systemd journal.

use super::{Validator, dur};
use crate::config::raw::{RawSource, SourceKind};
use crate::config::*;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn source(
        &mut self,
        name: &Spanned<String>,
        raw: &RawSource,
        engine: &EngineConfig,
    ) -> Option<SourceSpec> {
        let name_ok = self.name_ok(name, "source");
        self.keys_of_other_kinds(raw);
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
                if let Some(url) = &raw.url {
                    self.error(url.span(), "a journald source reads this machine's journal: it takes no `url` (journalctl and units only)");
                }
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
                if let Some(token) = &raw.bearer_token {
                    self.error(
                        token.span(),
                        "`bearer_token` does not apply to Redis sources",
                    );
                }
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
        for (key, span) in [
            ("timeout", raw.timeout.as_ref().map(|v| v.span())),
            ("bearer_token", raw.bearer_token.as_ref().map(|v| v.span())),
        ] {
            if let Some(span) = span {
                self.error(
                    span,
                    format!("`{key}` does not apply to SQL sources (use statement_timeout)"),
                );
            }
        }
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

    /// Keys that belong to one kind of source only are refused on the others.
    fn keys_of_other_kinds(&mut self, raw: &RawSource) {
        let kind = *raw.kind.get_ref();
        fn span<T>(value: &Option<Spanned<T>>) -> Option<std::ops::Range<usize>> {
            value.as_ref().map(Spanned::span)
        }
        let only = [
            ("tenant", span(&raw.tenant), SourceKind::Loki),
            ("username", span(&raw.username), SourceKind::Loki),
            ("password", span(&raw.password), SourceKind::Loki),
            ("journalctl", span(&raw.journalctl), SourceKind::Journald),
            ("units", span(&raw.units), SourceKind::Journald),
            ("directory", span(&raw.directory), SourceKind::Journald),
        ];
        let sql_only = [
            ("statement_timeout", span(&raw.statement_timeout)),
            ("lock_timeout", span(&raw.lock_timeout)),
            ("max_rows", span(&raw.max_rows)),
            ("max_bytes", span(&raw.max_bytes)),
            ("allow_show", span(&raw.allow_show)),
            ("allow_explain", span(&raw.allow_explain)),
            ("deny_functions", span(&raw.deny_functions)),
            ("allow_privileged_role", span(&raw.allow_privileged_role)),
        ];
        let is_sql = matches!(
            kind,
            SourceKind::Postgres | SourceKind::Mysql | SourceKind::Sqlite
        );
        for (key, span) in sql_only {
            if let Some(span) = span
                && !is_sql
            {
                self.error(
                    span,
                    format!("`{key}` applies to postgres, mysql and sqlite sources only"),
                );
            }
        }
        for (key, span, owner) in only {
            if let Some(span) = span
                && kind != owner
            {
                self.error(
                    span,
                    format!(
                        "`{key}` applies to {} sources only",
                        format!("{owner:?}").to_lowercase()
                    ),
                );
            }
        }
    }
}

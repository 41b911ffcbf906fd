//! Validation of `[sources.NAME]`: Prometheus-compatible endpoints and SQL databases.

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
            },
        ))
    }
}

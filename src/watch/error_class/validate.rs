//! Validation of an `error_class` watch (bad input answered with 5xx) and the keys it takes.

use crate::config::raw::{RawWatch, SourceKind};
use crate::config::validate::{Validator, dur};
use crate::config::*;
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) const ERROR_CLASS_KEYS: &[&str] = &[
    "path",
    "source",
    "query",
    "history",
    "access_format",
    "app_log",
    "app_query",
    "min_count",
    "window",
];

impl Validator<'_> {
    /// A glob of log files, `${VAR}` expanded.
    fn log_glob(&mut self, value: &toml::Spanned<String>) -> Option<String> {
        let pattern = self.expanded(value)?;
        if let Err(error) = glob::Pattern::new(&pattern) {
            self.error(value.span(), format!("invalid glob pattern: {error}"));
        }
        Some(pattern)
    }

    pub(crate) fn error_class(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        use crate::config::raw::AccessFormatName;
        use crate::logs::access::AccessFormat;
        let access_log = self.log_feed(
            raw,
            sources,
            "error_class",
            "/var/log/nginx/access.log",
            missing,
        )?;
        let app_log = match (&raw.app_log, &raw.app_query, &access_log) {
            (Some(app_log), None, _) => Some(LogFeed::Files {
                pattern: self.log_glob(app_log)?,
            }),
            (
                None,
                Some(app_query),
                LogFeed::Loki {
                    source, history, ..
                },
            ) => {
                let query = app_query.get_ref().trim().to_string();
                if !query.starts_with('{') {
                    self.error(
                        app_query.span(),
                        "app_query is a LogQL log query: a stream selector such as {app=\"shop\"}",
                    );
                }
                Some(LogFeed::Loki {
                    source: source.clone(),
                    query,
                    history: *history,
                })
            }
            (None, Some(app_query), _) => {
                self.error(
                    app_query.span(),
                    "app_query reads the app's log from the same Loki `source` as the access log; with files, use app_log",
                );
                None
            }
            (Some(app_log), Some(_), _) => {
                self.error(
                    app_log.span(),
                    "the app's log comes from files (app_log) or from Loki (app_query), not both",
                );
                None
            }
            (None, None, _) => None,
        };
        if let Some(min_count) = &raw.min_count
            && *min_count.get_ref() == 0
        {
            self.error(min_count.span(), "min_count must be at least 1");
        }
        Some(WatchSpecKind::ErrorClass(ErrorClassSpec {
            access_log,
            access_format: match raw.access_format.as_ref().map(|f| *f.get_ref()) {
                Some(AccessFormatName::Combined) => AccessFormat::Combined,
                Some(AccessFormatName::Json) => AccessFormat::Json,
                Some(AccessFormatName::Auto) | None => AccessFormat::Auto,
            },
            app_log,
            min_count: raw.min_count.as_ref().map_or(3, |c| *c.get_ref()),
            window: dur(&raw.window).unwrap_or(Duration::from_secs(600)),
        }))
    }
}

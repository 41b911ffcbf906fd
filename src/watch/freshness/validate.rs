//! Validation of a `freshness` watch (the newest file of a glob, or PromQL timestamps) and the keys it takes.

use crate::config::raw::{RawWatch, SourceKind};
use crate::config::validate::{Validator, dur};
use crate::config::*;
use std::collections::BTreeMap;

pub(crate) const FRESHNESS_KEYS: &[&str] = &["source", "query", "path", "max_age"];

impl Validator<'_> {
    pub(crate) fn freshness(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let Some(max_age) = dur(&raw.max_age) else {
            missing(self, "max_age", "\"26h\"");
            return None;
        };
        let target = match (&raw.path, &raw.query) {
            (Some(path), None) => {
                if let Some(source) = &raw.source {
                    self.error(
                        source.span(),
                        "a freshness watch on files takes `path` only; `source` is for `query`",
                    );
                }
                let pattern = self.expanded(path)?;
                if let Err(error) = glob::Pattern::new(&pattern) {
                    self.error(path.span(), format!("invalid glob pattern: {error}"));
                }
                FreshnessTarget::Files { pattern }
            }
            (None, Some(query)) => FreshnessTarget::Query {
                source: self.prometheus_ref(raw, sources, kind_name, missing)?,
                query: query.get_ref().clone(),
            },
            (Some(path), Some(_)) => {
                self.error(path.span(), "give either `path` (newest matching file) or `query` (PromQL timestamps), not both");
                return None;
            }
            (None, None) => {
                missing(
                    self,
                    "path",
                    "\"/var/backups/*.sql.gz\" (or source + query)",
                );
                return None;
            }
        };
        Some(WatchSpecKind::Freshness(FreshnessSpec { target, max_age }))
    }
}

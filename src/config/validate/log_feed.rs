//! Validation of where a log watch reads its lines: files (`path`), a Loki source (`source` and
//! a LogQL `query`), or a journald source (`source` alone), with how much `history` a log
//! source is read back when the watch is first attached.

use super::{Validator, dur};
use crate::config::LogFeed;
use crate::config::raw::{RawWatch, SourceKind};
use std::collections::BTreeMap;
use std::time::Duration;

/// How far back a Loki or journald feed reads when first attached, unless `history` says.
pub(super) const DEFAULT_HISTORY: Duration = Duration::from_secs(3600);

impl Validator<'_> {
    pub(crate) fn log_feed(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        example_path: &str,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<LogFeed> {
        match (&raw.path, &raw.source) {
            (Some(path), None) => {
                if let Some(query) = &raw.query {
                    self.error(
                        query.span(),
                        "`query` is for a Loki `source`; a watch on files takes `path` only",
                    );
                }
                if let Some(history) = &raw.history {
                    self.error(
                        history.span(),
                        "`history` is for a Loki or journald `source`; files are read from their start when first attached",
                    );
                }
                let pattern = self.expanded(path)?;
                if let Err(error) = glob::Pattern::new(&pattern) {
                    self.error(path.span(), format!("invalid glob pattern: {error}"));
                }
                Some(LogFeed::Files { pattern })
            }
            (Some(path), Some(_)) => {
                self.error(
                    path.span(),
                    format!("a {kind_name} watch reads either files (`path`) or a log source (`source`), not both"),
                );
                None
            }
            (None, Some(_)) => {
                let history = dur(&raw.history).unwrap_or(DEFAULT_HISTORY);
                let (source, kind) = self.source_of(
                    raw,
                    sources,
                    kind_name,
                    &[SourceKind::Loki, SourceKind::Journald],
                    missing,
                )?;
                match (kind, &raw.query) {
                    (SourceKind::Loki, Some(query)) => {
                        let text = query.get_ref().trim().to_string();
                        if !text.starts_with('{') {
                            self.error(
                                query.span(),
                                "a Loki feed needs a log query: a stream selector such as {app=\"shop\"}, optionally with filters",
                            );
                        }
                        Some(LogFeed::Loki {
                            source,
                            query: text,
                            history,
                        })
                    }
                    (SourceKind::Loki, None) => {
                        missing(self, "query", "'{app=\"shop\"}'");
                        None
                    }
                    (_, Some(query)) => {
                        self.error(
                            query.span(),
                            "a journald source takes no `query`; choose units on the source (units = [\"shop.service\"])",
                        );
                        None
                    }
                    (_, None) => Some(LogFeed::Journald { source, history }),
                }
            }
            (None, None) => {
                missing(
                    self,
                    "path",
                    &format!("\"{example_path}\" (or source = \"<a loki or journald source>\")"),
                );
                None
            }
        }
    }
}

//! Which source a watch reads: it must be defined, and of a kind the watch can read.

use super::Validator;
use crate::config::raw::{RawWatch, SourceKind};
use std::collections::BTreeMap;

/// Whether a source kind is a SQL database.
pub(crate) fn is_sql(kind: SourceKind) -> bool {
    matches!(
        kind,
        SourceKind::Postgres | SourceKind::Mysql | SourceKind::Sqlite
    )
}

impl Validator<'_> {
    /// The watch's `source`, which must exist and be of one of `accepted` kinds.
    pub(crate) fn source_of(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        accepted: &[SourceKind],
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<(String, SourceKind)> {
        let wanted = accepted
            .iter()
            .map(|k| format!("{k:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ");
        let Some(source) = &raw.source else {
            missing(
                self,
                "source",
                &format!("\"<name of a [sources.NAME] of kind {wanted}>\""),
            );
            return None;
        };
        match sources.get(source.get_ref()) {
            Some(kind) if accepted.contains(kind) => Some((source.get_ref().clone(), *kind)),
            Some(kind) => {
                self.error(
                    source.span(),
                    format!(
                        "source `{}` is of kind {}; a {kind_name} watch reads a source of kind {wanted}",
                        source.get_ref(),
                        format!("{kind:?}").to_lowercase()
                    ),
                );
                None
            }
            None => {
                let known: Vec<&str> = sources.keys().map(String::as_str).collect();
                let hint = if known.is_empty() {
                    "no sources are defined".to_string()
                } else {
                    format!("defined sources: {}", known.join(", "))
                };
                self.error(
                    source.span(),
                    format!("source `{}` is not defined ({hint})", source.get_ref()),
                );
                None
            }
        }
    }
}

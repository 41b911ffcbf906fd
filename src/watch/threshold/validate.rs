//! Validation of a `threshold` watch and the keys it takes.

use crate::config::raw::{RawWatch, SourceKind};
use crate::config::validate::Validator;
use crate::config::*;
use std::collections::BTreeMap;

pub(crate) const THRESHOLD_KEYS: &[&str] = &["source", "query"];

impl Validator<'_> {
    pub(crate) fn threshold(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let source = self.source_of(
            raw,
            sources,
            kind_name,
            &[SourceKind::Prometheus, SourceKind::Loki],
            missing,
        );
        let Some(query) = &raw.query else {
            missing(
                self,
                "query",
                "\"<PromQL, or a LogQL metric query, returning the broken series>\"",
            );
            return None;
        };
        let (source, _) = source?;
        Some(WatchSpecKind::Threshold(ThresholdSpec {
            source,
            query: query.get_ref().clone(),
        }))
    }
}

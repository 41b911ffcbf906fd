//! Validation of a `slow_query` watch and the keys it takes.

use crate::config::raw::{RawWatch, SourceKind};
use crate::config::validate::{Validator, dur};
use crate::config::*;
use std::collections::BTreeMap;

pub(crate) const SLOW_QUERY_KEYS: &[&str] = &["source", "ratio", "min_increase", "min_calls"];

/// A table or column name that can be put into generated SQL as it is.
impl Validator<'_> {
    pub(crate) fn slow_query(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let (source, _) =
            self.source_of(raw, sources, "slow_query", &[SourceKind::Postgres], missing)?;
        let mut judge = crate::watch::slow_query::core::SlowQueryConfig::default();
        if let Some(ratio) = &raw.ratio {
            if !(ratio.get_ref().is_finite() && *ratio.get_ref() > 1.0) {
                self.error(
                    ratio.span(),
                    "ratio must be above 1 (3.0: three times the usual time per call)",
                );
            }
            judge.ratio = *ratio.get_ref();
        }
        if let Some(increase) = dur(&raw.min_increase) {
            judge.min_increase_ms = increase.as_secs_f64() * 1000.0;
        }
        if let Some(calls) = &raw.min_calls {
            if *calls.get_ref() == 0 {
                self.error(calls.span(), "min_calls must be at least 1");
            }
            judge.min_calls = i64::from(*calls.get_ref());
        }
        Some(WatchSpecKind::SlowQuery(SlowQuerySpec { source, judge }))
    }
}

//! Validation of a `new_error` watch and the keys it takes.

use crate::config::raw::{RawWatch, SourceKind};
use crate::config::validate::{Validator, dur};
use crate::config::*;
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) const NEW_ERROR_KEYS: &[&str] = &[
    "path",
    "source",
    "query",
    "format",
    "min_count",
    "window",
    "learn_for",
    "history",
    "patterns",
];

impl Validator<'_> {
    pub(crate) fn new_error(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let feed = self.log_feed(raw, sources, kind_name, "/var/log/app/*.log", missing)?;
        if let Some(min_count) = &raw.min_count
            && *min_count.get_ref() == 0
        {
            self.error(min_count.span(), "min_count must be at least 1");
        }
        Some(WatchSpecKind::NewError(NewErrorSpec {
            feed,
            format: raw
                .format
                .as_ref()
                .map_or(LogFormat::Plain, |f| *f.get_ref()),
            min_count: raw.min_count.as_ref().map_or(3, |c| *c.get_ref()),
            window: dur(&raw.window).unwrap_or(Duration::from_secs(600)),
            learns_history: dur(&raw.learn_for).is_none_or(|learn_for| !learn_for.is_zero()),
            patterns: raw
                .patterns
                .as_ref()
                .map(|p| p.get_ref().clone())
                .unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Whether a `new_error` watch with `settings` learns what its log held when attached.
    fn learns_history(settings: &str) -> bool {
        let text = format!(
            "[watches.app-errors]\nkind = \"new_error\"\ndescription = \"app log\"\npath = \"/var/log/app/*.log\"\n{settings}"
        );
        let config = Config::parse(Path::new("s.toml"), &text, &|_| None).unwrap();
        match &config.watches[0].kind {
            WatchSpecKind::NewError(spec) => spec.learns_history,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn learn_for_of_zero_judges_the_history_and_any_other_still_loads_and_learns_it() {
        assert!(learns_history(""));
        assert!(learns_history("learn_for = \"1h\""));
        assert!(!learns_history("learn_for = \"0s\""));
    }
}

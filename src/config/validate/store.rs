//! The `[store]` section: where the store lives, and how much heartbeat history it keeps.

use super::Validator;
use crate::config::raw::{RawConfig, RawStore};
use crate::config::{Retention, StoreConfig, default_store_path, env};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn store(&mut self, raw: &RawConfig) -> StoreConfig {
        let path = match &raw.store.path {
            Some(path) => match env::expand(path.get_ref(), self.lookup) {
                Ok(expanded) => {
                    let candidate = PathBuf::from(expanded);
                    if candidate.is_relative() {
                        self.path.parent().unwrap_or(Path::new(".")).join(candidate)
                    } else {
                        candidate
                    }
                }
                Err(message) => {
                    self.error(path.span(), message);
                    default_store_path()
                }
            },
            None => default_store_path(),
        };
        StoreConfig {
            path,
            retention: self.retention(&raw.store),
        }
    }

    fn retention(&mut self, store: &RawStore) -> Retention {
        let mut retention = Retention::default();
        if let Some(age) = &store.ping_retention {
            if age.get_ref().0 < Duration::from_secs(3600) {
                self.error(
                    age.span(),
                    "ping_retention must be at least 1h (days are usual: pings and runs older than this are deleted)",
                );
            }
            retention.max_age = age.get_ref().0;
        }
        let mut count = |value: &Option<Spanned<i64>>, key: &str, default: u32| match value {
            None => default,
            Some(n) => match u32::try_from(*n.get_ref()) {
                Ok(n) if n >= 1 => n,
                _ => {
                    self.error(
                        n.span(),
                        format!("{key} must be a whole number from 1 to {}", u32::MAX),
                    );
                    default
                }
            },
        };
        retention.pings_per_check = count(
            &store.pings_per_check,
            "pings_per_check",
            retention.pings_per_check,
        );
        retention.runs_per_check = count(
            &store.runs_per_check,
            "runs_per_check",
            retention.runs_per_check,
        );
        retention
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Retention};
    use std::path::Path;

    fn parse(store: &str) -> Result<Config, String> {
        Config::parse(Path::new("s.toml"), &format!("[store]\n{store}"), &|_| None)
            .map_err(|errors| errors.to_string())
    }

    #[test]
    fn retention_defaults_and_keys() {
        let default = parse("").unwrap();
        assert_eq!(default.store.retention, Retention::default());
        let set = parse("ping_retention = \"30d\"\npings_per_check = 200\nruns_per_check = 50\n")
            .unwrap();
        assert_eq!(
            set.store.retention,
            Retention {
                max_age: std::time::Duration::from_secs(30 * 24 * 3600),
                pings_per_check: 200,
                runs_per_check: 50,
            }
        );
    }

    #[test]
    fn bad_retention_values_point_at_their_place() {
        let error = parse("pings_per_check = 0\n").unwrap_err();
        assert!(
            error.contains("s.toml:2:19: pings_per_check must be a whole number from 1"),
            "{error}"
        );
        let error =
            parse("path = \"x.db\"\nruns_per_check = -3\nping_retention = \"10m\"\n").unwrap_err();
        assert!(
            error.contains("s.toml:3:18: runs_per_check must be"),
            "{error}"
        );
        assert!(
            error.contains("s.toml:4:18: ping_retention must be at least 1h"),
            "{error}"
        );
        let error = parse("ping_retention = 90\n").unwrap_err();
        assert!(error.contains("s.toml:2:18:"), "{error}");
    }
}

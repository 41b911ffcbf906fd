//! `--set watch.NAME.KEY=VALUE`: a watch's setting changed for one backtest only, applied to
//! the configuration file's text and validated exactly as the file is, so a mistake is named
//! as it would be in the file.

use std::path::Path;

use crate::config::{Config, env};

/// One override as written on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub watch: String,
    pub key: String,
    pub value: toml::Value,
    /// As written, for messages.
    pub written: String,
}

impl Override {
    /// `watch.api.for=10m`; the value is TOML (`5`, `true`, `["a"]`) or else a string.
    pub fn parse(text: &str) -> Result<Override, String> {
        let (path, value) = text.split_once('=').ok_or_else(|| {
            format!("--set {text}: write watch.NAME.KEY=VALUE, as --set watch.api.for=10m")
        })?;
        let parts: Vec<&str> = path.trim().split('.').collect();
        if !matches!(parts.first(), Some(&"watch") | Some(&"watches")) {
            return Err(format!(
                "--set {text}: only a watch's settings can be changed (watch.NAME.KEY=VALUE)"
            ));
        }
        let [_, watch, key] = parts.as_slice() else {
            return Err(format!(
                "--set {text}: write watch.NAME.KEY=VALUE, as --set watch.api.for=10m"
            ));
        };
        let value = value.trim();
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut table| table.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        Ok(Override {
            watch: watch.to_string(),
            key: key.to_string(),
            value: parsed,
            written: text.to_string(),
        })
    }
}

/// The configuration at `path` with `overrides` applied, validated as the file would be.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Config, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if overrides.is_empty() {
        return Config::parse(path, &text, &env::process_env).map_err(|e| e.to_string());
    }
    let mut table: toml::Table = toml::from_str(&text).map_err(|_| {
        Config::parse(path, &text, &env::process_env)
            .err()
            .map_or_else(String::new, |e| e.to_string())
    })?;
    let watches = table
        .get_mut("watches")
        .and_then(toml::Value::as_table_mut)
        .ok_or_else(|| "the configuration defines no watches to change".to_string())?;
    for change in overrides {
        let known: Vec<String> = watches.keys().cloned().collect();
        let Some(watch) = watches
            .get_mut(&change.watch)
            .and_then(toml::Value::as_table_mut)
        else {
            return Err(format!(
                "--set {}: no watch named `{}` (watches: {})",
                change.written,
                change.watch,
                known.join(", ")
            ));
        };
        watch.insert(change.key.clone(), change.value.clone());
    }
    let changed = toml::to_string(&table).map_err(|e| e.to_string())?;
    let written: Vec<&str> = overrides.iter().map(|o| o.written.as_str()).collect();
    Config::parse(path, &changed, &env::process_env).map_err(|errors| {
        format!(
            "with --set {}, the configuration is not valid:\n{errors}",
            written.join(" --set ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_names_a_watch_a_key_and_a_value() {
        let change = Override::parse("watch.api.for=10m").unwrap();
        assert_eq!((change.watch.as_str(), change.key.as_str()), ("api", "for"));
        assert_eq!(change.value, toml::Value::String("10m".into()));
        assert_eq!(
            Override::parse("watch.api.min_count=5").unwrap().value,
            toml::Value::Integer(5)
        );
        assert!(
            Override::parse("watch.api")
                .unwrap_err()
                .contains("watch.NAME.KEY=VALUE")
        );
        assert!(
            Override::parse("engine.interval=1m")
                .unwrap_err()
                .contains("only a watch")
        );
    }

    #[test]
    fn overrides_are_validated_like_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sentinel.toml");
        std::fs::write(
            &path,
            "[sources.prom]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n[watches.disk]\nkind = \"threshold\"\nsource = \"prom\"\nquery = \"up == 0\"\n",
        )
        .unwrap();
        let config = load(&path, &[Override::parse("watch.disk.for=10m").unwrap()]).unwrap();
        assert_eq!(config.watches[0].for_, std::time::Duration::from_secs(600));
        let unknown = load(&path, &[Override::parse("watch.nope.for=10m").unwrap()]).unwrap_err();
        assert!(
            unknown.contains("no watch named `nope` (watches: disk)"),
            "{unknown}"
        );
        let bad_key = load(&path, &[Override::parse("watch.disk.fro=10m").unwrap()]).unwrap_err();
        assert!(
            bad_key.contains("with --set watch.disk.fro=10m") && bad_key.contains("fro"),
            "{bad_key}"
        );
        let bad_value =
            load(&path, &[Override::parse("watch.disk.for=soon").unwrap()]).unwrap_err();
        assert!(bad_value.contains("soon"), "{bad_value}");
    }
}

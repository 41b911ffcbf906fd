//! `sentinel init`: write a commented example configuration for a typical stack, with fresh
//! unguessable ping tokens, and on request an `[evidence]` block for a common app schema.
//! Never overwrites an existing file unless told to.

use crate::evidence::presets::{self, Preset};
use std::path::Path;

/// The SQL source an evidence block reads when the example names none.
const EVIDENCE_SOURCE: &str = "app";

/// A fresh 128-bit token, hex-encoded.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| format!("no randomness available for ping tokens: {e}"))?;
    Ok(hex::encode(bytes))
}

/// The example configuration with fresh tokens filled in.
pub fn example() -> Result<String, String> {
    Ok(crate::config::EXAMPLE
        .replace("__BACKUP_TOKEN__", &new_token()?)
        .replace("__WORKER_TOKEN__", &new_token()?))
}

/// The first `[sources.NAME]` of a SQL kind in the configuration `text`, if any.
fn sql_source(text: &str) -> Option<String> {
    let value: toml::Value = toml::from_str(text).ok()?;
    value
        .get("sources")?
        .as_table()?
        .iter()
        .find(|(_, source)| {
            matches!(
                source.get("kind").and_then(|kind| kind.as_str()),
                Some("postgres" | "mysql" | "sqlite")
            )
        })
        .map(|(name, _)| name.clone())
}

/// The example configuration followed by `preset`'s evidence block, and the SQL source it reads
/// when the example has none to offer.
pub fn example_with_evidence(preset: Preset) -> Result<String, String> {
    let mut text = example()?;
    let source = match sql_source(&text) {
        Some(name) => name,
        None => {
            text.push_str(&format!(
                "\n# --- Evidence for disputes --------------------------------------------------------------\n\n\
                 # The app's database the evidence block below reads, with a role that can only read.\n\
                 [sources.{EVIDENCE_SOURCE}]\n\
                 kind = \"postgres\"\n\
                 url = \"${{APP_DATABASE_URL}}\"   # postgres://sentinel_ro:PASSWORD@127.0.0.1:5432/app\n"
            ));
            EVIDENCE_SOURCE.to_string()
        }
    };
    text.push('\n');
    text.push_str(&preset.text(&source));
    Ok(text)
}

/// `sentinel init [--evidence PRESET]`; `--evidence list` prints the presets and writes nothing.
pub fn run(path: &Path, force: bool, evidence: Option<&str>) -> i32 {
    let preset = match evidence {
        None => None,
        Some("list") => {
            print!("{}", presets::listing());
            return 0;
        }
        Some(name) => match Preset::from_name(name) {
            Ok(preset) => Some(preset),
            Err(message) => {
                eprintln!("{message}");
                return 2;
            }
        },
    };
    if path.exists() && !force {
        eprintln!(
            "{} already exists; not overwriting it (use --force to replace it)",
            path.display()
        );
        return 1;
    }
    let written = match preset {
        Some(preset) => example_with_evidence(preset),
        None => example(),
    };
    let text = match written {
        Ok(text) => text,
        Err(message) => {
            eprintln!("{message}");
            return 1;
        }
    };
    match std::fs::write(path, text) {
        Ok(()) => {
            println!(
                "wrote {}; edit it, then: sentinel config check {}",
                path.display(),
                path.display()
            );
            0
        }
        Err(error) => {
            eprintln!("cannot write {}: {error}", path.display());
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_a_valid_configuration_with_distinct_tokens() {
        let text = example().unwrap();
        assert!(!text.contains("__BACKUP_TOKEN__"));
        let config =
            crate::config::Config::parse(Path::new("sentinel.toml"), &text, &|_| None).unwrap();
        assert!(config.watches.len() >= 4);
        let tokens: Vec<&str> = config
            .watches
            .iter()
            .filter_map(|w| match &w.kind {
                crate::config::WatchSpecKind::Heartbeat(h) => Some(h.token.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(tokens.len(), 2);
        assert_ne!(tokens[0], tokens[1]);
        assert_ne!(new_token().unwrap(), new_token().unwrap());
    }

    #[test]
    fn every_evidence_block_loads_with_the_postgres_source_it_reads() {
        assert_eq!(sql_source(crate::config::EXAMPLE), None);
        for preset in Preset::ALL {
            let text = example_with_evidence(preset).unwrap();
            let value: toml::Value = toml::from_str(&text).unwrap();
            let source = value["evidence"]["source"].as_str().unwrap();
            assert_eq!(source, EVIDENCE_SOURCE);
            assert_eq!(sql_source(&text).as_deref(), Some(EVIDENCE_SOURCE));
            assert_eq!(
                value["sources"][source]["url"].as_str(),
                Some("${APP_DATABASE_URL}")
            );
            let lookup = |name: &str| {
                (name == "APP_DATABASE_URL").then(|| "postgres://reader@127.0.0.1/app".to_string())
            };
            let config = crate::config::Config::parse(Path::new("sentinel.toml"), &text, &lookup)
                .unwrap_or_else(|e| panic!("{}: {e}", preset.name()));
            let evidence = config.evidence.unwrap();
            assert_eq!(evidence.source, EVIDENCE_SOURCE);
            let written = value["evidence"]["sections"].as_array().unwrap();
            assert_eq!(evidence.sections.len(), written.len(), "{}", preset.name());
        }
    }

    #[test]
    fn an_example_with_a_sql_source_keeps_it_for_the_evidence_block() {
        let text = format!(
            "{}\n[sources.shop]\nkind = \"sqlite\"\nurl = \"sqlite:///srv/shop.db\"\n",
            example().unwrap()
        );
        assert_eq!(sql_source(&text).as_deref(), Some("shop"));
    }
}

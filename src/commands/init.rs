//! `sentinel init`: write a commented example configuration for a typical stack, with fresh
//! unguessable ping tokens. Never overwrites an existing file unless told to.

use std::path::Path;

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

pub fn run(path: &Path, force: bool) -> i32 {
    if path.exists() && !force {
        eprintln!(
            "{} already exists; not overwriting it (use --force to replace it)",
            path.display()
        );
        return 1;
    }
    let text = match example() {
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
}

//! `sentinel doctor`: for every configured source, can Sentinel reach it, and could its role
//! write anything? One line per source: `ok`, `WARNING` (the role can write: with the SQL that
//! creates a read-only one) or `FAIL` (unreachable). Then the files the watches read (see
//! [`files`]): logs that match nothing or cannot be opened, folders that cannot be listed.
//! Every SQL check runs through the guarded read-only path; a Prometheus or Loki source answers
//! `vector(1)`; a journald source reads its last hour (and says how many entries its units
//! wrote, so an empty unit filter shows). Last, a configured investigator model is asked for
//! one word (the offline investigator needs no check).
//!
//! Exit codes: 0 every source reachable and read-only and every file readable, 1 a source can
//! write or something could not be checked or read, 2 the configuration cannot be loaded.

mod files;

use super::{cannot_run, load_config};
use crate::config::{Config, Provider};
use crate::engine::build;
use std::path::Path;

pub use crate::source::registry::Finding;

pub async fn run(config_path: &Path) -> i32 {
    let config = match load_config(config_path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let mut findings = match check_all(&config).await {
        Ok(findings) => findings,
        Err(error) => return cannot_run(error),
    };
    findings.extend(files::check(&config));
    if !matches!(config.investigator.provider, Provider::Offline { .. }) {
        findings.push((
            "investigator".to_string(),
            "model",
            crate::investigate::provider::check(&config.investigator.provider).await,
        ));
    }
    if findings.is_empty() {
        println!(
            "nothing to check: no sources, no files and no model in {}",
            config_path.display()
        );
        return 0;
    }
    let mut code = 0;
    for (name, kind, finding) in findings {
        println!("{}", finding.line(&name, kind));
        if !matches!(finding, Finding::Ok(_)) {
            code = 1;
        }
    }
    code
}

/// Checks every source of `config`, in configuration order, through the same connections the
/// engine builds.
pub async fn check_all(config: &Config) -> Result<Vec<(String, &'static str, Finding)>, String> {
    let sources = build::sources(config)?;
    let mut out = Vec::new();
    for spec in &config.sources {
        let source = sources.get(&spec.name).map_err(|error| error.to_string())?;
        out.push((spec.name.clone(), source.kind(), source.check().await));
    }
    Ok(out)
}

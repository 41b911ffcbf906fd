//! `sentinel doctor` on the files the watches read: every log a `new_error` or `error_class`
//! watch tails must match at least one file Sentinel's user can open for reading, and every
//! folder a `freshness` watch looks in must be listable. A file is only ever opened to read.

use super::Finding;
use crate::config::Config;
use crate::source::files;
use crate::watch::kind::WatchedFiles;
use std::collections::BTreeSet;

/// One line per distinct glob: `(watch, "files", finding)`, in configuration order.
pub(super) fn check(config: &Config) -> Vec<(String, &'static str, Finding)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for watch in &config.watches {
        for files in watch.kind.watch().files() {
            if seen.insert(files.pattern().to_string()) {
                let finding = match files {
                    WatchedFiles::Read(pattern) => check_log(pattern),
                    WatchedFiles::Folder(pattern) => check_folder(pattern),
                };
                out.push((watch.name.clone(), "files", finding));
            }
        }
    }
    out
}

fn check_log(pattern: &str) -> Finding {
    let paths: Vec<_> = match glob::glob(pattern) {
        Ok(paths) => paths.flatten().filter(|p| p.is_file()).collect(),
        Err(error) => return Finding::Fail(format!("{pattern}: not a valid glob: {error}")),
    };
    if paths.is_empty() {
        return match files::newest(pattern) {
            Err(error) => Finding::Fail(format!("{pattern}: {}", error.detail)),
            Ok(_) => Finding::Warning(format!(
                "{pattern}: no file matches yet; the watch is blind until one does"
            )),
        };
    }
    let unreadable: Vec<String> = paths
        .iter()
        .filter_map(|path| {
            std::fs::File::open(path)
                .err()
                .map(|error| format!("{}: {error}", path.display()))
        })
        .collect();
    if unreadable.is_empty() {
        Finding::Ok(format!(
            "{pattern}: {} file{} readable",
            paths.len(),
            if paths.len() == 1 { "" } else { "s" }
        ))
    } else {
        Finding::Fail(format!(
            "cannot read {}; give Sentinel's user read access (e.g. the adm group)",
            unreadable.join(", ")
        ))
    }
}

fn check_folder(pattern: &str) -> Finding {
    match files::newest(pattern) {
        Ok(Some(newest)) => Finding::Ok(format!(
            "{pattern}: {} file{}, newest {}",
            newest.matched,
            if newest.matched == 1 { "" } else { "s" },
            newest.path.display()
        )),
        Ok(None) => Finding::Ok(format!(
            "{pattern}: the folder is readable, nothing matches yet"
        )),
        Err(error) => Finding::Fail(format!("{pattern}: {}", error.detail)),
    }
}

//! `sentinel config check FILE`: validate a configuration and say what it contains.

use crate::config::Config;
use std::path::Path;

pub fn run(path: &Path) -> i32 {
    match Config::load(path) {
        Ok(config) => {
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            println!(
                "{}: ok ({}, {}, {}; store {})",
                path.display(),
                plural(config.watches.len(), "watch").replace("watchs", "watches"),
                plural(config.sources.len(), "source"),
                plural(config.channels.len(), "channel"),
                config.store.path.display()
            );
            0
        }
        Err(errors) => {
            eprintln!("{errors}");
            1
        }
    }
}

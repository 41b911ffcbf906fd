//! What each `sentinel` subcommand does. `main.rs` parses arguments; these do the work and
//! return the process exit code.

pub mod audit;
pub mod backtest;
pub mod check;
pub mod config_check;
pub mod disputes;
pub mod doctor;
pub mod evidence;
pub mod init;
pub mod investigate;
pub mod investigations;
pub mod logs;
pub mod query;
pub mod run;

use crate::config::Config;
use std::path::Path;

/// Exit code when Sentinel itself could not run (bad config, unusable store).
pub const EXIT_CANNOT_RUN: i32 = 2;

/// Prints why Sentinel cannot run and gives the exit code for it.
pub fn cannot_run(error: impl std::fmt::Display) -> i32 {
    eprintln!("{error}");
    EXIT_CANNOT_RUN
}

/// Opens a store that must already exist (a command that only reads it creates nothing), or
/// prints why not.
pub async fn open_existing_store(path: &Path) -> Result<crate::store::Store, i32> {
    if !path.exists() {
        eprintln!(
            "no store at {}: give --store, or --config with the [store] path sentinel runs with",
            path.display()
        );
        return Err(EXIT_CANNOT_RUN);
    }
    crate::store::Store::open(path).await.map_err(cannot_run)
}

/// Loads the configuration or prints why not.
pub fn load_config(path: &Path) -> Result<Config, i32> {
    Config::load(path).map_err(|errors| {
        eprintln!("{errors}");
        EXIT_CANNOT_RUN
    })
}

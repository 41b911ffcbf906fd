//! `sentinel check --once`: one pass of every watch, for cron. Exit 0 when nothing is firing,
//! 1 when something is, 2 when Sentinel itself could not run.

use super::{EXIT_CANNOT_RUN, load_config};
use crate::clock::{SharedClock, SystemClock};
use crate::engine::build;
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;

pub async fn run(path: &Path) -> i32 {
    let config = match load_config(path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let store = match Store::open_exclusive(&config.store.path).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("{error}");
            return EXIT_CANNOT_RUN;
        }
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let channels = match build::channels(&config, &store, &clock) {
        Ok(channels) => channels,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let engine = match build::engine(config, store.clone(), clock, channels) {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let report = engine.pass(true).await;
    store.close().await;
    match report {
        Ok(report) => {
            eprintln!(
                "checked {} watches: {} firing, {} could not see their source, {} notices delivered",
                report.evaluated, report.firing, report.blind, report.delivered
            );
            i32::from(report.firing > 0)
        }
        Err(error) => {
            eprintln!("{error}");
            EXIT_CANNOT_RUN
        }
    }
}

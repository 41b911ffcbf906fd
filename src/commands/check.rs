//! `sentinel check --once`: one pass of every watch, for cron. Exit 0 when nothing is firing,
//! 1 when something is, 2 when Sentinel itself could not run.

use super::{cannot_run, load_config};
use crate::clock::{SharedClock, SystemClock};
use crate::engine::build;
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;

pub async fn run(path: &Path) -> i32 {
    check(path).await.unwrap_or_else(|code| code)
}

async fn check(path: &Path) -> Result<i32, i32> {
    let config = load_config(path)?;
    build::judge_roles(&config, None)
        .await
        .map_err(cannot_run)?;
    let store = Store::open_exclusive(&config.store.path)
        .await
        .map_err(cannot_run)?;
    let clock: SharedClock = Arc::new(SystemClock);
    let channels = build::channels(&config, &store, &clock).map_err(cannot_run)?;
    let engine = build::engine(config, store.clone(), clock, channels).map_err(cannot_run)?;
    let report = engine.pass(true).await;
    store.close().await;
    let report = report.map_err(cannot_run)?;
    eprintln!(
        "checked {} watches: {} firing, {} could not see their source, {} notices delivered",
        report.evaluated, report.firing, report.blind, report.delivered
    );
    Ok(i32::from(report.firing > 0))
}

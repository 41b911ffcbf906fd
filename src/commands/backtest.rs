//! `sentinel backtest`: the pages the configured watches would have sent over a past period,
//! replayed on a throwaway store; nothing real changes and no channel is called.
//!
//! Exit codes: 0 replayed, 1 bad arguments (window, unknown watch), 2 cannot run.

use std::io::Write;
use std::path::Path;

use super::{EXIT_CANNOT_RUN, load_config};
use crate::backtest::overrides::{self, Override};
use crate::backtest::{self, BacktestError, Plan, Window};

/// What the command line asks for.
pub struct Arguments {
    pub from: String,
    pub to: String,
    pub watches: Vec<String>,
    /// `watch.NAME.KEY=VALUE`, as written.
    pub sets: Vec<String>,
    /// Log watches had been running since then (RFC 3339 or a span before now).
    pub learned_before: Option<String>,
    pub json: bool,
}

pub async fn run(config_path: &Path, arguments: Arguments) -> i32 {
    let Arguments {
        from,
        to,
        watches,
        sets,
        learned_before,
        json,
    } = arguments;
    let config = if sets.is_empty() {
        match load_config(config_path) {
            Ok(config) => config,
            Err(code) => return code,
        }
    } else {
        let overrides: Result<Vec<Override>, String> =
            sets.iter().map(|set| Override::parse(set)).collect();
        match overrides.and_then(|overrides| overrides::load(config_path, &overrides)) {
            Ok(config) => config,
            Err(message) => {
                eprintln!("{message}");
                return 1;
            }
        }
    };
    let (from, to) = (from.as_str(), to.as_str());
    let now = chrono::Utc::now();
    let window = match Window::parse(from, to, now) {
        Ok(window) => window,
        Err(message) => {
            eprintln!("{message}");
            return 1;
        }
    };
    let learned_before = match learned_before.map(|text| window.learned_before(&text, now)) {
        None => None,
        Some(Ok(at)) => Some(at),
        Some(Err(message)) => {
            eprintln!("{message}");
            return 1;
        }
    };
    let plan = Plan {
        window,
        watches,
        learned_before,
    };
    let last = std::cell::Cell::new(-1i64);
    let progress = |done: f64| {
        let tenth = (done * 10.0).floor() as i64;
        if tenth > last.get() {
            last.set(tenth);
            eprint!("\rreplaying: {:>3}%", tenth * 10);
            let _ = std::io::stderr().flush();
        }
    };
    let outcome = backtest::run(&config, &plan, &progress).await;
    eprintln!();
    match outcome {
        Ok(outcome) if json => match serde_json::to_string_pretty(&outcome) {
            Ok(text) => {
                println!("{text}");
                0
            }
            Err(error) => super::cannot_run(error),
        },
        Ok(outcome) => {
            println!("{}", backtest::report::text(&outcome));
            0
        }
        Err(error @ BacktestError::UnknownWatch(..)) => {
            eprintln!("{error}");
            1
        }
        Err(error) => {
            eprintln!("{error}");
            EXIT_CANNOT_RUN
        }
    }
}

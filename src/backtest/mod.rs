//! `sentinel backtest`: what would have paged over a past period. The configured watches that
//! can be judged as of a past moment are replayed at their own intervals through the real
//! engine and the real tracker (the same `for`, `keep_firing_for`, grouping and blindness),
//! on a throwaway store and with no channel but a list, so nothing real changes and nobody is
//! called. Log watches reading files read them again (with their rotated copies) by the lines'
//! own times. What cannot be replayed is listed with the reason.

pub mod compare;
mod coverage;
pub mod overrides;
pub mod report;
pub mod window;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::alert::notice::{Notice, NoticeKind};
use crate::clock::{ManualClock, SharedClock};
use crate::config::Config;
use crate::notify::Channel;
use crate::notify::dispatch::Channels;
use crate::source::logfile::replay::LogReplay;
use crate::store::Store;
use crate::watch::kind::Replay;
pub use report::{Outcome, PageLine, WatchSummary};
pub use window::Window;

/// What to replay.
#[derive(Debug, Clone)]
pub struct Plan {
    pub window: Window,
    /// Only these watches (all when empty).
    pub watches: Vec<String>,
    /// Log watches had been running since then: what their logs held before it is history,
    /// learned and never paged (the window's start when not given).
    pub learned_before: Option<DateTime<Utc>>,
}

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error("no watch named `{0}` (watches: {1})")]
    UnknownWatch(String, String),
    #[error("cannot set up the replay: {0}")]
    Setup(String),
}

/// Replays `plan` over `config`'s watches; `progress` hears how far it got (0.0 to 1.0).
pub async fn run(
    config: &Config,
    plan: &Plan,
    progress: &dyn Fn(f64),
) -> Result<Outcome, BacktestError> {
    let known: Vec<&str> = config.watches.iter().map(|w| w.name.as_str()).collect();
    for name in &plan.watches {
        if !known.contains(&name.as_str()) {
            return Err(BacktestError::UnknownWatch(name.clone(), known.join(", ")));
        }
    }
    let mut replayed = config.clone();
    let mut skipped = Vec::new();
    replayed.watches.retain(|spec| {
        if !plan.watches.is_empty() && !plan.watches.contains(&spec.name) {
            return false;
        }
        match spec.kind.watch().replay(&config.sources) {
            Replay::Supported => true,
            Replay::Skipped(reason) => {
                skipped.push((spec.name.clone(), reason));
                false
            }
        }
    });
    replayed.channels.clear();
    // Every page and every resolution goes to the one list, whatever channels the watch
    // names (counted, never sent).
    for spec in &mut replayed.watches {
        spec.channels = None;
        spec.notify_resolved = true;
    }
    let dir = tempfile::tempdir().map_err(|e| BacktestError::Setup(e.to_string()))?;
    replayed.store.path = dir.path().join("backtest.db");
    let store = Store::open(&replayed.store.path)
        .await
        .map_err(|e| BacktestError::Setup(e.to_string()))?;
    let reality = Reality::read(config, plan.window).await;
    reality.copy_silences(&store).await;
    let pages = Arc::new(Mutex::new(Vec::<Notice>::new()));
    let channels = Channels {
        list: vec![("backtest".into(), Channel::Memory(pages.clone()))],
    };
    let clock = ManualClock::new(plan.window.from);
    let shared: SharedClock = Arc::new(clock.clone());
    let step = replayed
        .watches
        .iter()
        .map(|w| w.interval)
        .min()
        .unwrap_or(Duration::from_secs(60))
        .max(Duration::from_secs(1));
    let mut evaluations: usize = 0;
    let mut blind: usize = 0;
    let mut history_gaps = Vec::new();
    let log_replay = Arc::new(LogReplay::new(
        plan.window.from,
        plan.window.to,
        plan.learned_before.unwrap_or(plan.window.from),
    ));
    if !replayed.watches.is_empty() {
        let mut sources = crate::engine::build::sources(&replayed).map_err(BacktestError::Setup)?;
        sources.replay_logs(log_replay.clone());
        history_gaps = coverage::gaps(&replayed, &sources, plan.window.from).await;
        let engine = crate::engine::build::engine_with_sources(
            replayed.clone(),
            sources,
            store.clone(),
            shared,
            channels,
        );
        let span = (plan.window.to - plan.window.from)
            .num_milliseconds()
            .max(1) as f64;
        let mut at: DateTime<Utc> = plan.window.from;
        while at <= plan.window.to {
            clock.set(at);
            let report = engine
                .pass(false)
                .await
                .map_err(|e| BacktestError::Setup(e.to_string()))?;
            blind += report.blind;
            evaluations += report.evaluated;
            progress((at - plan.window.from).num_milliseconds() as f64 / span);
            at += chrono::Duration::from_std(step).unwrap_or(chrono::Duration::minutes(1));
        }
    }
    store.close().await;
    let notices = pages.lock().map(|p| p.clone()).unwrap_or_default();
    let mut outcome = report::outcome(
        plan.window,
        &replayed,
        notices
            .into_iter()
            .filter(|n| n.kind != NoticeKind::Reminder)
            .collect(),
        skipped,
        evaluations,
        blind,
    );
    outcome.notes = log_replay.notes();
    outcome.notes.extend(history_gaps);
    outcome.comparison = reality.compare(&replayed, &outcome.pages);
    Ok(outcome)
}

/// What the real store holds for the window: the silences in force during it, each with when it
/// was made, and the pages really sent. Read once, before the replay; nothing when there is no
/// store or it cannot be read.
struct Reality {
    silences: Vec<(crate::store::silences::Silence, DateTime<Utc>)>,
    pages: Vec<Notice>,
}

impl Reality {
    async fn read(config: &Config, window: Window) -> Reality {
        let mut reality = Reality {
            silences: Vec::new(),
            pages: Vec::new(),
        };
        if !config.store.path.exists() {
            return reality;
        }
        let Ok(store) = Store::open(&config.store.path).await else {
            return reality;
        };
        reality.silences = store
            .silences_during(window.from, window.to)
            .await
            .unwrap_or_default();
        reality.pages = store
            .pages_between(window.from, window.to)
            .await
            .unwrap_or_default();
        store.close().await;
        reality
    }

    /// A snooze or a mute silences the replay as it silenced reality, from when it was made.
    async fn copy_silences(&self, replay: &Store) {
        for (silence, made) in &self.silences {
            let _ = replay
                .add_silence(
                    &silence.watch,
                    silence.subject.as_deref(),
                    silence.until,
                    &silence.reason,
                    &silence.created_by,
                    *made,
                )
                .await;
        }
    }

    /// The replay beside the pages really sent, when there were any.
    fn compare(&self, replayed: &Config, pages: &[PageLine]) -> Option<compare::Comparison> {
        (!self.pages.is_empty()).then(|| compare::compare(pages, &self.pages, replayed))
    }
}

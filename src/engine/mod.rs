//! The watch loop: runs each watch on its interval (bounded concurrency, per-watch timeout),
//! hands what it observed to the tracker, writes the resulting notices to the outbox in the
//! same transaction, and has the outbox delivered: at the end of a one-shot pass
//! (`check --once`, the demo), or by each channel's courier beside the daemon's loop (`run`).
//! One engine serves all three.

mod apply;
pub mod build;
mod daemon;

pub use daemon::run_until_shutdown;

use crate::clock::SharedClock;
use crate::config::{Config, WatchSpec};
use crate::notify::dispatch::Dispatcher;
use crate::source::{SourceError, SourceErrorKind};
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;
use crate::watch::observation::Evaluation;
use crate::watch::{self, Sources, WatchContext};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub evaluated: usize,
    /// Evaluations whose source could not be read (or that timed out).
    pub blind: usize,
    /// Alerts firing (and not silenced) after the pass.
    pub firing: usize,
    pub notices_written: usize,
    pub delivered: usize,
}

/// Shared state of the engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    sources: Sources,
    dispatcher: Dispatcher,
    metrics: Arc<Metrics>,
    clock: SharedClock,
    next_due: Mutex<HashMap<String, DateTime<Utc>>>,
    states: watch::WatchStates,
}

impl Engine {
    pub fn new(
        config: Config,
        store: Store,
        sources: Sources,
        dispatcher: Dispatcher,
        metrics: Arc<Metrics>,
        clock: SharedClock,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                sources,
                dispatcher,
                metrics,
                clock,
                next_due: Mutex::new(HashMap::new()),
                states: watch::WatchStates::default(),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configured sources, as the watches read them.
    pub fn sources(&self) -> &Sources {
        &self.inner.sources
    }

    /// The engine's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The watches due at `now`, marked as scheduled for their next interval.
    fn take_due(&self, now: DateTime<Utc>, all: bool) -> Vec<WatchSpec> {
        let Ok(mut next_due) = self.inner.next_due.lock() else {
            return Vec::new();
        };
        let mut due = Vec::new();
        for spec in &self.inner.config.watches {
            if all || next_due.get(&spec.name).is_none_or(|at| *at <= now) {
                let interval = chrono::Duration::from_std(spec.interval)
                    .unwrap_or(chrono::Duration::minutes(1));
                next_due.insert(spec.name.clone(), now + interval);
                due.push(spec.clone());
            }
        }
        due
    }

    /// Evaluates one watch with its timeout. Never fails: trouble becomes blindness.
    pub async fn evaluate(&self, spec: &WatchSpec, now: DateTime<Utc>) -> Evaluation {
        let ctx = WatchContext {
            store: &self.inner.store,
            sources: &self.inner.sources,
            states: &self.inner.states,
            now,
        };
        self.inner
            .metrics
            .evaluations
            .get_or_create(&self.inner.metrics.watch(&spec.name))
            .inc();
        let evaluation = match tokio::time::timeout(spec.timeout, watch::evaluate(spec, &ctx)).await
        {
            Ok(evaluation) => evaluation,
            Err(_) => Evaluation::Blind(SourceError::new(
                &watch::source_label(spec).unwrap_or_else(|| spec.name.clone()),
                SourceErrorKind::Timeout,
                format!(
                    "watch {} did not finish within {}s",
                    spec.name,
                    spec.timeout.as_secs()
                ),
            )),
        };
        if matches!(evaluation, Evaluation::Blind(_)) {
            self.inner
                .metrics
                .evaluation_failures
                .get_or_create(&self.inner.metrics.watch(&spec.name))
                .inc();
        }
        evaluation
    }

    /// One pass: evaluates every due watch (every watch if `all`) concurrently, applies the
    /// results, then delivers what is due on every channel before returning.
    pub async fn pass(&self, all: bool) -> Result<PassReport, StoreError> {
        let now = self.now();
        let due = self.take_due(now, all);
        let concurrency = self.inner.config.engine.concurrency.max(1);
        let results: Vec<(WatchSpec, Evaluation)> = {
            use futures_util::StreamExt;
            futures_util::stream::iter(due.into_iter().map(|spec| async move {
                let evaluation = self.evaluate(&spec, now).await;
                (spec, evaluation)
            }))
            .buffer_unordered(concurrency)
            .collect()
            .await
        };
        let mut report = PassReport {
            evaluated: results.len(),
            ..PassReport::default()
        };
        for (spec, evaluation) in &results {
            if matches!(evaluation, Evaluation::Blind(_)) {
                report.blind += 1;
            }
            report.notices_written += self.apply(spec, evaluation, now).await?;
        }
        report.delivered = self.inner.dispatcher.deliver_due().await?;
        report.firing = self.firing_count().await?;
        Ok(report)
    }

    /// Firing alerts that are not silenced; refreshes the alerts-by-state gauge.
    pub async fn firing_count(&self) -> Result<usize, StoreError> {
        let store = &self.inner.store;
        for (state, count) in store.alert_counts().await? {
            self.inner
                .metrics
                .alerts
                .get_or_create(&crate::telemetry::StateLabels {
                    state: state.as_str().to_string(),
                })
                .set(count);
        }
        let silences = store.active_silences(self.now()).await?;
        Ok(store
            .all_alerts()
            .await?
            .iter()
            .filter(|a| a.state == crate::alert::tracker::AlertState::Firing)
            .filter(|a| !crate::store::silences::covers(&silences, &a.watch, &a.subject))
            .count())
    }
}

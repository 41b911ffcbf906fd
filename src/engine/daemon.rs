//! `sentinel run`: the long-running loop. Every second it starts the watches that are due
//! (each in its own task, at most `concurrency` at once, each with its timeout) and applies
//! results as they arrive. It never delivers: each channel has a courier of its own
//! (`notify::courier`), which the loop wakes when an applied evaluation wrote outbox rows, so
//! a slow channel delays neither the evaluations nor the other channels. SIGTERM or SIGINT
//! stops it gracefully: no new evaluations, in-flight ones get a few seconds, then every
//! courier a last pass of a few seconds more, then the store is checkpointed. Beside it, a task
//! of its own forgets heartbeat history past `[store]` retention (the loop never waits for it).

use super::Engine;
use crate::notify::courier::{Couriers, Doorbell};
use crate::watch::observation::Evaluation;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

/// Runs until `shutdown` resolves.
pub async fn run_until_shutdown(engine: Engine, shutdown: impl std::future::Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(engine.config().engine.concurrency.max(1)));
    let (results_tx, mut results_rx) =
        mpsc::channel::<(String, Evaluation, chrono::DateTime<chrono::Utc>)>(256);
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    let sweeper = tokio::spawn(crate::store::retention::sweep_periodically(
        engine.store().clone(),
        engine.config().store.retention,
        engine.inner.clock.clone(),
    ));
    let couriers = Couriers::start(&engine.inner.dispatcher);
    let doorbell = couriers.doorbell();

    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = tick.tick() => {
                let now = engine.now();
                for spec in engine.take_due(now, false) {
                    if !in_flight.insert(spec.name.clone()) {
                        continue; // still running from last time; skip this round
                    }
                    let engine = engine.clone();
                    let permits = permits.clone();
                    let results = results_tx.clone();
                    tokio::spawn(async move {
                        let Ok(_permit) = permits.acquire_owned().await else { return };
                        let at = engine.now();
                        let evaluation = engine.evaluate(&spec, at).await;
                        let _ = results.send((spec.name.clone(), evaluation, at)).await;
                    });
                }
            }
            Some((name, evaluation, at)) = results_rx.recv() => {
                in_flight.remove(&name);
                record(&engine, &doorbell, &name, &evaluation, at).await;
                if let Err(error) = engine.firing_count().await {
                    tracing::error!("could not count alerts: {error}");
                }
            }
        }
    }

    tracing::info!("shutting down: finishing in-flight evaluations");
    sweeper.abort();
    drop(results_tx);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !in_flight.is_empty() {
        match tokio::time::timeout_at(deadline, results_rx.recv()).await {
            Ok(Some((name, evaluation, at))) => {
                in_flight.remove(&name);
                record(&engine, &doorbell, &name, &evaluation, at).await;
            }
            _ => break,
        }
    }
    tracing::info!("shutting down: last delivery of the outbox");
    couriers.stop(Duration::from_secs(5)).await;
    engine.store().close().await;
    tracing::info!("stopped");
}

/// Applies a finished evaluation of the watch `name` and, when that wrote outbox rows (they
/// are committed by then), wakes the couriers; a failure is logged, the loop goes on.
async fn record(
    engine: &Engine,
    doorbell: &Doorbell,
    name: &str,
    evaluation: &Evaluation,
    at: chrono::DateTime<chrono::Utc>,
) {
    let Some(spec) = engine.config().watches.iter().find(|w| w.name == name) else {
        return;
    };
    match engine.apply(spec, evaluation, at).await {
        Ok(0) => {}
        Ok(_) => doorbell.ring(),
        Err(error) => tracing::error!(watch = name, "could not record the evaluation: {error}"),
    }
}

//! Delivery off the evaluation loop. Under `sentinel run` every configured channel has a
//! courier: a task of its own that runs [`Dispatcher::deliver_channel_due`] for its channel and
//! then sleeps until the [`Doorbell`] rings (the loop rings it when an evaluation committed
//! outbox rows) or its own timer says the head of its line is due (a retry after backoff or
//! Retry-After). A slow or stuck channel holds only its own line: evaluations go on being
//! recorded, and the other channels go on delivering.
//!
//! On shutdown every courier gets a last pass, bounded in time; a delivery still unanswered
//! then is cut off and its entry stays pending in the outbox (never marked sent), to be
//! delivered, with the same key, after the next start.

use super::Channel;
use super::dispatch::Dispatcher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A courier whose head is due right after its pass (a channel that asked for no wait, a store
/// that failed) waits this long before the next pass, so nothing is retried in a tight loop.
const PAUSE: Duration = Duration::from_secs(1);

/// The longest a courier sleeps with entries pending before it reads its head again: its timer
/// runs on the monotonic clock, retries are due by the wall clock, and the wall clock can jump
/// (a time correction, a machine that was suspended).
const LONGEST_SLEEP: Duration = Duration::from_secs(60);

/// One channel's wake-up and stop signals.
struct Lane {
    name: String,
    wake: Notify,
    stopping: AtomicBool,
}

/// Wakes the couriers when new rows are in the outbox. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Doorbell {
    lanes: Arc<[Arc<Lane>]>,
}

impl Doorbell {
    /// Every courier reads its head again. A courier busy delivering keeps the ring (a
    /// [`Notify`] permit) and passes again when it is done, so no ring is lost; one with
    /// nothing new, or whose head is waiting for its retry, goes back to sleep.
    pub(crate) fn ring(&self) {
        for lane in self.lanes.iter() {
            lane.wake.notify_one();
        }
    }
}

/// The running couriers, one per channel.
pub(crate) struct Couriers {
    lanes: Arc<[Arc<Lane>]>,
    tasks: Vec<(Arc<Lane>, JoinHandle<()>)>,
}

impl Couriers {
    /// Starts a courier for every channel of `dispatcher`. Each begins with a pass, so what an
    /// earlier run left pending goes out at once.
    pub(crate) fn start(dispatcher: &Dispatcher) -> Self {
        let mut lanes = Vec::new();
        let mut tasks = Vec::new();
        for (name, channel) in &dispatcher.channels.list {
            let lane = Arc::new(Lane {
                name: name.clone(),
                wake: Notify::new(),
                stopping: AtomicBool::new(false),
            });
            let task = tokio::spawn(courier(dispatcher.clone(), channel.clone(), lane.clone()));
            lanes.push(lane.clone());
            tasks.push((lane, task));
        }
        Self {
            lanes: lanes.into(),
            tasks,
        }
    }

    /// The bell that wakes these couriers.
    pub(crate) fn doorbell(&self) -> Doorbell {
        Doorbell {
            lanes: self.lanes.clone(),
        }
    }

    /// Asks every courier for a last pass (one that starts after this call, so it sees every
    /// row committed before it) and waits for them until `within` has passed; a courier still
    /// delivering then is stopped where it is. Returns when no courier runs any more.
    pub(crate) async fn stop(self, within: Duration) {
        for lane in self.lanes.iter() {
            lane.stopping.store(true, Ordering::SeqCst);
            lane.wake.notify_one();
        }
        let deadline = tokio::time::Instant::now() + within;
        for (lane, mut task) in self.tasks {
            let finished = match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(finished) => finished,
                Err(_) => {
                    task.abort();
                    tracing::warn!(
                        channel = lane.name,
                        "delivery cut off by shutdown; undelivered notices wait in the outbox"
                    );
                    task.await
                }
            };
            if let Err(error) = finished
                && error.is_panic()
            {
                tracing::error!(channel = lane.name, "the channel's courier failed: {error}");
            }
        }
    }
}

/// One channel's courier: a pass, then sleep until rung or until the head is due.
async fn courier(dispatcher: Dispatcher, channel: Channel, lane: Arc<Lane>) {
    loop {
        // Read before the pass: a stop asked for while this pass runs gets one more pass.
        let stopping = lane.stopping.load(Ordering::SeqCst);
        let wait = match dispatcher.deliver_channel_due(&lane.name, &channel).await {
            Ok(_) => next_wait(&dispatcher, &lane.name).await,
            Err(error) => {
                tracing::error!(channel = lane.name, "outbox delivery failed: {error}");
                Some(PAUSE)
            }
        };
        if stopping {
            return;
        }
        let timer = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = lane.wake.notified() => {}
            () = timer => {}
        }
    }
}

/// How long the courier of `channel` may sleep after a pass: until its head is due, or for
/// good (until rung) when nothing waits.
async fn next_wait(dispatcher: &Dispatcher, channel: &str) -> Option<Duration> {
    match dispatcher.store.outbox_head_due(channel).await {
        Ok(None) => None,
        Ok(Some(due)) => {
            let wait = (due - dispatcher.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO);
            Some(if wait.is_zero() {
                PAUSE
            } else {
                wait.min(LONGEST_SLEEP)
            })
        }
        Err(error) => {
            tracing::error!(channel, "cannot read the outbox: {error}");
            Some(PAUSE)
        }
    }
}

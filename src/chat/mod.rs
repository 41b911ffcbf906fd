//! The operator's side of Telegram: a long-polling loop over getUpdates (offset kept in the
//! store, so nothing is handled twice across restarts) that turns button presses, replies to
//! pages and commands into silences, verdicts and approved requests. Only the configured users
//! in the configured chat are heard ([`auth`]); every press is answered.

pub mod auth;
pub(crate) mod command;
mod handle;
pub(crate) mod status;

use crate::clock::SharedClock;
use crate::notify::telegram::TelegramChannel;
use crate::notify::telegram::api::{ApiError, Update};
use crate::store::Store;
use std::time::Duration;

/// Where the next getUpdates starts, in the store's chat state.
const OFFSET_KEY: &str = "telegram_offset";

/// Longest pause after failed polls.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(60);

/// A poll that comes back empty faster than this did not wait: pause before the next.
const MIN_EMPTY_POLL: Duration = Duration::from_millis(500);

/// Something to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Answers a button press (a short toast for the presser).
    Answer { callback_id: String, text: String },
    /// A message (HTML) to a chat.
    Say { chat_id: i64, html: String },
}

/// The bot's listening side.
#[derive(Clone)]
pub struct ChatBot {
    pub channel: TelegramChannel,
    pub gate: auth::Gatekeeper,
    pub store: Store,
    pub clock: SharedClock,
    /// The configured watch names (commands name watches).
    pub watches: Vec<String>,
    pub poll_timeout: Duration,
    /// The investigator's daily model budget in US dollars, for `/status`.
    pub daily_budget: f64,
}

impl ChatBot {
    /// A listener for the configured Telegram channel `channel`.
    pub fn new(
        channel: TelegramChannel,
        spec: &crate::config::TelegramSpec,
        watches: Vec<String>,
    ) -> Self {
        Self {
            gate: auth::Gatekeeper {
                chat_id: spec.chat_id,
                allowed_users: spec.allowed_users.clone(),
            },
            store: channel.store.clone(),
            clock: channel.clock.clone(),
            channel,
            watches,
            poll_timeout: spec.poll_timeout,
            daily_budget: crate::config::investigator::Budgets::default().daily_cost,
        }
    }

    /// Polls for updates until the task is dropped.
    pub async fn run(self) {
        let mut failures: u32 = 0;
        loop {
            let wait = match self.poll_once().await {
                Ok(_) => {
                    failures = 0;
                    Duration::ZERO
                }
                Err(PollError::Api(error)) => {
                    failures = failures.saturating_add(1);
                    let wait = match &error {
                        ApiError::Refused {
                            retry_after: Some(after),
                            ..
                        } => *after,
                        _ => Duration::from_secs(1u64 << failures.min(6)).min(MAX_POLL_BACKOFF),
                    };
                    tracing::warn!(
                        "telegram: getUpdates failed ({error}); polling again in {}s",
                        wait.as_secs()
                    );
                    wait
                }
                Err(PollError::Store(error)) => {
                    tracing::error!("telegram: the store failed while polling: {error}");
                    Duration::from_secs(5)
                }
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// One getUpdates round: handles every new update in id order, exactly once (duplicates and
    /// ids below the stored offset are skipped), persisting the offset after each. Returns how
    /// many were handled.
    pub async fn poll_once(&self) -> Result<usize, PollError> {
        let offset: i64 = self
            .store
            .chat_state(OFFSET_KEY)
            .await
            .map_err(PollError::Store)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let started = tokio::time::Instant::now();
        let mut updates: Vec<Update> = self
            .channel
            .api
            .get_updates(offset, self.poll_timeout)
            .await
            .map_err(PollError::Api)?;
        updates.sort_by_key(|u| u.update_id);
        updates.dedup_by_key(|u| u.update_id);
        let mut next = offset;
        let mut handled = 0;
        for update in updates {
            if update.update_id < next {
                tracing::debug!(
                    update = update.update_id,
                    "telegram: update already handled, skipped"
                );
                continue;
            }
            for out in self.handle(&update).await {
                self.send(out).await;
            }
            next = update.update_id + 1;
            self.store
                .set_chat_state(OFFSET_KEY, &next.to_string())
                .await
                .map_err(PollError::Store)?;
            handled += 1;
        }
        if handled == 0 && started.elapsed() < MIN_EMPTY_POLL {
            tokio::time::sleep(MIN_EMPTY_POLL).await;
        }
        Ok(handled)
    }

    async fn send(&self, out: Outgoing) {
        let result = match &out {
            Outgoing::Answer { callback_id, text } => {
                self.channel
                    .api
                    .answer_callback_query(callback_id, text)
                    .await
            }
            Outgoing::Say { chat_id, html } => self.channel.say(*chat_id, html).await.map(|_| ()),
        };
        if let Err(error) = result {
            tracing::warn!("telegram: could not answer: {error}");
        }
    }
}

/// Why one poll failed.
#[derive(Debug)]
pub enum PollError {
    Api(ApiError),
    Store(crate::store::StoreError),
}

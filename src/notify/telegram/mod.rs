//! The Telegram channel: pages to one chat through a bot, with buttons, edited in place when
//! their alert resolves. [`api`] speaks the Bot API, [`render`] writes the text, [`keyboard`]
//! makes the buttons, [`delivery`] decides what a Bot API answer means for the outbox.

pub(crate) mod api;
pub(crate) mod delivery;
pub(crate) mod keyboard;
pub(crate) mod render;

use crate::clock::SharedClock;
use crate::config::TelegramSpec;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Telegram allows about one message per second in one chat.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// Spaces the bot's messages to one chat at least [`MIN_GAP`] apart (pages and replies alike).
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    last: Arc<Mutex<Option<Instant>>>,
}

impl Pacer {
    /// Waits until a message may be sent, then claims the slot.
    pub async fn wait_turn(&self) {
        let mut last = self.last.lock().await;
        if let Some(at) = *last {
            tokio::time::sleep_until(at + MIN_GAP).await;
        }
        *last = Some(Instant::now());
    }
}

/// The channel: a bot, the chat it pages, and the store where button payloads are kept.
#[derive(Clone)]
pub struct TelegramChannel {
    pub api: api::BotApi,
    pub chat_id: i64,
    pub store: Store,
    pub clock: SharedClock,
    pub pacer: Pacer,
}

impl std::fmt::Debug for TelegramChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramChannel")
            .field("chat_id", &self.chat_id)
            .finish_non_exhaustive()
    }
}

impl TelegramChannel {
    pub fn new(spec: &TelegramSpec, store: Store, clock: SharedClock) -> Result<Self, String> {
        Ok(Self {
            api: api::BotApi::new(&spec.api_url, &spec.bot_token, spec.timeout)?,
            chat_id: spec.chat_id,
            store,
            clock,
            pacer: Pacer::default(),
        })
    }

    /// Asks the Bot API who the bot is: a token Telegram rejects is an error naming the
    /// setting. `Ok(None)` when Telegram cannot be reached now: pages wait in the outbox and
    /// the chat loop keeps trying, so an outage never stops Sentinel from starting.
    pub async fn check_token(&self) -> Result<Option<api::User>, String> {
        match self.api.get_me().await {
            Ok(me) => Ok(Some(me)),
            Err(api::ApiError::Refused {
                code: 401 | 404, ..
            }) => Err(
                "telegram bot_token is rejected by the Bot API: check TELEGRAM_BOT_TOKEN".into(),
            ),
            Err(error) => {
                tracing::warn!(
                    "telegram: cannot check bot_token now ({error}); pages wait in the outbox until the Bot API answers"
                );
                Ok(None)
            }
        }
    }

    /// Sends one HTML message to `chat_id` (a reply to the operator), paced.
    pub async fn say(&self, chat_id: i64, html: &str) -> Result<i64, api::ApiError> {
        self.pacer.wait_turn().await;
        self.api.send_message(chat_id, html, None).await
    }
}

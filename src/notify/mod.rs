//! Channels: the ways a notice reaches the operator. Channels only deliver; they never decide.
//! Delivery goes through the outbox ([`dispatch`]); under `sentinel run` each channel has a
//! courier of its own ([`courier`]), so one slow channel delays no other.

pub(crate) mod console;
pub(crate) mod courier;
pub mod dispatch;
pub mod telegram;
pub mod webhook;

use crate::alert::notice::Notice;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A delivered message, with the channel's id for it when the channel has one (to edit later).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    pub external_id: Option<String>,
}

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// Worth trying again; `after` is the channel's own wish (Retry-After), if it said one.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// The channel refused this message; retrying cannot help.
    Permanent(String),
}

/// One configured channel.
#[derive(Debug, Clone)]
pub enum Channel {
    Console(console::ConsoleChannel),
    Webhook(webhook::WebhookChannel),
    /// Pages to a Telegram chat, with buttons; edits a page when its alert resolves.
    Telegram(telegram::TelegramChannel),
    /// Keeps notices in memory (the demo's tally and tests).
    Memory(Arc<Mutex<Vec<Notice>>>),
}

impl Channel {
    /// Delivers one notice. `key` is the outbox key (an idempotency key for the receiver).
    pub async fn deliver(
        &self,
        key: &str,
        notice: &Notice,
        edit_of: Option<&str>,
    ) -> Result<Delivered, DeliveryError> {
        match self {
            Channel::Console(console) => console.deliver(notice),
            Channel::Webhook(webhook) => webhook.deliver(key, notice, edit_of).await,
            Channel::Telegram(telegram) => telegram.deliver(notice, edit_of).await,
            Channel::Memory(list) => {
                if let Ok(mut list) = list.lock() {
                    list.push(notice.clone());
                }
                Ok(Delivered::default())
            }
        }
    }

    /// Whether the channel can edit a message it sent (then resolutions edit the page instead
    /// of sending a new one).
    pub fn can_edit(&self) -> bool {
        matches!(self, Channel::Telegram(_))
    }
}

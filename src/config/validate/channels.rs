//! Validation of `[channels.NAME]`: console, webhook and Telegram.

use super::applicable::{Kind, Section};
use super::{Validator, dur};
use crate::config::raw::{ChannelKind, RawChannel, WrittenKeys};
use crate::config::*;
use toml::Spanned;

/// Keys every channel takes, whatever its kind.
pub(super) const CHANNEL_COMMON_KEYS: &[&str] = &["kind"];

/// A console channel writes to standard output: nothing to set.
pub(super) const CONSOLE_KEYS: &[&str] = &[];

pub(super) const WEBHOOK_KEYS: &[&str] = &["url", "bearer_token", "timeout"];

pub(super) const TELEGRAM_KEYS: &[&str] = &[
    "bot_token",
    "chat_id",
    "allowed_users",
    "api_url",
    "poll_timeout",
    "timeout",
];

/// Every kind of channel and the keys it takes.
pub(super) const CHANNELS: Section = Section {
    naming: "{} channels",
    they_take: "they take",
    common: CHANNEL_COMMON_KEYS,
    kinds: &[
        Kind {
            name: "console",
            takes: &[CONSOLE_KEYS],
        },
        Kind {
            name: "webhook",
            takes: &[WEBHOOK_KEYS],
        },
        Kind {
            name: "telegram",
            takes: &[TELEGRAM_KEYS],
        },
    ],
};

/// The longest long poll the Bot API holds.
const MAX_POLL_TIMEOUT: Duration = Duration::from_secs(50);

impl Validator<'_> {
    pub(super) fn channel(
        &mut self,
        name: &Spanned<String>,
        raw: &RawChannel,
        written: &WrittenKeys,
    ) -> Option<ChannelSpec> {
        let name_ok = self.name_ok(name, "channel");
        self.refuse_inapplicable(written, &CHANNELS, raw.kind.get_ref().name());
        let kind = match raw.kind.get_ref() {
            ChannelKind::Console => ChannelSpecKind::Console,
            ChannelKind::Webhook => {
                let Some(url) = &raw.url else {
                    self.error(
                        raw.kind.span(),
                        format!("channel `{}` needs url = \"https://...\"", name.get_ref()),
                    );
                    return None;
                };
                let url = self.url(url);
                let bearer_token = self.secret(&raw.bearer_token, "bearer_token");
                ChannelSpecKind::Webhook {
                    url: url?,
                    bearer_token,
                    timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(10)),
                }
            }
            ChannelKind::Telegram => ChannelSpecKind::Telegram(self.telegram(name, raw)?),
        };
        name_ok.then(|| ChannelSpec {
            name: name.get_ref().clone(),
            kind,
        })
    }

    pub(super) fn telegram(
        &mut self,
        name: &Spanned<String>,
        raw: &RawChannel,
    ) -> Option<TelegramSpec> {
        let channel = name.get_ref();
        let missing = |this: &mut Self, key: &str, example: &str| {
            this.error(
                raw.kind.span(),
                format!("telegram channel `{channel}` needs {key} = {example}"),
            );
        };
        let bot_token = match &raw.bot_token {
            Some(_) => self.secret(&raw.bot_token, "bot_token"),
            None => {
                missing(self, "bot_token", "\"${TELEGRAM_BOT_TOKEN}\"");
                None
            }
        };
        let chat_id = match &raw.chat_id {
            Some(chat_id) if *chat_id.get_ref() == 0 => {
                self.error(
                    chat_id.span(),
                    "chat_id must be the id of the chat that receives pages (not 0)",
                );
                None
            }
            Some(chat_id) => Some(*chat_id.get_ref()),
            None => {
                missing(self, "chat_id", "<the id of the chat that receives pages>");
                None
            }
        };
        let allowed_users = match &raw.allowed_users {
            Some(users) if users.get_ref().is_empty() => {
                self.error(
                    users.span(),
                    "allowed_users must name at least one Telegram user id: nobody could act on a page",
                );
                None
            }
            Some(users) if users.get_ref().iter().any(|id| *id <= 0) => {
                self.error(
                    users.span(),
                    "allowed_users are Telegram user ids: positive numbers like 123456789",
                );
                None
            }
            Some(users) => Some(users.get_ref().clone()),
            None => {
                missing(self, "allowed_users", "[<your Telegram user id>]");
                None
            }
        };
        let api_url = match &raw.api_url {
            Some(url) => self.url(url),
            None => Some(TELEGRAM_API_URL.to_string()),
        };
        let poll_timeout = match &raw.poll_timeout {
            Some(value) if value.get_ref().0.is_zero() || value.get_ref().0 > MAX_POLL_TIMEOUT => {
                self.error(
                    value.span(),
                    "poll_timeout must be between 1s and 50s (the Bot API holds a long poll at most 50s)",
                );
                None
            }
            Some(value) => Some(value.get_ref().0),
            None => Some(Duration::from_secs(30)),
        };
        Some(TelegramSpec {
            bot_token: bot_token?,
            chat_id: chat_id?,
            allowed_users: allowed_users?,
            api_url: api_url?,
            poll_timeout: poll_timeout?,
            timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(10)),
        })
    }
}

//! Validation of `[channels.NAME]`: console, webhook and Telegram.

use super::{Validator, dur};
use crate::config::raw::{ChannelKind, RawChannel};
use crate::config::*;
use toml::Spanned;

/// Keys that only Telegram channels take.
const TELEGRAM_KEYS: [&str; 5] = [
    "bot_token",
    "chat_id",
    "allowed_users",
    "api_url",
    "poll_timeout",
];

/// The longest long poll the Bot API holds.
const MAX_POLL_TIMEOUT: Duration = Duration::from_secs(50);

impl Validator<'_> {
    pub(super) fn channel(
        &mut self,
        name: &Spanned<String>,
        raw: &RawChannel,
    ) -> Option<ChannelSpec> {
        let name_ok = self.name_ok(name, "channel");
        let kind = match raw.kind.get_ref() {
            ChannelKind::Console => {
                self.inapplicable(raw, "console", &["url", "bearer_token", "timeout"]);
                self.inapplicable(raw, "console", &TELEGRAM_KEYS);
                ChannelSpecKind::Console
            }
            ChannelKind::Webhook => {
                self.inapplicable(raw, "webhook", &TELEGRAM_KEYS);
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
            ChannelKind::Telegram => {
                self.inapplicable(raw, "telegram", &["url", "bearer_token"]);
                ChannelSpecKind::Telegram(self.telegram(name, raw)?)
            }
        };
        name_ok.then(|| ChannelSpec {
            name: name.get_ref().clone(),
            kind,
        })
    }

    /// Reports each of `keys` that is set on a channel of a kind it does not apply to.
    pub(super) fn inapplicable(&mut self, raw: &RawChannel, kind: &str, keys: &[&str]) {
        for key in keys {
            let span = match *key {
                "url" => raw.url.as_ref().map(|v| v.span()),
                "bearer_token" => raw.bearer_token.as_ref().map(|v| v.span()),
                "timeout" => raw.timeout.as_ref().map(|v| v.span()),
                "bot_token" => raw.bot_token.as_ref().map(|v| v.span()),
                "chat_id" => raw.chat_id.as_ref().map(|v| v.span()),
                "allowed_users" => raw.allowed_users.as_ref().map(|v| v.span()),
                "api_url" => raw.api_url.as_ref().map(|v| v.span()),
                "poll_timeout" => raw.poll_timeout.as_ref().map(|v| v.span()),
                _ => None,
            };
            if let Some(span) = span {
                self.error(span, format!("`{key}` does not apply to {kind} channels"));
            }
        }
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

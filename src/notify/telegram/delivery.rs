//! Delivering one notice to Telegram and reading the answer for the outbox: a page is sent
//! (split if long, buttons on its first part); a resolution edits the page it resolves, or is
//! sent anew when that message is gone. 429 waits `retry_after`; 5xx and timeouts retry;
//! other refusals are permanent. The external id of a page is `chat_id:message_id`.

use super::api::ApiError;
use super::{TelegramChannel, keyboard, render};
use crate::alert::notice::{Notice, NoticeKind};
use crate::notify::{Delivered, DeliveryError};
use crate::store::chat::PageRef;

/// What the outbox should do after a Bot API error.
pub(crate) fn classify(error: &ApiError) -> DeliveryError {
    match error {
        ApiError::Network { .. } => DeliveryError::Retry {
            reason: format!("telegram: {error}"),
            after: None,
        },
        ApiError::Refused {
            code: 429,
            retry_after,
            ..
        } => DeliveryError::Retry {
            reason: format!("telegram: {error}"),
            after: *retry_after,
        },
        ApiError::Refused { code, .. } if *code >= 500 => DeliveryError::Retry {
            reason: format!("telegram: {error}"),
            after: None,
        },
        ApiError::Garbled(_) => DeliveryError::Retry {
            reason: format!("telegram: {error}"),
            after: None,
        },
        ApiError::Refused { .. } => DeliveryError::Permanent(format!("telegram: {error}")),
    }
}

/// Reads `chat_id:message_id`.
pub(crate) fn parse_external_id(id: &str) -> Option<(i64, i64)> {
    let (chat, message) = id.split_once(':')?;
    Some((chat.parse().ok()?, message.parse().ok()?))
}

fn page_ref(notice: &Notice) -> PageRef {
    let mut subjects: Vec<String> = notice.subjects.iter().map(|s| s.subject.clone()).collect();
    if subjects.is_empty() {
        subjects.push(notice.subject.clone());
    }
    PageRef {
        watch: notice.watch.clone(),
        subjects,
        notice_key: notice.key.clone(),
        title: notice.title.clone(),
    }
}

impl TelegramChannel {
    /// Delivers one notice; `edit_of` is the external id of the page a resolution edits.
    pub async fn deliver(
        &self,
        notice: &Notice,
        edit_of: Option<&str>,
    ) -> Result<Delivered, DeliveryError> {
        if notice.kind == NoticeKind::Resolved {
            let text = render::resolved(notice);
            if let Some((chat_id, message_id)) = edit_of.and_then(parse_external_id) {
                self.pacer.wait_turn().await;
                match self.api.edit_message_text(chat_id, message_id, &text).await {
                    Ok(()) => return Ok(external(chat_id, message_id)),
                    Err(error) if error.is_not_modified() => {
                        return Ok(external(chat_id, message_id));
                    }
                    Err(error) if error.is_message_gone() => {
                        tracing::info!(
                            "telegram: the page to mark resolved is gone ({error}); sending the resolution anew"
                        );
                    }
                    Err(error) => return Err(classify(&error)),
                }
            }
            return self.send(&text, None).await;
        }
        let page = page_ref(notice);
        let stored =
            keyboard::buttons(&page, self.chat_id).map_err(|reason| DeliveryError::Retry {
                reason,
                after: None,
            })?;
        let now = self.clock.now();
        for (_, button) in &stored {
            self.store
                .add_button(button, now)
                .await
                .map_err(|e| DeliveryError::Retry {
                    reason: format!("cannot store a button: {e}"),
                    after: None,
                })?;
        }
        let markup = keyboard::markup(&stored);
        self.send(&render::page(notice), Some((&markup, &page)))
            .await
    }

    /// Sends `html` (split when long); the first part carries the keyboard. Every part of a
    /// page is remembered so a reply to any of them has its alert as context.
    async fn send(
        &self,
        html: &str,
        page: Option<(&serde_json::Value, &PageRef)>,
    ) -> Result<Delivered, DeliveryError> {
        let parts = render::split(html, render::MAX_MESSAGE);
        let mut first = None;
        for (i, part) in parts.iter().enumerate() {
            let keyboard = if i == 0 { page.map(|(k, _)| k) } else { None };
            self.pacer.wait_turn().await;
            let message_id = match self.api.send_message(self.chat_id, part, keyboard).await {
                Ok(id) => id,
                // A later part failing after the first went out: the page is delivered (its
                // head, with the buttons); resending would repeat it.
                Err(error) if first.is_some() => {
                    tracing::warn!(
                        "telegram: part {} of a long page was not sent: {error}",
                        i + 1
                    );
                    break;
                }
                Err(error) => return Err(classify(&error)),
            };
            first.get_or_insert(message_id);
            if let Some((_, page)) = page
                && let Err(error) = self
                    .store
                    .add_page_message(self.chat_id, message_id, page, self.clock.now())
                    .await
            {
                tracing::warn!("telegram: cannot remember page message {message_id}: {error}");
            }
        }
        Ok(first.map_or_else(Delivered::default, |id| external(self.chat_id, id)))
    }
}

fn external(chat_id: i64, message_id: i64) -> Delivered {
    Delivered {
        external_id: Some(format!("{chat_id}:{message_id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn refused(code: u16, description: &str, retry_after: Option<u64>) -> ApiError {
        ApiError::Refused {
            code,
            description: description.into(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn answers_map_to_retry_or_permanent() {
        assert_eq!(
            classify(&refused(429, "Too Many Requests: retry after 3", Some(3))),
            DeliveryError::Retry {
                reason: "telegram: the Bot API answered 429: Too Many Requests: retry after 3"
                    .into(),
                after: Some(Duration::from_secs(3)),
            }
        );
        assert!(matches!(
            classify(&refused(502, "Bad Gateway", None)),
            DeliveryError::Retry { after: None, .. }
        ));
        assert!(matches!(
            classify(&ApiError::Network {
                timed_out: true,
                detail: String::new()
            }),
            DeliveryError::Retry { .. }
        ));
        assert!(matches!(
            classify(&refused(400, "Bad Request: can't parse entities", None)),
            DeliveryError::Permanent(_)
        ));
        assert!(matches!(
            classify(&refused(
                403,
                "Forbidden: bot was blocked by the user",
                None
            )),
            DeliveryError::Permanent(_)
        ));
    }

    #[test]
    fn gone_messages_are_recognised() {
        assert!(refused(400, "Bad Request: message to edit not found", None).is_message_gone());
        assert!(!refused(400, "Bad Request: chat not found", None).is_message_gone());
        assert!(refused(400, "Bad Request: message is not modified: x", None).is_not_modified());
    }

    #[test]
    fn external_ids_are_chat_and_message() {
        assert_eq!(parse_external_id("-1001234:56"), Some((-1001234, 56)));
        assert_eq!(parse_external_id("56"), None);
        assert_eq!(parse_external_id("a:b"), None);
    }
}

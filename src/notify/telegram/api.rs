//! A small Telegram Bot API client: the few methods Sentinel uses (getMe, getUpdates,
//! sendMessage, editMessageText, answerCallbackQuery), each a JSON POST to
//! `{api}/bot{token}/{method}`. Answers are read leniently (unknown fields ignored, optional
//! fields optional) and errors keep what decides a retry: the HTTP status, Telegram's
//! `error_code`, `description` and `parameters.retry_after`. The token never appears in errors.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// Why a Bot API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer: connection refused, reset, or the request timed out.
    Network { timed_out: bool, detail: String },
    /// Telegram answered with an error.
    Refused {
        code: u16,
        description: String,
        retry_after: Option<Duration>,
    },
    /// The answer was not the documented JSON.
    Garbled(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Network {
                timed_out: true, ..
            } => write!(f, "the Bot API timed out"),
            ApiError::Network { detail, .. } => write!(f, "the Bot API is unreachable: {detail}"),
            ApiError::Refused {
                code, description, ..
            } => write!(f, "the Bot API answered {code}: {description}"),
            ApiError::Garbled(detail) => write!(f, "the Bot API answered garbage: {detail}"),
        }
    }
}

impl ApiError {
    /// True for "the message to edit is gone": then a new message is sent instead.
    pub fn is_message_gone(&self) -> bool {
        match self {
            ApiError::Refused {
                code: 400,
                description,
                ..
            } => {
                let description = description.to_ascii_lowercase();
                description.contains("message to edit not found")
                    || description.contains("message can't be edited")
                    || description.contains("message_id_invalid")
                    || description.contains("message not found")
            }
            _ => false,
        }
    }

    /// True when an edit changed nothing (already edited): done, not an error.
    pub fn is_not_modified(&self) -> bool {
        matches!(self, ApiError::Refused { code: 400, description, .. }
            if description.to_ascii_lowercase().contains("message is not modified"))
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
}

impl User {
    /// How the user appears in records: `telegram:<id>` plus the username if there is one.
    pub fn actor(&self) -> String {
        match &self.username {
            Some(name) => format!("telegram:{} (@{name})", self.id),
            None => format!("telegram:{}", self.id),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Chat {
    pub id: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub(crate) struct Message {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub reply_to_message: Option<Replied>,
}

/// The message another one replies to (only its id matters).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Replied {
    pub message_id: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub(crate) struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// The message the button was on (absent when Telegram no longer has it).
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default)]
    pub data: Option<String>,
}

impl CallbackQuery {
    /// The chat of the message the button was on, if Telegram said.
    pub(crate) fn chat_id(&self) -> Option<i64> {
        self.message.as_ref()?.get("chat")?.get("id")?.as_i64()
    }
}

/// One update from getUpdates. Only the kinds Sentinel acts on are decoded; the rest are
/// kept as "other" so the offset still moves past them.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default)]
    pub edited_message: Option<Value>,
    #[serde(default)]
    pub callback_query: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Debug, Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// A file to send as a document.
pub struct Document<'a> {
    pub name: &'a str,
    /// Its MIME type (`application/pdf`).
    pub mime: &'a str,
    pub bytes: Vec<u8>,
}

/// A client for one bot.
#[derive(Clone)]
pub struct BotApi {
    client: reqwest::Client,
    /// `{api}/bot{token}`: secret, never logged.
    base: String,
    timeout: Duration,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotApi").finish_non_exhaustive()
    }
}

impl BotApi {
    /// A client for the bot with `token` at `api_url` (`https://api.telegram.org` or a test
    /// server). `timeout` bounds every call but long polls, which add their own wait to it.
    pub fn new(api_url: &str, token: &str, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(Self {
            client,
            base: format!("{}/bot{token}", api_url.trim_end_matches('/')),
            timeout,
        })
    }

    /// Calls `method` with a JSON body and decodes its `result`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let response = self
            .client
            .post(format!("{}/{method}", self.base))
            .timeout(timeout)
            .json(body)
            .send()
            .await
            .map_err(|e| ApiError::Network {
                timed_out: e.is_timeout(),
                detail: e.without_url().to_string(),
            })?;
        self.decode(response).await
    }

    /// Reads a Bot API answer: its `result`, or the error it reports.
    async fn decode<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> Result<T, ApiError> {
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| ApiError::Network {
            timed_out: e.is_timeout(),
            detail: e.without_url().to_string(),
        })?;
        let envelope: Envelope = match serde_json::from_str(&text) {
            Ok(envelope) => envelope,
            Err(_) if status >= 400 => {
                return Err(ApiError::Refused {
                    code: status,
                    description: format!("HTTP {status}"),
                    retry_after: None,
                });
            }
            Err(error) => return Err(ApiError::Garbled(error.to_string())),
        };
        if !envelope.ok || status >= 400 {
            return Err(ApiError::Refused {
                code: envelope.error_code.unwrap_or(status),
                description: envelope.description.unwrap_or_default(),
                retry_after: envelope
                    .parameters
                    .and_then(|p| p.retry_after)
                    .map(Duration::from_secs),
            });
        }
        serde_json::from_value(envelope.result).map_err(|e| ApiError::Garbled(e.to_string()))
    }

    /// The bot itself: proves the token works.
    pub async fn get_me(&self) -> Result<User, ApiError> {
        self.call("getMe", &json!({}), self.timeout).await
    }

    /// Updates from `offset` on, waiting up to `wait` for the first.
    pub async fn get_updates(&self, offset: i64, wait: Duration) -> Result<Vec<Update>, ApiError> {
        let body = json!({
            "offset": offset,
            "timeout": wait.as_secs(),
            "allowed_updates": ["message", "edited_message", "callback_query"],
        });
        self.call("getUpdates", &body, wait + self.timeout).await
    }

    /// Sends an HTML message; returns its message id.
    pub async fn send_message(
        &self,
        chat_id: i64,
        html: &str,
        keyboard: Option<&Value>,
    ) -> Result<i64, ApiError> {
        self.send_reply(chat_id, html, None, keyboard).await
    }

    /// Sends an HTML message as a reply to `reply_to` (sent anyway if that message is gone),
    /// with an optional keyboard; returns its message id.
    pub async fn send_reply(
        &self,
        chat_id: i64,
        html: &str,
        reply_to: Option<i64>,
        keyboard: Option<&Value>,
    ) -> Result<i64, ApiError> {
        let mut body = json!({
            "chat_id": chat_id,
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        if let Some(object) = body.as_object_mut() {
            if let Some(message_id) = reply_to {
                object.insert(
                    "reply_parameters".into(),
                    json!({"message_id": message_id, "allow_sending_without_reply": true}),
                );
            }
            if let Some(keyboard) = keyboard {
                object.insert("reply_markup".into(), keyboard.clone());
            }
        }
        let sent: Value = self.call("sendMessage", &body, self.timeout).await?;
        sent.get("message_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::Garbled("sendMessage returned no message_id".into()))
    }

    /// Sends a text file (`name`, UTF-8 `content`) as a document replying to `reply_to`, with
    /// a short HTML caption; returns its message id.
    pub async fn send_document(
        &self,
        chat_id: i64,
        name: &str,
        content: String,
        caption: &str,
        reply_to: Option<i64>,
    ) -> Result<i64, ApiError> {
        let file = Document {
            name,
            mime: "text/markdown",
            bytes: content.into_bytes(),
        };
        self.send_file(chat_id, file, caption, reply_to).await
    }

    /// Sends a file as a document replying to `reply_to`, with a short HTML caption; returns
    /// its message id.
    pub async fn send_file(
        &self,
        chat_id: i64,
        document: Document<'_>,
        caption: &str,
        reply_to: Option<i64>,
    ) -> Result<i64, ApiError> {
        let file = reqwest::multipart::Part::bytes(document.bytes)
            .file_name(document.name.to_string())
            .mime_str(document.mime)
            .map_err(|e| ApiError::Garbled(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new()
            .text("chat_id", chat_id.to_string())
            .text("caption", caption.to_string())
            .text("parse_mode", "HTML")
            .part("document", file);
        if let Some(message_id) = reply_to {
            form = form.text(
                "reply_parameters",
                json!({"message_id": message_id, "allow_sending_without_reply": true}).to_string(),
            );
        }
        let response = self
            .client
            .post(format!("{}/sendDocument", self.base))
            .timeout(self.timeout)
            .multipart(form)
            .send()
            .await
            .map_err(|e| ApiError::Network {
                timed_out: e.is_timeout(),
                detail: e.without_url().to_string(),
            })?;
        let sent: Value = self.decode(response).await?;
        sent.get("message_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::Garbled("sendDocument returned no message_id".into()))
    }

    /// Replaces the text of a sent message and its keyboard (`None` removes the buttons).
    pub async fn edit_message(
        &self,
        chat_id: i64,
        message_id: i64,
        html: &str,
        keyboard: Option<&Value>,
    ) -> Result<(), ApiError> {
        let body = json!({
            "chat_id": chat_id,
            "message_id": message_id,
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
            "reply_markup": keyboard.cloned().unwrap_or_else(|| json!({"inline_keyboard": []})),
        });
        let _: Value = self.call("editMessageText", &body, self.timeout).await?;
        Ok(())
    }

    /// Replaces the text of a sent message (and removes its buttons).
    pub async fn edit_message_text(
        &self,
        chat_id: i64,
        message_id: i64,
        html: &str,
    ) -> Result<(), ApiError> {
        self.edit_message(chat_id, message_id, html, None).await
    }

    /// Stops the spinner on a pressed button, with a short notice to the presser.
    pub async fn answer_callback_query(&self, id: &str, text: &str) -> Result<(), ApiError> {
        let body = json!({"callback_query_id": id, "text": text});
        let _: Value = self
            .call("answerCallbackQuery", &body, self.timeout)
            .await?;
        Ok(())
    }
}

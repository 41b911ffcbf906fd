//! A client for Anthropic's Messages API (`POST {base}/v1/messages`, `x-api-key` and
//! `anthropic-version: 2023-06-01` headers) with tool use and prompt caching. The request body
//! is built in [`request`], the answers read in [`response`].

mod request;
mod response;

use super::http::{self, Transport, secret_header};
use super::{BoxFuture, LlmError, Model, Reply, Request};
use reqwest::header::{HeaderMap, HeaderValue};
use std::time::Duration;

/// Where Anthropic's API answers.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The API version the request and answer shapes follow.
const API_VERSION: &str = "2023-06-01";

/// A client for one model. `Debug` shows the model and address, never the key.
pub struct AnthropicClient {
    transport: Transport,
    base: String,
    url: String,
    model: String,
    headers: HeaderMap,
}

impl std::fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("base", &self.base)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl AnthropicClient {
    /// A client for `model` at `base_url` (empty means [`DEFAULT_BASE_URL`]); every call is
    /// bounded by `timeout`.
    pub fn new(
        base_url: &str,
        api_key: String,
        model: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        if api_key.trim().is_empty() {
            return Err(
                "the Anthropic API key is empty: give the key from the Claude Console".into(),
            );
        }
        if model.trim().is_empty() {
            return Err("no Anthropic model named: give one such as claude-sonnet-4-5".into());
        }
        let base = match base_url.trim() {
            "" => DEFAULT_BASE_URL.to_string(),
            given => http::base_url(given, true)?,
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", secret_header(&api_key)?);
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        Ok(AnthropicClient {
            transport: Transport::new(timeout, Some(api_key))?,
            url: format!("{base}/v1/messages"),
            base,
            model: model.trim().to_string(),
            headers,
        })
    }

    async fn send(&self, request: &Request) -> Result<Reply, LlmError> {
        let body = request::body(&self.model, request);
        let answer = self
            .transport
            .post(&self.url, self.headers.clone(), &body)
            .await?;
        if !answer.is_success() {
            return Err(self
                .transport
                .failure(&answer, response::server_error(&answer.body)));
        }
        response::reply(&answer.json()?).map_err(|problem| {
            LlmError::Garbled(self.transport.clean(&format!(
                "{problem} (is {} Anthropic's Messages API?)",
                self.base
            )))
        })
    }
}

impl Model for AnthropicClient {
    fn describe(&self) -> String {
        if self.base == DEFAULT_BASE_URL {
            format!("anthropic {}", self.model)
        } else {
            format!("anthropic {} at {}", self.model, self.base)
        }
    }

    fn complete<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, LlmError>> {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_model_and_a_base_other_than_anthropics() {
        let client = AnthropicClient::new(
            "",
            "sk-ant-secret".into(),
            "claude-sonnet-4-5",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(client.describe(), "anthropic claude-sonnet-4-5");
        assert_eq!(client.url, "https://api.anthropic.com/v1/messages");
        let client = AnthropicClient::new(
            "http://127.0.0.1:9/",
            "sk-ant-secret".into(),
            "claude-sonnet-4-5",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            client.describe(),
            "anthropic claude-sonnet-4-5 at http://127.0.0.1:9"
        );
        let shown = format!("{client:?}");
        assert!(!shown.contains("sk-ant-secret"), "{shown}");
    }

    #[test]
    fn a_missing_key_or_model_or_zero_timeout_is_refused_at_once() {
        let new = |key: &str, model: &str, timeout| {
            AnthropicClient::new("", key.into(), model, timeout).map(|_| ())
        };
        let second = Duration::from_secs(1);
        assert!(
            new("", "claude-sonnet-4-5", second)
                .unwrap_err()
                .contains("API key")
        );
        assert!(new("k", "", second).unwrap_err().contains("model"));
        assert!(
            new("k", "m", Duration::ZERO)
                .unwrap_err()
                .contains("timeout")
        );
        assert!(new("bad\nkey", "m", second).unwrap_err().contains("header"));
    }
}

//! A client for any OpenAI-compatible chat completions endpoint with tools
//! (`POST {base}/chat/completions`, base like `http://127.0.0.1:8080/v1`): OpenAI itself,
//! Ollama, llama.cpp's llama-server, vLLM. The key, when there is one, goes as
//! `Authorization: Bearer`; local servers usually need none. The request body is built in
//! [`request`], the answers read in [`response`].

mod request;
mod response;

use super::http::{self, Transport, secret_header};
use super::{BoxFuture, LlmError, Model, Reply, Request};
use request::LengthField;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use std::time::Duration;

/// A client for one model. `Debug` shows the model and address, never the key.
pub struct OpenAiClient {
    transport: Transport,
    base: String,
    url: String,
    model: String,
    headers: HeaderMap,
    length: LengthField,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("base", &self.base)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// A client for `model` at `base_url` (the part before `/chat/completions`), with
    /// `api_key` if the server wants one; every call is bounded by `timeout`.
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        model: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        let api_key = api_key.filter(|key| !key.trim().is_empty());
        if model.trim().is_empty() {
            return Err(
                "no model named for the OpenAI-compatible endpoint: give the name the server \
                 lists under /v1/models"
                    .into(),
            );
        }
        if base_url.trim().is_empty() {
            return Err(
                "no base URL for the OpenAI-compatible endpoint: give one such as \
                 http://127.0.0.1:8080/v1"
                    .into(),
            );
        }
        let base = http::base_url(base_url, api_key.is_some())?;
        let mut headers = HeaderMap::new();
        if let Some(key) = &api_key {
            headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {key}"))?);
        }
        let length = if is_openai(&base) {
            LengthField::MaxCompletionTokens
        } else {
            LengthField::MaxTokens
        };
        Ok(OpenAiClient {
            transport: Transport::new(timeout, api_key)?,
            url: format!("{base}/chat/completions"),
            base,
            model: model.trim().to_string(),
            headers,
            length,
        })
    }

    async fn send(&self, request: &Request) -> Result<Reply, LlmError> {
        let body = request::body(&self.model, request, self.length);
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
                "{problem} (is {} an OpenAI-compatible chat completions API?)",
                self.base
            )))
        })
    }
}

/// OpenAI's own API, which wants `max_completion_tokens`.
fn is_openai(base: &str) -> bool {
    reqwest::Url::parse(base)
        .ok()
        .and_then(|url| {
            url.host_str()
                .map(|host| host.eq_ignore_ascii_case("api.openai.com"))
        })
        .unwrap_or(false)
}

impl Model for OpenAiClient {
    fn describe(&self) -> String {
        format!("openai-compatible {} at {}", self.model, self.base)
    }

    fn complete<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, LlmError>> {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_openai_itself_gets_max_completion_tokens() {
        assert!(is_openai("https://api.openai.com/v1"));
        assert!(!is_openai("http://127.0.0.1:11434/v1"));
        assert!(!is_openai("https://openai.example.com/v1"));
    }

    #[test]
    fn describe_names_model_and_address_and_debug_hides_the_key() {
        let client = OpenAiClient::new(
            "http://127.0.0.1:8080/v1/",
            Some("sk-local-secret".into()),
            "smollm2",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            client.describe(),
            "openai-compatible smollm2 at http://127.0.0.1:8080/v1"
        );
        assert_eq!(client.url, "http://127.0.0.1:8080/v1/chat/completions");
        assert!(!format!("{client:?}").contains("sk-local-secret"));
        assert!(OpenAiClient::new("", None, "m", Duration::from_secs(1)).is_err());
        assert!(
            OpenAiClient::new("http://127.0.0.1:1/v1", None, " ", Duration::from_secs(1)).is_err()
        );
    }
}

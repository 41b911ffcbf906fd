//! The generic JSON webhook channel: one POST per notice with the notice as JSON, an
//! `Idempotency-Key` header (the outbox key, stable across retries and restarts) and an
//! optional bearer token. 2xx is delivered; 429 and 5xx are retried (honouring Retry-After);
//! any other answer is a permanent refusal.

use super::{Delivered, DeliveryError};
use crate::alert::notice::Notice;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WebhookChannel {
    client: reqwest::Client,
    url: String,
    bearer_token: Option<String>,
}

impl WebhookChannel {
    pub fn new(url: &str, bearer_token: Option<String>, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(Self {
            client,
            url: url.to_string(),
            bearer_token,
        })
    }

    pub async fn deliver(
        &self,
        key: &str,
        notice: &Notice,
        edit_of: Option<&str>,
    ) -> Result<Delivered, DeliveryError> {
        let mut body =
            serde_json::to_value(notice).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        if let Some(object) = body.as_object_mut() {
            object.insert("delivery_key".into(), key.into());
            if let Some(edit_of) = edit_of {
                object.insert("edits".into(), edit_of.into());
            }
        }
        let mut request = self
            .client
            .post(&self.url)
            .header("Idempotency-Key", key)
            .json(&body);
        if let Some(token) = &self.bearer_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| DeliveryError::Retry {
            reason: if e.is_timeout() {
                "webhook timed out".into()
            } else {
                format!("webhook unreachable: {e}")
            },
            after: None,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(Delivered::default());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if status.as_u16() == 429 || status.is_server_error() {
            Err(DeliveryError::Retry {
                reason: format!("webhook answered HTTP {}", status.as_u16()),
                after: retry_after,
            })
        } else {
            Err(DeliveryError::Permanent(format!(
                "webhook refused the notice: HTTP {}",
                status.as_u16()
            )))
        }
    }
}

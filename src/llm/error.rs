//! Why a completion failed, sorted by what the caller should do about it: wait and retry
//! ([`LlmError::Unavailable`]), fix the configuration or the request
//! ([`LlmError::Refused`]), or suspect the endpoint ([`LlmError::Garbled`]). The texts never
//! carry the API key: the clients strip it from anything a server echoes.

use std::time::Duration;

/// Why a completion failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// 429, 529, 5xx, timeouts, connection failures: worth retrying; retry_after from the header when given.
    #[error("the model is unavailable{}: {detail}{}", status_part(*.status), wait_part(*.retry_after))]
    Unavailable {
        status: Option<u16>,
        retry_after: Option<Duration>,
        detail: String,
    },
    /// 400/401/403/404 etc.: retrying will not help (bad key, unknown model, bad request).
    #[error("the model refused the request (HTTP {status}): {detail}")]
    Refused { status: u16, detail: String },
    /// A 2xx whose body is not the documented shape.
    #[error("the model's answer is not in the documented shape: {0}")]
    Garbled(String),
}

impl LlmError {
    /// True when the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LlmError::Unavailable { .. })
    }
}

fn status_part(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn wait_part(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|wait| format!(" (it asks to wait {wait:?})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_status_and_wait() {
        let error = LlmError::Unavailable {
            status: Some(529),
            retry_after: Some(Duration::from_secs(3)),
            detail: "overloaded_error: Overloaded".into(),
        };
        assert_eq!(
            error.to_string(),
            "the model is unavailable (HTTP 529): overloaded_error: Overloaded (it asks to wait 3s)"
        );
        let error = LlmError::Unavailable {
            status: None,
            retry_after: None,
            detail: "no answer within 30s".into(),
        };
        assert_eq!(
            error.to_string(),
            "the model is unavailable: no answer within 30s"
        );
        assert!(error.is_retryable());
        assert!(
            !LlmError::Refused {
                status: 401,
                detail: "x".into()
            }
            .is_retryable()
        );
    }
}

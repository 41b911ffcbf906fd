//! The HTTP exchange both model clients share: one JSON POST with a timeout and no redirects
//! (a redirect could carry the key elsewhere), an answer body read up to 4 MiB, the wait a
//! server asks for (`retry-after-ms`, `retry-after` in seconds), and the sorting of failures
//! into [`LlmError`]s. Everything a server says passes [`Transport::clean`] before it is kept:
//! the API key is cut out, the text made one line and short.

use super::LlmError;
use reqwest::header::{HeaderMap, HeaderValue};
use std::time::Duration;

/// The largest answer read; a bigger 2xx body is [`LlmError::Garbled`].
pub(crate) const MAX_BODY_BYTES: usize = 4 << 20;

/// How much of a server's error text an error keeps.
const MAX_DETAIL_CHARS: usize = 400;

/// What a server answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
    /// The body went past [`MAX_BODY_BYTES`] and was cut there.
    pub(crate) cut: bool,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as a 2xx answer must be: whole and JSON.
    pub(crate) fn json(&self) -> Result<serde_json::Value, LlmError> {
        if self.cut {
            return Err(LlmError::Garbled(format!(
                "the answer is larger than {} MiB",
                MAX_BODY_BYTES >> 20
            )));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| LlmError::Garbled(format!("the answer is not JSON: {e}")))
    }
}

/// What a provider read from an error answer's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerError {
    /// The provider's own words (error type and message), or the body's start.
    pub(crate) detail: String,
    /// The body says waiting will not help (a spend cap or quota used up), whatever the status.
    pub(crate) permanent: bool,
}

/// A reqwest client and the secret it must never repeat.
pub(crate) struct Transport {
    client: reqwest::Client,
    timeout: Duration,
    secret: Option<String>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A client whose every call is bounded by `timeout`; `secret` is the API key, if any.
    pub(crate) fn new(timeout: Duration, secret: Option<String>) -> Result<Self, String> {
        if timeout.is_zero() {
            return Err("the model timeout must be longer than zero".into());
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sentinel/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Transport {
            client,
            timeout,
            secret: secret.filter(|s| !s.is_empty()),
        })
    }

    /// POSTs `body` as JSON to `url` with `headers` and reads the answer.
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &serde_json::Value,
    ) -> Result<Answer, LlmError> {
        let mut response = self
            .client
            .post(url)
            .headers(headers)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        let mut cut = response
            .content_length()
            .is_some_and(|length| length > MAX_BODY_BYTES as u64);
        while !cut {
            match response
                .chunk()
                .await
                .map_err(|e| self.transport_error(e))?
            {
                Some(chunk) if body.len() + chunk.len() > MAX_BODY_BYTES => {
                    let room = MAX_BODY_BYTES - body.len();
                    body.extend_from_slice(&chunk[..room]);
                    cut = true;
                }
                Some(chunk) => body.extend_from_slice(&chunk),
                None => break,
            }
        }
        Ok(Answer {
            status,
            retry_after,
            body,
            cut,
        })
    }

    /// `text` as an error may keep it: the secret cut out, on one line, at most a few hundred
    /// characters.
    pub(crate) fn clean(&self, text: &str) -> String {
        clean(text, self.secret.as_deref())
    }

    /// The error for an answer that is not a 2xx, given what its body said.
    pub(crate) fn failure(&self, answer: &Answer, server: ServerError) -> LlmError {
        failure(
            answer.status,
            answer.retry_after,
            self.clean(&server.detail),
            server.permanent,
        )
    }

    fn transport_error(&self, error: reqwest::Error) -> LlmError {
        let error = error.without_url();
        let detail = if error.is_timeout() {
            format!("no answer within {:?}", self.timeout)
        } else if error.is_connect() {
            format!("cannot connect: {}", crate::source::error_chain(&error))
        } else {
            crate::source::error_chain(&error)
        };
        LlmError::Unavailable {
            status: None,
            retry_after: None,
            detail: self.clean(&detail),
        }
    }
}

/// A header value that `Debug` output and logs do not show.
pub(crate) fn secret_header(value: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| "the API key contains characters a header cannot carry".to_string())?;
    value.set_sensitive(true);
    Ok(value)
}

/// `base_url` without its trailing slash, if it is an http(s) URL through which `sends_secret`
/// may go: a key only over https, or plain http to this machine.
pub(crate) fn base_url(base_url: &str, sends_secret: bool) -> Result<String, String> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed)
        .map_err(|e| format!("the model base URL {trimmed:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if !sends_secret || is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "the model base URL {trimmed} is plain http to another machine: the API key \
                 would cross the network readable; use https"
            ));
        }
        other => {
            return Err(format!(
                "the model base URL {trimmed} has scheme {other:?}; use http or https"
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "the model base URL {trimmed} carries credentials; give the API key on its own"
        ));
    }
    Ok(trimmed.to_string())
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The wait a server asks for: `retry-after-ms` (milliseconds) before `retry-after` (seconds).
/// A date form, a negative or unreadable value is no request to wait.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    if let Some(millis) = number("retry-after-ms") {
        return Duration::try_from_secs_f64(millis / 1000.0).ok();
    }
    Duration::try_from_secs_f64(number("retry-after")?).ok()
}

/// Sorts a failed answer: overload, rate limits, server errors and timeouts are worth a retry
/// (unless the body says the quota is gone); anything else is refused, with what to check.
pub(crate) fn failure(
    status: u16,
    retry_after: Option<Duration>,
    detail: String,
    permanent: bool,
) -> LlmError {
    let retryable = matches!(status, 408 | 409 | 425 | 429 | 500..=599);
    if retryable && !permanent {
        return LlmError::Unavailable {
            status: Some(status),
            retry_after,
            detail,
        };
    }
    let hint = match status {
        300..=399 => "the base URL redirects elsewhere; configure the address it points to",
        401 => "check the API key",
        402 => "check the account's billing",
        403 => "check that the API key may use this model",
        404 => "check the model name and the base URL",
        413 => "the conversation is larger than the endpoint accepts",
        429 => "the account's quota or spend limit is used up; raise it or wait for it to reset",
        _ => "",
    };
    let detail = match (detail.is_empty(), hint.is_empty()) {
        (_, true) => detail,
        (true, false) => hint.to_string(),
        (false, false) => format!("{detail} ({hint})"),
    };
    LlmError::Refused { status, detail }
}

fn clean(text: &str, secret: Option<&str>) -> String {
    let text = match secret {
        Some(secret) => text.replace(secret, "[redacted]"),
        None => text.to_string(),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// The start of an error body no provider shape explained, as its detail.
pub(crate) fn body_start(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        "no explanation in the answer".to_string()
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_reads_milliseconds_first_then_seconds() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7"), ("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            None
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "1e400")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn statuses_sort_into_unavailable_and_refused() {
        for status in [408, 409, 429, 500, 502, 503, 529] {
            assert!(
                failure(status, None, "x".into(), false).is_retryable(),
                "{status}"
            );
        }
        for status in [301, 400, 401, 403, 404, 413, 422] {
            assert!(
                !failure(status, None, "x".into(), false).is_retryable(),
                "{status}"
            );
        }
        assert_eq!(
            failure(429, None, "spend cap".into(), true),
            LlmError::Refused {
                status: 429,
                detail: "spend cap (the account's quota or spend limit is used up; raise it or \
                         wait for it to reset)"
                    .into()
            }
        );
        assert_eq!(
            failure(
                401,
                None,
                "authentication_error: invalid x-api-key".into(),
                false
            ),
            LlmError::Refused {
                status: 401,
                detail: "authentication_error: invalid x-api-key (check the API key)".into()
            }
        );
        assert_eq!(
            failure(
                529,
                Some(Duration::from_secs(2)),
                "overloaded".into(),
                false
            ),
            LlmError::Unavailable {
                status: Some(529),
                retry_after: Some(Duration::from_secs(2)),
                detail: "overloaded".into()
            }
        );
    }

    #[test]
    fn clean_cuts_the_secret_newlines_and_length() {
        assert_eq!(
            clean("bad key sk-secret-123\n  try again", Some("sk-secret-123")),
            "bad key [redacted] try again"
        );
        let long = "é".repeat(1000);
        let cleaned = clean(&long, None);
        assert_eq!(cleaned.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(cleaned.ends_with('…'));
    }

    #[test]
    fn base_urls_keep_keys_off_plain_http_to_other_machines() {
        assert_eq!(
            base_url("https://api.anthropic.com/", true).unwrap(),
            "https://api.anthropic.com"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/v1", true).unwrap(),
            "http://127.0.0.1:8080/v1"
        );
        assert!(base_url("http://localhost:11434/v1", true).is_ok());
        assert!(base_url("http://[::1]:8000/v1", true).is_ok());
        assert!(base_url("http://192.0.2.7:8000/v1", false).is_ok());
        let error = base_url("http://192.0.2.7:8000/v1", true).unwrap_err();
        assert!(error.contains("use https"), "{error}");
        assert!(base_url("ftp://example.com", false).is_err());
        assert!(base_url("not a url", false).is_err());
        assert!(base_url("https://user:pw@example.com", false).is_err());
    }
}

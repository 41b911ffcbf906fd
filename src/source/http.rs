//! HTTP probes: one GET (or HEAD) to a URL, reporting the status, how long the answer took and
//! whether the body matched a pattern.
//!
//! Only GET and HEAD can be sent: [`HttpMethod`] has no other variant. Any status is a
//! reading, not a source error: a 503 is exactly what a watch on a health endpoint wants to
//! see. Source errors are for no answer at all (refused, timed out, TLS failure) or a probe
//! that cannot be sent (bad URL or header). At most [`MAX_BODY_BYTES`] of the body are read.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use regex::Regex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::source::{SourceError, SourceErrorKind};

/// The most body bytes read from one answer; the rest is never downloaded.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Characters of the body kept in [`HttpReading::body_excerpt`].
pub(crate) const EXCERPT_CHARS: usize = 200;

/// The redirects followed before the answer counts as the redirect itself.
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMethod {
    #[default]
    Get,
    Head,
}

/// The statuses a probe expects, as ranges: `200-299,304`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectStatus(pub Vec<RangeInclusive<u16>>);

impl ExpectStatus {
    /// Parses a comma-separated list of statuses and ranges, e.g. `200-299, 301, 404`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (low, high) = part.split_once('-').unwrap_or((part, part));
            let parse = |s: &str| {
                s.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|n| (100..=599).contains(n))
                    .ok_or_else(|| format!("`{s}` in `{spec}` is not an HTTP status (100-599)"))
            };
            let (low, high) = (parse(low)?, parse(high)?);
            if low > high {
                return Err(format!("`{part}` in `{spec}` is an empty range"));
            }
            ranges.push(low..=high);
        }
        if ranges.is_empty() {
            return Err(format!("`{spec}` names no status"));
        }
        Ok(Self(ranges))
    }

    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|r| r.contains(&status))
    }
}

/// One request to make.
#[derive(Clone)]
pub struct HttpProbe {
    pub url: String,
    pub method: HttpMethod,
    /// For the whole exchange: connecting, the answer and the body.
    pub timeout: Duration,
    /// `None` expects a 2xx.
    pub expect_status: Option<ExpectStatus>,
    /// Matched against the first [`MAX_BODY_BYTES`] of the body, decoded lossily as UTF-8.
    pub body_match: Option<Regex>,
    pub headers: Vec<(String, String)>,
}

impl HttpProbe {
    pub fn get(url: &str, timeout: Duration) -> Self {
        Self {
            url: url.to_string(),
            method: HttpMethod::Get,
            timeout,
            expect_status: None,
            body_match: None,
            headers: Vec::new(),
        }
    }
}

/// Header values and URL credentials may be secrets: they are not shown.
impl fmt::Debug for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpProbe")
            .field("url", &redact(&self.url))
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .field("expect_status", &self.expect_status)
            .field("body_match", &self.body_match.as_ref().map(Regex::as_str))
            .field("headers", &header_names)
            .finish()
    }
}

/// What one request saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReading {
    pub status: u16,
    /// Whether `status` is one the probe expects (2xx when it names none).
    pub status_expected: bool,
    /// From sending the request to the end of the body (or of the headers, for HEAD).
    pub latency: Duration,
    /// `None` when the probe has no pattern or the request was a HEAD.
    pub body_matched: Option<bool>,
    /// The first [`EXCERPT_CHARS`] characters of the body (or as many as asked for), lossily
    /// decoded.
    pub body_excerpt: String,
    /// The body was longer than [`MAX_BODY_BYTES`] and was cut there.
    pub body_truncated: bool,
}

/// An HTTP client for probes, sharing connections between them.
pub struct HttpSource {
    name: String,
    client: reqwest::Client,
}

impl fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl HttpSource {
    pub fn new(name: &str) -> Result<Self, SourceError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .user_agent(concat!("sentinel/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                SourceError::new(
                    name,
                    SourceErrorKind::Unreachable,
                    format!("cannot set up the HTTP client: {}", error_chain(&e)),
                )
            })?;
        Ok(Self {
            name: name.to_string(),
            client,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends the probe's request once. Any HTTP status is a reading.
    pub async fn probe(&self, probe: &HttpProbe) -> Result<HttpReading, SourceError> {
        self.probe_with_excerpt(probe, EXCERPT_CHARS).await
    }

    /// [`Self::probe`], keeping the first `excerpt_chars` characters of the body (at most
    /// what [`MAX_BODY_BYTES`] holds) in [`HttpReading::body_excerpt`].
    pub(crate) async fn probe_with_excerpt(
        &self,
        probe: &HttpProbe,
        excerpt_chars: usize,
    ) -> Result<HttpReading, SourceError> {
        let shown = redact(&probe.url);
        let url = Url::parse(&probe.url).map_err(|e| {
            self.error(
                SourceErrorKind::QueryRejected,
                format!("`{shown}` is not a URL: {e}"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.error(
                SourceErrorKind::QueryRejected,
                format!("`{shown}`: only http and https URLs can be probed"),
            ));
        }
        let headers = self.headers(probe)?;
        let method = match probe.method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Head => Method::HEAD,
        };
        let request = self
            .client
            .request(method, url)
            .headers(headers)
            .timeout(probe.timeout);

        let started = Instant::now();
        let exchange = async {
            let mut response = request.send().await?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            let mut truncated = false;
            if probe.method == HttpMethod::Get {
                while let Some(chunk) = response.chunk().await? {
                    let room = MAX_BODY_BYTES - body.len();
                    if chunk.len() >= room {
                        truncated = chunk.len() > room;
                        body.extend_from_slice(&chunk[..room]);
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
            }
            Ok::<_, reqwest::Error>((status, body, truncated))
        };
        let (status, body, truncated) = match tokio::time::timeout(probe.timeout, exchange).await {
            Err(_) => return Err(self.timed_out(&shown, probe.timeout)),
            Ok(Err(e)) => return Err(self.request_error(&e, &shown, probe.timeout)),
            Ok(Ok(answer)) => answer,
        };
        let latency = started.elapsed();

        let text = String::from_utf8_lossy(&body);
        let body_matched = match probe.method {
            HttpMethod::Get => probe.body_match.as_ref().map(|re| re.is_match(&text)),
            HttpMethod::Head => None,
        };
        let status_expected = match &probe.expect_status {
            Some(expect) => expect.matches(status),
            None => (200..=299).contains(&status),
        };
        Ok(HttpReading {
            status,
            status_expected,
            latency,
            body_matched,
            body_excerpt: text.chars().take(excerpt_chars).collect(),
            body_truncated: truncated,
        })
    }

    fn error(&self, kind: SourceErrorKind, detail: impl Into<String>) -> SourceError {
        SourceError::new(&self.name, kind, detail)
    }

    fn headers(&self, probe: &HttpProbe) -> Result<HeaderMap, SourceError> {
        let mut map = HeaderMap::new();
        for (name, value) in &probe.headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                self.error(
                    SourceErrorKind::QueryRejected,
                    format!("`{name}` is not a valid header name"),
                )
            })?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                self.error(
                    SourceErrorKind::QueryRejected,
                    format!("the value of header `{name}` is not valid in a header"),
                )
            })?;
            value.set_sensitive(true);
            map.append(header, value);
        }
        Ok(map)
    }

    fn timed_out(&self, shown: &str, timeout: Duration) -> SourceError {
        self.error(
            SourceErrorKind::Timeout,
            format!("{shown}: no complete answer within {timeout:?}"),
        )
    }

    fn request_error(&self, e: &reqwest::Error, shown: &str, timeout: Duration) -> SourceError {
        if e.is_timeout() {
            return self.timed_out(shown, timeout);
        }
        let kind = if e.is_builder() {
            SourceErrorKind::QueryRejected
        } else if e.is_connect() || e.is_request() {
            SourceErrorKind::Unreachable
        } else {
            SourceErrorKind::BadResponse
        };
        self.error(kind, format!("{shown}: {}", error_chain(e)))
    }
}

/// An error and its causes on one line, without the URL (which may carry credentials).
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut current: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = current {
        let piece = err.to_string();
        let piece = match err.downcast_ref::<reqwest::Error>() {
            Some(re) if re.url().is_some() => {
                let mut plain = String::new();
                if re.is_connect() {
                    plain.push_str("cannot connect");
                } else if re.is_body() {
                    plain.push_str("error reading the body");
                } else if re.is_redirect() {
                    plain.push_str("too many redirects");
                } else {
                    plain.push_str("request failed");
                }
                plain
            }
            _ => piece,
        };
        if !text.is_empty() && !piece.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&piece);
        current = err.source();
    }
    text
}

/// The URL without its user name and password.
pub(crate) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_username("");
                let _ = parsed.set_password(None);
            }
            parsed.to_string()
        }
        Err(_) => match url.split_once('@') {
            Some((_, rest)) => format!("…@{rest}"),
            None => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;

//! Reading a request's body before any route sees it: at most `max_body` bytes, within
//! `body_timeout`. One answer for a body that is too large (413) on every route, one for a body
//! that does not arrive (408); both close the connection.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::time::Duration;

/// Why a body was not read.
#[derive(Debug)]
pub(crate) enum Unread {
    TooLarge,
    TimedOut,
    Broken(String),
}

impl Unread {
    /// The `reason` label of `sentinel_rejected_requests_total`.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Unread::TooLarge => "too_large",
            Unread::TimedOut => "body_timeout",
            Unread::Broken(_) => "bad_request",
        }
    }

    pub(crate) fn response(&self, max_body: usize, body_timeout: Duration) -> Response {
        match self {
            Unread::TooLarge => too_large(max_body),
            Unread::TimedOut => closing(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within [server] body_timeout ({})\n",
                    humantime::format_duration(body_timeout)
                ),
            ),
            Unread::Broken(error) => closing(
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {error}\n"),
            ),
        }
    }
}

/// The one answer to a body over `max_body`, whatever the route.
pub(crate) fn too_large(max_body: usize) -> Response {
    closing(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than [server] max_body ({max_body} bytes)\n"),
    )
}

fn closing(status: StatusCode, text: String) -> Response {
    (status, [(header::CONNECTION, "close")], text).into_response()
}

/// How much of an oversized body is read (and dropped) before the 413, so that the client,
/// still sending, reads the answer instead of a reset connection. Beyond it, the connection is
/// closed on the client.
pub(crate) const DRAIN_LIMIT: usize = 1 << 20;

/// The whole body, if it fits in `max_body` and arrives within `timeout`. A declared
/// `Content-Length` beyond [`DRAIN_LIMIT`] is refused before anything is read.
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Body,
    max_body: usize,
    timeout: Duration,
) -> Result<Bytes, Unread> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > DRAIN_LIMIT.max(max_body) as u64) {
        return Err(Unread::TooLarge);
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stream = body.into_data_stream();
    let mut collected = Vec::new();
    let mut seen = 0usize;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            _ if seen > max_body => return Err(Unread::TooLarge),
            Ok(Some(Err(error))) => return Err(Unread::Broken(error.to_string())),
            Err(_) => return Err(Unread::TimedOut),
        };
        seen = seen.saturating_add(chunk.len());
        if seen <= max_body {
            collected.extend_from_slice(&chunk);
        } else if seen > DRAIN_LIMIT.max(max_body) {
            return Err(Unread::TooLarge);
        } else {
            collected = Vec::new();
        }
    }
    if seen > max_body {
        return Err(Unread::TooLarge);
    }
    Ok(Bytes::from(collected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn bodies_within_the_limit_are_read_whole() {
        let body = Body::from_stream(futures_util::stream::iter(
            ["ab", "cd", "e"].map(Ok::<_, std::io::Error>),
        ));
        let read = read(&HeaderMap::new(), body, 5, Duration::from_secs(1)).await;
        assert_eq!(read.unwrap(), "abcde");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_declared_or_not() {
        let body = Body::from("abcdef");
        let refused = read(&HeaderMap::new(), body, 5, Duration::from_secs(1)).await;
        assert!(matches!(refused, Err(Unread::TooLarge)), "{refused:?}");
        let mut headers = HeaderMap::new();
        let declared = (DRAIN_LIMIT + 1).to_string();
        headers.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_str(&declared).unwrap(),
        );
        let refused = read(&headers, Body::empty(), 5, Duration::from_secs(1)).await;
        assert!(matches!(refused, Err(Unread::TooLarge)), "{refused:?}");
        // An endless body is not read forever.
        let endless = Body::from_stream(futures_util::stream::repeat_with(|| {
            Ok::<_, std::io::Error>(Bytes::from_static(&[b'x'; 4096]))
        }));
        let refused = read(&HeaderMap::new(), endless, 5, Duration::from_secs(5)).await;
        assert!(matches!(refused, Err(Unread::TooLarge)), "{refused:?}");
    }

    #[tokio::test]
    async fn a_body_that_never_arrives_times_out() {
        let body =
            Body::from_stream(futures_util::stream::pending::<Result<Bytes, std::io::Error>>());
        let refused = read(&HeaderMap::new(), body, 5, Duration::from_millis(50)).await;
        assert!(matches!(refused, Err(Unread::TimedOut)), "{refused:?}");
    }
}

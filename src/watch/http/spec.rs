//! The typed configuration of an `http` watch.

use std::time::Duration;

/// `http`: an endpoint answers as it should (status, body, in time).
#[derive(Debug, Clone)]
pub struct HttpSpec {
    /// The request, with the statuses and body it must answer with.
    pub probe: crate::source::http::HttpProbe,
    /// An answer slower than this is a failure too.
    pub max_latency: Option<Duration>,
}

//! The typed configuration of an `error_class` watch.

use crate::config::LogFeed;
use std::time::Duration;

/// `error_class`: bad client input answered with a server error, per route.
#[derive(Debug, Clone)]
pub struct ErrorClassSpec {
    /// The access log (files, a Loki stream or the journal): nginx/Apache combined or JSON.
    pub access_log: LogFeed,
    pub access_format: crate::logs::access::AccessFormat,
    /// The app's own log (files, or a Loki stream), whose errors tell why a request failed.
    pub app_log: Option<LogFeed>,
    /// A route pages once this many bad-input 5xx happened within `window`.
    pub min_count: u32,
    pub window: Duration,
}

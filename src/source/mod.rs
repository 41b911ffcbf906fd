//! Read-only adapters to the things that know what is happening. Nothing in here writes.

pub(crate) mod files;
pub(crate) mod http;
pub(crate) mod journald;
pub mod logfile;
pub(crate) mod loki;
pub mod prometheus;
pub(crate) mod redis;
pub(crate) mod registry;
pub(crate) mod series;
pub mod sql;

use std::fmt;

/// Why a source could not be read. Every variant makes the watches on that source blind:
/// they report unknown, never resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The configured name of the source, e.g. `prom`.
    pub source: String,
    pub kind: SourceErrorKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceErrorKind {
    /// Connection refused, DNS failure, TLS failure.
    Unreachable,
    /// No answer within the configured timeout.
    Timeout,
    /// An answer that is not what the API promises (HTTP 5xx, garbage JSON, an error status).
    BadResponse,
    /// The source answered but refused the query itself (bad PromQL): the watch, not the
    /// source, is at fault.
    QueryRejected,
    /// Sentinel itself will not use the source: its database role can do more than read
    /// (or could not be checked), and `allow_privileged_role` is not set.
    RoleRefused,
    /// Sentinel's own store failed while a watch read or wrote what it remembers: the
    /// blindness is the store's, not the watched source's.
    Store,
}

impl SourceError {
    pub fn new(source: &str, kind: SourceErrorKind, detail: impl Into<String>) -> Self {
        Self {
            source: source.to_string(),
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            SourceErrorKind::Unreachable => "unreachable",
            SourceErrorKind::Timeout => "timed out",
            SourceErrorKind::BadResponse => "bad response",
            SourceErrorKind::QueryRejected => "query rejected",
            SourceErrorKind::Store => "failed",
            // The detail says it all: "refusing to run with role ...".
            SourceErrorKind::RoleRefused => return write!(f, "{}: {}", self.source, self.detail),
        };
        write!(f, "{} {what}: {}", self.source, self.detail)
    }
}

impl std::error::Error for SourceError {}

/// An error and its causes on one line, `outer: inner: innermost`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

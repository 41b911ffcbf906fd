//! Validation of `http` watches: the URL, the statuses and body it must answer with, how fast.

use crate::config::raw::RawWatch;
use crate::config::validate::{Validator, dur};
use crate::config::{HttpSpec, WatchSpecKind};
use crate::source::http::{ExpectStatus, HttpProbe};
use std::time::Duration;

pub(crate) const HTTP_KEYS: &[&str] = &[
    "url",
    "expect_status",
    "body_match",
    "max_latency",
    "bearer_token",
];

/// The longest body pattern accepted, compiled (a pattern is the operator's, but a huge one
/// would be a mistake).
const BODY_PATTERN_LIMIT: usize = 1 << 20;

impl Validator<'_> {
    /// `watch_timeout` bounds the whole evaluation; the request gives up a little earlier, so a
    /// hanging endpoint reads as "no answer in time", not as a blind watch.
    pub(crate) fn http(
        &mut self,
        raw: &RawWatch,
        watch_timeout: Duration,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let Some(url) = &raw.url else {
            missing(self, "url", "\"https://shop.example.com/healthz\"");
            return None;
        };
        let url = self.url(url);
        let expect_status = match &raw.expect_status {
            Some(text) => match ExpectStatus::parse(text.get_ref()) {
                Ok(expect) => Some(expect),
                Err(message) => {
                    self.error(
                        text.span(),
                        format!("{message}; write statuses and ranges like \"200-299, 304\""),
                    );
                    None
                }
            },
            None => None,
        };
        let body_match = match &raw.body_match {
            Some(pattern) => match regex::RegexBuilder::new(pattern.get_ref())
                .size_limit(BODY_PATTERN_LIMIT)
                .build()
            {
                Ok(regex) => Some(regex),
                Err(error) => {
                    self.error(
                        pattern.span(),
                        format!("invalid body_match pattern: {error}"),
                    );
                    None
                }
            },
            None => None,
        };
        let max_latency = dur(&raw.max_latency);
        if let (Some(limit), Some(span)) = (max_latency, raw.max_latency.as_ref())
            && limit >= watch_timeout
        {
            self.error(
                span.span(),
                format!(
                    "max_latency must be shorter than the watch's timeout ({}s): raise `timeout` or lower this",
                    watch_timeout.as_secs()
                ),
            );
        }
        let bearer_token = self.secret(&raw.bearer_token, "bearer_token");
        let mut probe = HttpProbe::get(&url?, request_timeout(watch_timeout));
        probe.expect_status = expect_status;
        probe.body_match = body_match;
        if let Some(token) = bearer_token {
            probe
                .headers
                .push(("Authorization".into(), format!("Bearer {token}")));
        }
        Some(WatchSpecKind::Http(HttpSpec { probe, max_latency }))
    }
}

/// The request gives up at four fifths of the watch's timeout.
fn request_timeout(watch_timeout: Duration) -> Duration {
    watch_timeout.mul_f64(0.8)
}

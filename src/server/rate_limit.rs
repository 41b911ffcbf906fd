//! A token bucket in front of every route: bursts up to one second's worth, then 429.

use crate::telemetry::Metrics;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone)]
pub struct RateLimiter {
    bucket: Arc<Mutex<Bucket>>,
    per_second: f64,
}

struct Bucket {
    tokens: f64,
    refreshed: Instant,
}

impl RateLimiter {
    pub fn new(per_second: u32) -> Self {
        let per_second = f64::from(per_second.max(1));
        Self {
            bucket: Arc::new(Mutex::new(Bucket {
                tokens: per_second,
                refreshed: Instant::now(),
            })),
            per_second,
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&self) -> bool {
        let Ok(mut bucket) = self.bucket.lock() else {
            return false;
        };
        let now = Instant::now();
        let refill = now.duration_since(bucket.refreshed).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.per_second);
        bucket.refreshed = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub async fn limit(
    State((limiter, metrics)): State<(RateLimiter, Arc<Metrics>)>,
    request: Request,
    next: Next,
) -> Response {
    if limiter.try_take() {
        next.run(request).await
    } else {
        metrics.rejected_requests.inc();
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "too many requests\n",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_rate_is_refused() {
        let limiter = RateLimiter::new(3);
        let granted = (0..10).filter(|_| limiter.try_take()).count();
        assert_eq!(granted, 3);
    }
}

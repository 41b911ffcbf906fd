//! Repeating a completion while the model is only unavailable (overloaded, rate limited, down,
//! slow): the wait the server asked for when it gave one, else exponential backoff with jitter.
//! A refusal or a garbled answer ends the attempts at once, as retrying cannot mend them.
//! Waits go through `tokio::time::sleep`, so tests can pause time.

use super::{LlmError, Model, Reply, Request};
use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls in all, the first included (0 counts as 1).
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_wait: Duration,
    /// No wait is longer, whether computed or asked for by the server.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 1 s doubling, 30 s cap.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Calls model.complete until it succeeds, a Refused/Garbled error, or attempts run out; waits
/// retry_after when given (capped at max_wait), else exponential backoff with jitter. Uses tokio::time::sleep so tests can pause time.
pub async fn complete_with_retries(
    model: &dyn Model,
    request: &Request,
    policy: &RetryPolicy,
) -> Result<Reply, LlmError> {
    let attempts = policy.attempts.max(1);
    let mut attempt = 1;
    loop {
        match model.complete(request).await {
            Ok(reply) => return Ok(reply),
            Err(error) if error.is_retryable() && attempt < attempts => {
                let wait = wait_before_retry(policy, attempt, &error, jitter());
                tracing::warn!(
                    model = %model.describe(),
                    attempt,
                    attempts,
                    "{error}; trying again in {wait:?}"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The wait after failed attempt number `attempt` (from 1): the server's `retry_after` capped
/// at `max_wait`, or `first_wait` doubled per earlier failure, capped at `max_wait`, of which
/// `jitter` (0 to 1) picks a point in the upper half, so that clients spread out.
pub(crate) fn wait_before_retry(
    policy: &RetryPolicy,
    attempt: u32,
    error: &LlmError,
    jitter: f64,
) -> Duration {
    if let LlmError::Unavailable {
        retry_after: Some(asked),
        ..
    } = error
    {
        return (*asked).min(policy.max_wait);
    }
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    let backoff = policy
        .first_wait
        .saturating_mul(factor)
        .min(policy.max_wait);
    backoff.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
}

/// A number from 0 to 1 from the system's randomness (the middle when there is none).
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable(retry_after: Option<Duration>) -> LlmError {
        LlmError::Unavailable {
            status: Some(529),
            retry_after,
            detail: "overloaded".into(),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let policy = RetryPolicy::default();
        let error = unavailable(None);
        let full = |attempt| wait_before_retry(&policy, attempt, &error, 1.0);
        assert_eq!(full(1), Duration::from_secs(1));
        assert_eq!(full(2), Duration::from_secs(2));
        assert_eq!(full(3), Duration::from_secs(4));
        assert_eq!(full(6), Duration::from_secs(30));
        assert_eq!(full(200), Duration::from_secs(30));
        assert_eq!(
            wait_before_retry(&policy, 3, &error, 0.0),
            Duration::from_secs(2)
        );
        assert_eq!(
            wait_before_retry(&policy, 3, &error, 0.5),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn the_servers_wait_wins_but_never_past_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(
            wait_before_retry(&policy, 1, &unavailable(Some(Duration::from_secs(7))), 0.0),
            Duration::from_secs(7)
        );
        assert_eq!(
            wait_before_retry(
                &policy,
                1,
                &unavailable(Some(Duration::from_secs(3600))),
                0.0
            ),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn jitter_stays_between_zero_and_one() {
        for _ in 0..100 {
            let value = jitter();
            assert!((0.0..=1.0).contains(&value), "{value}");
        }
    }
}

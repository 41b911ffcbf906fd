//! The `[stripe]` section as Sentinel uses it: the webhook endpoint's signing secrets (several
//! while one is rotated), how old a signed request may be, and where a dispute's charge keeps
//! the app's customer id.

use std::time::Duration;

/// Stripe's documented default tolerance for a signature's timestamp.
pub(crate) const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// What `/hooks/stripe` checks and records.
#[derive(Clone)]
pub struct StripeConfig {
    /// Every signing secret accepted (`whsec_...`), from the environment.
    pub endpoint_secrets: Vec<String>,
    /// How far a signature's timestamp may lie from now, either way.
    pub tolerance: Duration,
    /// The metadata key (on the dispute or its charge) that carries the app's customer id.
    pub customer_email_metadata: Option<String>,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field(
                "endpoint_secrets",
                &format_args!("{} secrets", self.endpoint_secrets.len()),
            )
            .field("tolerance", &self.tolerance)
            .field("customer_email_metadata", &self.customer_email_metadata)
            .finish()
    }
}

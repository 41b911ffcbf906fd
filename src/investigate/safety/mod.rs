//! What keeps an investigation safe: every text that leaves the box for a model provider passes
//! [`Outbound`], which removes secrets (always), replaces personal data with stable placeholders
//! (per policy) and wraps what production said as untrusted data in an envelope the data cannot
//! close. Each piece is pure: text in, text out.

mod envelope;
mod hidden;
mod marker;
mod outbound;
mod personal;
mod secrets;

pub(crate) use outbound::Outbound;
pub(crate) use personal::PersonalDataPolicy;
pub(crate) use secrets::SecretScanner;

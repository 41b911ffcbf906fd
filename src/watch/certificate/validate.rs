//! Validation of a `certificate` watch (`host` or `path`, `expires_within`) and the keys it
//! takes.

use super::spec::{CertificateSpec, CertificateTarget, parse_host};
use crate::config::WatchSpecKind;
use crate::config::raw::RawWatch;
use crate::config::validate::{Validator, dur};
use std::time::Duration;

/// The keys a `certificate` watch takes beyond those every watch takes.
pub(crate) const CERTIFICATE_KEYS: &[&str] = &["host", "path", "expires_within"];

/// How long before its expiry a certificate pages, unless `expires_within` says.
const DEFAULT_EXPIRES_WITHIN: Duration = Duration::from_secs(14 * 24 * 3600);

impl Validator<'_> {
    pub(crate) fn certificate(
        &mut self,
        raw: &RawWatch,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let target = match (&raw.host, &raw.path) {
            (Some(host), None) => match parse_host(host.get_ref()) {
                Ok((host, port)) => CertificateTarget::Host { host, port },
                Err(message) => {
                    self.error(host.span(), message);
                    return None;
                }
            },
            (None, Some(path)) => CertificateTarget::File {
                path: self.expanded(path)?,
            },
            (Some(_), Some(path)) => {
                self.error(
                    path.span(),
                    "a certificate watch reads either `host` or `path`, not both",
                );
                return None;
            }
            (None, None) => {
                missing(
                    self,
                    "host",
                    "\"shop.example.com:443\" (or path = \"/etc/letsencrypt/live/shop/cert.pem\")",
                );
                return None;
            }
        };
        if let Some(within) = &raw.expires_within
            && within.get_ref().0.is_zero()
        {
            self.error(within.span(), "must be longer than zero");
        }
        Some(WatchSpecKind::Certificate(CertificateSpec {
            target,
            expires_within: dur(&raw.expires_within).unwrap_or(DEFAULT_EXPIRES_WITHIN),
        }))
    }
}

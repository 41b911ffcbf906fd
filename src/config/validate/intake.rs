//! Validation of `alertmanager` watches: credentials from `${VAR}` only (a bearer token, or a
//! username and password), at most one such watch, and no unauthenticated intake beyond
//! loopback.

use super::Validator;
use crate::config::raw::{RawConfig, RawWatch, WatchKind};
use crate::config::*;

/// The intake's credentials: a bearer token, or a username and password.
pub(super) const ALERTMANAGER_KEYS: &[&str] = &["bearer_token", "username", "password"];

impl Validator<'_> {
    pub(super) fn alertmanager(&mut self, raw: &RawWatch) -> Option<WatchSpecKind> {
        let auth = match (&raw.bearer_token, &raw.username, &raw.password) {
            (None, None, None) => IntakeAuth::None,
            (Some(_), None, None) => {
                IntakeAuth::Bearer(self.secret(&raw.bearer_token, "bearer_token")?)
            }
            (None, Some(username), Some(_)) => IntakeAuth::Basic {
                username: self.expanded(username)?,
                password: self.secret(&raw.password, "password")?,
            },
            (Some(token), _, _) => {
                self.error(
                    token.span(),
                    "give either bearer_token or username + password, not both",
                );
                return None;
            }
            (None, Some(username), None) => {
                self.error(
                    username.span(),
                    "basic auth needs password = \"${SOME_VARIABLE}\" too",
                );
                return None;
            }
            (None, None, Some(password)) => {
                self.error(password.span(), "basic auth needs username = \"...\" too");
                return None;
            }
        };
        if let IntakeAuth::Basic { username, .. } = &auth
            && (username.is_empty() || username.contains(':'))
            && let Some(span) = raw.username.as_ref().map(|u| u.span())
        {
            self.error(span, "username must be non-empty and contain no `:`");
        }
        Some(WatchSpecKind::Alertmanager(AlertmanagerSpec { auth }))
    }

    /// Rules that span sections: one intake per kind, and credentials unless on loopback.
    pub(super) fn intake_rules(
        &mut self,
        raw: &RawConfig,
        watches: &[WatchSpec],
        server: &ServerConfig,
    ) {
        let mut intakes: Vec<_> = raw
            .watches
            .iter()
            .filter(|(_, w)| *w.kind.get_ref() == WatchKind::Alertmanager)
            .collect();
        intakes.sort_by_key(|(name, _)| name.span().start);
        if let [(first, _), rest @ ..] = intakes.as_slice() {
            for (other, _) in rest {
                self.error(
                    other.span(),
                    format!(
                        "only one alertmanager watch is supported (`{}` is already one): route every receiver to it",
                        first.get_ref()
                    ),
                );
            }
        }
        let listen = server.listen;
        for spec in watches {
            if let WatchSpecKind::Alertmanager(AlertmanagerSpec {
                auth: IntakeAuth::None,
            }) = &spec.kind
                && !listen.ip().is_loopback()
                && let Some((_, watch)) = raw
                    .watches
                    .iter()
                    .find(|(name, _)| *name.get_ref() == spec.name)
            {
                self.error(
                    watch.kind.span(),
                    format!(
                        "alertmanager watch `{}` has no credentials but [server] listens on {listen}, beyond loopback: set bearer_token = \"${{ALERTMANAGER_TOKEN}}\" (or username + password), or listen on 127.0.0.1",
                        spec.name
                    ),
                );
            }
        }
    }
}

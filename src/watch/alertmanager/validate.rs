//! Validation of an `alertmanager` watch (alerts Alertmanager sends to the intake): how the
//! intake authenticates it, and the keys it takes.

use crate::config::raw::RawWatch;
use crate::config::validate::Validator;
use crate::config::*;

pub(crate) const ALERTMANAGER_KEYS: &[&str] = &["bearer_token", "username", "password"];

impl Validator<'_> {
    pub(crate) fn alertmanager(&mut self, raw: &RawWatch) -> Option<WatchSpecKind> {
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
}

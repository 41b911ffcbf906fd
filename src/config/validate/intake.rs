//! The rules of the Alertmanager intake across watches: at most one `alertmanager` watch, and
//! no unauthenticated intake beyond loopback (each watch's credentials are validated in
//! `watch/alertmanager/validate.rs`).

use super::Validator;
use crate::config::raw::{RawConfig, WatchKind};
use crate::config::*;

impl Validator<'_> {
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

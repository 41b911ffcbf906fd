//! `certificate`: a TLS certificate that was supposed to be renewed and was not. Reads the
//! certificate a host serves (one handshake, nothing sent) or a certificate file, and pages
//! when it expires within `expires_within` (14 days unless set), naming the host, the subject,
//! the issuer and the expiry. Expiry is judged whether or not the chain is trusted; a chain the
//! system does not trust, or one not issued for the name, is a fact on the page. A renewed
//! certificate resolves the page; a host that cannot be reached is blindness, not a page.

pub(crate) mod core;
mod playbook;
mod read;
pub(crate) mod spec;
pub(crate) mod validate;

use self::core::judge;
use super::WatchContext;
use super::kind::{Watch, WatchedFiles};
use super::observation::Evaluation;
use crate::config::WatchSpec;
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use futures_util::future::BoxFuture;
use spec::{CertificateSpec, CertificateTarget};

impl Watch for CertificateSpec {
    fn replay(&self, _sources: &[crate::config::SourceSpec]) -> super::kind::Replay {
        super::kind::Replay::Skipped("it reads the certificate served now".to_string())
    }

    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(async move {
            let label = self.target.label();
            let facts = match &self.target {
                CertificateTarget::Host { host, port } => {
                    read::served(&label, host, *port, spec.timeout.mul_f64(0.9)).await
                }
                CertificateTarget::File { path } => read::on_disk(path).await,
            };
            match facts {
                Ok(facts) => Evaluation::Complete(vec![judge(
                    &label,
                    &spec.description,
                    &facts,
                    self.expires_within,
                    ctx.now,
                )]),
                Err(error) => Evaluation::Blind(error),
            }
        })
    }

    fn blind_label(&self) -> Option<String> {
        Some(self.target.label())
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn describe(&self, hold: &str) -> String {
        format!(
            "certificate of {} valid for more than {}{hold}",
            self.target.label(),
            crate::humanize::duration(self.expires_within)
        )
    }

    fn files(&self) -> Vec<WatchedFiles<'_>> {
        match &self.target {
            CertificateTarget::File { path } => vec![WatchedFiles::Read(path)],
            CertificateTarget::Host { .. } => Vec::new(),
        }
    }
}

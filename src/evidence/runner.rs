//! Evidence packs beside the evaluation loop: requests (from `/evidence` or a new dispute) are
//! taken oldest first and built one at a time, written to `[evidence] out` and sent to the
//! chat; requests a stop left building are taken again at start. The same task reminds the
//! operator once of each open dispute a day before its evidence is due. The loop never waits
//! for any of it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::build::{self, BuildError, GatherError, Request, dispute_facts};
use super::{telegram, write};
use crate::engine::Engine;
use crate::notify::telegram::TelegramChannel;
use crate::store::evidence_packs::{EvidenceOutcome, EvidenceRequest};

/// How often the queue and the deadlines are looked at.
const POLL: Duration = Duration::from_secs(2);
/// How long before a dispute's deadline the reminder goes out.
const REMIND_BEFORE: chrono::Duration = chrono::Duration::hours(24);

/// Builds evidence packs from the queue.
#[derive(Clone)]
pub struct EvidenceRunner {
    engine: Engine,
    chat: Option<TelegramChannel>,
}

impl EvidenceRunner {
    pub fn new(engine: Engine, chat: Option<TelegramChannel>) -> Self {
        Self { engine, chat }
    }

    /// Runs until `shutdown` resolves.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) {
        match self.engine.store().requeue_interrupted_evidence().await {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} interrupted evidence packs requeued"),
            Err(error) => tracing::error!("could not requeue interrupted evidence packs: {error}"),
        }
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                () = self.pass() => {}
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Builds every waiting pack, then sends the reminders due.
    async fn pass(&self) {
        loop {
            match self.engine.store().claim_evidence_request().await {
                Ok(Some(request)) => self.answer(&request).await,
                Ok(None) => break,
                Err(error) => {
                    tracing::error!("cannot read the evidence queue: {error}");
                    break;
                }
            }
        }
        self.remind(self.engine.now()).await;
    }

    /// Builds, writes and sends one pack, and records what became of it.
    async fn answer(&self, request: &EvidenceRequest) {
        let store = self.engine.store();
        let now = self.engine.now();
        let dispute = match request.dispute_id() {
            Some(id) => match store.disputes().await {
                Ok(disputes) => disputes.iter().find(|d| d.id == id).map(dispute_facts),
                Err(error) => {
                    tracing::error!(request = request.id, "cannot read the dispute: {error}");
                    None
                }
            },
            None => None,
        };
        let outcome = self.build_and_write(request, dispute.clone(), now).await;
        let (status, detail) = match &outcome {
            Ok((_, written)) => (EvidenceOutcome::Built, written.pdf.display().to_string()),
            Err(reason) => (EvidenceOutcome::Failed, reason.clone()),
        };
        match &outcome {
            Ok((built, written)) => tracing::info!(
                request = request.id,
                pdf = %written.pdf.display(),
                bytes = written.pdf_bytes,
                sections = built.pack.sections.len(),
                "evidence pack built"
            ),
            Err(reason) => tracing::warn!(request = request.id, "no evidence pack: {reason}"),
        }
        if let Some(channel) = &self.chat {
            let sent = match &outcome {
                Ok((built, written)) => {
                    telegram::send_pack(channel, built, written, request.reply_to_message).await
                }
                Err(reason) => {
                    telegram::send_failure(
                        channel,
                        &request.customer,
                        dispute.as_ref(),
                        reason,
                        request.reply_to_message,
                    )
                    .await
                }
            };
            if let Err(error) = sent {
                tracing::warn!(
                    request = request.id,
                    "evidence pack not sent to Telegram: {error}"
                );
            }
        }
        if let Err(error) = store
            .finish_evidence_request(request.id, status, &detail, now)
            .await
        {
            tracing::error!(
                request = request.id,
                "cannot record the evidence pack: {error}"
            );
        }
    }

    async fn build_and_write(
        &self,
        request: &EvidenceRequest,
        dispute: Option<crate::evidence::pack::DisputeFacts>,
        now: DateTime<Utc>,
    ) -> Result<(build::Built, write::Written), String> {
        let config = self.engine.config();
        let evidence = config
            .evidence
            .as_ref()
            .ok_or_else(|| BuildError::NotConfigured.to_string())?;
        if request.customer.trim().is_empty() {
            return Err(
                "Stripe did not say who the customer is (no email on the dispute, and no customer_email_metadata key in [stripe]): /evidence <email or id> builds the pack"
                    .to_string(),
            );
        }
        let build_request = Request {
            customer: request.customer.clone(),
            dispute,
            charge: None,
        };
        let built =
            build::build(config, &build_request, now)
                .await
                .map_err(|error| match error {
                    BuildError::Gather(GatherError::UnknownCustomer { .. }) => {
                        format!("{error}; no pack was built")
                    }
                    other => other.to_string(),
                })?;
        let written = write::write(&evidence.out, &built).map_err(|error| error.to_string())?;
        Ok((built, written))
    }

    /// Reminds once of each open dispute due within a day.
    async fn remind(&self, now: DateTime<Utc>) {
        let store = self.engine.store();
        let due = match store.disputes_to_remind(now + REMIND_BEFORE).await {
            Ok(due) => due,
            Err(error) => {
                tracing::error!("cannot read dispute deadlines: {error}");
                return;
            }
        };
        for dispute in due {
            if dispute.evidence_due_by.is_some_and(|at| at < now) {
                // Past its deadline: nothing left to remind of.
                let _ = store.mark_dispute_reminded(&dispute.id, now).await;
                continue;
            }
            let pack = store
                .latest_pack_for_dispute(&dispute.id)
                .await
                .ok()
                .flatten();
            let text = telegram::reminder_text(&dispute, pack.as_deref(), now);
            let sent = match &self.chat {
                Some(channel) => {
                    channel.pacer.wait_turn().await;
                    channel
                        .api
                        .send_message(channel.chat_id, &text, None)
                        .await
                        .map(|_| ())
                        .map_err(|error| error.to_string())
                }
                None => {
                    tracing::warn!(dispute = %dispute.id, "evidence due within a day (no Telegram channel to remind)");
                    Ok(())
                }
            };
            match sent {
                Ok(()) => {
                    if let Err(error) = store.mark_dispute_reminded(&dispute.id, now).await {
                        tracing::error!("cannot record the reminder: {error}");
                    }
                }
                Err(error) => tracing::warn!(dispute = %dispute.id, "reminder not sent: {error}"),
            }
        }
    }
}

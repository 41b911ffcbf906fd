//! An investigation in the chat: one progress message, a reply to the page or question it
//! answers, edited in place while it runs (what step, elapsed); then the report as a reply,
//! with its buttons (Ask more, Not actionable, and Open issue + fix for a durable code bug),
//! and the full Markdown report attached when the message could not hold it all.

use super::conduct::ProgressState;
use super::finding::Classification;
use super::render;
use super::report::Report;
use crate::notify::telegram::TelegramChannel;
use crate::notify::telegram::api::ApiError;
use crate::notify::telegram::keyboard::{self, Action};
use crate::notify::telegram::render::escape;
use crate::store::chat::PageRef;
use crate::store::operator::InvestigationRequest;
use std::time::Duration;

/// The chat side of investigations.
#[derive(Clone)]
pub struct ChatReports {
    pub channel: TelegramChannel,
}

/// The progress message of one running investigation.
#[derive(Debug, Clone, Copy)]
pub struct ProgressMessage {
    pub message_id: i64,
    /// What the answer replies to.
    pub reply_to: Option<i64>,
}

fn progress_text(
    request: &InvestigationRequest,
    state: &ProgressState,
    elapsed: Duration,
) -> String {
    format!(
        "🔎 Investigating #{}: “{}”\n⏳ step {}: {} · {}",
        request.id,
        escape(&request.question.chars().take(200).collect::<String>()),
        state.steps,
        escape(&state.doing),
        crate::humanize::duration(Duration::from_secs(elapsed.as_secs()))
    )
}

impl ChatReports {
    /// Where the answer to `request` goes: the message it was asked from, else its page.
    async fn reply_target(&self, request: &InvestigationRequest) -> Option<i64> {
        let store = &self.channel.store;
        if let Ok(thread) = store.chat_thread(request.id).await
            && thread.reply_to_message.is_some()
        {
            return thread.reply_to_message;
        }
        let notice_key = request.notice_key.as_deref()?;
        store
            .page_message_id(self.channel.chat_id, notice_key)
            .await
            .ok()
            .flatten()
    }

    /// Posts the progress message; `None` when Telegram could not take it (the
    /// investigation goes on, and the report is still sent).
    pub async fn start(&self, request: &InvestigationRequest) -> Option<ProgressMessage> {
        let reply_to = self.reply_target(request).await;
        let text = progress_text(request, &ProgressState::default(), Duration::ZERO);
        self.channel.pacer.wait_turn().await;
        match self
            .channel
            .api
            .send_reply(self.channel.chat_id, &text, reply_to, None)
            .await
        {
            Ok(message_id) => Some(ProgressMessage {
                message_id,
                reply_to,
            }),
            Err(error) => {
                tracing::warn!(
                    request = request.id,
                    "telegram: no progress message: {error}"
                );
                None
            }
        }
    }

    /// Edits the progress message to what the investigation is doing now.
    pub async fn update(
        &self,
        message: ProgressMessage,
        request: &InvestigationRequest,
        state: &ProgressState,
        elapsed: Duration,
    ) {
        let text = progress_text(request, state, elapsed);
        self.channel.pacer.wait_turn().await;
        if let Err(error) = self
            .channel
            .api
            .edit_message(self.channel.chat_id, message.message_id, &text, None)
            .await
            && !error.is_not_modified()
        {
            tracing::debug!(
                request = request.id,
                "telegram: progress not updated: {error}"
            );
        }
    }

    /// Sends the report as a reply, with its buttons, and the full report as a document when
    /// the message could not hold it; closes the progress message. Returns the report's
    /// message id.
    pub async fn finish(
        &self,
        progress: Option<ProgressMessage>,
        request: &InvestigationRequest,
        report: &Report,
    ) -> Result<i64, ApiError> {
        let reply_to = match progress {
            Some(progress) => progress.reply_to,
            None => self.reply_target(request).await,
        };
        let shaped = render::telegram(report);
        let page = PageRef {
            watch: report.watch.clone().unwrap_or_default(),
            subjects: report.subjects.clone(),
            notice_key: request.notice_key.clone().unwrap_or_default(),
            title: report.title.clone(),
        };
        let mut actions = vec![Action::AskMore];
        if request.watch.is_some() {
            actions.push(Action::NotActionable);
        }
        if report.finding.classification == Classification::DurableCodeBug {
            actions.push(Action::OpenFix);
        }
        let keyboard = self.stored_keyboard(&actions, &page).await;
        self.channel.pacer.wait_turn().await;
        let message_id = self
            .channel
            .api
            .send_reply(
                self.channel.chat_id,
                &shaped.html,
                reply_to,
                keyboard.as_ref(),
            )
            .await?;
        if let Err(error) = self
            .channel
            .store
            .set_report_message(request.id, message_id)
            .await
        {
            tracing::error!(
                request = request.id,
                "the report's message is not remembered: {error}"
            );
        }
        if !shaped.complete {
            self.channel.pacer.wait_turn().await;
            let name = format!("investigation-{}.md", request.id);
            if let Err(error) = self
                .channel
                .api
                .send_document(
                    self.channel.chat_id,
                    &name,
                    render::markdown(report),
                    &format!("The full report of investigation #{}", request.id),
                    Some(message_id),
                )
                .await
            {
                tracing::warn!(
                    request = request.id,
                    "telegram: the full report was not attached: {error}"
                );
            }
        }
        if let Some(progress) = progress {
            let took = (report.finished_at - report.started_at)
                .to_std()
                .unwrap_or_default();
            let text = format!(
                "✅ Investigation #{} finished in {}: {}. The report is below.",
                request.id,
                crate::humanize::duration(Duration::from_secs(took.as_secs())),
                report.finding.verdict
            );
            self.channel.pacer.wait_turn().await;
            let _ = self
                .channel
                .api
                .edit_message(self.channel.chat_id, progress.message_id, &text, None)
                .await;
        }
        Ok(message_id)
    }

    /// Tells the operator the investigation failed, in place of its progress message.
    pub async fn failed(
        &self,
        progress: Option<ProgressMessage>,
        request: &InvestigationRequest,
        why: &str,
    ) {
        let text = format!(
            "⚠️ Investigation #{} failed: {}\nAsk again by replying to the page.",
            request.id,
            escape(why)
        );
        self.channel.pacer.wait_turn().await;
        let result = match progress {
            Some(progress) => {
                self.channel
                    .api
                    .edit_message(self.channel.chat_id, progress.message_id, &text, None)
                    .await
            }
            None => self
                .channel
                .api
                .send_reply(
                    self.channel.chat_id,
                    &text,
                    self.reply_target(request).await,
                    None,
                )
                .await
                .map(|_| ()),
        };
        if let Err(error) = result {
            tracing::warn!(
                request = request.id,
                "telegram: the failure was not told: {error}"
            );
        }
    }

    /// Stores the buttons and returns their keyboard; none when they cannot be stored.
    async fn stored_keyboard(
        &self,
        actions: &[Action],
        page: &PageRef,
    ) -> Option<serde_json::Value> {
        let buttons = keyboard::buttons_for(actions, page, self.channel.chat_id).ok()?;
        let now = self.channel.clock.now();
        for (_, button) in &buttons {
            if let Err(error) = self.channel.store.add_button(button, now).await {
                tracing::warn!("telegram: report buttons not stored: {error}");
                return None;
            }
        }
        Some(keyboard::markup_rows(&buttons))
    }
}

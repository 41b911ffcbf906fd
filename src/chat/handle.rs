//! What one update from Telegram does: a button press, a reply to a page, a command. Each
//! returns what to say; the store changes only for an admitted operator, and every change is
//! recorded as a gate (who, when, what, on what).

use super::auth::REFUSED;
use super::command::{self, Command};
use super::{ChatBot, Outgoing};
use crate::notify::telegram::api::{CallbackQuery, Message, Update};
use crate::notify::telegram::keyboard::{self, Action};
use crate::notify::telegram::render::escape;
use crate::store::StoreError;
use crate::store::chat::PageRef;
use crate::store::operator::{About, Gate, GateAction, Verdict};
use chrono::{DateTime, Utc};

/// What the operator is told when an investigation is queued.
const INVESTIGATION_QUEUED: &str = "the answer comes as a reply to this";

fn about(page: &PageRef) -> About<'_> {
    About {
        watch: Some(&page.watch),
        subjects: &page.subjects,
        notice_key: Some(&page.notice_key),
    }
}

impl ChatBot {
    /// Handles one update. Store failures are logged and told to the operator; nothing else
    /// escapes.
    pub async fn handle(&self, update: &Update) -> Vec<Outgoing> {
        let result = if let Some(value) = &update.callback_query {
            match serde_json::from_value::<CallbackQuery>(value.clone()) {
                Ok(query) => self.on_callback(&query).await,
                Err(error) => {
                    tracing::warn!(
                        update = update.update_id,
                        "unreadable button press ignored: {error}"
                    );
                    // Still stop the spinner if there is an id to answer.
                    Ok(value
                        .get("id")
                        .and_then(|id| id.as_str())
                        .map(|id| Outgoing::Answer {
                            callback_id: id.to_string(),
                            text: REFUSED.to_string(),
                        })
                        .into_iter()
                        .collect())
                }
            }
        } else if let Some(value) = &update.message {
            match serde_json::from_value::<Message>(value.clone()) {
                Ok(message) => self.on_message(&message).await,
                Err(error) => {
                    tracing::info!(
                        update = update.update_id,
                        "unreadable message ignored: {error}"
                    );
                    Ok(Vec::new())
                }
            }
        } else if let Some(value) = &update.edited_message {
            Ok(self.on_edited(value))
        } else {
            tracing::info!(update = update.update_id, "update of another kind ignored");
            Ok(Vec::new())
        };
        result.unwrap_or_else(|error| {
            tracing::error!("chat: could not record the operator's action: {error}");
            vec![Outgoing::Say {
                chat_id: self.gate.chat_id,
                html: escape(&format!(
                    "⚠️ That was not recorded: the store failed ({error}). Try again."
                )),
            }]
        })
    }

    fn refuse_in(&self, chat_id: Option<i64>, why: &str) -> Vec<Outgoing> {
        tracing::warn!("chat: refused: {why}");
        chat_id
            .map(|chat_id| Outgoing::Say {
                chat_id,
                html: REFUSED.to_string(),
            })
            .into_iter()
            .collect()
    }

    fn on_edited(&self, value: &serde_json::Value) -> Vec<Outgoing> {
        let chat_id = value
            .get("chat")
            .and_then(|c| c.get("id"))
            .and_then(|id| id.as_i64());
        if value.get("text").is_some() {
            self.refuse_in(chat_id, "an edited message (only new messages count)")
        } else {
            tracing::info!("chat: an edited non-text message ignored");
            Vec::new()
        }
    }

    async fn on_callback(&self, query: &CallbackQuery) -> Result<Vec<Outgoing>, StoreError> {
        let refuse = |why: &str| {
            tracing::warn!(user = query.from.id, "chat: button press refused: {why}");
            Ok(vec![Outgoing::Answer {
                callback_id: query.id.clone(),
                text: REFUSED.to_string(),
            }])
        };
        let Some(actor) = self.gate.admit(Some(&query.from), query.chat_id()) else {
            return refuse("not an allowed user in the configured chat");
        };
        let Some(data) = query.data.as_deref().filter(|d| keyboard::is_button_id(d)) else {
            return refuse("malformed button data");
        };
        let Some(button) = self.store.button(data).await? else {
            return refuse("unknown or stale button");
        };
        if button.chat_id != self.gate.chat_id {
            return refuse("a button of another chat");
        }
        let Some(action) = Action::parse(&button.action) else {
            return refuse("a button with an unknown action");
        };
        let now = self.clock.now();
        let page = &button.page;
        let message_id = query
            .message
            .as_ref()
            .and_then(|m| m.get("message_id"))
            .and_then(|id| id.as_i64());
        let said = self.apply(action, page, message_id, &actor, now).await?;
        Ok(vec![
            Outgoing::Answer {
                callback_id: query.id.clone(),
                text: said.toast,
            },
            Outgoing::Say {
                chat_id: self.gate.chat_id,
                html: said.line,
            },
        ])
    }

    /// Carries out a page's button.
    async fn apply(
        &self,
        action: Action,
        page: &PageRef,
        message_id: Option<i64>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Said, StoreError> {
        let title = escape(&page.title);
        let who = escape(actor);
        let said = match action {
            Action::Investigate => {
                let question = format!("Investigate: {}", page.title);
                let id = self
                    .store
                    .add_investigation_request(actor, about(page), &question, now)
                    .await?;
                self.store.set_chat_thread(id, message_id, None).await?;
                self.record_gate(
                    actor,
                    now,
                    GateAction::Investigate,
                    &page.notice_key,
                    &format!("request #{id}"),
                )
                .await?;
                Said {
                    toast: "Investigation requested".into(),
                    line: format!(
                        "🔎 Investigation #{id} requested by {who}: {title}\nThe answer comes as a reply to the page. Reply to the page to ask something else."
                    ),
                }
            }
            Action::AskMore => Said {
                toast: "Reply to the report with your question".into(),
                line: "💬 Reply to the report with your question: the investigation goes on from what it found.".into(),
            },
            Action::OpenFix => {
                let request = match message_id {
                    Some(message_id) => self.store.request_of_report_message(message_id).await?,
                    None => None,
                };
                let target = request.map_or_else(|| page.notice_key.clone(), |id| format!("investigation #{id}"));
                self.record_gate(actor, now, GateAction::Fix, &target, &page.title)
                    .await?;
                Said {
                    toast: "Fix approved".into(),
                    line: format!(
                        "🛠 Opening an issue and a fix approved by {who} for {}: recorded. Nothing has been changed; opening the issue and the pull request is not built into this version yet.",
                        escape(&target)
                    ),
                }
            }
            Action::Snooze1h | Action::Snooze1d => {
                let (hours, label, gate) = if action == Action::Snooze1h {
                    (1, "1h", GateAction::Snooze1h)
                } else {
                    (24, "1d", GateAction::Snooze1d)
                };
                let until = now + chrono::Duration::hours(hours);
                for subject in &page.subjects {
                    self.store
                        .add_silence(
                            &page.watch,
                            Some(subject),
                            Some(until),
                            &format!("snoozed {label} from Telegram"),
                            actor,
                            now,
                        )
                        .await?;
                }
                self.record_gate(actor, now, gate, &page.notice_key, "")
                    .await?;
                Said {
                    toast: format!("Snoozed for {label}"),
                    line: format!(
                        "😴 Snoozed {label} by {who}: {title} (until {})",
                        until.format("%a %d %b %H:%M UTC")
                    ),
                }
            }
            Action::Mute => {
                self.mute_page(page, actor, now, "muted from Telegram")
                    .await?;
                self.record_gate(actor, now, GateAction::Mute, &page.notice_key, "")
                    .await?;
                Said {
                    toast: "Muted until unmuted".into(),
                    line: format!(
                        "🔇 Muted by {who}: {title}\n/unmute {} to hear about it again.",
                        escape(&page.watch)
                    ),
                }
            }
            Action::NotActionable => {
                self.store
                    .add_verdict(actor, about(page), Verdict::NotActionable, now)
                    .await?;
                self.mute_page(page, actor, now, "not actionable").await?;
                self.record_gate(actor, now, GateAction::NotActionable, &page.notice_key, "")
                    .await?;
                Said {
                    toast: "Marked not actionable and muted".into(),
                    line: format!(
                        "🗑 Not actionable, says {who}: {title}\nRecorded, and muted; /unmute {} to undo.",
                        escape(&page.watch)
                    ),
                }
            }
        };
        Ok(said)
    }

    async fn mute_page(
        &self,
        page: &PageRef,
        actor: &str,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        for subject in &page.subjects {
            self.store
                .add_silence(&page.watch, Some(subject), None, reason, actor, now)
                .await?;
        }
        Ok(())
    }

    async fn record_gate(
        &self,
        actor: &str,
        at: DateTime<Utc>,
        action: GateAction,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.store
            .add_gate(&Gate {
                actor: actor.to_string(),
                at,
                action,
                target: target.to_string(),
                detail: detail.to_string(),
            })
            .await
    }

    async fn on_message(&self, message: &Message) -> Result<Vec<Outgoing>, StoreError> {
        let Some(text) = message.text.as_deref() else {
            tracing::info!(
                chat = message.chat.id,
                "chat: a message without text ignored"
            );
            return Ok(Vec::new());
        };
        let Some(actor) = self
            .gate
            .admit(message.from.as_ref(), Some(message.chat.id))
        else {
            return Ok(self.refuse_in(Some(message.chat.id), "a message from someone not allowed"));
        };
        let say = |html: String| {
            Ok(vec![Outgoing::Say {
                chat_id: self.gate.chat_id,
                html,
            }])
        };
        let now = self.clock.now();
        if text.trim_start().starts_with('/') {
            return match command::parse(text) {
                Ok(command) => say(self
                    .command(command, message.message_id, &actor, now)
                    .await?),
                Err(usage) => say(escape(&usage)),
            };
        }
        let replied = message.reply_to_message.as_ref().map(|r| r.message_id);
        let page = match replied {
            Some(replied) => self.store.page_message(self.gate.chat_id, replied).await?,
            None => None,
        };
        if page.is_none()
            && let Some(replied) = replied
            && let Some(earlier) = self.store.request_of_report_message(replied).await?
        {
            return say(self
                .follow_up(earlier, replied, text.trim(), &actor, now)
                .await?);
        }
        let Some(page) = page else {
            return say(
                "Reply to a page to ask about it, or send /help for what I understand.".into(),
            );
        };
        let question = text.trim();
        let id = self
            .store
            .add_investigation_request(&actor, about(&page), question, now)
            .await?;
        self.store.set_chat_thread(id, replied, None).await?;
        self.record_gate(
            &actor,
            now,
            GateAction::Investigate,
            &page.notice_key,
            &format!("request #{id}: {question}"),
        )
        .await?;
        say(format!(
            "🔎 Investigation #{id} requested: “{}” about {}\nThe answer comes as a reply to the page.",
            escape(question),
            escape(&page.title)
        ))
    }

    /// A reply to a report: a follow-up question about the same alert, answered as a reply to
    /// that report.
    async fn follow_up(
        &self,
        earlier: i64,
        report_message: i64,
        question: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let Some(first) = self.store.investigation_request(earlier).await? else {
            return Ok("That report is no longer in the store.".into());
        };
        let about = About {
            watch: first.watch.as_deref(),
            subjects: &first.subjects,
            notice_key: first.notice_key.as_deref(),
        };
        let id = self
            .store
            .add_investigation_request(actor, about, question, now)
            .await?;
        self.store
            .set_chat_thread(id, Some(report_message), Some(earlier))
            .await?;
        self.record_gate(
            actor,
            now,
            GateAction::Investigate,
            first.notice_key.as_deref().unwrap_or(""),
            &format!("request #{id}, following #{earlier}: {question}"),
        )
        .await?;
        Ok(format!(
            "🔎 Follow-up #{id} of investigation #{earlier}: “{}”\nThe answer comes as a reply to the report.",
            escape(question)
        ))
    }

    async fn command(
        &self,
        command: Command,
        message_id: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let unknown = |watch: &str| {
            format!(
                "No watch named “{}”. Watches: {}",
                escape(watch),
                escape(&self.watches.join(", "))
            )
        };
        Ok(match command {
            Command::Help => command::HELP.to_string(),
            Command::Status => {
                let alerts = self.store.all_alerts().await?;
                let silences = self.store.active_silences(now).await?;
                let (waiting, running) = self.store.investigation_counts().await?;
                let spent = self.store.spent_today(now).await?;
                format!(
                    "{}\n{}",
                    super::status::render(&alerts, &silences, now),
                    super::status::investigations(waiting, running, spent, self.daily_budget)
                )
            }
            Command::Snooze { watch, duration } => {
                if !self.watches.contains(&watch) {
                    return Ok(unknown(&watch));
                }
                let until = now + chrono::Duration::from_std(duration).unwrap_or_default();
                self.store
                    .add_silence(
                        &watch,
                        None,
                        Some(until),
                        "snoozed from Telegram",
                        actor,
                        now,
                    )
                    .await?;
                let span = crate::humanize::duration(duration);
                self.record_gate(actor, now, GateAction::Snooze, &watch, &span)
                    .await?;
                format!(
                    "😴 {} snoozed for {span}, until {}.",
                    escape(&watch),
                    until.format("%a %d %b %H:%M UTC")
                )
            }
            Command::Mute { watch } => {
                if !self.watches.contains(&watch) {
                    return Ok(unknown(&watch));
                }
                self.store
                    .add_silence(&watch, None, None, "muted from Telegram", actor, now)
                    .await?;
                self.record_gate(actor, now, GateAction::Mute, &watch, "")
                    .await?;
                format!("🔇 {} muted until /unmute.", escape(&watch))
            }
            Command::Unmute { watch } => {
                let lifted = self.store.lift_silences(&watch, None).await?;
                if lifted == 0 {
                    format!("{} was not silenced.", escape(&watch))
                } else {
                    self.record_gate(
                        actor,
                        now,
                        GateAction::Unmute,
                        &watch,
                        &format!("{lifted} silences lifted"),
                    )
                    .await?;
                    format!(
                        "🔔 {} unmuted: you will hear about it again.",
                        escape(&watch)
                    )
                }
            }
            Command::Investigate { question } => {
                let id = self
                    .store
                    .add_investigation_request(actor, About::default(), &question, now)
                    .await?;
                self.store
                    .set_chat_thread(id, Some(message_id), None)
                    .await?;
                self.record_gate(
                    actor,
                    now,
                    GateAction::Investigate,
                    "",
                    &format!("request #{id}: {question}"),
                )
                .await?;
                format!(
                    "🔎 Investigation #{id} requested: “{}”\nAbout the last page; {INVESTIGATION_QUEUED}.",
                    escape(&question)
                )
            }
            Command::Evidence { customer } => {
                let id = self
                    .store
                    .add_evidence_request(actor, &customer, now)
                    .await?;
                self.record_gate(
                    actor,
                    now,
                    GateAction::Evidence,
                    &customer,
                    &format!("request #{id}"),
                )
                .await?;
                self.store.set_evidence_reply_to(id, message_id).await?;
                format!(
                    "📁 Building the evidence pack for “{}” (#{id}); it arrives here as a PDF and Stripe's fields as JSON.",
                    escape(&customer)
                )
            }
        })
    }
}

/// What a button press answers: a toast for the presser and a line in the chat.
struct Said {
    toast: String,
    line: String,
}

//! The console channel: notices printed for a human, or as one JSON object per line for
//! machines. The demo's "phone view" is the human form with the buttons a phone would show.

use super::{Delivered, DeliveryError};
use crate::alert::notice::{Notice, NoticeKind};
use crate::config::Severity;
use std::io::Write;

/// How the console shows notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleStyle {
    /// Readable lines for an operator's terminal.
    Human,
    /// As a phone would show the page, with its buttons.
    Phone,
    /// One JSON object per line.
    JsonLines,
}

#[derive(Debug, Clone)]
pub struct ConsoleChannel {
    pub style: ConsoleStyle,
}

impl ConsoleChannel {
    pub fn deliver(&self, notice: &Notice) -> Result<Delivered, DeliveryError> {
        let text = match self.style {
            ConsoleStyle::JsonLines => {
                serde_json::to_string(notice)
                    .map_err(|e| DeliveryError::Permanent(e.to_string()))?
                    + "\n"
            }
            ConsoleStyle::Human => render(notice, false),
            ConsoleStyle::Phone => render(notice, true),
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| DeliveryError::Retry {
                reason: format!("cannot write to stdout: {e}"),
                after: None,
            })?;
        Ok(Delivered::default())
    }
}

fn mark(notice: &Notice) -> &'static str {
    match (notice.kind, notice.severity) {
        (NoticeKind::Resolved, _) => "✅",
        (_, Severity::Critical) => "🔴",
        (_, Severity::Warning) => "🟠",
        (_, Severity::Info) => "🔵",
    }
}

/// The human form of a notice.
pub(crate) fn render(notice: &Notice, with_buttons: bool) -> String {
    let mut out = String::new();
    let when = notice.at.format("%a %d %b %H:%M UTC");
    let reminder = if notice.kind == NoticeKind::Reminder {
        " (still firing)"
    } else {
        ""
    };
    if with_buttons {
        out.push_str(&format!("📱 {when} · sentinel · {}\n", notice.watch));
        out.push_str(&format!("┃ {} {}{reminder}\n", mark(notice), notice.title));
        for fact in &notice.facts {
            out.push_str(&format!("┃    {}\n", fact.replace('\n', "\n┃    ")));
        }
        if notice.kind != NoticeKind::Resolved {
            out.push_str(
                "┃    [Investigate]  [Snooze 1h]  [Snooze 1d]  [Mute]  [Not actionable]\n",
            );
        }
    } else {
        out.push_str(&format!(
            "{when} {} {} {}{reminder}\n",
            mark(notice),
            notice.watch,
            notice.title
        ));
        for fact in &notice.facts {
            out.push_str(&format!("    {fact}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::notice::NoticeState;
    use chrono::DateTime;

    fn notice(kind: NoticeKind) -> Notice {
        Notice {
            key: "k".into(),
            kind,
            watch: "nightly-backup".into(),
            subject: String::new(),
            state: NoticeState::Firing,
            severity: Severity::Critical,
            title: "Nightly backup didn't run".into(),
            facts: vec!["schedule 0 3 * * * (UTC)".into()],
            subjects: vec![],
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            lasted_seconds: None,
            resolves: None,
        }
    }

    #[test]
    fn phone_view_shows_mark_title_facts_and_buttons() {
        let text = render(&notice(NoticeKind::Firing), true);
        assert!(text.contains("🔴 Nightly backup didn't run"), "{text}");
        assert!(text.contains("schedule 0 3 * * *"), "{text}");
        assert!(text.contains("[Investigate]"), "{text}");
        let resolved = render(&notice(NoticeKind::Resolved), true);
        assert!(
            resolved.contains("✅") && !resolved.contains("[Investigate]"),
            "{resolved}"
        );
    }

    #[test]
    fn phone_view_keeps_every_line_of_a_multi_line_fact_inside_the_message() {
        let mut slow = notice(NoticeKind::Firing);
        slow.facts = vec!["plan:\nLimit\n  -> Seq Scan on orders".into()];
        let text = render(&slow, true);
        assert!(
            text.contains("┃    plan:\n┃    Limit\n┃      -> Seq Scan on orders\n"),
            "{text}"
        );
    }

    #[test]
    fn human_view_is_one_line_per_notice_plus_facts() {
        let text = render(&notice(NoticeKind::Reminder), false);
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("(still firing)"));
    }
}

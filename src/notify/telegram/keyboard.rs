//! The inline keyboards: under a page (Investigate, Snooze 1h, Snooze 1d, Mute, Not
//! actionable) and under an investigation's report (Ask more, Not actionable, and Open issue +
//! fix when the cause is a durable code bug).
//! Telegram returns at most 64 bytes of `callback_data`, so each button carries only a short
//! random id; what it does, and to which alert, is stored under that id.

use crate::store::chat::{Button, PageRef};
use serde_json::{Value, json};

/// What a button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Investigate,
    Snooze1h,
    Snooze1d,
    Mute,
    NotActionable,
    /// Under a report: asks the operator for a follow-up question (a reply to the report).
    AskMore,
    /// Under a report whose cause is a durable code bug: approves opening an issue and a fix.
    OpenFix,
}

impl Action {
    pub(crate) const ALL: [Action; 7] = [
        Action::Investigate,
        Action::Snooze1h,
        Action::Snooze1d,
        Action::Mute,
        Action::NotActionable,
        Action::AskMore,
        Action::OpenFix,
    ];

    /// The buttons under a page.
    pub(crate) const PAGE: [Action; 5] = [
        Action::Investigate,
        Action::Snooze1h,
        Action::Snooze1d,
        Action::Mute,
        Action::NotActionable,
    ];

    /// The stable name stored with the button.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Investigate => "investigate",
            Action::Snooze1h => "snooze_1h",
            Action::Snooze1d => "snooze_1d",
            Action::Mute => "mute",
            Action::NotActionable => "not_actionable",
            Action::AskMore => "ask_more",
            Action::OpenFix => "open_fix",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The button's label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Action::Investigate => "Investigate",
            Action::Snooze1h => "Snooze 1h",
            Action::Snooze1d => "Snooze 1d",
            Action::Mute => "Mute",
            Action::NotActionable => "Not actionable",
            Action::AskMore => "Ask more",
            Action::OpenFix => "Open issue + fix",
        }
    }
}

/// Bytes of randomness in a button id (hex-encoded: twice as many characters).
const ID_BYTES: usize = 8;

/// A fresh random button id: 16 hex characters.
pub(crate) fn new_id() -> Result<String, String> {
    let mut bytes = [0u8; ID_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a button id: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Whether `data` has the shape of a button id (anything else is refused unread).
pub(crate) fn is_button_id(data: &str) -> bool {
    data.len() == ID_BYTES * 2 && data.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One stored button per action for a page.
pub(crate) fn buttons(page: &PageRef, chat_id: i64) -> Result<Vec<(Action, Button)>, String> {
    buttons_for(&Action::PAGE, page, chat_id)
}

/// One stored button per action in `actions`, each about `page`.
pub(crate) fn buttons_for(
    actions: &[Action],
    page: &PageRef,
    chat_id: i64,
) -> Result<Vec<(Action, Button)>, String> {
    actions
        .iter()
        .copied()
        .map(|action| {
            Ok((
                action,
                Button {
                    id: new_id()?,
                    action: action.name().to_string(),
                    chat_id,
                    page: page.clone(),
                },
            ))
        })
        .collect()
}

/// The inline keyboard JSON: Investigate on its own row (the main action), the rest below.
pub(crate) fn markup(buttons: &[(Action, Button)]) -> Value {
    let button = |(action, stored): &(Action, Button)| json!({"text": action.label(), "callback_data": stored.id});
    let (first, rest) = buttons.split_at(buttons.len().min(1));
    let mut rows: Vec<Vec<Value>> = vec![first.iter().map(button).collect()];
    for pair in rest.chunks(2) {
        rows.push(pair.iter().map(button).collect());
    }
    json!({ "inline_keyboard": rows })
}

/// The inline keyboard JSON with every button on one row (a report's few buttons).
pub(crate) fn markup_rows(buttons: &[(Action, Button)]) -> Value {
    let row: Vec<Value> = buttons
        .iter()
        .map(|(action, stored)| json!({"text": action.label(), "callback_data": stored.id}))
        .collect();
    json!({ "inline_keyboard": [row] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageRef {
        PageRef {
            watch: "a-watch-with-a-very-long-name-that-would-never-fit-in-sixty-four-bytes".into(),
            subjects: vec!["/var/lib/postgresql/data/a/very/long/mount/point".into()],
            notice_key: "k".into(),
            title: "t".into(),
        }
    }

    #[test]
    fn callback_data_is_a_short_random_id_whatever_the_page() {
        let stored = buttons(&page(), 42).unwrap();
        assert_eq!(stored.len(), 5);
        let keyboard = markup(&stored);
        let rows = keyboard["inline_keyboard"].as_array().unwrap();
        let mut labels = Vec::new();
        for row in rows {
            for b in row.as_array().unwrap() {
                let data = b["callback_data"].as_str().unwrap();
                assert!(data.len() <= 64 && is_button_id(data), "{data}");
                labels.push(b["text"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(
            labels,
            [
                "Investigate",
                "Snooze 1h",
                "Snooze 1d",
                "Mute",
                "Not actionable"
            ]
        );
        let ids: std::collections::HashSet<&str> =
            stored.iter().map(|(_, b)| b.id.as_str()).collect();
        assert_eq!(ids.len(), 5, "every button has its own id");
    }

    #[test]
    fn only_well_formed_ids_are_looked_up() {
        assert!(is_button_id("0123456789abcdef"));
        assert!(!is_button_id("0123456789abcde"));
        assert!(!is_button_id("0123456789abcdeg"));
        assert!(!is_button_id("snooze_1h:disk"));
        assert!(!is_button_id(""));
    }

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.name()), Some(action));
        }
        assert_eq!(Action::parse("delete_everything"), None);
    }
}

//! Who may act: only the configured users, only in the configured chat. Everything else gets
//! one fixed line and changes nothing.

use crate::notify::telegram::api::User;

/// The single answer to anything refused: strangers, other chats, stale or forged buttons,
/// edited messages. It says no more than that.
pub const REFUSED: &str = "⛔ Not allowed. This bot takes instructions only from its operator, in its own chat, on current pages.";

/// The chat and the people Sentinel listens to.
#[derive(Debug, Clone)]
pub struct Gatekeeper {
    pub chat_id: i64,
    pub allowed_users: Vec<i64>,
}

impl Gatekeeper {
    /// The acting user's record name when `from`, acting in `chat`, may act; `None` otherwise.
    pub fn admit(&self, from: Option<&User>, chat: Option<i64>) -> Option<String> {
        let user = from?;
        if chat != Some(self.chat_id) || user.is_bot || !self.allowed_users.contains(&user.id) {
            return None;
        }
        Some(user.actor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> User {
        User {
            id,
            is_bot: false,
            username: Some("op".into()),
            first_name: None,
        }
    }

    #[allow(non_snake_case)]
    fn KEEPER() -> Gatekeeper {
        Gatekeeper {
            chat_id: -100,
            allowed_users: vec![111, 222],
        }
    }

    #[test]
    fn allowed_users_in_the_chat_may_act() {
        assert_eq!(
            KEEPER().admit(Some(&user(111)), Some(-100)).as_deref(),
            Some("telegram:111 (@op)")
        );
        assert!(KEEPER().admit(Some(&user(222)), Some(-100)).is_some());
    }

    #[test]
    fn strangers_other_chats_bots_and_unknown_senders_may_not() {
        assert_eq!(
            KEEPER().admit(Some(&user(333)), Some(-100)),
            None,
            "stranger"
        );
        assert_eq!(
            KEEPER().admit(Some(&user(111)), Some(-101)),
            None,
            "other chat"
        );
        assert_eq!(KEEPER().admit(Some(&user(111)), None), None, "no chat");
        assert_eq!(KEEPER().admit(None, Some(-100)), None, "no sender");
        let mut bot = user(111);
        bot.is_bot = true;
        assert_eq!(KEEPER().admit(Some(&bot), Some(-100)), None, "a bot");
    }
}

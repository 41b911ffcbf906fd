//! What the Telegram side needs to remember: the payloads behind inline buttons (Telegram
//! carries only a short id), which alert each page message is about, and the getUpdates offset.

use super::{Store, StoreError, millis};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// What a page is about: enough to silence it, judge it or ask about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRef {
    pub watch: String,
    pub subjects: Vec<String>,
    pub notice_key: String,
    pub title: String,
}

/// A button as stored: its action (a stable name) and the page it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub id: String,
    pub action: String,
    pub chat_id: i64,
    pub page: PageRef,
}

fn subjects_json(subjects: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(subjects).map_err(|e| StoreError::Decode(e.to_string()))
}

fn subjects_from(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Decode(e.to_string()))
}

impl Store {
    /// Stores the payload of one button under `id`.
    pub async fn add_button(&self, button: &Button, now: DateTime<Utc>) -> Result<(), StoreError> {
        let statement = sqlx::query(
            "INSERT INTO chat_buttons (id, action, watch, subjects, notice_key, title, chat_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&button.id)
        .bind(&button.action)
        .bind(&button.page.watch)
        .bind(subjects_json(&button.page.subjects)?)
        .bind(&button.page.notice_key)
        .bind(&button.page.title)
        .bind(button.chat_id)
        .bind(millis(now));
        self.write_one(statement).await?;
        Ok(())
    }

    /// The button stored under `id`, if any.
    pub async fn button(&self, id: &str) -> Result<Option<Button>, StoreError> {
        let row = sqlx::query(
            "SELECT id, action, watch, subjects, notice_key, title, chat_id FROM chat_buttons WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let subjects: String = row.try_get(3)?;
        Ok(Some(Button {
            id: row.try_get(0)?,
            action: row.try_get(1)?,
            chat_id: row.try_get(6)?,
            page: PageRef {
                watch: row.try_get(2)?,
                subjects: subjects_from(&subjects)?,
                notice_key: row.try_get(4)?,
                title: row.try_get(5)?,
            },
        }))
    }

    /// Remembers that message `message_id` in `chat_id` is (part of) a page.
    pub async fn add_page_message(
        &self,
        chat_id: i64,
        message_id: i64,
        page: &PageRef,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let statement = sqlx::query(
            "INSERT OR REPLACE INTO chat_pages (chat_id, message_id, watch, subjects, notice_key, title, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(chat_id)
        .bind(message_id)
        .bind(&page.watch)
        .bind(subjects_json(&page.subjects)?)
        .bind(&page.notice_key)
        .bind(&page.title)
        .bind(millis(now));
        self.write_one(statement).await?;
        Ok(())
    }

    /// The page a message is part of, if it is one.
    pub async fn page_message(
        &self,
        chat_id: i64,
        message_id: i64,
    ) -> Result<Option<PageRef>, StoreError> {
        let row = sqlx::query(
            "SELECT watch, subjects, notice_key, title FROM chat_pages WHERE chat_id = ? AND message_id = ?",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let subjects: String = row.try_get(1)?;
        Ok(Some(PageRef {
            watch: row.try_get(0)?,
            subjects: subjects_from(&subjects)?,
            notice_key: row.try_get(2)?,
            title: row.try_get(3)?,
        }))
    }

    /// A small named value of the chat loop.
    pub async fn chat_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM chat_state WHERE name = ?")
                .bind(name)
                .fetch_optional(self.reader())
                .await?,
        )
    }

    pub async fn set_chat_state(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let statement = sqlx::query(
            "INSERT INTO chat_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value);
        self.write_one(statement).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageRef {
        PageRef {
            watch: "disk".into(),
            subjects: vec!["/var".into(), "/home".into()],
            notice_key: "disk/firing//var#1".into(),
            title: "Disk space: 2 broken".into(),
        }
    }

    #[tokio::test]
    async fn buttons_pages_and_state_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = Utc::now();
        let button = Button {
            id: "a1b2c3".into(),
            action: "snooze_1h".into(),
            chat_id: -100,
            page: page(),
        };
        store.add_button(&button, now).await.unwrap();
        assert_eq!(store.button("a1b2c3").await.unwrap(), Some(button));
        assert_eq!(store.button("zzz").await.unwrap(), None);

        store.add_page_message(-100, 7, &page(), now).await.unwrap();
        assert_eq!(store.page_message(-100, 7).await.unwrap(), Some(page()));
        assert_eq!(store.page_message(-101, 7).await.unwrap(), None);

        assert_eq!(store.chat_state("offset").await.unwrap(), None);
        store.set_chat_state("offset", "5").await.unwrap();
        store.set_chat_state("offset", "9").await.unwrap();
        assert_eq!(
            store.chat_state("offset").await.unwrap().as_deref(),
            Some("9")
        );
    }
}

//! Investigation reports, kept whole beside the request they answer, and where each request's
//! answer lives in the chat (the message it replies to, the report message a follow-up
//! continues).

use super::{Store, StoreError, millis};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub request_id: i64,
    pub verdict: String,
    pub json: String,
    pub markdown: String,
}

/// Where a request's answer goes in the chat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatThread {
    /// The message the answer replies to.
    pub reply_to_message: Option<i64>,
    /// The request whose report this one follows up.
    pub follows_up: Option<i64>,
    /// The message that carries this request's report, once sent.
    pub report_message: Option<i64>,
}

impl Store {
    /// Keeps the report of request `request_id` (once: a second report of the same request
    /// is refused by the table's key).
    pub async fn save_report(
        &self,
        request_id: i64,
        verdict: &str,
        dollars: f64,
        json: &str,
        markdown: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query(
                "INSERT INTO investigation_reports (request_id, created_at, verdict, dollars, json, markdown) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(request_id)
            .bind(millis(now))
            .bind(verdict)
            .bind(dollars)
            .bind(json)
            .bind(markdown),
        )
        .await?;
        Ok(())
    }

    /// US dollars the reports since `since` cost (the daily model budget).
    pub async fn spent_since(&self, since: DateTime<Utc>) -> Result<f64, StoreError> {
        let total: Option<f64> = sqlx::query_scalar(
            "SELECT SUM(dollars) FROM investigation_reports WHERE created_at >= ?",
        )
        .bind(millis(since))
        .fetch_one(self.reader())
        .await?;
        Ok(total.unwrap_or(0.0))
    }

    /// US dollars the reports of the UTC day of `now` cost (the daily model budget).
    pub async fn spent_today(&self, now: DateTime<Utc>) -> Result<f64, StoreError> {
        let day_start = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |start| start.and_utc());
        self.spent_since(day_start).await
    }

    /// The report of request `request_id`, if it has one.
    pub async fn report(&self, request_id: i64) -> Result<Option<StoredReport>, StoreError> {
        let row = sqlx::query(
            "SELECT request_id, verdict, json, markdown FROM investigation_reports WHERE request_id = ?",
        )
        .bind(request_id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredReport {
            request_id: row.try_get(0)?,
            verdict: row.try_get(1)?,
            json: row.try_get(2)?,
            markdown: row.try_get(3)?,
        }))
    }

    /// Sets where request `request_id`'s answer goes: the message it replies to and the
    /// request it follows up.
    pub async fn set_chat_thread(
        &self,
        request_id: i64,
        reply_to_message: Option<i64>,
        follows_up: Option<i64>,
    ) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query(
                "UPDATE investigation_requests SET reply_to_message = ?, follows_up = ? WHERE id = ?",
            )
            .bind(reply_to_message)
            .bind(follows_up)
            .bind(request_id),
        )
        .await?;
        Ok(())
    }

    /// Remembers the message that carries request `request_id`'s report.
    pub async fn set_report_message(
        &self,
        request_id: i64,
        message_id: i64,
    ) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query("UPDATE investigation_requests SET report_message = ? WHERE id = ?")
                .bind(message_id)
                .bind(request_id),
        )
        .await?;
        Ok(())
    }

    /// Where request `request_id`'s answer goes.
    pub async fn chat_thread(&self, request_id: i64) -> Result<ChatThread, StoreError> {
        let row = sqlx::query(
            "SELECT reply_to_message, follows_up, report_message FROM investigation_requests WHERE id = ?",
        )
        .bind(request_id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else {
            return Ok(ChatThread::default());
        };
        Ok(ChatThread {
            reply_to_message: row.try_get(0)?,
            follows_up: row.try_get(1)?,
            report_message: row.try_get(2)?,
        })
    }

    /// The request whose report message is `message_id`, if any (a reply to it is a
    /// follow-up question).
    pub async fn request_of_report_message(
        &self,
        message_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM investigation_requests WHERE report_message = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(message_id)
        .fetch_optional(self.reader())
        .await?)
    }

    /// The message of the page with notice `notice_key` in `chat_id`, if it was sent there.
    pub async fn page_message_id(
        &self,
        chat_id: i64,
        notice_key: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT message_id FROM chat_pages WHERE chat_id = ? AND notice_key = ? ORDER BY message_id LIMIT 1",
        )
        .bind(chat_id)
        .bind(notice_key)
        .fetch_optional(self.reader())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use crate::store::operator::About;
    use chrono::Utc;

    #[tokio::test]
    async fn a_report_is_kept_once_and_a_report_message_leads_back_to_its_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        let now = Utc::now();
        let id = store
            .add_investigation_request("ops", About::default(), "why?", now)
            .await
            .unwrap();
        store
            .save_report(id, "no action", 0.25, "{}", "# r", now)
            .await
            .unwrap();
        assert!(
            store
                .save_report(id, "again", 0.0, "{}", "# r", now)
                .await
                .is_err()
        );
        assert_eq!(store.spent_since(now).await.unwrap(), 0.25);
        let later = now + chrono::Duration::seconds(1);
        assert_eq!(store.spent_since(later).await.unwrap(), 0.0);
        assert_eq!(store.report(id).await.unwrap().unwrap().markdown, "# r");
        assert!(store.report(id + 1).await.unwrap().is_none());

        store.set_chat_thread(id, Some(40), None).await.unwrap();
        store.set_report_message(id, 41).await.unwrap();
        let thread = store.chat_thread(id).await.unwrap();
        assert_eq!(thread.reply_to_message, Some(40));
        assert_eq!(thread.report_message, Some(41));
        assert_eq!(store.request_of_report_message(41).await.unwrap(), Some(id));
        assert_eq!(store.request_of_report_message(40).await.unwrap(), None);
    }
}

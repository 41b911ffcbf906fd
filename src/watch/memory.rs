//! What a watch remembers across evaluations and restarts (queue lengths, learned routes,
//! statement baselines, read positions), kept in the store's `watch_memory` table as JSON or
//! plain text. Every watch loads and saves through here, so a value that cannot be decoded is
//! handled the same way everywhere (logged, then forgotten: the watch starts that part
//! afresh), and a store that fails is one blindness with one name, `can't see store`.

use super::WatchContext;
use crate::source::{SourceError, SourceErrorKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The store failed under a watch: its blindness is the store's, whatever the watch reads.
pub(crate) fn store_failure(error: impl std::fmt::Display) -> SourceError {
    SourceError::new("store", SourceErrorKind::Store, error.to_string())
}

/// The memory of one watch.
pub(crate) struct Memory<'a> {
    ctx: &'a WatchContext<'a>,
    watch: &'a str,
}

impl<'a> Memory<'a> {
    pub(crate) fn of(ctx: &'a WatchContext<'a>, watch: &'a str) -> Self {
        Self { ctx, watch }
    }

    /// The value remembered under `subject` and `name`, decoded from JSON; `None` if nothing
    /// was remembered or it cannot be decoded (logged).
    pub(crate) async fn load<T: DeserializeOwned>(
        &self,
        subject: &str,
        name: &str,
    ) -> Result<Option<T>, SourceError> {
        let Some(text) = self.load_text(subject, name).await? else {
            return Ok(None);
        };
        Ok(decode(self.watch, subject, name, &text))
    }

    /// Remembers `value` under `subject` and `name`, as JSON.
    pub(crate) async fn save<T: Serialize>(
        &self,
        subject: &str,
        name: &str,
        value: &T,
    ) -> Result<(), SourceError> {
        let json = serde_json::to_string(value).map_err(store_failure)?;
        self.save_text(subject, name, &json).await
    }

    /// The text remembered under `subject` and `name` (a cursor the source itself wrote).
    pub(crate) async fn load_text(
        &self,
        subject: &str,
        name: &str,
    ) -> Result<Option<String>, SourceError> {
        self.ctx
            .store
            .remembered(self.watch, subject, name)
            .await
            .map_err(store_failure)
    }

    /// Remembers `text` under `subject` and `name`.
    pub(crate) async fn save_text(
        &self,
        subject: &str,
        name: &str,
        text: &str,
    ) -> Result<(), SourceError> {
        self.ctx
            .store
            .remember(self.watch, subject, name, text, self.ctx.now)
            .await
            .map_err(store_failure)
    }
}

/// Decodes a remembered value; what cannot be decoded is logged and forgotten.
fn decode<T: DeserializeOwned>(watch: &str, subject: &str, name: &str, text: &str) -> Option<T> {
    match serde_json::from_str(text) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(
                watch,
                subject,
                "what the watch remembered as {name} cannot be read ({error}); starting it afresh"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_cannot_be_decoded_is_forgotten() {
        assert_eq!(
            decode::<Vec<f64>>("w", "q", "lengths", "[1.0,2.5]"),
            Some(vec![1.0, 2.5])
        );
        assert_eq!(decode::<Vec<f64>>("w", "q", "lengths", "{not json"), None);
        assert_eq!(decode::<Vec<f64>>("w", "q", "lengths", "\"text\""), None);
    }

    #[test]
    fn a_store_failure_is_the_store_s_blindness() {
        let error = store_failure("disk I/O error");
        assert_eq!(error.source, "store");
        assert_eq!(error.kind, SourceErrorKind::Store);
    }
}

//! The outbox's two halves: routing notices into it (inside the transaction that changed the
//! alerts), and delivering what is due, in order, per channel, with retries and backoff.
//! A notice is marked sent only after its channel acknowledged it, and never sent again after.
//! [`Dispatcher::deliver_channel_due`] is the one delivery path: the one-shot pass runs it for
//! each channel in turn, `sentinel run` from each channel's own courier ([`super::courier`]).

use super::{Channel, DeliveryError};
use crate::alert::notice::{Notice, NoticeKind};
use crate::clock::SharedClock;
use crate::store::outbox::{self, OutboxEntry};
use crate::store::{Store, StoreError};
use crate::telemetry::{DeliveryLabels, Metrics};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use std::sync::Arc;
use std::time::Duration;

/// Longest wait between two attempts of one notice.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// The configured channels, by name.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    pub list: Vec<(String, Channel)>,
}

impl Channels {
    pub fn get(&self, name: &str) -> Option<&Channel> {
        self.list.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// The outbox key of a notice on one channel.
pub fn delivery_key(notice_key: &str, channel: &str) -> String {
    format!("{notice_key}@{channel}")
}

/// Writes the notices of one evaluation into the outbox, for the channels they go to.
/// `route` limits the channels (a watch's `channels`); resolutions go to channels that can edit
/// the original page, and to the others only if `notify_resolved`.
pub async fn enqueue(
    conn: &mut SqliteConnection,
    channels: &Channels,
    notices: &[Notice],
    route: Option<&[String]>,
    notify_resolved: bool,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut written = 0;
    for notice in notices {
        let payload =
            serde_json::to_string(notice).map_err(|e| StoreError::Decode(e.to_string()))?;
        for (name, channel) in &channels.list {
            if route.is_some_and(|only| !only.iter().any(|n| n == name)) {
                continue;
            }
            let edits = match (notice.kind, &notice.resolves) {
                (NoticeKind::Resolved, Some(original)) if channel.can_edit() => {
                    Some(delivery_key(original, name))
                }
                (NoticeKind::Resolved, _) if !notify_resolved => continue,
                _ => None,
            };
            if outbox::enqueue(
                conn,
                &delivery_key(&notice.key, name),
                name,
                &payload,
                edits.as_deref(),
                now,
            )
            .await?
            {
                written += 1;
            }
        }
    }
    Ok(written)
}

/// Delivers due outbox entries.
#[derive(Clone)]
pub struct Dispatcher {
    pub store: Store,
    pub channels: Channels,
    pub metrics: Arc<Metrics>,
    pub clock: SharedClock,
}

/// Exponential backoff: 5s, 10s, 20s, ... capped at 15 minutes, with a spread derived from the
/// key so that many failed notices do not retry in lockstep.
pub fn backoff(attempts: i64, key: &str) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    let base = Duration::from_secs(5).saturating_mul(2u32.saturating_pow(exponent));
    let spread = key.bytes().fold(0u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 1000;
    (base + Duration::from_millis(spread)).min(MAX_BACKOFF)
}

impl Dispatcher {
    /// Delivers every due entry, channel after channel, in order; returns how many were done
    /// with (delivered or given up on). This is the one-shot way (`check --once`, the demo):
    /// under `sentinel run` each channel's courier ([`super::courier`]) delivers its own line.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let mut delivered = 0;
        for (name, channel) in &self.channels.list {
            delivered += self.deliver_channel_due(name, channel).await?;
        }
        Ok(delivered)
    }

    /// Delivers what is due now on one channel, oldest first, and stops at its first failure
    /// (the entries behind it wait, to keep order; other channels are not concerned). Returns
    /// how many were done with. The only delivery path: [`Self::deliver_due`] and the couriers
    /// both go through it.
    pub async fn deliver_channel_due(
        &self,
        name: &str,
        channel: &Channel,
    ) -> Result<usize, StoreError> {
        let mut delivered = 0;
        while let Some(entry) = self.store.outbox_head(name, self.clock.now()).await? {
            if !self.deliver_one(name, channel, &entry).await? {
                break;
            }
            delivered += 1;
        }
        self.metrics
            .outbox_depth
            .set(self.store.outbox_depth().await?);
        Ok(delivered)
    }

    /// Tries one entry; true when it is done with (delivered or given up on).
    async fn deliver_one(
        &self,
        name: &str,
        channel: &Channel,
        entry: &OutboxEntry,
    ) -> Result<bool, StoreError> {
        let count = |result: &str| {
            self.metrics
                .deliveries
                .get_or_create(&DeliveryLabels {
                    channel: name.to_string(),
                    result: result.to_string(),
                })
                .inc();
        };
        let notice: Notice = match serde_json::from_str(&entry.payload) {
            Ok(notice) => notice,
            Err(error) => {
                count("dead");
                self.store
                    .outbox_dead(entry.id, &format!("unreadable payload: {error}"))
                    .await?;
                return Ok(true);
            }
        };
        let edit_of = match &entry.edits_key {
            Some(original) => self.store.outbox_external_id(original).await?,
            None => None,
        };
        match channel
            .deliver(&entry.key, &notice, edit_of.as_deref())
            .await
        {
            Ok(delivered) => {
                let now = self.clock.now();
                self.store
                    .outbox_sent(entry.id, delivered.external_id.as_deref(), now)
                    .await?;
                let latency = (now - entry.created_at).num_milliseconds().max(0) as f64 / 1000.0;
                self.metrics.notify_latency.observe(latency);
                count("sent");
                Ok(true)
            }
            Err(DeliveryError::Retry { reason, after }) => {
                let wait = after.unwrap_or_else(|| backoff(entry.attempts, &entry.key));
                let next = self.clock.now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(
                    channel = name,
                    key = entry.key,
                    attempt = entry.attempts + 1,
                    "delivery failed, retrying in {}s: {reason}",
                    wait.as_secs()
                );
                self.store.outbox_retry(entry.id, next, &reason).await?;
                count("retry");
                Ok(false)
            }
            Err(DeliveryError::Permanent(reason)) => {
                tracing::error!(
                    channel = name,
                    key = entry.key,
                    "notice refused by channel, not retrying: {reason}"
                );
                self.store.outbox_dead(entry.id, &reason).await?;
                count("dead");
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(0, "a");
        let third = backoff(2, "a");
        assert!(
            first >= Duration::from_secs(5) && first < Duration::from_secs(6),
            "{first:?}"
        );
        assert!(
            third >= Duration::from_secs(20) && third < Duration::from_secs(21),
            "{third:?}"
        );
        assert_eq!(backoff(40, "a"), MAX_BACKOFF);
        assert_ne!(backoff(1, "a"), backoff(1, "b"), "keys spread retries");
    }
}

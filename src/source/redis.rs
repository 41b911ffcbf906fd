//! Job-queue probes on Redis: how many jobs wait in a queue and how long the oldest one has
//! waited, for the layouts of Sidekiq, BullMQ, Celery and RQ and for plain lists, streams and
//! sorted sets.
//!
//! The module is strictly read-only. Every command it sends goes through one gate,
//! [`read_command`], which refuses any name outside [`READ_COMMANDS`] before anything reaches
//! the wire. `AUTH` and `SELECT` are not in that list: the driver sends them once while
//! connecting, taken from the URL (`redis://user:password@host:6379/2`). The driver's
//! `CLIENT SETINFO` greeting is switched off, so an idle connection sends nothing else.
//!
//! Keys read per layout (`<name>` is [`QueueProbe::name`]):
//!
//! - `List`: `LLEN <name>`. Age only when the items are JSON objects carrying
//!   `enqueued_at`, `timestamp` or `created_at`: both ends (`LINDEX 0`, `LINDEX -1`) are read,
//!   since the push side is unknown, and the older one counts.
//! - `Stream { group: None }`: `XLEN <name>`; age from the id of the first entry
//!   (`XRANGE <name> - + COUNT 1`, the millisecond part of the id).
//! - `Stream { group: Some(g) }`: the backlog of that consumer group: entries delivered but not
//!   acknowledged (`XPENDING <name> g`) plus entries not yet delivered (`lag` from
//!   `XINFO GROUPS <name>`; where Redis cannot tell the lag, the length falls back to `XLEN`).
//!   Age from the older of the oldest pending entry and the first undelivered entry
//!   (`XRANGE <name> (<last-delivered-id> + COUNT 1`, Redis 6.2 or later).
//! - `SortedSet`: `ZCARD <name>`; oldest = lowest score (`ZRANGE <name> 0 0 WITHSCORES`), read
//!   as a Unix time in seconds, or in milliseconds when above 1e12.
//! - `Sidekiq`: list `queue:<name>`. Sidekiq pushes on the left and takes from the right, so the
//!   oldest job is `LINDEX -1`: a JSON object whose `enqueued_at` (else `created_at`) is epoch
//!   seconds as a float before Sidekiq 8 and epoch milliseconds as an integer since.
//! - `BullMq`: list `bull:<name>:wait` of job ids (pushed on the left, taken from the right, so
//!   the oldest is `LINDEX -1`); its hash `bull:<name>:<id>` holds `timestamp` in epoch
//!   milliseconds. The `bull:<name>:active` length is reported in the detail, not counted.
//! - `Celery` (Redis broker, kombu): list `<name>` (Celery's default queue is `celery`) plus
//!   kombu's priority lists `<name>\x06\x163`, `<name>\x06\x166`, `<name>\x06\x169`, summed.
//!   Kombu pushes on the left and pops from the right; messages are JSON with `headers` and
//!   `properties`. Celery does not record an enqueue time, so the age is usually unknown.
//! - `Rq`: list `rq:queue:<name>` of job ids (pushed on the right, taken from the left, so the
//!   oldest is `LINDEX 0`); hash `rq:job:<id>` field `enqueued_at`, ISO 8601 in UTC such as
//!   `2024-01-01T00:00:00.123456Z`.
//!
//! A key that does not exist is an empty queue: length 0, no age.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, FromRedisValue, IntoConnectionInfo, Value};
use serde_json::Value as Json;
use tokio::sync::Mutex;

use crate::source::{SourceError, SourceErrorKind};

mod inspect;
mod values;
#[cfg(test)]
pub(crate) use inspect::JobSeen;
pub(crate) use inspect::{QueueInspection, WorkerSeen};
use values::{
    age, epoch_time, first_entry_id, group_info, json_id, json_object, json_time, parse_iso,
    pending_summary, stream_id_time, value_f64, value_string, value_u64,
};

/// The only commands this module may send once connected. All of them only read.
pub(crate) const READ_COMMANDS: &[&str] = &[
    "LLEN", "LINDEX", "LRANGE", "XLEN", "XPENDING", "XINFO", "XRANGE", "ZCARD", "ZRANGE", "HGET",
    "HMGET", "GET", "EXISTS", "TYPE", "PING", "SCAN", "SMEMBERS", "HGETALL",
];

/// `XINFO` subcommands allowed through the gate.
const XINFO_SUBCOMMANDS: &[&str] = &["STREAM", "GROUPS", "CONSUMERS", "HELP"];

/// JSON fields taken as an enqueue time in plain lists and Celery messages.
const TIME_FIELDS: &[&str] = &["enqueued_at", "timestamp", "created_at"];

/// The separator kombu puts between a queue name and its priority step.
const KOMBU_PRIORITY_SEP: &str = "\x06\x16";
/// Kombu's default priority steps besides 0 (which is the bare queue name).
const KOMBU_PRIORITY_STEPS: &[u8] = &[3, 6, 9];

/// Builds a command after checking it against [`READ_COMMANDS`]. This is the only place a
/// command is built, so a refusal here means nothing was sent.
fn read_command(name: &str, args: &[&str]) -> Result<redis::Cmd, String> {
    let upper = name.to_ascii_uppercase();
    if !READ_COMMANDS.contains(&upper.as_str()) {
        return Err(format!(
            "refused to send {name}: not one of the read commands this source may send"
        ));
    }
    if upper == "XINFO" {
        let sub = args
            .first()
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_default();
        if !XINFO_SUBCOMMANDS.contains(&sub.as_str()) {
            return Err(format!(
                "refused to send XINFO {sub}: not a known read subcommand"
            ));
        }
    }
    let mut cmd = redis::cmd(&upper);
    for arg in args {
        cmd.arg(*arg);
    }
    Ok(cmd)
}

/// How a queue is laid out in Redis. See the module documentation for the exact keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueLayout {
    List,
    Stream { group: Option<String> },
    SortedSet,
    Sidekiq,
    BullMq,
    Celery,
    Rq,
}

/// One queue to measure: a key for `List`, `Stream` and `SortedSet`, a queue name for the
/// job frameworks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueProbe {
    pub name: String,
    pub layout: QueueLayout,
}

impl QueueProbe {
    pub fn new(name: &str, layout: QueueLayout) -> Self {
        Self {
            name: name.to_string(),
            layout,
        }
    }
}

/// What a queue looked like at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueReading {
    /// Jobs waiting.
    pub length: u64,
    /// How long the oldest waiting job has waited; `None` when the queue is empty or the
    /// layout does not record enqueue times.
    pub oldest_age: Option<Duration>,
    /// The id of the oldest job, where the layout has one.
    pub oldest_id: Option<String>,
    /// What was read, for the operator.
    pub detail: String,
}

impl QueueReading {
    fn empty(detail: String) -> Self {
        Self {
            length: 0,
            oldest_age: None,
            oldest_id: None,
            detail,
        }
    }
}

/// A Redis server holding job queues. Connects lazily and keeps one multiplexed connection,
/// dropped and made again after a connection failure.
pub struct RedisSource {
    name: String,
    /// Address and database, never the password.
    target: String,
    timeout: Duration,
    client: redis::Client,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl fmt::Debug for RedisSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSource")
            .field("name", &self.name)
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisSource {
    /// `url` is `redis://[user[:password]@]host[:port][/db]` or `redis+unix:///path`.
    /// Nothing is contacted until the first measurement.
    pub fn new(name: &str, url: &str, timeout: Duration) -> Result<Self, SourceError> {
        if url.starts_with("rediss") {
            return Err(SourceError::new(
                name,
                SourceErrorKind::QueryRejected,
                "TLS Redis URLs (rediss://) are not supported; use redis:// or redis+unix://",
            ));
        }
        let info = url.into_connection_info().map_err(|e| {
            SourceError::new(
                name,
                SourceErrorKind::QueryRejected,
                format!(
                    "not a usable Redis URL ({}); expected redis://[user[:password]@]host[:port][/db]",
                    e.category()
                ),
            )
        })?;
        let target = format!("{} db {}", info.addr(), info.redis_settings().db());
        let settings = info.redis_settings().clone().set_skip_set_lib_name();
        let info = info.set_redis_settings(settings);
        let client = redis::Client::open(info).map_err(|e| {
            SourceError::new(
                name,
                SourceErrorKind::QueryRejected,
                format!("cannot use Redis at {target}: {}", e.category()),
            )
        })?;
        Ok(Self {
            name: name.to_string(),
            target,
            timeout,
            client,
            conn: Mutex::new(None),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Measures one queue. `now` is the moment ages are counted from.
    pub async fn measure(
        &self,
        probe: &QueueProbe,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let name = probe.name.as_str();
        match &probe.layout {
            QueueLayout::List => self.measure_list(name, now).await,
            QueueLayout::Stream { group: None } => self.measure_stream(name, now).await,
            QueueLayout::Stream { group: Some(group) } => {
                self.measure_stream_group(name, group, now).await
            }
            QueueLayout::SortedSet => self.measure_sorted_set(name, now).await,
            QueueLayout::Sidekiq => self.measure_sidekiq(name, now).await,
            QueueLayout::BullMq => self.measure_bullmq(name, now).await,
            QueueLayout::Celery => self.measure_celery(name, now).await,
            QueueLayout::Rq => self.measure_rq(name, now).await,
        }
    }

    /// Checks that the server answers.
    pub async fn ping(&self) -> Result<(), SourceError> {
        let _: Value = self.call("PING", &[], "-").await?;
        Ok(())
    }

    fn error(&self, kind: SourceErrorKind, detail: impl Into<String>) -> SourceError {
        SourceError::new(&self.name, kind, detail)
    }

    async fn connection(&self) -> Result<MultiplexedConnection, SourceError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let connecting = self
            .client
            .get_multiplexed_async_connection_with_config(&config);
        let conn = match tokio::time::timeout(self.timeout, connecting).await {
            Err(_) => {
                return Err(self.error(
                    SourceErrorKind::Timeout,
                    format!("no connection to {} within {:?}", self.target, self.timeout),
                ));
            }
            Ok(Err(e)) => return Err(self.redis_error(&e, "connect", None)),
            Ok(Ok(conn)) => conn,
        };
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn forget_connection(&self) {
        *self.conn.lock().await = None;
    }

    /// Sends one command through the allowlist. `key` names the key in error messages.
    async fn call<T: FromRedisValue>(
        &self,
        command: &str,
        args: &[&str],
        key: &str,
    ) -> Result<T, SourceError> {
        let cmd = read_command(command, args)
            .map_err(|d| self.error(SourceErrorKind::QueryRejected, d))?;
        let mut conn = self.connection().await?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Err(_) => {
                self.forget_connection().await;
                Err(self.error(
                    SourceErrorKind::Timeout,
                    format!(
                        "{command} {key}: no answer from {} within {:?}",
                        self.target, self.timeout
                    ),
                ))
            }
            Ok(Err(e)) => {
                let err = self.redis_error(&e, command, Some(key));
                if matches!(
                    err.kind,
                    SourceErrorKind::Unreachable | SourceErrorKind::Timeout
                ) {
                    self.forget_connection().await;
                }
                Err(err)
            }
            Ok(Ok(value)) => Ok(value),
        }
    }

    fn redis_error(&self, e: &redis::RedisError, command: &str, key: Option<&str>) -> SourceError {
        use SourceErrorKind::*;
        let on = key.map(|k| format!(" on key `{k}`")).unwrap_or_default();
        if e.is_timeout() {
            return self.error(
                Timeout,
                format!("{command}{on}: no answer from {}: {e}", self.target),
            );
        }
        if e.is_connection_refusal() || e.is_connection_dropped() || e.is_io_error() {
            return self.error(Unreachable, format!("cannot reach {}: {e}", self.target));
        }
        if e.kind() == ErrorKind::AuthenticationFailed
            || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
        {
            return self.error(
                Unreachable,
                format!("authentication to {} failed: {e}", self.target),
            );
        }
        match e.code() {
            Some("WRONGTYPE") => self.error(
                BadResponse,
                format!(
                    "{command}{on}: the key holds a different type than this layout uses ({e})"
                ),
            ),
            Some("NOPERM" | "NOGROUP") => self.error(QueryRejected, format!("{command}{on}: {e}")),
            Some("ERR") if e.to_string().contains("unknown") => {
                self.error(QueryRejected, format!("{command}{on}: {e}"))
            }
            _ => self.error(BadResponse, format!("{command}{on}: {e}")),
        }
    }

    fn bad(&self, detail: String) -> SourceError {
        self.error(SourceErrorKind::BadResponse, detail)
    }

    async fn llen(&self, key: &str) -> Result<u64, SourceError> {
        self.call("LLEN", &[key], key).await
    }

    async fn lindex(&self, key: &str, index: &str) -> Result<Option<Vec<u8>>, SourceError> {
        self.call("LINDEX", &[key, index], key).await
    }

    async fn hget(&self, key: &str, field: &str) -> Result<Option<Vec<u8>>, SourceError> {
        self.call("HGET", &[key, field], key).await
    }

    async fn exists(&self, key: &str) -> Result<bool, SourceError> {
        let n: u64 = self.call("EXISTS", &[key], key).await?;
        Ok(n > 0)
    }

    async fn measure_list(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let length = self.llen(key).await?;
        let mut reading = QueueReading::empty(format!("list `{key}`: {length} items"));
        reading.length = length;
        if length == 0 {
            return Ok(reading);
        }
        let ends: &[&str] = if length > 1 { &["0", "-1"] } else { &["0"] };
        let mut oldest: Option<(DateTime<Utc>, Option<String>)> = None;
        for end in ends {
            let Some(raw) = self.lindex(key, end).await? else {
                continue;
            };
            let Ok(Json::Object(item)) = serde_json::from_slice::<Json>(&raw) else {
                continue;
            };
            let Some(at) = TIME_FIELDS
                .iter()
                .find_map(|f| item.get(*f).and_then(json_time))
            else {
                continue;
            };
            if oldest.as_ref().is_none_or(|(t, _)| at < *t) {
                oldest = Some((at, json_id(&item, &["id", "jid", "job_id"])));
            }
        }
        match oldest {
            Some((at, id)) => {
                reading.oldest_age = Some(age(now, at));
                reading.oldest_id = id;
                reading
                    .detail
                    .push_str(&format!(", oldest enqueued {}", at.to_rfc3339()));
            }
            None => reading
                .detail
                .push_str(", items carry no recognizable enqueue time"),
        }
        Ok(reading)
    }

    async fn measure_stream(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let length: u64 = self.call("XLEN", &[key], key).await?;
        let mut reading = QueueReading::empty(format!("stream `{key}`: {length} entries"));
        reading.length = length;
        if length == 0 {
            return Ok(reading);
        }
        let entries: Value = self
            .call("XRANGE", &[key, "-", "+", "COUNT", "1"], key)
            .await?;
        if let Some(id) = first_entry_id(&entries) {
            let at = stream_id_time(&id).ok_or_else(|| {
                self.bad(format!("stream `{key}`: entry id `{id}` is not <ms>-<seq>"))
            })?;
            reading.oldest_age = Some(age(now, at));
            reading.oldest_id = Some(id);
        }
        Ok(reading)
    }

    async fn measure_stream_group(
        &self,
        key: &str,
        group: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let xlen: u64 = self.call("XLEN", &[key], key).await?;
        if xlen == 0 && !self.exists(key).await? {
            return Ok(QueueReading::empty(format!(
                "stream `{key}` does not exist"
            )));
        }
        let groups: Value = self.call("XINFO", &["GROUPS", key], key).await?;
        let info = group_info(&groups, group).ok_or_else(|| {
            self.error(
                SourceErrorKind::QueryRejected,
                format!("stream `{key}` has no consumer group `{group}`"),
            )
        })?;
        let last_delivered = info
            .iter()
            .find(|(k, _)| k == "last-delivered-id")
            .and_then(|(_, v)| value_string(v))
            .ok_or_else(|| {
                self.bad(format!(
                    "XINFO GROUPS `{key}`: no last-delivered-id for `{group}`"
                ))
            })?;
        let lag = info
            .iter()
            .find(|(k, _)| k == "lag")
            .and_then(|(_, v)| value_u64(v));

        let summary: Value = self.call("XPENDING", &[key, group], key).await?;
        let (pending, oldest_pending) = pending_summary(&summary)
            .ok_or_else(|| self.bad(format!("XPENDING `{key}` `{group}`: unexpected answer")))?;

        let start = format!("({last_delivered}");
        let next: Value = self
            .call("XRANGE", &[key, &start, "+", "COUNT", "1"], key)
            .await?;
        let first_undelivered = first_entry_id(&next);

        let (length, counted) = match lag {
            Some(lag) => (
                pending + lag,
                format!("{pending} pending, {lag} undelivered"),
            ),
            None => (
                xlen,
                format!("{pending} pending, lag unknown so length is XLEN {xlen}"),
            ),
        };
        let mut reading = QueueReading::empty(format!("stream `{key}` group `{group}`: {counted}"));
        reading.length = length;
        let mut oldest: Option<(DateTime<Utc>, String)> = None;
        for id in [oldest_pending, first_undelivered].into_iter().flatten() {
            let at = stream_id_time(&id).ok_or_else(|| {
                self.bad(format!("stream `{key}`: entry id `{id}` is not <ms>-<seq>"))
            })?;
            if oldest.as_ref().is_none_or(|(t, _)| at < *t) {
                oldest = Some((at, id));
            }
        }
        if let Some((at, id)) = oldest {
            reading.oldest_age = Some(age(now, at));
            reading.oldest_id = Some(id);
        }
        Ok(reading)
    }

    async fn measure_sorted_set(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let length: u64 = self.call("ZCARD", &[key], key).await?;
        let mut reading = QueueReading::empty(format!("sorted set `{key}`: {length} members"));
        reading.length = length;
        if length == 0 {
            return Ok(reading);
        }
        let lowest: Value = self
            .call("ZRANGE", &[key, "0", "0", "WITHSCORES"], key)
            .await?;
        let pair = match &lowest {
            Value::Array(items) => match items.as_slice() {
                [] => None,
                [member, score] => Some((value_string(member), value_f64(score))),
                // RESP3 answers WITHSCORES as an array of [member, score] pairs.
                [Value::Array(inner)] => match inner.as_slice() {
                    [member, score] => Some((value_string(member), value_f64(score))),
                    _ => Some((None, None)),
                },
                _ => Some((None, None)),
            },
            _ => Some((None, None)),
        };
        let Some((member, score)) = pair else {
            return Ok(reading);
        };
        let score = score.ok_or_else(|| self.bad(format!("ZRANGE `{key}`: unexpected answer")))?;
        let at = epoch_time(score).ok_or_else(|| {
            self.bad(format!(
                "sorted set `{key}`: lowest score {score} is not a Unix time"
            ))
        })?;
        reading.oldest_age = Some(age(now, at));
        reading.oldest_id = member;
        Ok(reading)
    }

    async fn measure_sidekiq(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let key = format!("queue:{name}");
        let length = self.llen(&key).await?;
        let mut reading = QueueReading::empty(format!("sidekiq `{key}`: {length} jobs"));
        reading.length = length;
        if length == 0 {
            return Ok(reading);
        }
        let Some(raw) = self.lindex(&key, "-1").await? else {
            return Ok(reading);
        };
        let job = json_object(&raw)
            .ok_or_else(|| self.bad(format!("sidekiq `{key}`: oldest item is not a JSON job")))?;
        reading.oldest_id = json_id(&job, &["jid"]);
        let stamp = job.get("enqueued_at").or_else(|| job.get("created_at"));
        match stamp {
            None => reading.detail.push_str(", oldest job has no enqueued_at"),
            Some(v) => {
                let at = json_time(v).ok_or_else(|| {
                    self.bad(format!(
                        "sidekiq `{key}`: enqueued_at {v} is not a Unix time"
                    ))
                })?;
                reading.oldest_age = Some(age(now, at));
            }
        }
        Ok(reading)
    }

    async fn measure_bullmq(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let wait = format!("bull:{name}:wait");
        let active_key = format!("bull:{name}:active");
        let length = self.llen(&wait).await?;
        let active = self.llen(&active_key).await?;
        let mut reading = QueueReading::empty(format!(
            "bullmq `{wait}`: {length} waiting, {active} active"
        ));
        reading.length = length;
        if length == 0 {
            return Ok(reading);
        }
        let Some(raw_id) = self.lindex(&wait, "-1").await? else {
            return Ok(reading);
        };
        let id = String::from_utf8_lossy(&raw_id).into_owned();
        let job_key = format!("bull:{name}:{id}");
        reading.oldest_id = Some(id);
        let Some(raw) = self.hget(&job_key, "timestamp").await? else {
            reading
                .detail
                .push_str(&format!(", job hash `{job_key}` has no timestamp"));
            return Ok(reading);
        };
        let text = String::from_utf8_lossy(&raw);
        let at = text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(epoch_time)
            .ok_or_else(|| {
                self.bad(format!(
                    "bullmq `{job_key}`: timestamp `{text}` is not epoch ms"
                ))
            })?;
        reading.oldest_age = Some(age(now, at));
        Ok(reading)
    }

    async fn measure_celery(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let mut keys = vec![name.to_string()];
        keys.extend(
            KOMBU_PRIORITY_STEPS
                .iter()
                .map(|step| format!("{name}{KOMBU_PRIORITY_SEP}{step}")),
        );
        let mut length = 0u64;
        let mut oldest_id = None;
        let mut oldest: Option<DateTime<Utc>> = None;
        for key in &keys {
            let n = self.llen(key).await?;
            length += n;
            if n == 0 {
                continue;
            }
            let Some(raw) = self.lindex(key, "-1").await? else {
                continue;
            };
            let message = json_object(&raw).ok_or_else(|| {
                self.bad(format!(
                    "celery `{}`: oldest item is not a JSON message",
                    key.escape_debug()
                ))
            })?;
            let headers = message.get("headers").and_then(Json::as_object);
            let properties = message.get("properties").and_then(Json::as_object);
            if oldest_id.is_none() {
                oldest_id = headers
                    .and_then(|h| json_id(h, &["id"]))
                    .or_else(|| properties.and_then(|p| json_id(p, &["correlation_id"])));
            }
            let at = [Some(&message), headers, properties]
                .into_iter()
                .flatten()
                .find_map(|map| {
                    TIME_FIELDS
                        .iter()
                        .find_map(|f| map.get(*f).and_then(json_time))
                });
            if let Some(at) = at
                && oldest.is_none_or(|t| at < t)
            {
                oldest = Some(at);
            }
        }
        let mut reading = QueueReading::empty(format!(
            "celery `{name}` (with kombu priority lists): {length} messages"
        ));
        reading.length = length;
        reading.oldest_id = oldest_id;
        reading.oldest_age = oldest.map(|at| age(now, at));
        if length > 0 && oldest.is_none() {
            reading.detail.push_str(", messages carry no enqueue time");
        }
        Ok(reading)
    }

    async fn measure_rq(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueReading, SourceError> {
        let key = format!("rq:queue:{name}");
        let length = self.llen(&key).await?;
        let mut reading = QueueReading::empty(format!("rq `{key}`: {length} jobs"));
        reading.length = length;
        if length == 0 {
            return Ok(reading);
        }
        let Some(raw_id) = self.lindex(&key, "0").await? else {
            return Ok(reading);
        };
        let id = String::from_utf8_lossy(&raw_id).into_owned();
        let job_key = format!("rq:job:{id}");
        reading.oldest_id = Some(id);
        let Some(raw) = self.hget(&job_key, "enqueued_at").await? else {
            reading
                .detail
                .push_str(&format!(", job hash `{job_key}` has no enqueued_at"));
            return Ok(reading);
        };
        let text = String::from_utf8_lossy(&raw);
        let at = parse_iso(text.trim()).ok_or_else(|| {
            self.bad(format!(
                "rq `{job_key}`: enqueued_at `{text}` is not ISO 8601"
            ))
        })?;
        reading.oldest_age = Some(age(now, at));
        Ok(reading)
    }
}

impl super::registry::Source for RedisSource {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> futures_util::future::BoxFuture<'_, super::registry::Finding> {
        use super::registry::Finding;
        Box::pin(async move {
            match self.ping().await {
                Ok(()) => Finding::Ok(
                    "reachable; Sentinel sends only read commands (an allowlist checked before sending)"
                        .to_string(),
                ),
                Err(error) => Finding::Fail(format!("cannot reach: {error}")),
            }
        })
    }

    fn queues(&self) -> Option<&RedisSource> {
        Some(self)
    }
}

#[cfg(test)]
mod tests;

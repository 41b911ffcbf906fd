//! A closer look at one queue, for an investigation: its oldest waiting jobs, the jobs in
//! progress, and the workers with their last sign of life, where the layout keeps them. Read
//! with the same allowlisted commands as the probes (`SMEMBERS` and `HGETALL` included, both
//! read-only).
//!
//! Workers per layout:
//!
//! - `Sidekiq`: the set `processes` names each process; its hash holds `info` (JSON: hostname,
//!   pid, queues, concurrency), `busy` and `beat` (epoch seconds) and expires 60 seconds after
//!   the last beat, so a name whose hash is gone is a process that died without saying so.
//!   `<process>:work` holds the jobs it runs (JSON with `queue`, `payload`, `run_at`).
//! - `Rq`: the set `rq:workers:<queue>` (or `rq:workers`) names worker hashes with
//!   `last_heartbeat` (ISO 8601), `state`, `queues` and `current_job`.
//! - `Stream` with a group: its consumers (`XINFO CONSUMERS`, idle milliseconds) and the entries
//!   they hold (`XPENDING ... - + <n>`).
//! - `BullMq`: no worker registry, but each active job has a lock key `bull:<q>:<id>:lock`
//!   while a worker holds it: an active job without one was lost by its worker.
//! - Lists, sorted sets, plain streams and Celery keep no workers.

use super::values::{
    json_id, json_object, json_time, parse_iso, stream_id_time, value_string, value_u64,
};
use super::{QueueLayout, QueueProbe, RedisSource};
use crate::source::SourceError;
use chrono::{DateTime, Utc};
use redis::Value;
use serde_json::Value as Json;
use std::time::Duration;

/// The most processes or workers read.
const WORKERS_READ: usize = 20;

/// A job seen in the queue or in progress.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobSeen {
    pub id: String,
    /// Its class or name, when the layout records one.
    pub what: String,
    /// When it was enqueued (waiting) or started (in progress), when known.
    pub since: Option<DateTime<Utc>>,
    /// The worker or consumer holding it, for a job in progress.
    pub holder: Option<String>,
    /// An active job whose worker's lock is gone (BullMQ).
    pub lock_lost: bool,
}

/// A worker process and its last sign of life.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkerSeen {
    pub name: String,
    /// Its last heartbeat, or last interaction; `None` when its record is gone.
    pub last_seen: Option<DateTime<Utc>>,
    /// The queues it takes from; empty when it takes from all of them or it is unknown.
    pub queues: Vec<String>,
    pub busy: Option<u64>,
    pub capacity: Option<u64>,
}

/// What [`RedisSource::inspect`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct QueueInspection {
    /// The oldest waiting jobs, oldest first.
    pub waiting: Vec<JobSeen>,
    /// Jobs in progress, where the layout shows them.
    pub in_progress: Vec<JobSeen>,
    /// The workers; `None` when the layout keeps no record of them.
    pub workers: Option<Vec<WorkerSeen>>,
    /// How recent a worker's last sign of life must be for it to count as alive.
    pub alive_within: Duration,
    /// The commands sent, in order, for the evidence.
    pub commands: Vec<String>,
}

/// The fields of a hash from an `HGETALL` answer (flat array in RESP2, map in RESP3).
fn hash_fields(value: &Value) -> Vec<(String, String)> {
    match value {
        Value::Array(flat) => flat
            .chunks(2)
            .filter_map(|pair| match pair {
                [k, v] => Some((value_string(k)?, value_string(v)?)),
                _ => None,
            })
            .collect(),
        Value::Map(pairs) => pairs
            .iter()
            .filter_map(|(k, v)| Some((value_string(k)?, value_string(v)?)))
            .collect(),
        _ => Vec::new(),
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) | Value::Set(items) => items.iter().filter_map(value_string).collect(),
        _ => Vec::new(),
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A JSON job as Sidekiq, Celery or a plain list holds it.
fn job_of(raw: &[u8], id_fields: &[&str], what_fields: &[&str]) -> Option<JobSeen> {
    let job = json_object(raw)?;
    let headers = job.get("headers").and_then(Json::as_object);
    let id = json_id(&job, id_fields).or_else(|| headers.and_then(|h| json_id(h, &["id"])))?;
    let what = what_fields
        .iter()
        .find_map(|f| job.get(*f).and_then(Json::as_str))
        .or_else(|| headers.and_then(|h| h.get("task")).and_then(Json::as_str))
        .unwrap_or_default()
        .to_string();
    let since = ["enqueued_at", "created_at", "timestamp"]
        .iter()
        .find_map(|f| job.get(*f).and_then(json_time));
    Some(JobSeen {
        id,
        what,
        since,
        holder: None,
        lock_lost: false,
    })
}

impl RedisSource {
    /// Sends one allowlisted command and records it.
    async fn read(
        &self,
        commands: &mut Vec<String>,
        name: &str,
        args: &[&str],
    ) -> Result<Value, SourceError> {
        commands.push(format!("{name} {}", args.join(" ")));
        self.call(name, args, args.first().copied().unwrap_or("-"))
            .await
    }

    /// The oldest `limit` waiting jobs of `probe`, the jobs in progress and the workers.
    pub(crate) async fn inspect(
        &self,
        probe: &QueueProbe,
        limit: usize,
    ) -> Result<QueueInspection, SourceError> {
        let mut found = QueueInspection {
            alive_within: Duration::from_secs(60),
            ..QueueInspection::default()
        };
        let name = probe.name.as_str();
        let last = format!("-{}", limit.max(1));
        let first = (limit.max(1) - 1).to_string();
        let commands = &mut found.commands;
        match &probe.layout {
            QueueLayout::Sidekiq => {
                let key = format!("queue:{name}");
                let items = self.read(commands, "LRANGE", &[&key, &last, "-1"]).await?;
                found.waiting = list_jobs(&items, true, &["jid"], &["class"]);
                found.workers = Some(
                    self.sidekiq_processes(commands, &mut found.in_progress, name)
                        .await?,
                );
            }
            QueueLayout::Rq => {
                let key = format!("rq:queue:{name}");
                let ids = strings(&self.read(commands, "LRANGE", &[&key, "0", &first]).await?);
                for id in ids {
                    let job_key = format!("rq:job:{id}");
                    let fields = self
                        .read(commands, "HMGET", &[&job_key, "enqueued_at", "description"])
                        .await?;
                    let values = strings(&fields);
                    found.waiting.push(JobSeen {
                        id,
                        what: values.get(1).cloned().unwrap_or_default(),
                        since: values.first().and_then(|t| parse_iso(t.trim())),
                        holder: None,
                        lock_lost: false,
                    });
                }
                found.alive_within = Duration::from_secs(420);
                found.workers = Some(self.rq_workers(commands, name).await?);
            }
            QueueLayout::BullMq => {
                let wait = format!("bull:{name}:wait");
                let mut ids = strings(&self.read(commands, "LRANGE", &[&wait, &last, "-1"]).await?);
                ids.reverse();
                for id in ids {
                    let job_key = format!("bull:{name}:{id}");
                    let values = strings(
                        &self
                            .read(commands, "HMGET", &[&job_key, "name", "timestamp"])
                            .await?,
                    );
                    found.waiting.push(JobSeen {
                        id,
                        what: values.first().cloned().unwrap_or_default(),
                        since: values
                            .get(1)
                            .and_then(|t| t.parse::<f64>().ok())
                            .and_then(super::values::epoch_time),
                        holder: None,
                        lock_lost: false,
                    });
                }
                let active = format!("bull:{name}:active");
                let ids = strings(
                    &self
                        .read(commands, "LRANGE", &[&active, "0", &first])
                        .await?,
                );
                for id in ids {
                    let job_key = format!("bull:{name}:{id}");
                    let values = strings(
                        &self
                            .read(commands, "HMGET", &[&job_key, "name", "processedOn"])
                            .await?,
                    );
                    let lock = format!("{job_key}:lock");
                    let locked = value_u64(&self.read(commands, "EXISTS", &[&lock]).await?)
                        .is_some_and(|n| n > 0);
                    found.in_progress.push(JobSeen {
                        id,
                        what: values.first().cloned().unwrap_or_default(),
                        since: values
                            .get(1)
                            .and_then(|t| t.parse::<f64>().ok())
                            .and_then(super::values::epoch_time),
                        holder: None,
                        lock_lost: !locked,
                    });
                }
            }
            QueueLayout::Stream { group: Some(group) } => {
                let pending = self
                    .read(
                        commands,
                        "XPENDING",
                        &[name, group, "-", "+", &limit.max(1).to_string()],
                    )
                    .await?;
                if let Value::Array(entries) = &pending {
                    for entry in entries {
                        let Value::Array(parts) = entry else { continue };
                        let id = parts.first().and_then(value_string).unwrap_or_default();
                        found.in_progress.push(JobSeen {
                            since: stream_id_time(&id),
                            holder: parts.get(1).and_then(value_string),
                            what: format!(
                                "delivered {} times",
                                parts.get(3).and_then(value_u64).unwrap_or(0)
                            ),
                            id,
                            lock_lost: false,
                        });
                    }
                }
                let consumers = self
                    .read(commands, "XINFO", &["CONSUMERS", name, group])
                    .await?;
                let now = Utc::now();
                let mut workers = Vec::new();
                if let Value::Array(list) = &consumers {
                    for consumer in list {
                        let fields = match consumer {
                            Value::Array(_) | Value::Map(_) => hash_fields(consumer),
                            _ => continue,
                        };
                        let idle = field(&fields, "idle").and_then(|v| v.parse::<i64>().ok());
                        workers.push(WorkerSeen {
                            name: field(&fields, "name").unwrap_or_default().to_string(),
                            last_seen: idle
                                .and_then(chrono::Duration::try_milliseconds)
                                .and_then(|ago| now.checked_sub_signed(ago)),
                            queues: Vec::new(),
                            busy: field(&fields, "pending").and_then(|v| v.parse().ok()),
                            capacity: None,
                        });
                    }
                }
                found.workers = Some(workers);
            }
            QueueLayout::Stream { group: None } => {
                let entries = self
                    .read(
                        commands,
                        "XRANGE",
                        &[name, "-", "+", "COUNT", &limit.max(1).to_string()],
                    )
                    .await?;
                if let Value::Array(entries) = &entries {
                    for entry in entries {
                        let Value::Array(parts) = entry else { continue };
                        let id = parts.first().and_then(value_string).unwrap_or_default();
                        found.waiting.push(JobSeen {
                            since: stream_id_time(&id),
                            id,
                            what: String::new(),
                            holder: None,
                            lock_lost: false,
                        });
                    }
                }
            }
            QueueLayout::SortedSet => {
                let members = strings(
                    &self
                        .read(commands, "ZRANGE", &[name, "0", &first, "WITHSCORES"])
                        .await?,
                );
                for pair in members.chunks(2) {
                    if let [member, score] = pair {
                        found.waiting.push(JobSeen {
                            id: member.clone(),
                            what: String::new(),
                            since: score
                                .parse::<f64>()
                                .ok()
                                .and_then(super::values::epoch_time),
                            holder: None,
                            lock_lost: false,
                        });
                    }
                }
            }
            QueueLayout::Celery => {
                let items = self.read(commands, "LRANGE", &[name, &last, "-1"]).await?;
                found.waiting = list_jobs(&items, true, &["id"], &["task"]);
            }
            QueueLayout::List => {
                let items = self.read(commands, "LRANGE", &[name, "0", &first]).await?;
                found.waiting = list_jobs(
                    &items,
                    false,
                    &["id", "jid", "job_id"],
                    &["class", "name", "task"],
                );
            }
        }
        Ok(found)
    }

    /// Sidekiq's processes, and the jobs of `queue` they run.
    async fn sidekiq_processes(
        &self,
        commands: &mut Vec<String>,
        in_progress: &mut Vec<JobSeen>,
        queue: &str,
    ) -> Result<Vec<WorkerSeen>, SourceError> {
        let mut names = strings(&self.read(commands, "SMEMBERS", &["processes"]).await?);
        names.sort();
        names.truncate(WORKERS_READ);
        let mut workers = Vec::new();
        for identity in names {
            let values = self
                .read(commands, "HMGET", &[&identity, "info", "busy", "beat"])
                .await?;
            let values: Vec<Option<String>> = match &values {
                Value::Array(items) => items.iter().map(value_string).collect(),
                _ => Vec::new(),
            };
            let cell = |i: usize| values.get(i).cloned().flatten();
            let info = cell(0).and_then(|text| json_object(text.as_bytes()));
            let queues = info
                .as_ref()
                .and_then(|i| i.get("queues"))
                .and_then(Json::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            workers.push(WorkerSeen {
                name: identity.clone(),
                last_seen: cell(2)
                    .and_then(|t| t.parse::<f64>().ok())
                    .and_then(super::values::epoch_time),
                queues,
                busy: cell(1).and_then(|b| b.parse().ok()),
                capacity: info
                    .as_ref()
                    .and_then(|i| i.get("concurrency"))
                    .and_then(Json::as_u64),
            });
            let work_key = format!("{identity}:work");
            let work = self.read(commands, "HGETALL", &[&work_key]).await?;
            for (_, text) in hash_fields(&work) {
                let Some(entry) = json_object(text.as_bytes()) else {
                    continue;
                };
                if entry.get("queue").and_then(Json::as_str) != Some(queue) {
                    continue;
                }
                let payload = match entry.get("payload") {
                    Some(Json::String(inner)) => json_object(inner.as_bytes()),
                    Some(Json::Object(map)) => Some(map.clone()),
                    _ => None,
                };
                let Some(payload) = payload else { continue };
                in_progress.push(JobSeen {
                    id: json_id(&payload, &["jid"]).unwrap_or_default(),
                    what: payload
                        .get("class")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    since: entry.get("run_at").and_then(json_time),
                    holder: Some(identity.clone()),
                    lock_lost: false,
                });
            }
        }
        Ok(workers)
    }

    /// RQ's workers of `queue` (or all of them, where RQ keeps no set per queue).
    async fn rq_workers(
        &self,
        commands: &mut Vec<String>,
        queue: &str,
    ) -> Result<Vec<WorkerSeen>, SourceError> {
        let per_queue = format!("rq:workers:{queue}");
        let mut keys = strings(&self.read(commands, "SMEMBERS", &[&per_queue]).await?);
        if keys.is_empty() {
            keys = strings(&self.read(commands, "SMEMBERS", &["rq:workers"]).await?);
        }
        keys.sort();
        keys.truncate(WORKERS_READ);
        let mut workers = Vec::new();
        for key in keys {
            let values = self
                .read(
                    commands,
                    "HMGET",
                    &[&key, "last_heartbeat", "queues", "state"],
                )
                .await?;
            let values: Vec<Option<String>> = match &values {
                Value::Array(items) => items.iter().map(value_string).collect(),
                _ => Vec::new(),
            };
            let cell = |i: usize| values.get(i).cloned().flatten();
            workers.push(WorkerSeen {
                name: key.trim_start_matches("rq:worker:").to_string(),
                last_seen: cell(0).and_then(|t| parse_iso(t.trim())),
                queues: cell(1)
                    .map(|q| q.split(',').map(|s| s.trim().to_string()).collect())
                    .unwrap_or_default(),
                busy: cell(2).map(|state| u64::from(state == "busy")),
                capacity: Some(1),
            });
        }
        Ok(workers)
    }
}

/// The JSON jobs of an `LRANGE` answer, oldest first (`reversed` when the list's oldest item is
/// at its right end); items that are not JSON jobs are shown by their start.
fn list_jobs(
    items: &Value,
    reversed: bool,
    id_fields: &[&str],
    what_fields: &[&str],
) -> Vec<JobSeen> {
    let Value::Array(items) = items else {
        return Vec::new();
    };
    let mut jobs: Vec<JobSeen> = items
        .iter()
        .filter_map(|item| match item {
            Value::BulkString(raw) => Some(job_of(raw, id_fields, what_fields).unwrap_or_else(
                || JobSeen {
                    id: String::from_utf8_lossy(raw).chars().take(60).collect(),
                    what: String::new(),
                    since: None,
                    holder: None,
                    lock_lost: false,
                },
            )),
            _ => None,
        })
        .collect();
    if reversed {
        jobs.reverse();
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIS_URL: &str = "redis://127.0.0.1:6379/";

    /// The machine's Redis with keys unique to one test, deleted at the end of it.
    struct Keys {
        conn: redis::aio::MultiplexedConnection,
        tag: String,
        made: Vec<String>,
    }

    impl Keys {
        async fn new(test: &str) -> Self {
            let conn = redis::Client::open(REDIS_URL)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .expect("a Redis server on 127.0.0.1:6379 (scripts/test.sh starts it)");
            Self {
                conn,
                tag: format!("sentinel-inspect-{test}-{}", std::process::id()),
                made: Vec::new(),
            }
        }

        /// Runs a command whose first argument is a key, remembering the key.
        async fn write(&mut self, args: &[&str]) {
            if let Some(key) = args.get(1) {
                self.made.push(key.to_string());
            }
            let mut cmd = redis::cmd(args[0]);
            for arg in &args[1..] {
                cmd.arg(*arg);
            }
            let _: Value = cmd.query_async(&mut self.conn).await.unwrap();
        }

        async fn clean(mut self) {
            for key in std::mem::take(&mut self.made) {
                let _: Value = redis::cmd("DEL")
                    .arg(key)
                    .query_async(&mut self.conn)
                    .await
                    .unwrap();
            }
        }
    }

    fn source() -> RedisSource {
        RedisSource::new("queues", REDIS_URL, Duration::from_secs(2)).unwrap()
    }

    #[tokio::test]
    async fn a_stream_group_shows_the_entries_each_consumer_holds() {
        let mut keys = Keys::new("stream").await;
        let stream = keys.tag.clone();
        for n in 0..3 {
            keys.write(&["XADD", &stream, "*", "job", &n.to_string()])
                .await;
        }
        keys.write(&["XGROUP", "CREATE", &stream, "mailers", "0"])
            .await;
        keys.made.pop();
        keys.write(&[
            "XREADGROUP",
            "GROUP",
            "mailers",
            "worker-1",
            "COUNT",
            "2",
            "STREAMS",
            &stream,
            ">",
        ])
        .await;
        keys.made.pop();
        let probe = QueueProbe::new(
            &stream,
            QueueLayout::Stream {
                group: Some("mailers".into()),
            },
        );
        let found = source().inspect(&probe, 10).await.unwrap();
        keys.clean().await;
        assert_eq!(found.in_progress.len(), 2, "{found:?}");
        assert!(
            found
                .in_progress
                .iter()
                .all(|job| job.holder.as_deref() == Some("worker-1") && job.since.is_some())
        );
        let workers = found.workers.unwrap();
        assert_eq!(workers.len(), 1);
        assert_eq!(workers[0].name, "worker-1");
        assert_eq!(workers[0].busy, Some(2), "entries pending with it");
        assert!(workers[0].last_seen.is_some());
        assert!(
            found
                .commands
                .iter()
                .any(|c| c.starts_with("XINFO CONSUMERS"))
        );
    }

    #[tokio::test]
    async fn a_bullmq_active_job_without_its_lock_is_lost() {
        let mut keys = Keys::new("bull").await;
        let queue = keys.tag.clone();
        let active = format!("bull:{queue}:active");
        keys.write(&["RPUSH", &active, "1", "2"]).await;
        for id in ["1", "2"] {
            let job = format!("bull:{queue}:{id}");
            keys.write(&[
                "HSET",
                &job,
                "name",
                "send-mail",
                "processedOn",
                "1800000000000",
            ])
            .await;
        }
        let lock = format!("bull:{queue}:1:lock");
        keys.write(&["SET", &lock, "token"]).await;
        let probe = QueueProbe::new(&queue, QueueLayout::BullMq);
        let found = source().inspect(&probe, 10).await.unwrap();
        keys.clean().await;
        let lost: Vec<(&str, bool)> = found
            .in_progress
            .iter()
            .map(|job| (job.id.as_str(), job.lock_lost))
            .collect();
        assert_eq!(lost, [("1", false), ("2", true)]);
        assert_eq!(found.in_progress[1].what, "send-mail");
        assert_eq!(
            found.in_progress[1].since.map(|t| t.timestamp()),
            Some(1_800_000_000)
        );
        assert!(found.workers.is_none(), "BullMQ keeps no worker registry");
    }

    #[tokio::test]
    async fn rq_workers_carry_their_heartbeat_and_queues() {
        let mut keys = Keys::new("rq").await;
        let queue = keys.tag.clone();
        let worker = format!("rq:worker:{queue}-w1");
        let set = format!("rq:workers:{queue}");
        keys.write(&["SADD", &set, &worker]).await;
        keys.write(&[
            "HSET",
            &worker,
            "last_heartbeat",
            "2027-01-15T08:00:00.123456Z",
            "queues",
            &queue,
            "state",
            "busy",
        ])
        .await;
        let list = format!("rq:queue:{queue}");
        let id = format!("{queue}-job");
        keys.write(&["RPUSH", &list, &id]).await;
        let job = format!("rq:job:{id}");
        keys.write(&[
            "HSET",
            &job,
            "enqueued_at",
            "2027-01-15T07:00:00Z",
            "description",
            "send()",
        ])
        .await;
        let probe = QueueProbe::new(&queue, QueueLayout::Rq);
        let found = source().inspect(&probe, 10).await.unwrap();
        keys.clean().await;
        assert_eq!(found.waiting.len(), 1);
        assert_eq!(found.waiting[0].id, id);
        assert_eq!(found.waiting[0].what, "send()");
        let workers = found.workers.unwrap();
        assert_eq!(workers[0].name, format!("{queue}-w1"));
        assert_eq!(workers[0].queues, vec![queue.clone()]);
        assert_eq!(workers[0].busy, Some(1));
        let beat = DateTime::parse_from_rfc3339("2027-01-15T08:00:00.123456Z").unwrap();
        assert_eq!(workers[0].last_seen, Some(beat.with_timezone(&Utc)));
        assert_eq!(found.alive_within, Duration::from_secs(420));
    }
}

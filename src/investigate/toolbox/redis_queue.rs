//! `redis_queue {source, queue?}`: the job queues the `stuck` watches measure on a Redis
//! source, through the source's read-only command allowlist: each queue's length, how long its
//! oldest job has waited, its oldest few jobs, the jobs in progress and the workers with their
//! last sign of life, where the layout records them. Only the queues a watch names can be
//! read: Redis keys holding anything else (sessions, caches) stay out of reach.

use super::ToolOutput;
use super::args::{Args, object_schema, pick_source, source_property};
use super::setup::{QueueTarget, Setup, listed};
use crate::humanize;
use crate::llm::ToolDefinition;
use crate::source::redis::{QueueInspection, QueueLayout};
use crate::source::registry::Sources;
use chrono::{DateTime, Utc};
use std::fmt::Write;

pub(super) const NAME: &str = "redis_queue";

/// Waiting jobs read per queue (the oldest).
const JOBS: usize = 5;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.queues.is_empty() {
        return None;
    }
    let names = setup.queue_sources();
    let queues: Vec<String> = setup
        .queues
        .iter()
        .map(|q| {
            format!(
                "{} on {} ({})",
                q.probe.name,
                q.source,
                layout_name(&q.probe.layout)
            )
        })
        .collect();
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Read the job queues the stuck watches measure on Redis: per queue its length, how \
             long the oldest job has waited, its oldest {JOBS} jobs, the jobs in progress and \
             the workers' last heartbeats where the layout records them. Without `queue`, every \
             queue of the source. Queues: {}.",
            queues.join(", ")
        ),
        input_schema: object_schema(
            serde_json::json!({
                "source": source_property(&names, "the Redis source"),
                "queue": {"type": "string", "description": "one queue's name; omit for all"},
            }),
            &["source"],
        ),
    })
}

fn layout_name(layout: &QueueLayout) -> String {
    match layout {
        QueueLayout::List => "list".into(),
        QueueLayout::Stream { group: None } => "stream".into(),
        QueueLayout::Stream { group: Some(group) } => format!("stream, group {group}"),
        QueueLayout::SortedSet => "sorted set".into(),
        QueueLayout::Sidekiq => "sidekiq".into(),
        QueueLayout::BullMq => "bullmq".into(),
        QueueLayout::Celery => "celery".into(),
        QueueLayout::Rq => "rq".into(),
    }
}

/// The queues of `source` to read: the one named `queue`, or all of them.
pub(super) fn chosen<'s>(
    setup: &'s Setup,
    source: &str,
    queue: Option<&str>,
) -> Result<Vec<&'s QueueTarget>, String> {
    let of_source: Vec<&QueueTarget> = setup.queues.iter().filter(|q| q.source == source).collect();
    let Some(queue) = queue else {
        return Ok(of_source);
    };
    let picked: Vec<&QueueTarget> = of_source
        .iter()
        .copied()
        .filter(|q| q.probe.name == queue)
        .collect();
    if picked.is_empty() {
        let names: Vec<&str> = of_source.iter().map(|q| q.probe.name.as_str()).collect();
        return Err(format!(
            "no queue named {queue:?} is watched on {source}; queues: {}",
            listed(&names)
        ));
    }
    Ok(picked)
}

pub(super) async fn run(
    setup: &Setup,
    sources: &Sources,
    input: &serde_json::Value,
    now: DateTime<Utc>,
) -> ToolOutput {
    let parsed = (|| {
        let args = Args::new(NAME, input, &["source", "queue"])?;
        let source = pick_source(
            NAME,
            "Redis",
            &setup.queue_sources(),
            args.optional_text("source", 200)?,
        )?;
        let queues = chosen(setup, source, args.optional_text("queue", 500)?)?;
        Ok::<_, String>((source, queues))
    })();
    let (name, queues) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let mut query = queues
        .iter()
        .map(|q| format!("{} ({})", q.probe.name, layout_name(&q.probe.layout)))
        .collect::<Vec<_>>()
        .join(", ");
    let redis = match sources.queues(name) {
        Ok(redis) => redis,
        Err(error) => return ToolOutput::failed(NAME, Some(name), query, error.to_string()),
    };
    let mut out = String::new();
    let mut commands: Vec<String> = Vec::new();
    let mut failures = 0;
    for target in &queues {
        let _ = writeln!(
            out,
            "queue {} ({}, watched by {}):",
            target.probe.name,
            layout_name(&target.probe.layout),
            target.watch
        );
        match redis.measure(&target.probe, now).await {
            Ok(reading) => {
                let _ = write!(out, "  {} waiting", reading.length);
                if let Some(age) = reading.oldest_age {
                    let _ = write!(out, ", the oldest for {}", crate::humanize::duration(age));
                }
                if let Some(id) = &reading.oldest_id {
                    let _ = write!(out, " (id {id})");
                }
                let _ = writeln!(out, "\n  read: {}", reading.detail);
            }
            Err(error) => {
                failures += 1;
                let _ = writeln!(out, "  cannot be measured: {error}");
                continue;
            }
        }
        match redis.inspect(&target.probe, JOBS).await {
            Ok(inspection) => {
                commands.extend(inspection.commands.iter().cloned());
                out.push_str(&inspection_text(&inspection, now));
            }
            Err(error) => {
                let _ = writeln!(out, "  its jobs and workers cannot be read: {error}");
            }
        }
    }
    if !commands.is_empty() {
        query = format!("{query}\n{}", commands.join("\n"));
    }
    if failures == queues.len() && failures > 0 {
        ToolOutput::failed(NAME, Some(name), query, out)
    } else {
        ToolOutput::done(NAME, Some(name), query, out)
    }
}

/// What is known of a waiting or running job.
struct Job<'a> {
    id: &'a str,
    what: &'a str,
    since: Option<DateTime<Utc>>,
    holder: Option<&'a str>,
    lock_lost: bool,
}

/// A job as `- id what, since 2026-11-24T10:04:00Z (12m ago), held by w1`.
fn job_line(job: Job<'_>, now: DateTime<Utc>) -> String {
    let mut line = format!("  - {}", job.id);
    if !job.what.is_empty() {
        let _ = write!(line, " {}", job.what);
    }
    if let Some(since) = job.since {
        let _ = write!(
            line,
            ", since {} ({} ago)",
            super::when::shown(since),
            humanize::duration_secs((now - since).num_seconds())
        );
    }
    if let Some(holder) = job.holder {
        let _ = write!(line, ", held by {holder}");
    }
    if job.lock_lost {
        line.push_str(", its worker's lock is gone");
    }
    line
}

/// The jobs and workers of one queue, indented under its heading.
fn inspection_text(found: &QueueInspection, now: DateTime<Utc>) -> String {
    let mut text = String::new();
    if found.waiting.is_empty() {
        text.push_str("  oldest waiting: none\n");
    }
    let jobs = |title: &str, list: &mut dyn Iterator<Item = Job<'_>>, text: &mut String| {
        let mut list = list.peekable();
        if list.peek().is_some() {
            let _ = writeln!(text, "  {title}:");
        }
        for job in list {
            let _ = writeln!(text, "  {}", job_line(job, now));
        }
    };
    let job = |id, what, since, holder, lock_lost| Job {
        id,
        what,
        since,
        holder,
        lock_lost,
    };
    jobs(
        "oldest waiting",
        &mut found
            .waiting
            .iter()
            .map(|j| job(&j.id, &j.what, j.since, j.holder.as_deref(), j.lock_lost)),
        &mut text,
    );
    jobs(
        "in progress",
        &mut found
            .in_progress
            .iter()
            .map(|j| job(&j.id, &j.what, j.since, j.holder.as_deref(), j.lock_lost)),
        &mut text,
    );
    match &found.workers {
        None => text.push_str("  workers: not recorded by this layout\n"),
        Some(workers) if workers.is_empty() => text.push_str("  workers: none registered\n"),
        Some(workers) => {
            let _ = writeln!(
                text,
                "  workers (alive when seen within {}):",
                humanize::duration(found.alive_within)
            );
            for worker in workers {
                let _ = write!(text, "    - {}", worker.name);
                match worker.last_seen {
                    Some(at) => {
                        let _ = write!(
                            text,
                            ", last seen {} ago",
                            humanize::duration_secs((now - at).num_seconds())
                        );
                    }
                    None => text.push_str(", its record is gone"),
                }
                if let (Some(busy), Some(capacity)) = (worker.busy, worker.capacity) {
                    let _ = write!(text, ", busy {busy}/{capacity}");
                }
                if !worker.queues.is_empty() {
                    let _ = write!(text, ", queues {}", worker.queues.join(","));
                }
                text.push('\n');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::redis::QueueProbe;

    fn setup() -> Setup {
        let target = |source: &str, queue: &str| QueueTarget {
            source: source.into(),
            watch: format!("{queue}-watch"),
            probe: QueueProbe::new(queue, QueueLayout::Sidekiq),
        };
        Setup {
            queues: vec![
                target("jobs", "mailers"),
                target("jobs", "reports"),
                target("cache", "sync"),
            ],
            ..Setup::default()
        }
    }

    #[test]
    fn only_watched_queues_of_the_source_are_read() {
        let setup = setup();
        let all: Vec<&str> = chosen(&setup, "jobs", None)
            .unwrap()
            .iter()
            .map(|q| q.probe.name.as_str())
            .collect();
        assert_eq!(all, ["mailers", "reports"]);
        let one = chosen(&setup, "jobs", Some("reports")).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            chosen(&setup, "jobs", Some("session:42")).unwrap_err(),
            "no queue named \"session:42\" is watched on jobs; queues: mailers, reports"
        );
        assert!(
            chosen(&setup, "jobs", Some("sync")).is_err(),
            "a queue of another source"
        );
        assert_eq!(setup.queue_sources(), ["jobs", "cache"]);
    }
}

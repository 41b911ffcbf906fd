//! The stuck playbook: the stuck rows (their ids, ages and who took them) of a job table, or
//! a queue's oldest jobs, the jobs in progress and the workers' last heartbeats where the
//! layout keeps them (Sidekiq processes, RQ workers, stream consumers, BullMQ locks), or a
//! length series' recent course; and what they say: it drained, a worker died holding the
//! jobs, no live worker takes from the queue, or every worker is busy.

use crate::config::{StuckSpec, WatchSpec};
use crate::humanize;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::source::redis::{QueueInspection, QueueLayout, QueueProbe, WorkerSeen};
use crate::source::sql::guard::SqlDialectKind;
use crate::watch::format_value;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many stuck rows or queue entries are read.
const SHOWN: usize = 10;
/// The longest cell shown in the evidence.
const CELL_CHARS: usize = 40;
/// The column the rows query adds with each row's age in seconds.
const AGE_COLUMN: &str = "stuck_for_seconds";
/// Columns that name the worker that took a row, most telling first.
const WORKER_COLUMNS: &[&str] = &[
    "locked_by",
    "claimed_by",
    "attempted_by",
    "worker",
    "worker_id",
    "worker_name",
    "processed_by",
    "owner",
    "hostname",
    "host",
];
/// Columns that name a row.
const ID_COLUMNS: &[&str] = &["id", "job_id", "jid", "uuid"];

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The stuck rows themselves, oldest first, with their age by the database's clock, in the
/// database's dialect; `subject` is the job type when the watch groups by one.
pub(crate) fn rows_query(
    stuck: &StuckSpec,
    dialect: SqlDialectKind,
    subject: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    let StuckSpec::Sql {
        table,
        state_column,
        states,
        since_column,
        group_by,
        older_than,
        ..
    } = stuck
    else {
        return None;
    };
    let seconds = older_than.as_secs();
    let (old_enough, age) = super::age_sql(dialect, since_column, seconds, now, None);
    let states = states
        .iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(", ");
    let of_subject = match group_by {
        Some(column) if !subject.is_empty() => format!(" AND {column} = {}", quote(subject)),
        _ => String::new(),
    };
    Some(format!(
        "SELECT *, {age} AS {AGE_COLUMN} FROM {table} WHERE {state_column} IN ({states}) \
         AND {old_enough}{of_subject} ORDER BY {since_column} LIMIT {SHOWN}"
    ))
}

/// What the playbook saw of the stuck work.
pub(crate) enum Seen<'a> {
    /// The stuck rows of a job table.
    Rows {
        columns: &'a [String],
        rows: &'a [Vec<Option<String>>],
        id: &'a str,
    },
    /// A Redis queue: its length now and a closer look.
    Queue {
        layout: &'a QueueLayout,
        length: u64,
        inspection: &'a QueueInspection,
        id: &'a str,
    },
    /// The recent points of a length series.
    Lengths {
        points: &'a [(i64, f64)],
        id: &'a str,
    },
}

fn clock(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn position(columns: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|name| columns.iter().position(|c| c.eq_ignore_ascii_case(name)))
}

fn list(items: &[String]) -> String {
    match items.len() {
        0..=5 => items.join(", "),
        n => format!("{} and {} more", items[..5].join(", "), n - 5),
    }
}

/// Judges what was seen. Pure: the playbook reads, this reasons.
pub(crate) fn judge(
    finding: &mut Finding,
    description: &str,
    what: &str,
    seen: Option<Seen<'_>>,
    now: DateTime<Utc>,
) {
    match seen {
        None => {
            finding.summary = format!(
                "{description}: the stuck work could not be read, so whether it still is stuck is unknown."
            );
            finding.verdict = Verdict::Inconclusive;
            finding.confidence = Confidence::LOW;
        }
        Some(Seen::Rows { columns, rows, id }) => {
            judge_rows(finding, description, what, columns, rows, id)
        }
        Some(Seen::Queue {
            layout,
            length,
            inspection,
            id,
        }) => judge_queue(
            finding,
            description,
            what,
            layout,
            length,
            inspection,
            id,
            now,
        ),
        Some(Seen::Lengths { points, id }) => judge_lengths(finding, description, what, points, id),
    }
}

fn healed(finding: &mut Finding, summary: String, statement: String, id: &str) {
    finding.summary = summary;
    finding.hypotheses.clear();
    finding.hypotheses.push(Hypothesis::known(statement, &[id]));
    finding.verdict = Verdict::NoAction;
    finding.classification = Classification::Transient;
    finding.confidence = Confidence::MEDIUM;
    finding.steps.push(Step::say(
        "Nothing now. If it keeps getting stuck, reply to the page to ask why.",
    ));
}

fn judge_rows(
    finding: &mut Finding,
    description: &str,
    table: &str,
    columns: &[String],
    rows: &[Vec<Option<String>>],
    id: &str,
) {
    if rows.is_empty() {
        healed(
            finding,
            format!("{description}: no row of {table} is stuck any more: the work moved on."),
            format!("No row of {table} is stuck now."),
            id,
        );
        return;
    }
    let cell = |row: &Vec<Option<String>>, index: Option<usize>| {
        index.and_then(|i| row.get(i).cloned().flatten())
    };
    let id_at = position(columns, ID_COLUMNS).or(Some(0));
    let age_at = position(columns, &[AGE_COLUMN]);
    let worker_at = position(columns, WORKER_COLUMNS);
    let ids: Vec<String> = rows.iter().filter_map(|r| cell(r, id_at)).collect();
    let oldest = rows
        .iter()
        .filter_map(|r| cell(r, age_at).and_then(|a| a.parse::<f64>().ok()))
        .fold(0.0f64, f64::max);
    let ids_words = format!(
        "{} {}",
        if ids.len() == 1 { "id" } else { "ids" },
        list(&ids)
    );
    finding.summary = format!(
        "{description}: {} stuck in {table} ({ids_words}), the oldest for {}.",
        if rows.len() >= SHOWN {
            format!("at least {} rows", rows.len())
        } else {
            format!(
                "{} row{}",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            )
        },
        humanize::duration_secs(oldest as i64)
    );
    finding.hypotheses.push(Hypothesis::known(
        format!(
            "Rows {} of {table} are stuck, the oldest for {}.",
            list(&ids),
            humanize::duration_secs(oldest as i64)
        ),
        &[id],
    ));
    finding.verdict = Verdict::ActionNeeded;
    finding.classification = Classification::OpsOrConfig;
    finding.confidence = Confidence::MEDIUM;
    let mut holders: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        if let Some(worker) = cell(row, worker_at).filter(|w| !w.is_empty()) {
            *holders.entry(worker).or_default() += 1;
        }
    }
    let column = worker_at
        .and_then(|i| columns.get(i))
        .cloned()
        .unwrap_or_default();
    match holders.len() {
        0 => finding.hypotheses.push(Hypothesis::guessed(
            "The worker that took them died or hangs, or they wait on something that never answers.",
            &[],
        )),
        1 => {
            let (worker, count) = holders.iter().next().map(|(w, c)| (w.clone(), *c)).unwrap_or_default();
            finding.hypotheses.push(Hypothesis::known(
                format!("All {count} stuck rows were taken by {worker} ({column})."),
                &[id],
            ));
            finding.hypotheses.push(Hypothesis::guessed(
                format!("{worker} died or hangs while holding them."),
                &[id],
            ));
            finding.summary = format!("{} All were taken by {worker}, which likely died or hangs.", finding.summary);
            finding.confidence = Confidence::HIGH;
            finding.steps.push(Step::say(format!(
                "Check the worker {worker}: is its process alive, and what is it doing? Restarting it, or releasing its rows the way the job library does, lets them run again."
            )));
        }
        _ => {
            let named: Vec<String> = holders.iter().map(|(w, c)| format!("{w} ({c})")).collect();
            finding.hypotheses.push(Hypothesis::known(
                format!("The stuck rows were taken by several workers: {}.", list(&named)),
                &[id],
            ));
            finding.hypotheses.push(Hypothesis::discarded(
                "One dead worker holds them all.",
                &[id],
            ));
            finding.hypotheses.push(Hypothesis::guessed(
                "They all wait on the same thing (a service, a lock, a rate limit).",
                &[],
            ));
        }
    }
}

fn alive(worker: &WorkerSeen, within: std::time::Duration, now: DateTime<Utc>) -> bool {
    let within = chrono::Duration::from_std(within).unwrap_or(chrono::Duration::MAX);
    worker.last_seen.is_some_and(|at| now - at <= within)
}

fn last_seen_words(worker: &WorkerSeen, now: DateTime<Utc>) -> String {
    match worker.last_seen {
        Some(at) => format!(
            "{} (last seen {}, {} ago)",
            worker.name,
            clock(at),
            humanize::duration_secs((now - at).num_seconds())
        ),
        None => format!("{} (its record is gone)", worker.name),
    }
}

#[allow(clippy::too_many_arguments)]
fn judge_queue(
    finding: &mut Finding,
    description: &str,
    queue: &str,
    layout: &QueueLayout,
    length: u64,
    inspection: &QueueInspection,
    id: &str,
    now: DateTime<Utc>,
) {
    let lost: Vec<String> = inspection
        .in_progress
        .iter()
        .filter(|job| job.lock_lost)
        .map(|job| job.id.clone())
        .collect();
    let workers = inspection.workers.as_deref();
    let dead_holding: Vec<(&str, String)> = inspection
        .in_progress
        .iter()
        .filter_map(|job| {
            let holder = job.holder.as_deref()?;
            let worker = workers?.iter().find(|w| w.name == holder);
            let dead = worker.is_none_or(|w| !alive(w, inspection.alive_within, now));
            dead.then(|| (holder, job.id.clone()))
        })
        .collect();
    if length == 0 && lost.is_empty() && dead_holding.is_empty() {
        healed(
            finding,
            format!("{description}: {queue} is empty now: the work drained."),
            format!("{queue} holds no waiting job now."),
            id,
        );
        return;
    }
    let waiting_ids: Vec<String> = inspection.waiting.iter().map(|j| j.id.clone()).collect();
    let oldest = inspection.waiting.iter().filter_map(|j| j.since).min();
    let mut summary = format!("{description}: {length} waiting in {queue}");
    if !waiting_ids.is_empty() {
        let _ = write!(
            summary,
            " (oldest {})",
            list(&waiting_ids[..waiting_ids.len().min(3)])
        );
    }
    if let Some(at) = oldest {
        let _ = write!(summary, ", waiting since {}", clock(at));
    }
    summary.push('.');
    finding.hypotheses.push(Hypothesis::known(
        format!(
            "{length} jobs wait in {queue}{}.",
            if waiting_ids.is_empty() {
                String::new()
            } else {
                format!("; the oldest: {}", list(&waiting_ids))
            }
        ),
        &[id],
    ));
    finding.verdict = Verdict::ActionNeeded;
    finding.classification = Classification::OpsOrConfig;
    finding.confidence = Confidence::MEDIUM;
    if !lost.is_empty() {
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "Active jobs {} lost their worker's lock: the worker that took them died.",
                list(&lost)
            ),
            &[id],
        ));
        let _ = write!(
            summary,
            " Jobs {} were being run by a worker that died (their lock is gone).",
            list(&lost)
        );
        finding.confidence = Confidence::HIGH;
    }
    if !dead_holding.is_empty() {
        let mut by_holder: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (holder, job) in &dead_holding {
            by_holder.entry(holder).or_default().push(job.clone());
        }
        for (holder, jobs) in &by_holder {
            let worker = workers
                .and_then(|list| list.iter().find(|w| w.name == *holder))
                .map(|w| last_seen_words(w, now))
                .unwrap_or_else(|| format!("{holder} (not registered any more)"));
            finding.hypotheses.push(Hypothesis::known(
                format!("{} holds {} and shows no sign of life.", worker, list(jobs)),
                &[id],
            ));
            let _ = write!(summary, " The dead worker {holder} holds {}.", list(jobs));
        }
        finding.confidence = Confidence::HIGH;
    }
    match workers {
        None => {
            if lost.is_empty() {
                finding.hypotheses.push(Hypothesis::guessed(
                    "No worker takes from the queue (stopped, crashed, or listening to other queues).",
                    &[],
                ));
                finding.gaps.push(
                    "This queue layout keeps no record of its workers in Redis: check the worker processes directly."
                        .to_string(),
                );
            }
        }
        Some(list_of) => {
            let serving: Vec<&WorkerSeen> = list_of
                .iter()
                .filter(|w| w.queues.is_empty() || w.queues.iter().any(|q| q == queue))
                .collect();
            let live: Vec<&&WorkerSeen> = serving
                .iter()
                .filter(|w| alive(w, inspection.alive_within, now))
                .collect();
            let dead: Vec<String> = serving
                .iter()
                .filter(|w| !alive(w, inspection.alive_within, now))
                .map(|w| last_seen_words(w, now))
                .collect();
            if live.is_empty() {
                let said = if dead.is_empty() {
                    format!("No worker is registered for {queue}.")
                } else {
                    format!("No live worker takes from {queue}: {}.", dead.join("; "))
                };
                finding
                    .hypotheses
                    .push(Hypothesis::known(said.clone(), &[id]));
                finding.hypotheses.push(Hypothesis::discarded(
                    "The workers are alive but too busy to keep up.",
                    &[id],
                ));
                let _ = write!(summary, " {said}");
                finding.confidence = Confidence::HIGH;
            } else {
                let busy: u64 = live.iter().filter_map(|w| w.busy).sum();
                let capacity: u64 = live.iter().filter_map(|w| w.capacity).sum();
                let names: Vec<String> = live.iter().map(|w| w.name.clone()).collect();
                finding.hypotheses.push(Hypothesis::discarded(
                    format!(
                        "No worker is alive ({} live: {}).",
                        live.len(),
                        list(&names)
                    ),
                    &[id],
                ));
                if capacity > 0 && busy >= capacity {
                    finding.hypotheses.push(Hypothesis::known(
                        format!("Every live worker is busy: {busy} of {capacity} threads."),
                        &[id],
                    ));
                    let _ = write!(
                        summary,
                        " All {capacity} worker threads are busy: the jobs they run take too long, or there are too few."
                    );
                } else {
                    finding.hypotheses.push(Hypothesis::guessed(
                        "Live workers with room to spare do not take these jobs: they fail and are retried, or wait on something.",
                        &[id],
                    ));
                    if dead_holding.is_empty() && lost.is_empty() {
                        finding.confidence = Confidence::LOW;
                    }
                }
            }
        }
    }
    finding.summary = summary;
    match layout {
        QueueLayout::Stream { group: Some(group) } => finding.steps.push(Step::run(
            "Hand the entries held by the dead consumer to a live one (run it by hand, naming a live consumer)",
            format!("XAUTOCLAIM {queue} {group} <live consumer> 60000 0-0 COUNT 100"),
        )),
        QueueLayout::Sidekiq => finding.steps.push(Step::run(
            "See which Sidekiq processes run on the workers' hosts",
            "ps -eo pid,etime,rss,cmd | grep -i [s]idekiq",
        )),
        QueueLayout::Rq => finding.steps.push(Step::run(
            "See which RQ workers run on the workers' hosts",
            "ps -eo pid,etime,cmd | grep -E '[r]q worker'",
        )),
        _ => {}
    }
    finding.steps.push(Step::say(format!(
        "Start or restart the workers for {queue}, then watch the queue drain."
    )));
}

fn judge_lengths(
    finding: &mut Finding,
    description: &str,
    subject: &str,
    points: &[(i64, f64)],
    id: &str,
) {
    let Some(&(at, last)) = points.last() else {
        finding.summary = format!("{description}: the length series has no points now.");
        finding.verdict = Verdict::Inconclusive;
        finding.confidence = Confidence::LOW;
        return;
    };
    let at = DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
    let fell = points.windows(2).any(|pair| pair[1].1 < pair[0].1);
    let falling_at_end = points.len() >= 2 && last < points[points.len() - 2].1;
    if last <= 0.0 || falling_at_end {
        healed(
            finding,
            format!(
                "{description} {subject}: the queue is draining ({} at {}).",
                format_value(last),
                clock(at)
            ),
            format!(
                "The length fell to {} by {}.",
                format_value(last),
                clock(at)
            ),
            id,
        );
        return;
    }
    let start = DateTime::<Utc>::from_timestamp(points[0].0, 0).unwrap_or_default();
    let first = points[0].1;
    finding.summary = format!(
        "{description} {subject}: {} waiting, {} since {} ({}).",
        format_value(last),
        if fell {
            "barely draining"
        } else {
            "never falling"
        },
        clock(start),
        format_value(first)
    );
    finding.hypotheses.push(Hypothesis::known(
        format!(
            "The length went from {} to {} without {}.",
            format_value(first),
            format_value(last),
            if fell {
                "draining for good"
            } else {
                "ever falling"
            }
        ),
        &[id],
    ));
    finding.hypotheses.push(Hypothesis::guessed(
        "The consumers of this queue stopped, or cannot keep up.",
        &[],
    ));
    finding.gaps.push(
        "A length series names no jobs or workers: read the queue itself (a job table or Redis) for them."
            .into(),
    );
    finding.verdict = Verdict::ActionNeeded;
    finding.classification = Classification::OpsOrConfig;
    finding.confidence = Confidence::MEDIUM;
}

/// The rows of a result as evidence text, each cell cut short.
fn rows_text(columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    if rows.is_empty() {
        return "no rows".to_string();
    }
    let short = |text: &str| -> String {
        if text.chars().count() > CELL_CHARS {
            format!("{}…", text.chars().take(CELL_CHARS).collect::<String>())
        } else {
            text.to_string()
        }
    };
    let mut text = columns.join(" | ");
    text.push('\n');
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| cell.as_deref().map_or("NULL".into(), short))
            .collect();
        let _ = writeln!(text, "{}", cells.join(" | "));
    }
    text
}

/// A queue's closer look as evidence text.
fn inspection_text(length: u64, found: &QueueInspection, now: DateTime<Utc>) -> String {
    let mut text = format!("length {length}\n");
    let age = |at: Option<DateTime<Utc>>| {
        at.map(|at| {
            format!(
                " since {} ({} ago)",
                clock(at),
                humanize::duration_secs((now - at).num_seconds())
            )
        })
        .unwrap_or_default()
    };
    text.push_str("oldest waiting:\n");
    if found.waiting.is_empty() {
        text.push_str("  none read\n");
    }
    for job in &found.waiting {
        let _ = writeln!(text, "  {} {}{}", job.id, job.what, age(job.since));
    }
    if !found.in_progress.is_empty() {
        text.push_str("in progress:\n");
        for job in &found.in_progress {
            let holder = job
                .holder
                .as_deref()
                .map(|h| format!(" held by {h}"))
                .unwrap_or_default();
            let lock = if job.lock_lost { " LOCK GONE" } else { "" };
            let _ = writeln!(
                text,
                "  {} {}{}{holder}{lock}",
                job.id,
                job.what,
                age(job.since)
            );
        }
    }
    match &found.workers {
        None => text.push_str("workers: not recorded by this layout\n"),
        Some(workers) if workers.is_empty() => text.push_str("workers: none registered\n"),
        Some(workers) => {
            text.push_str("workers:\n");
            for worker in workers {
                let queues = if worker.queues.is_empty() {
                    String::new()
                } else {
                    format!(" queues {}", worker.queues.join(","))
                };
                let busy = match (worker.busy, worker.capacity) {
                    (Some(b), Some(c)) => format!(" busy {b}/{c}"),
                    (Some(b), None) => format!(" busy {b}"),
                    _ => String::new(),
                };
                let seen = worker
                    .last_seen
                    .map(|at| {
                        format!(
                            " last seen {} ago",
                            humanize::duration_secs((now - at).num_seconds())
                        )
                    })
                    .unwrap_or_else(|| " record gone".into());
                let _ = writeln!(text, "  {}{seen}{busy}{queues}", worker.name);
            }
        }
    }
    text
}

/// Reads the stuck work, then judges it.
pub(crate) async fn run(spec: &WatchSpec, stuck: &StuckSpec, ctx: &PlaybookContext<'_>) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let source = stuck.source();
    let subject = alert.subject.as_str();
    match stuck {
        StuckSpec::Sql { table, .. } => {
            let read = match ctx.sources.database(source) {
                Ok(database) => {
                    let query =
                        rows_query(stuck, database.dialect(), subject, ctx.now).unwrap_or_default();
                    match database.query(&query).await {
                        Ok(result) => {
                            let id = finding.evidence.add(
                                "sql",
                                Some(source),
                                query,
                                &rows_text(&result.columns, &result.rows),
                                ctx.now,
                            );
                            Some((result, id))
                        }
                        Err(error) => {
                            finding
                                .gaps
                                .push(format!("the stuck rows could not be read: {error}"));
                            None
                        }
                    }
                }
                Err(error) => {
                    finding
                        .gaps
                        .push(format!("the stuck rows could not be read: {error}"));
                    None
                }
            };
            judge(
                &mut finding,
                &spec.description,
                table,
                read.as_ref().map(|(result, id)| Seen::Rows {
                    columns: &result.columns,
                    rows: &result.rows,
                    id,
                }),
                ctx.now,
            );
        }
        StuckSpec::Redis { queue, .. } => {
            let read = read_queue(&mut finding, source, queue, ctx).await;
            judge(
                &mut finding,
                &spec.description,
                &queue.name,
                read.as_ref().map(|(length, inspection, id)| Seen::Queue {
                    layout: &queue.layout,
                    length: *length,
                    inspection,
                    id,
                }),
                ctx.now,
            );
        }
        StuckSpec::Prometheus {
            query,
            step,
            stalled_for,
            ..
        } => {
            let span = step
                .as_secs()
                .saturating_mul(u64::from(*stalled_for).max(2) * 3);
            let start = crate::watch::time_before(ctx.now, std::time::Duration::from_secs(span));
            let read = match ctx.sources.series(source) {
                Ok(series) => match series.series(query, start, ctx.now, *step).await {
                    Ok(found) => {
                        let points = found.get(subject).cloned().unwrap_or_default();
                        let mut text = format!("{} points\n", points.len());
                        for (at, value) in &points[points.len().saturating_sub(15)..] {
                            let at = DateTime::<Utc>::from_timestamp(*at, 0).unwrap_or_default();
                            let _ = writeln!(text, "{} {}", clock(at), format_value(*value));
                        }
                        let id = finding.evidence.add(
                            "promql",
                            Some(source),
                            format!(
                                "{query} over the last {}, step {}",
                                humanize::duration_secs(span as i64),
                                humanize::duration(*step)
                            ),
                            &text,
                            ctx.now,
                        );
                        Some((points, id))
                    }
                    Err(error) => {
                        finding
                            .gaps
                            .push(format!("the lengths could not be read: {error}"));
                        None
                    }
                },
                Err(error) => {
                    finding
                        .gaps
                        .push(format!("the lengths could not be read: {error}"));
                    None
                }
            };
            judge(
                &mut finding,
                &spec.description,
                subject,
                read.as_ref()
                    .map(|(points, id)| Seen::Lengths { points, id }),
                ctx.now,
            );
        }
    }
    finding
}

/// The queue's length now and its closer look, as one item of evidence.
async fn read_queue(
    finding: &mut Finding,
    source: &str,
    queue: &QueueProbe,
    ctx: &PlaybookContext<'_>,
) -> Option<(u64, QueueInspection, String)> {
    let redis = match ctx.sources.queues(source) {
        Ok(redis) => redis,
        Err(error) => {
            finding
                .gaps
                .push(format!("the queue could not be read: {error}"));
            return None;
        }
    };
    let length = match redis.measure(queue, ctx.now).await {
        Ok(reading) => reading.length,
        Err(error) => {
            finding
                .gaps
                .push(format!("the queue could not be read: {error}"));
            return None;
        }
    };
    match redis.inspect(queue, SHOWN).await {
        Ok(inspection) => {
            let id = finding.evidence.add(
                "redis",
                Some(source),
                inspection.commands.join("\n"),
                &inspection_text(length, &inspection, ctx.now),
                ctx.now,
            );
            Some((length, inspection, id))
        }
        Err(error) => {
            finding.gaps.push(format!(
                "the queue's jobs and workers could not be read: {error}"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;
    use crate::source::redis::JobSeen;
    use std::time::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn sql_spec() -> StuckSpec {
        StuckSpec::Sql {
            source: "db".into(),
            table: "jobs".into(),
            state_column: "state".into(),
            states: vec!["running".into()],
            since_column: "started_at".into(),
            group_by: Some("kind".into()),
            older_than: Duration::from_secs(900),
        }
    }

    /// Judges `seen`, whose evidence is `E1`.
    fn fresh(seen: Seen<'_>) -> Finding {
        let mut finding = Finding::open("");
        finding.evidence.add("sql", None, "q", "..", now());
        judge(&mut finding, "Background jobs", "jobs", Some(seen), now());
        finding.settle();
        finding
    }

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn row(cells: &[&str]) -> Vec<Option<String>> {
        cells.iter().map(|c| Some(c.to_string())).collect()
    }

    #[test]
    fn the_rows_query_reads_the_subjects_rows_oldest_first_and_the_guard_allows_it() {
        for dialect in [
            SqlDialectKind::Postgres,
            SqlDialectKind::MySql,
            SqlDialectKind::Sqlite,
        ] {
            let sql = rows_query(&sql_spec(), dialect, "it's", now()).unwrap();
            assert!(sql.contains("AND kind = 'it''s'"), "{sql}");
            assert!(sql.ends_with("ORDER BY started_at LIMIT 10"), "{sql}");
            let policy = crate::source::sql::guard::GuardPolicy::new(dialect);
            assert!(
                crate::source::sql::guard::check(&sql, &policy).is_ok(),
                "{sql}"
            );
        }
        let all = rows_query(&sql_spec(), SqlDialectKind::Postgres, "", now()).unwrap();
        assert!(!all.contains("kind ="), "{all}");
    }

    #[test]
    fn rows_all_taken_by_one_worker_name_it_and_the_ids() {
        let columns = columns(&["id", "kind", "locked_by", AGE_COLUMN]);
        let rows = [
            row(&["17", "email", "host-a:4242", "3660"]),
            row(&["18", "email", "host-a:4242", "2400"]),
        ];
        let finding = fresh(Seen::Rows {
            columns: &columns,
            rows: &rows,
            id: "E1",
        });
        assert!(finding.confidence >= Confidence::HIGH);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(
            finding.summary.contains("ids 17, 18"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("1h 1m"), "{}", finding.summary);
        assert!(
            finding.summary.contains("taken by host-a:4242"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn rows_held_by_several_workers_rule_out_one_dead_worker() {
        let columns = columns(&["job_id", "worker", AGE_COLUMN]);
        let rows = [row(&["1", "a", "1000"]), row(&["2", "b", "1000"])];
        let finding = fresh(Seen::Rows {
            columns: &columns,
            rows: &rows,
            id: "E1",
        });
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.contains("One dead worker"))
        );
        assert!(
            !finding.summary.contains("likely died"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn no_stuck_row_left_is_a_healed_alert() {
        let columns = columns(&["id"]);
        let finding = fresh(Seen::Rows {
            columns: &columns,
            rows: &[],
            id: "E1",
        });
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
    }

    fn job(id: &str, minutes_ago: i64, holder: Option<&str>) -> JobSeen {
        JobSeen {
            id: id.into(),
            what: "MailJob".into(),
            since: Some(now() - chrono::Duration::minutes(minutes_ago)),
            holder: holder.map(str::to_string),
            lock_lost: false,
        }
    }

    fn worker(name: &str, seconds_ago: Option<i64>, busy: u64, capacity: u64) -> WorkerSeen {
        WorkerSeen {
            name: name.into(),
            last_seen: seconds_ago.map(|s| now() - chrono::Duration::seconds(s)),
            queues: vec!["mail".into()],
            busy: Some(busy),
            capacity: Some(capacity),
        }
    }

    fn queue(length: u64, inspection: &QueueInspection) -> Finding {
        let mut finding = Finding::open("");
        let id = finding.evidence.add("redis", None, "LRANGE", "..", now());
        judge(
            &mut finding,
            "Mail queue",
            "mail",
            Some(Seen::Queue {
                layout: &QueueLayout::Sidekiq,
                length,
                inspection,
                id: &id,
            }),
            now(),
        );
        finding.settle();
        finding
    }

    #[test]
    fn a_queue_whose_only_worker_stopped_beating_names_the_dead_worker_and_its_jobs() {
        let inspection = QueueInspection {
            waiting: vec![job("j0", 60, None), job("j1", 59, None)],
            in_progress: vec![job("j9", 70, Some("host-a:42:abc"))],
            workers: Some(vec![worker("host-a:42:abc", Some(3000), 1, 5)]),
            alive_within: Duration::from_secs(60),
            commands: Vec::new(),
        };
        let finding = queue(2, &inspection);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(
            finding.summary.contains("oldest j0, j1"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .summary
                .contains("The dead worker host-a:42:abc holds j9"),
            "{}",
            finding.summary
        );
        assert!(
            finding.summary.contains("No live worker takes from mail"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.contains("too busy"))
        );
    }

    #[test]
    fn live_workers_all_busy_are_saturated_not_dead() {
        let inspection = QueueInspection {
            waiting: vec![job("j0", 30, None)],
            in_progress: vec![job("j5", 30, Some("w1"))],
            workers: Some(vec![worker("w1", Some(5), 5, 5)]),
            alive_within: Duration::from_secs(60),
            commands: Vec::new(),
        };
        let finding = queue(40, &inspection);
        assert!(
            finding.summary.contains("All 5 worker threads are busy"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.starts_with("No worker is alive"))
        );
    }

    #[test]
    fn an_active_job_without_its_lock_was_lost_by_a_dead_worker() {
        let mut lost = job("7", 20, None);
        lost.lock_lost = true;
        let inspection = QueueInspection {
            waiting: Vec::new(),
            in_progress: vec![lost],
            workers: None,
            alive_within: Duration::from_secs(60),
            commands: Vec::new(),
        };
        let finding = queue(0, &inspection);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(
            finding
                .summary
                .contains("Jobs 7 were being run by a worker that died"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn an_empty_queue_has_drained_and_an_unread_one_is_inconclusive() {
        let finding = queue(0, &QueueInspection::default());
        assert_eq!(finding.verdict, Verdict::NoAction);
        let mut unread = Finding::open("");
        judge(&mut unread, "Mail queue", "mail", None, now());
        unread.settle();
        assert_eq!(unread.verdict, Verdict::Inconclusive);
        assert_eq!(unread.confidence, Confidence::LOW);
    }

    #[test]
    fn lengths_that_only_grow_are_stuck_and_a_fall_at_the_end_is_draining() {
        let growing = [(0, 4.0), (60, 5.0), (120, 6.0)];
        let finding = fresh(Seen::Lengths {
            points: &growing,
            id: "E1",
        });
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert!(
            finding.summary.contains("never falling"),
            "{}",
            finding.summary
        );
        assert!(finding.hypotheses.iter().any(|h| h.basis == Basis::Guessed));
        let draining = [(0, 6.0), (60, 6.0), (120, 3.0)];
        let finding = fresh(Seen::Lengths {
            points: &draining,
            id: "E1",
        });
        assert_eq!(finding.verdict, Verdict::NoAction);
    }
}

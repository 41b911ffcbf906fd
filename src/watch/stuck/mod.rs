//! `stuck`: work that is not draining. From a SQL job table (rows in a waiting or running state
//! for longer than a limit, per job type) or from PromQL queue lengths (a queue above zero that
//! did not fall across several observations). The page names the job type, how many, the oldest
//! and since when; the tracker makes sure it is said once and resolved when the work drains.

mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::kind::Watch;
use super::memory::Memory;
use super::observation::{Evaluation, Observation};
use super::{WatchContext, format_value};
use crate::config::{StuckSpec, WatchSpec};
use crate::humanize;
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::source::SourceError;
use crate::source::sql::guard::SqlDialectKind;
use crate::source::sql::values::{blindness, parse_number};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::time::Duration;

pub(crate) async fn evaluate(
    spec: &WatchSpec,
    stuck: &StuckSpec,
    ctx: &WatchContext<'_>,
) -> Evaluation {
    match stuck {
        StuckSpec::Sql { source, .. } => {
            let database = match ctx.sources.database(source) {
                Ok(database) => database,
                Err(error) => return Evaluation::Blind(error),
            };
            let query = table_query(stuck, database.dialect(), ctx.now);
            match database.query(&query).await {
                Ok(result) => Evaluation::Complete(judge_rows(spec, stuck, &result.rows, ctx.now)),
                Err(error) => Evaluation::Blind(blindness(source, error)),
            }
        }
        StuckSpec::Redis {
            source,
            queue,
            older_than,
            stalled_for,
        } => {
            let redis = match ctx.sources.queues(source) {
                Ok(redis) => redis,
                Err(error) => return Evaluation::Blind(error),
            };
            let reading = match redis.measure(queue, ctx.now).await {
                Ok(reading) => reading,
                Err(error) => return Evaluation::Blind(error),
            };
            let lengths =
                match remember_length(spec, &queue.name, reading.length, *stalled_for, ctx).await {
                    Ok(lengths) => lengths,
                    Err(error) => return Evaluation::Blind(error),
                };
            Evaluation::Complete(
                judge_queue(
                    spec,
                    &queue.name,
                    &reading,
                    &lengths,
                    *older_than,
                    *stalled_for,
                )
                .into_iter()
                .collect(),
            )
        }
        StuckSpec::Prometheus {
            source,
            query,
            step,
            stalled_for,
        } => {
            let series = match ctx.sources.series(source) {
                Ok(series) => series,
                Err(error) => return Evaluation::Blind(error),
            };
            let span = step.as_secs_f64() * f64::from(stalled_for.saturating_sub(1));
            let start = ctx.now - chrono::Duration::seconds(span.ceil() as i64);
            match series.series(query, start, ctx.now, *step).await {
                Ok(series) => Evaluation::Complete(
                    series
                        .iter()
                        .filter_map(|(subject, points)| {
                            let lengths: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
                            judge_lengths(&spec.description, subject, &lengths, *stalled_for, *step)
                        })
                        .collect(),
                ),
                Err(error) => Evaluation::Blind(error),
            }
        }
    }
}

/// Adds this observation's length to the ones remembered for the queue (in the store, so a
/// restart does not forget) and returns the last `keep` of them, oldest first.
async fn remember_length(
    spec: &WatchSpec,
    queue: &str,
    length: u64,
    keep: u32,
    ctx: &WatchContext<'_>,
) -> Result<Vec<f64>, SourceError> {
    let memory = Memory::of(ctx, &spec.name);
    let mut lengths: Vec<f64> = memory.load(queue, "lengths").await?.unwrap_or_default();
    lengths.push(length as f64);
    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
    if lengths.len() > keep {
        lengths.drain(..lengths.len() - keep);
    }
    memory.save(queue, "lengths", &lengths).await?;
    Ok(lengths)
}

/// A Redis queue is stuck when its oldest job waited longer than `older_than`, or when its
/// length stayed above zero and never fell across the last `stalled_for` observations.
pub(crate) fn judge_queue(
    spec: &WatchSpec,
    queue: &str,
    reading: &crate::source::redis::QueueReading,
    lengths: &[f64],
    older_than: Option<Duration>,
    stalled_for: u32,
) -> Option<Observation> {
    let too_old = match (older_than, reading.oldest_age) {
        (Some(limit), Some(age)) if reading.length > 0 && age > limit => Some(age),
        _ => None,
    };
    if let Some(age) = too_old {
        let mut seen = Observation::broken(
            queue,
            format!(
                "{}: {} jobs waiting in {queue}, the oldest for {}",
                spec.description,
                reading.length,
                humanize::duration(age)
            ),
        )
        .with_value(reading.length as f64);
        if let Some(id) = &reading.oldest_id {
            seen = seen.with_fact(format!("oldest job {id}"));
        }
        if !reading.detail.is_empty() {
            seen = seen.with_fact(reading.detail.clone());
        }
        return Some(seen);
    }
    let interval = spec.interval;
    judge_lengths(&spec.description, queue, lengths, stalled_for, interval)
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The read-only query that finds old rows per job type, in the database's own dialect. A
/// database server's clock decides what "older than" means, so the two clocks never need to
/// agree; for SQLite, a file on this machine, `now` does.
pub(crate) fn table_query(
    stuck: &StuckSpec,
    dialect: SqlDialectKind,
    now: DateTime<Utc>,
) -> String {
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
        return String::new();
    };
    let seconds = older_than.as_secs();
    // The condition on each row, and the age of the oldest row in seconds, both by the
    // database's clock.
    let (old_enough, oldest_age) = age_sql(dialect, since_column, seconds, now, Some("MIN"));
    let states = states
        .iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(", ");
    let (subject, group) = match group_by {
        Some(column) => (
            column.clone(),
            format!(" GROUP BY {column} ORDER BY {column}"),
        ),
        None => ("''".to_string(), String::new()),
    };
    format!(
        "SELECT {subject} AS subject, COUNT(*) AS stuck, {oldest_age} AS oldest_age \
         FROM {table} WHERE {state_column} IN ({states}) AND {old_enough}{group}"
    )
}

/// One broken subject per job type with old rows.
pub(crate) fn judge_rows(
    spec: &WatchSpec,
    stuck: &StuckSpec,
    rows: &[Vec<Option<String>>],
    now: DateTime<Utc>,
) -> Vec<Observation> {
    let StuckSpec::Sql {
        table,
        state_column,
        states,
        older_than,
        ..
    } = stuck
    else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|row| {
            let subject = row.first().cloned().flatten().unwrap_or_default();
            let count = parse_number(row.get(1).and_then(|c| c.as_deref()))?;
            if count < 1.0 {
                return None;
            }
            let oldest_age = parse_number(row.get(2).and_then(|c| c.as_deref()));
            let noun = if count == 1.0 { "job" } else { "jobs" };
            let what = if subject.is_empty() {
                noun.to_string()
            } else {
                format!("{subject} {noun}")
            };
            let mut title = format!(
                "{}: {} {what} stuck in {}",
                spec.description,
                format_value(count),
                states.join("/")
            );
            if let Some(age) = oldest_age {
                let age = (age.max(0.0)) as i64;
                let oldest = now - chrono::Duration::seconds(age);
                title.push_str(&format!(
                    ", oldest since {} ({})",
                    humanize::moment(oldest, now, &Utc),
                    humanize::duration_secs(age)
                ));
            }
            Some(
                Observation::broken(subject, title)
                    .with_fact(format!(
                        "{table}.{state_column} in ({}) for longer than {}",
                        states.join(", "),
                        humanize::duration(*older_than)
                    ))
                    .with_value(count),
            )
        })
        .collect()
}

/// A queue whose length stayed above zero and never fell across the last `stalled_for`
/// observations is stuck; any fall (work is draining) or an empty queue is not.
pub(crate) fn judge_lengths(
    description: &str,
    subject: &str,
    lengths: &[f64],
    stalled_for: u32,
    step: Duration,
) -> Option<Observation> {
    let needed = usize::try_from(stalled_for).unwrap_or(usize::MAX);
    if lengths.len() < needed {
        return None;
    }
    let recent = &lengths[lengths.len() - needed..];
    let above_zero = recent.iter().all(|v| *v > 0.0);
    let never_fell = recent.windows(2).all(|pair| pair[1] >= pair[0]);
    if !(above_zero && never_fell) {
        return None;
    }
    let first = recent.first().copied().unwrap_or(0.0);
    let last = recent.last().copied().unwrap_or(0.0);
    let over = step.saturating_mul(stalled_for.saturating_sub(1));
    let name = if subject.is_empty() {
        description.to_string()
    } else {
        format!("{description} {subject}")
    };
    Some(
        Observation::broken(
            subject,
            format!(
                "{name}: {} waiting, not draining for {}",
                format_value(last),
                humanize::duration(over)
            ),
        )
        .with_fact(format!(
            "length {} -> {} over {} observations, never falling",
            format_value(first),
            format_value(last),
            needed
        ))
        .with_value(last),
    )
}

impl Watch for StuckSpec {
    fn replay(&self, _sources: &[crate::config::SourceSpec]) -> super::kind::Replay {
        super::kind::Replay::Skipped(
            "it reads the live state of a job table or queue, which keeps no history".to_string(),
        )
    }

    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(evaluate(spec, self, ctx))
    }

    fn source_name(&self) -> Option<&str> {
        Some(self.source())
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn describe(&self, hold: &str) -> String {
        match self {
            StuckSpec::Sql {
                table,
                states,
                older_than,
                ..
            } => format!(
                "rows of {table} in {} for longer than {}{hold}",
                states.join("/"),
                crate::humanize::duration(*older_than)
            ),
            StuckSpec::Redis { .. } | StuckSpec::Prometheus { .. } => {
                format!("queue lengths that stop falling{hold}")
            }
        }
    }
}

/// The condition "older than `seconds`" on `since_column`, and the age in seconds of that
/// column (wrapped in `aggregate`, like `MIN`, when given), both by the database server's
/// clock; SQLite is a file on this machine, so its clock is ours (`now`).
pub(crate) fn age_sql(
    dialect: SqlDialectKind,
    since_column: &str,
    seconds: u64,
    now: chrono::DateTime<chrono::Utc>,
    aggregate: Option<&str>,
) -> (String, String) {
    let of = |expression: &str| match aggregate {
        Some(function) => format!("{function}({expression})"),
        None => expression.to_string(),
    };
    match dialect {
        SqlDialectKind::Postgres => (
            format!("{since_column} < now() - interval '{seconds} seconds'"),
            format!("EXTRACT(EPOCH FROM now() - {})", of(since_column)),
        ),
        SqlDialectKind::MySql => (
            format!("{since_column} < UTC_TIMESTAMP() - INTERVAL {seconds} SECOND"),
            format!(
                "TIMESTAMPDIFF(SECOND, {}, UTC_TIMESTAMP())",
                of(since_column)
            ),
        ),
        SqlDialectKind::Sqlite => {
            let since = format!(
                "(CASE WHEN typeof({since_column}) IN ('integer', 'real') THEN {since_column} \
                 ELSE (julianday({since_column}) - 2440587.5) * 86400.0 END)"
            );
            let now = now.timestamp();
            (
                format!("{since} < {now} - {seconds}"),
                format!("{now} - {}", of(&since)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_spec() -> StuckSpec {
        StuckSpec::Sql {
            source: "db".into(),
            table: "jobs".into(),
            state_column: "state".into(),
            states: vec!["running".into(), "it's".into()],
            since_column: "updated_at".into(),
            group_by: Some("kind".into()),
            older_than: Duration::from_secs(900),
        }
    }

    #[test]
    fn queries_quote_states_and_use_the_database_clock() {
        let pg = table_query(&sql_spec(), SqlDialectKind::Postgres, Utc::now());
        assert!(pg.contains("state IN ('running', 'it''s')"), "{pg}");
        assert!(pg.contains("updated_at < now() - interval '900 seconds'"));
        assert!(pg.contains("GROUP BY kind"));
        let my = table_query(&sql_spec(), SqlDialectKind::MySql, Utc::now());
        assert!(my.contains("UTC_TIMESTAMP() - INTERVAL 900 SECOND"));
        let at = chrono::TimeZone::timestamp_opt(&Utc, 1_795_831_980, 0).unwrap();
        let lite = table_query(&sql_spec(), SqlDialectKind::Sqlite, at);
        assert!(lite.contains("< 1795831980 - 900"), "{lite}");
        for (sql, dialect) in [
            (pg, SqlDialectKind::Postgres),
            (my, SqlDialectKind::MySql),
            (lite, SqlDialectKind::Sqlite),
        ] {
            let policy = crate::source::sql::guard::GuardPolicy::new(dialect);
            assert!(
                crate::source::sql::guard::check(&sql, &policy).is_ok(),
                "the guard must allow {sql}"
            );
        }
    }

    #[test]
    fn lengths_that_never_fall_are_stuck() {
        let step = Duration::from_secs(60);
        let stuck = judge_lengths("Mail queue", "", &[4.0, 4.0, 5.0, 5.0, 6.0], 5, step);
        let stuck = stuck.expect("a queue that only grows is stuck");
        assert_eq!(stuck.value, Some(6.0));
        assert!(
            stuck.title.contains("not draining for 4m"),
            "{}",
            stuck.title
        );
        // Draining, even slowly, is not stuck; nor is an empty queue or too little history.
        assert!(judge_lengths("q", "", &[5.0, 5.0, 4.0, 5.0, 5.0], 5, step).is_none());
        assert!(judge_lengths("q", "", &[0.0, 0.0, 0.0, 0.0, 0.0], 5, step).is_none());
        assert!(judge_lengths("q", "", &[5.0, 5.0, 5.0], 5, step).is_none());
        // Only the last observations count.
        assert!(judge_lengths("q", "", &[9.0, 1.0, 1.0, 1.0, 1.0, 1.0], 5, step).is_some());
    }
}

//! `new_error`: an error nobody has seen before just showed up on a log source. Error events
//! (error-level lines, stack traces folded into one event, configured patterns) are mined into
//! templates; a template never seen on that source pages once it has occurred `min_count` times
//! within `window`. When first attached, everything for `learn_for` is learned, not paged: old
//! errors that keep occurring never page. A line from Loki or the journal, which stamp every
//! line themselves, is learned by when it was written, so history read back on attachment and a
//! backlog read late are learned too. Times written in a file's text are not trusted for this:
//! an app whose clock or zone is off would otherwise silence new errors for hours. What the miner knows survives restarts (store).

use super::WatchContext;
use super::log_feed::Feed;
use super::observation::{Evaluation, Observation};
use crate::config::{LogFeed, LogFormat, NewErrorSpec, WatchSpec};
use crate::humanize;
use crate::logs::readable::readable_template;
use crate::logs::redact::redact;
use crate::logs::{
    FingerprintConfig, FoldConfig, LineFolder, Miner, MinerConfig, TemplateId, fingerprint,
};
use crate::source::logfile::{LogLine, plain_level};
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

/// A template seen for the first time after learning, not yet known for sure. Kept in the store
/// with the templates, so a restart neither forgets a half-counted candidate nor hands its id
/// to another template.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Candidate {
    first_seen: DateTime<Utc>,
    seen: VecDeque<DateTime<Utc>>,
    total: u64,
    example: String,
    path: PathBuf,
}

/// What the watch remembers between evaluations.
#[derive(Default)]
pub struct State {
    loaded: bool,
    miner: Option<Miner>,
    feed: Option<Feed>,
    folders: HashMap<PathBuf, LineFolder>,
    attached_at: Option<DateTime<Utc>>,
    candidates: BTreeMap<u64, Candidate>,
}

const ERROR_LEVELS: [&str; 2] = ["ERROR", "FATAL"];

fn blind(spec: &NewErrorSpec, detail: impl Into<String>) -> Evaluation {
    Evaluation::Blind(SourceError::new(
        &spec.feed.source_label(),
        SourceErrorKind::Unreachable,
        detail,
    ))
}

async fn load(
    spec: &WatchSpec,
    new_error: &NewErrorSpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Result<(), String> {
    let store = ctx.store;
    let mut miner = Miner::new(MinerConfig::default());
    miner.restore(
        store
            .load_templates(&spec.name)
            .await
            .map_err(|e| e.to_string())?,
    );
    state.candidates = match store
        .baseline(&spec.name, "", "candidates")
        .await
        .map_err(|e| e.to_string())?
    {
        Some(json) => serde_json::from_str(&json).unwrap_or_default(),
        None => BTreeMap::new(),
    };
    let attached_at = match store
        .baseline(&spec.name, "", "attached_at")
        .await
        .map_err(|e| e.to_string())?
    {
        Some(ms) => ms
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or(ctx.now),
        None => {
            store
                .set_baseline(
                    &spec.name,
                    "",
                    "attached_at",
                    &ctx.now.timestamp_millis().to_string(),
                    ctx.now,
                )
                .await
                .map_err(|e| e.to_string())?;
            ctx.now
        }
    };
    let feed = Feed::open(&spec.name, "", &new_error.feed, new_error.format, ctx)
        .await
        .map_err(|e| e.to_string())?;
    state.miner = Some(miner);
    state.feed = Some(feed);
    state.attached_at = Some(attached_at);
    state.loaded = true;
    Ok(())
}

/// An error event: its text, the line's path, the text to mine (a stack trace's signature, so
/// the same bug from two lines is one template), and when it was written, if the source says.
struct ErrorEvent {
    text: String,
    path: PathBuf,
    mined: String,
    at: Option<DateTime<Utc>>,
}

/// The time on a line: stamped by its source (Loki, the journal), or RFC 3339 in its text.
fn stamped_at(line: &LogLine) -> Option<DateTime<Utc>> {
    let at = line.at.as_deref()?;
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// The level and time of an event's first line.
type Start = (Option<String>, Option<DateTime<Utc>>);

fn error_events(
    lines: Vec<LogLine>,
    new_error: &NewErrorSpec,
    folders: &mut HashMap<PathBuf, LineFolder>,
) -> Vec<ErrorEvent> {
    let trace_config = FingerprintConfig::default();
    let is_error_text = |text: &str, level: Option<&str>| {
        level.is_some_and(|l| ERROR_LEVELS.contains(&l))
            || plain_level(text).is_some_and(|l| ERROR_LEVELS.contains(&l.as_str()))
            || new_error.patterns.iter().any(|p| text.contains(p.as_str()))
    };
    let mut events = Vec::new();
    let mut judge = |text: String, (level, at): Start, path: PathBuf| {
        if let Some(trace) = fingerprint(&text, &trace_config) {
            events.push(ErrorEvent {
                mined: format!("{} {}", trace.exception_type, trace.signature),
                text,
                path,
                at,
            });
        } else if is_error_text(text.lines().next().unwrap_or(""), level.as_deref()) {
            events.push(ErrorEvent {
                mined: without_prefix(text.lines().next().unwrap_or("")).to_string(),
                text,
                path,
                at,
            });
        }
    };
    match new_error.format {
        LogFormat::Json => {
            for line in lines {
                let start = (line.level.clone(), stamped_at(&line));
                judge(line.line, start, line.path);
            }
        }
        LogFormat::Plain => {
            // The level and time of the event each folder holds: its first line's (a journal
            // or Loki level, or the level word of a plain line).
            let mut starts: HashMap<PathBuf, Start> = HashMap::new();
            let mut touched = Vec::new();
            for line in lines {
                let folder = folders
                    .entry(line.path.clone())
                    .or_insert_with(|| LineFolder::new(FoldConfig::default()));
                let was_holding = folder.is_holding();
                let finished = folder.push(&line.line);
                let started = finished.is_some() || (!was_holding && folder.is_holding());
                if let Some(event) = finished {
                    let start = starts.remove(&line.path).unwrap_or_default();
                    judge(event.text, start, line.path.clone());
                }
                if started {
                    let start = (line.level.clone(), stamped_at(&line));
                    starts.insert(line.path.clone(), start);
                }
                if !touched.contains(&line.path) {
                    touched.push(line.path);
                }
            }
            // Writers flush whole events; do not hold the last one until the next poll.
            for path in touched {
                if let Some(event) = folders.get_mut(&path).and_then(LineFolder::flush) {
                    let start = starts.remove(&path).unwrap_or_default();
                    judge(event.text, start, path);
                }
            }
        }
    }
    events
}

/// The message of a plain line from its level word on, without the timestamp and process
/// prefix before it (they vary on every line and say nothing about the error).
fn without_prefix(line: &str) -> &str {
    let mut offset = 0;
    for token in line.split_inclusive(char::is_whitespace).take(6) {
        let word = token
            .trim()
            .trim_matches(|c: char| matches!(c, '[' | ']' | '<' | '>' | ':'));
        if ERROR_LEVELS
            .iter()
            .any(|level| word.eq_ignore_ascii_case(level))
        {
            return &line[offset..];
        }
        offset += token.len();
    }
    line
}

pub async fn evaluate(
    spec: &WatchSpec,
    new_error: &NewErrorSpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Evaluation {
    if !state.loaded
        && let Err(detail) = load(spec, new_error, ctx, state).await
    {
        return blind(new_error, detail);
    }
    let Some(feed) = state.feed.as_mut() else {
        state.loaded = false;
        return blind(new_error, "feed unavailable");
    };
    let lines = match feed.read(&new_error.feed, new_error.format, ctx).await {
        Ok(lines) => lines,
        Err(failure) => {
            if failure.reopen {
                state.loaded = false;
            }
            return Evaluation::Blind(failure.error);
        }
    };

    let now = ctx.now;
    let learn_for = chrono::Duration::from_std(new_error.learn_for).unwrap_or_default();
    let learning_ends = state.attached_at.map(|at| {
        at.checked_add_signed(learn_for)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    });
    let learning = learning_ends.is_none_or(|until| now < until);
    // With no learning period at all, everything read is judged, history included. Only times
    // stamped by a log source count; a file's own text may carry a wrong clock or zone.
    let source_stamped = !matches!(new_error.feed, LogFeed::Files { .. });
    let learned_until = learning_ends.filter(|_| !learn_for.is_zero() && source_stamped);
    let window = chrono::Duration::from_std(new_error.window).unwrap_or_default();
    let events = error_events(lines, new_error, &mut state.folders);
    let Some(miner) = state.miner.as_mut() else {
        return blind(new_error, "miner unavailable");
    };
    for event in events {
        let matched = miner.add_at(&event.mined, now.timestamp_millis());
        let id = matched.id.0;
        // Learning goes by when a line was written, where the source says: history read back
        // on attachment, and a backlog read after the learning period ended, are learned too.
        let written_while_learning = event
            .at
            .zip(learned_until)
            .is_some_and(|(at, until)| at < until);
        if learning || written_while_learning {
            continue;
        }
        if matched.is_new {
            state.candidates.insert(
                id,
                Candidate {
                    first_seen: now,
                    seen: VecDeque::new(),
                    total: 0,
                    example: redact(&event.text),
                    path: event.path.clone(),
                },
            );
        }
        if let Some(candidate) = state.candidates.get_mut(&id) {
            candidate.seen.push_back(now);
            candidate.total += 1;
        }
    }

    let mut observations = Vec::new();
    let mut settled = Vec::new();
    for (id, candidate) in &mut state.candidates {
        while candidate.seen.front().is_some_and(|at| *at + window < now) {
            candidate.seen.pop_front();
        }
        let subject = format!("template {id}");
        if candidate.seen.len() as u64 >= u64::from(new_error.min_count) {
            let template = readable_template(
                miner.template(TemplateId(*id)).unwrap_or(""),
                &candidate.example,
            );
            let example = candidate
                .example
                .lines()
                .take(6)
                .collect::<Vec<_>>()
                .join("\n");
            observations.push(
                Observation::broken(
                    subject,
                    format!("New error in {}: {}", spec.description, redact(&template)),
                )
                .with_fact(format!("e.g. {example}"))
                .with_fact(format!(
                    "first seen {}, {} times since ({} in the last {})",
                    humanize::moment(candidate.first_seen, now, &Utc),
                    candidate.total,
                    candidate.seen.len(),
                    humanize::duration(new_error.window)
                ))
                .with_fact(format!("in {}", candidate.path.display()))
                .with_value(candidate.seen.len() as f64),
            );
        } else if candidate.seen.is_empty() {
            // Quiet for a whole window: it is known now, paged or not.
            settled.push(*id);
        }
    }
    for id in settled {
        state.candidates.remove(&id);
    }

    // Remember every template, which of them are still candidates, and how far we read.
    if let Err(error) = ctx
        .store
        .save_templates(&spec.name, &miner.snapshot())
        .await
    {
        return blind(new_error, error.to_string());
    }
    let candidates = match serde_json::to_string(&state.candidates) {
        Ok(json) => json,
        Err(error) => return blind(new_error, error.to_string()),
    };
    if let Err(error) = ctx
        .store
        .set_baseline(&spec.name, "", "candidates", &candidates, now)
        .await
    {
        return blind(new_error, error.to_string());
    }
    if let Some(feed) = &state.feed
        && let Err(error) = feed.save(&spec.name, "", &new_error.feed, ctx).await
    {
        return Evaluation::Blind(error);
    }
    Evaluation::Complete(observations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_before_the_level_word_is_not_part_of_the_error() {
        assert_eq!(
            without_prefix("2026-11-25T16:21:00Z ERROR boom at x"),
            "ERROR boom at x"
        );
        assert_eq!(
            without_prefix("Nov 25 16:21:00 app[123]: [error] boom"),
            "[error] boom"
        );
        assert_eq!(without_prefix("no level here"), "no level here");
    }

    fn spec(patterns: &[&str]) -> NewErrorSpec {
        NewErrorSpec {
            feed: crate::config::LogFeed::Files {
                pattern: "/x/*.log".into(),
            },
            format: LogFormat::Plain,
            min_count: 3,
            window: std::time::Duration::from_secs(600),
            learn_for: std::time::Duration::from_secs(3600),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn line(text: &str) -> LogLine {
        LogLine {
            path: PathBuf::from("/x/app.log"),
            offset: 0,
            line: text.to_string(),
            level: None,
            at: None,
            truncated: false,
        }
    }

    #[test]
    fn only_errors_traces_and_configured_patterns_are_error_events() {
        let lines = vec![
            line("2026-11-25T16:21:00Z INFO all good"),
            line("2026-11-25T16:21:01Z ERROR payment gateway timeout after 30000ms"),
            line("2026-11-25T16:21:01Z INFO request failed"),
            line("Traceback (most recent call last):"),
            line("  File \"/srv/app/orders.py\", line 12, in get"),
            line("    uuid.UUID(raw)"),
            line("ValueError: badly formed hexadecimal UUID string"),
            line("2026-11-25T16:21:02Z WARN disk at 80%"),
            line("2026-11-25T16:21:03Z INFO OOMKilled worker 3"),
        ];
        let mut folders = HashMap::new();
        let events = error_events(lines, &spec(&["OOMKilled"]), &mut folders);
        let mined: Vec<&str> = events.iter().map(|e| e.mined.as_str()).collect();
        assert_eq!(mined.len(), 3, "{mined:?}");
        assert_eq!(mined[0], "ERROR payment gateway timeout after 30000ms");
        assert!(mined[1].contains("ValueError"), "{mined:?}");
        assert!(mined[2].contains("OOMKilled"), "{mined:?}");
    }
}

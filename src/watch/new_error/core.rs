//! The pure judgement of `new_error`: which lines are error events, which templates are
//! still being learned, counted or paged. No store, no sources: plain values in and out, so
//! every rule is tested here without a log file.

use crate::config::{LogFormat, NewErrorSpec};
use crate::humanize;
use crate::logs::readable::readable_template;
use crate::logs::redact::redact;
use crate::logs::{FingerprintConfig, FoldConfig, LineFolder, Miner, TemplateId, fingerprint};
use crate::source::logfile::{LogLine, plain_level};
use crate::watch::observation::Observation;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

/// A template seen for the first time after learning, not yet known for sure. Kept in the store
/// with the templates, so a restart neither forgets a half-counted candidate nor hands its id
/// to another template.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Candidate {
    pub(super) first_seen: DateTime<Utc>,
    pub(super) seen: VecDeque<DateTime<Utc>>,
    pub(super) total: u64,
    pub(super) example: String,
    pub(super) path: PathBuf,
}

const ERROR_LEVELS: [&str; 2] = ["ERROR", "FATAL"];

/// An error event: its text, the line's path, the text to mine (a stack trace's signature, so
/// the same bug from two lines is one template), and when it was written, if the source says.
pub(crate) struct ErrorEvent {
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

pub(crate) fn error_events(
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

/// Whether what is read now is learned rather than judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Learning {
    /// The learning period is still running: everything read is learned.
    pub(crate) now: bool,
    /// Lines a log source stamped before this moment are learned, whenever they are read.
    pub(crate) written_before: Option<DateTime<Utc>>,
}

impl Learning {
    /// Learning for `learn_for` after `attached_at` (not attached yet: learning). Only times
    /// stamped by a log source count (`source_stamped`); a file's own text may carry a wrong
    /// clock or zone. With no learning period at all, everything read is judged, history
    /// included.
    pub(crate) fn at(
        attached_at: Option<DateTime<Utc>>,
        learn_for: std::time::Duration,
        source_stamped: bool,
        now: DateTime<Utc>,
    ) -> Self {
        let learn_for = chrono::Duration::from_std(learn_for).unwrap_or_default();
        let learning_ends = attached_at.map(|at| {
            at.checked_add_signed(learn_for)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        });
        Self {
            now: learning_ends.is_none_or(|until| now < until),
            written_before: learning_ends.filter(|_| !learn_for.is_zero() && source_stamped),
        }
    }

    /// Whether an event written at `at` (if its source says) is learned.
    fn learns(&self, at: Option<DateTime<Utc>>) -> bool {
        // Learning goes by when a line was written, where the source says: history read back
        // on attachment, and a backlog read after the learning period ended, are learned too.
        self.now
            || at
                .zip(self.written_before)
                .is_some_and(|(at, until)| at < until)
    }
}

/// Mines every event; a template first seen after learning becomes a candidate, and every
/// occurrence of a candidate is counted.
pub(crate) fn count_events(
    miner: &mut Miner,
    candidates: &mut BTreeMap<u64, Candidate>,
    events: Vec<ErrorEvent>,
    learning: &Learning,
    now: DateTime<Utc>,
) {
    for event in events {
        let matched = miner.add_at(&event.mined, now.timestamp_millis());
        let id = matched.id.0;
        if learning.learns(event.at) {
            continue;
        }
        if matched.is_new {
            candidates.insert(
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
        if let Some(candidate) = candidates.get_mut(&id) {
            candidate.seen.push_back(now);
            candidate.total += 1;
        }
    }
}

/// A broken observation for every candidate seen `min_count` times within `window`;
/// candidates quiet for a whole window are known now and forgotten as candidates.
pub(crate) fn judge_candidates(
    miner: &Miner,
    candidates: &mut BTreeMap<u64, Candidate>,
    new_error: &NewErrorSpec,
    description: &str,
    now: DateTime<Utc>,
) -> Vec<Observation> {
    let window = chrono::Duration::from_std(new_error.window).unwrap_or_default();
    let mut observations = Vec::new();
    let mut settled = Vec::new();
    for (id, candidate) in candidates.iter_mut() {
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
                    format!("New error in {}: {}", description, redact(&template)),
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
        candidates.remove(&id);
    }
    observations
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
            history: false,
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

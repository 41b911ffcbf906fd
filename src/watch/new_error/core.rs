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

/// A template first seen in what was written after attachment, not yet known for sure. Kept in the store
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
/// the same bug from two lines is one template), and where its first line started.
pub(crate) struct ErrorEvent {
    text: String,
    path: PathBuf,
    mined: String,
    start: Start,
}

/// The time on a line: stamped by its source (Loki, the journal), or RFC 3339 in its text.
fn stamped_at(line: &LogLine) -> Option<DateTime<Utc>> {
    let at = line.at.as_deref()?;
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// What an event's first line says: its level, when it was written (if stamped), and whether
/// the log held it when the watch was attached.
#[derive(Debug, Clone, Default)]
struct Start {
    level: Option<String>,
    at: Option<DateTime<Utc>>,
    history: bool,
}

impl Start {
    fn of(line: &LogLine) -> Self {
        Self {
            level: line.level.clone(),
            at: stamped_at(line),
            history: line.history,
        }
    }
}

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
    let mut judge = |text: String, start: Start, path: PathBuf| {
        if let Some(trace) = fingerprint(&text, &trace_config) {
            events.push(ErrorEvent {
                mined: format!("{} {}", trace.exception_type, trace.signature),
                text,
                path,
                start,
            });
        } else if is_error_text(text.lines().next().unwrap_or(""), start.level.as_deref()) {
            events.push(ErrorEvent {
                mined: without_prefix(text.lines().next().unwrap_or("")).to_string(),
                text,
                path,
                start,
            });
        }
    };
    match new_error.format {
        LogFormat::Json => {
            for line in lines {
                let start = Start::of(&line);
                judge(line.line, start, line.path);
            }
        }
        LogFormat::Plain => {
            // The start of the event each folder holds: its first line's level (a journal or
            // Loki level, or the level word of a plain line), time and history.
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
                    starts.insert(line.path.clone(), Start::of(&line));
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

/// What is learned rather than judged: what the log already held when the watch was attached.
/// Everything written after attachment is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Learning {
    /// The history is learned at all (`learn_for = "0s"` judges it too).
    history: bool,
    /// Lines a log source stamped before this moment (the attachment) are history, whenever
    /// they are read.
    written_before: Option<DateTime<Utc>>,
}

impl Learning {
    /// Learning what the log held at `attached_at`. A file's lines say themselves whether the
    /// file held them then ([`LogLine::history`]); for a source that stamps every line
    /// (`source_stamped`: Loki, the journal) its stamp decides. A time written in a file's
    /// text is never trusted for this: an app whose clock or zone is off would otherwise
    /// silence new errors for hours.
    pub(crate) fn at(
        attached_at: DateTime<Utc>,
        learns_history: bool,
        source_stamped: bool,
    ) -> Self {
        Self {
            history: learns_history,
            written_before: Some(attached_at).filter(|_| source_stamped),
        }
    }

    /// Whether an event starting at `start` is learned.
    fn learns(&self, start: &Start) -> bool {
        self.history
            && (start.history
                || start
                    .at
                    .zip(self.written_before)
                    .is_some_and(|(at, attached)| at < attached))
    }
}

/// Mines every event; a template first seen in what was written after attachment becomes a
/// candidate, and every occurrence of a candidate is counted.
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
        if learning.learns(&event.start) {
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
            learns_history: true,
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

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_950_400, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    /// The templates that became candidates after feeding `lines` in one read at `now`.
    fn candidates_after(learning: &Learning, lines: Vec<LogLine>, now: DateTime<Utc>) -> usize {
        let mut miner = Miner::new(crate::logs::MinerConfig::default());
        let mut candidates = BTreeMap::new();
        let events = error_events(lines, &spec(&[]), &mut HashMap::new());
        count_events(&mut miner, &mut candidates, events, learning, now);
        candidates.len()
    }

    fn file_line(text: &str, history: bool) -> LogLine {
        LogLine {
            history,
            ..line(text)
        }
    }

    fn stamped(text: &str, written: DateTime<Utc>) -> LogLine {
        LogLine {
            at: Some(written.to_rfc3339()),
            ..line(text)
        }
    }

    #[test]
    fn a_files_history_is_learned_and_what_is_appended_is_judged_from_the_first_minute() {
        let learning = Learning::at(at(0), true, false);
        let lines = vec![
            file_line("ERROR payment gateway timeout after 30000ms", true),
            file_line("ERROR invalid input syntax for type uuid", false),
        ];
        // One minute after attachment: the new fault is a candidate at once.
        assert_eq!(candidates_after(&learning, lines, at(1)), 1);
        let history_only = vec![file_line("ERROR payment gateway timeout", true)];
        assert_eq!(candidates_after(&learning, history_only, at(1)), 0);
    }

    #[test]
    fn times_written_in_a_files_text_never_make_a_line_history() {
        let learning = Learning::at(at(0), true, false);
        let skewed = format!("{} ERROR ledger export rejected", at(-300).to_rfc3339());
        assert_eq!(
            candidates_after(&learning, vec![file_line(&skewed, false)], at(30)),
            1
        );
    }

    #[test]
    fn a_stamping_source_learns_what_it_stamped_before_attachment_however_late_it_is_read() {
        let learning = Learning::at(at(0), true, true);
        let backlog = vec![stamped("ERROR nightly export failed", at(-1))];
        assert_eq!(candidates_after(&learning, backlog, at(90)), 0);
        let fresh = vec![stamped("ERROR search index shard is read-only", at(1))];
        assert_eq!(candidates_after(&learning, fresh, at(2)), 1);
    }

    #[test]
    fn with_history_learning_off_the_history_is_judged_too() {
        for source_stamped in [false, true] {
            let learning = Learning::at(at(0), false, source_stamped);
            let held = vec![LogLine {
                history: true,
                ..stamped("ERROR payment gateway timeout", at(-10))
            }];
            assert_eq!(candidates_after(&learning, held, at(1)), 1);
        }
    }

    #[test]
    fn an_event_is_history_by_its_first_line() {
        let learning = Learning::at(at(0), true, false);
        let trace = vec![
            file_line("Traceback (most recent call last):", true),
            file_line("  File \"/srv/app/orders.py\", line 12, in get", false),
            file_line("ValueError: badly formed hexadecimal UUID string", false),
        ];
        assert_eq!(candidates_after(&learning, trace, at(1)), 0);
    }
}

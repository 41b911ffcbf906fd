//! What a log replay is over (the period, where learning ends), and what it noticed about the
//! files it read, per watch: lines without a time, lines out of order, periods not covered.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// Log files are replayed over `from`..`to`; lines written before `learned_before` are history.
pub struct LogReplay {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub learned_before: DateTime<Utc>,
    noticed: Mutex<Noticed>,
}

#[derive(Default)]
struct Noticed {
    /// By watch and note; `true` for a gap.
    notes: BTreeMap<(String, String), bool>,
    /// By watch and file.
    files: BTreeMap<(String, String), FileTally>,
}

/// What reading one file ran into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileTally {
    pub without_time: u64,
    pub out_of_order: u64,
    /// Reading stopped early.
    pub failure: Option<String>,
}

/// Something a watch's replay should be read with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayNote {
    pub watch: String,
    /// A stretch of the period the logs do not cover: not an all-clear.
    pub gap: bool,
    pub note: String,
}

impl LogReplay {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, learned_before: DateTime<Utc>) -> Self {
        Self {
            from,
            to,
            learned_before,
            noticed: Mutex::new(Noticed::default()),
        }
    }

    pub(crate) fn note_gap(&self, watch: &str, note: &str) {
        self.record(watch, note, true);
    }

    pub(crate) fn note(&self, watch: &str, note: &str) {
        self.record(watch, note, false);
    }

    fn record(&self, watch: &str, note: &str, gap: bool) {
        if let Ok(mut noticed) = self.noticed.lock() {
            noticed
                .notes
                .insert((watch.to_string(), note.to_string()), gap);
        }
    }

    pub(crate) fn tally(&self, watch: &str, path: &Path, tally: FileTally) {
        if let Ok(mut noticed) = self.noticed.lock() {
            noticed
                .files
                .insert((watch.to_string(), path.display().to_string()), tally);
        }
    }

    /// Everything noticed, by watch.
    pub fn notes(&self) -> Vec<ReplayNote> {
        let Ok(noticed) = self.noticed.lock() else {
            return Vec::new();
        };
        let mut notes: Vec<ReplayNote> = noticed
            .notes
            .iter()
            .map(|((watch, note), gap)| ReplayNote {
                watch: watch.clone(),
                gap: *gap,
                note: note.clone(),
            })
            .collect();
        for ((watch, file), tally) in &noticed.files {
            let mut note = |gap: bool, note: String| {
                notes.push(ReplayNote {
                    watch: watch.clone(),
                    gap,
                    note,
                })
            };
            if tally.without_time > 0 {
                note(
                    false,
                    format!(
                        "{file}: {} lines without a readable time skipped",
                        tally.without_time
                    ),
                );
            }
            if tally.out_of_order > 0 {
                note(
                    false,
                    format!(
                        "{file}: {} lines written out of time order (by more than a minute)",
                        tally.out_of_order
                    ),
                );
            }
            if let Some(failure) = &tally.failure {
                note(
                    true,
                    format!("{file}: reading stopped early ({failure}); the rest is not replayed"),
                );
            }
        }
        notes.sort_by(|a, b| (&a.watch, !a.gap).cmp(&(&b.watch, !b.gap)));
        notes
    }
}

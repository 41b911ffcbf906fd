//! Log files read again over a past period (`sentinel backtest`): the files a pattern matches
//! and their rotated siblings (`app.log.1`, `app.log.2.gz`), each read once from its start and
//! merged in the order of the lines' own timestamps, handed out up to each replayed moment.
//! Lines without a readable time are skipped and counted; lines written out of order are
//! counted; a period that begins before the oldest line is a gap.

mod file;
mod rotated;
mod settings;

use super::{LineFormat, LogLine};
use chrono::{DateTime, Utc};
use file::ReplayFile;
use std::sync::Arc;

pub use settings::{LogReplay, ReplayNote};

/// The merged lines of one watch's files, handed out as the replayed clock moves on.
pub(crate) struct ReplayFeed {
    replay: Arc<LogReplay>,
    watch: String,
    files: Vec<ReplayFile>,
}

impl ReplayFeed {
    /// Opens every file `pattern` matches, with its rotated siblings, for the watch `watch`.
    /// Fails, saying what is missing, when no file can be read at all.
    pub(crate) fn open(
        replay: Arc<LogReplay>,
        watch: &str,
        pattern: &str,
        format: &LineFormat,
    ) -> Result<Self, String> {
        let paths = rotated::with_rotated_siblings(pattern)?;
        if paths.is_empty() {
            let message = format!(
                "no file matches {pattern} (nor a rotated copy of one): nothing to replay, the whole period is a gap"
            );
            replay.note_gap(watch, &message);
            return Err(message);
        }
        let mut files = Vec::new();
        for path in paths {
            match ReplayFile::open(&path, format.clone(), replay.to) {
                Ok(file) => files.push(file),
                Err(error) => replay.note(
                    watch,
                    &format!(
                        "{} cannot be read ({error}); it is left out",
                        path.display()
                    ),
                ),
            }
        }
        let feed = Self {
            replay,
            watch: watch.to_string(),
            files,
        };
        feed.note_coverage(pattern);
        feed.tally();
        Ok(feed)
    }

    /// A gap when the oldest line is written after the period starts.
    fn note_coverage(&self, pattern: &str) {
        let oldest = self
            .files
            .iter()
            .filter_map(|file| file.peek_time().map(|at| (at, file.path())))
            .min_by_key(|(at, _)| *at);
        match oldest {
            Some((at, _)) if at <= self.replay.from => {}
            Some((at, path)) => self.replay.note_gap(
                &self.watch,
                &format!(
                    "{} starts {}, after --from: the replay before it is a gap, not an all-clear",
                    path.display(),
                    at.format("%Y-%m-%d %H:%M")
                ),
            ),
            None => self.replay.note_gap(
                &self.watch,
                &format!("{pattern} holds no line with a readable time: the whole period is a gap"),
            ),
        }
    }

    /// Every line written at or before `now` not handed out yet, oldest first. Lines written
    /// before the replay's `learned_before` are marked as history.
    pub(crate) fn read(&mut self, now: DateTime<Utc>) -> Vec<LogLine> {
        let mut lines = Vec::new();
        while let Some(index) = self.oldest_due(now) {
            if let Some((at, mut line)) = self.files[index].take() {
                line.history = at < self.replay.learned_before;
                line.at = Some(at.to_rfc3339());
                lines.push(line);
            }
        }
        self.tally();
        lines
    }

    /// The file whose next line is the oldest, when that line is written at or before `now`.
    fn oldest_due(&self, now: DateTime<Utc>) -> Option<usize> {
        self.files
            .iter()
            .enumerate()
            .filter_map(|(index, file)| file.peek_time().map(|at| (at, index)))
            .min()
            .filter(|(at, _)| *at <= now)
            .map(|(_, index)| index)
    }

    fn tally(&self) {
        for file in &self.files {
            self.replay.tally(&self.watch, file.path(), file.tally());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn files_are_merged_by_time_and_handed_out_up_to_each_moment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("app.log.1"),
            "2026-10-10T10:00:00Z ERROR one\n2026-10-10T10:02:00Z ERROR three\n    at frame\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("app.log"),
            "2026-10-10T10:01:00Z ERROR two\nno time here\n2026-10-10T10:04:00Z ERROR four\n2026-10-10T10:00:30Z ERROR late\n",
        )
        .unwrap();
        let replay = Arc::new(LogReplay::new(
            utc("2026-10-10T10:01:30Z"),
            utc("2026-10-10T11:00:00Z"),
            utc("2026-10-10T10:01:30Z"),
        ));
        let pattern = dir.path().join("app.log");
        let mut feed = ReplayFeed::open(
            replay.clone(),
            "app",
            &pattern.to_string_lossy(),
            &LineFormat::Plain,
        )
        .unwrap();
        let texts = |lines: &[LogLine]| -> Vec<(String, bool)> {
            lines.iter().map(|l| (l.line.clone(), l.history)).collect()
        };
        let first = feed.read(utc("2026-10-10T10:01:30Z"));
        assert_eq!(
            texts(&first),
            [
                ("2026-10-10T10:00:00Z ERROR one".to_string(), true),
                ("2026-10-10T10:01:00Z ERROR two".to_string(), true),
            ]
        );
        let second = feed.read(utc("2026-10-10T10:03:00Z"));
        assert_eq!(
            texts(&second),
            [
                ("2026-10-10T10:02:00Z ERROR three".to_string(), false),
                ("    at frame".to_string(), false),
            ]
        );
        let rest = feed.read(utc("2026-10-10T11:00:00Z"));
        assert_eq!(rest.len(), 2, "{rest:?}");
        let notes: Vec<String> = replay.notes().into_iter().map(|n| n.note).collect();
        assert!(
            notes
                .iter()
                .any(|n| n.ends_with("app.log: 1 lines without a readable time skipped")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("app.log: 1 lines written out of time order")),
            "{notes:?}"
        );
        assert!(replay.notes().iter().all(|n| !n.gap), "{notes:?}");
    }

    #[test]
    fn a_period_before_the_oldest_line_or_without_files_is_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.log"), "2026-10-10T10:00:00Z INFO up\n").unwrap();
        let replay = Arc::new(LogReplay::new(
            utc("2026-10-10T09:00:00Z"),
            utc("2026-10-10T11:00:00Z"),
            utc("2026-10-10T09:00:00Z"),
        ));
        let pattern = dir.path().join("app.log").to_string_lossy().into_owned();
        ReplayFeed::open(replay.clone(), "app", &pattern, &LineFormat::Plain).unwrap();
        let missing = dir.path().join("gone.log").to_string_lossy().into_owned();
        assert!(ReplayFeed::open(replay.clone(), "other", &missing, &LineFormat::Plain).is_err());
        let gaps: Vec<(String, String)> = replay
            .notes()
            .into_iter()
            .filter(|n| n.gap)
            .map(|n| (n.watch, n.note))
            .collect();
        assert_eq!(gaps.len(), 2, "{gaps:?}");
        assert!(
            gaps[0].1.contains("starts 2026-10-10 10:00, after --from"),
            "{gaps:?}"
        );
        assert!(gaps[1].1.starts_with("no file matches"), "{gaps:?}");
    }
}

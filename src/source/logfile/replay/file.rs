//! One log file read once from its start for a replay (gzip-compressed when its name ends in
//! `.gz`), one timed line ahead. A line without a time of its own that continues the event
//! before it (a stack trace) shares that event's time; other lines without a time are skipped.

use super::super::format::LineBuilder;
use super::super::stamp::line_time;
use super::super::text::decode;
use super::super::{LineFormat, LogLine, TailOptions};
use super::settings::FileTally;
use chrono::{DateTime, Utc};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// How far back a line may be written after a later one before it counts as out of order
/// (several workers writing one log interleave by a few seconds).
const OUT_OF_ORDER_TOLERANCE: chrono::Duration = chrono::Duration::seconds(60);

pub(super) struct ReplayFile {
    path: PathBuf,
    reader: Box<dyn BufRead + Send + Sync>,
    format: LineFormat,
    /// Where the next raw line starts (in the decompressed text).
    offset: u64,
    /// The end of the replayed period, for the year a syslog time leaves out.
    reference: DateTime<Utc>,
    next: Option<(DateTime<Utc>, LogLine)>,
    newest: Option<DateTime<Utc>>,
    /// The time of the line before, which a continuation line without its own time shares.
    previous_at: Option<DateTime<Utc>>,
    previous_indented: bool,
    tally: FileTally,
}

impl ReplayFile {
    pub(super) fn open(
        path: &Path,
        format: LineFormat,
        reference: DateTime<Utc>,
    ) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let reader: Box<dyn BufRead + Send + Sync> =
            if path.extension().is_some_and(|extension| extension == "gz") {
                Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
            } else {
                Box::new(BufReader::new(file))
            };
        let mut opened = Self {
            path: path.to_path_buf(),
            reader,
            format,
            offset: 0,
            reference,
            next: None,
            newest: None,
            previous_at: None,
            previous_indented: false,
            tally: FileTally::default(),
        };
        opened.advance();
        Ok(opened)
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn tally(&self) -> FileTally {
        self.tally.clone()
    }

    /// When the next line was written; `None` once the file is read to its end.
    pub(super) fn peek_time(&self) -> Option<DateTime<Utc>> {
        self.next.as_ref().map(|(at, _)| *at)
    }

    /// The next line, moving on to the one after it.
    pub(super) fn take(&mut self) -> Option<(DateTime<Utc>, LogLine)> {
        let taken = self.next.take();
        self.advance();
        taken
    }

    /// Whether a line belongs to the event of the line before it (a stack trace's frames, its
    /// `Caused by:`, a Python trace's closing `ValueError: ...`), and so shares its time.
    fn continues(&self, text: &str) -> bool {
        const STARTS: &[&str] = &["Traceback", "Caused by", "goroutine ", "stack backtrace"];
        self.previous_at.is_some()
            && (text.starts_with([' ', '\t'])
                || self.previous_indented
                || STARTS.iter().any(|start| text.starts_with(start)))
    }

    /// Reads up to the next line with a readable time.
    fn advance(&mut self) {
        let builder = LineBuilder {
            format: &self.format,
            max_line_bytes: TailOptions::default().max_line_bytes,
            path: &self.path,
        };
        let mut raw = Vec::new();
        loop {
            raw.clear();
            match self.reader.read_until(b'\n', &mut raw) {
                Ok(0) => return,
                Ok(read) => {
                    let offset = self.offset;
                    self.offset += read as u64;
                    let bytes = raw.strip_suffix(b"\n").unwrap_or(&raw);
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let line = builder.build(offset, bytes, false);
                    let text = decode(bytes);
                    let continues = self.continues(&text);
                    self.previous_indented = text.starts_with([' ', '\t']);
                    let Some(at) = line_time(&text, line.at.as_deref(), self.reference)
                        .or(continues.then_some(self.previous_at).flatten())
                    else {
                        self.previous_at = None;
                        self.tally.without_time += 1;
                        continue;
                    };
                    self.previous_at = Some(at);
                    if self
                        .newest
                        .is_some_and(|newest| at + OUT_OF_ORDER_TOLERANCE < newest)
                    {
                        self.tally.out_of_order += 1;
                    }
                    self.newest = Some(self.newest.map_or(at, |newest| newest.max(at)));
                    self.next = Some((at, line));
                    return;
                }
                Err(error) => {
                    self.tally.failure = Some(error.to_string());
                    return;
                }
            }
        }
    }
}

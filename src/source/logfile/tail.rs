//! The tailer: matches the pattern, pairs files with stored offsets (following renames by
//! inode), reads new lines within the poll budget, and hands back the updated offsets.

use super::discover::{Found, Target, find_by_id};
use super::error::TailError;
use super::format::LineBuilder;
use super::line::LogLine;
use super::offsets::{FileId, FileOffset, Offsets};
use super::options::TailOptions;
use super::reader::{Task, read_new_lines};
use super::text::{FIRST_LINE_HASH_BYTES, first_line_hash};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A rotated-away file unchanged for this long is taken as finished: its unterminated last
/// line, if any, is emitted and the file is let go.
const ROTATED_QUIET: Duration = Duration::from_secs(60);

/// How far back from the end a first sight looks for the last line end.
const END_SCAN: u64 = 64 * 1024;

/// Follows the files matching one path or glob, strictly read-only.
#[derive(Debug)]
pub struct LogTail {
    target: Target,
    options: TailOptions,
    /// A poll has succeeded: files appearing from now on are new and read from their start.
    polled: bool,
    /// Rotates which file reads first, so one busy file cannot starve the others.
    cursor: usize,
    stats: TailStats,
}

/// Counters since the tail was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    pub lines: u64,
    pub bytes_read: u64,
    pub truncated_lines: u64,
}

/// A file to read this poll, and what to do with its entry afterwards.
struct Planned {
    task: Task,
    /// Renamed away from the pattern: drop the entry once fully read.
    draining: bool,
}

impl LogTail {
    /// A tail of `pattern`: a path or a glob such as `/var/log/nginx/*.log`.
    pub fn new(pattern: &str, options: TailOptions) -> Result<Self, TailError> {
        Ok(LogTail {
            target: Target::new(pattern)?,
            options: options.normalized(),
            polled: false,
            cursor: 0,
            stats: TailStats::default(),
        })
    }

    /// The pattern followed.
    pub fn pattern(&self) -> &str {
        &self.target.pattern
    }

    /// Counters since creation.
    pub fn stats(&self) -> TailStats {
        self.stats
    }

    /// New complete lines of every matching file since `offsets`, which is updated in place.
    /// On error `offsets` is left as it was and no line is lost: the next successful poll
    /// reads them.
    pub fn poll(&mut self, offsets: &mut Offsets) -> Result<Vec<LogLine>, TailError> {
        let found = self.target.expand()?;
        let (drains, regular) = self.plan(&found, offsets)?;

        let mut order: Vec<Planned> = drains;
        if !regular.is_empty() {
            let start = self.cursor % regular.len();
            let mut regular = regular;
            regular.rotate_left(start);
            order.extend(regular);
        }

        let mut budget = self.options.max_bytes_per_poll as u64;
        let mut lines = Vec::new();
        let mut next: BTreeMap<PathBuf, FileOffset> = BTreeMap::new();
        let mut bytes_read = 0u64;
        for planned in order {
            let path = planned.task.found.path.clone();
            if budget == 0 {
                next.insert(path, planned.task.state);
                continue;
            }
            let builder = LineBuilder {
                format: &self.options.format,
                max_line_bytes: self.options.max_line_bytes,
                path: &path,
            };
            match read_new_lines(&planned.task, budget, &builder, &mut lines) {
                Ok(outcome) => {
                    budget = budget.saturating_sub(outcome.bytes_read);
                    bytes_read += outcome.bytes_read;
                    let done = outcome.caught_up
                        && outcome.state.offset >= outcome.state.size_seen
                        && !outcome.raced;
                    if !(planned.draining && done) {
                        next.insert(path, outcome.state);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && self.target.is_glob => {
                    // Removed since it was listed: a normal disappearance under a glob.
                }
                Err(source) => return Err(TailError::File { path, source }),
            }
        }

        offsets.files = next;
        offsets.polled = true;
        self.polled = true;
        self.cursor = self.cursor.wrapping_add(1);
        self.stats.lines += lines.len() as u64;
        self.stats.bytes_read += bytes_read;
        self.stats.truncated_lines += lines.iter().filter(|l| l.truncated).count() as u64;
        Ok(lines)
    }

    /// Pair each present file with its stored offset (by path, else by inode after a rename),
    /// find rotated-away files by inode, and flag followed files that are gone.
    fn plan(
        &self,
        found: &[Found],
        offsets: &Offsets,
    ) -> Result<(Vec<Planned>, Vec<Planned>), TailError> {
        let old = &offsets.files;
        let mut by_id: HashMap<FileId, &PathBuf> = HashMap::new();
        for (path, entry) in old {
            by_id.entry(entry.id()).or_insert(path);
        }
        let present: HashMap<&Path, FileId> =
            found.iter().map(|f| (f.path.as_path(), f.id)).collect();
        let mut used_entries: HashSet<&Path> = HashSet::new();
        let mut used_ids: HashSet<FileId> = HashSet::new();
        let mut drains = Vec::new();
        let mut regular = Vec::new();

        for f in found {
            if !used_ids.insert(f.id) {
                // A second name (hard link) of a file already followed.
                continue;
            }
            let same_path = old.get(&f.path).filter(|e| e.id() == f.id);
            let (state, renamed) = if let Some(entry) = same_path {
                used_entries.insert(&f.path);
                (*entry, false)
            } else if let Some(prev) = by_id.get(&f.id).copied()
                && let Some(entry) = old.get(prev).filter(|e| e.id() == f.id)
                && present.get(prev.as_path()) != Some(&f.id)
            {
                used_entries.insert(prev);
                (*entry, true)
            } else if !self.polled && self.options.start_at_end && !old.contains_key(&f.path) {
                (end_state(f)?, false)
            } else if offsets.polled {
                (fresh_state(f), false)
            } else {
                (first_sight_state(f), false)
            };
            let planned = Planned {
                task: Task {
                    found: f.clone(),
                    state: state_for(state, f.id),
                    flush_partial: false,
                    rotated_away: false,
                },
                draining: false,
            };
            if renamed {
                drains.push(planned);
            } else {
                regular.push(planned);
            }
        }

        let now = SystemTime::now();
        for (path, entry) in old {
            if used_entries.contains(path.as_path()) || used_ids.contains(&entry.id()) {
                continue;
            }
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            if let Some(g) = find_by_id(dir, entry.id()) {
                used_ids.insert(g.id);
                let quiet = g
                    .modified
                    .and_then(|m| now.duration_since(m).ok())
                    .is_some_and(|age| age >= ROTATED_QUIET);
                drains.push(Planned {
                    task: Task {
                        found: g,
                        state: *entry,
                        flush_partial: quiet,
                        rotated_away: true,
                    },
                    draining: true,
                });
            } else if !self.target.is_glob
                && path.as_os_str() == self.target.pattern.as_str()
                && !present.contains_key(path.as_path())
            {
                return Err(TailError::Vanished { path: path.clone() });
            }
        }
        Ok((drains, regular))
    }
}

fn state_for(mut state: FileOffset, id: FileId) -> FileOffset {
    state.dev = id.dev;
    state.inode = id.inode;
    state
}

/// Read a new file from its beginning.
fn fresh_state(f: &Found) -> FileOffset {
    state_for(FileOffset::default(), f.id)
}

/// First sight of a file that was there when the tail was attached: read from its beginning,
/// and what it holds now is its history.
fn first_sight_state(f: &Found) -> FileOffset {
    let mut state = fresh_state(f);
    state.held_at_first_sight = Some(f.size).filter(|size| *size > 0);
    state
}

/// First sight with `start_at_end`: just after the last complete line, so neither history
/// nor half a line is reported.
fn end_state(f: &Found) -> Result<FileOffset, TailError> {
    let err = |source| TailError::File {
        path: f.path.clone(),
        source,
    };
    let file = File::open(&f.path).map_err(err)?;
    let size = file.metadata().map_err(err)?.len();
    let mut state = fresh_state(f);
    state.size_seen = size;
    if size == 0 {
        return Ok(state);
    }
    let head_len = usize::try_from(size.min(FIRST_LINE_HASH_BYTES as u64)).unwrap_or(0);
    let head = read_at(&file, 0, head_len).map_err(err)?;
    state.first_line_hash = first_line_hash(&head);

    let from = size.saturating_sub(END_SCAN);
    let tail = read_at(&file, from, usize::try_from(size - from).unwrap_or(0)).map_err(err)?;
    match tail.iter().rposition(|&b| b == b'\n') {
        Some(p) => state.offset = from + p as u64 + 1,
        // A single unterminated line: report it once it is complete.
        None if from == 0 => state.offset = 0,
        // The end is inside a line longer than the scan: skip to its end.
        None => {
            state.offset = size;
            state.skip_to_newline = true;
        }
    }
    Ok(state)
}

fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

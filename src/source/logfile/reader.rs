//! Reading new complete lines from one file, from a stored offset, within a byte budget.
//! Files are opened with `File::open` only: read-only, never created or truncated.

use super::discover::Found;
use super::format::LineBuilder;
use super::line::LogLine;
use super::offsets::{FileId, FileOffset};
use super::text::{FIRST_LINE_HASH_BYTES, find_newline, first_line_hash};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

/// Size of one read.
const CHUNK: usize = 256 * 1024;

/// One file to read in this poll.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub found: Found,
    /// Where to continue (identity fields are refreshed from the opened file).
    pub state: FileOffset,
    /// Emit an unterminated last line as complete once everything else is read (a rotated
    /// file nobody writes to any more).
    pub flush_partial: bool,
    /// Found by inode outside the pattern after a rename: if its content no longer matches
    /// the stored offset, it is another file that reused the inode and is not read.
    pub rotated_away: bool,
}

/// Result of reading one file.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub state: FileOffset,
    /// Bytes read from the file (counted against the poll budget).
    pub bytes_read: u64,
    /// Everything up to the size seen was consumed.
    pub caught_up: bool,
    /// The path now names another file than the one listed: nothing was read.
    pub raced: bool,
}

/// Read new lines of `task` into `out`, reading at most `budget` bytes.
pub(crate) fn read_new_lines(
    task: &Task,
    budget: u64,
    builder: &LineBuilder<'_>,
    out: &mut Vec<LogLine>,
) -> io::Result<Outcome> {
    let mut st = task.state;
    let listed = task.found.id;
    st.dev = listed.dev;
    st.inode = listed.inode;
    let listed_size = task.found.size;

    // Nothing new and nothing changed: do not even open the file.
    if st.offset == listed_size && st.size_seen == listed_size && !task.flush_partial {
        return Ok(Outcome {
            state: st,
            bytes_read: 0,
            caught_up: true,
            raced: false,
        });
    }

    let mut file = File::open(&task.found.path)?;
    let meta = file.metadata()?;
    if FileId::of(&meta) != listed {
        return Ok(Outcome {
            state: task.state,
            bytes_read: 0,
            caught_up: false,
            raced: true,
        });
    }
    let size = meta.len();

    // A file rewritten in place (copytruncate then regrowth, or a reused inode) has another
    // first line; a truncated one is shorter than the offset. Either way: start over.
    let mut head = vec![0u8; FIRST_LINE_HASH_BYTES.min(usize::try_from(size).unwrap_or(0))];
    let got = read_full_at(&file, &mut head, 0)?;
    head.truncate(got);
    let hash = first_line_hash(&head);
    let rewritten = match (st.first_line_hash, hash) {
        (Some(old), Some(new)) => old != new,
        (Some(_), None) => true,
        _ => false,
    };
    if rewritten || size < st.offset {
        // Another content than the one first seen: none of it is history.
        st.held_at_first_sight = None;
    }
    if (rewritten || size < st.offset) && task.rotated_away {
        st.offset = size;
        st.size_seen = size;
        return Ok(Outcome {
            state: st,
            bytes_read: 0,
            caught_up: true,
            raced: false,
        });
    }
    if rewritten || size < st.offset {
        st.offset = 0;
        st.skip_to_newline = false;
    }
    st.first_line_hash = hash;

    let start = st.offset;
    let first_new_line = out.len();
    let end = size.min(start.saturating_add(budget));
    let max_line = builder.max_line_bytes;
    let mut buf = vec![0u8; usize::try_from(end - start).unwrap_or(CHUNK).min(CHUNK)];
    let mut pos = start;
    let mut committed = start;
    let mut skip = st.skip_to_newline;
    let mut partial: Vec<u8> = Vec::new();
    // Length of the current unterminated line, beyond what `partial` keeps.
    let mut partial_len: usize = 0;

    if start < end {
        file.seek(SeekFrom::Start(start))?;
    }
    while pos < end {
        let want = usize::try_from(end - pos).unwrap_or(CHUNK).min(buf.len());
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        let mut i = 0;
        while i < n {
            match find_newline(&chunk[i..]) {
                Some(p) => {
                    let seg = &chunk[i..i + p];
                    if skip {
                        skip = false;
                    } else if partial.is_empty() && partial_len == 0 {
                        out.push(builder.build(committed, seg, false));
                    } else {
                        let room = (max_line + 1).saturating_sub(partial.len());
                        partial.extend_from_slice(&seg[..seg.len().min(room)]);
                        partial_len += seg.len();
                        out.push(builder.build(committed, &partial, partial_len > partial.len()));
                        partial.clear();
                        partial_len = 0;
                    }
                    committed = pos + (i + p) as u64 + 1;
                    i += p + 1;
                }
                None => {
                    let seg = &chunk[i..];
                    if !skip {
                        let room = (max_line + 1).saturating_sub(partial.len());
                        partial.extend_from_slice(&seg[..seg.len().min(room)]);
                        partial_len += seg.len();
                        if partial_len > max_line {
                            // Too long to wait for its end: report the start now, drop the rest.
                            out.push(builder.build(committed, &partial, true));
                            partial.clear();
                            partial_len = 0;
                            skip = true;
                        }
                    }
                    if skip {
                        committed = pos + n as u64;
                    }
                    i = n;
                }
            }
        }
        pos += n as u64;
    }

    if task.flush_partial && pos >= size && partial_len > 0 {
        out.push(builder.build(committed, &partial, false));
        committed = pos;
    }

    if let Some(held) = st.held_at_first_sight {
        for line in &mut out[first_new_line..] {
            line.history = line.offset < held;
        }
        // Every byte held at first sight is read (an unterminated last line then counts as
        // written after attachment when it ends).
        if pos >= held {
            st.held_at_first_sight = None;
        }
    }
    st.offset = committed;
    st.skip_to_newline = skip;
    st.size_seen = size;
    Ok(Outcome {
        state: st,
        bytes_read: pos - start,
        caught_up: pos >= size,
        raced: false,
    })
}

/// Read until `buf` is full or the end of the file, without moving the file position.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

//! Reading a file line by line without trusting its lines to be short: each line keeps at most
//! a fixed number of bytes (the rest is skipped, not buffered), so a file with no line breaks
//! costs no more memory than a short line.

use std::io::{self, BufRead};

/// Lines of a reader, each cut to `max_bytes`.
pub(super) struct BoundedLines<R> {
    reader: R,
    max_bytes: usize,
    /// Bytes consumed so far.
    pub(super) consumed: u64,
}

impl<R: BufRead> BoundedLines<R> {
    pub(super) fn new(reader: R, max_bytes: usize) -> Self {
        Self {
            reader,
            max_bytes,
            consumed: 0,
        }
    }

    /// The next line (without its `\n` or `\r\n`) into `line`: `Some(cut)`, where `cut` says
    /// the line was longer than `max_bytes`, or `None` at the end.
    pub(super) fn next_line(&mut self, line: &mut Vec<u8>) -> io::Result<Option<bool>> {
        line.clear();
        let mut cut = false;
        let mut any = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            any = true;
            let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
                Some(at) => (&available[..at], Some(at + 1)),
                None => (available, None),
            };
            let room = self.max_bytes.saturating_sub(line.len());
            if chunk.len() > room {
                cut = true;
            }
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = done.unwrap_or(available.len());
            self.reader.consume(used);
            self.consumed += used as u64;
            if done.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(cut))
    }
}

/// Whether `head` (the first bytes of a file) looks binary: it holds a NUL byte.
pub(super) fn looks_binary(head: &[u8]) -> bool {
    head.contains(&0)
}

/// `bytes` as text (invalid UTF-8 replaced), at most `max_chars` characters, ending in `…`
/// when cut (or when `cut` says the line already was).
pub(super) fn shown(bytes: &[u8], max_chars: usize, cut: bool) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            return out;
        }
        out.push(if c == '\t' || !c.is_control() { c } else { ' ' });
    }
    if cut {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut lines = BoundedLines::new(io::BufReader::with_capacity(4, text), max);
        let mut line = Vec::new();
        let mut out = Vec::new();
        while let Some(cut) = lines.next_line(&mut line).unwrap() {
            out.push((String::from_utf8_lossy(&line).into_owned(), cut));
        }
        assert_eq!(lines.consumed, text.len() as u64);
        out
    }

    #[test]
    fn lines_are_split_and_long_ones_cut_without_buffering_them() {
        assert_eq!(
            all(b"one\r\ntwo\nthree-is-long\nlast", 5),
            vec![
                ("one".to_string(), false),
                ("two".to_string(), false),
                ("three".to_string(), true),
                ("last".to_string(), false)
            ]
        );
        assert_eq!(all(b"", 5), vec![]);
        assert_eq!(
            all(b"\n\n", 5),
            vec![("".to_string(), false), ("".to_string(), false)]
        );
    }

    #[test]
    fn shown_text_is_one_line_and_bounded() {
        assert_eq!(shown(b"a\x1b[2Jb\tc", 10, false), "a [2Jb\tc");
        assert_eq!(shown("ééé".as_bytes(), 2, false), "éé…");
        assert_eq!(shown(b"ab", 5, true), "ab…");
        assert_eq!(shown(b"a\xffb", 5, false), "a\u{fffd}b");
        assert!(looks_binary(b"PK\x03\x04\x00"));
        assert!(!looks_binary(b"plain text"));
    }
}

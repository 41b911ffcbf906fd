//! The last lines of the files a pattern names, read once without following them: what an
//! investigation looks at. Nothing is remembered and no offset moves; files are opened with
//! `File::open` only, and at most a given number of bytes is read from the newest files.

use super::discover::{Found, Target};
use super::error::TailError;
use super::format::LineBuilder;
use super::line::LogLine;
use super::options::{LineFormat, TailOptions};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// What [`recent_lines`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecentLines {
    /// Oldest first: the files by their modification time, each in its own order.
    pub lines: Vec<LogLine>,
    /// The files read, oldest first.
    pub files: Vec<PathBuf>,
    /// Older lines (or older files) were left out to stay within the budget.
    pub cut: bool,
}

/// The complete lines at the end of the newest `max_files` files matching `pattern`, at most
/// `max_bytes` in all (split evenly between the files read). A first line cut by the budget is
/// left out. No file matching is not an error; an unreadable directory or file is.
pub(crate) fn recent_lines(
    pattern: &str,
    format: &LineFormat,
    max_bytes: u64,
    max_files: usize,
) -> Result<RecentLines, TailError> {
    let mut found = Target::new(pattern)?.expand()?;
    found.sort_by_key(|file| file.modified);
    let mut recent = RecentLines::default();
    let keep = max_files.max(1);
    if found.len() > keep {
        recent.cut = true;
        found.drain(..found.len() - keep);
    }
    let share = (max_bytes / found.len().max(1) as u64).max(1);
    let max_line_bytes = TailOptions::default().max_line_bytes;
    for file in &found {
        let builder = LineBuilder {
            format,
            max_line_bytes,
            path: &file.path,
        };
        let cut = read_end(file, share, &builder, &mut recent.lines)?;
        recent.cut |= cut;
        recent.files.push(file.path.clone());
    }
    Ok(recent)
}

/// Appends the complete lines of the last `budget` bytes of `file`; true when the file holds
/// more before them.
fn read_end(
    file: &Found,
    budget: u64,
    builder: &LineBuilder<'_>,
    out: &mut Vec<LogLine>,
) -> Result<bool, TailError> {
    let failed = |source| TailError::File {
        path: file.path.clone(),
        source,
    };
    let mut handle = File::open(&file.path).map_err(failed)?;
    let size = handle.metadata().map_err(failed)?.len();
    let start = size.saturating_sub(budget);
    handle.seek(SeekFrom::Start(start)).map_err(failed)?;
    let mut bytes = Vec::new();
    handle
        .take(size - start)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    let mut offset = start;
    let mut rest = bytes.as_slice();
    if start > 0 {
        // The first line began before the budget: it is not whole.
        match rest.iter().position(|b| *b == b'\n') {
            Some(end) => {
                offset += end as u64 + 1;
                rest = &rest[end + 1..];
            }
            None => return Ok(true),
        }
    }
    for line in rest.split_inclusive(|b| *b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !text.is_empty() {
            out.push(builder.build(offset, text, false));
        }
        offset += line.len() as u64;
    }
    Ok(start > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(path: &std::path::Path, text: &str) {
        std::fs::File::create(path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    #[test]
    fn the_end_of_a_file_is_read_in_whole_lines_with_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        write(&path, "first line\nsecond line\nthird line\n");
        let all = recent_lines(path.to_str().unwrap(), &LineFormat::Plain, 1000, 3).unwrap();
        let texts: Vec<&str> = all.lines.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(texts, ["first line", "second line", "third line"]);
        assert_eq!(all.lines[1].offset, 11);
        assert!(!all.cut);

        let tail = recent_lines(path.to_str().unwrap(), &LineFormat::Plain, 15, 3).unwrap();
        let texts: Vec<&str> = tail.lines.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(texts, ["third line"], "the cut line is left out");
        assert!(tail.cut);
    }

    #[test]
    fn only_the_newest_files_are_read_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for (name, age) in [("a.log", 300), ("b.log", 200), ("c.log", 100)] {
            let path = dir.path().join(name);
            write(&path, &format!("{name} line\n"));
            let at = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
            File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        }
        let pattern = format!("{}/*.log", dir.path().display());
        let read = recent_lines(&pattern, &LineFormat::Plain, 1000, 2).unwrap();
        let texts: Vec<&str> = read.lines.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(texts, ["b.log line", "c.log line"]);
        assert!(read.cut, "a.log was left out");
    }

    #[test]
    fn nothing_matching_is_empty_and_a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let pattern = format!("{}/*.log", dir.path().display());
        let read = recent_lines(&pattern, &LineFormat::Plain, 1000, 2).unwrap();
        assert!(read.lines.is_empty());
        assert!(recent_lines("/nonexistent-dir/*.log", &LineFormat::Plain, 1000, 2).is_err());
    }
}

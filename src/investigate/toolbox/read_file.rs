//! `read_file {path, start_line?, end_line?}`: numbered lines of a text file of the app's
//! repository, at most [`MAX_LINES`] at once. The path is confined to the repository (see
//! [`super::repo_path`]); the file is read line by line up to the range, never whole.

use super::ToolOutput;
use super::args::{Args, object_schema};
use super::lines::{BoundedLines, looks_binary, shown};
use super::repo_path::{confine, relative_shown};
use super::setup::Setup;
use crate::llm::ToolDefinition;
use std::fmt::Write;
use std::io::{BufReader, Read};
use std::path::Path;

pub(super) const NAME: &str = "read_file";

/// The most lines one call returns.
pub(super) const MAX_LINES: u64 = 400;
/// Characters of one line shown.
const LINE_CHARS: usize = 1_000;
/// Files larger than this are not read (source files are far smaller).
const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    setup.repository.as_ref()?;
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Read numbered lines of a text file in the app's repository (path relative to its \
             root, like src/orders/service.rb). start_line defaults to 1; at most {MAX_LINES} \
             lines per call."
        ),
        input_schema: object_schema(
            serde_json::json!({
                "path": {"type": "string", "description": "relative to the repository root"},
                "start_line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1},
            }),
            &["path"],
        ),
    })
}

/// The lines to read, 1-based and inclusive: `end` defaults to `start` + [`MAX_LINES`] - 1 and
/// may not lie further.
pub(super) fn line_range(start: Option<u64>, end: Option<u64>) -> Result<(u64, u64), String> {
    let start = start.unwrap_or(1);
    let end = end.unwrap_or(start + MAX_LINES - 1);
    if end < start {
        return Err(format!("end_line {end} is before start_line {start}"));
    }
    if end - start + 1 > MAX_LINES {
        return Err(format!(
            "at most {MAX_LINES} lines per call: ask for {start} to {}",
            start + MAX_LINES - 1
        ));
    }
    Ok((start, end))
}

pub(super) async fn run(setup: &Setup, input: &serde_json::Value) -> ToolOutput {
    let Some(root) = setup.repository.clone() else {
        return ToolOutput::failed(
            NAME,
            None,
            input.to_string(),
            "no repository is configured".into(),
        );
    };
    let parsed = (|| {
        let args = Args::new(NAME, input, &["path", "start_line", "end_line"])?;
        let path = args.text("path", 1_000)?;
        let range = line_range(
            args.optional_count("start_line", 1, u64::from(u32::MAX))?,
            args.optional_count("end_line", 1, u64::from(u32::MAX))?,
        )?;
        Ok::<_, String>((path.to_string(), range))
    })();
    let (path, (start, end)) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let query = format!("{path}:{start}-{end}");
    let read = tokio::task::spawn_blocking(move || {
        let file = confine(&root, &path)?;
        read_lines(&root, &file, start, end)
    })
    .await;
    match read {
        Ok(Ok(text)) => ToolOutput::done(NAME, None, query, text),
        Ok(Err(why)) => ToolOutput::failed(NAME, None, query, why),
        Err(error) => ToolOutput::failed(NAME, None, query, format!("the read failed: {error}")),
    }
}

fn read_lines(root: &Path, path: &Path, start: u64, end: u64) -> Result<String, String> {
    let shown_path = relative_shown(root, path);
    let cannot = |error: std::io::Error| format!("{shown_path} cannot be read: {error}");
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(format!(
            "{shown_path} is a directory; search_code finds its files"
        ));
    }
    if !meta.is_file() {
        return Err(format!("{shown_path} is not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{shown_path} is larger than 20 MiB: it is not a source file and is not read here"
        ));
    }
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut head = [0u8; 8192];
    let read = file.read(&mut head).map_err(cannot)?;
    if looks_binary(&head[..read]) {
        return Err(format!("{shown_path} is not a text file"));
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut lines = BoundedLines::new(BufReader::new(file), LINE_CHARS * 4);
    let mut line = Vec::new();
    let mut out = String::new();
    let mut number = 0u64;
    while let Some(cut) = lines.next_line(&mut line).map_err(cannot)? {
        number += 1;
        if number > end {
            let _ = writeln!(out, "(the file goes on after line {end})");
            return Ok(format!("{shown_path} lines {start}-{end}:\n{out}"));
        }
        if number >= start {
            let _ = writeln!(out, "{number:>6} | {}", shown(&line, LINE_CHARS, cut));
        }
    }
    if number < start {
        return Err(format!(
            "{shown_path} has {number} lines; start_line {start} is past its end"
        ));
    }
    let _ = writeln!(out, "(end of file, {number} lines)");
    Ok(format!(
        "{shown_path} lines {start}-{}:\n{out}",
        end.min(number)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_default_and_are_capped() {
        assert_eq!(line_range(None, None), Ok((1, 400)));
        assert_eq!(line_range(Some(10), Some(20)), Ok((10, 20)));
        assert_eq!(line_range(Some(100), None), Ok((100, 499)));
        assert!(
            line_range(Some(1), Some(401))
                .unwrap_err()
                .contains("ask for 1 to 400")
        );
        assert!(
            line_range(Some(5), Some(4))
                .unwrap_err()
                .contains("before start_line")
        );
    }

    #[test]
    fn lines_are_numbered_and_the_end_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join("a.txt");
        std::fs::write(&file, "one\ntwo\nthree\n").unwrap();
        assert_eq!(
            read_lines(&root, &file, 2, 3).unwrap(),
            "a.txt lines 2-3:\n     2 | two\n     3 | three\n(end of file, 3 lines)\n"
        );
        assert_eq!(
            read_lines(&root, &file, 1, 1).unwrap(),
            "a.txt lines 1-1:\n     1 | one\n(the file goes on after line 1)\n"
        );
        assert!(
            read_lines(&root, &file, 9, 10)
                .unwrap_err()
                .contains("has 3 lines")
        );
        std::fs::write(root.join("b.bin"), b"\x7fELF\x00\x01").unwrap();
        let fifo = root.join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(
            read_lines(&root, &fifo, 1, 5)
                .unwrap_err()
                .contains("not a regular file"),
            "a pipe is never opened"
        );
        assert!(
            read_lines(&root, &root, 1, 5)
                .unwrap_err()
                .contains("is a directory")
        );
        assert!(
            read_lines(&root, &root.join("b.bin"), 1, 5)
                .unwrap_err()
                .contains("not a text file")
        );
    }
}

//! `search_logs {pattern, since?, limit?}`: a case-insensitive regex over the log files the
//! configured watches tail (their globs, the newest few files of each), with `file:line:`
//! before every matching line, newest last. No file can be named: only the watches' globs are
//! searched. Lines are read with a bounded length, within a byte budget and a deadline.

use super::ToolOutput;
use super::args::{Args, object_schema};
use super::lines::{BoundedLines, looks_binary, shown};
use super::setup::Setup;
use super::when;
use crate::llm::ToolDefinition;
use crate::source::files::{FileSeen, newest_files};
use crate::source::logfile::{LineFormat, parse_line};
use chrono::{DateTime, Utc};
use regex::Regex;
use std::collections::VecDeque;
use std::fmt::Write;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(super) const NAME: &str = "search_logs";

/// The newest files of each glob that are searched (the live file and its latest rotations).
const FILES_PER_GLOB: usize = 3;
/// Lines returned when no limit is given, and the most that can be asked for.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 500;
/// Bytes of one line that are matched and kept.
const MAX_LINE_BYTES: usize = 16 * 1024;
/// Characters of a matching line shown.
const SHOWN_CHARS: usize = 1_000;
/// Bytes read over all files of one search, and how long one search may take.
const MAX_SCAN_BYTES: u64 = 512 * 1024 * 1024;
const DEADLINE: Duration = Duration::from_secs(20);
/// Compressed rotations cannot be searched as text.
const COMPRESSED: &[&str] = &["gz", "bz2", "xz", "zst", "zip", "lz4"];

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    if setup.log_globs.is_empty() {
        return None;
    }
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Search the log files the watches read ({}: the newest {FILES_PER_GLOB} files of \
             each) for a regular expression, case-insensitive. Returns matching lines as \
             file:line: text, newest last (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}). \
             `since` (like 30m or 2h) skips files not written since then and lines whose \
             timestamp is older.",
            setup.log_globs.join(", ")
        ),
        input_schema: object_schema(
            serde_json::json!({
                "pattern": {"type": "string", "description": "a regular expression (Rust syntax), matched case-insensitively"},
                "since": {"type": "string", "description": "how far back, like 30m, 2h or 1d"},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "description": "most lines returned (the newest)"},
            }),
            &["pattern"],
        ),
    })
}

/// `pattern` compiled case-insensitively, bounded in size.
pub(super) fn compile(pattern: &str, case_insensitive: bool) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 20)
        .dfa_size_limit(4 << 20)
        .build()
        .map_err(|error| format!("the pattern is not a valid regular expression: {error}"))
}

pub(super) async fn run(
    setup: &Setup,
    input: &serde_json::Value,
    now: DateTime<Utc>,
) -> ToolOutput {
    let parsed = (|| {
        let args = Args::new(NAME, input, &["pattern", "since", "limit"])?;
        let pattern = args.text("pattern", 1_000)?;
        let since = args
            .optional_text("since", 100)?
            .map(when::span)
            .transpose()?;
        let limit = args
            .optional_count("limit", 1, MAX_LIMIT)?
            .unwrap_or(DEFAULT_LIMIT);
        Ok::<_, String>((pattern, compile(pattern, true)?, since, limit))
    })();
    let (pattern, regex, since, limit) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let mut query = format!("/{pattern}/i over {}", setup.log_globs.join(", "));
    if let Some(since) = since {
        let _ = write!(query, " since {}", crate::humanize::duration(since));
    }
    let cutoff = since
        .and_then(|s| chrono::Duration::from_std(s).ok())
        .map(|s| now - s);
    let globs = setup.log_globs.clone();
    let search = tokio::task::spawn_blocking(move || {
        search(
            &globs,
            &regex,
            cutoff,
            limit as usize,
            Instant::now() + DEADLINE,
        )
    });
    match search.await {
        Ok(text) => ToolOutput::done(NAME, None, query, text),
        Err(error) => ToolOutput::failed(NAME, None, query, format!("the search failed: {error}")),
    }
}

/// The files to search: the newest [`FILES_PER_GLOB`] of each glob that are not compressed,
/// written at or after `cutoff`, oldest first, each once; and a note per glob whose folder
/// cannot be read.
fn files(globs: &[String], cutoff: Option<DateTime<Utc>>) -> (Vec<FileSeen>, Vec<String>) {
    let mut chosen: Vec<FileSeen> = Vec::new();
    let mut notes = Vec::new();
    for pattern in globs {
        // A few more than needed, as compressed rotations are passed over.
        let found = match newest_files(pattern, FILES_PER_GLOB + 8) {
            Ok((found, _)) => found,
            Err(error) => {
                notes.push(format!("{pattern} cannot be searched: {error}"));
                continue;
            }
        };
        let readable = found.into_iter().filter(|file| {
            let extension = file.path.extension().and_then(|e| e.to_str()).unwrap_or("");
            !COMPRESSED.contains(&extension)
        });
        for file in readable.take(FILES_PER_GLOB) {
            let recent = cutoff.is_none_or(|cutoff| file.modified >= cutoff);
            if recent && !chosen.iter().any(|seen| seen.path == file.path) {
                chosen.push(file);
            }
        }
    }
    chosen.sort_by_key(|file| file.modified);
    (chosen, notes)
}

/// The time a log line was written, when it says so at its start (or in its JSON fields).
fn line_time(path: &Path, text: &str) -> Option<DateTime<Utc>> {
    let at = parse_line(path, text, &LineFormat::json()).at?;
    crate::source::sql::values::parse_time(&at).or_else(|| {
        DateTime::parse_from_str(&at, "%d/%b/%Y:%H:%M:%S %z")
            .ok()
            .map(|at| at.with_timezone(&Utc))
    })
}

/// One matching line.
struct Hit {
    number: u64,
    text: String,
}

fn search(
    globs: &[String],
    regex: &Regex,
    cutoff: Option<DateTime<Utc>>,
    limit: usize,
    deadline: Instant,
) -> String {
    let (files, mut notes) = files(globs, cutoff);
    if files.is_empty() {
        notes.insert(
            0,
            format!(
                "no log file matches {}{}",
                globs.join(", "),
                if cutoff.is_some() {
                    " and was written in that span"
                } else {
                    ""
                }
            ),
        );
        return notes.join("\n") + "\n";
    }
    let mut budget = MAX_SCAN_BYTES;
    // Newest first, so that the budget goes to what happened last.
    let mut per_file: Vec<(PathBuf, VecDeque<Hit>)> = Vec::new();
    for path in files.iter().rev().map(|file| &file.path) {
        if budget == 0 || Instant::now() > deadline {
            notes.push(format!(
                "{} was not searched: the search ran out of time or bytes",
                path.display()
            ));
            continue;
        }
        match search_file(path, regex, cutoff, limit, deadline, &mut budget) {
            Ok((hits, note)) => {
                notes.extend(note);
                per_file.push((path.clone(), hits));
            }
            Err(why) => notes.push(format!("{}: {why}", path.display())),
        }
    }
    per_file.reverse();
    let mut lines: Vec<String> = per_file
        .iter()
        .flat_map(|(path, hits)| {
            hits.iter()
                .map(move |hit| format!("{}:{}: {}", path.display(), hit.number, hit.text))
        })
        .collect();
    let total = lines.len();
    if total > limit {
        lines.drain(..total - limit);
    }
    let searched: Vec<String> = files
        .iter()
        .map(|file| file.path.display().to_string())
        .collect();
    let mut out = format!(
        "{} matching line{} (newest last{}) in {}\n",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        if total > limit {
            ", older matches left out"
        } else {
            ""
        },
        searched.join(", ")
    );
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    for note in notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The last `limit` matching lines of one file, and a note when it was not read to its end.
fn search_file(
    path: &Path,
    regex: &Regex,
    cutoff: Option<DateTime<Utc>>,
    limit: usize,
    deadline: Instant,
    budget: &mut u64,
) -> Result<(VecDeque<Hit>, Option<String>), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let mut head = [0u8; 8192];
    let read = file
        .read(&mut head)
        .map_err(|e| format!("cannot be read ({e})"))?;
    if looks_binary(&head[..read]) {
        return Err("skipped: it is not text".to_string());
    }
    let file = File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let mut lines = BoundedLines::new(BufReader::with_capacity(64 * 1024, file), MAX_LINE_BYTES);
    let mut line = Vec::new();
    let mut hits = VecDeque::new();
    let mut number = 0u64;
    let mut current_time: Option<DateTime<Utc>> = None;
    let start_budget = *budget;
    while let Some(cut) = lines
        .next_line(&mut line)
        .map_err(|e| format!("read failed ({e})"))?
    {
        number += 1;
        *budget = start_budget.saturating_sub(lines.consumed);
        if number.is_multiple_of(4096) && Instant::now() > deadline {
            return Ok((
                hits,
                Some(format!(
                    "{} was searched up to line {number} only: the search ran out of time",
                    path.display()
                )),
            ));
        }
        if *budget == 0 {
            return Ok((
                hits,
                Some(format!(
                    "{} was searched up to line {number} only: the search read its byte budget",
                    path.display()
                )),
            ));
        }
        let text = String::from_utf8_lossy(&line);
        if let Some(cutoff) = cutoff {
            if let Some(at) = line_time(path, &text) {
                current_time = Some(at);
            }
            if current_time.is_some_and(|at| at < cutoff) {
                continue;
            }
        }
        if regex.is_match(&text) {
            if hits.len() == limit {
                hits.pop_front();
            }
            hits.push_back(Hit {
                number,
                text: shown(&line, SHOWN_CHARS, cut),
            });
        }
    }
    Ok((hits, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_checked_and_case_insensitive() {
        assert!(
            compile("timeout(", true)
                .unwrap_err()
                .contains("not a valid regular expression")
        );
        assert!(
            compile("payment TIMEOUT", true)
                .unwrap()
                .is_match("Payment timeout after 30s")
        );
        assert!(
            !compile("payment TIMEOUT", false)
                .unwrap()
                .is_match("Payment timeout")
        );
        assert!(
            compile("a{1000}{1000}", true).is_err(),
            "huge patterns are refused"
        );
    }

    #[test]
    fn line_times_are_read_from_plain_json_and_access_lines() {
        let path = Path::new("app.log");
        let at = |text: &str| line_time(path, text).map(|t| t.to_rfc3339());
        assert_eq!(
            at("2026-11-24T10:04:00Z ERROR boom").as_deref(),
            Some("2026-11-24T10:04:00+00:00")
        );
        assert_eq!(
            at(r#"{"time":"2026-11-24T10:04:00Z","level":"error","msg":"boom"}"#).as_deref(),
            Some("2026-11-24T10:04:00+00:00")
        );
        assert_eq!(
            at(r#"10.0.0.1 - - [24/Nov/2026:10:04:00 +0000] "GET / HTTP/1.1" 500 1"#).as_deref(),
            Some("2026-11-24T10:04:00+00:00")
        );
        assert_eq!(at("    at com.shop.Cart.add(Cart.java:42)"), None);
    }

    #[test]
    fn only_the_newest_files_of_each_glob_are_searched_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let now = std::time::SystemTime::now();
        for (name, age) in [
            ("app.log", 0),
            ("app.log.1", 100),
            ("app.log.2", 200),
            ("app.log.3", 300),
            ("app.log.4.gz", 10),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, "line\n").unwrap();
            let file = File::options().write(true).open(&path).unwrap();
            file.set_modified(now - Duration::from_secs(age)).unwrap();
        }
        let glob = format!("{}/app.log*", dir.path().display());
        let (found, notes) = files(&[glob.clone(), glob], None);
        let names: Vec<String> = found
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["app.log.2", "app.log.1", "app.log"]);
        assert!(notes.is_empty());
        let (recent, _) = files(
            &[format!("{}/app.log*", dir.path().display())],
            Some(Utc::now() - chrono::Duration::seconds(150)),
        );
        assert_eq!(recent.len(), 2);
        let (none, notes) = files(&[format!("{}/gone/*.log", dir.path().display())], None);
        assert!(none.is_empty());
        assert!(notes[0].contains("cannot be searched"), "{notes:?}");
    }
}

//! The systemd journal, read-only, through `journalctl -o json --no-pager` and nothing else.
//! A read resumes after the journal cursor of the last entry the caller saw (`--after-cursor`),
//! starts from `--since` the first time, and stops after a bounded number of entries, ending
//! the child process and reporting the last cursor read so the next read carries on there.

use super::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

/// Fields asked of journalctl; it always adds `__CURSOR`, `__REALTIME_TIMESTAMP`,
/// `__MONOTONIC_TIMESTAMP` and `_BOOT_ID` (`--output-fields` needs systemd 236 or later).
const OUTPUT_FIELDS: &str = "MESSAGE,PRIORITY,_SYSTEMD_UNIT,SYSLOG_IDENTIFIER";

/// An entry's JSON longer than this is skipped (counted in [`JournalRead::skipped`]).
const MAX_ENTRY_JSON_BYTES: usize = 4 * 1024 * 1024;

/// At most this much of journalctl's standard error is kept for an error message.
const STDERR_KEEP_BYTES: usize = 4096;

/// What journalctl says when `--after-cursor` gets a cursor it cannot use.
const CURSOR_REJECTED: &str = "Failed to seek to cursor";

/// Settings of a journald source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournaldOptions {
    /// The journalctl binary: a name looked up in `PATH`, or a path.
    pub journalctl: PathBuf,
    /// Only entries of these units (`--unit`, any of them).
    pub units: Vec<String>,
    /// Only entries with these syslog identifiers (`--identifier`, any of them). Combined with
    /// `units`, an entry must match both lists.
    pub identifiers: Vec<String>,
    /// Where a read without a cursor starts (`--since`, journalctl's syntax: `-1h`,
    /// `2024-05-01 12:00:00`, `@1714564800`, `today`). `None` starts at the oldest entry.
    pub since: Option<String>,
    /// At most this many entries per read.
    pub max_entries: usize,
    /// A read, child process included, is abandoned after this long.
    pub timeout: Duration,
    /// Longer messages are cut to this many bytes (on a char boundary) and marked.
    pub max_line_bytes: usize,
    /// Read the journal files of this directory instead of the system journal (`--directory`).
    pub directory: Option<PathBuf>,
    /// Read these journal files instead of the system journal (`--file`).
    pub files: Vec<PathBuf>,
}

impl Default for JournaldOptions {
    fn default() -> Self {
        Self {
            journalctl: PathBuf::from("journalctl"),
            units: Vec::new(),
            identifiers: Vec::new(),
            since: None,
            max_entries: 1000,
            timeout: Duration::from_secs(30),
            max_line_bytes: 16 * 1024,
            directory: None,
            files: Vec::new(),
        }
    }
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalLine {
    /// The entry's `__CURSOR`.
    pub cursor: String,
    /// `MESSAGE`, invalid UTF-8 replaced, without a trailing line end; several values are
    /// joined by newlines.
    pub line: String,
    /// Normalized level from `PRIORITY`: 0-2 `FATAL` (emerg, alert, crit), 3 `ERROR`,
    /// 4 `WARN`, 5 `NOTICE`, 6 `INFO`, 7 `DEBUG`.
    pub level: Option<String>,
    /// `PRIORITY` as a number, 0 (emerg) to 7 (debug).
    pub priority: Option<u8>,
    /// `__REALTIME_TIMESTAMP`.
    pub at: Option<DateTime<Utc>>,
    /// `_SYSTEMD_UNIT`.
    pub unit: Option<String>,
    /// `SYSLOG_IDENTIFIER`.
    pub identifier: Option<String>,
    /// The message was longer than `max_line_bytes` and was cut.
    pub truncated: bool,
}

/// The result of one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRead {
    /// Entries in journal order.
    pub lines: Vec<JournalLine>,
    /// The cursor to persist and pass to the next read: the last entry's, or the one given
    /// when nothing new was read. `None` only when there was no cursor and nothing was read.
    pub cursor: Option<String>,
    /// `max_entries` were read and more are waiting.
    pub more: bool,
    /// Set when journalctl rejected the given cursor and the read restarted from `since`.
    pub restarted: Option<String>,
    /// Entries that were not valid JSON objects with a `__CURSOR`, or were too large.
    pub skipped: usize,
}

/// A configured journald source.
#[derive(Debug, Clone)]
pub struct JournaldSource {
    name: String,
    options: JournaldOptions,
}

enum RunError {
    Source(SourceError),
    CursorRejected(String),
}

impl JournaldSource {
    pub fn new(name: &str, options: JournaldOptions) -> Self {
        Self {
            name: name.to_string(),
            options,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads the entries after `cursor` (or from `since` when `None`), at most `max_entries`.
    pub async fn read(&self, cursor: Option<&str>) -> Result<JournalRead, SourceError> {
        self.read_from(cursor, None).await
    }

    /// Like [`Self::read`], but a read without a cursor starts at `since` (journalctl's syntax,
    /// e.g. `@1714564800`) instead of the source's own `since`.
    pub async fn read_from(
        &self,
        cursor: Option<&str>,
        since: Option<&str>,
    ) -> Result<JournalRead, SourceError> {
        let since = since.or(self.options.since.as_deref());
        match self.run(cursor, since).await {
            Ok(read) => Ok(read),
            Err(RunError::Source(error)) => Err(error),
            Err(RunError::CursorRejected(stderr)) => {
                let from = match since {
                    Some(since) => format!("--since={since}"),
                    None => "the oldest entry".to_string(),
                };
                let mut read = match self.run(None, since).await {
                    Ok(read) => read,
                    Err(RunError::Source(error)) => return Err(error),
                    Err(RunError::CursorRejected(stderr)) => {
                        return Err(self.error(SourceErrorKind::BadResponse, stderr));
                    }
                };
                read.restarted = Some(format!(
                    "journalctl rejected the saved cursor ({stderr}); restarted from {from}"
                ));
                Ok(read)
            }
        }
    }

    /// The arguments journalctl is run with.
    fn args(&self, cursor: Option<&str>, since: Option<&str>) -> Vec<OsString> {
        let options = &self.options;
        let mut args: Vec<OsString> = ["-o", "json", "--no-pager", "--all"]
            .iter()
            .map(OsString::from)
            .collect();
        args.push(format!("--output-fields={OUTPUT_FIELDS}").into());
        if let Some(directory) = &options.directory {
            let mut arg = OsString::from("--directory=");
            arg.push(directory);
            args.push(arg);
        }
        for file in &options.files {
            let mut arg = OsString::from("--file=");
            arg.push(file);
            args.push(arg);
        }
        for unit in &options.units {
            args.push(format!("--unit={unit}").into());
        }
        for identifier in &options.identifiers {
            args.push(format!("--identifier={identifier}").into());
        }
        match (cursor, since) {
            (Some(cursor), _) => args.push(format!("--after-cursor={cursor}").into()),
            (None, Some(since)) => args.push(format!("--since={since}").into()),
            (None, None) => {}
        }
        args
    }

    fn error(&self, kind: SourceErrorKind, detail: impl Into<String>) -> SourceError {
        SourceError::new(&self.name, kind, detail)
    }

    async fn run(
        &self,
        cursor: Option<&str>,
        since: Option<&str>,
    ) -> Result<JournalRead, RunError> {
        let binary = &self.options.journalctl;
        let mut child = Command::new(binary)
            .args(self.args(cursor, since))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                let detail = match e.kind() {
                    std::io::ErrorKind::NotFound => format!(
                        "journalctl not found: journald source needs systemd's journalctl \
                         (looked for {})",
                        binary.display()
                    ),
                    _ => format!("cannot run {}: {e}", binary.display()),
                };
                RunError::Source(self.error(SourceErrorKind::Unreachable, detail))
            })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(RunError::Source(self.error(
                SourceErrorKind::Unreachable,
                "journalctl started without its output pipes",
            )));
        };
        let stderr_task = tokio::spawn(keep_head(stderr));
        let mut stdout = BufReader::new(stdout);
        let reading = tokio::time::timeout(self.options.timeout, async {
            let read = self.collect(&mut stdout, cursor).await?;
            let status = if read.more {
                // Enough read: the rest is for the next read.
                let _ = child.start_kill();
                let _ = child.wait().await;
                None
            } else {
                Some(child.wait().await?)
            };
            Ok::<_, std::io::Error>((read, status))
        })
        .await;
        let outcome = match reading {
            Err(_) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                Err(self.error(
                    SourceErrorKind::Timeout,
                    format!(
                        "journalctl did not finish within {:?}",
                        self.options.timeout
                    ),
                ))
            }
            Ok(Err(e)) => Err(self.error(
                SourceErrorKind::BadResponse,
                format!("reading journalctl's output: {e}"),
            )),
            Ok(Ok(done)) => Ok(done),
        };
        drop(stdout);
        // A grandchild may hold the pipe open; the message is not worth waiting long for.
        let stderr_text = tokio::time::timeout(Duration::from_secs(1), stderr_task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let (read, status) = outcome.map_err(RunError::Source)?;
        if let Some(status) = status
            && !status.success()
        {
            let excerpt = stderr_excerpt(&stderr_text);
            if cursor.is_some() && stderr_text.contains(CURSOR_REJECTED) {
                return Err(RunError::CursorRejected(excerpt));
            }
            return Err(RunError::Source(self.error(
                SourceErrorKind::BadResponse,
                format!("journalctl exited with {status}: {excerpt}"),
            )));
        }
        Ok(read)
    }

    /// Reads entries until EOF or until one more than `max_entries` shows up.
    async fn collect<R: AsyncBufRead + Unpin>(
        &self,
        stdout: &mut R,
        cursor: Option<&str>,
    ) -> std::io::Result<JournalRead> {
        let mut read = JournalRead {
            lines: Vec::new(),
            cursor: cursor.map(str::to_string),
            more: false,
            restarted: None,
            skipped: 0,
        };
        let mut buffer = Vec::new();
        while let Some(too_long) =
            read_line_bounded(stdout, &mut buffer, MAX_ENTRY_JSON_BYTES).await?
        {
            if !too_long && !buffer.trim_ascii_start().starts_with(b"{") {
                // Not an entry (an empty line, a "-- No entries --" notice).
                continue;
            }
            if read.lines.len() >= self.options.max_entries {
                read.more = true;
                break;
            }
            if too_long {
                read.skipped += 1;
                continue;
            }
            match parse_entry(&buffer, self.options.max_line_bytes) {
                Some(line) => {
                    read.cursor = Some(line.cursor.clone());
                    read.lines.push(line);
                }
                None => read.skipped += 1,
            }
        }
        Ok(read)
    }
}

/// Reads one line into `buffer` (without the newline). `None` at the end of the input;
/// `Some(true)` when the line was longer than `max` (its bytes are consumed, not kept).
async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buffer: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buffer.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let (part, consumed, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if buffer.len() + part.len() > max {
                too_long = true;
                buffer.clear();
            } else {
                buffer.extend_from_slice(part);
            }
        }
        reader.consume(consumed);
        if done {
            return Ok(Some(too_long));
        }
    }
}

/// Keeps the first bytes of a stream and drains the rest.
async fn keep_head<R: tokio::io::AsyncRead + Unpin>(mut reader: R) -> String {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 1024];
    while let Ok(n) = reader.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        let room = STDERR_KEEP_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

fn stderr_excerpt(stderr: &str) -> String {
    let text: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(5)
        .collect();
    if text.is_empty() {
        "(nothing on standard error)".to_string()
    } else {
        text.join(" / ")
    }
}

/// Text of a field as journalctl's JSON encodes it: a string; an array of byte values for
/// data that is not valid UTF-8 (or not printable); an array of such values for a field set
/// several times; `null` for a value it would not print.
fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) if items.iter().all(Value::is_number) => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            bytes.map(|b| String::from_utf8_lossy(&b).into_owned())
        }
        Value::Array(items) => {
            let values: Vec<String> = items.iter().filter_map(field_text).collect();
            (!values.is_empty()).then(|| values.join("\n"))
        }
        _ => None,
    }
}

/// Parses one line of `journalctl -o json`. `None` when it is not an object with a cursor.
fn parse_entry(json: &[u8], max_line_bytes: usize) -> Option<JournalLine> {
    let value: Value = serde_json::from_slice(json).ok()?;
    let entry = value.as_object()?;
    let cursor = entry.get("__CURSOR")?.as_str()?.to_string();
    let text = |key: &str| entry.get(key).and_then(field_text);
    let at = text("__REALTIME_TIMESTAMP")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_micros);
    let priority = text("PRIORITY")
        .and_then(|p| p.trim().parse::<u8>().ok())
        .filter(|p| *p <= 7);
    let level = priority.map(|p| {
        match p {
            0..=2 => "FATAL",
            3 => "ERROR",
            4 => "WARN",
            5 => "NOTICE",
            6 => "INFO",
            _ => "DEBUG",
        }
        .to_string()
    });
    let mut line = text("MESSAGE").unwrap_or_default();
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
    let truncated = line.len() > max_line_bytes;
    if truncated {
        let mut end = max_line_bytes;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    Some(JournalLine {
        cursor,
        line,
        level,
        priority,
        at,
        unit: text("_SYSTEMD_UNIT"),
        identifier: text("SYSLOG_IDENTIFIER"),
        truncated,
    })
}

impl super::registry::Source for JournaldSource {
    fn kind(&self) -> &'static str {
        "journald"
    }

    fn check(&self) -> futures_util::future::BoxFuture<'_, super::registry::Finding> {
        use super::registry::Finding;
        Box::pin(async move {
            match self.read(None).await {
                Ok(read) if read.lines.is_empty() => Finding::Warning(
                    "readable, but nothing in the last hour: check `units`".to_string(),
                ),
                Ok(read) => Finding::Ok(format!(
                    "readable: {}{} entries in the last hour",
                    read.lines.len(),
                    if read.more { "+" } else { "" }
                )),
                Err(error) => Finding::Fail(format!("cannot read the journal: {error}")),
            }
        })
    }

    fn journal(&self) -> Option<&JournaldSource> {
        Some(self)
    }
}

#[cfg(test)]
mod tests;

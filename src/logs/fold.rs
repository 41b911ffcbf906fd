//! Multi-line folding: turns a stream of raw log lines into events, joining
//! the continuation lines of stack traces (Python, Java, Go, Rust, Node)
//! onto the line that starts them. Memory per event is capped.

use crate::logs::tokenize::{decode_lossy, truncate_on_char_boundary};

/// Limits applied while folding.
#[derive(Debug, Clone)]
pub struct FoldConfig {
    /// Lines kept per event; further continuation lines are counted and
    /// dropped.
    pub max_lines_per_event: usize,
    /// Bytes kept per line; longer lines are truncated on a char boundary.
    pub max_line_bytes: usize,
}

impl Default for FoldConfig {
    fn default() -> Self {
        Self {
            max_lines_per_event: 200,
            max_line_bytes: 4096,
        }
    }
}

/// One folded event: its first line plus any continuation lines, joined
/// by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FoldedEvent {
    /// Lines of the event joined by `\n`.
    pub text: String,
    /// Number of lines kept in `text`.
    pub line_count: usize,
    /// Continuation lines dropped because the event reached its line cap.
    pub dropped_lines: usize,
}

impl FoldedEvent {
    /// The line that started the event.
    pub fn first_line(&self) -> &str {
        self.text.split('\n').next().unwrap_or("")
    }

    /// True when the event spans more than one line.
    pub fn is_multi_line(&self) -> bool {
        self.line_count > 1 || self.dropped_lines > 0
    }
}

/// Which kind of trace the current event is in, if any; decides which
/// unindented lines still belong to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TraceState {
    None,
    /// Inside a Python traceback, before its final `Type: message` line.
    Python,
    /// After a Go `panic:` or `fatal error:` line.
    Go,
    /// After a Rust panic header ending in `:`; the next line is the message.
    RustMessage,
    /// Inside a Rust panic report (backtrace, notes).
    Rust,
}

/// Streaming folder: feed lines with [`LineFolder::push`], which returns an
/// event whenever a new one starts, and call [`LineFolder::flush`] at the
/// end of input to get the last one.
#[derive(Debug, Clone)]
pub struct LineFolder {
    config: FoldConfig,
    current: Option<FoldedEvent>,
    state: TraceState,
}

impl LineFolder {
    /// Creates a folder with the given limits.
    pub fn new(config: FoldConfig) -> Self {
        Self {
            config,
            current: None,
            state: TraceState::None,
        }
    }

    /// Adds raw bytes (decoded lossily) as one line.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Option<FoldedEvent> {
        let limit = self
            .config
            .max_line_bytes
            .saturating_add(4)
            .min(bytes.len());
        let decoded = decode_lossy(&bytes[..limit]);
        self.push(&decoded)
    }

    /// Adds one line (a trailing `\r` is removed). Returns the previous
    /// event when this line starts a new one.
    pub fn push(&mut self, line: &str) -> Option<FoldedEvent> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (line, _) = truncate_on_char_boundary(line, self.config.max_line_bytes);
        if line.trim().is_empty() {
            // Blank lines belong to Python and Go reports; elsewhere they
            // carry nothing and are skipped.
            if matches!(self.state, TraceState::Python | TraceState::Go) {
                self.append(line);
            }
            return None;
        }
        if self.current.is_some() && self.continues(line) {
            self.append(line);
            return None;
        }
        let finished = self.current.take();
        self.state = starting_state(line);
        self.current = Some(FoldedEvent {
            text: line.to_owned(),
            line_count: 1,
            dropped_lines: 0,
        });
        finished
    }

    /// An event is in progress (a line was pushed and not yet returned).
    pub fn is_holding(&self) -> bool {
        self.current.is_some()
    }

    /// Returns the event in progress, if any, and resets the folder.
    pub fn flush(&mut self) -> Option<FoldedEvent> {
        self.state = TraceState::None;
        self.current.take()
    }

    fn append(&mut self, line: &str) {
        let Some(event) = self.current.as_mut() else {
            return;
        };
        if event.line_count >= self.config.max_lines_per_event {
            event.dropped_lines += 1;
            return;
        }
        event.text.push('\n');
        event.text.push_str(line);
        event.line_count += 1;
    }

    /// Decides whether `line` continues the current event, updating the
    /// trace state.
    fn continues(&mut self, line: &str) -> bool {
        let indented = line.starts_with([' ', '\t']);
        let trimmed = line.trim_start();
        match self.state {
            TraceState::RustMessage => {
                self.state = TraceState::Rust;
                return true;
            }
            TraceState::Rust => {
                if trimmed.starts_with("note:") {
                    self.state = TraceState::None;
                    return true;
                }
                return indented || trimmed.starts_with("stack backtrace:");
            }
            TraceState::Go => {
                if trimmed.starts_with("exit status ") {
                    self.state = TraceState::None;
                    return true;
                }
                if indented
                    || trimmed.starts_with("goroutine ")
                    || trimmed.starts_with("created by ")
                    || trimmed.starts_with("[signal ")
                    || trimmed.starts_with("panic: ")
                    || is_go_function_frame(trimmed)
                {
                    return true;
                }
                self.state = TraceState::None;
                return false;
            }
            TraceState::Python => {
                if !indented && !trimmed.starts_with("Traceback (most recent call last)") {
                    // The exception line ends the traceback.
                    self.state = TraceState::None;
                }
                return true;
            }
            TraceState::None => {}
        }
        if trimmed.starts_with("Traceback (most recent call last)")
            || trimmed.starts_with("During handling of the above exception")
            || trimmed.starts_with("The above exception was the direct cause")
        {
            self.state = TraceState::Python;
            return true;
        }
        indented
            || trimmed.starts_with("Caused by:")
            || trimmed.starts_with("Suppressed:")
            || (trimmed.starts_with("...") && trimmed.ends_with("more"))
            || is_qualified_exception_line(trimmed)
    }
}

impl Default for LineFolder {
    fn default() -> Self {
        Self::new(FoldConfig::default())
    }
}

/// The trace state implied by a line that starts an event.
fn starting_state(line: &str) -> TraceState {
    if line.starts_with("Traceback (most recent call last)") {
        TraceState::Python
    } else if line.starts_with("panic: ") || line.starts_with("fatal error: ") {
        TraceState::Go
    } else if line.starts_with("thread '") && line.contains(" panicked at ") {
        if line.trim_end().ends_with(':') {
            TraceState::RustMessage
        } else {
            TraceState::Rust
        }
    } else {
        TraceState::None
    }
}

/// A Go stack frame's function line: `main.run(...)`, `net/http.(*conn).serve(0xc0)`.
fn is_go_function_frame(line: &str) -> bool {
    let Some(open) = line.find('(') else {
        return false;
    };
    line.ends_with(')') && open > 0 && !line[..open].contains(' ') && line[..open].contains('.')
}

/// A line that starts with a package-qualified exception class, as printed
/// after a log message by JVM loggers: `java.io.IOException: disk full`.
fn is_qualified_exception_line(line: &str) -> bool {
    let name = line.split(':').next().unwrap_or("");
    let name = name.trim_end();
    name.contains('.')
        && (name.ends_with("Exception") || name.ends_with("Error") || name.ends_with("Throwable"))
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold_all(text: &str) -> Vec<FoldedEvent> {
        let mut folder = LineFolder::default();
        let mut events: Vec<FoldedEvent> =
            text.lines().filter_map(|line| folder.push(line)).collect();
        events.extend(folder.flush());
        events
    }

    #[test]
    fn folds_python_traceback_with_chained_exception() {
        let text = "2024-05-01 10:00:00 ERROR job failed\n\
Traceback (most recent call last):\n  File \"/srv/app/jobs.py\", line 10, in run\n    do()\n\
KeyError: 'user'\n\nDuring handling of the above exception, another exception occurred:\n\n\
Traceback (most recent call last):\n  File \"/srv/app/jobs.py\", line 12, in run\n    raise ValueError('bad')\n\
ValueError: bad\n2024-05-01 10:00:01 INFO next job";
        let events = fold_all(text);
        assert_eq!(events.len(), 2);
        assert!(events[0].text.contains("KeyError: 'user'"));
        assert!(events[0].text.ends_with("ValueError: bad"));
        assert_eq!(events[1].first_line(), "2024-05-01 10:00:01 INFO next job");
    }

    #[test]
    fn folds_java_exception_with_causes() {
        let text = "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\
\tat com.acme.App.run(App.java:10)\n\tat com.acme.App.main(App.java:5)\n\
Caused by: java.io.IOException: disk\n\tat com.acme.Store.write(Store.java:20)\n\t... 1 more\n\
12:00:01 INFO recovered\n\
12:00:02 ERROR write failed\njava.io.UncheckedIOException: closed\n\tat com.acme.Store.flush(Store.java:31)";
        let events = fold_all(text);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].line_count, 6);
        assert_eq!(events[1].text, "12:00:01 INFO recovered");
        assert_eq!(events[2].line_count, 3);
    }

    #[test]
    fn folds_go_panic() {
        let text = "panic: runtime error: index out of range [5] with length 3\n\n\
goroutine 1 [running]:\nmain.lookup(...)\n\t/home/dev/svc/main.go:8\n\
main.main()\n\t/home/dev/svc/main.go:14 +0x1d\nexit status 2\nserver restarted";
        let events = fold_all(text);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].line_count, 8);
        assert_eq!(events[1].text, "server restarted");
    }

    #[test]
    fn folds_rust_panic_with_backtrace() {
        let text = [
            "thread 'main' (4242) panicked at src/main.rs:4:5:",
            "index out of bounds",
            "stack backtrace:",
            "   0: rust_begin_unwind",
            "             at /rustc/abc/library/std/src/panicking.rs:645:5",
            "   1: svc::handler::load",
            "             at ./src/handler.rs:4:5",
            "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
            "listening on 0.0.0.0:80",
        ]
        .join("\n");
        let events = fold_all(&text);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].line_count, 8);
        assert_eq!(events[1].text, "listening on 0.0.0.0:80");
    }

    #[test]
    fn folds_node_stack() {
        let text = [
            "TypeError: Cannot read properties of undefined (reading 'id')",
            "    at getUser (/srv/api/src/users.js:14:20)",
            "    at Layer.handle (/srv/api/node_modules/express/lib/router/layer.js:95:5)",
            "    at node:internal/process/task_queues:95:5",
            "GET /health 200",
        ]
        .join("\n");
        let events = fold_all(&text);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].line_count, 4);
    }

    #[test]
    fn single_lines_stay_separate_and_blank_lines_are_skipped() {
        let events = fold_all("a one\n\nb two\nc three");
        let firsts: Vec<&str> = events.iter().map(FoldedEvent::first_line).collect();
        assert_eq!(firsts, vec!["a one", "b two", "c three"]);
        assert!(events.iter().all(|event| !event.is_multi_line()));
    }

    #[test]
    fn caps_lines_per_event() {
        let mut folder = LineFolder::new(FoldConfig {
            max_lines_per_event: 5,
            max_line_bytes: 64,
        });
        assert!(
            folder
                .push("Exception in thread \"main\" java.lang.Error: x")
                .is_none()
        );
        for index in 0..1000 {
            assert!(
                folder
                    .push(&format!("\tat a.B.c{index}(B.java:1)"))
                    .is_none()
            );
        }
        let event = folder.flush().unwrap();
        assert_eq!(event.line_count, 5);
        assert_eq!(event.dropped_lines, 996);
        assert!(folder.flush().is_none());
    }

    #[test]
    fn survives_binary_and_long_lines() {
        let mut folder = LineFolder::default();
        let long = vec![b'x'; 1 << 20];
        assert!(folder.push_bytes(&long).is_none());
        let event = folder.push_bytes(b"\xff\xfe\0\x01 junk").unwrap();
        assert!(event.text.len() <= 4096);
        let last = folder.flush().unwrap();
        assert!(last.text.contains('\u{fffd}'));
    }
}

//! Stack-trace fingerprinting: reduces a folded event to the exception type
//! plus the top frames in the application's own code, with line numbers,
//! addresses and messages stripped, so that the same bug reported from
//! different log lines (other timestamps, values, line numbers after a
//! deploy) yields one signature.

use crate::logs::mask::{MaskedLine, mask_line};

/// Which runtime produced the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceLanguage {
    /// `Traceback (most recent call last):` reports.
    Python,
    /// JVM exceptions with `at pkg.Class.method(File.java:N)` frames.
    Java,
    /// `panic:` / `fatal error:` with goroutine stacks.
    Go,
    /// `thread '...' panicked at` reports, with or without a backtrace.
    Rust,
    /// Node.js errors with `at fn (file:line:col)` frames.
    Node,
}

/// How frames are chosen.
#[derive(Debug, Clone)]
pub struct FingerprintConfig {
    /// Number of application frames (innermost first) in the signature.
    pub top_frames: usize,
    /// Path or qualified-name prefixes of the application's own code. When
    /// empty, any frame not recognised as standard library or third-party
    /// code counts as application code.
    pub app_prefixes: Vec<String>,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        Self {
            top_frames: 3,
            app_prefixes: Vec::new(),
        }
    }
}

/// The identity of an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Runtime that produced the trace.
    pub language: TraceLanguage,
    /// Exception class (Python, Java, Node) or masked panic message (Go, Rust).
    pub exception_type: String,
    /// Application frames, innermost first, without line numbers.
    pub frames: Vec<String>,
    /// `exception_type` and `frames` joined by `|`.
    pub signature: String,
    /// Stable 64-bit FNV-1a hash of `signature`.
    pub hash: u64,
}

/// Fingerprints a folded event, or returns `None` when it holds no
/// recognisable stack trace or panic.
pub fn fingerprint(event: &str, config: &FingerprintConfig) -> Option<Fingerprint> {
    let lines: Vec<&str> = event.lines().collect();
    let (language, exception_type, frames) = if event.contains("Traceback (most recent call last)")
    {
        python(&lines)
    } else if lines.iter().any(|line| is_rust_panic_header(line)) {
        rust(&lines)
    } else if lines
        .iter()
        .any(|line| line.starts_with("panic: ") || line.starts_with("fatal error: "))
    {
        go(&lines)
    } else if lines.iter().any(|line| java_frame(line).is_some()) {
        java(&lines)
    } else if lines.iter().any(|line| node_frame(line).is_some()) {
        node(&lines)
    } else {
        return None;
    };
    let exception_type = exception_type?;
    let mut app_frames: Vec<String> = Vec::new();
    for frame in frames {
        if app_frames.len() >= config.top_frames {
            break;
        }
        let is_app = if config.app_prefixes.is_empty() {
            !is_library_frame(language, &frame)
        } else {
            config.app_prefixes.iter().any(|prefix| {
                frame.location.starts_with(prefix.as_str())
                    || frame.name.starts_with(prefix.as_str())
            })
        };
        if is_app {
            app_frames.push(frame.name);
        }
    }
    let mut signature = exception_type.clone();
    for frame in &app_frames {
        signature.push('|');
        signature.push_str(frame);
    }
    Some(Fingerprint {
        language,
        hash: fnv1a(signature.as_bytes()),
        exception_type,
        frames: app_frames,
        signature,
    })
}

/// A frame: a stable name (function plus file, no line) and the location
/// (path or qualified name) used for the application-code test.
struct Frame {
    name: String,
    location: String,
}

type Parsed = (TraceLanguage, Option<String>, Vec<Frame>);

fn python(lines: &[&str]) -> Parsed {
    // The last traceback is the exception actually raised.
    let start = lines
        .iter()
        .rposition(|line| line.contains("Traceback (most recent call last)"))
        .unwrap_or(0);
    let mut frames = Vec::new();
    let mut exception = None;
    for line in &lines[start + 1..] {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("File \"") {
            let Some((path, after)) = rest.split_once('"') else {
                continue;
            };
            let function = after
                .rsplit_once(", in ")
                .map_or("", |(_, name)| name.trim());
            frames.push(Frame {
                name: format!("{path}:{function}"),
                location: path.to_owned(),
            });
        } else if !line.starts_with([' ', '\t']) && !trimmed.is_empty() {
            let name = trimmed.split(':').next().unwrap_or("").trim();
            if is_qualified_identifier(name) {
                exception = Some(name.to_owned());
            }
        }
    }
    frames.reverse();
    (TraceLanguage::Python, exception, frames)
}

fn java(lines: &[&str]) -> Parsed {
    // The root cause (last `Caused by:`) names the actual failure.
    let header = lines
        .iter()
        .rposition(|line| line.trim_start().starts_with("Caused by:"))
        .or_else(|| {
            lines
                .iter()
                .position(|line| java_exception_name(line).is_some())
        })
        .unwrap_or(0);
    let exception = java_exception_name(lines[header]);
    let mut frames = Vec::new();
    for line in &lines[header + 1..] {
        if line.trim_start().starts_with("Caused by:") {
            break;
        }
        if let Some(name) = java_frame(line) {
            frames.push(Frame {
                name: name.to_owned(),
                location: name.to_owned(),
            });
        }
    }
    (TraceLanguage::Java, exception, frames)
}

/// Exception class named on a header line: `Exception in thread "x" a.B: m`,
/// `Caused by: a.B: m`, or `a.B: m`.
fn java_exception_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    if let Some(after) = rest.strip_prefix("Exception in thread \"") {
        rest = after.split_once("\" ").map_or("", |(_, tail)| tail);
    }
    rest = rest.strip_prefix("Caused by: ").unwrap_or(rest);
    let name = rest.split(':').next().unwrap_or("").trim();
    (is_qualified_identifier(name) && name.contains('.')).then(|| name.to_owned())
}

/// `at com.acme.App.run(App.java:10)` gives `com.acme.App.run`.
fn java_frame(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("at ")?;
    let (name, location) = rest.split_once('(')?;
    let plausible = !name.is_empty()
        && !name.contains(' ')
        && name.contains('.')
        && (location.contains(".java:")
            || location.contains(".kt:")
            || location.contains(".scala:")
            || location.starts_with("Native Method")
            || location.starts_with("Unknown Source"));
    plausible.then_some(name)
}

fn go(lines: &[&str]) -> Parsed {
    let header = lines
        .iter()
        .position(|line| line.starts_with("panic: ") || line.starts_with("fatal error: "))
        .unwrap_or(0);
    let exception = Some(masked_text(lines[header]));
    let mut frames = Vec::new();
    let mut seen_goroutine = false;
    let mut index = header + 1;
    while index < lines.len() {
        let line = lines[index];
        if line.starts_with("goroutine ") {
            if seen_goroutine {
                break;
            }
            seen_goroutine = true;
        } else if seen_goroutine && !line.starts_with([' ', '\t']) && line.ends_with(')') {
            let function = line.rsplit_once('(').map_or(line, |(name, _)| name);
            let function = function.strip_prefix("created by ").unwrap_or(function);
            let path = lines
                .get(index + 1)
                .map(|next| next.trim())
                .and_then(|next| next.rsplit_once(':'))
                .map_or("", |(path, _)| path);
            frames.push(Frame {
                name: function.to_owned(),
                location: path.to_owned(),
            });
        }
        index += 1;
    }
    (TraceLanguage::Go, exception, frames)
}

fn is_rust_panic_header(line: &str) -> bool {
    // `thread 'main' panicked at`, or with the thread id since Rust 1.88:
    // `thread 'main' (4242) panicked at`.
    line.starts_with("thread '") && line.contains(" panicked at ")
}

fn rust(lines: &[&str]) -> Parsed {
    let header = lines
        .iter()
        .position(|line| is_rust_panic_header(line))
        .unwrap_or(0);
    let header_line = lines[header];
    let after = header_line
        .split_once(" panicked at ")
        .map_or("", |(_, rest)| rest)
        .trim_end();
    // New format: `panicked at path:line:col:` and the message on the next
    // line; old format: `panicked at 'message', path:line:col`.
    let (message, location) = if let Some(location) = after.strip_suffix(':') {
        (lines.get(header + 1).copied().unwrap_or(""), location)
    } else if let Some((message, location)) = after.rsplit_once("', ") {
        (message.trim_start_matches('\''), location)
    } else {
        ("", after)
    };
    let exception = Some(format!("panic: {}", masked_text(message)));
    let mut frames = Vec::new();
    let mut index = header + 1;
    while index < lines.len() {
        let trimmed = lines[index].trim_start();
        if let Some((number, name)) = trimmed.split_once(": ")
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
        {
            let path = lines
                .get(index + 1)
                .map(|next| next.trim_start())
                .and_then(|next| next.strip_prefix("at "))
                .map_or("", strip_line_and_column);
            frames.push(Frame {
                name: strip_rust_hash(name.trim()).to_owned(),
                location: path.to_owned(),
            });
        }
        index += 1;
    }
    if frames.is_empty() {
        let path = strip_line_and_column(location);
        frames.push(Frame {
            name: path.to_owned(),
            location: path.to_owned(),
        });
    }
    (TraceLanguage::Rust, exception, frames)
}

/// `svc::load::h1a2b3c4d5e6f7a8b` gives `svc::load`.
fn strip_rust_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((base, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            base
        }
        _ => name,
    }
}

fn node(lines: &[&str]) -> Parsed {
    let exception = lines.iter().find_map(|line| {
        let name = line.trim_start().split(':').next().unwrap_or("").trim();
        (is_qualified_identifier(name) && (name.ends_with("Error") || name.ends_with("Exception")))
            .then(|| name.to_owned())
    });
    let frames = lines
        .iter()
        .filter_map(|line| node_frame(line))
        .map(|(function, path)| Frame {
            name: if function.is_empty() {
                path.to_owned()
            } else {
                format!("{function}@{path}")
            },
            location: path.to_owned(),
        })
        .collect();
    (TraceLanguage::Node, exception, frames)
}

/// `at fn (file:line:col)` or `at file:line:col`, as (function, file).
fn node_frame(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix("at ")?;
    let (function, location) = match rest.rsplit_once(" (") {
        Some((function, location)) => (function.trim(), location.trim_end_matches(')')),
        None => ("", rest),
    };
    let path = strip_line_and_column(location);
    (path.len() < location.len()).then_some((function, path))
}

/// Removes trailing `:line` and `:line:col` from a location.
fn strip_line_and_column(location: &str) -> &str {
    let mut path = location.trim();
    for _ in 0..2 {
        match path.rsplit_once(':') {
            Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
                path = head
            }
            _ => break,
        }
    }
    path
}

/// Standard-library and third-party frames of each runtime.
fn is_library_frame(language: TraceLanguage, frame: &Frame) -> bool {
    let location = frame.location.as_str();
    let name = frame.name.as_str();
    match language {
        TraceLanguage::Python => {
            location.contains("site-packages")
                || location.contains("dist-packages")
                || location.contains("/lib/python")
                || location.starts_with('<')
        }
        TraceLanguage::Java => [
            "java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix)),
        TraceLanguage::Go => {
            location.contains("/go/src/")
                || location.contains("/pkg/mod/")
                || name.starts_with("runtime.")
                || name == "panic"
        }
        TraceLanguage::Rust => {
            [
                "std::",
                "core::",
                "alloc::",
                "rust_begin_unwind",
                "__rust",
                "<alloc::",
                "<core::",
                "<std::",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
                || location.contains("/rustc/")
                || location.contains("/.cargo/registry/")
        }
        TraceLanguage::Node => {
            location.starts_with("node:")
                || location.starts_with("internal/")
                || location.contains("node_modules")
        }
    }
}

/// Letters, digits, `_`, `$` and `.`, starting with a letter or `_`.
fn is_qualified_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.'))
}

fn masked_text(text: &str) -> String {
    let mut masked = MaskedLine::new();
    mask_line(text, &mut masked);
    masked.joined()
}

/// 64-bit FNV-1a: stable across builds and platforms, so signatures can be
/// persisted.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(event: &str) -> Fingerprint {
        fingerprint(event, &FingerprintConfig::default()).unwrap()
    }

    const PYTHON: &str = concat!(
        "2024-05-01 10:00:00 ERROR order 991 failed\n",
        "Traceback (most recent call last):\n",
        "  File \"/srv/shop/worker.py\", line 40, in handle\n",
        "    charge(order)\n",
        "  File \"/srv/shop/billing.py\", line 12, in charge\n",
        "    client.post(url)\n",
        "  File \"/usr/lib/python3.11/site-packages/requests/api.py\", line 115, in post\n",
        "    return request()\n",
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pay', port=443)",
    );

    #[test]
    fn python_signature_ignores_lines_messages_and_library_frames() {
        let first = print(PYTHON);
        assert_eq!(first.language, TraceLanguage::Python);
        assert_eq!(first.exception_type, "requests.exceptions.ConnectionError");
        assert_eq!(
            first.frames,
            vec!["/srv/shop/billing.py:charge", "/srv/shop/worker.py:handle"]
        );
        let moved = PYTHON
            .replace("line 40", "line 44")
            .replace("order 991", "order 7")
            .replace("port=443", "port=8443");
        assert_eq!(print(&moved).hash, first.hash);
        let other_bug = PYTHON.replace("in charge", "in refund");
        assert_ne!(print(&other_bug).hash, first.hash);
    }

    #[test]
    fn python_chained_exception_uses_last_traceback() {
        let event = "Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in f\n\
KeyError: 'k'\n\nDuring handling of the above exception, another exception occurred:\n\n\
Traceback (most recent call last):\n  File \"/app/a.py\", line 3, in f\nValueError: bad";
        let fingerprint = print(event);
        assert_eq!(fingerprint.exception_type, "ValueError");
        assert_eq!(fingerprint.frames, vec!["/app/a.py:f"]);
    }

    const JAVA: &str = "Exception in thread \"main\" java.lang.IllegalStateException: store failed\n\
\tat com.acme.App.run(App.java:10)\n\tat com.acme.App.main(App.java:5)\n\
Caused by: java.io.IOException: No space left on device\n\
\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)\n\
\tat java.io.FileOutputStream.write(FileOutputStream.java:354)\n\
\tat com.acme.Store.write(Store.java:20)\n\tat com.acme.App.run(App.java:9)\n\t... 1 more";

    #[test]
    fn java_signature_uses_root_cause_and_app_frames() {
        let fingerprint = print(JAVA);
        assert_eq!(fingerprint.language, TraceLanguage::Java);
        assert_eq!(fingerprint.exception_type, "java.io.IOException");
        assert_eq!(fingerprint.frames[0], "com.acme.Store.write");
        assert!(
            fingerprint
                .frames
                .iter()
                .all(|frame| !frame.starts_with("java"))
        );
        let relined = JAVA.replace("Store.java:20", "Store.java:27");
        assert_eq!(print(&relined).signature, fingerprint.signature);
    }

    #[test]
    fn java_app_prefixes_select_frames() {
        let config = FingerprintConfig {
            top_frames: 1,
            app_prefixes: vec!["com.acme.App".into()],
        };
        let fingerprint = fingerprint(JAVA, &config).unwrap();
        assert_eq!(fingerprint.frames, vec!["com.acme.App.run"]);
    }

    #[test]
    fn go_panic_signature() {
        let event = "panic: runtime error: index out of range [5] with length 3\n\n\
goroutine 1 [running]:\nmain.lookup(...)\n\t/home/dev/svc/main.go:8\n\
main.main()\n\t/home/dev/svc/main.go:14 +0x1d\nexit status 2";
        let fingerprint = print(event);
        assert_eq!(fingerprint.language, TraceLanguage::Go);
        assert_eq!(fingerprint.frames, vec!["main.lookup", "main.main"]);
        let other_values = event.replace("[5] with length 3", "[9] with length 2");
        assert_eq!(print(&other_values).hash, fingerprint.hash);
    }

    #[test]
    fn rust_panic_signature_with_and_without_backtrace() {
        let event = concat!(
            "thread 'main' (77) panicked at src/handler.rs:4:5:\n",
            "index out of bounds: the len is 3 but the index is 7\n",
            "stack backtrace:\n",
            "   0: rust_begin_unwind\n",
            "             at /rustc/abc/library/std/src/panicking.rs:645:5\n",
            "   1: svc::handler::load::h0123456789abcdef\n",
            "             at ./src/handler.rs:4:5\n",
            "   2: svc::main\n",
            "             at ./src/main.rs:9:3\n",
            "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
        );
        let fingerprint = print(event);
        assert_eq!(fingerprint.language, TraceLanguage::Rust);
        assert_eq!(fingerprint.frames, vec!["svc::handler::load", "svc::main"]);
        assert_eq!(
            fingerprint.exception_type,
            "panic: index out of bounds: the len is <*> but the index is <*>"
        );
        let short = "thread 'worker' panicked at src/handler.rs:4:5:\nboom\n\
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        let short_print = print(short);
        assert_eq!(short_print.frames, vec!["src/handler.rs"]);
        let moved = short.replace(":4:5", ":8:1");
        assert_eq!(print(&moved).hash, short_print.hash);
    }

    #[test]
    fn node_signature_skips_internals_and_dependencies() {
        let event = concat!(
            "TypeError: Cannot read properties of undefined (reading 'id')\n",
            "    at getUser (/srv/api/src/users.js:14:20)\n",
            "    at Layer.handle (/srv/api/node_modules/express/lib/router/layer.js:95:5)\n",
            "    at /srv/api/src/routes.js:7:3\n",
            "    at node:internal/process/task_queues:95:5",
        );
        let fingerprint = print(event);
        assert_eq!(fingerprint.language, TraceLanguage::Node);
        assert_eq!(fingerprint.exception_type, "TypeError");
        assert_eq!(
            fingerprint.frames,
            vec!["getUser@/srv/api/src/users.js", "/srv/api/src/routes.js"]
        );
        let moved = event.replace("users.js:14:20", "users.js:15:2");
        assert_eq!(print(&moved).hash, fingerprint.hash);
    }

    #[test]
    fn plain_lines_have_no_fingerprint() {
        assert!(fingerprint("GET /health 200 3ms", &FingerprintConfig::default()).is_none());
        assert!(fingerprint("", &FingerprintConfig::default()).is_none());
    }
}

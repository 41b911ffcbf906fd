//! Where in the app's code an error comes from: the error's constant words looked up in the
//! files of the app's repository (a plain, bounded walk that skips what is not source), and the
//! frames of a stack trace mapped onto the repository's files. Only reads.

use crate::logs::redact::redact;
use regex::Regex;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Files larger than this are not read (generated code, data).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Files read at most, and bytes in all: a repository past that is searched in part.
const MAX_FILES: usize = 20_000;
const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// Directories never entered: history, build output, dependencies, caches.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    "dist",
];

/// Lines longer than this are minified or data, not code to show.
const MAX_LINE_CHARS: usize = 1000;

/// Lines shown on each side of a hit.
const CONTEXT_LINES: usize = 3;

/// Hits kept.
const MAX_HITS: usize = 3;

/// Level words a template starts with: they are in the log line, not in the code.
const LEVEL_WORDS: &[&str] = &[
    "error", "fatal", "err", "crit", "critical", "panic", "emerg", "alert",
];

/// What to look for in the code: the longest run of the template's constant words, and its
/// distinctive words one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Needle {
    pub phrase: String,
    pub words: Vec<String>,
}

fn trim_punctuation(word: &str) -> &str {
    word.trim_matches(|c: char| "()[]{}<>\"'.,;:!?=`".contains(c))
}

fn is_level_word(word: &str) -> bool {
    let bare = trim_punctuation(word).to_ascii_lowercase();
    LEVEL_WORDS.contains(&bare.as_str()) || bare.starts_with("level=")
}

impl Needle {
    /// The needle of a template (`<*>` marks its values); `None` when it has fewer than two
    /// distinctive words, too few to tell one line of code from another.
    pub(crate) fn of(template: &str) -> Option<Needle> {
        let tokens: Vec<&str> = template
            .split_whitespace()
            .skip_while(|t| is_level_word(t))
            .collect();
        let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
        for token in &tokens {
            if token.contains("<*>") {
                runs.push(Vec::new());
            } else if let Some(run) = runs.last_mut() {
                run.push(token);
            }
        }
        let phrase = runs
            .iter()
            .map(|run| run.join(" "))
            .max_by_key(String::len)
            .unwrap_or_default();
        let mut words: Vec<String> = Vec::new();
        for token in tokens.iter().filter(|t| !t.contains("<*>")) {
            let word = trim_punctuation(token);
            if word.chars().count() >= 3 && !words.iter().any(|w| w == word) {
                words.push(word.to_string());
            }
        }
        (words.len() >= 2).then_some(Needle { phrase, words })
    }

    /// How well one line of code matches: the whole phrase ranks above most of it (at least
    /// three of its words in a row, half of them or more: what precedes the message in the log
    /// line, a logger's name or a module's tag, is not in the code that logs it), which ranks
    /// above any set of words; words alone need three quarters of them (at least two).
    pub(crate) fn score(&self, line: &str) -> Option<usize> {
        if line.chars().count() > MAX_LINE_CHARS {
            return None;
        }
        let found = self
            .words
            .iter()
            .filter(|w| line.contains(w.as_str()))
            .count();
        let tokens: Vec<&str> = self.phrase.split_whitespace().collect();
        let phrase = tokens.len() >= 2 && line.contains(&self.phrase);
        let part = phrase_part(&tokens, line);
        let needed = (self.words.len() * 3).div_ceil(4).max(2);
        if phrase {
            Some(100 + found)
        } else if part >= 3 && part * 2 >= tokens.len() {
            Some(50 + part)
        } else if found >= needed {
            Some(found)
        } else {
            None
        }
    }
}

/// The most tokens of a stretch of `tokens`, in a row, that `line` holds.
fn phrase_part(tokens: &[&str], line: &str) -> usize {
    let mut best = 0;
    for start in 0..tokens.len() {
        for end in (start + best + 1..=tokens.len()).rev() {
            if line.contains(&tokens[start..end].join(" ")) {
                best = end - start;
                break;
            }
        }
    }
    best
}

/// A place in the code a stack trace names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub path: String,
    pub line: usize,
}

fn frame_patterns() -> Option<&'static (Regex, Regex)> {
    static PATTERNS: OnceLock<Option<(Regex, Regex)>> = OnceLock::new();
    PATTERNS
        .get_or_init(|| {
            let python = Regex::new(r#"File "([^"]+)", line (\d+)"#).ok()?;
            let other = Regex::new(
                r"([A-Za-z0-9_.@/\\-]+\.(?:py|rb|js|mjs|cjs|ts|tsx|jsx|go|rs|java|kt|scala|php|ex|exs|cs|swift|c|cc|cpp|h)):(\d+)",
            )
            .ok()?;
            Some((python, other))
        })
        .as_ref()
}

/// The frames of a stack trace in `text`, innermost first (a Python traceback lists them the
/// other way round).
pub(crate) fn frames(text: &str) -> Vec<Frame> {
    let Some((python, other)) = frame_patterns() else {
        return Vec::new();
    };
    let is_python = text.contains("Traceback (most recent call last)");
    let pattern = if is_python { python } else { other };
    let mut found: Vec<Frame> = pattern
        .captures_iter(text)
        .filter_map(|caps| {
            Some(Frame {
                path: caps.get(1)?.as_str().replace('\\', "/"),
                line: caps.get(2)?.as_str().parse().ok()?,
            })
        })
        .filter(|frame| frame.line > 0)
        .collect();
    if is_python {
        found.reverse();
    }
    found.dedup();
    found
}

/// The repository file a frame's path names: the one sharing the longest tail of path
/// components with it (at least the file name); the first in path order on a tie.
pub(crate) fn file_of<'a>(frame: &Frame, files: &'a [String]) -> Option<&'a String> {
    let wanted: Vec<&str> = frame.path.rsplit('/').filter(|p| !p.is_empty()).collect();
    files
        .iter()
        .filter_map(|file| {
            let shared = file
                .rsplit('/')
                .zip(&wanted)
                .take_while(|(a, b)| a == *b)
                .count();
            (shared > 0).then_some((shared, file))
        })
        .max_by(|(a, fa), (b, fb)| a.cmp(b).then_with(|| fb.cmp(fa)))
        .map(|(_, file)| file)
}

/// One place in the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeHit {
    /// Relative to the repository, with `/`.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// The line itself, trimmed and redacted.
    pub code: String,
    /// The lines around it, numbered, the hit marked with `>`.
    pub excerpt: String,
    /// Named by a frame of the error's stack trace (else found by its words).
    pub from_trace: bool,
}

/// The hit at `line` (1-based) of `text`, or `None` past its end.
pub(crate) fn hit(path: &str, text: &str, line: usize, from_trace: bool) -> Option<CodeHit> {
    let lines: Vec<&str> = text.lines().collect();
    let code = lines.get(line.checked_sub(1)?)?;
    let first = line.saturating_sub(CONTEXT_LINES).max(1);
    let last = (line + CONTEXT_LINES).min(lines.len());
    let excerpt = (first..=last)
        .map(|n| {
            let mark = if n == line { '>' } else { ' ' };
            let text: String = lines[n - 1].chars().take(200).collect();
            format!("{mark}{n:>5} | {}", redact(&text))
        })
        .collect::<Vec<_>>()
        .join("\n");
    Some(CodeHit {
        path: path.to_string(),
        line,
        code: redact(code.trim()),
        excerpt,
        from_trace,
    })
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Search {
    /// Frames of the trace first (innermost first), then the best lines by words.
    pub hits: Vec<CodeHit>,
    /// Text files read.
    pub files: usize,
    /// The walk stopped at its bounds: part of the repository was not searched.
    pub cut: bool,
}

/// Searches the text files under `root` for the lines that best match `needle`, and finds the
/// files `frames` name.
pub(crate) fn search(root: &Path, needle: Option<&Needle>, frames: &[Frame]) -> io::Result<Search> {
    let mut search = Search::default();
    let mut paths: Vec<String> = Vec::new();
    let mut scored: Vec<(usize, CodeHit)> = Vec::new();
    let mut total: u64 = 0;
    let mut pending: Vec<PathBuf> = vec![root.to_path_buf()];
    fs::read_dir(root)?;
    'walk: while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<fs::DirEntry> = entries.flatten().collect();
        entries.sort_by_key(fs::DirEntry::file_name);
        // Walked depth first, in name order: subdirectories are pushed last-first.
        let mut subdirectories = Vec::new();
        for entry in entries {
            let Ok(meta) = fs::symlink_metadata(entry.path()) else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().to_string();
            if meta.is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_str()) {
                    subdirectories.push(entry.path());
                }
                continue;
            }
            if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
                continue;
            }
            if search.files >= MAX_FILES || total + meta.len() > MAX_TOTAL_BYTES {
                search.cut = true;
                break 'walk;
            }
            let Ok(bytes) = fs::read(entry.path()) else {
                continue;
            };
            total += bytes.len() as u64;
            if bytes.iter().take(8000).any(|b| *b == 0) {
                continue;
            }
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            search.files += 1;
            let relative = entry
                .path()
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or(name);
            if let Some(needle) = needle {
                for (index, line) in text.lines().enumerate() {
                    if let Some(score) = needle.score(line)
                        && let Some(found) = hit(&relative, &text, index + 1, false)
                    {
                        scored.push((score, found));
                    }
                }
                scored.sort_by(|(a, ha), (b, hb)| {
                    b.cmp(a)
                        .then_with(|| ha.path.cmp(&hb.path))
                        .then(ha.line.cmp(&hb.line))
                });
                scored.truncate(MAX_HITS);
            }
            paths.push(relative);
        }
        pending.extend(subdirectories.into_iter().rev());
    }
    for frame in frames {
        if search.hits.len() >= MAX_HITS {
            break;
        }
        let Some(path) = file_of(frame, &paths) else {
            continue;
        };
        let Ok(text) = fs::read_to_string(root.join(path)) else {
            continue;
        };
        if let Some(found) = hit(path, &text, frame.line, true)
            && !search.hits.contains(&found)
        {
            search.hits.push(found);
        }
    }
    for (_, found) in scored {
        if search.hits.len() < MAX_HITS
            && !search
                .hits
                .iter()
                .any(|h| h.path == found.path && h.line == found.line)
        {
            search.hits.push(found);
        }
    }
    Ok(search)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_needle_is_the_constant_words_without_the_level() {
        let needle = Needle::of("ERROR payment gateway timeout after <*> (order <*>").unwrap();
        assert_eq!(needle.phrase, "payment gateway timeout after");
        assert_eq!(
            needle.words,
            ["payment", "gateway", "timeout", "after", "order"]
        );
        assert_eq!(
            Needle::of("ERROR <*> failed <*>"),
            None,
            "one word is too few"
        );
        assert_eq!(Needle::of("[error] <*>"), None);
    }

    #[test]
    fn lines_with_the_phrase_rank_first_and_words_need_three_quarters() {
        let needle = Needle::of("ERROR payment gateway timeout after <*> (order <*>").unwrap();
        let logging = r#"log.error("payment gateway timeout after %dms (order %s)", ms, id)"#;
        let split = r#"raise Timeout(f"payment {gw} gateway timeout after {ms} (order {o})")"#;
        let unrelated = "# the payment gateway";
        assert!(needle.score(logging).unwrap() > 100);
        assert!(needle.score(split).unwrap() < 100);
        assert_eq!(needle.score(unrelated), None);
        assert_eq!(
            needle.score(&format!("{logging}{}", " ".repeat(1000))),
            None
        );
    }

    #[test]
    fn a_logger_name_before_the_message_does_not_hide_the_line_that_logs_it() {
        let needle = Needle::of(
            "ERROR shop.mailer: could not queue receipt for order <*>: Error <*> connecting to <*>. Connection refused.",
        )
        .unwrap();
        assert_eq!(
            needle.phrase,
            "shop.mailer: could not queue receipt for order"
        );
        let logging = r#"log.error("could not queue receipt for order %s: %s", order.id, exc)"#;
        let score = needle.score(logging).unwrap();
        assert!((50..100).contains(&score), "{score}");
        assert_eq!(
            needle.score("for order in orders:"),
            None,
            "two words in a row are not the message"
        );
    }

    #[test]
    fn trace_frames_are_read_innermost_first() {
        let python = "Traceback (most recent call last):\n  File \"/srv/app/web/views.py\", line 40, in get\n    return load(id)\n  File \"/srv/app/orders/store.py\", line 12, in load\n    uuid.UUID(raw)\nValueError: badly formed hexadecimal UUID string";
        assert_eq!(
            frames(python),
            [
                Frame {
                    path: "/srv/app/orders/store.py".into(),
                    line: 12
                },
                Frame {
                    path: "/srv/app/web/views.py".into(),
                    line: 40
                }
            ]
        );
        let node = "TypeError: Cannot read properties of undefined (reading 'id')\n    at total (/app/src/cart.js:17:9)\n    at /app/src/routes.js:88:3";
        let found = frames(node);
        assert_eq!(found[0].path, "/app/src/cart.js");
        assert_eq!(found[0].line, 17);
        assert!(frames("no trace here").is_empty());
    }

    #[test]
    fn a_frame_maps_to_the_file_sharing_the_longest_tail() {
        let files = vec![
            "orders/store.py".to_string(),
            "legacy/store.py".to_string(),
            "web/views.py".to_string(),
        ];
        let frame = |path: &str| Frame {
            path: path.into(),
            line: 1,
        };
        assert_eq!(
            file_of(&frame("/srv/app/orders/store.py"), &files).map(String::as_str),
            Some("orders/store.py")
        );
        assert_eq!(
            file_of(&frame("store.py"), &files).map(String::as_str),
            Some("legacy/store.py"),
            "a tie goes to the first in path order"
        );
        assert_eq!(file_of(&frame("/usr/lib/python3/uuid.py"), &files), None);
    }

    #[test]
    fn a_hit_shows_its_lines_numbered_and_redacted() {
        let text = "a\nb\nc\nkey = \"password=hunter2\"\ne\nf\ng\nh";
        let found = hit("cfg.py", text, 4, false).unwrap();
        assert_eq!(found.code, "key = \"password=<redacted>\"");
        let lines: Vec<&str> = found.excerpt.lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(lines[3].starts_with(">    4 | "), "{}", found.excerpt);
        assert!(!found.excerpt.contains("hunter2"));
        assert!(hit("cfg.py", text, 99, false).is_none());
    }

    #[test]
    fn the_walk_finds_the_logging_line_and_skips_what_is_not_source() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &[u8]| {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        let line = b"log.error(\"payment gateway timeout after %dms (order %s)\", ms, id)\n";
        write(
            "app/payments.py",
            &[b"import log\n\n".as_slice(), line].concat(),
        );
        write("node_modules/lib/index.js", line);
        write("target/debug/app.txt", line);
        write("app/blob.bin", &[line.as_slice(), b"\0\0"].concat());
        let mut big = line.to_vec();
        big.resize(2 * 1024 * 1024, b' ');
        write("app/huge.py", &big);
        let needle = Needle::of("ERROR payment gateway timeout after <*> (order <*>").unwrap();
        let found = search(root, Some(&needle), &[]).unwrap();
        assert_eq!(found.hits.len(), 1, "{found:?}");
        assert_eq!(
            (found.hits[0].path.as_str(), found.hits[0].line),
            ("app/payments.py", 3)
        );
        assert_eq!(found.files, 1);

        let traced = search(
            root,
            None,
            &[Frame {
                path: "/srv/app/payments.py".into(),
                line: 1,
            }],
        )
        .unwrap();
        assert_eq!(traced.hits[0].code, "import log");
        assert!(traced.hits[0].from_trace);
        assert!(search(&root.join("missing"), None, &[]).is_err());
    }
}

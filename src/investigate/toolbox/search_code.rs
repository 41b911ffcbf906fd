//! `search_code {pattern, path_glob?}`: a regex over the text files of the app's repository,
//! `path:line: text` per match, at most [`MAX_MATCHES`]. The walk stays inside the repository:
//! symlinks are not followed, `.git`, `target` and `node_modules` are skipped, and so are
//! binary files, files over 1 MB and `.env` files. Files are visited in name order, within a
//! deadline.

use super::ToolOutput;
use super::args::{Args, object_schema};
use super::lines::{looks_binary, shown};
use super::repo_path::{relative_shown, withheld};
use super::search_logs::compile;
use super::setup::Setup;
use crate::llm::ToolDefinition;
use regex::Regex;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(super) const NAME: &str = "search_code";

/// The most matches returned.
pub(super) const MAX_MATCHES: usize = 200;
/// Files larger than this are not searched.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Directories never entered.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];
/// The most files looked at, and how long a search may take.
const MAX_FILES: usize = 50_000;
const DEADLINE: Duration = Duration::from_secs(20);
/// Characters of a matching line shown.
const LINE_CHARS: usize = 300;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    setup.repository.as_ref()?;
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "Search the text files of the app's repository for a regular expression (Rust \
             syntax; (?i) for case-insensitive). Returns path:line: text, at most \
             {MAX_MATCHES} matches. path_glob limits the files, like src/**/*.rb or *.sql."
        ),
        input_schema: object_schema(
            serde_json::json!({
                "pattern": {"type": "string", "description": "a regular expression"},
                "path_glob": {"type": "string", "description": "only files whose path (relative to the repository) matches, like app/models/*.rb"},
            }),
            &["pattern"],
        ),
    })
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
        let args = Args::new(NAME, input, &["pattern", "path_glob"])?;
        let pattern = args.text("pattern", 1_000)?;
        let glob = args
            .optional_text("path_glob", 500)?
            .map(|text| {
                glob::Pattern::new(text.trim_start_matches("./"))
                    .map_err(|error| format!("path_glob {text:?} is not a glob: {error}"))
            })
            .transpose()?;
        Ok::<_, String>((pattern.to_string(), compile(pattern, false)?, glob))
    })();
    let (pattern, regex, glob) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let query = match &glob {
        Some(glob) => format!("/{pattern}/ in {}", glob.as_str()),
        None => format!("/{pattern}/"),
    };
    let search = tokio::task::spawn_blocking(move || {
        search(&root, &regex, glob.as_ref(), Instant::now() + DEADLINE)
    });
    match search.await {
        Ok(text) => ToolOutput::done(NAME, None, query, text),
        Err(error) => ToolOutput::failed(NAME, None, query, format!("the search failed: {error}")),
    }
}

/// The files of the repository to search, in name order: regular files only (no symlinks),
/// outside the skipped and withheld directories, at most [`MAX_FILES`]; and whether the walk
/// stopped early.
pub(super) fn walk(root: &Path, deadline: Instant) -> (Vec<PathBuf>, bool) {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if files.len() >= MAX_FILES || Instant::now() > deadline {
            return (files, true);
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|entry| entry.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            // The entry itself, never what a symlink points to.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            let name = entry.file_name();
            if kind.is_dir() {
                if !SKIPPED_DIRS.iter().any(|skipped| name == *skipped) {
                    subdirs.push(path);
                }
            } else if kind.is_file() && !withheld(path.strip_prefix(root).unwrap_or(&path)) {
                files.push(path);
            }
        }
        // Depth first, in name order.
        pending.extend(subdirs.into_iter().rev());
    }
    (files, false)
}

fn search(root: &Path, regex: &Regex, glob: Option<&glob::Pattern>, deadline: Instant) -> String {
    let (files, walk_cut) = walk(root, deadline);
    let mut hits = Vec::new();
    let mut searched = 0;
    let mut stopped: Option<&str> =
        walk_cut.then_some("the repository has more files than one search visits");
    for path in &files {
        let relative = relative_shown(root, path);
        if glob.is_some_and(|glob| !glob.matches(&relative)) {
            continue;
        }
        if Instant::now() > deadline {
            stopped = Some("the search ran out of time");
            break;
        }
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        if looks_binary(&bytes[..bytes.len().min(8192)]) {
            continue;
        }
        searched += 1;
        let text = String::from_utf8_lossy(&bytes);
        for (index, line) in text.lines().enumerate() {
            if regex.is_match(line) {
                hits.push(format!(
                    "{relative}:{}: {}",
                    index + 1,
                    shown(line.trim_end().as_bytes(), LINE_CHARS, false)
                ));
                if hits.len() == MAX_MATCHES {
                    stopped = Some("the match cap was reached: narrow the pattern or path_glob");
                    break;
                }
            }
        }
        if hits.len() == MAX_MATCHES {
            break;
        }
    }
    let mut out = format!(
        "{} match{} in {searched} file{} searched\n",
        hits.len(),
        if hits.len() == 1 { "" } else { "es" },
        if searched == 1 { "" } else { "s" }
    );
    for hit in hits {
        out.push_str(&hit);
        out.push('\n');
    }
    if let Some(why) = stopped {
        let _ = writeln!(out, "(stopped early: {why})");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_skips_links_build_dirs_git_binaries_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        for sub in ["src/orders", ".git", "target/debug", "node_modules/x"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(
            root.join("src/orders/cart.rb"),
            "def add\n  raise CartError\nend\n",
        )
        .unwrap();
        std::fs::write(root.join("src/app.rb"), "CartError = Class.new\n").unwrap();
        std::fs::write(root.join(".git/config"), "CartError token\n").unwrap();
        std::fs::write(root.join("target/debug/out.rb"), "CartError\n").unwrap();
        std::fs::write(root.join("node_modules/x/i.js"), "CartError\n").unwrap();
        std::fs::write(root.join(".env"), "CartError=secret\n").unwrap();
        std::fs::write(root.join("logo.png"), b"\x89PNG\x00CartError").unwrap();
        std::fs::write(root.join("big.sql"), "CartError\n".repeat(120_000)).unwrap();
        std::fs::write(dir.path().join("outside.rb"), "CartError outside\n").unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.rb"), root.join("src/linked.rb"))
            .unwrap();
        let root = root.canonicalize().unwrap();
        let deadline = Instant::now() + DEADLINE;

        let text = search(&root, &compile("CartError", false).unwrap(), None, deadline);
        assert_eq!(
            text,
            "2 matches in 2 files searched\nsrc/app.rb:1: CartError = Class.new\nsrc/orders/cart.rb:2:   raise CartError\n"
        );
        let only = glob::Pattern::new("src/orders/*").unwrap();
        let text = search(
            &root,
            &compile("(?i)carterror", false).unwrap(),
            Some(&only),
            deadline,
        );
        assert_eq!(
            text,
            "1 match in 1 file searched\nsrc/orders/cart.rb:2:   raise CartError\n"
        );
    }

    #[test]
    fn matches_stop_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("many.txt"), "hit\n".repeat(MAX_MATCHES + 5)).unwrap();
        let root = dir.path().canonicalize().unwrap();
        let text = search(
            &root,
            &compile("hit", false).unwrap(),
            None,
            Instant::now() + DEADLINE,
        );
        assert!(
            text.starts_with(&format!("{MAX_MATCHES} matches in 1 file searched\n")),
            "{text}"
        );
        assert!(text.ends_with(
            "(stopped early: the match cap was reached: narrow the pattern or path_glob)\n"
        ));
    }
}

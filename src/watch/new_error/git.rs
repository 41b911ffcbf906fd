//! What git says about a file of the app's repository: its last commits, and the commit that
//! last changed one of its lines. Read-only: `git log` runs with explicit arguments (no
//! shell), without optional locks, and without running the programs a repository's
//! configuration may name (external diff, text conversion, file system monitor, signature
//! verification), within a deadline.

use chrono::{DateTime, Utc};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// How long one git command may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// Characters of git's error output quoted.
const ERROR_CHARS: usize = 300;

/// One commit: short hash, commit time, author and subject, tab-separated.
const FORMAT: &str = "--format=%h%x09%cI%x09%an%x09%s";

/// One commit as `git log` printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    pub hash: String,
    pub at: DateTime<Utc>,
    pub author: String,
    pub subject: String,
}

impl Commit {
    /// `abc1234 2026-11-25 14:02 UTC (Ada): Parse order ids`
    pub(crate) fn line(&self) -> String {
        format!(
            "{} {} ({}): {}",
            self.hash,
            self.at.format("%Y-%m-%d %H:%M UTC"),
            self.author,
            self.subject
        )
    }
}

/// The commits of [`FORMAT`] lines; lines that are not one (a patch, a blank) are skipped.
pub(crate) fn parse_log(text: &str) -> Vec<Commit> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(4, '\t');
            let hash = parts.next()?.trim();
            let at = DateTime::parse_from_rfc3339(parts.next()?).ok()?;
            let author = parts.next()?;
            let subject = parts.next()?;
            (!hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Commit {
                hash: hash.to_string(),
                at: at.with_timezone(&Utc),
                author: author.to_string(),
                subject: subject.to_string(),
            })
        })
        .collect()
}

/// Whether `repository` is a git clone (a `.git` directory, or a file for a worktree).
pub(crate) fn is_clone(repository: &Path) -> bool {
    repository.join(".git").exists()
}

/// `git log` arguments for the last `count` commits touching `path`.
pub(crate) fn file_log(path: &str, count: usize) -> Vec<String> {
    vec![
        "log".into(),
        format!("-n{count}"),
        FORMAT.into(),
        "--no-ext-diff".into(),
        "--no-textconv".into(),
        "--".into(),
        path.into(),
    ]
}

/// `git log` arguments for the commit that last changed line `line` of `path`.
pub(crate) fn line_log(path: &str, line: usize) -> Vec<String> {
    vec![
        "log".into(),
        "-n1".into(),
        "--no-patch".into(),
        FORMAT.into(),
        "--no-ext-diff".into(),
        "--no-textconv".into(),
        format!("-L{line},{line}:{path}"),
    ]
}

/// The command as the evidence shows it.
pub(crate) fn shown(repository: &Path, args: &[String]) -> String {
    format!("git -C {} {}", repository.display(), args.join(" "))
}

/// Runs git read-only in `repository` with `args`; its output, or why it failed.
pub(crate) async fn run(repository: &Path, args: &[String]) -> Result<String, String> {
    let child = tokio::process::Command::new("git")
        .arg("-C")
        .arg(repository)
        .args([
            "--no-pager",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "log.showSignature=false",
        ])
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("git cannot be started: {e}"))?;
    let output = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .map_err(|_| format!("git took longer than {}s", DEADLINE.as_secs()))?
        .map_err(|e| format!("git failed: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let error: String = String::from_utf8_lossy(&output.stderr)
            .trim()
            .chars()
            .take(ERROR_CHARS)
            .collect();
        Err(format!("git failed ({}): {error}", output.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_read_from_the_tab_separated_format() {
        let text =
            "abc1234\t2026-11-25T14:02:00+01:00\tAda L\tParse order ids\tfast\n\ndiff --git a b\n";
        let commits = parse_log(text);
        assert_eq!(commits.len(), 1);
        assert_eq!(commits[0].hash, "abc1234");
        assert_eq!(commits[0].subject, "Parse order ids\tfast");
        assert_eq!(
            commits[0].line(),
            "abc1234 2026-11-25 13:02 UTC (Ada L): Parse order ids\tfast"
        );
        assert!(parse_log("not\ta\tcommit\tline").is_empty());
    }

    #[tokio::test]
    async fn a_real_repository_gives_the_commit_of_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .arg("-C")
                .arg(repo)
                .args(args)
                .env("GIT_AUTHOR_DATE", "2026-11-20T10:00:00Z")
                .env("GIT_COMMITTER_DATE", "2026-11-20T10:00:00Z")
                .status()
                .unwrap();
            assert!(status.success());
        };
        git(&["init", "-q"]);
        git(&["config", "user.email", "dev@example.com"]);
        git(&["config", "user.name", "Dev"]);
        std::fs::write(repo.join("app.py"), "a\nb\n").unwrap();
        git(&["add", "."]);
        git(&["commit", "-qm", "first"]);
        std::fs::write(repo.join("app.py"), "a\nB\n").unwrap();
        git(&["commit", "-qam", "change b"]);
        assert!(is_clone(repo));

        let line = parse_log(&run(repo, &line_log("app.py", 1)).await.unwrap());
        assert_eq!(line[0].subject, "first");
        let changed = parse_log(&run(repo, &line_log("app.py", 2)).await.unwrap());
        assert_eq!(changed[0].subject, "change b");
        let history = parse_log(&run(repo, &file_log("app.py", 5)).await.unwrap());
        assert_eq!(history.len(), 2);
        assert!(run(repo, &line_log("missing.py", 1)).await.is_err());
        assert!(!is_clone(&repo.join("nested")));
    }
}

//! Running `git` on the app's repository so that it only reads: an explicit argv (no shell),
//! revisions and paths validated before they reach it (nothing starting with `-` or `:`),
//! `--end-of-options` and `--` between options, revisions and paths, no pager, no external
//! diff or textconv programs, no system or user configuration (`HOME` is an empty directory),
//! no optional locks, no prompt, a clean environment, a timeout and a cap on what is read.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// How long one git command may take.
pub(super) const GIT_TIMEOUT: Duration = Duration::from_secs(20);
/// The most output read from one git command.
pub(super) const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// Pathspecs that keep environment files out of every answer.
pub(super) const WITHHELD_PATHSPECS: &[&str] =
    &[":(exclude,glob)**/.env", ":(exclude,glob)**/.env.*"];

/// A revision: a commit id, a branch or tag name, optionally with `~n` or `^` after it. No
/// leading `-` (an option), no `:` (a path inside a commit), no `..` (a range), no `@{`
/// (the reflog), no spaces.
pub(super) fn revision(text: &str) -> Result<&str, String> {
    let revision = text.trim();
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '~' | '^' | '-');
    let ok = !revision.is_empty()
        && revision.len() <= 100
        && revision
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && revision.chars().all(allowed)
        && !revision.contains("..")
        && !revision.ends_with('/')
        && !revision.ends_with(".lock");
    if ok {
        Ok(revision)
    } else {
        Err(format!(
            "{text:?} is not a revision: give a commit id (like 3f2c1ab), a branch or tag name, \
             or one with ~N or ^ after it (like HEAD~3)"
        ))
    }
}

/// A path to limit git to: relative to the repository, no `..`, not starting with `-` or `:`,
/// not git's own files or an `.env` file.
pub(super) fn path(text: &str) -> Result<&str, String> {
    let path = text.trim().trim_start_matches("./");
    let refused = |why: &str| Err(format!("{text:?} is refused as a path: {why}"));
    if path.is_empty() {
        return refused("it is empty");
    }
    if path.starts_with('-') || path.starts_with(':') {
        return refused("it may not start with - or :");
    }
    let relative = Path::new(path);
    if relative.is_absolute() {
        return refused("give it relative to the repository");
    }
    if relative
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return refused("it may not contain ..");
    }
    if super::repo_path::withheld(relative) {
        return refused("git's own files and .env files are not read");
    }
    Ok(path)
}

/// What a git command printed, and whether it was cut at [`MAX_OUTPUT_BYTES`].
pub(super) struct GitOutput {
    pub(super) text: String,
    pub(super) cut: bool,
}

/// The command line as run, for the evidence log.
pub(super) fn shown(args: &[String]) -> String {
    format!("git {}", args.join(" "))
}

/// Runs `git <args>` read-only in the repository at `root`.
pub(super) async fn run(root: &Path, args: &[String]) -> Result<GitOutput, String> {
    let home = tempfile::Builder::new()
        .prefix("sentinel-git-home-")
        .tempdir()
        .map_err(|error| format!("cannot prepare an empty home for git: {error}"))?;
    let mut command = tokio::process::Command::new("git");
    command
        .arg("--no-pager")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "core.pager=cat",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "color.ui=false",
        ])
        .args(args)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_PAGER", "cat")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(parent) = root.parent() {
        command.env("GIT_CEILING_DIRECTORIES", parent);
    }
    let mut child = command
        .spawn()
        .map_err(|error| format!("git cannot be started: {error}"))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("git's output cannot be read".to_string());
    };
    let finished = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let limit = u64::try_from(MAX_OUTPUT_BYTES).unwrap_or(u64::MAX);
        let read_out = async {
            let read = stdout.take(limit + 1).read_to_end(&mut out).await;
            // Past the cap git is stopped, so that it closes its error output too.
            if out.len() > MAX_OUTPUT_BYTES {
                let _ = child.start_kill();
            }
            read
        };
        let mut stderr = stderr.take(64 * 1024);
        let (read_out, _) = tokio::join!(read_out, stderr.read_to_end(&mut err));
        read_out.map_err(|error| format!("git's output cannot be read: {error}"))?;
        let cut = out.len() > MAX_OUTPUT_BYTES;
        out.truncate(MAX_OUTPUT_BYTES);
        let status = child
            .wait()
            .await
            .map_err(|error| format!("git failed: {error}"))?;
        if !status.success() && !cut {
            let message = String::from_utf8_lossy(&err);
            let mut why = format!("git answered: {}", message.trim());
            if message.contains("not a git repository") {
                why.push_str(" ([investigator] repository must be the root of a git clone)");
            }
            return Err(why);
        }
        Ok(GitOutput {
            text: String::from_utf8_lossy(&out).into_owned(),
            cut,
        })
    };
    match tokio::time::timeout(GIT_TIMEOUT, finished).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "git took longer than {}s and was stopped",
            GIT_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_are_ids_names_and_ancestry_only() {
        for good in [
            "3f2c1ab",
            "HEAD",
            "HEAD~3",
            "HEAD^",
            "main",
            "v1.2.0",
            "release/2026-11",
            "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        ] {
            assert_eq!(revision(good), Ok(good), "{good}");
        }
        for bad in [
            "--output=/tmp/x",
            "-p",
            "HEAD:config/secrets.yml",
            "main..evil",
            "HEAD@{1}",
            "@",
            "a b",
            "$(touch x)",
            "`id`",
            "main;id",
            "refs/heads/x.lock",
            "",
            &"a".repeat(101),
        ] {
            assert!(
                revision(bad).unwrap_err().contains("is not a revision"),
                "{bad:?} taken"
            );
        }
    }

    #[test]
    fn paths_are_relative_inside_and_not_options() {
        assert_eq!(path("./src/app.rb"), Ok("src/app.rb"));
        for (bad, why) in [
            ("--output=/tmp/x", "may not start with -"),
            (":(top)etc", "may not start with - or :"),
            ("/etc/passwd", "relative"),
            ("../other", "may not contain .."),
            (".git/config", "not read"),
            ("config/.env", "not read"),
            ("  ", "empty"),
        ] {
            assert!(path(bad).unwrap_err().contains(why), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn git_runs_without_user_configuration_and_reports_its_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let version = run(&root, &["--version".to_string()]).await.unwrap();
        assert!(version.text.starts_with("git version"), "{}", version.text);
        // Not a repository, and the ceiling keeps git from finding one above it.
        let refused = run(&root, &["log".to_string()]).await.err().unwrap();
        assert!(refused.contains("not a git repository"), "{refused}");
    }
}

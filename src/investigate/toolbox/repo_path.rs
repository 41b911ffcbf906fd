//! Paths inside the app's repository: a path the model gives is relative to the repository,
//! checked lexically (no absolute path, no `..` past the root) before the file system is
//! touched, then resolved with its symlinks and refused unless it still lies inside. Git's own
//! files (`.git/`, where remotes can carry tokens) and environment files (`.env`) are never
//! read.

use std::path::{Component, Path, PathBuf};

/// Whether a path (relative to the repository, as components) is one the tools never read.
pub(super) fn withheld(relative: &Path) -> bool {
    let mut components = relative.components().peekable();
    while let Some(component) = components.next() {
        let Component::Normal(name) = component else {
            continue;
        };
        let name = name.to_string_lossy();
        if name == ".git" {
            return true;
        }
        if components.peek().is_none() && secret_env_file(&name) {
            return true;
        }
    }
    false
}

/// `.env`, `.env.production`, ... but not the examples meant to be read.
fn secret_env_file(name: &str) -> bool {
    let examples = [".example", ".sample", ".template", ".dist"];
    (name == ".env" || name.starts_with(".env.")) && !examples.iter().any(|e| name.ends_with(e))
}

/// `requested` without `.` and with `..` applied, as long as it stays inside; `None` when it
/// would leave the root.
fn normalized(requested: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in requested.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The canonical path of `requested` inside the repository at `root` (itself canonical), or
/// why it is refused.
pub(super) fn confine(root: &Path, requested: &str) -> Result<PathBuf, String> {
    let trimmed = requested.trim();
    if trimmed.is_empty() {
        return Err("give a path relative to the repository, like src/main.rs".to_string());
    }
    let path = Path::new(trimmed);
    if path.is_absolute() || trimmed.starts_with('~') {
        return Err(format!(
            "{trimmed:?} is refused: give a path relative to the repository, like src/main.rs"
        ));
    }
    let Some(relative) = normalized(path) else {
        return Err(format!(
            "{trimmed:?} is refused: it leads outside the repository"
        ));
    };
    if withheld(&relative) {
        return Err(format!(
            "{trimmed:?} is refused: git's own files and .env files are not read"
        ));
    }
    let canonical = root.join(&relative).canonicalize().map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            format!("there is no {trimmed:?} in the repository; search_code finds files")
        } else {
            format!("{trimmed:?} cannot be read: {error}")
        }
    })?;
    let Ok(inside) = canonical.strip_prefix(root) else {
        return Err(format!(
            "{trimmed:?} is refused: it is a link to a place outside the repository"
        ));
    };
    if withheld(inside) {
        return Err(format!(
            "{trimmed:?} is refused: it leads to git's own files or an .env file"
        ));
    }
    Ok(canonical)
}

/// `path` relative to the repository, with `/` separators, for output.
pub(super) fn relative_shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::write(root.join(".git/config"), "[remote]\n").unwrap();
        std::fs::write(root.join(".env"), "KEY=1\n").unwrap();
        std::fs::write(root.join(".env.example"), "KEY=\n").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("src/link.txt"))
            .unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
        std::os::unix::fs::symlink("main.rs", root.join("src/alias.rs")).unwrap();
        std::os::unix::fs::symlink("../.git/config", root.join("src/config")).unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn paths_inside_are_resolved() {
        let (_dir, root) = repository();
        assert_eq!(
            confine(&root, "src/main.rs").unwrap(),
            root.join("src/main.rs")
        );
        assert_eq!(
            confine(&root, "./src/../src/main.rs").unwrap(),
            root.join("src/main.rs")
        );
        assert_eq!(
            confine(&root, "src/alias.rs").unwrap(),
            root.join("src/main.rs"),
            "a link inside"
        );
        assert!(confine(&root, ".env.example").is_ok());
        assert_eq!(
            relative_shown(&root, &root.join("src/main.rs")),
            "src/main.rs"
        );
    }

    #[test]
    fn paths_out_of_the_repository_are_refused() {
        let (_dir, root) = repository();
        for (path, why) in [
            ("../../etc/passwd", "leads outside"),
            ("src/../../outside.txt", "leads outside"),
            ("/etc/passwd", "relative to the repository"),
            ("~/.ssh/id_rsa", "relative to the repository"),
            ("src/link.txt", "link to a place outside"),
            ("etc/passwd", "link to a place outside"),
            (".git/config", "git's own files"),
            ("src/config", "leads to git's own files"),
            (".env", ".env files"),
            ("", "like src/main.rs"),
            ("src/missing.rs", "there is no"),
        ] {
            let refusal = confine(&root, path).unwrap_err();
            assert!(refusal.contains(why), "{path}: {refusal}");
        }
    }

    #[test]
    fn withheld_files_are_git_internals_and_env_files() {
        assert!(withheld(Path::new(".git/HEAD")));
        assert!(withheld(Path::new("sub/.git/config")));
        assert!(withheld(Path::new("deploy/.env.production")));
        assert!(!withheld(Path::new("deploy/.env.sample")));
        assert!(!withheld(Path::new(".github/workflows/ci.yml")));
        assert!(
            !withheld(Path::new(".env/readme.md")),
            "only a file named .env is withheld"
        );
    }
}

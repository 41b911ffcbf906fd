//! Finding the files a pattern names: a plain path or a glob, checked for a readable directory.

use super::error::TailError;
use super::offsets::FileId;
use std::fs;
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// A regular file currently present.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub path: PathBuf,
    pub id: FileId,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl Found {
    fn from_meta(path: PathBuf, meta: &fs::Metadata) -> Self {
        Found {
            path,
            id: FileId::of(meta),
            size: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// A validated pattern.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub pattern: String,
    /// The pattern has glob metacharacters.
    pub is_glob: bool,
    /// The directory that must exist: the parent of a plain path, or the part of a glob
    /// before its first wildcard.
    pub base_dir: PathBuf,
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl Target {
    pub(crate) fn new(pattern: &str) -> Result<Self, TailError> {
        if pattern.is_empty() {
            return Err(TailError::Pattern {
                pattern: pattern.to_string(),
                message: "empty pattern".to_string(),
            });
        }
        let is_glob = has_wildcard(pattern);
        let base_dir = if is_glob {
            glob::Pattern::new(pattern).map_err(|e| TailError::Pattern {
                pattern: pattern.to_string(),
                message: e.to_string(),
            })?;
            let mut base = PathBuf::new();
            for c in Path::new(pattern).components() {
                if let Component::Normal(part) = c
                    && has_wildcard(&part.to_string_lossy())
                {
                    break;
                }
                base.push(c);
            }
            base
        } else {
            Path::new(pattern)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        let base_dir = if base_dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base_dir
        };
        Ok(Target {
            pattern: pattern.to_string(),
            is_glob,
            base_dir,
        })
    }

    /// Regular files matching now, sorted by path. A missing or unreadable base directory
    /// (or a directory under it) is an error; no match is not.
    pub(crate) fn expand(&self) -> Result<Vec<Found>, TailError> {
        check_dir(&self.base_dir)?;
        let mut found = Vec::new();
        if !self.is_glob {
            let path = PathBuf::from(&self.pattern);
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => found.push(Found::from_meta(path, &meta)),
                Ok(_) => {
                    return Err(TailError::File {
                        path,
                        source: io::Error::other("not a regular file"),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(TailError::File { path, source }),
            }
            return Ok(found);
        }
        let paths = glob::glob(&self.pattern).map_err(|e| TailError::Pattern {
            pattern: self.pattern.clone(),
            message: e.to_string(),
        })?;
        for entry in paths {
            let path = match entry {
                Ok(path) => path,
                Err(e) => {
                    let path = e.path().to_path_buf();
                    return Err(TailError::Directory {
                        path,
                        source: e.into(),
                    });
                }
            };
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => found.push(Found::from_meta(path, &meta)),
                Ok(_) => {}
                // Gone between listing and looking: a file disappearing is normal under a glob.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(TailError::File { path, source }),
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }
}

fn check_dir(dir: &Path) -> Result<(), TailError> {
    fs::read_dir(dir)
        .map(drop)
        .map_err(|source| TailError::Directory {
            path: dir.to_path_buf(),
            source,
        })
}

/// A regular file in `dir` with identity `id` (a renamed file), if any.
pub(crate) fn find_by_id(dir: &Path, id: FileId) -> Option<Found> {
    let entries = fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        if entry.ino() != id.inode {
            continue;
        }
        let path = entry.path();
        if let Ok(meta) = fs::metadata(&path)
            && meta.is_file()
            && FileId::of(&meta) == id
        {
            return Some(Found::from_meta(path, &meta));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_dir_of_patterns() {
        let t = Target::new("/var/log/nginx/*.log").unwrap();
        assert!(t.is_glob);
        assert_eq!(t.base_dir, PathBuf::from("/var/log/nginx"));
        let t = Target::new("/var/log/*/access.log").unwrap();
        assert_eq!(t.base_dir, PathBuf::from("/var/log"));
        let t = Target::new("/var/log/syslog").unwrap();
        assert!(!t.is_glob);
        assert_eq!(t.base_dir, PathBuf::from("/var/log"));
        let t = Target::new("app.log").unwrap();
        assert_eq!(t.base_dir, PathBuf::from("."));
    }

    #[test]
    fn bad_patterns() {
        assert!(matches!(Target::new(""), Err(TailError::Pattern { .. })));
        assert!(matches!(
            Target::new("/x/[a"),
            Err(TailError::Pattern { .. })
        ));
    }
}

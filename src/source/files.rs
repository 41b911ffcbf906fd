//! The filesystem, read-only: the newest file matching a glob, for freshness watches
//! (a backups folder). Only metadata is read; no file is opened for writing.

use super::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// The newest matching file and when it was last modified.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewestFile {
    pub path: PathBuf,
    pub modified: DateTime<Utc>,
    pub matched: usize,
}

/// The source name used for blindness alerts about a glob.
pub(crate) fn source_name(pattern: &str) -> String {
    format!("files:{pattern}")
}

/// Finds the newest regular file matching `pattern`. `Ok(None)` when nothing matches but the
/// directory is readable; an error when the directory itself cannot be read.
pub(crate) fn newest(pattern: &str) -> Result<Option<NewestFile>, SourceError> {
    let name = source_name(pattern);
    let base = glob_base(pattern);
    if let Err(error) = std::fs::read_dir(&base) {
        return Err(SourceError::new(
            &name,
            SourceErrorKind::Unreachable,
            format!("cannot read directory {}: {error}", base.display()),
        ));
    }
    let paths = glob::glob(pattern)
        .map_err(|e| SourceError::new(&name, SourceErrorKind::QueryRejected, e.to_string()))?;
    let mut newest: Option<NewestFile> = None;
    let mut matched = 0;
    for entry in paths.flatten() {
        let Ok(meta) = std::fs::metadata(&entry) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let Ok(modified) = meta.modified() else {
            continue;
        };
        matched += 1;
        let modified: DateTime<Utc> = modified.into();
        if newest.as_ref().is_none_or(|n| modified > n.modified) {
            newest = Some(NewestFile {
                path: entry,
                modified,
                matched: 0,
            });
        }
    }
    Ok(newest.map(|n| NewestFile { matched, ..n }))
}

/// One regular file matching a glob: when it was last modified and how large it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileSeen {
    pub path: PathBuf,
    pub modified: DateTime<Utc>,
    pub size: u64,
}

/// The `limit` newest regular files matching `pattern`, newest first, and how many match in
/// all. Like [`newest`], only metadata is read, and a directory that cannot be read is an
/// error while nothing matching is an empty list.
pub(crate) fn newest_files(
    pattern: &str,
    limit: usize,
) -> Result<(Vec<FileSeen>, usize), SourceError> {
    let name = source_name(pattern);
    let base = glob_base(pattern);
    if let Err(error) = std::fs::read_dir(&base) {
        return Err(SourceError::new(
            &name,
            SourceErrorKind::Unreachable,
            format!("cannot read directory {}: {error}", base.display()),
        ));
    }
    let paths = glob::glob(pattern)
        .map_err(|e| SourceError::new(&name, SourceErrorKind::QueryRejected, e.to_string()))?;
    let mut files: Vec<FileSeen> = paths
        .flatten()
        .filter_map(|path| {
            let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
            let modified: DateTime<Utc> = meta.modified().ok()?.into();
            Some(FileSeen {
                path,
                modified,
                size: meta.len(),
            })
        })
        .collect();
    let matched = files.len();
    files.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.path.cmp(&b.path)));
    files.truncate(limit);
    Ok((files, matched))
}

/// Fails when no regular file matches `pattern` (a log file that vanished), so the watches
/// reading it turn blind instead of quietly seeing nothing.
pub(crate) fn require_some(pattern: &str) -> Result<(), SourceError> {
    match newest(pattern)? {
        Some(_) => Ok(()),
        None => Err(SourceError::new(
            &source_name(pattern),
            SourceErrorKind::Unreachable,
            format!("no file matches {pattern}"),
        )),
    }
}

/// The longest leading directory of a glob pattern that has no wildcard.
fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    let path = PathBuf::from(pattern);
    let components: Vec<_> = path.components().collect();
    for (i, component) in components.iter().enumerate() {
        let text = component.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[']) || i + 1 == components.len() {
            break;
        }
        base.push(component);
    }
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn finds_the_newest_matching_file_by_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("app-1.sql.gz");
        let new = dir.path().join("app-2.sql.gz");
        let other = dir.path().join("notes.txt");
        for path in [&old, &new, &other] {
            std::fs::write(path, b"x").unwrap();
        }
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(t)
            .unwrap();
        std::fs::File::options()
            .write(true)
            .open(&new)
            .unwrap()
            .set_modified(t + Duration::from_secs(60))
            .unwrap();
        std::fs::File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(t + Duration::from_secs(600))
            .unwrap();

        let pattern = format!("{}/*.sql.gz", dir.path().display());
        let found = newest(&pattern).unwrap().unwrap();
        assert_eq!(found.path, new);
        assert_eq!(found.matched, 2);
        assert_eq!(found.modified.timestamp(), 1_800_000_060);
    }

    #[test]
    fn the_newest_files_come_newest_first_with_their_sizes_and_the_count_of_all() {
        let dir = tempfile::tempdir().unwrap();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for (n, size) in [(0u64, 10usize), (1, 20), (2, 30)] {
            let path = dir.path().join(format!("b-{n}.gz"));
            std::fs::write(&path, vec![b'x'; size]).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(t + Duration::from_secs(n * 60))
                .unwrap();
        }
        std::fs::create_dir(dir.path().join("d.gz")).unwrap();
        let pattern = format!("{}/*.gz", dir.path().display());
        let (files, matched) = newest_files(&pattern, 2).unwrap();
        assert_eq!(matched, 3, "folders do not count");
        let seen: Vec<(String, u64)> = files
            .iter()
            .map(|f| {
                (
                    f.path.file_name().unwrap().to_string_lossy().into_owned(),
                    f.size,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [("b-2.gz".to_string(), 30), ("b-1.gz".to_string(), 20)]
        );
        assert!(newest_files(&format!("{}/gone/*", dir.path().display()), 2).is_err());
    }

    #[test]
    fn nothing_matching_is_none_but_a_missing_directory_is_blindness() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            newest(&format!("{}/*.gz", dir.path().display())).unwrap(),
            None
        );
        let error = newest(&format!("{}/gone/*.gz", dir.path().display())).unwrap_err();
        assert_eq!(error.kind, SourceErrorKind::Unreachable);
    }
}

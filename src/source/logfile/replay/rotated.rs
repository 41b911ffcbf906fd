//! The files a replay reads: those a pattern matches and their rotated siblings, as logrotate
//! names them (`app.log.1`, `app.log.2.gz`).

use std::collections::BTreeSet;
use std::path::PathBuf;

/// Every regular file `pattern` matches, with the numbered rotated copies of each.
pub(super) fn with_rotated_siblings(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let mut paths = BTreeSet::new();
    for path in regular_files(pattern)? {
        let siblings = format!("{}.*", glob::Pattern::escape(&path.to_string_lossy()));
        for sibling in regular_files(&siblings)? {
            let name = sibling.to_string_lossy();
            if let Some(suffix) = name.strip_prefix(&format!("{}.", path.to_string_lossy()))
                && is_rotation_suffix(suffix)
            {
                paths.insert(sibling);
            }
        }
        paths.insert(path);
    }
    Ok(paths.into_iter().collect())
}

fn regular_files(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let paths = glob::glob(pattern).map_err(|error| format!("bad pattern {pattern}: {error}"))?;
    Ok(paths.flatten().filter(|path| path.is_file()).collect())
}

/// `1`, `2.gz`: a rotation number, compressed or not.
fn is_rotation_suffix(suffix: &str) -> bool {
    let number = suffix.strip_suffix(".gz").unwrap_or(suffix);
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_copies_are_found_beside_each_matched_file_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "app.log",
            "app.log.1",
            "app.log.2.gz",
            "app.log.bak",
            "app.log.1.tmp",
            "other.log",
        ] {
            std::fs::write(dir.path().join(name), "x\n").unwrap();
        }
        let found = with_rotated_siblings(&dir.path().join("app.log").to_string_lossy()).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["app.log", "app.log.1", "app.log.2.gz"]);
    }
}

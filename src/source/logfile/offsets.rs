//! Read positions per file, persisted by the caller between polls and across restarts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where reading stopped in every file a tail follows. One `Offsets` belongs to one
/// [`crate::source::logfile::LogTail`]; store it after each successful poll and hand it
/// back after a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offsets {
    /// Position per file path.
    pub files: BTreeMap<PathBuf, FileOffset>,
    /// A poll has succeeded: a file first seen from now on did not exist when the tail was
    /// attached, so it holds no history. Offsets stored before this was kept had been polled.
    #[serde(default = "stored_offsets_were_polled")]
    pub polled: bool,
}

fn stored_offsets_were_polled() -> bool {
    true
}

impl Offsets {
    /// Empty set: nothing known yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored position of one file.
    pub fn get(&self, path: &Path) -> Option<&FileOffset> {
        self.files.get(path)
    }

    /// Serialize to JSON for the caller's store.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Whether every line the files held when the tail was attached has been read.
    pub fn history_read(&self) -> bool {
        self.polled
            && self
                .files
                .values()
                .all(|file| file.held_at_first_sight.is_none())
    }

    /// Read back what [`Offsets::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Position in one file, tied to the file's identity so renames and replacements are noticed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOffset {
    /// Device of the file (`st_dev`).
    pub dev: u64,
    /// Inode of the file (`st_ino`).
    pub inode: u64,
    /// Byte offset just after the last consumed line.
    pub offset: u64,
    /// File size at the last poll.
    pub size_seen: u64,
    /// Hash of the file's first line (at most 1 KiB), to notice a file rewritten in place.
    pub first_line_hash: Option<u64>,
    /// The bytes at `offset` belong to an over-long line already reported: drop them up to
    /// the next newline.
    #[serde(default)]
    pub skip_to_newline: bool,
    /// The file's length when the tail was attached, while reading has not passed it yet:
    /// lines starting before it are history (see [`crate::source::logfile::LogLine::history`]).
    #[serde(default)]
    pub held_at_first_sight: Option<u64>,
}

impl FileOffset {
    pub(crate) fn id(&self) -> FileId {
        FileId {
            dev: self.dev,
            inode: self.inode,
        }
    }
}

/// Identity of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FileId {
    pub dev: u64,
    pub inode: u64,
}

impl FileId {
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            inode: meta.ino(),
        }
    }
}

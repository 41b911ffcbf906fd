//! Where a Loki tail stands, persisted between reads, and what one read of the tail returns.

use super::{Labels, to_nanos};
use chrono::{DateTime, Utc};
use std::fmt;
use std::str::FromStr;

/// One line read by [`LokiSource::tail_since`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LokiLine {
    /// Labels of the stream (with structured metadata, if any).
    pub labels: Labels,
    /// The line as Loki stored it.
    pub line: String,
    /// Normalized level (`TRACE`, `DEBUG`, `INFO`, `NOTICE`, `WARN`, `ERROR`, `FATAL`) from the
    /// `level`, `detected_level`, `severity` or `lvl` label, or that label's value upper-cased
    /// when it is not a known word.
    pub level: Option<String>,
    /// Timestamp of the entry.
    pub at: DateTime<Utc>,
}

/// Where a tail stands: every line before `nanos`, and the first `seen_at_nanos` lines at
/// exactly `nanos` (in the tail's order: stream labels, then line text), were already read.
///
/// Persist it as its string form, `<nanos>:<seen_at_nanos>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct TailCursor {
    pub nanos: i64,
    pub seen_at_nanos: u32,
}

impl TailCursor {
    /// A cursor that reads everything from `at` (inclusive).
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self {
            nanos: to_nanos(at),
            seen_at_nanos: 0,
        }
    }

    /// The timestamp the cursor stands at.
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.nanos)
    }
}

impl fmt::Display for TailCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.nanos, self.seen_at_nanos)
    }
}

impl FromStr for TailCursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid Loki tail cursor {s:?}: expected <unix nanos>:<count>");
        let (nanos, seen) = s.trim().split_once(':').ok_or_else(bad)?;
        let nanos = nanos.parse::<i64>().map_err(|_| bad())?;
        let seen_at_nanos = seen.parse::<u32>().map_err(|_| bad())?;
        if nanos < 0 {
            return Err(bad());
        }
        Ok(Self {
            nanos,
            seen_at_nanos,
        })
    }
}

impl From<TailCursor> for String {
    fn from(cursor: TailCursor) -> Self {
        cursor.to_string()
    }
}

impl TryFrom<String> for TailCursor {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// The result of one [`LokiSource::tail_since`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// New lines, oldest first.
    pub lines: Vec<LokiLine>,
    /// Where the next call starts; persist it (as a string) before acting on `lines`' absence.
    pub cursor: TailCursor,
    /// The page cap was reached: more lines are waiting, call again.
    pub more: bool,
}

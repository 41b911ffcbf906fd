//! The typed configuration of a `new_error` watch.

use crate::config::{LogFeed, LogFormat};
use std::time::Duration;

/// `new_error`: page for an error template never seen before on a log source.
#[derive(Debug, Clone)]
pub struct NewErrorSpec {
    /// Where the lines come from.
    pub feed: LogFeed,
    pub format: LogFormat,
    /// A new template pages once it has occurred this often within `window`.
    pub min_count: u32,
    pub window: Duration,
    /// What the log already held when the watch was first attached is learned, never paged;
    /// everything written after attachment is judged either way. Set by the `learn_for` key:
    /// `"0s"` turns this off and judges the history too; any other value (or none) leaves it
    /// on, its length no longer counting.
    pub learns_history: bool,
    /// Extra substrings that make a line an error, besides its level and stack traces.
    pub patterns: Vec<String>,
}

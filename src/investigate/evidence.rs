//! Evidence: what an investigation read, exactly as it asked for it. Every claim of a report
//! points at one or more items by id (`E1`, `E2`, ...), so the operator can check each claim
//! against the query that supports it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest excerpt kept with an item, in characters; the rest is counted, not dropped silently.
pub const EXCERPT_CHARS: usize = 1_200;

/// One thing read during an investigation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `E1`, `E2`, ... in the order taken.
    pub id: String,
    /// What read it: `store`, `sql`, `explain`, `promql`, `logql`, `logs`, `files`, `redis`,
    /// `http`, `code`, `git`.
    pub tool: String,
    /// The source it was read from, when one is configured by name.
    pub source: Option<String>,
    /// The exact query, command or path.
    pub query: String,
    /// What came back, shortened to [`EXCERPT_CHARS`].
    pub excerpt: String,
    /// Characters left out of the excerpt.
    pub omitted_chars: usize,
    pub taken_at: DateTime<Utc>,
}

/// The evidence of one investigation, numbered as it is taken.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceLog {
    items: Vec<Evidence>,
}

impl EvidenceLog {
    /// Records what `tool` read with `query` and returns its id.
    pub fn add(
        &mut self,
        tool: &str,
        source: Option<&str>,
        query: impl Into<String>,
        result: &str,
        taken_at: DateTime<Utc>,
    ) -> String {
        let id = format!("E{}", self.items.len() + 1);
        let (excerpt, omitted_chars) = excerpt(result, EXCERPT_CHARS);
        self.items.push(Evidence {
            id: id.clone(),
            tool: tool.to_string(),
            source: source.map(str::to_string),
            query: query.into(),
            excerpt,
            omitted_chars,
            taken_at,
        });
        id
    }

    pub fn items(&self) -> &[Evidence] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Rewrites every query and excerpt through `redact` (secrets out before the log leaves).
    pub fn redact_with(&mut self, redact: impl Fn(&str) -> String) {
        for item in &mut self.items {
            item.query = redact(&item.query);
            item.excerpt = redact(&item.excerpt);
        }
    }

    /// True when `id` names an item of this log.
    pub fn contains(&self, id: &str) -> bool {
        self.items.iter().any(|item| item.id == id)
    }
}

/// The head of `text` within `limit` characters (cut at a line end when one is near), and how
/// many characters were left out.
pub fn excerpt(text: &str, limit: usize) -> (String, usize) {
    let total = text.chars().count();
    if total <= limit {
        return (text.to_string(), 0);
    }
    let cut = text
        .char_indices()
        .nth(limit)
        .map_or(text.len(), |(at, _)| at);
    let head = &text[..cut];
    let head = match head.rfind('\n') {
        Some(line_end) if line_end >= cut / 2 => &head[..line_end],
        _ => head,
    };
    (head.to_string(), total - head.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_numbered_in_order() {
        let now = Utc::now();
        let mut log = EvidenceLog::default();
        assert_eq!(log.add("sql", Some("app"), "SELECT 1", "1", now), "E1");
        assert_eq!(log.add("store", None, "pings", "none", now), "E2");
        assert!(log.contains("E2"));
        assert!(!log.contains("E3"));
    }

    #[test]
    fn long_results_are_cut_at_a_line_and_the_rest_counted() {
        let text = (0..500)
            .map(|n| format!("line {n}"))
            .collect::<Vec<_>>()
            .join("\n");
        let (head, omitted) = excerpt(&text, 100);
        assert!(head.chars().count() <= 100);
        assert!(head.ends_with(|c: char| c.is_ascii_digit()), "{head}");
        assert_eq!(head.chars().count() + omitted, text.chars().count());
    }

    #[test]
    fn short_results_are_kept_whole_and_multibyte_text_is_cut_safely() {
        assert_eq!(excerpt("ok", 10), ("ok".to_string(), 0));
        let (head, omitted) = excerpt(&"é".repeat(30), 10);
        assert_eq!(head.chars().count(), 10);
        assert_eq!(omitted, 20);
    }
}

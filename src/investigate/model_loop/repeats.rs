//! Repeated tool calls: the same tool with the same arguments after normalisation (keys in
//! order, whitespace collapsed, case folded, a trailing `;` dropped) counts as the same call,
//! so a model that rephrases `SELECT  *  FROM jobs` as `select * from jobs;` is told it already
//! has that answer instead of being served it again.

use serde_json::Value;
use std::collections::HashMap;

/// A normalised string: trimmed, whitespace runs as one space, lower case, no trailing `;`.
fn normalise_text(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace())
        .to_lowercase()
}

fn normalise(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(normalise_text(text)),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        Value::Object(map) => {
            let mut sorted: Vec<(&String, &Value)> = map.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                sorted
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.to_lowercase(), normalise(v)))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

/// The identity of a call: its tool and its normalised arguments.
pub(crate) fn signature(tool: &str, input: &Value) -> String {
    format!("{}:{}", tool.to_lowercase(), normalise(input))
}

/// The calls made so far, each with the evidence id of its result.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    seen: HashMap<String, String>,
    /// How many repeats were refused.
    pub(crate) refused: u32,
}

impl Calls {
    /// The evidence id of an earlier identical call, counting the refusal; `None` for a new
    /// call.
    pub(crate) fn earlier(&mut self, tool: &str, input: &Value) -> Option<String> {
        let found = self.seen.get(&signature(tool, input)).cloned();
        if found.is_some() {
            self.refused += 1;
        }
        found
    }

    /// Remembers a call and the evidence its result became.
    pub(crate) fn remember(&mut self, tool: &str, input: &Value, evidence: &str) {
        self.seen
            .insert(signature(tool, input), evidence.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rephrased_calls_are_the_same_call() {
        let mut calls = Calls::default();
        calls.remember(
            "sql_query",
            &json!({"source": "app", "sql": "SELECT * FROM jobs"}),
            "E3",
        );
        assert_eq!(
            calls.earlier(
                "sql_query",
                &json!({"sql": "  select *\n  from JOBS; ", "source": "app"})
            ),
            Some("E3".to_string())
        );
        assert_eq!(calls.refused, 1);
    }

    #[test]
    fn different_arguments_or_tools_are_new_calls() {
        let mut calls = Calls::default();
        calls.remember(
            "sql_query",
            &json!({"source": "app", "sql": "SELECT 1"}),
            "E1",
        );
        assert_eq!(
            calls.earlier("sql_query", &json!({"source": "app", "sql": "SELECT 2"})),
            None
        );
        assert_eq!(
            calls.earlier("explain", &json!({"source": "app", "sql": "SELECT 1"})),
            None
        );
        assert_eq!(
            calls.earlier("sql_query", &json!({"source": "other", "sql": "SELECT 1"})),
            None
        );
        assert_eq!(calls.refused, 0);
    }

    #[test]
    fn absent_and_null_arguments_are_the_same() {
        assert_eq!(
            signature("git_log", &json!({"path": null, "limit": 5})),
            signature("git_log", &json!({"limit": 5}))
        );
    }
}

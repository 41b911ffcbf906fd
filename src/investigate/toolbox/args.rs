//! A tool call's arguments, validated: an object with only the arguments the tool takes, each
//! of the right type and within its bounds. Every refusal says what the tool expects.

use serde_json::{Map, Value};

/// The arguments of one call of `tool`.
pub(super) struct Args<'a> {
    tool: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    /// `input` as the arguments of `tool`, which takes exactly `known`.
    pub(super) fn new(
        tool: &'static str,
        input: &'a Value,
        known: &[&str],
    ) -> Result<Self, String> {
        let Value::Object(map) = input else {
            return Err(format!(
                "{tool} takes a JSON object of arguments ({}), not {}",
                known.join(", "),
                kind_of(input)
            ));
        };
        if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(format!(
                "{tool} has no argument {unknown:?}; it takes: {}",
                known.join(", ")
            ));
        }
        Ok(Self { tool, map })
    }

    /// A required string argument, not blank, at most `max_chars` characters.
    pub(super) fn text(&self, key: &str, max_chars: usize) -> Result<&'a str, String> {
        self.optional_text(key, max_chars)?
            .ok_or_else(|| format!("{} needs the argument {key:?}", self.tool))
    }

    /// An optional string argument; blank counts as absent.
    pub(super) fn optional_text(
        &self,
        key: &str,
        max_chars: usize,
    ) -> Result<Option<&'a str>, String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) if text.chars().count() > max_chars => Err(format!(
                "{}: {key:?} is longer than {max_chars} characters",
                self.tool
            )),
            Some(Value::String(text)) if text.contains('\0') => {
                Err(format!("{}: {key:?} contains a NUL character", self.tool))
            }
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(other) => Err(format!(
                "{}: {key:?} must be a string, not {}",
                self.tool,
                kind_of(other)
            )),
        }
    }

    /// An optional whole number in `min..=max` (a number, or a string of digits).
    pub(super) fn optional_count(
        &self,
        key: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, String> {
        let number = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(number)) => number.as_u64(),
            Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match number {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!(
                "{}: {key:?} must be a whole number from {min} to {max}",
                self.tool
            )),
        }
    }
}

/// Picks the source named `given` among `names` (the configured sources of the kinds this
/// tool reads); with no name given and exactly one source, that one.
pub(super) fn pick_source<'n>(
    tool: &str,
    kinds: &str,
    names: &[&'n str],
    given: Option<&str>,
) -> Result<&'n str, String> {
    match given {
        Some(given) => names
            .iter()
            .copied()
            .find(|name| *name == given)
            .ok_or_else(|| {
                format!(
                    "no {kinds} source named {given:?}; sources: {}",
                    super::setup::listed(names)
                )
            }),
        None => match names {
            [only] => Ok(only),
            _ => Err(format!(
                "{tool} needs the argument \"source\": one of {}",
                super::setup::listed(names)
            )),
        },
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The JSON schema of an object with `properties`, of which `required` must be present; no
/// other property is allowed.
pub(super) fn object_schema(properties: Value, required: &[&str]) -> Value {
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The schema of a `source` argument naming one of `names`.
pub(super) fn source_property(names: &[&str], what: &str) -> Value {
    serde_json::json!({
        "type": "string",
        "enum": names,
        "description": what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_object_with_known_arguments_is_taken() {
        let known = &["source", "sql"];
        assert!(
            Args::new("sql_query", &json!("SELECT 1"), known)
                .err()
                .unwrap()
                .contains("JSON object of arguments (source, sql), not a string")
        );
        let unknown = Args::new("sql_query", &json!({"sql": "x", "write": true}), known)
            .err()
            .unwrap();
        assert_eq!(
            unknown,
            "sql_query has no argument \"write\"; it takes: source, sql"
        );
    }

    #[test]
    fn strings_are_required_typed_and_bounded() {
        let input = json!({"sql": "SELECT 1", "source": 3, "blank": "  ", "nul": "a\0b"});
        let args = Args::new("t", &input, &["sql", "source", "blank", "nul", "missing"]).unwrap();
        assert_eq!(args.text("sql", 100).unwrap(), "SELECT 1");
        assert!(args.text("sql", 3).unwrap_err().contains("longer than 3"));
        assert!(
            args.text("source", 10)
                .unwrap_err()
                .contains("must be a string, not a number")
        );
        assert_eq!(args.optional_text("blank", 10).unwrap(), None);
        assert!(
            args.text("blank", 10)
                .unwrap_err()
                .contains("needs the argument \"blank\"")
        );
        assert!(args.text("nul", 10).unwrap_err().contains("NUL"));
        assert_eq!(args.optional_text("missing", 10).unwrap(), None);
    }

    #[test]
    fn counts_accept_numbers_and_digit_strings_within_bounds() {
        let input = json!({"a": 5, "b": "7", "c": 0, "d": -1, "e": 2.5, "f": "many"});
        let args = Args::new("t", &input, &["a", "b", "c", "d", "e", "f", "g"]).unwrap();
        assert_eq!(args.optional_count("a", 1, 10).unwrap(), Some(5));
        assert_eq!(args.optional_count("b", 1, 10).unwrap(), Some(7));
        assert_eq!(args.optional_count("g", 1, 10).unwrap(), None);
        for key in ["c", "d", "e", "f"] {
            assert!(
                args.optional_count(key, 1, 10)
                    .unwrap_err()
                    .contains("whole number from 1 to 10"),
                "{key}"
            );
        }
    }

    #[test]
    fn sources_are_picked_by_name_or_alone() {
        assert_eq!(
            pick_source("t", "SQL", &["app", "ops"], Some("ops")),
            Ok("ops")
        );
        assert_eq!(
            pick_source("t", "SQL", &["app", "ops"], Some("prod")),
            Err("no SQL source named \"prod\"; sources: app, ops".to_string())
        );
        assert_eq!(pick_source("t", "SQL", &["app"], None), Ok("app"));
        assert!(
            pick_source("t", "SQL", &["app", "ops"], None)
                .unwrap_err()
                .contains("needs the argument \"source\": one of app, ops")
        );
    }
}

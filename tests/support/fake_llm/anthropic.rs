//! The fake Messages API's rules and answers, after Anthropic's documentation: the
//! `x-api-key` and `anthropic-version` headers; `model`, `max_tokens` (at least 1) and
//! `messages` required; `system` a string or text blocks; tools named `^[a-zA-Z0-9_-]{1,64}$`
//! with an object `input_schema`; at most 4 `cache_control` markers, each `ephemeral`; the
//! first message from the user and roles alternating (stricter than the API, which joins
//! consecutive turns: a client should send one turn per role); every `tool_result` first in
//! its user message and answering a `tool_use` of the assistant message just before, and every
//! such `tool_use` answered. Errors are `{"type":"error","error":{"type","message"}}`.

use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A message answer (`type: message`) with these content blocks.
pub fn message(content: Value, stop_reason: &str, usage: Value) -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": usage,
    })
}

/// A usage object with the cache counters.
pub fn usage(input: u64, output: u64, cache_write: u64, cache_read: u64) -> Value {
    json!({
        "input_tokens": input,
        "output_tokens": output,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
    })
}

/// An error body.
pub fn error(kind: &str, message: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    })
}

pub fn authenticate(headers: &HeaderMap, key: &str) -> Result<(), String> {
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        None => Err("x-api-key header is required".into()),
        Some(given) if given == key => Ok(()),
        Some(_) => Err("invalid x-api-key".into()),
    }
}

pub fn validate(headers: &HeaderMap, body: &Value) -> Result<(), String> {
    match headers
        .get("anthropic-version")
        .and_then(|v| v.to_str().ok())
    {
        None => return Err("anthropic-version: header is required".into()),
        Some("2023-06-01") => {}
        Some(other) => return Err(format!("anthropic-version: unknown version {other}")),
    }
    let json_content = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_content {
        return Err("content-type: must be application/json".into());
    }
    let body = body
        .as_object()
        .ok_or("the request body must be a JSON object")?;
    match body.get("model").and_then(Value::as_str) {
        Some(model) if !model.is_empty() => {}
        _ => return Err("model: Field required".into()),
    }
    match body.get("max_tokens").map(Value::as_u64) {
        None => return Err("max_tokens: Field required".into()),
        Some(Some(n)) if n >= 1 => {}
        Some(_) => return Err("max_tokens: Input should be greater than or equal to 1".into()),
    }
    if let Some(system) = body.get("system") {
        system_prompt(system)?;
    }
    if let Some(tools) = body.get("tools") {
        self::tools(tools)?;
    }
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("messages: Field required")?;
    self::messages(messages)?;
    cache_markers(&Value::Object(body.clone()))
}

fn system_prompt(system: &Value) -> Result<(), String> {
    match system {
        Value::String(_) => Ok(()),
        Value::Array(blocks) => {
            for (i, block) in blocks.iter().enumerate() {
                if block["type"] != "text" {
                    return Err(format!("system.{i}.type: Input should be 'text'"));
                }
                text_block(block, &format!("system.{i}"))?;
            }
            Ok(())
        }
        _ => Err("system: Input should be a valid string or list".into()),
    }
}

fn text_block(block: &Value, at: &str) -> Result<(), String> {
    match block["text"].as_str() {
        Some(text) if !text.trim().is_empty() => Ok(()),
        Some(_) => Err(format!(
            "{at}: text content blocks must contain non-whitespace text"
        )),
        None => Err(format!("{at}.text: Field required")),
    }
}

fn tools(tools: &Value) -> Result<(), String> {
    let tools = tools
        .as_array()
        .ok_or("tools: Input should be a valid list")?;
    let mut names = HashSet::new();
    for (i, tool) in tools.iter().enumerate() {
        let name = tool["name"]
            .as_str()
            .ok_or(format!("tools.{i}.name: Field required"))?;
        let valid = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!(
                "tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            ));
        }
        if !names.insert(name) {
            return Err("tools: Tool names must be unique.".into());
        }
        if !tool["description"].is_null() && !tool["description"].is_string() {
            return Err(format!(
                "tools.{i}.description: Input should be a valid string"
            ));
        }
        if !tool["input_schema"].is_object() {
            return Err(format!("tools.{i}.input_schema: Field required"));
        }
        if tool["input_schema"]["type"] != "object" {
            return Err(format!(
                "tools.{i}.input_schema.type: Input should be 'object'"
            ));
        }
    }
    Ok(())
}

fn messages(messages: &[Value]) -> Result<(), String> {
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    for (i, message) in messages.iter().enumerate() {
        let role = match message["role"].as_str() {
            Some(role @ ("user" | "assistant")) => role,
            _ => {
                return Err(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                ));
            }
        };
        if i == 0 && role != "user" {
            return Err("messages: first message must use the \"user\" role".into());
        }
        if i > 0 && messages[i - 1]["role"] == role {
            return Err(format!(
                "messages: roles must alternate between \"user\" and \"assistant\", but found \
                 multiple \"{role}\" roles in a row"
            ));
        }
        let blocks = content(message, i)?;
        for (j, block) in blocks.iter().enumerate() {
            content_block(block, role, &format!("messages.{i}.content.{j}"))?;
        }
        if role == "user" {
            let previous = i.checked_sub(1).map(|p| &messages[p]);
            results_answer_calls(&blocks, previous, i)?;
        }
    }
    Ok(())
}

/// The message's content as blocks (a string is one text block).
fn content(message: &Value, i: usize) -> Result<Vec<Value>, String> {
    match &message["content"] {
        Value::String(text) if text.is_empty() => Err(format!(
            "messages.{i}: all messages must have non-empty content except for the optional \
             final assistant message"
        )),
        Value::String(text) => Ok(vec![json!({"type": "text", "text": text})]),
        Value::Array(blocks) if blocks.is_empty() => Err(format!(
            "messages.{i}: all messages must have non-empty content except for the optional \
             final assistant message"
        )),
        Value::Array(blocks) => Ok(blocks.clone()),
        _ => Err(format!("messages.{i}.content: Field required")),
    }
}

fn content_block(block: &Value, role: &str, at: &str) -> Result<(), String> {
    match (block["type"].as_str(), role) {
        (Some("text"), _) => text_block(block, at),
        (Some("tool_use"), "assistant") => {
            for key in ["id", "name"] {
                if block[key].as_str().is_none_or(str::is_empty) {
                    return Err(format!("{at}.{key}: Field required"));
                }
            }
            if !block["input"].is_object() {
                return Err(format!("{at}.input: Input should be a valid dictionary"));
            }
            Ok(())
        }
        (Some("tool_result"), "user") => {
            if !block["tool_use_id"].is_string() {
                return Err(format!("{at}.tool_use_id: Field required"));
            }
            match &block["content"] {
                Value::Null | Value::String(_) => {}
                Value::Array(parts) => {
                    for (k, part) in parts.iter().enumerate() {
                        text_block(part, &format!("{at}.content.{k}"))?;
                    }
                }
                _ => {
                    return Err(format!(
                        "{at}.content: Input should be a valid string or list"
                    ));
                }
            }
            if !block["is_error"].is_null() && !block["is_error"].is_boolean() {
                return Err(format!("{at}.is_error: Input should be a valid boolean"));
            }
            Ok(())
        }
        (Some(kind @ ("tool_use" | "tool_result")), role) => Err(format!(
            "{at}.type: `{kind}` blocks are not allowed in \"{role}\" messages"
        )),
        (Some(kind), _) => Err(format!(
            "{at}.type: Input tag '{kind}' is not an expected tag"
        )),
        (None, _) => Err(format!("{at}.type: Field required")),
    }
}

/// Every `tool_result` comes first and answers a `tool_use` of the message before, and every
/// such `tool_use` is answered here.
fn results_answer_calls(
    blocks: &[Value],
    previous: Option<&Value>,
    i: usize,
) -> Result<(), String> {
    let calls: Vec<&str> = match previous {
        Some(message) => match &message["content"] {
            Value::Array(blocks) => blocks
                .iter()
                .filter(|b| b["type"] == "tool_use")
                .filter_map(|b| b["id"].as_str())
                .collect(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut answered = HashSet::new();
    let mut past_results = false;
    for (j, block) in blocks.iter().enumerate() {
        if block["type"] != "tool_result" {
            past_results = true;
            continue;
        }
        let id = block["tool_use_id"].as_str().unwrap_or_default();
        if past_results {
            return Err(format!(
                "messages.{i}.content.{j}: `tool_result` blocks must come before any other \
                 content in the user message"
            ));
        }
        if !calls.contains(&id) {
            return Err(format!(
                "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` \
                 blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` \
                 block in the previous message."
            ));
        }
        answered.insert(id);
    }
    let missing: Vec<&str> = calls
        .iter()
        .copied()
        .filter(|id| !answered.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately \
             after: {}. Each `tool_use` block must have a corresponding `tool_result` block in \
             the next message.",
            missing.join(", ")
        ));
    }
    Ok(())
}

/// At most 4 `cache_control` markers, each `{"type":"ephemeral"}` (with an optional `ttl`).
fn cache_markers(body: &Value) -> Result<(), String> {
    fn walk(value: &Value, found: &mut Vec<Value>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if key == "cache_control" {
                        found.push(inner.clone());
                    } else {
                        walk(inner, found);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    // Tool input schemas are the caller's own JSON: markers count only outside them.
    let mut outside_schemas = body.clone();
    if let Some(tools) = outside_schemas["tools"].as_array_mut() {
        for tool in tools {
            tool["input_schema"] = Value::Null;
        }
    }
    walk(&outside_schemas, &mut found);
    if found.len() > 4 {
        return Err(format!(
            "A maximum of 4 blocks with cache_control may be provided. Found {}.",
            found.len()
        ));
    }
    for marker in found {
        let ttl_ok = matches!(marker["ttl"].as_str(), None | Some("5m") | Some("1h"));
        if marker["type"] != "ephemeral" || !ttl_ok {
            return Err(format!(
                "cache_control: Input should be {{\"type\": \"ephemeral\"}}, got {marker}"
            ));
        }
    }
    Ok(())
}

//! The fake chat completions API's rules and answers, after OpenAI's API reference: `model`
//! and a non-empty `messages` required; roles `system`, `developer`, `user`, `assistant`,
//! `tool`; an assistant message has text or `tool_calls` (`id`, `type: function`,
//! `function.name`, `function.arguments` as a string); every `tool` message names, in
//! `tool_call_id`, a call of the assistant message before it, and every call is answered before
//! the conversation goes on; tools are `{"type":"function","function":{name, description,
//! parameters}}`; `max_tokens`/`max_completion_tokens` at least 1; no streaming. Errors are
//! `{"error":{"message","type","param","code"}}`.

use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A `chat.completion` answer with this assistant message.
pub fn completion(message: Value, finish_reason: &str, usage: Value) -> Value {
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "smollm2",
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": usage,
    })
}

/// A usage object; `cached` goes under `prompt_tokens_details.cached_tokens`.
pub fn usage(prompt: u64, completion: u64, cached: u64) -> Value {
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

/// An assistant message calling `calls` (id, name, arguments string), with null content.
pub fn tool_calls(calls: &[(&str, &str, &str)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, arguments)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
        })
        .collect();
    json!({"role": "assistant", "content": null, "tool_calls": calls, "refusal": null})
}

/// An error body.
pub fn error(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

pub fn authenticate(headers: &HeaderMap, key: Option<&str>) -> Result<(), String> {
    let Some(key) = key else {
        return Ok(());
    };
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        None => Err(
            "You didn't provide an API key. You need to provide your API key in an \
                     Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                .into(),
        ),
        Some(given) if given == format!("Bearer {key}") => Ok(()),
        Some(_) => Err("Incorrect API key provided.".into()),
    }
}

pub fn validate(headers: &HeaderMap, body: &Value) -> Result<(), String> {
    let json_content = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_content {
        return Err("Invalid content type: the body must be application/json".into());
    }
    let body = body
        .as_object()
        .ok_or("We could not parse the JSON body of your request.")?;
    if body
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("you must provide a model parameter".into());
    }
    for key in ["max_tokens", "max_completion_tokens"] {
        if let Some(value) = body.get(key)
            && value.as_u64().is_none_or(|n| n < 1)
        {
            return Err(format!(
                "Invalid '{key}': integer below minimum value. Expected a value >= 1."
            ));
        }
    }
    if body.get("stream").is_some_and(|s| s != &json!(false)) {
        return Err("this endpoint answers only non-streaming requests".into());
    }
    if let Some(tools) = body.get("tools") {
        self::tools(tools)?;
    }
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("Missing required parameter: 'messages'.")?;
    if messages.is_empty() {
        return Err("[] is too short - 'messages'".into());
    }
    for (i, message) in messages.iter().enumerate() {
        self::message(message, i)?;
    }
    calls_answered(messages)
}

fn tools(tools: &Value) -> Result<(), String> {
    let tools = tools
        .as_array()
        .ok_or("Invalid type for 'tools': expected an array.")?;
    for (i, tool) in tools.iter().enumerate() {
        if tool["type"] != "function" {
            return Err(format!(
                "Invalid value for 'tools[{i}].type': expected 'function'."
            ));
        }
        let name = tool["function"]["name"].as_str().ok_or(format!(
            "Missing required parameter: 'tools[{i}].function.name'."
        ))?;
        let valid = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!(
                "Invalid 'tools[{i}].function.name': string does not match pattern. Expected a \
                 string that matches the pattern '^[a-zA-Z0-9_-]+$'."
            ));
        }
        let parameters = &tool["function"]["parameters"];
        if !parameters.is_null() && !parameters.is_object() {
            return Err(format!(
                "Invalid type for 'tools[{i}].function.parameters': expected an object."
            ));
        }
    }
    Ok(())
}

fn message(message: &Value, i: usize) -> Result<(), String> {
    let role = message["role"].as_str().unwrap_or_default();
    let content = &message["content"];
    let text_or_parts = content.is_string() || content.is_array();
    match role {
        "system" | "developer" | "user" if !text_or_parts => Err(format!(
            "Missing required parameter: 'messages[{i}].content'."
        )),
        "system" | "developer" | "user" => Ok(()),
        "assistant" => {
            let calls = match &message["tool_calls"] {
                Value::Null => &[][..],
                Value::Array(calls) => calls.as_slice(),
                _ => {
                    return Err(format!(
                        "Invalid type for 'messages[{i}].tool_calls': expected an array."
                    ));
                }
            };
            if !content.is_null() && !text_or_parts {
                return Err(format!(
                    "Invalid type for 'messages[{i}].content': expected one of a string or array \
                     of objects."
                ));
            }
            if content.is_null() && calls.is_empty() {
                return Err(format!(
                    "Missing required parameter: 'messages[{i}].content'."
                ));
            }
            for (k, call) in calls.iter().enumerate() {
                let at = format!("messages[{i}].tool_calls[{k}]");
                if call["id"].as_str().is_none_or(str::is_empty) {
                    return Err(format!("Missing required parameter: '{at}.id'."));
                }
                if call["type"] != "function" {
                    return Err(format!("Missing required parameter: '{at}.type'."));
                }
                if !call["function"]["name"].is_string() {
                    return Err(format!("Missing required parameter: '{at}.function.name'."));
                }
                if !call["function"]["arguments"].is_string() {
                    return Err(format!(
                        "Invalid type for '{at}.function.arguments': expected a string, but got \
                         {} instead.",
                        kind(&call["function"]["arguments"])
                    ));
                }
            }
            Ok(())
        }
        "tool" => {
            if !message["tool_call_id"].is_string() {
                return Err(format!(
                    "Missing required parameter: 'messages[{i}].tool_call_id'."
                ));
            }
            if !text_or_parts {
                return Err(format!(
                    "Missing required parameter: 'messages[{i}].content'."
                ));
            }
            Ok(())
        }
        other => Err(format!(
            "Invalid value: '{other}'. Supported values are: 'system', 'assistant', 'user', \
             'function', 'tool', and 'developer'."
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Tool messages answer the calls of the assistant message before them, each once, and all of
/// them before any other message.
fn calls_answered(messages: &[Value]) -> Result<(), String> {
    let mut open: Vec<String> = Vec::new();
    let mut answerable: HashSet<String> = HashSet::new();
    for message in messages {
        let role = message["role"].as_str().unwrap_or_default();
        if role == "tool" {
            let id = message["tool_call_id"].as_str().unwrap_or_default();
            if !answerable.remove(id) {
                return Err(
                    "Invalid parameter: messages with role 'tool' must be a response to a \
                            preceeding message with 'tool_calls'."
                        .into(),
                );
            }
            open.retain(|open_id| open_id != id);
            continue;
        }
        if !open.is_empty() {
            return Err(format!(
                "An assistant message with 'tool_calls' must be followed by tool messages \
                 responding to each 'tool_call_id'. The following tool_call_ids did not have \
                 response messages: {}",
                open.join(", ")
            ));
        }
        answerable.clear();
        if let Some(calls) = message["tool_calls"].as_array() {
            for call in calls {
                let id = call["id"].as_str().unwrap_or_default().to_string();
                open.push(id.clone());
                answerable.insert(id);
            }
        }
    }
    if !open.is_empty() {
        return Err(format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding \
             to each 'tool_call_id'. The following tool_call_ids did not have response \
             messages: {}",
            open.join(", ")
        ));
    }
    Ok(())
}

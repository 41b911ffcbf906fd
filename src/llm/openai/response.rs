//! Reading chat completions answers, as OpenAI and the compatible servers give them: the first
//! choice's `message` (`content` text or null, `tool_calls` whose `arguments` are a JSON
//! string, `refusal`), its `finish_reason`, and `usage` (`prompt_tokens`, `completion_tokens`,
//! `prompt_tokens_details.cached_tokens`); and the error bodies (`{"error":{"message","type",
//! "code"}}` and the looser shapes of the local servers).
//!
//! Small local models often write arguments that are not a JSON object: such a call is a
//! [`Block::MalformedToolCall`]. Tool calls written into the text (as some llama.cpp versions
//! return them) stay text: guessing at them could run what the model never asked for.

use crate::llm::http::{ServerError, body_start};
use crate::llm::{Block, Reply, StopReason, Usage};
use serde_json::Value;

/// The reply in a 2xx body, or what is wrong with its shape.
pub(crate) fn reply(body: &Value) -> Result<Reply, String> {
    let choice = body
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|choices| choices.first())
        .ok_or("no `choices`")?;
    let message = choice
        .get("message")
        .filter(|m| m.is_object())
        .ok_or("the first choice has no `message`")?;
    let mut blocks = Vec::new();
    if let Some(text) = content_text(message.get("content"))? {
        blocks.push(Block::Text(text));
    }
    let refusal = message
        .get("refusal")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty());
    if let Some(refusal) = refusal {
        blocks.push(Block::Text(refusal.to_string()));
    }
    let calls = match message.get("tool_calls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(calls)) => calls.clone(),
        Some(_) => return Err("`tool_calls` is not an array".into()),
    };
    for (index, call) in calls.iter().enumerate() {
        blocks.push(tool_call(call, index));
    }
    let finish = choice.get("finish_reason").and_then(Value::as_str);
    let stop = if refusal.is_some() {
        StopReason::Refusal
    } else {
        finish_reason(finish, !calls.is_empty())
    };
    Ok(Reply {
        blocks,
        stop,
        usage: usage(body.get("usage")),
    })
}

/// The message's text: a string, null, or (as some servers send) an array of text parts.
fn content_text(content: Option<&Value>) -> Result<Option<String>, String> {
    let text = match content {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        Some(_) => return Err("the message's `content` is neither text nor null".into()),
    };
    Ok((!text.trim().is_empty()).then_some(text))
}

fn tool_call(call: &Value, index: usize) -> Block {
    // Some servers give no id; the call still needs one for its result to name.
    let id = match call.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => format!("call_{index}"),
    };
    let function = call.get("function").unwrap_or(&Value::Null);
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let malformed = |raw: String, problem: &str| Block::MalformedToolCall {
        id: id.clone(),
        name: name.clone(),
        raw,
        problem: problem.to_string(),
    };
    let arguments = function.get("arguments").unwrap_or(&Value::Null);
    if name.is_empty() {
        return malformed(raw_arguments(arguments), "the call names no function");
    }
    let input = match arguments {
        // Arguments are a JSON string by the format; a bare object (as some servers send)
        // is read as it is, and no arguments at all as none.
        Value::String(text) if text.trim().is_empty() => Value::Object(Default::default()),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(parsed) if parsed.is_object() => parsed,
            Ok(_) => return malformed(text.clone(), "the arguments are not a JSON object"),
            Err(e) => {
                return malformed(
                    text.clone(),
                    &format!("the arguments are not valid JSON: {e}"),
                );
            }
        },
        Value::Object(_) => arguments.clone(),
        Value::Null => Value::Object(Default::default()),
        other => return malformed(other.to_string(), "the arguments are not a JSON object"),
    };
    Block::ToolCall { id, name, input }
}

fn raw_arguments(arguments: &Value) -> String {
    match arguments {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `finish_reason` as a stop reason. A "stop" that comes with tool calls (as Ollama answers)
/// waits for their results all the same.
fn finish_reason(reason: Option<&str>, has_calls: bool) -> StopReason {
    match reason {
        Some("tool_calls") | Some("function_call") => StopReason::ToolUse,
        Some("stop") | None if has_calls => StopReason::ToolUse,
        Some("stop") => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some(other) => StopReason::Other(other.to_string()),
        None => StopReason::Other("none".into()),
    }
}

/// Usage split as [`Usage`] counts it: cached prompt tokens apart from the rest. Servers that
/// report none count zero.
fn usage(usage: Option<&Value>) -> Usage {
    let Some(usage) = usage else {
        return Usage::default();
    };
    let count = |value: &Value| value.as_u64().unwrap_or(0);
    let prompt = count(&usage["prompt_tokens"]);
    let cached = count(&usage["prompt_tokens_details"]["cached_tokens"]).min(prompt);
    Usage {
        input_tokens: prompt - cached,
        output_tokens: count(&usage["completion_tokens"]),
        cache_read_tokens: cached,
        cache_write_tokens: 0,
    }
}

/// What an error answer says, from OpenAI's `{"error":{"message","type","code"}}`, a bare
/// `{"error":"..."}` (Ollama) or a top-level `message` (vLLM); a used-up quota is permanent.
pub(crate) fn server_error(body: &[u8]) -> ServerError {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return ServerError {
            detail: body_start(body),
            permanent: false,
        };
    };
    let (kind, message, code) = match &json["error"] {
        Value::String(message) => (None, Some(message.as_str()), None),
        Value::Object(error) => (
            error.get("type").and_then(Value::as_str),
            error.get("message").and_then(Value::as_str),
            error.get("code").and_then(Value::as_str),
        ),
        _ => (
            json["type"].as_str(),
            json["message"].as_str(),
            json["code"].as_str(),
        ),
    };
    let detail = match (kind, message) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (None, Some(message)) => message.to_string(),
        (Some(kind), None) => kind.to_string(),
        (None, None) => body_start(body),
    };
    ServerError {
        detail,
        permanent: code == Some("insufficient_quota") || kind == Some("insufficient_quota"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn completion(message: Value, finish: &str) -> Value {
        json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                      "prompt_tokens_details": {"cached_tokens": 64}},
        })
    }

    #[test]
    fn tool_calls_with_null_content_parse_their_string_arguments() {
        let body = completion(
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "sql", "arguments": "{\"query\": \"select 1\"}"}},
            ]}),
            "tool_calls",
        );
        let reply = reply(&body).unwrap();
        assert_eq!(
            reply.blocks,
            vec![Block::ToolCall {
                id: "call_a".into(),
                name: "sql".into(),
                input: json!({"query": "select 1"})
            }]
        );
        assert_eq!(reply.stop, StopReason::ToolUse);
        assert_eq!(
            reply.usage,
            Usage {
                input_tokens: 36,
                output_tokens: 20,
                cache_read_tokens: 64,
                cache_write_tokens: 0
            }
        );
    }

    #[test]
    fn unreadable_arguments_make_malformed_calls() {
        let body = completion(
            json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "sql", "arguments": "{query: select 1"}},
                {"id": "c2", "type": "function", "function": {"name": "sql", "arguments": "[1, 2]"}},
                {"id": "c3", "type": "function", "function": {"arguments": "{}"}},
            ]}),
            "tool_calls",
        );
        let blocks = reply(&body).unwrap().blocks;
        assert_eq!(blocks.len(), 3);
        match &blocks[0] {
            Block::MalformedToolCall {
                id,
                name,
                raw,
                problem,
            } => {
                assert_eq!((id.as_str(), name.as_str()), ("c1", "sql"));
                assert_eq!(raw, "{query: select 1");
                assert!(
                    problem.starts_with("the arguments are not valid JSON"),
                    "{problem}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&blocks[1], Block::MalformedToolCall { problem, raw, .. }
            if problem == "the arguments are not a JSON object" && raw == "[1, 2]")
        );
        assert!(
            matches!(&blocks[2], Block::MalformedToolCall { problem, name, .. }
            if problem == "the call names no function" && name.is_empty())
        );
    }

    #[test]
    fn loose_server_shapes_are_read() {
        // Ollama: arguments as an object, no id, finish_reason "stop" with calls.
        let body = completion(
            json!({"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "logs", "arguments": {"pattern": "ERROR"}}},
                {"function": {"name": "status", "arguments": ""}},
            ]}),
            "stop",
        );
        let reply = reply(&body).unwrap();
        assert_eq!(
            reply.blocks,
            vec![
                Block::ToolCall {
                    id: "call_0".into(),
                    name: "logs".into(),
                    input: json!({"pattern": "ERROR"})
                },
                Block::ToolCall {
                    id: "call_1".into(),
                    name: "status".into(),
                    input: json!({})
                },
            ]
        );
        assert_eq!(reply.stop, StopReason::ToolUse);
        // A call written into the text stays text.
        let text = "<tool_call>{\"name\": \"sql\"}</tool_call>";
        let reply = self::reply(&completion(
            json!({"role": "assistant", "content": text}),
            "stop",
        ))
        .unwrap();
        assert_eq!(reply.blocks, vec![Block::Text(text.into())]);
        assert_eq!(reply.stop, StopReason::EndTurn);
    }

    #[test]
    fn finish_reasons_and_refusals_map() {
        assert_eq!(finish_reason(Some("stop"), false), StopReason::EndTurn);
        assert_eq!(finish_reason(Some("length"), false), StopReason::MaxTokens);
        assert_eq!(finish_reason(Some("tool_calls"), true), StopReason::ToolUse);
        assert_eq!(
            finish_reason(Some("content_filter"), false),
            StopReason::Other("content_filter".into())
        );
        let reply = reply(&completion(
            json!({"role": "assistant", "content": null, "refusal": "I can't help with that."}),
            "stop",
        ))
        .unwrap();
        assert_eq!(reply.stop, StopReason::Refusal);
        assert_eq!(reply.text(), "I can't help with that.");
    }

    #[test]
    fn missing_pieces_are_named_and_missing_usage_counts_zero() {
        assert_eq!(
            reply(&json!({"object": "list"})).unwrap_err(),
            "no `choices`"
        );
        assert_eq!(
            reply(&json!({"choices": [{"finish_reason": "stop"}]})).unwrap_err(),
            "the first choice has no `message`"
        );
        let reply =
            reply(&json!({"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}))
                .unwrap();
        assert_eq!(reply.usage, Usage::default());
    }

    #[test]
    fn error_bodies_of_each_server_shape() {
        let openai = br#"{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
        assert_eq!(
            server_error(openai).detail,
            "invalid_request_error: The model `gpt-9` does not exist"
        );
        let quota = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        assert!(server_error(quota).permanent);
        let llama =
            br#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#;
        assert_eq!(
            server_error(llama),
            ServerError {
                detail: "unavailable_error: Loading model".into(),
                permanent: false
            }
        );
        assert_eq!(
            server_error(br#"{"error":"model 'x' not found"}"#).detail,
            "model 'x' not found"
        );
        let vllm = br#"{"object":"error","message":"max_tokens too large","type":"BadRequestError","param":null,"code":400}"#;
        assert_eq!(
            server_error(vllm).detail,
            "BadRequestError: max_tokens too large"
        );
    }
}

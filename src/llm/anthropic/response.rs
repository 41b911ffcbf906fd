//! Reading the Messages API's answers: a message (`content` blocks, `stop_reason`, `usage`
//! with the cache counters) into a [`Reply`], and an error body
//! (`{"type":"error","error":{"type":..,"message":..}}`) into what a failure says. Block types
//! Sentinel does not use (`thinking`, server tools) are skipped; a `tool_use` that cannot be
//! read is kept as a malformed call.

use crate::llm::http::{ServerError, body_start};
use crate::llm::{Block, Reply, StopReason, Usage};
use serde_json::Value;

/// The reply in a 2xx body, or what is wrong with its shape.
pub(crate) fn reply(body: &Value) -> Result<Reply, String> {
    let content = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or("no `content` array")?;
    let stop = body
        .get("stop_reason")
        .and_then(Value::as_str)
        .ok_or("no `stop_reason`")?;
    let usage = body.get("usage").ok_or("no `usage`")?;
    let mut blocks = Vec::new();
    for (index, block) in content.iter().enumerate() {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                let text = block
                    .get("text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("content block {index} is text without a `text`"))?;
                blocks.push(Block::Text(text.to_string()));
            }
            Some("tool_use") => blocks.push(tool_use(block, index)),
            Some(_) => {}
            None => return Err(format!("content block {index} has no `type`")),
        }
    }
    Ok(Reply {
        blocks,
        stop: stop_reason(stop),
        usage: self::usage(usage)?,
    })
}

fn tool_use(block: &Value, index: usize) -> Block {
    let text = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or_default();
    let id = match text("id") {
        "" => format!("toolu_missing_{index}"),
        id => id.to_string(),
    };
    let name = text("name").to_string();
    let input = block.get("input").cloned().unwrap_or(Value::Null);
    let problem = if name.is_empty() {
        Some("the call names no tool")
    } else if !input.is_object() {
        Some("the call's input is not a JSON object")
    } else {
        None
    };
    match problem {
        None => Block::ToolCall { id, name, input },
        Some(problem) => Block::MalformedToolCall {
            id,
            name,
            raw: input.to_string(),
            problem: problem.to_string(),
        },
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        "refusal" => StopReason::Refusal,
        other => StopReason::Other(other.to_string()),
    }
}

fn usage(usage: &Value) -> Result<Usage, String> {
    let count = |key: &str| usage.get(key).and_then(Value::as_u64);
    Ok(Usage {
        input_tokens: count("input_tokens").ok_or("no `usage.input_tokens`")?,
        output_tokens: count("output_tokens").ok_or("no `usage.output_tokens`")?,
        cache_read_tokens: count("cache_read_input_tokens").unwrap_or(0),
        cache_write_tokens: count("cache_creation_input_tokens").unwrap_or(0),
    })
}

/// What an error answer says: `type: message` and the request id; a spend cap reached is
/// permanent even under 429.
pub(crate) fn server_error(body: &[u8]) -> ServerError {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return ServerError {
            detail: body_start(body),
            permanent: false,
        };
    };
    let error = &json["error"];
    let kind = error["type"].as_str().unwrap_or_default();
    let message = error["message"].as_str().unwrap_or_default();
    let mut detail = match (kind, message) {
        ("", "") => body_start(body),
        ("", message) => message.to_string(),
        (kind, "") => kind.to_string(),
        (kind, message) => format!("{kind}: {message}"),
    };
    if let Some(id) = json["request_id"].as_str() {
        detail.push_str(&format!(" (request {id})"));
    }
    ServerError {
        detail,
        permanent: error["details"]["error_code"] == "enforced_spend_limit_reached",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tool_use_message_becomes_calls_with_usage_and_cache_counters() {
        let body = json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "abc"},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "sql", "input": {"query": "select 1"}},
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 12, "output_tokens": 30,
                      "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 0},
        });
        let reply = reply(&body).unwrap();
        assert_eq!(
            reply.blocks,
            vec![
                Block::Text("Let me look.".into()),
                Block::ToolCall {
                    id: "toolu_1".into(),
                    name: "sql".into(),
                    input: json!({"query": "select 1"})
                },
            ]
        );
        assert_eq!(reply.stop, StopReason::ToolUse);
        assert_eq!(
            reply.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 30,
                cache_read_tokens: 0,
                cache_write_tokens: 2000
            }
        );
    }

    #[test]
    fn stop_reasons_map_and_unknown_ones_keep_their_name() {
        for (wire, expected) in [
            ("end_turn", StopReason::EndTurn),
            ("tool_use", StopReason::ToolUse),
            ("max_tokens", StopReason::MaxTokens),
            ("refusal", StopReason::Refusal),
            ("pause_turn", StopReason::Other("pause_turn".into())),
            ("stop_sequence", StopReason::Other("stop_sequence".into())),
        ] {
            assert_eq!(stop_reason(wire), expected);
        }
    }

    #[test]
    fn missing_pieces_are_named() {
        let usage = json!({"input_tokens": 1, "output_tokens": 1});
        assert_eq!(
            reply(&json!({"stop_reason": "end_turn", "usage": usage})).unwrap_err(),
            "no `content` array"
        );
        assert_eq!(
            reply(&json!({"content": [], "usage": usage})).unwrap_err(),
            "no `stop_reason`"
        );
        assert_eq!(
            reply(&json!({"content": [], "stop_reason": "end_turn", "usage": {"input_tokens": 1}}))
                .unwrap_err(),
            "no `usage.output_tokens`"
        );
        assert_eq!(
            reply(&json!({"content": [{"text": "x"}], "stop_reason": "end_turn", "usage": usage}))
                .unwrap_err(),
            "content block 0 has no `type`"
        );
    }

    #[test]
    fn a_tool_use_without_object_input_or_name_is_malformed() {
        let body = json!({
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "sql", "input": "select 1"},
                {"type": "tool_use", "id": "toolu_2", "input": {}},
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        });
        let blocks = reply(&body).unwrap().blocks;
        assert_eq!(
            blocks[0],
            Block::MalformedToolCall {
                id: "toolu_1".into(),
                name: "sql".into(),
                raw: "\"select 1\"".into(),
                problem: "the call's input is not a JSON object".into()
            }
        );
        assert!(
            matches!(&blocks[1], Block::MalformedToolCall { problem, .. } if problem == "the call names no tool")
        );
    }

    #[test]
    fn error_bodies_give_type_message_and_request_id() {
        let overloaded = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011"}"#;
        assert_eq!(
            server_error(overloaded),
            ServerError {
                detail: "overloaded_error: Overloaded (request req_011)".into(),
                permanent: false
            }
        );
        let cap = br#"{"type":"error","error":{"type":"rate_limit_error","message":"spend cap","details":{"error_code":"enforced_spend_limit_reached"}}}"#;
        assert!(server_error(cap).permanent);
        assert_eq!(
            server_error(b"<html>bad gateway</html>").detail,
            "<html>bad gateway</html>"
        );
        assert_eq!(server_error(b"").detail, "no explanation in the answer");
    }
}

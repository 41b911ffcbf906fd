//! The Messages API request body for a [`Request`]: the system prompt as one text block and
//! the last tool definition both marked `cache_control: ephemeral` (the API caches tools, then
//! system, as a prefix), and so is the last block of the conversation, so each turn of a long
//! investigation reads the turns before it from the cache. One turn per role, tool results
//! first in their user turn, as the API requires.

use crate::llm::{Block, Message, Request, Role, ToolDefinition, turns};
use serde_json::{Value, json};

/// The name sent for a malformed call that had none: the API needs one to pair its result.
const UNNAMED_TOOL: &str = "unnamed_tool";

fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// The JSON body of `POST /v1/messages`.
pub(crate) fn body(model: &str, request: &Request) -> Value {
    let mut body = json!({
        "model": model,
        "max_tokens": request.max_tokens,
        "messages": messages(&request.messages),
    });
    if !request.system.trim().is_empty() {
        body["system"] = json!([{
            "type": "text",
            "text": request.system,
            "cache_control": ephemeral(),
        }]);
    }
    if !request.tools.is_empty() {
        let mut tools: Vec<Value> = request.tools.iter().map(tool).collect();
        if let Some(last) = tools.last_mut() {
            last["cache_control"] = ephemeral();
        }
        body["tools"] = Value::Array(tools);
    }
    body
}

fn tool(tool: &ToolDefinition) -> Value {
    json!({
        "name": tool.name,
        "description": tool.description,
        "input_schema": tool.input_schema,
    })
}

fn messages(messages: &[Message]) -> Vec<Value> {
    // Blocks the API refuses (empty text) are left out first, so a turn they emptied joins
    // its neighbours.
    let kept: Vec<Message> = messages
        .iter()
        .map(|message| Message {
            role: message.role,
            blocks: message
                .blocks
                .iter()
                .filter(|block| !matches!(block, Block::Text(text) if text.trim().is_empty()))
                .cloned()
                .collect(),
        })
        .filter(|message| !message.blocks.is_empty())
        .collect();
    let mut wire: Vec<Value> = turns(&kept)
        .into_iter()
        .map(|turn| {
            let mut content: Vec<Value> = turn.blocks.iter().map(block).collect();
            if turn.role == Role::User {
                // Stable: results keep their order, and so does the text after them.
                content.sort_by_key(|block| block["type"] != "tool_result");
            }
            json!({"role": role(turn.role), "content": content})
        })
        .collect();
    if let Some(last_block) = wire
        .last_mut()
        .and_then(|turn| turn["content"].as_array_mut())
        .and_then(|content| content.last_mut())
    {
        last_block["cache_control"] = ephemeral();
    }
    wire
}

fn role(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn block(block: &Block) -> Value {
    match block {
        Block::Text(text) => json!({"type": "text", "text": text}),
        Block::ToolCall { id, name, input } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": input})
        }
        // Sent back as a call without input, so the error result the loop gives it pairs up.
        Block::MalformedToolCall { id, name, .. } => json!({
            "type": "tool_use",
            "id": id,
            "name": if name.is_empty() { UNNAMED_TOOL } else { name },
            "input": {},
        }),
        Block::ToolResult {
            call_id,
            content,
            is_error,
        } => {
            let mut result = json!({"type": "tool_result", "tool_use_id": call_id});
            if !content.is_empty() {
                result["content"] = json!(content);
            }
            if *is_error {
                result["is_error"] = json!(true);
            }
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(messages: Vec<Message>) -> Request {
        Request {
            system: "You investigate.".into(),
            tools: vec![
                ToolDefinition {
                    name: "sql".into(),
                    description: "Runs a read-only query".into(),
                    input_schema: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
                },
                ToolDefinition {
                    name: "logs".into(),
                    description: "Searches logs".into(),
                    input_schema: json!({"type": "object"}),
                },
            ],
            messages,
            max_tokens: 1024,
        }
    }

    fn result(id: &str, content: &str, is_error: bool) -> Message {
        Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                call_id: id.into(),
                content: content.into(),
                is_error,
            }],
        }
    }

    #[test]
    fn system_and_the_last_tool_carry_cache_markers() {
        let body = body("claude-x", &request(vec![Message::user("why?")]));
        assert_eq!(body["model"], "claude-x");
        assert_eq!(body["max_tokens"], 1024);
        assert_eq!(
            body["system"],
            json!([{"type": "text", "text": "You investigate.", "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(body["tools"][0].get("cache_control"), None);
        assert_eq!(
            body["tools"][1]["cache_control"],
            json!({"type": "ephemeral"})
        );
        assert_eq!(
            body["tools"][0]["input_schema"]["properties"]["query"]["type"],
            "string"
        );
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": [
                {"type": "text", "text": "why?", "cache_control": {"type": "ephemeral"}}
            ]}])
        );
    }

    #[test]
    fn no_system_block_and_no_tools_when_there_are_none() {
        let mut request = request(vec![Message::user("hi")]);
        request.system = String::new();
        request.tools.clear();
        let body = body("m", &request);
        assert_eq!(body.get("system"), None);
        assert_eq!(body.get("tools"), None);
    }

    #[test]
    fn consecutive_results_form_one_user_turn_with_results_first() {
        let messages = vec![
            Message::user("why?"),
            Message {
                role: Role::Assistant,
                blocks: vec![
                    Block::Text("Two reads.".into()),
                    Block::ToolCall {
                        id: "toolu_1".into(),
                        name: "sql".into(),
                        input: json!({"query": "select 1"}),
                    },
                    Block::ToolCall {
                        id: "toolu_2".into(),
                        name: "logs".into(),
                        input: json!({}),
                    },
                ],
            },
            Message::user("Also check the cron."),
            result("toolu_1", "1 row", false),
            result("toolu_2", "permission denied", true),
        ];
        let body = body("m", &request(messages));
        let wire = body["messages"].as_array().unwrap();
        assert_eq!(wire.len(), 3);
        assert_eq!(
            wire[1]["content"][1],
            json!({"type": "tool_use", "id": "toolu_1", "name": "sql", "input": {"query": "select 1"}})
        );
        assert_eq!(wire[2]["role"], "user");
        assert_eq!(
            wire[2]["content"],
            json!([
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "1 row"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "permission denied", "is_error": true},
                {"type": "text", "text": "Also check the cron.", "cache_control": {"type": "ephemeral"}},
            ])
        );
    }

    #[test]
    fn empty_text_is_left_out_and_a_malformed_call_is_sent_without_input() {
        let messages = vec![
            Message::user("why?"),
            Message {
                role: Role::Assistant,
                blocks: vec![Block::Text("  ".into())],
            },
            Message::user("still there?"),
            Message {
                role: Role::Assistant,
                blocks: vec![Block::MalformedToolCall {
                    id: "toolu_9".into(),
                    name: String::new(),
                    raw: "{query:".into(),
                    problem: "not JSON".into(),
                }],
            },
            result("toolu_9", "the call could not be read", true),
        ];
        let body = body("m", &request(messages));
        let wire = body["messages"].as_array().unwrap();
        assert_eq!(wire.len(), 3, "{wire:?}");
        assert_eq!(wire[0]["content"].as_array().unwrap().len(), 2);
        assert_eq!(
            wire[1]["content"][0],
            json!({"type": "tool_use", "id": "toolu_9", "name": UNNAMED_TOOL, "input": {}})
        );
    }
}

//! The chat completions request body for a [`Request`]: the system prompt as the first
//! `system` message, tool results as `tool` messages (each naming its `tool_call_id`, right
//! after the assistant message that called), assistant calls as `tool_calls` whose `arguments`
//! are a JSON string, tools as `function` definitions.

use crate::llm::{Block, Message, Request, Role, ToolDefinition, turns};
use serde_json::{Value, json};

/// The field that caps the answer's length: OpenAI's own API takes `max_completion_tokens`
/// (its reasoning models refuse `max_tokens`); the compatible servers take `max_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LengthField {
    MaxTokens,
    MaxCompletionTokens,
}

impl LengthField {
    fn key(self) -> &'static str {
        match self {
            LengthField::MaxTokens => "max_tokens",
            LengthField::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// The JSON body of `POST {base}/chat/completions`.
pub(crate) fn body(model: &str, request: &Request, length: LengthField) -> Value {
    let mut messages = Vec::new();
    if !request.system.trim().is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for turn in turns(&request.messages) {
        match turn.role {
            Role::User => user_turn(&turn, &mut messages),
            Role::Assistant => messages.extend(assistant_turn(&turn)),
        }
    }
    let mut body = json!({"model": model, "messages": messages});
    body[length.key()] = json!(request.max_tokens);
    if !request.tools.is_empty() {
        body["tools"] = request.tools.iter().map(tool).collect();
    }
    body
}

fn tool(tool: &ToolDefinition) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.input_schema,
        },
    })
}

/// A user turn: its tool results first, as `tool` messages, then its text as one message.
fn user_turn(turn: &Message, messages: &mut Vec<Value>) {
    let mut texts = Vec::new();
    for block in &turn.blocks {
        match block {
            Block::ToolResult {
                call_id,
                content,
                is_error,
            } => {
                // The format has no error flag: the content says it.
                let content = if *is_error {
                    format!("error: {content}")
                } else {
                    content.clone()
                };
                messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": content}));
            }
            Block::Text(text) if !text.trim().is_empty() => texts.push(text.as_str()),
            _ => {}
        }
    }
    if !texts.is_empty() {
        messages.push(json!({"role": "user", "content": texts.join("\n\n")}));
    }
}

/// An assistant turn: its text and its calls in one message; none when it said nothing.
fn assistant_turn(turn: &Message) -> Option<Value> {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for block in &turn.blocks {
        match block {
            Block::Text(text) if !text.trim().is_empty() => texts.push(text.as_str()),
            Block::ToolCall { id, name, input } => calls.push(call(id, name, input.to_string())),
            // Sent back as the model wrote it, so the error result the loop gives it pairs up.
            Block::MalformedToolCall { id, name, raw, .. } => {
                calls.push(call(id, name, raw.clone()))
            }
            _ => {}
        }
    }
    if texts.is_empty() && calls.is_empty() {
        return None;
    }
    let mut message = json!({"role": "assistant", "content": null});
    if !texts.is_empty() {
        message["content"] = json!(texts.join("\n\n"));
    }
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    Some(message)
}

fn call(id: &str, name: &str, arguments: String) -> Value {
    json!({
        "id": id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(messages: Vec<Message>) -> Request {
        Request {
            system: "You investigate.".into(),
            tools: vec![ToolDefinition {
                name: "sql".into(),
                description: "Runs a read-only query".into(),
                input_schema: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
            }],
            messages,
            max_tokens: 512,
        }
    }

    #[test]
    fn system_first_tools_as_functions_and_the_length_field_chosen() {
        let body = body(
            "smollm2",
            &request(vec![Message::user("why?")]),
            LengthField::MaxTokens,
        );
        assert_eq!(
            body["messages"],
            json!([
                {"role": "system", "content": "You investigate."},
                {"role": "user", "content": "why?"},
            ])
        );
        assert_eq!(body["max_tokens"], 512);
        assert_eq!(body.get("max_completion_tokens"), None);
        assert_eq!(
            body["tools"],
            json!([{"type": "function", "function": {
                "name": "sql", "description": "Runs a read-only query",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            }}])
        );
        let body = body_for_openai();
        assert_eq!(body["max_completion_tokens"], 512);
        assert_eq!(body.get("max_tokens"), None);
    }

    fn body_for_openai() -> Value {
        body(
            "gpt-x",
            &request(vec![Message::user("why?")]),
            LengthField::MaxCompletionTokens,
        )
    }

    #[test]
    fn calls_carry_string_arguments_and_results_become_tool_messages() {
        let messages = vec![
            Message::user("why?"),
            Message {
                role: Role::Assistant,
                blocks: vec![
                    Block::ToolCall {
                        id: "call_1".into(),
                        name: "sql".into(),
                        input: json!({"query": "select 1"}),
                    },
                    Block::MalformedToolCall {
                        id: "call_2".into(),
                        name: "sql".into(),
                        raw: "{query: select".into(),
                        problem: "not JSON".into(),
                    },
                ],
            },
            Message {
                role: Role::User,
                blocks: vec![Block::ToolResult {
                    call_id: "call_1".into(),
                    content: "1".into(),
                    is_error: false,
                }],
            },
            Message {
                role: Role::User,
                blocks: vec![
                    Block::Text("Go on.".into()),
                    Block::ToolResult {
                        call_id: "call_2".into(),
                        content: "arguments are not JSON".into(),
                        is_error: true,
                    },
                ],
            },
        ];
        let body = body("m", &request(messages), LengthField::MaxTokens);
        let wire = body["messages"].as_array().unwrap();
        assert_eq!(wire.len(), 6, "{wire:?}");
        assert_eq!(
            wire[2],
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "sql", "arguments": "{\"query\":\"select 1\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "sql", "arguments": "{query: select"}},
            ]})
        );
        assert_eq!(
            wire[3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "1"})
        );
        assert_eq!(
            wire[4],
            json!({"role": "tool", "tool_call_id": "call_2", "content": "error: arguments are not JSON"})
        );
        assert_eq!(wire[5], json!({"role": "user", "content": "Go on."}));
    }

    #[test]
    fn an_assistant_turn_with_text_keeps_it_and_an_empty_one_is_left_out() {
        let messages = vec![
            Message::user("a"),
            Message {
                role: Role::Assistant,
                blocks: vec![Block::Text(String::new())],
            },
            Message::user("b"),
            Message {
                role: Role::Assistant,
                blocks: vec![Block::Text("It is the backup.".into())],
            },
        ];
        let body = body("m", &request(messages), LengthField::MaxTokens);
        let wire = body["messages"].as_array().unwrap();
        assert_eq!(wire.len(), 4, "{wire:?}");
        assert_eq!(
            wire[3],
            json!({"role": "assistant", "content": "It is the backup."})
        );
    }
}

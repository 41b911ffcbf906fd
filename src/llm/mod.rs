//! The language models an investigation talks to, behind one provider-neutral conversation:
//! a [`Request`] (system prompt, tool definitions, messages) goes to a [`Model`], which answers
//! with a [`Reply`] (text and tool calls, why it stopped, tokens used). Two clients speak the
//! wire formats: Anthropic's Messages API ([`anthropic`]) and any OpenAI-compatible chat
//! completions endpoint ([`openai`]: OpenAI, Ollama, llama.cpp's llama-server, vLLM).
//! [`retry`] repeats a call while the service is only unavailable.
//!
//! Only the protocol lives here: which tools exist and what is done with their calls belongs
//! to the investigation. A call the model made that cannot be read arrives as
//! [`Block::MalformedToolCall`], to be answered with an error result, never executed.

pub mod anthropic;
mod error;
mod http;
pub mod openai;
pub mod retry;

pub use anthropic::AnthropicClient;
pub use error::LlmError;
pub use futures_util::future::BoxFuture;
pub use openai::OpenAiClient;
pub use retry::{RetryPolicy, complete_with_retries};

use serde::{Deserialize, Serialize};

/// Who said a message. The system prompt is not a message: it is [`Request::system`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    Text(String),
    /// The model asks for a tool to run with `input` (a JSON object).
    ToolCall {
        id: String,
        name: String,
        input: serde_json::Value,
    },
    /// A tool call the model produced that cannot be read (arguments not JSON, no name):
    /// kept so the loop can tell the model, never executed.
    MalformedToolCall {
        id: String,
        name: String,
        raw: String,
        problem: String,
    },
    /// What a tool call (or a malformed one) came to, sent back in a user message.
    ToolResult {
        call_id: String,
        content: String,
        is_error: bool,
    },
}

/// One turn of the conversation. Consecutive messages of one role are sent as one turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub blocks: Vec<Block>,
}

impl Message {
    /// A user message of plain text.
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            blocks: vec![Block::Text(text.into())],
        }
    }
}

/// The conversation as turns: consecutive messages of one role joined into one, in order.
pub(crate) fn turns(messages: &[Message]) -> Vec<Message> {
    let mut turns: Vec<Message> = Vec::new();
    for message in messages {
        match turns.last_mut() {
            Some(last) if last.role == message.role => {
                last.blocks.extend(message.blocks.iter().cloned())
            }
            _ => turns.push(message.clone()),
        }
    }
    turns
}

/// A tool the model may call: `input_schema` is the JSON Schema of its input object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    pub input_schema: serde_json::Value,
}

/// Everything one completion needs. Every tool call of an assistant message must be answered
/// by a [`Block::ToolResult`] in the user message right after it, as both APIs require.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub system: String,
    pub tools: Vec<ToolDefinition>,
    pub messages: Vec<Message>,
    pub max_tokens: u32,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It waits for the results of its tool calls.
    ToolUse,
    /// It ran out of `max_tokens`: the answer is cut.
    MaxTokens,
    /// It declined to answer.
    Refusal,
    /// Anything else, as the provider named it.
    Other(String),
}

/// Tokens one completion used. The prompt's tokens are split three ways, the same for every
/// provider: `input_tokens` were processed anew, `cache_read_tokens` came from the prompt
/// cache, `cache_write_tokens` were processed and written to it; their sum is the whole prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
    }
}

/// The model's answer to one [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub blocks: Vec<Block>,
    pub stop: StopReason,
    pub usage: Usage,
}

impl Reply {
    /// The answer's text blocks, joined by newlines.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .blocks
            .iter()
            .filter_map(|block| match block {
                Block::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        texts.join("\n")
    }

    /// The answer as the assistant message that continues the conversation.
    pub fn to_message(&self) -> Message {
        Message {
            role: Role::Assistant,
            blocks: self.blocks.clone(),
        }
    }
}

/// A language model that completes conversations.
pub trait Model: Send + Sync {
    /// "anthropic claude-sonnet-4-5" / "openai-compatible smollm2 at http://127.0.0.1:8080" (no secrets)
    fn describe(&self) -> String;
    fn complete<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, LlmError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str) -> Message {
        Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                call_id: id.into(),
                content: "ok".into(),
                is_error: false,
            }],
        }
    }

    #[test]
    fn consecutive_messages_of_one_role_become_one_turn() {
        let messages = vec![
            Message::user("why?"),
            Message {
                role: Role::Assistant,
                blocks: vec![Block::Text("looking".into())],
            },
            result("a"),
            result("b"),
            Message::user("and?"),
        ];
        let turns = turns(&messages);
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[2].role, Role::User);
        assert_eq!(turns[2].blocks.len(), 3);
        assert_eq!(turns[2].blocks[0], result("a").blocks[0]);
        assert_eq!(turns[2].blocks[2], Block::Text("and?".into()));
    }

    #[test]
    fn usage_adds_up_and_reply_text_joins_text_blocks() {
        let mut total = Usage::default();
        let one = Usage {
            input_tokens: 1,
            output_tokens: 2,
            cache_read_tokens: 3,
            cache_write_tokens: 4,
        };
        total += one;
        total += one;
        assert_eq!(total.cache_write_tokens, 8);
        assert_eq!(total.input_tokens, 2);
        let reply = Reply {
            blocks: vec![
                Block::Text("a".into()),
                Block::ToolCall {
                    id: "1".into(),
                    name: "t".into(),
                    input: serde_json::json!({}),
                },
                Block::Text("b".into()),
            ],
            stop: StopReason::ToolUse,
            usage: one,
        };
        assert_eq!(reply.text(), "a\nb");
        assert_eq!(reply.to_message().role, Role::Assistant);
        assert_eq!(reply.to_message().blocks, reply.blocks);
    }
}

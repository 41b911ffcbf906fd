//! An in-repo fake of the Telegram Bot API (axum on loopback) for what the emulator cannot do:
//! 429 with `retry_after`, 5xx, answers slower than the client waits, scripted (duplicate,
//! out-of-order) updates, edits of deleted messages, and documents sent as
//! `multipart/form-data` (sendDocument). Speaks the documented JSON:
//! `{"ok":true,"result":...}` and `{"ok":false,"error_code":..,"description":..,"parameters":..}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the fake does instead of answering normally, once.
#[derive(Debug, Clone)]
pub enum Trouble {
    /// Answer with this HTTP status and Bot API error.
    Error {
        code: u16,
        description: String,
        retry_after: Option<u64>,
    },
    /// Wait this long before answering normally.
    Slow(Duration),
}

/// One call the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
pub struct FakeState {
    pub token: String,
    pub calls: Vec<Call>,
    /// Trouble to cause, per method, in order.
    pub trouble: Vec<(String, Trouble)>,
    /// Batches of updates, one per getUpdates call.
    pub update_batches: VecDeque<Vec<Value>>,
    pub deleted: HashSet<i64>,
    pub next_message_id: i64,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub state: Arc<Mutex<FakeState>>,
    pub url: String,
}

impl FakeTelegram {
    pub fn start(token: &str) -> FakeTelegram {
        let state = Arc::new(Mutex::new(FakeState {
            token: token.to_string(),
            next_message_id: 100,
            ..FakeState::default()
        }));
        let router = axum::Router::new()
            .route("/{bot}/{method}", axum::routing::post(handle))
            .with_state(state.clone());
        let addr = super::serve_in_background(router);
        FakeTelegram {
            state,
            url: format!("http://{addr}"),
        }
    }

    pub fn trouble(&self, method: &str, trouble: Trouble) {
        self.state
            .lock()
            .unwrap()
            .trouble
            .push((method.to_string(), trouble));
    }

    pub fn push_updates(&self, batch: Vec<Value>) {
        self.state.lock().unwrap().update_batches.push_back(batch);
    }

    pub fn delete_message(&self, message_id: i64) {
        self.state.lock().unwrap().deleted.insert(message_id);
    }

    /// Successful calls of `method`, in order.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }
}

fn error(code: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(after) = retry_after {
        body["parameters"] = json!({"retry_after": after});
    }
    (StatusCode::from_u16(code).unwrap(), Json(body)).into_response()
}

/// The fields of a `multipart/form-data` body (sendDocument): each text field by name, and
/// each file as `{"filename", "content_type", "size", "content"}` (`content` is the text of a
/// UTF-8 file, the lossy text of any other). `None` when it is not well formed.
fn multipart_fields(content_type: &str, body: &[u8]) -> Option<Value> {
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(found) = find(&body[at..], &delimiter) {
        starts.push(at + found);
        at += found + delimiter.len();
    }
    let mut fields = serde_json::Map::new();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let split = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..split]).ok()?;
        let value = part[split + 4..].strip_suffix(b"\r\n")?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
        let attribute = |key: &str| {
            disposition
                .split(';')
                .map(str::trim)
                .find_map(|a| a.strip_prefix(&format!("{key}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
        };
        let name = attribute("name")?;
        let field = match attribute("filename") {
            Some(filename) => {
                let file_type = head
                    .lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    })
                    .map(|(_, v)| v.trim().to_string());
                json!({
                    "filename": filename,
                    "content_type": file_type,
                    "size": value.len(),
                    "content": String::from_utf8_lossy(value),
                })
            }
            None => Value::String(std::str::from_utf8(value).ok()?.to_string()),
        };
        fields.insert(name, field);
    }
    Some(Value::Object(fields))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path((bot, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: Value = if content_type.starts_with("multipart/form-data") {
        match multipart_fields(&content_type, &raw) {
            Some(fields) => fields,
            None => return error(400, "Bad Request: malformed multipart body", None),
        }
    } else {
        match serde_json::from_slice(&raw) {
            Ok(body) => body,
            Err(_) => return error(400, "Bad Request: body is not JSON", None),
        }
    };
    let trouble = {
        let mut state = state.lock().unwrap();
        if bot != format!("bot{}", state.token) {
            return error(401, "Unauthorized", None);
        }
        state
            .trouble
            .iter()
            .position(|(m, _)| *m == method)
            .map(|i| state.trouble.remove(i).1)
    };
    match trouble {
        Some(Trouble::Error {
            code,
            description,
            retry_after,
        }) => return error(code, &description, retry_after),
        Some(Trouble::Slow(wait)) => tokio::time::sleep(wait).await,
        None => {}
    }
    let empty_poll = {
        let mut state = state.lock().unwrap();
        method == "getUpdates" && state.update_batches.is_empty() && {
            state.calls.push(Call {
                method: method.clone(),
                body: body.clone(),
                at: Instant::now(),
            });
            true
        }
    };
    if empty_poll {
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Json(json!({"ok": true, "result": []})).into_response();
    }
    answer(&mut state.lock().unwrap(), method, body)
}

fn answer(state: &mut FakeState, method: String, body: Value) -> Response {
    let result = match method.as_str() {
        "getMe" => {
            json!({"id": 42, "is_bot": true, "first_name": "Sentinel", "username": "sentinel_test_bot"})
        }
        "getUpdates" => Value::Array(state.update_batches.pop_front().unwrap_or_default()),
        "sendMessage" => {
            state.next_message_id += 1;
            json!({
                "message_id": state.next_message_id,
                "chat": {"id": body["chat_id"], "type": "group"},
                "date": 0,
                "text": body["text"],
            })
        }
        "editMessageText" => {
            let id = body["message_id"].as_i64().unwrap_or(0);
            if state.deleted.contains(&id) {
                return error(400, "Bad Request: message to edit not found", None);
            }
            json!({"message_id": id, "chat": {"id": body["chat_id"]}, "date": 0, "text": body["text"]})
        }
        "answerCallbackQuery" => json!(true),
        "sendDocument" => {
            // As the Bot API: chat_id and a document are required; a caption is at most 1024
            // characters.
            if body["chat_id"].is_null() || body["document"]["content"].is_null() {
                return error(
                    400,
                    "Bad Request: there is no document in the request",
                    None,
                );
            }
            if body["caption"].as_str().unwrap_or("").chars().count() > 1024 {
                return error(400, "Bad Request: message caption is too long", None);
            }
            state.next_message_id += 1;
            json!({
                "message_id": state.next_message_id,
                "chat": {"id": body["chat_id"], "type": "group"},
                "date": 0,
                "document": {"file_name": body["document"]["filename"], "file_id": "f1"},
            })
        }
        _ => return error(404, "Not Found: method not found", None),
    };
    state.calls.push(Call {
        method,
        body,
        at: Instant::now(),
    });
    Json(json!({"ok": true, "result": result})).into_response()
}

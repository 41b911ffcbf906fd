//! Scripted fakes of the model APIs (axum on loopback), one per wire format: Anthropic's
//! Messages API (`POST /v1/messages`) and OpenAI's chat completions (`POST /v1/chat/completions`).
//! A test queues the answers (status, headers, JSON or raw body, an optional delay); the fake
//! records every request (path, headers, parsed JSON body) and, before answering from the
//! queue, checks the key and the request's shape as the real API does (rules in
//! `fake_llm/anthropic.rs` and `fake_llm/openai.rs`), refusing with 401 or 400 in the
//! provider's own error shape. An empty queue answers 500.

pub mod anthropic;
pub mod openai;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which API the fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Anthropic,
    OpenAi,
}

/// An answer body: JSON, or bytes as they are (garbage, HTML, oversized).
#[derive(Debug, Clone)]
pub enum Body {
    Json(Value),
    Raw(Vec<u8>),
}

/// One answer, given to the next request that passes the checks.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub delay: Option<Duration>,
}

impl Scripted {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Scripted {
        Scripted::json(200, body)
    }

    pub fn json(status: u16, body: Value) -> Scripted {
        Scripted {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
            delay: None,
        }
    }

    pub fn raw(status: u16, body: impl Into<Vec<u8>>) -> Scripted {
        Scripted {
            status,
            headers: Vec::new(),
            body: Body::Raw(body.into()),
            delay: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Scripted {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Answers only after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Scripted {
        self.delay = Some(delay);
        self
    }
}

/// One request the fake received, valid or not.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when it was not JSON).
    pub body: Value,
    /// Why the fake refused it (401 or 400), if it did.
    pub refused: Option<String>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

struct State {
    wire: Wire,
    key: Option<String>,
    script: VecDeque<Scripted>,
    requests: Vec<Recorded>,
}

/// A running fake. `url` is the base URL a client takes.
#[derive(Clone)]
pub struct FakeLlm {
    state: Arc<Mutex<State>>,
    pub url: String,
}

impl FakeLlm {
    /// Anthropic's Messages API accepting `key`; `url` is `http://127.0.0.1:<port>`.
    pub fn anthropic(key: &str) -> FakeLlm {
        FakeLlm::start(Wire::Anthropic, Some(key.to_string()), "")
    }

    /// An OpenAI-compatible endpoint; with `key`, it wants `Authorization: Bearer <key>`
    /// (as OpenAI and vLLM with --api-key), without, it takes anyone (llama-server, Ollama).
    /// `url` is `http://127.0.0.1:<port>/v1`.
    pub fn openai(key: Option<&str>) -> FakeLlm {
        FakeLlm::start(Wire::OpenAi, key.map(str::to_string), "/v1")
    }

    fn start(wire: Wire, key: Option<String>, base_path: &str) -> FakeLlm {
        let state = Arc::new(Mutex::new(State {
            wire,
            key,
            script: VecDeque::new(),
            requests: Vec::new(),
        }));
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let addr = super::serve_in_background(router);
        FakeLlm {
            state,
            url: format!("http://{addr}{base_path}"),
        }
    }

    /// Queues an answer.
    pub fn script(&self, answer: Scripted) -> &FakeLlm {
        self.state.lock().unwrap().script.push_back(answer);
        self
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// How many requests arrived.
    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }
}

/// The fake's own refusals, in the provider's error shape.
fn refusal(wire: Wire, status: u16, message: &str) -> Response {
    let body = match (wire, status) {
        (Wire::Anthropic, 401) => anthropic::error("authentication_error", message),
        (Wire::Anthropic, 404) => anthropic::error("not_found_error", message),
        (Wire::Anthropic, 500) => anthropic::error("api_error", message),
        (Wire::Anthropic, _) => anthropic::error("invalid_request_error", message),
        (Wire::OpenAi, 500) => openai::error(message, "server_error", None),
        (Wire::OpenAi, _) => openai::error(message, "invalid_request_error", None),
    };
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (wire, verdict) = {
        let state = state.lock().unwrap();
        let verdict = check(
            state.wire,
            state.key.as_deref(),
            &method,
            &uri,
            &headers,
            &json,
        );
        (state.wire, verdict)
    };
    let answer = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded {
            method: method.to_string(),
            path: uri.path().to_string(),
            headers: headers.clone(),
            body: json,
            refused: verdict.as_ref().err().map(|(_, why)| why.clone()),
        });
        if let Err((status, why)) = verdict {
            return refusal(wire, status, &why);
        }
        state.script.pop_front()
    };
    let Some(answer) = answer else {
        return refusal(
            wire,
            500,
            "the fake has no answer scripted for this request",
        );
    };
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = match answer.body {
        Body::Json(value) => axum::Json(value).into_response(),
        Body::Raw(bytes) => bytes.into_response(),
    };
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap();
    for (name, value) in answer.headers {
        response.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

/// The route, the key and the request's shape, as the real API checks them.
fn check(
    wire: Wire,
    key: Option<&str>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Value,
) -> Result<(), (u16, String)> {
    let path = match wire {
        Wire::Anthropic => "/v1/messages",
        Wire::OpenAi => "/v1/chat/completions",
    };
    if uri.path() != path || method != Method::POST {
        return Err((404, format!("Invalid URL ({method} {})", uri.path())));
    }
    match wire {
        Wire::Anthropic => {
            anthropic::authenticate(headers, key.unwrap_or_default()).map_err(|why| (401, why))?;
            anthropic::validate(headers, body).map_err(|why| (400, why))
        }
        Wire::OpenAi => {
            openai::authenticate(headers, key).map_err(|why| (401, why))?;
            openai::validate(headers, body).map_err(|why| (400, why))
        }
    }
}

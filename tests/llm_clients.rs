//! The model clients against scripted fakes of Anthropic's Messages API and OpenAI's chat
//! completions (tests/support/fake_llm.rs), which check every request as the real APIs do: a
//! whole tool-use round trip for each, the prompt-caching markers, usage, retries on 429 and
//! 529 (and none on refusals or garbage), malformed tool calls, and the API key kept out of
//! every error.

mod support;

use sentinel::llm::{
    AnthropicClient, Block, LlmError, Message, Model, OpenAiClient, Request, RetryPolicy, Role,
    StopReason, ToolDefinition, Usage, complete_with_retries,
};
use serde_json::json;
use std::time::Duration;
use support::fake_llm::{FakeLlm, Scripted, anthropic, openai};

const ANTHROPIC_KEY: &str = "sk-ant-api03-test-4f1c9b2e7d0a";
const OPENAI_KEY: &str = "sk-proj-test-8e2d71c0b9f4";
const TIMEOUT: Duration = Duration::from_secs(10);

/// Retries that wait milliseconds, whatever the server asks.
fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_wait: Duration::from_millis(1),
        max_wait: Duration::from_millis(20),
    }
}

fn tools() -> Vec<ToolDefinition> {
    vec![
        ToolDefinition {
            name: "sql".into(),
            description: "Runs one read-only SQL query on the shop database".into(),
            input_schema: json!({
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            }),
        },
        ToolDefinition {
            name: "logs".into(),
            description: "Searches the app log".into(),
            input_schema: json!({
                "type": "object",
                "properties": {"pattern": {"type": "string"}},
            }),
        },
    ]
}

fn question() -> Request {
    Request {
        system: "You investigate why a page fired, reading production read-only.".into(),
        tools: tools(),
        messages: vec![Message::user("Why did the nightly backup not run?")],
        max_tokens: 1024,
    }
}

fn result(call_id: &str, content: &str, is_error: bool) -> Message {
    Message {
        role: Role::User,
        blocks: vec![Block::ToolResult {
            call_id: call_id.into(),
            content: content.into(),
            is_error,
        }],
    }
}

fn anthropic_client(fake: &FakeLlm, key: &str) -> AnthropicClient {
    AnthropicClient::new(&fake.url, key.into(), "claude-sonnet-4-5", TIMEOUT).unwrap()
}

fn openai_client(fake: &FakeLlm, key: Option<&str>) -> OpenAiClient {
    OpenAiClient::new(&fake.url, key.map(str::to_string), "smollm2", TIMEOUT).unwrap()
}

fn final_anthropic_answer() -> Scripted {
    Scripted::ok(anthropic::message(
        json!([{"type": "text", "text": "The backup's cron entry was removed on Tuesday."}]),
        "end_turn",
        anthropic::usage(30, 12, 0, 1800),
    ))
}

fn final_openai_answer() -> Scripted {
    Scripted::ok(openai::completion(
        json!({"role": "assistant", "content": "It stopped on Tuesday.", "refusal": null}),
        "stop",
        openai::usage(260, 12, 192),
    ))
}

#[tokio::test]
async fn anthropic_tool_use_round_trip() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    fake.script(Scripted::ok(anthropic::message(
        json!([
            {"type": "thinking", "thinking": "Check the runs first.", "signature": "EqQBCgIYAhIM"},
            {"type": "text", "text": "I'll look at the backup runs and the log."},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "sql",
             "input": {"query": "SELECT * FROM backup_runs ORDER BY started_at DESC LIMIT 3"}},
            {"type": "tool_use", "id": "toolu_01B2", "name": "logs", "input": {"pattern": "backup"}},
        ]),
        "tool_use",
        anthropic::usage(40, 85, 1800, 0),
    )));
    fake.script(final_anthropic_answer());
    let client = anthropic_client(&fake, ANTHROPIC_KEY);

    let mut request = question();
    let first = client.complete(&request).await.unwrap();
    assert_eq!(
        first.blocks,
        vec![
            Block::Text("I'll look at the backup runs and the log.".into()),
            Block::ToolCall {
                id: "toolu_01A09q90qw90lq917835lq9".into(),
                name: "sql".into(),
                input: json!({"query": "SELECT * FROM backup_runs ORDER BY started_at DESC LIMIT 3"}),
            },
            Block::ToolCall {
                id: "toolu_01B2".into(),
                name: "logs".into(),
                input: json!({"pattern": "backup"}),
            },
        ],
        "the thinking block is skipped"
    );
    assert_eq!(first.stop, StopReason::ToolUse);
    assert_eq!(
        first.usage,
        Usage {
            input_tokens: 40,
            output_tokens: 85,
            cache_read_tokens: 0,
            cache_write_tokens: 1800,
        }
    );

    request.messages.push(first.to_message());
    request
        .messages
        .push(result("toolu_01A09q90qw90lq917835lq9", "0 rows", false));
    request.messages.push(result(
        "toolu_01B2",
        "permission denied: /var/log/backup.log",
        true,
    ));
    let second = client.complete(&request).await.unwrap();
    assert_eq!(
        second.text(),
        "The backup's cron entry was removed on Tuesday."
    );
    assert_eq!(second.stop, StopReason::EndTurn);
    assert_eq!(second.usage.cache_read_tokens, 1800);
    assert_eq!(second.usage.input_tokens, 30);

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for sent in &requests {
        assert_eq!(sent.refused, None, "the fake found the request valid");
        assert_eq!(sent.path, "/v1/messages");
        assert_eq!(sent.header("x-api-key").as_deref(), Some(ANTHROPIC_KEY));
        assert_eq!(
            sent.header("anthropic-version").as_deref(),
            Some("2023-06-01")
        );
        assert_eq!(sent.body["model"], "claude-sonnet-4-5");
        assert_eq!(sent.body["max_tokens"], 1024);
    }
    let turns = requests[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(
        turns.len(),
        3,
        "both results go in one user turn: {turns:?}"
    );
    assert_eq!(turns[1]["role"], "assistant");
    assert_eq!(turns[1]["content"][1]["type"], "tool_use");
    assert_eq!(
        turns[1]["content"][1]["id"],
        "toolu_01A09q90qw90lq917835lq9"
    );
    assert_eq!(turns[2]["role"], "user");
    let results = turns[2]["content"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["type"], "tool_result");
    assert_eq!(results[0]["tool_use_id"], "toolu_01A09q90qw90lq917835lq9");
    assert_eq!(results[0]["content"], "0 rows");
    assert_eq!(results[0].get("is_error"), None);
    assert_eq!(results[1]["tool_use_id"], "toolu_01B2");
    assert_eq!(results[1]["is_error"], true);
}

#[tokio::test]
async fn anthropic_requests_mark_system_and_tools_for_prompt_caching() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    fake.script(final_anthropic_answer());
    anthropic_client(&fake, ANTHROPIC_KEY)
        .complete(&question())
        .await
        .unwrap();
    let body = &fake.requests()[0].body;
    assert_eq!(
        body["system"],
        json!([{
            "type": "text",
            "text": "You investigate why a page fired, reading production read-only.",
            "cache_control": {"type": "ephemeral"},
        }])
    );
    let sent = body["tools"].as_array().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["name"], "sql");
    assert_eq!(sent[0].get("cache_control"), None);
    assert_eq!(sent[1]["cache_control"], json!({"type": "ephemeral"}));
    assert_eq!(sent[0]["input_schema"], tools()[0].input_schema);
}

#[tokio::test]
async fn openai_tool_call_round_trip() {
    let fake = FakeLlm::openai(Some(OPENAI_KEY));
    fake.script(Scripted::ok(openai::completion(
        openai::tool_calls(&[(
            "call_abc123",
            "sql",
            r#"{"query": "SELECT max(finished_at) FROM backup_runs"}"#,
        )]),
        "tool_calls",
        openai::usage(200, 30, 128),
    )));
    fake.script(final_openai_answer());
    let client = openai_client(&fake, Some(OPENAI_KEY));

    let mut request = question();
    let first = client.complete(&request).await.unwrap();
    assert_eq!(
        first.blocks,
        vec![Block::ToolCall {
            id: "call_abc123".into(),
            name: "sql".into(),
            input: json!({"query": "SELECT max(finished_at) FROM backup_runs"}),
        }]
    );
    assert_eq!(first.stop, StopReason::ToolUse);
    assert_eq!(
        first.usage,
        Usage {
            input_tokens: 72,
            output_tokens: 30,
            cache_read_tokens: 128,
            cache_write_tokens: 0,
        }
    );

    request.messages.push(first.to_message());
    request
        .messages
        .push(result("call_abc123", "2026-11-24 03:12", false));
    let second = client.complete(&request).await.unwrap();
    assert_eq!(second.text(), "It stopped on Tuesday.");
    assert_eq!(second.stop, StopReason::EndTurn);
    assert_eq!(second.usage.output_tokens, 12);

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for sent in &requests {
        assert_eq!(sent.refused, None, "the fake found the request valid");
        assert_eq!(sent.path, "/v1/chat/completions");
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {OPENAI_KEY}"))
        );
        assert_eq!(sent.body["model"], "smollm2");
        assert_eq!(sent.body["max_tokens"], 1024);
        assert_eq!(
            sent.body["tools"][0]["function"]["parameters"],
            tools()[0].input_schema
        );
    }
    let messages = requests[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert_eq!(
        messages[0],
        json!({"role": "system", "content": "You investigate why a page fired, reading production read-only."})
    );
    assert_eq!(messages[1]["role"], "user");
    let arguments = messages[2]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .expect("arguments go as a JSON string");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(arguments).unwrap(),
        json!({"query": "SELECT max(finished_at) FROM backup_runs"})
    );
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_abc123", "content": "2026-11-24 03:12"})
    );
}

#[tokio::test]
async fn a_local_server_without_a_key_gets_no_authorization_header() {
    let fake = FakeLlm::openai(None);
    fake.script(final_openai_answer());
    let reply = openai_client(&fake, None)
        .complete(&question())
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::EndTurn);
    assert_eq!(fake.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn malformed_openai_arguments_become_a_malformed_call_that_can_be_answered() {
    let fake = FakeLlm::openai(None);
    let cut_short = r#"{"query": "SELECT * FROM backup_runs"#;
    fake.script(Scripted::ok(openai::completion(
        openai::tool_calls(&[("call_1", "sql", cut_short)]),
        "tool_calls",
        openai::usage(90, 14, 0),
    )));
    fake.script(final_openai_answer());
    let client = openai_client(&fake, None);

    let mut request = question();
    let first = client.complete(&request).await.unwrap();
    match first.blocks.as_slice() {
        [
            Block::MalformedToolCall {
                id,
                name,
                raw,
                problem,
            },
        ] => {
            assert_eq!((id.as_str(), name.as_str()), ("call_1", "sql"));
            assert_eq!(raw, cut_short);
            assert!(problem.contains("not valid JSON"), "{problem}");
        }
        other => panic!("expected one malformed call, got {other:?}"),
    }
    assert_eq!(first.stop, StopReason::ToolUse);

    request.messages.push(first.to_message());
    request.messages.push(result(
        "call_1",
        "the arguments were not valid JSON; call sql again with a JSON object",
        true,
    ));
    client.complete(&request).await.unwrap();
    let sent = &fake.requests()[1];
    assert_eq!(sent.refused, None, "the fake found the request valid");
    assert_eq!(
        sent.body["messages"][2]["tool_calls"][0]["function"]["arguments"], cut_short,
        "the call goes back as the model wrote it"
    );
    assert_eq!(sent.body["messages"][3]["tool_call_id"], "call_1");
}

#[tokio::test]
async fn rate_limited_with_retry_after_then_answered() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    let rate_limited = || {
        Scripted::json(
            429,
            anthropic::error(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
        )
    };
    fake.script(rate_limited().header("retry-after", "1"));
    fake.script(
        rate_limited()
            .header("retry-after", "1")
            .header("retry-after-ms", "5"),
    );
    fake.script(final_anthropic_answer());
    let client = anthropic_client(&fake, ANTHROPIC_KEY);

    match client.complete(&question()).await {
        Err(LlmError::Unavailable {
            status: Some(429),
            retry_after: Some(wait),
            detail,
        }) => {
            assert_eq!(wait, Duration::from_secs(1));
            assert!(detail.contains("rate_limit_error"), "{detail}");
        }
        other => panic!("expected a 429 with its wait, got {other:?}"),
    }
    let reply = complete_with_retries(&client, &question(), &quick(3))
        .await
        .unwrap();
    assert_eq!(reply.stop, StopReason::EndTurn);
    assert_eq!(fake.calls(), 3);
}

#[tokio::test]
async fn overloaded_529_is_retried() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    fake.script(Scripted::json(
        529,
        anthropic::error("overloaded_error", "Overloaded"),
    ));
    fake.script(final_anthropic_answer());
    let client = anthropic_client(&fake, ANTHROPIC_KEY);
    let reply = complete_with_retries(&client, &question(), &quick(4))
        .await
        .unwrap();
    assert_eq!(
        reply.text(),
        "The backup's cron entry was removed on Tuesday."
    );
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn a_provider_that_keeps_failing_ends_unavailable_after_exactly_the_attempts() {
    let fake = FakeLlm::openai(None);
    for _ in 0..6 {
        fake.script(Scripted::json(
            503,
            openai::error(
                "The server is overloaded or not ready yet.",
                "server_error",
                None,
            ),
        ));
    }
    let client = openai_client(&fake, None);
    match complete_with_retries(&client, &question(), &quick(3)).await {
        Err(LlmError::Unavailable {
            status: Some(503),
            detail,
            ..
        }) => assert!(detail.contains("not ready yet"), "{detail}"),
        other => panic!("expected the last 503, got {other:?}"),
    }
    assert_eq!(fake.calls(), 3);

    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    for _ in 0..6 {
        fake.script(Scripted::json(
            500,
            anthropic::error("api_error", "Internal server error"),
        ));
    }
    let client = anthropic_client(&fake, ANTHROPIC_KEY);
    let error = complete_with_retries(&client, &question(), &quick(4))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(fake.calls(), 4);
}

#[tokio::test]
async fn a_rejected_key_is_refused_after_one_call() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    fake.script(final_anthropic_answer());
    let client = anthropic_client(&fake, "sk-ant-api03-wrong-key-000");
    match complete_with_retries(&client, &question(), &quick(4)).await {
        Err(LlmError::Refused {
            status: 401,
            detail,
        }) => {
            assert!(detail.contains("invalid x-api-key"), "{detail}");
            assert!(detail.contains("check the API key"), "{detail}");
        }
        other => panic!("expected 401 refused, got {other:?}"),
    }
    assert_eq!(fake.calls(), 1);

    let fake = FakeLlm::openai(Some(OPENAI_KEY));
    let client = openai_client(&fake, Some("sk-proj-wrong"));
    let error = complete_with_retries(&client, &question(), &quick(4))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LlmError::Refused { status: 401, .. }),
        "{error:?}"
    );
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn a_used_up_quota_is_refused_though_it_comes_as_429() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    let mut cap = anthropic::error(
        "rate_limit_error",
        "Your organization has reached its monthly spend cap",
    );
    cap["error"]["details"] = json!({"error_code": "enforced_spend_limit_reached"});
    fake.script(Scripted::json(429, cap));
    let client = anthropic_client(&fake, ANTHROPIC_KEY);
    let error = complete_with_retries(&client, &question(), &quick(4))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LlmError::Refused { status: 429, .. }),
        "{error:?}"
    );
    assert_eq!(fake.calls(), 1);

    let fake = FakeLlm::openai(None);
    fake.script(Scripted::json(
        429,
        openai::error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            Some("insufficient_quota"),
        ),
    ));
    let error = complete_with_retries(&openai_client(&fake, None), &question(), &quick(4))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LlmError::Refused { status: 429, .. }),
        "{error:?}"
    );
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn a_garbled_answer_is_garbled_and_not_retried() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    fake.script(
        Scripted::raw(200, "<html><body>Welcome to nginx!</body></html>")
            .header("content-type", "text/html"),
    );
    fake.script(final_anthropic_answer());
    let client = anthropic_client(&fake, ANTHROPIC_KEY);
    let error = complete_with_retries(&client, &question(), &quick(4))
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::Garbled(_)), "{error:?}");
    assert_eq!(fake.calls(), 1);

    let fake = FakeLlm::openai(None);
    fake.script(Scripted::ok(json!({"object": "list", "data": []})));
    match openai_client(&fake, None).complete(&question()).await {
        Err(LlmError::Garbled(detail)) => {
            assert!(detail.contains("no `choices`"), "{detail}");
            assert!(detail.contains(&fake.url), "names the endpoint: {detail}");
        }
        other => panic!("expected garbled, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_over_4_mib_is_refused_as_garbled() {
    let fake = FakeLlm::openai(None);
    let huge = "x".repeat(5 << 20);
    fake.script(Scripted::ok(openai::completion(
        json!({"role": "assistant", "content": huge}),
        "stop",
        openai::usage(10, 10, 0),
    )));
    match openai_client(&fake, None).complete(&question()).await {
        Err(LlmError::Garbled(detail)) => assert!(detail.contains("4 MiB"), "{detail}"),
        other => panic!("expected garbled, got {:?}", other.map(|r| r.stop)),
    }
}

#[tokio::test]
async fn requests_the_api_would_reject_are_refused_with_its_reason() {
    let call = Message {
        role: Role::Assistant,
        blocks: vec![Block::ToolCall {
            id: "toolu_1".into(),
            name: "sql".into(),
            input: json!({"query": "select 1"}),
        }],
    };
    let mut request = question();
    request.messages.push(call);
    request.messages.push(result("toolu_unknown", "1", false));

    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    fake.script(final_anthropic_answer());
    match anthropic_client(&fake, ANTHROPIC_KEY)
        .complete(&request)
        .await
    {
        Err(LlmError::Refused {
            status: 400,
            detail,
        }) => assert!(detail.contains("unexpected `tool_use_id`"), "{detail}"),
        other => panic!("expected 400 refused, got {other:?}"),
    }

    let fake = FakeLlm::openai(None);
    fake.script(final_openai_answer());
    match openai_client(&fake, None).complete(&request).await {
        Err(LlmError::Refused {
            status: 400,
            detail,
        }) => assert!(
            detail.contains("must be a response to a preceeding message"),
            "{detail}"
        ),
        other => panic!("expected 400 refused, got {other:?}"),
    }
}

#[tokio::test]
async fn timeouts_and_unreachable_servers_are_unavailable() {
    let fake = FakeLlm::openai(None);
    fake.script(final_openai_answer().delayed(Duration::from_secs(5)));
    let client = OpenAiClient::new(&fake.url, None, "smollm2", Duration::from_millis(300)).unwrap();
    match client.complete(&question()).await {
        Err(LlmError::Unavailable {
            status: None,
            detail,
            ..
        }) => assert!(detail.contains("no answer within 300ms"), "{detail}"),
        other => panic!("expected a timeout, got {other:?}"),
    }

    let nobody = format!("http://127.0.0.1:{}", support::free_port());
    let client =
        AnthropicClient::new(&nobody, ANTHROPIC_KEY.into(), "claude-sonnet-4-5", TIMEOUT).unwrap();
    match client.complete(&question()).await {
        Err(error @ LlmError::Unavailable { status: None, .. }) => {
            assert!(error.to_string().contains("cannot connect"), "{error}")
        }
        other => panic!("expected unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn the_api_key_never_appears_in_errors_or_debug_output() {
    let mut errors = Vec::new();

    // Servers that echo the key back in their error text.
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    fake.script(Scripted::json(
        401,
        anthropic::error(
            "authentication_error",
            &format!("invalid x-api-key {ANTHROPIC_KEY}"),
        ),
    ));
    fake.script(Scripted::json(
        529,
        anthropic::error(
            "overloaded_error",
            &format!("overloaded for {ANTHROPIC_KEY}"),
        ),
    ));
    fake.script(Scripted::raw(200, format!("key={ANTHROPIC_KEY}")));
    let client = anthropic_client(&fake, ANTHROPIC_KEY);
    for _ in 0..3 {
        errors.push(client.complete(&question()).await.unwrap_err());
    }
    let described = format!("{} {client:?}", client.describe());

    let fake = FakeLlm::openai(Some(OPENAI_KEY));
    fake.script(Scripted::json(
        400,
        openai::error(
            &format!("Bearer {OPENAI_KEY} is not allowed here"),
            "invalid_request_error",
            None,
        ),
    ));
    fake.script(Scripted::ok(json!({"choices": [{"message": OPENAI_KEY}]})));
    fake.script(final_openai_answer().delayed(Duration::from_secs(5)));
    let client = openai_client(&fake, Some(OPENAI_KEY));
    for _ in 0..2 {
        errors.push(client.complete(&question()).await.unwrap_err());
    }
    let slow = OpenAiClient::new(
        &fake.url,
        Some(OPENAI_KEY.into()),
        "smollm2",
        Duration::from_millis(200),
    )
    .unwrap();
    errors.push(slow.complete(&question()).await.unwrap_err());
    let described = format!("{described} {} {client:?}", client.describe());

    assert_eq!(errors.len(), 6);
    assert!(
        errors[0].to_string().contains("[redacted]"),
        "the echoed key is cut out: {}",
        errors[0]
    );
    for error in &errors {
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains(ANTHROPIC_KEY), "{shown}");
            assert!(!shown.contains(OPENAI_KEY), "{shown}");
            assert!(!shown.contains('\n'), "one line: {shown}");
        }
    }
    assert!(!described.contains(ANTHROPIC_KEY), "{described}");
    assert!(!described.contains(OPENAI_KEY), "{described}");
    // The keys did go, in their headers only.
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}"))
    );
}

/// A request a fake must refuse: its headers and body, the status and a piece of the message.
type Refusal<'a> = (&'a [(&'a str, &'a str)], serde_json::Value, u16, &'a str);

/// Posts `body` to a fake with `headers`; the status and the JSON answer.
async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().post(url).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_fakes_refuse_what_the_real_apis_refuse() {
    let fake = FakeLlm::anthropic(ANTHROPIC_KEY);
    let url = format!("{}/v1/messages", fake.url);
    let headers = [
        ("x-api-key", ANTHROPIC_KEY),
        ("anthropic-version", "2023-06-01"),
    ];
    let user = |text: &str| json!({"role": "user", "content": text});
    let call = json!({"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "sql", "input": {}}
    ]});
    let answer = json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "1"});
    let body = |messages: serde_json::Value| json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": messages});
    let marker = json!({"type": "ephemeral"});
    let many_markers = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 64,
        "system": (0..5).map(|i| json!({"type": "text", "text": format!("part {i}"), "cache_control": marker}))
            .collect::<Vec<_>>(),
        "messages": [user("hi")],
    });
    let cases: Vec<Refusal> = vec![
        (
            &headers[..1],
            body(json!([user("hi")])),
            400,
            "anthropic-version",
        ),
        (&headers[1..], body(json!([user("hi")])), 401, "x-api-key"),
        (
            &headers,
            json!({"model": "m", "messages": [user("hi")]}),
            400,
            "max_tokens: Field required",
        ),
        (
            &headers,
            body(json!([user("hi"), user("again")])),
            400,
            "roles must alternate",
        ),
        (&headers, body(json!([call.clone()])), 400, "first message"),
        (
            &headers,
            body(json!([user("hi"), call.clone(), user("what now?")])),
            400,
            "without `tool_result`",
        ),
        (
            &headers,
            body(
                json!([user("hi"), call.clone(), {"role": "user", "content": [{"type": "text", "text": "here"}, answer]}]),
            ),
            400,
            "must come before",
        ),
        (&headers, many_markers, 400, "maximum of 4"),
    ];
    for (headers, body, status, expected) in cases {
        let (got, answer) = post(&url, headers, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["type"], "error", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected:?} in {message:?}");
    }
    fake.script(final_anthropic_answer());
    let valid = body(json!([user("hi"), call, {"role": "user", "content": [answer]}]));
    assert_eq!(post(&url, &headers, valid).await.0, 200);

    let fake = FakeLlm::openai(Some(OPENAI_KEY));
    let url = format!("{}/chat/completions", fake.url);
    let bearer = format!("Bearer {OPENAI_KEY}");
    let headers = [("authorization", bearer.as_str())];
    let calls = |arguments: serde_json::Value| {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "sql", "arguments": arguments}}
        ]})
    };
    let body = |messages: serde_json::Value| json!({"model": "smollm2", "messages": messages});
    let cases: Vec<Refusal> = vec![
        (
            &[],
            body(json!([user("hi")])),
            401,
            "didn't provide an API key",
        ),
        (
            &headers,
            json!({"messages": [user("hi")]}),
            400,
            "model parameter",
        ),
        (
            &headers,
            body(json!([user("hi"), calls(json!({}))])),
            400,
            "expected a string",
        ),
        (
            &headers,
            body(json!([user("hi"), calls(json!("{}")), user("and?")])),
            400,
            "did not have response messages: call_1",
        ),
        (
            &headers,
            body(json!([user("hi"), {"role": "tool", "tool_call_id": "call_9", "content": "1"}])),
            400,
            "must be a response to a preceeding message",
        ),
    ];
    for (headers, body, status, expected) in cases {
        let (got, answer) = post(&url, headers, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected:?} in {message:?}");
        assert!(answer["error"]["type"].is_string(), "{answer}");
    }
    fake.script(final_openai_answer());
    let valid = body(json!([
        user("hi"),
        calls(json!("{}")),
        {"role": "tool", "tool_call_id": "call_1", "content": "1"},
    ]));
    assert_eq!(post(&url, &headers, valid).await.0, 200);
}

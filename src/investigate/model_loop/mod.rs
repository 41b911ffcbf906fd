//! The model loop: after the playbook, a model verifies and extends its finding with read-only
//! tools, and answers through `submit_report`. Every request leaves through one gate
//! (secrets always redacted, personal data per config, production text inside the
//! untrusted-data envelope); every request, answer, tool call and result is written to the
//! audit trail. It is bounded by steps, tokens, cost and wall time; repeated calls are refused;
//! a malformed call is answered, never run. Whatever happens (a bound reached, a model that
//! rambles or keeps failing) it ends with a report: the model's when it gave one, else the
//! playbook's, saying why.

mod budget;
mod preview;
pub(crate) mod prompt;
mod repeats;

use super::conduct::Progress;
use super::finding::{Confidence, Finding};
use super::safety::Outbound;
use super::toolbox::Toolbox;
use crate::config::investigator::{Budgets, Prices};
use crate::llm::{
    Block, LlmError, Message, Model, Request, RetryPolicy, Role, complete_with_retries,
};
use crate::store::Store;
use crate::store::audit::AuditKind;
use budget::Spend;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// Output tokens one model turn may produce.
const TURN_TOKENS: u32 = 2_048;

/// Repeated calls tolerated before the loop gives up on the model.
const MAX_REPEATS: u32 = 3;

/// Lines `search_result` returns at most.
const SEARCH_LINES: usize = 60;

/// Everything the loop works with.
pub(crate) struct LoopContext<'a> {
    pub model: &'a dyn Model,
    pub toolbox: &'a Toolbox,
    pub outbound: &'a mut Outbound,
    pub store: &'a Store,
    /// The audit trail's investigation id.
    pub trail: &'a str,
    pub budgets: &'a Budgets,
    pub prices: &'a Prices,
    pub retry: RetryPolicy,
    pub progress: &'a Progress,
    pub clock: &'a (dyn Fn() -> DateTime<Utc> + Sync),
}

/// How the loop ended.
#[derive(Debug)]
pub(crate) struct LoopEnd {
    /// The finding to report: the model's, or the playbook's with the model's evidence added.
    pub finding: Finding,
    /// What the gate redacted before anything left ("2 secrets, 1 email redacted").
    pub redacted: String,
    /// Why the model's report is not the finding, when it is not.
    pub fallback: Option<String>,
    /// What a bound cut short.
    pub unfinished: Vec<String>,
    pub steps: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub dollars: f64,
}

/// Runs the loop from the playbook's `first` finding (whose evidence the model receives).
pub(crate) async fn investigate(
    ctx: LoopContext<'_>,
    case: &super::case::Case,
    first: Finding,
    earlier_report: Option<&str>,
) -> LoopEnd {
    let LoopContext {
        model,
        toolbox,
        outbound,
        store,
        trail,
        budgets,
        prices,
        retry,
        progress,
        clock,
    } = ctx;
    let started = tokio::time::Instant::now();
    let mut finding = first;
    // Everything from production or the operator in the opening goes through the gate as
    // wrapped data; the rest is Sentinel's own words (labels, ids, configured names).
    let opening = prompt::opening(case, &finding, earlier_report, |tool, id, data| {
        outbound.tool_result(tool, id, data)
    });
    let system = prompt::system(&outbound.system_rule());
    let mut tools = toolbox.definitions();
    tools.extend(prompt::own_tools());
    let mut messages = vec![Message::user(opening)];
    let mut spend = Spend::default();
    let mut calls = repeats::Calls::default();
    let mut saved: HashMap<String, String> = HashMap::new();
    let mut nudged = false;
    let mut unfinished = Vec::new();
    let audit = |kind: AuditKind, body: String| async move {
        if let Err(error) = store.audit_append(trail, kind, &body, clock()).await {
            tracing::error!(investigation = trail, "audit trail not written: {error}");
        }
    };

    let outcome: Result<Finding, String> = loop {
        if let Some(bound) = spend.exhausted(budgets, started.elapsed()) {
            unfinished.push(format!("{bound} before the model submitted its report"));
            break Err(bound);
        }
        let request = Request {
            system: system.clone(),
            tools: tools.clone(),
            messages: messages.clone(),
            max_tokens: TURN_TOKENS,
        };
        audit(
            AuditKind::ModelRequest,
            serde_json::to_string(&request).unwrap_or_default(),
        )
        .await;
        progress.step(format!("asking {}", model.describe()));
        let remaining = budgets.max_duration.saturating_sub(started.elapsed());
        let reply = match tokio::time::timeout(
            remaining.max(Duration::from_secs(1)),
            complete_with_retries(model, &request, &retry),
        )
        .await
        {
            Ok(Ok(reply)) => reply,
            Ok(Err(error)) => break Err(provider_failure(&error)),
            Err(_) => {
                unfinished.push("the time budget ran out while the model was answering".into());
                break Err("the time budget ran out".into());
            }
        };
        audit(
            AuditKind::ModelResponse,
            serde_json::to_string(&reply).unwrap_or_default(),
        )
        .await;
        spend.turn(reply.usage, prices);
        messages.push(reply.to_message());

        let mut results: Vec<Block> = Vec::new();
        let mut submitted: Option<Finding> = None;
        let mut any_call = false;
        for block in &reply.blocks {
            match block {
                Block::ToolCall { id, name, input } => {
                    any_call = true;
                    if name == prompt::SUBMIT_REPORT {
                        match prompt::read_report(input) {
                            Some(report) => submitted = Some(report),
                            None => results.push(error_result(
                                id,
                                "the report needs at least a summary; call submit_report again with every field",
                            )),
                        }
                        continue;
                    }
                    if let Some(earlier) = calls.earlier(name, input) {
                        results.push(error_result(
                            id,
                            &format!("refused: you already made this call; its result is {earlier}. Use it, try something else, or submit_report."),
                        ));
                        continue;
                    }
                    if name == prompt::SEARCH_RESULT {
                        let text = search_saved(&saved, input);
                        results.push(Block::ToolResult {
                            call_id: id.clone(),
                            content: outbound.tool_result(name, id, &text),
                            is_error: false,
                        });
                        continue;
                    }
                    progress.step(format!("tool {name}"));
                    spend.steps += 1;
                    audit(
                        AuditKind::ToolCall,
                        json!({"id": id, "tool": name, "input": input}).to_string(),
                    )
                    .await;
                    let output = toolbox.call(name, input, clock()).await;
                    // The operator's evidence keeps the rows as read; what the model gets has
                    // the configured personal-data columns replaced cell by cell.
                    let evidence = finding.evidence.add(
                        &output.tool,
                        output.source.as_deref(),
                        output.query.clone(),
                        &output.text,
                        clock(),
                    );
                    let mut outgoing = output;
                    outgoing.rewrite_cells(|column, value| outbound.cell(column, value));
                    calls.remember(name, input, &evidence);
                    let shown =
                        preview::preview(&outgoing.text, budgets.tool_result_tokens, &evidence);
                    saved.insert(evidence.clone(), outgoing.text);
                    let content =
                        outbound.tool_result(name, &evidence, &format!("[{evidence}]\n{shown}"));
                    audit(
                        AuditKind::ToolResult,
                        json!({"id": id, "evidence": evidence, "is_error": outgoing.is_error, "content": content}).to_string(),
                    )
                    .await;
                    results.push(Block::ToolResult {
                        call_id: id.clone(),
                        content,
                        is_error: outgoing.is_error,
                    });
                }
                Block::MalformedToolCall { id, problem, .. } => {
                    any_call = true;
                    results.push(error_result(
                        id,
                        &format!("your tool call could not be read ({problem}): call a tool with a JSON object of its arguments"),
                    ));
                }
                Block::Text(_) | Block::ToolResult { .. } => {}
            }
        }
        if let Some(report) = submitted {
            break Ok(report);
        }
        if calls.refused >= MAX_REPEATS {
            break Err(format!(
                "the model repeated the same calls {} times",
                calls.refused
            ));
        }
        if !any_call {
            if let Some(report) = prompt::report_in_text(&reply.text()) {
                break Ok(report);
            }
            if nudged {
                break Err("the model answered without a report".into());
            }
            nudged = true;
            messages.push(Message::user(
                "Call submit_report now with your findings (verdict, summary, classification, confidence, hypotheses citing evidence ids, steps).",
            ));
            continue;
        }
        if !results.is_empty() {
            messages.push(Message {
                role: Role::User,
                blocks: results,
            });
        }
    };

    let (finding, fallback) = match outcome {
        Ok(mut report) => {
            reveal_placeholders(&mut report, outbound);
            report.evidence = finding.evidence;
            report.gaps.extend(finding.gaps);
            let cap = finding_confidence_cap(&report);
            verify(&mut report, &cap);
            (report, None)
        }
        Err(why) => {
            finding.settle();
            (finding, Some(why))
        }
    };
    LoopEnd {
        finding,
        fallback,
        redacted: outbound.summary().to_string(),
        unfinished,
        steps: spend.steps,
        input_tokens: spend.usage.input_tokens
            + spend.usage.cache_read_tokens
            + spend.usage.cache_write_tokens,
        output_tokens: spend.usage.output_tokens,
        dollars: spend.dollars,
    }
}

/// The model saw placeholders (`<email-1>`) for personal data; the operator's copy of its report
/// names the real values again (it stays on the box and in the operator's chat).
fn reveal_placeholders(report: &mut Finding, outbound: &Outbound) {
    let Ok(pattern) = regex::Regex::new(r"<[a-z_.]+-[0-9]+>") else {
        return;
    };
    let reveal = |text: &str| -> String {
        pattern
            .replace_all(text, |found: &regex::Captures<'_>| {
                let placeholder = &found[0];
                outbound
                    .reveal(placeholder)
                    .map_or_else(|| placeholder.to_string(), str::to_string)
            })
            .into_owned()
    };
    report.summary = reveal(&report.summary);
    for hypothesis in &mut report.hypotheses {
        hypothesis.statement = reveal(&hypothesis.statement);
    }
    for step in &mut report.steps {
        step.text = reveal(&step.text);
        step.command = step.command.as_deref().map(&reveal);
    }
    for gap in &mut report.gaps {
        *gap = reveal(gap);
    }
}

/// The verifying pass: claims must cite evidence that exists (else they become guesses), and
/// confidence may only go down, never up: to at most `cap`.
fn verify(report: &mut Finding, cap: &Confidence) {
    report.confidence = report.confidence.at_most(*cap);
    report.settle();
}

/// The most confidence a report's own hypotheses allow: high only when every kept claim is
/// known, medium when some are guesses.
fn finding_confidence_cap(report: &Finding) -> Confidence {
    let kept: Vec<_> = report.hypotheses.iter().filter(|h| h.kept).collect();
    let known = kept
        .iter()
        .filter(|h| h.basis == super::finding::Basis::Known && !h.supported_by.is_empty())
        .count();
    if kept.is_empty() || known == 0 {
        Confidence::LOW
    } else if known < kept.len() {
        Confidence::new(0.7)
    } else {
        Confidence::new(1.0)
    }
}

fn error_result(id: &str, message: &str) -> Block {
    Block::ToolResult {
        call_id: id.to_string(),
        content: message.to_string(),
        is_error: true,
    }
}

/// Lines of a kept result matching a pattern.
fn search_saved(saved: &HashMap<String, String>, input: &Value) -> String {
    let evidence = input.get("evidence").and_then(Value::as_str).unwrap_or("");
    let pattern = input.get("pattern").and_then(Value::as_str).unwrap_or("");
    match saved.get(evidence.trim()) {
        None => format!(
            "no kept result {evidence:?}; kept results: {}",
            saved.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        Some(_) if pattern.is_empty() => "give a pattern to search for".to_string(),
        Some(text) => preview::search(text, pattern, SEARCH_LINES),
    }
}

/// Why the provider's failure ends the model's part, in words for the report.
fn provider_failure(error: &LlmError) -> String {
    match error {
        LlmError::Unavailable { .. } => format!("the model stayed unavailable ({error})"),
        LlmError::Refused { .. } => format!("the provider refused the request ({error})"),
        LlmError::Garbled(_) => format!("the provider's answer could not be read ({error})"),
    }
}

//! One investigation from start to end: open the case, run the investigator, keep the
//! report, write every read and the report to the audit trail, and end the request (done with
//! its verdict, or failed with why). Progress is published as it goes, for the chat's
//! progress message.

use super::case::Case;
use super::finding::Finding;
use super::playbook::PlaybookContext;
use super::report::{Cost, Reasoning, Report};
use super::{offline, render};
use crate::config::Provider;
use crate::engine::Engine;
use crate::store::audit::AuditKind;
use crate::store::investigations::Ending;
use crate::store::operator::InvestigationRequest;
use crate::store::{Store, StoreError};
use std::sync::{Arc, Mutex};

/// What an investigation is doing now, shared with whoever shows it.
#[derive(Clone, Default)]
pub struct Progress(Arc<Mutex<ProgressState>>);

#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct ProgressState {
    /// Steps taken so far.
    pub steps: u32,
    /// What it is doing, in a few words ("running the heartbeat playbook").
    pub doing: String,
}

impl Progress {
    /// Marks the start of a step.
    pub fn step(&self, doing: impl Into<String>) {
        if let Ok(mut state) = self.0.lock() {
            state.steps += 1;
            state.doing = doing.into();
        }
    }

    pub fn snapshot(&self) -> ProgressState {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Why the offline investigator reasons, in the words of the configuration.
fn offline_reason(provider: &Provider) -> String {
    match provider {
        Provider::Offline { why } => why.clone(),
        Provider::Anthropic { .. } | Provider::OpenAiCompatible { .. } => {
            "the configured model is used only from a later version on".to_string()
        }
    }
}

/// Writes the evidence the playbook read to the audit trail, one call and one result each.
async fn audit_evidence(store: &Store, trail: &str, finding: &Finding) -> Result<(), StoreError> {
    for item in finding.evidence.items() {
        let call = serde_json::json!({
            "evidence": item.id, "tool": item.tool, "source": item.source, "query": item.query,
        });
        store
            .audit_append(trail, AuditKind::ToolCall, &call.to_string(), item.taken_at)
            .await?;
        let result = serde_json::json!({
            "evidence": item.id, "excerpt": item.excerpt, "omitted_chars": item.omitted_chars,
        });
        store
            .audit_append(
                trail,
                AuditKind::ToolResult,
                &result.to_string(),
                item.taken_at,
            )
            .await?;
    }
    Ok(())
}

/// Investigates the running request `request` and ends it: done with its report, or failed
/// when the store could not keep the report (the error is returned too).
pub async fn conduct(
    engine: &Engine,
    request: InvestigationRequest,
    progress: &Progress,
) -> Result<Report, StoreError> {
    let store = engine.store();
    let id = request.id;
    let result = investigate(engine, request, progress).await;
    let now = engine.now();
    match &result {
        Ok(report) => {
            let verdict = format!(
                "{}: {}",
                report.finding.verdict,
                report.finding.summary.chars().take(200).collect::<String>()
            );
            store
                .finish_investigation(id, &Ending::Done(verdict), now)
                .await?;
        }
        Err(error) => {
            tracing::error!(request = id, "investigation failed: {error}");
            store
                .finish_investigation(id, &Ending::Failed(error.to_string()), now)
                .await?;
        }
    }
    result
}

async fn investigate(
    engine: &Engine,
    request: InvestigationRequest,
    progress: &Progress,
) -> Result<Report, StoreError> {
    let store = engine.store();
    let config = engine.config();
    let started_at = engine.now();
    let trail = request.id.to_string();
    progress.step("reading the alert");
    let case = Case::open(store, request).await?;
    let ctx = PlaybookContext {
        case: &case,
        store,
        sources: engine.sources(),
        now: started_at,
        repository: config.investigator.repository.as_deref(),
    };
    progress.step(match &case.watch {
        Some(watch) => format!("running the playbook of {watch}"),
        None => "reading the open alerts".to_string(),
    });
    let finding = offline::investigate(&ctx, config).await;
    audit_evidence(store, &trail, &finding).await?;
    progress.step("writing the report");
    let main = case.main_alert();
    let report = Report {
        request_id: case.request.id,
        question: case.request.question.clone(),
        asked_by: case.request.requested_by.clone(),
        title: case.title(),
        watch: case.watch.clone(),
        subjects: main.map(|a| vec![a.subject.clone()]).unwrap_or_default(),
        reasoning: Reasoning::Offline {
            why: offline_reason(&config.investigator.provider),
        },
        cost: Cost {
            steps: progress.snapshot().steps + finding.evidence.items().len() as u32,
            ..Cost::default()
        },
        finding,
        started_at,
        finished_at: engine.now(),
    };
    let json = render::json(&report);
    store
        .save_report(
            report.request_id,
            report.finding.verdict.label(),
            &json,
            &render::markdown(&report),
            report.finished_at,
        )
        .await?;
    store
        .audit_append(&trail, AuditKind::Report, &json, report.finished_at)
        .await?;
    Ok(report)
}

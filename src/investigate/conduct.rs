//! One investigation from start to end: open the case, run the investigator, keep the
//! report, write every read and the report to the audit trail, and end the request (done with
//! its verdict, or failed with why). Progress is published as it goes, for the chat's
//! progress message.

use super::case::Case;
use super::finding::Finding;
use super::model_loop::{self, LoopContext};
use super::playbook::PlaybookContext;
use super::report::{Cost, Reasoning, Report};
use super::safety::{Outbound, PersonalDataPolicy, SecretScanner};
use super::toolbox::Toolbox;
use super::{offline, provider, render};
use crate::config::Provider;
use crate::engine::Engine;
use crate::llm::{Model, RetryPolicy};
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

/// Who reasons over the playbook's finding: a model, or nobody and why.
enum Reasoner {
    Model(Box<dyn Model>),
    Offline(String),
}

/// The configured model, unless none is configured or today's budget is spent.
async fn reasoner(engine: &Engine) -> Reasoner {
    let investigator = &engine.config().investigator;
    let model = match provider::model_for(&investigator.provider) {
        Ok(Some(model)) => model,
        Ok(None) => {
            return Reasoner::Offline(match &investigator.provider {
                Provider::Offline { why } => why.clone(),
                _ => "no model configured".to_string(),
            });
        }
        Err(error) => {
            return Reasoner::Offline(format!("the model client could not be built: {error}"));
        }
    };
    match engine.store().spent_today(engine.now()).await {
        Ok(spent) if spent >= investigator.budgets.daily_cost => Reasoner::Offline(format!(
            "today's model budget of ${:.2} is spent (${spent:.2})",
            investigator.budgets.daily_cost
        )),
        Ok(_) => Reasoner::Model(model),
        Err(error) => Reasoner::Offline(format!("today's model spend could not be read: {error}")),
    }
}

/// Secrets redacted from everything the report carries (it goes to the chat).
fn redact_report_secrets(finding: &mut Finding, scanner: &SecretScanner) {
    finding
        .evidence
        .redact_with(|text| scanner.redact(text).text);
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
    let first = offline::investigate(&ctx, config).await;
    audit_evidence(store, &trail, &first).await?;
    let (mut finding, reasoning, cost) = match reasoner(engine).await {
        Reasoner::Offline(why) => {
            let steps = progress.snapshot().steps + first.evidence.items().len() as u32;
            let cost = Cost {
                steps,
                ..Cost::default()
            };
            (first, Reasoning::Offline { why }, cost)
        }
        Reasoner::Model(model) => {
            let policy = PersonalDataPolicy {
                emails: config.investigator.personal_data.emails,
                ips: config.investigator.personal_data.ips,
                columns: config.investigator.personal_data.columns.clone(),
            };
            match Outbound::new(config.secrets.values().to_vec(), policy) {
                Ok(mut outbound) => {
                    let earlier = earlier_report(store, case.request.id).await;
                    with_model(
                        engine,
                        model.as_ref(),
                        &mut outbound,
                        &case,
                        first,
                        earlier,
                        progress,
                        &trail,
                    )
                    .await
                }
                Err(error) => {
                    // Nothing leaves the box without the gate: the playbook answers alone.
                    tracing::error!("the redaction gate could not start: {error}");
                    let why = format!(
                        "the redaction gate could not start ({error}), so nothing was sent to {}",
                        model.describe()
                    );
                    let cost = Cost {
                        steps: progress.snapshot().steps,
                        ..Cost::default()
                    };
                    (first, Reasoning::Offline { why }, cost)
                }
            }
        }
    };
    redact_report_secrets(
        &mut finding,
        &SecretScanner::new(config.secrets.values().to_vec()),
    );
    progress.step("writing the report");
    let main = case.main_alert();
    let report = Report {
        request_id: case.request.id,
        question: case.request.question.clone(),
        asked_by: case.request.requested_by.clone(),
        title: case.title(),
        watch: case.watch.clone(),
        subjects: main.map(|a| vec![a.subject.clone()]).unwrap_or_default(),
        reasoning,
        cost,
        finding,
        started_at,
        finished_at: engine.now(),
    };
    let json = render::json(&report);
    store
        .save_report(
            report.request_id,
            report.finding.verdict.label(),
            report.cost.dollars,
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

/// The model loop over the playbook's `first` finding: the finding to report, who reasoned,
/// and what it cost.
#[allow(clippy::too_many_arguments)]
async fn with_model(
    engine: &Engine,
    model: &dyn Model,
    outbound: &mut Outbound,
    case: &Case,
    first: Finding,
    earlier: Option<String>,
    progress: &Progress,
    trail: &str,
) -> (Finding, Reasoning, Cost) {
    let config = engine.config();
    let toolbox = Toolbox::new(config, engine.sources());
    let clock = || engine.now();
    let end = model_loop::investigate(
        LoopContext {
            model,
            toolbox: &toolbox,
            outbound,
            store: engine.store(),
            trail,
            budgets: &config.investigator.budgets,
            prices: &config.investigator.prices,
            retry: RetryPolicy::default(),
            progress,
            clock: &clock,
        },
        case,
        first,
        earlier.as_deref(),
    )
    .await;
    let reasoning = match &end.fallback {
        None => Reasoning::Model {
            name: model.describe(),
        },
        Some(why) => Reasoning::Offline {
            why: format!(
                "{why}: the playbook's finding, with what {} read",
                model.describe()
            ),
        },
    };
    let cost = Cost {
        steps: end.steps,
        input_tokens: end.input_tokens,
        output_tokens: end.output_tokens,
        dollars: end.dollars,
        unfinished: end.unfinished,
        redacted: Some(end.redacted),
    };
    (end.finding, reasoning, cost)
}

/// The report a follow-up continues, as Markdown, if the request follows one up.
async fn earlier_report(store: &Store, request: i64) -> Option<String> {
    let earlier = store.chat_thread(request).await.ok()?.follows_up?;
    store
        .report(earlier)
        .await
        .ok()?
        .map(|report| report.markdown)
}

//! A finished investigation as the operator receives it: the finding, what it was about, who
//! (or what) reasoned, and what it cost. Rendered for Telegram, Markdown and JSON by
//! [`super::render`]; stored whole with the request it answers.

use super::finding::Finding;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One investigation's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The investigation request it answers.
    pub request_id: i64,
    pub question: String,
    pub asked_by: String,
    /// What it is about: the alert's title, or the question.
    pub title: String,
    pub watch: Option<String>,
    pub subjects: Vec<String>,
    pub finding: Finding,
    pub reasoning: Reasoning,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub cost: Cost,
}

/// Who reasoned over the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Reasoning {
    /// The playbook and the offline investigator's deterministic rules. `why` says why no
    /// model was used (none configured, or the configured one failed and how).
    Offline { why: String },
    /// A model, named as `provider model`.
    Model { name: String },
}

impl Reasoning {
    pub fn describe(&self) -> String {
        match self {
            Reasoning::Offline { why } => format!("offline investigator ({why})"),
            Reasoning::Model { name } => name.clone(),
        }
    }
}

/// What the investigation spent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Tool calls and model turns taken.
    pub steps: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// In US dollars, from the configured prices; 0 offline.
    pub dollars: f64,
    /// What the bounds cut short, if anything.
    pub unfinished: Vec<String>,
    /// What was redacted before anything left the box, when something was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
}

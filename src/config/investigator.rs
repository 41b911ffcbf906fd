//! The typed `[investigator]` section: which model reasons over an investigation's evidence
//! (or none: the offline investigator), the bounds every investigation keeps, what personal
//! data is redacted before anything leaves the box, and where the app's code is.

use std::path::PathBuf;
use std::time::Duration;

/// Who reasons over the evidence.
#[derive(Clone, PartialEq, Eq)]
pub enum Provider {
    /// The Anthropic Messages API.
    Anthropic {
        base_url: String,
        model: String,
        api_key: String,
    },
    /// Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, llama.cpp, vLLM).
    OpenAiCompatible {
        base_url: String,
        model: String,
        api_key: Option<String>,
    },
    /// No model: the playbooks and deterministic reasoning. `why` says why (chosen, or no key).
    Offline { why: String },
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provider::Anthropic {
                base_url, model, ..
            } => write!(f, "Anthropic({model} at {base_url})"),
            Provider::OpenAiCompatible {
                base_url, model, ..
            } => write!(f, "OpenAiCompatible({model} at {base_url})"),
            Provider::Offline { why } => write!(f, "Offline({why})"),
        }
    }
}

/// The bounds of one investigation, and of all of them in a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Budgets {
    /// Model turns plus tool calls.
    pub max_steps: u32,
    /// Input plus output tokens.
    pub max_tokens: u64,
    /// US dollars per investigation.
    pub max_cost: f64,
    pub max_duration: Duration,
    /// US dollars across all investigations in one UTC day.
    pub daily_cost: f64,
    /// Tokens one tool result may put in front of the model.
    pub tool_result_tokens: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            max_steps: 24,
            max_tokens: 120_000,
            max_cost: 0.50,
            max_duration: Duration::from_secs(300),
            daily_cost: 5.0,
            tool_result_tokens: 2_000,
        }
    }
}

/// Prices of the model, per million tokens, for the cost bounds and footers.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

/// Personal data redacted before anything leaves the box (secrets always are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalData {
    pub emails: bool,
    pub ips: bool,
    /// Columns (`column` or `table.column`) whose values are replaced whole.
    pub columns: Vec<String>,
}

impl Default for PersonalData {
    fn default() -> Self {
        Self {
            emails: true,
            ips: true,
            columns: Vec::new(),
        }
    }
}

/// The `[investigator]` section.
#[derive(Debug, Clone)]
pub struct InvestigatorConfig {
    pub provider: Provider,
    /// Investigations running at once; the rest wait in order.
    pub concurrency: usize,
    pub budgets: Budgets,
    pub prices: Prices,
    pub personal_data: PersonalData,
    /// A local clone of the app's repository, read (never written) for code and history.
    pub repository: Option<PathBuf>,
}

/// Claude's list prices for the default model, per million tokens.
pub const DEFAULT_PRICES: Prices = Prices {
    input_per_million: 3.0,
    output_per_million: 15.0,
};

pub const DEFAULT_ANTHROPIC_URL: &str = "https://api.anthropic.com";
pub const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-4-5";
/// The variable the Anthropic key is read from when the section names none.
pub const DEFAULT_KEY_VARIABLE: &str = "ANTHROPIC_API_KEY";

impl Default for InvestigatorConfig {
    fn default() -> Self {
        Self {
            provider: Provider::Offline {
                why: "no model configured".into(),
            },
            concurrency: 2,
            budgets: Budgets::default(),
            prices: DEFAULT_PRICES,
            personal_data: PersonalData::default(),
            repository: None,
        }
    }
}

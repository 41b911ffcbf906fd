//! Who investigates in an evaluation run: the offline investigator (the default, and always in
//! the test suite), or a model the operator opts into through the environment:
//!
//! - `SENTINEL_EVAL_PROVIDER` = `offline` | `anthropic` | `openai`
//! - `SENTINEL_EVAL_BASE_URL`, `SENTINEL_EVAL_MODEL`: the endpoint and model (`openai` needs
//!   both; `anthropic` defaults to Anthropic's API and Sentinel's default model)
//! - `ANTHROPIC_API_KEY` / `OPENAI_API_KEY`: the key, passed to Sentinel as `${VAR}`, never
//!   written to the configuration
//! - `SENTINEL_EVAL_PRICES` = `input,output` dollars per million tokens (a local model costs
//!   nothing: `0,0`)
//!
//! It becomes the configuration's `[investigator]` section.

use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub enum Investigator {
    Offline,
    Anthropic {
        base_url: Option<String>,
        model: Option<String>,
        prices: Option<(f64, f64)>,
    },
    OpenAi {
        base_url: String,
        model: String,
        /// `OPENAI_API_KEY` is set (llama-server and Ollama need none).
        keyed: bool,
        prices: Option<(f64, f64)>,
    },
}

/// The value of `name`, when set and not blank.
fn variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// `input,output` dollars per million tokens.
fn prices() -> Result<Option<(f64, f64)>, String> {
    let Some(text) = variable("SENTINEL_EVAL_PRICES") else {
        return Ok(None);
    };
    let parsed = text
        .split_once(',')
        .and_then(|(i, o)| Some((i.trim().parse().ok()?, o.trim().parse().ok()?)));
    match parsed {
        Some((input, output)) if input >= 0.0 && output >= 0.0 => Ok(Some((input, output))),
        _ => Err(format!(
            "SENTINEL_EVAL_PRICES={text:?}: give input,output dollars per million tokens, like 3,15"
        )),
    }
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

impl Investigator {
    /// The investigator the environment asks for.
    pub fn from_env() -> Result<Investigator, String> {
        let provider = variable("SENTINEL_EVAL_PROVIDER").unwrap_or_else(|| "offline".into());
        match provider.as_str() {
            "offline" => Ok(Investigator::Offline),
            "anthropic" => {
                if variable("ANTHROPIC_API_KEY").is_none() {
                    return Err(
                        "SENTINEL_EVAL_PROVIDER=anthropic needs ANTHROPIC_API_KEY in the environment"
                            .into(),
                    );
                }
                Ok(Investigator::Anthropic {
                    base_url: variable("SENTINEL_EVAL_BASE_URL"),
                    model: variable("SENTINEL_EVAL_MODEL"),
                    prices: prices()?,
                })
            }
            "openai" => {
                let (Some(base_url), Some(model)) = (
                    variable("SENTINEL_EVAL_BASE_URL"),
                    variable("SENTINEL_EVAL_MODEL"),
                ) else {
                    return Err("SENTINEL_EVAL_PROVIDER=openai needs SENTINEL_EVAL_BASE_URL (up to /v1) and SENTINEL_EVAL_MODEL".into());
                };
                Ok(Investigator::OpenAi {
                    base_url,
                    model,
                    keyed: variable("OPENAI_API_KEY").is_some(),
                    prices: prices()?,
                })
            }
            other => Err(format!(
                "SENTINEL_EVAL_PROVIDER={other:?}: use offline, anthropic or openai"
            )),
        }
    }

    /// True when a model reasons (so a fallback to the playbook's finding must show).
    pub fn is_model(&self) -> bool {
        !matches!(self, Investigator::Offline)
    }

    /// Who it is, for the table's heading.
    pub fn describe(&self) -> String {
        match self {
            Investigator::Offline => "the offline investigator".into(),
            Investigator::Anthropic { model, .. } => format!(
                "anthropic {}",
                model.as_deref().unwrap_or("(Sentinel's default model)")
            ),
            Investigator::OpenAi {
                base_url, model, ..
            } => format!("openai-compatible {model} at {base_url}"),
        }
    }

    /// The `[investigator]` section, with the app's repository when there is one.
    pub fn section(&self, repository: Option<&Path>) -> String {
        let mut lines = vec!["[investigator]".to_string()];
        let mut prices = None;
        match self {
            Investigator::Offline => lines.push("provider = \"offline\"".into()),
            Investigator::Anthropic {
                base_url,
                model,
                prices: set,
            } => {
                lines.push("provider = \"anthropic\"".into());
                lines.push("api_key = \"${ANTHROPIC_API_KEY}\"".into());
                if let Some(url) = base_url {
                    lines.push(format!("base_url = {}", quoted(url)));
                }
                if let Some(model) = model {
                    lines.push(format!("model = {}", quoted(model)));
                }
                prices = *set;
            }
            Investigator::OpenAi {
                base_url,
                model,
                keyed,
                prices: set,
            } => {
                lines.push("provider = \"openai\"".into());
                lines.push(format!("base_url = {}", quoted(base_url)));
                lines.push(format!("model = {}", quoted(model)));
                if *keyed {
                    lines.push("api_key = \"${OPENAI_API_KEY}\"".into());
                }
                prices = *set;
            }
        }
        if let Some((input, output)) = prices {
            lines.push(format!("price_input_per_million = {input:?}"));
            lines.push(format!("price_output_per_million = {output:?}"));
        }
        if let Some(repository) = repository {
            lines.push(format!(
                "repository = {}",
                quoted(&repository.display().to_string())
            ));
        }
        lines.join("\n") + "\n"
    }
}

//! The `[investigator]` section: the provider (Anthropic by default, its key from
//! `ANTHROPIC_API_KEY`; with no key, the offline investigator), the bounds, the prices, what
//! personal data is redacted and where the app's repository is.

use super::{Validator, dur};
use crate::config::investigator::{
    Budgets, DEFAULT_ANTHROPIC_MODEL, DEFAULT_ANTHROPIC_URL, DEFAULT_KEY_VARIABLE, DEFAULT_PRICES,
    InvestigatorConfig, PersonalData, Prices, Provider,
};
use crate::config::raw::RawInvestigator;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The providers `provider` may name.
const PROVIDERS: &str = "\"anthropic\", \"openai\" (any OpenAI-compatible endpoint) or \"offline\"";

impl Validator<'_> {
    pub(super) fn investigator(&mut self, raw: &RawInvestigator) -> InvestigatorConfig {
        let defaults = InvestigatorConfig::default();
        let provider = self.provider(raw);
        let prices = self.prices(raw, &provider);
        let concurrency = match &raw.concurrency {
            Some(n) if *n.get_ref() == 0 => {
                self.error(n.span(), "concurrency must be at least 1");
                defaults.concurrency
            }
            Some(n) => *n.get_ref() as usize,
            None => defaults.concurrency,
        };
        InvestigatorConfig {
            provider,
            concurrency,
            budgets: self.budgets(raw),
            prices,
            personal_data: PersonalData {
                emails: raw.redact_emails.as_ref().is_none_or(|v| *v.get_ref()),
                ips: raw.redact_ips.as_ref().is_none_or(|v| *v.get_ref()),
                columns: raw
                    .redact_columns
                    .as_ref()
                    .map(|columns| {
                        columns
                            .get_ref()
                            .iter()
                            .map(|c| c.get_ref().trim().to_string())
                            .filter(|c| !c.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            repository: raw
                .repository
                .as_ref()
                .and_then(|path| self.repository(path)),
        }
    }

    fn provider(&mut self, raw: &RawInvestigator) -> Provider {
        let name = raw
            .provider
            .as_ref()
            .map_or("anthropic", |p| p.get_ref().as_str());
        let model = raw.model.as_ref().map(|m| m.get_ref().trim().to_string());
        let base_url = raw.base_url.as_ref().and_then(|url| self.url(url));
        let api_key = self.secret(&raw.api_key, "api_key");
        match name {
            "anthropic" => {
                let api_key = match (api_key, &raw.api_key) {
                    (Some(key), _) => key,
                    (None, Some(_)) => String::new(), // its error is already reported
                    (None, None) => match (self.lookup)(DEFAULT_KEY_VARIABLE) {
                        Some(key) if !key.trim().is_empty() => {
                            self.secrets.push(key.clone());
                            key
                        }
                        _ => {
                            return Provider::Offline {
                                why: format!(
                                    "no model configured: set {DEFAULT_KEY_VARIABLE} to use Claude"
                                ),
                            };
                        }
                    },
                };
                Provider::Anthropic {
                    base_url: base_url.unwrap_or_else(|| DEFAULT_ANTHROPIC_URL.to_string()),
                    model: model.unwrap_or_else(|| DEFAULT_ANTHROPIC_MODEL.to_string()),
                    api_key,
                }
            }
            "openai" => {
                let span = raw.provider.as_ref().map_or(0..0, Spanned::span);
                let Some(base_url) = base_url else {
                    if raw.base_url.is_none() {
                        self.error(span.clone(), "provider \"openai\" needs base_url, the endpoint's address up to /v1 (like \"http://127.0.0.1:8080/v1\" for llama.cpp or \"https://api.openai.com/v1\")");
                    }
                    return Provider::Offline {
                        why: "the configured provider is incomplete".into(),
                    };
                };
                let Some(model) = model.filter(|m| !m.is_empty()) else {
                    self.error(
                        span,
                        "provider \"openai\" needs model, the model name the endpoint serves",
                    );
                    return Provider::Offline {
                        why: "the configured provider is incomplete".into(),
                    };
                };
                Provider::OpenAiCompatible {
                    base_url,
                    model,
                    api_key,
                }
            }
            "offline" => Provider::Offline {
                why: "chosen in the configuration".into(),
            },
            other => {
                if let Some(provider) = &raw.provider {
                    self.error(
                        provider.span(),
                        format!("unknown provider {other:?}: use {PROVIDERS}"),
                    );
                }
                Provider::Offline {
                    why: "unknown provider".into(),
                }
            }
        }
    }

    fn budgets(&mut self, raw: &RawInvestigator) -> Budgets {
        let defaults = Budgets::default();
        let mut positive = |value: &Option<Spanned<f64>>, key: &str, default: f64| match value {
            None => default,
            Some(v) if v.get_ref().is_finite() && *v.get_ref() >= 0.0 => *v.get_ref(),
            Some(v) => {
                self.error(
                    v.span(),
                    format!("{key} must be a number of US dollars, 0 or more"),
                );
                default
            }
        };
        let max_cost = positive(&raw.max_cost, "max_cost", defaults.max_cost);
        let daily_cost = positive(&raw.daily_cost, "daily_cost", defaults.daily_cost);
        let max_steps = match &raw.max_steps {
            Some(n) if *n.get_ref() == 0 => {
                self.error(n.span(), "max_steps must be at least 1");
                defaults.max_steps
            }
            Some(n) => *n.get_ref(),
            None => defaults.max_steps,
        };
        let mut at_least =
            |value: &Option<Spanned<u64>>, key: &str, least: u64, default: u64| match value {
                None => default,
                Some(n) if *n.get_ref() >= least => *n.get_ref(),
                Some(n) => {
                    self.error(n.span(), format!("{key} must be at least {least}"));
                    default
                }
            };
        let max_tokens = at_least(&raw.max_tokens, "max_tokens", 1_000, defaults.max_tokens);
        let tool_result_tokens = at_least(
            &raw.tool_result_tokens,
            "tool_result_tokens",
            100,
            defaults.tool_result_tokens,
        );
        let max_duration = dur(&raw.max_duration).unwrap_or(defaults.max_duration);
        if let Some(value) = &raw.max_duration
            && value.get_ref().0 < Duration::from_secs(5)
        {
            self.error(value.span(), "max_duration must be at least 5s");
        }
        Budgets {
            max_steps,
            max_tokens,
            max_cost,
            max_duration,
            daily_cost,
            tool_result_tokens,
        }
    }

    fn prices(&mut self, raw: &RawInvestigator, provider: &Provider) -> Prices {
        // A model served on this machine (llama-server, Ollama) costs nothing per token.
        let local = matches!(provider, Provider::OpenAiCompatible { base_url, .. } if is_loopback(base_url));
        let defaults = if local {
            Prices {
                input_per_million: 0.0,
                output_per_million: 0.0,
            }
        } else {
            DEFAULT_PRICES
        };
        let mut price = |value: &Option<Spanned<f64>>, default: f64| match value {
            None => default,
            Some(v) if v.get_ref().is_finite() && *v.get_ref() >= 0.0 => *v.get_ref(),
            Some(v) => {
                self.error(
                    v.span(),
                    "a price is US dollars per million tokens, 0 or more",
                );
                default
            }
        };
        Prices {
            input_per_million: price(&raw.price_input_per_million, defaults.input_per_million),
            output_per_million: price(&raw.price_output_per_million, defaults.output_per_million),
        }
    }

    fn repository(&mut self, path: &Spanned<String>) -> Option<PathBuf> {
        let expanded = self.expanded(path)?;
        let candidate = PathBuf::from(expanded);
        let full = if candidate.is_relative() {
            self.path.parent().unwrap_or(Path::new(".")).join(candidate)
        } else {
            candidate
        };
        Some(full)
    }
}

/// Whether `url` names this machine (`localhost` or a loopback address).
fn is_loopback(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = parsed
        .host_str()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Provider};
    use std::path::Path;

    fn parse(section: &str, env: &[(&str, &str)]) -> Result<Config, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Config::parse(
            Path::new("s.toml"),
            &format!("[investigator]\n{section}"),
            &lookup,
        )
        .map_err(|errors| errors.to_string())
    }

    #[test]
    fn claude_is_the_default_when_its_key_is_set_and_offline_otherwise() {
        let with_key = parse("", &[("ANTHROPIC_API_KEY", "sk-ant-test")]).unwrap();
        match &with_key.investigator.provider {
            Provider::Anthropic { model, api_key, .. } => {
                assert_eq!(model, "claude-sonnet-4-5");
                assert_eq!(api_key, "sk-ant-test");
            }
            other => panic!("{other:?}"),
        }
        let without = parse("", &[]).unwrap();
        assert!(
            matches!(&without.investigator.provider, Provider::Offline { why } if why.contains("ANTHROPIC_API_KEY"))
        );
        let debug = format!("{:?}", with_key.investigator);
        assert!(!debug.contains("sk-ant-test"), "{debug}");
    }

    #[test]
    fn an_openai_compatible_endpoint_needs_its_address_and_model() {
        let config = parse(
            "provider = \"openai\"\nbase_url = \"http://127.0.0.1:8080/v1\"\nmodel = \"smollm2\"\n",
            &[],
        )
        .unwrap();
        assert!(matches!(
            config.investigator.provider,
            Provider::OpenAiCompatible { api_key: None, .. }
        ));
        assert_eq!(
            config.investigator.prices.input_per_million, 0.0,
            "a model on this machine costs nothing per token"
        );
        let remote = parse(
            "provider = \"openai\"\nbase_url = \"https://api.openai.com/v1\"\nmodel = \"gpt-4.1\"\nprice_output_per_million = 8.0\n",
            &[],
        )
        .unwrap();
        assert_eq!(remote.investigator.prices.input_per_million, 3.0);
        assert_eq!(remote.investigator.prices.output_per_million, 8.0);
        let error = parse("provider = \"openai\"\nmodel = \"m\"\n", &[]).unwrap_err();
        assert!(
            error.contains("s.toml:2:12: provider \"openai\" needs base_url"),
            "{error}"
        );
        let error = parse("provider = \"openai\"\nbase_url = \"http://x/v1\"\n", &[]).unwrap_err();
        assert!(error.contains("needs model"), "{error}");
    }

    #[test]
    fn bad_values_point_at_their_place() {
        let error = parse(
            "provider = \"gpt\"\nconcurrency = 0\nmax_cost = -1.0\nmax_duration = \"1s\"\napi_key = \"sk-literal\"\n",
            &[],
        )
        .unwrap_err();
        assert!(
            error.contains("s.toml:2:12: unknown provider \"gpt\""),
            "{error}"
        );
        assert!(
            error.contains("s.toml:3:15: concurrency must be at least 1"),
            "{error}"
        );
        assert!(error.contains("s.toml:4:12: max_cost must be"), "{error}");
        assert!(
            error.contains("s.toml:5:16: max_duration must be at least 5s"),
            "{error}"
        );
        assert!(
            error.contains("s.toml:6:11: secrets come only from the environment"),
            "{error}"
        );
        assert!(parse("unknown_key = 1\n", &[]).is_err());
    }

    #[test]
    fn redaction_and_repository_settings_are_read() {
        let config = parse(
            "provider = \"offline\"\nredact_ips = false\nredact_columns = [\"users.full_name\", \" phone \"]\nrepository = \"app\"\n",
            &[],
        )
        .unwrap();
        let investigator = config.investigator;
        assert!(investigator.personal_data.emails);
        assert!(!investigator.personal_data.ips);
        assert_eq!(
            investigator.personal_data.columns,
            vec!["users.full_name".to_string(), "phone".to_string()]
        );
        assert_eq!(investigator.repository.unwrap(), Path::new("app"));
    }
}

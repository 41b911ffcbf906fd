//! The configured model as a client, and `sentinel doctor`'s check that it answers: one tiny
//! request (a few tokens), no retries, so a wrong key, an unknown model or an endpoint that
//! is down shows before the first investigation needs it.

use crate::config::Provider;
use crate::llm::{AnthropicClient, Message, Model, OpenAiClient, Request};
use crate::source::registry::Finding;
use std::time::Duration;

/// Timeout of one model request.
pub(crate) const MODEL_TIMEOUT: Duration = Duration::from_secs(120);

/// The client of the configured model; `Ok(None)` offline.
pub(crate) fn model_for(provider: &Provider) -> Result<Option<Box<dyn Model>>, String> {
    Ok(Some(match provider {
        Provider::Offline { .. } => return Ok(None),
        Provider::Anthropic {
            base_url,
            model,
            api_key,
        } => Box::new(AnthropicClient::new(
            base_url,
            api_key.clone(),
            model,
            MODEL_TIMEOUT,
        )?),
        Provider::OpenAiCompatible {
            base_url,
            model,
            api_key,
        } => Box::new(OpenAiClient::new(
            base_url,
            api_key.clone(),
            model,
            MODEL_TIMEOUT,
        )?),
    }))
}

/// Asks the configured model for one word.
pub async fn check(provider: &Provider) -> Finding {
    let model = match model_for(provider) {
        Ok(Some(model)) => model,
        Ok(None) => {
            let why = match provider {
                Provider::Offline { why } => why.as_str(),
                _ => "",
            };
            return Finding::Ok(format!(
                "offline investigator ({why}); investigations use the playbooks alone"
            ));
        }
        Err(error) => return Finding::Fail(format!("the model client cannot be built: {error}")),
    };
    let request = Request {
        system: "Answer with one word.".into(),
        tools: Vec::new(),
        messages: vec![Message::user("Say OK.")],
        max_tokens: 8,
    };
    match model.complete(&request).await {
        Ok(reply) => Finding::Ok(format!(
            "{} answered ({} tokens in, {} out)",
            model.describe(),
            reply.usage.input_tokens + reply.usage.cache_read_tokens,
            reply.usage.output_tokens
        )),
        Err(error) => Finding::Fail(format!(
            "{} did not answer: {error}; investigations fall back to the offline investigator",
            model.describe()
        )),
    }
}

//! Builds the engine's parts from a validated configuration: sources, channels, dispatcher,
//! and the Telegram listener; and judges the SQL sources' roles before anything runs.

use super::Engine;
use crate::chat::ChatBot;
use crate::clock::SharedClock;
use crate::config::{ChannelSpecKind, Config, SourceSpecKind};
use crate::notify::Channel;
use crate::notify::console::{ConsoleChannel, ConsoleStyle};
use crate::notify::dispatch::{Channels, Dispatcher};
use crate::notify::telegram::TelegramChannel;
use crate::notify::webhook::WebhookChannel;
use crate::source::prometheus::PrometheusSource;
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::watch::Sources;
use std::sync::Arc;

/// Connects every configured source (lazily: nothing is contacted yet).
pub fn sources(config: &Config) -> Result<Sources, String> {
    let mut sources = Sources::default();
    for spec in &config.sources {
        match &spec.kind {
            SourceSpecKind::Prometheus {
                url,
                timeout,
                bearer_token,
            } => {
                let source =
                    PrometheusSource::new(&spec.name, url, *timeout, bearer_token.as_deref())
                        .map_err(|e| format!("source {}: {e}", spec.name))?;
                sources.insert(&spec.name, Arc::new(source));
            }
            SourceSpecKind::Loki {
                url,
                timeout,
                tenant,
                basic_auth,
                bearer_token,
            } => {
                let source = crate::source::loki::LokiSource::new(
                    &spec.name,
                    url,
                    *timeout,
                    tenant.clone(),
                    basic_auth.clone(),
                    bearer_token.clone(),
                )
                .map_err(|e| format!("source {}: {e}", spec.name))?;
                sources.insert(&spec.name, Arc::new(source));
            }
            SourceSpecKind::Journald {
                journalctl,
                units,
                directory,
                timeout,
            } => {
                let options = crate::source::journald::JournaldOptions {
                    journalctl: journalctl.into(),
                    units: units.clone(),
                    directory: directory.as_ref().map(Into::into),
                    timeout: *timeout,
                    since: Some("-1h".into()),
                    ..Default::default()
                };
                let source = crate::source::journald::JournaldSource::new(&spec.name, options);
                sources.insert(&spec.name, Arc::new(source));
            }
            SourceSpecKind::Redis { url, timeout } => {
                let source = crate::source::redis::RedisSource::new(&spec.name, url, *timeout)
                    .map_err(|e| format!("source {}: {e}", spec.name))?;
                sources.insert(&spec.name, Arc::new(source));
            }
            SourceSpecKind::Sql(settings) => {
                let source =
                    crate::source::sql::database::SqlSource::new(&spec.name, settings.clone());
                sources.insert(&spec.name, Arc::new(source));
            }
        }
    }
    for watch in &config.watches {
        if let crate::config::WatchSpecKind::Http(_) = watch.kind {
            let client = crate::watch::http::client(&watch.name)
                .map_err(|e| format!("watch {}: {e}", watch.name))?;
            sources.insert_http(&watch.name, Arc::new(client));
        }
    }
    Ok(sources)
}

/// Judges the role of every SQL source of `config` (only `only`, when given) before anything
/// runs on it: `Err` with every refusal (a role that can do more than read, without
/// `allow_privileged_role = true`); an allowed one is logged as a warning. A source that cannot
/// be reached now is not held against start-up: its role is judged on the first connection
/// that works, before any statement of a watch runs on it.
pub async fn judge_roles(config: &Config, only: Option<&str>) -> Result<(), String> {
    use crate::source::sql::role_gate::{self, Admission};
    let judgements = config
        .sources
        .iter()
        .filter(|spec| only.is_none_or(|name| name == spec.name))
        .filter_map(|spec| match &spec.kind {
            SourceSpecKind::Sql(settings) => Some(async move {
                (
                    spec.name.as_str(),
                    role_gate::judge(&spec.name, settings).await,
                )
            }),
            _ => None,
        });
    let mut refusals = Vec::new();
    for (name, judgement) in futures_util::future::join_all(judgements).await {
        match judgement {
            Ok(Admission::Refused(message)) => refusals.push(message),
            Ok(Admission::ReadOnly | Admission::Privileged(_)) => {}
            Err(error) => tracing::warn!(
                "source {name}: its role is not checked yet ({error}); it will be on the first \
                 connection that works, before any watch's statement runs on it"
            ),
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals.join("\n"))
    }
}

/// Every configured channel; with none configured, the console. Telegram keeps its button
/// payloads in `store`.
pub fn channels(config: &Config, store: &Store, clock: &SharedClock) -> Result<Channels, String> {
    let mut list = Vec::new();
    for spec in &config.channels {
        let channel = match &spec.kind {
            ChannelSpecKind::Console => Channel::Console(ConsoleChannel {
                style: ConsoleStyle::Human,
            }),
            ChannelSpecKind::Webhook {
                url,
                bearer_token,
                timeout,
            } => Channel::Webhook(
                WebhookChannel::new(url, bearer_token.clone(), *timeout)
                    .map_err(|e| format!("channel {}: {e}", spec.name))?,
            ),
            ChannelSpecKind::Telegram(telegram) => Channel::Telegram(
                TelegramChannel::new(telegram, store.clone(), clock.clone())
                    .map_err(|e| format!("channel {}: {e}", spec.name))?,
            ),
        };
        list.push((spec.name.clone(), channel));
    }
    if list.is_empty() {
        list.push((
            "console".to_string(),
            Channel::Console(ConsoleChannel {
                style: ConsoleStyle::Human,
            }),
        ));
    }
    Ok(Channels { list })
}

/// The Telegram listener, when a Telegram channel is configured. Checks the bot token first
/// (getMe): a rejected token is an error naming the setting; an unreachable Bot API is not.
pub async fn chat(config: &Config, channels: &Channels) -> Result<Option<ChatBot>, String> {
    for spec in &config.channels {
        let ChannelSpecKind::Telegram(telegram) = &spec.kind else {
            continue;
        };
        let Some(Channel::Telegram(channel)) = channels.get(&spec.name) else {
            continue;
        };
        let me = channel
            .check_token()
            .await
            .map_err(|e| format!("channel {}: {e}", spec.name))?;
        if let Some(me) = me {
            tracing::info!(
                "telegram: paging chat {} as @{}",
                telegram.chat_id,
                me.username.as_deref().unwrap_or("?")
            );
        }
        let watches = config.watches.iter().map(|w| w.name.clone()).collect();
        let mut bot = ChatBot::new(channel.clone(), telegram, watches);
        bot.daily_budget = config.investigator.budgets.daily_cost;
        return Ok(Some(bot));
    }
    Ok(None)
}

/// The whole engine for a configuration.
pub fn engine(
    config: Config,
    store: Store,
    clock: SharedClock,
    channels: Channels,
) -> Result<Engine, String> {
    let sources = sources(&config)?;
    Ok(engine_with_sources(config, sources, store, clock, channels))
}

/// The engine over sources already built (the demo adds simulated ones).
pub fn engine_with_sources(
    config: Config,
    sources: Sources,
    store: Store,
    clock: SharedClock,
    channels: Channels,
) -> Engine {
    let metrics = Arc::new(Metrics::new());
    let dispatcher = Dispatcher {
        store: store.clone(),
        channels,
        metrics: metrics.clone(),
        clock: clock.clone(),
    };
    Engine::new(config, store, sources, dispatcher, metrics, clock)
}

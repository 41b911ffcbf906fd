//! Builds the engine's parts from a validated configuration: sources, channels, dispatcher.

use super::Engine;
use crate::clock::SharedClock;
use crate::config::{ChannelSpecKind, Config, SourceSpecKind};
use crate::notify::Channel;
use crate::notify::console::{ConsoleChannel, ConsoleStyle};
use crate::notify::dispatch::{Channels, Dispatcher};
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
                sources.prometheus.insert(spec.name.clone(), source);
            }
        }
    }
    Ok(sources)
}

/// Every configured channel; with none configured, the console.
pub fn channels(config: &Config) -> Result<Channels, String> {
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

/// The whole engine for a configuration.
pub fn engine(
    config: Config,
    store: Store,
    clock: SharedClock,
    channels: Channels,
) -> Result<Engine, String> {
    let metrics = Arc::new(Metrics::new());
    let sources = sources(&config)?;
    let dispatcher = Dispatcher {
        store: store.clone(),
        channels,
        metrics: metrics.clone(),
        clock: clock.clone(),
    };
    Ok(Engine::new(
        config, store, sources, dispatcher, metrics, clock,
    ))
}

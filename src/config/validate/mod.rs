//! Turns the file as written into a [`Config`]: defaults, required and inapplicable keys,
//! references between sections, cron expressions, time zones and secrets, collecting every
//! problem with its place in the file.

use super::env;
use super::raw::{ChannelKind, RawConfig, SourceKind, WrittenKeys, WrittenSections};
use super::units::HumanDuration;
use super::*;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

pub(crate) mod applicable;
mod channels;
mod evidence;
mod intake;
mod investigator;
mod log_feed;
mod server;
mod source_ref;
mod sources;
mod store;
mod stripe;
mod watches;

pub(crate) use source_ref::is_sql;

pub(crate) struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<ConfigError>,
    /// Every secret value read from the environment, so nothing carrying one leaves the box.
    secrets: Vec<String>,
}

pub(super) fn parse(
    path: &Path,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    let raw: RawConfig = toml::from_str(text).map_err(|error| {
        let mut message = error.message().trim().to_string();
        if message == "duplicate key"
            && let Some(name) = error.span().and_then(|span| text.get(span)) {
                message = format!("duplicate key: `{name}` is defined twice; every watch, source and channel needs its own name");
            }
        ConfigErrors(vec![ConfigError::at(path, text, error.span(), message)])
    })?;
    let written: WrittenSections = toml::from_str(text).map_err(|error| {
        ConfigErrors(vec![ConfigError::at(
            path,
            text,
            error.span(),
            error.message().trim(),
        )])
    })?;
    let mut validator = Validator {
        path,
        text,
        lookup,
        errors: Vec::new(),
        secrets: Vec::new(),
    };
    let config = validator.config(raw, &written);
    if validator.errors.is_empty() {
        Ok(config)
    } else {
        validator.errors.sort_by_key(|e| (e.line, e.col));
        Err(ConfigErrors(validator.errors))
    }
}

/// The keys of a section the second reading did not find (it reads the same text, so none).
static NO_KEYS: WrittenKeys = WrittenKeys::new();

/// The keys section `name` sets, as written.
fn written_in<'a>(
    sections: &'a BTreeMap<String, WrittenKeys>,
    name: &Spanned<String>,
) -> &'a WrittenKeys {
    sections.get(name.get_ref()).unwrap_or(&NO_KEYS)
}

pub(crate) fn dur(value: &Option<Spanned<HumanDuration>>) -> Option<Duration> {
    value.as_ref().map(|v| v.get_ref().0)
}

impl Validator<'_> {
    pub(crate) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors
            .push(ConfigError::at(self.path, self.text, Some(span), message));
    }

    fn config(&mut self, raw: RawConfig, written: &WrittenSections) -> Config {
        let server = self.server(&raw);
        let store = self.store(&raw);
        let engine = self.engine(&raw);
        let sources: Vec<SourceSpec> = raw
            .sources
            .iter()
            .filter_map(|(name, source)| {
                self.source(name, source, written_in(&written.sources, name), &engine)
            })
            .collect();
        let source_kinds: BTreeMap<String, SourceKind> = raw
            .sources
            .iter()
            .map(|(name, source)| (name.get_ref().clone(), *source.kind.get_ref()))
            .collect();
        let channels: Vec<ChannelSpec> = raw
            .channels
            .iter()
            .filter_map(|(name, channel)| {
                self.channel(name, channel, written_in(&written.channels, name))
            })
            .collect();
        let channel_names: Vec<String> = raw.channels.keys().map(|k| k.get_ref().clone()).collect();
        let mut telegram_channels: Vec<&Spanned<String>> = raw
            .channels
            .iter()
            .filter(|(_, c)| *c.kind.get_ref() == ChannelKind::Telegram)
            .map(|(name, _)| name)
            .collect();
        telegram_channels.sort_by_key(|name| name.span().start);
        if let [first, rest @ ..] = telegram_channels.as_slice() {
            for other in rest {
                self.error(
                    other.span(),
                    format!(
                        "only one telegram channel is supported (`{}` is already one): one bot, one chat",
                        first.get_ref()
                    ),
                );
            }
        }
        let mut watches = Vec::new();
        let mut tokens: BTreeMap<String, String> = BTreeMap::new();
        for (name, watch) in &raw.watches {
            if let Some(spec) = self.watch(
                name,
                watch,
                written_in(&written.watches, name),
                &engine,
                &source_kinds,
                &channel_names,
            ) {
                if let WatchSpecKind::Heartbeat(heartbeat) = &spec.kind
                    && let Some(other) = tokens.insert(heartbeat.token.clone(), spec.name.clone())
                {
                    let span = watch.token.as_ref().map_or(name.span(), |t| t.span());
                    self.error(span, format!("this ping token is already used by watch `{other}`: every heartbeat needs its own"));
                }
                watches.push(spec);
            }
        }
        self.intake_rules(&raw, &watches, &server);
        let investigator = self.investigator(&raw.investigator);
        let stripe = self.stripe(&raw);
        let evidence = self.evidence(&raw, &sources, &store);
        Config {
            path: self.path.to_path_buf(),
            server,
            store,
            engine,
            sources,
            watches,
            channels,
            investigator,
            stripe,
            evidence,
            secrets: Secrets(std::mem::take(&mut self.secrets)),
        }
    }

    fn engine(&mut self, raw: &RawConfig) -> EngineConfig {
        let defaults = EngineConfig::default();
        let engine = EngineConfig {
            interval: dur(&raw.engine.interval).unwrap_or(defaults.interval),
            timeout: dur(&raw.engine.timeout).unwrap_or(defaults.timeout),
            concurrency: raw
                .engine
                .concurrency
                .as_ref()
                .map_or(defaults.concurrency, |c| *c.get_ref() as usize),
            blind_for: dur(&raw.engine.blind_for).unwrap_or(defaults.blind_for),
        };
        if let Some(concurrency) = &raw.engine.concurrency
            && *concurrency.get_ref() == 0
        {
            self.error(concurrency.span(), "concurrency must be at least 1");
        }
        for value in [&raw.engine.interval, &raw.engine.timeout]
            .into_iter()
            .flatten()
        {
            if value.get_ref().0.is_zero() {
                self.error(value.span(), "must be longer than zero");
            }
        }
        engine
    }

    fn name_ok(&mut self, name: &Spanned<String>, what: &str) -> bool {
        let text = name.get_ref();
        let ok = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            self.error(
                name.span(),
                format!("invalid {what} name {text:?}: use letters, digits, - and _"),
            );
        }
        ok
    }

    pub(crate) fn expanded(&mut self, value: &Spanned<String>) -> Option<String> {
        match env::expand(value.get_ref(), self.lookup) {
            Ok(text) => Some(text),
            Err(message) => {
                self.error(value.span(), message);
                None
            }
        }
    }

    pub(crate) fn secret(
        &mut self,
        value: &Option<Spanned<String>>,
        setting: &str,
    ) -> Option<String> {
        let value = value.as_ref()?;
        match env::secret(value.get_ref(), setting, self.lookup) {
            Ok(secret) => {
                self.secrets.push(secret.clone());
                Some(secret)
            }
            Err(message) => {
                self.error(value.span(), message);
                None
            }
        }
    }

    pub(crate) fn url(&mut self, value: &Spanned<String>) -> Option<String> {
        let url = self.expanded(value)?;
        match reqwest::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
                Some(url.trim_end_matches('/').to_string())
            }
            _ => {
                self.error(
                    value.span(),
                    format!("invalid URL {url:?}: expected http:// or https:// followed by a host"),
                );
                None
            }
        }
    }
}

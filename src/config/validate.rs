//! Turns the file as written into a [`Config`]: defaults, required and inapplicable keys,
//! references between sections, cron expressions, time zones and secrets, collecting every
//! problem with its place in the file.

use super::env;
use super::raw::{ChannelKind, RawChannel, RawConfig, RawSource, RawWatch, SourceKind, WatchKind};
use super::units::HumanDuration;
use super::*;
use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;
use toml::Spanned;

/// Ping tokens are capabilities in a URL: they must not be guessable.
const MIN_TOKEN_LEN: usize = 16;

/// Keys that only Telegram channels take.
const TELEGRAM_KEYS: [&str; 5] = [
    "bot_token",
    "chat_id",
    "allowed_users",
    "api_url",
    "poll_timeout",
];

/// The longest long poll the Bot API holds.
const MAX_POLL_TIMEOUT: Duration = Duration::from_secs(50);

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<ConfigError>,
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
    let mut validator = Validator {
        path,
        text,
        lookup,
        errors: Vec::new(),
    };
    let config = validator.config(raw);
    if validator.errors.is_empty() {
        Ok(config)
    } else {
        validator.errors.sort_by_key(|e| (e.line, e.col));
        Err(ConfigErrors(validator.errors))
    }
}

fn dur(value: &Option<Spanned<HumanDuration>>) -> Option<Duration> {
    value.as_ref().map(|v| v.get_ref().0)
}

impl Validator<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors
            .push(ConfigError::at(self.path, self.text, Some(span), message));
    }

    fn config(&mut self, raw: RawConfig) -> Config {
        let server = self.server(&raw);
        let store = self.store(&raw);
        let engine = self.engine(&raw);
        let sources: Vec<SourceSpec> = raw
            .sources
            .iter()
            .filter_map(|(name, source)| self.source(name, source, &engine))
            .collect();
        let source_kinds: BTreeMap<String, SourceKind> = raw
            .sources
            .iter()
            .map(|(name, source)| (name.get_ref().clone(), *source.kind.get_ref()))
            .collect();
        let channels: Vec<ChannelSpec> = raw
            .channels
            .iter()
            .filter_map(|(name, channel)| self.channel(name, channel))
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
            if let Some(spec) = self.watch(name, watch, &engine, &source_kinds, &channel_names) {
                if let WatchSpecKind::Heartbeat(heartbeat) = &spec.kind
                    && let Some(other) = tokens.insert(heartbeat.token.clone(), spec.name.clone())
                {
                    let span = watch.token.as_ref().map_or(name.span(), |t| t.span());
                    self.error(span, format!("this ping token is already used by watch `{other}`: every heartbeat needs its own"));
                }
                watches.push(spec);
            }
        }
        Config {
            path: self.path.to_path_buf(),
            server,
            store,
            engine,
            sources,
            watches,
            channels,
        }
    }

    fn server(&mut self, raw: &RawConfig) -> ServerConfig {
        let mut server = ServerConfig::default();
        if let Some(listen) = &raw.server.listen {
            match listen.get_ref().parse::<SocketAddr>() {
                Ok(addr) => server.listen = addr,
                Err(_) => self.error(
                    listen.span(),
                    format!(
                        "invalid listen address {:?}: expected ip:port, like \"127.0.0.1:9477\"",
                        listen.get_ref()
                    ),
                ),
            }
        }
        if let Some(max_body) = &raw.server.max_body {
            server.max_body = usize::try_from(max_body.get_ref().0).unwrap_or(usize::MAX);
        }
        if let Some(rate) = &raw.server.rate_limit_per_second {
            if *rate.get_ref() == 0 {
                self.error(rate.span(), "rate_limit_per_second must be at least 1");
            }
            server.rate_limit_per_second = *rate.get_ref();
        }
        server
    }

    fn store(&mut self, raw: &RawConfig) -> StoreConfig {
        let path = match &raw.store.path {
            Some(path) => match env::expand(path.get_ref(), self.lookup) {
                Ok(expanded) => {
                    let candidate = PathBuf::from(expanded);
                    if candidate.is_relative() {
                        self.path.parent().unwrap_or(Path::new(".")).join(candidate)
                    } else {
                        candidate
                    }
                }
                Err(message) => {
                    self.error(path.span(), message);
                    default_store_path()
                }
            },
            None => default_store_path(),
        };
        StoreConfig { path }
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

    fn expanded(&mut self, value: &Spanned<String>) -> Option<String> {
        match env::expand(value.get_ref(), self.lookup) {
            Ok(text) => Some(text),
            Err(message) => {
                self.error(value.span(), message);
                None
            }
        }
    }

    fn secret(&mut self, value: &Option<Spanned<String>>, setting: &str) -> Option<String> {
        let value = value.as_ref()?;
        match env::secret(value.get_ref(), setting, self.lookup) {
            Ok(secret) => Some(secret),
            Err(message) => {
                self.error(value.span(), message);
                None
            }
        }
    }

    fn url(&mut self, value: &Spanned<String>) -> Option<String> {
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

    fn source(
        &mut self,
        name: &Spanned<String>,
        raw: &RawSource,
        engine: &EngineConfig,
    ) -> Option<SourceSpec> {
        let name_ok = self.name_ok(name, "source");
        let kind = match raw.kind.get_ref() {
            SourceKind::Prometheus => {
                let Some(url) = &raw.url else {
                    self.error(
                        raw.kind.span(),
                        format!(
                            "source `{}` needs url = \"http://host:9090\"",
                            name.get_ref()
                        ),
                    );
                    return None;
                };
                let url = self.url(url);
                let bearer_token = self.secret(&raw.bearer_token, "bearer_token");
                SourceSpecKind::Prometheus {
                    url: url?,
                    timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(10)),
                    bearer_token,
                }
            }
            SourceKind::Postgres | SourceKind::Mysql | SourceKind::Sqlite => {
                self.sql_source(name, raw)?
            }
        };
        name_ok.then(|| SourceSpec {
            name: name.get_ref().clone(),
            blind_for: dur(&raw.blind_for).unwrap_or(engine.blind_for),
            kind,
        })
    }

    fn sql_source(&mut self, name: &Spanned<String>, raw: &RawSource) -> Option<SourceSpecKind> {
        use crate::source::sql::caps::ResultCaps;
        use crate::source::sql::guard::{GuardPolicy, SqlDialectKind};
        let (dialect, example) = match raw.kind.get_ref() {
            SourceKind::Mysql => (
                SqlDialectKind::MySql,
                "\"mysql://sentinel_ro:${APP_DB_PASSWORD}@127.0.0.1/app\"",
            ),
            SourceKind::Sqlite => (SqlDialectKind::Sqlite, "\"sqlite:///var/lib/app/app.db\""),
            _ => (
                SqlDialectKind::Postgres,
                "\"postgres://sentinel_ro:${APP_DB_PASSWORD}@127.0.0.1/app\"",
            ),
        };
        for (key, span) in [
            ("timeout", raw.timeout.as_ref().map(|v| v.span())),
            ("bearer_token", raw.bearer_token.as_ref().map(|v| v.span())),
        ] {
            if let Some(span) = span {
                self.error(
                    span,
                    format!("`{key}` does not apply to SQL sources (use statement_timeout)"),
                );
            }
        }
        let Some(url) = &raw.url else {
            self.error(
                raw.kind.span(),
                format!("source `{}` needs url = {example}", name.get_ref()),
            );
            return None;
        };
        let url = self.expanded(url)?;
        let mut policy = GuardPolicy::new(dialect);
        policy.allow_show = raw.allow_show.as_ref().is_none_or(|v| *v.get_ref());
        policy.allow_explain = raw.allow_explain.as_ref().is_none_or(|v| *v.get_ref());
        policy.extra_denied_functions = raw
            .deny_functions
            .as_ref()
            .map(|v| v.get_ref().clone())
            .unwrap_or_default();
        let defaults = ResultCaps::default();
        Some(SourceSpecKind::Sql(
            crate::source::sql::database::SqlSettings {
                url,
                statement_timeout: dur(&raw.statement_timeout).unwrap_or(Duration::from_secs(5)),
                lock_timeout: dur(&raw.lock_timeout).unwrap_or(Duration::from_secs(1)),
                caps: ResultCaps {
                    max_rows: raw
                        .max_rows
                        .as_ref()
                        .map_or(defaults.max_rows, |v| *v.get_ref() as usize),
                    max_bytes: raw.max_bytes.as_ref().map_or(defaults.max_bytes, |v| {
                        usize::try_from(v.get_ref().0).unwrap_or(usize::MAX)
                    }),
                },
                policy,
            },
        ))
    }

    fn channel(&mut self, name: &Spanned<String>, raw: &RawChannel) -> Option<ChannelSpec> {
        let name_ok = self.name_ok(name, "channel");
        let kind = match raw.kind.get_ref() {
            ChannelKind::Console => {
                self.inapplicable(raw, "console", &["url", "bearer_token", "timeout"]);
                self.inapplicable(raw, "console", &TELEGRAM_KEYS);
                ChannelSpecKind::Console
            }
            ChannelKind::Webhook => {
                self.inapplicable(raw, "webhook", &TELEGRAM_KEYS);
                let Some(url) = &raw.url else {
                    self.error(
                        raw.kind.span(),
                        format!("channel `{}` needs url = \"https://...\"", name.get_ref()),
                    );
                    return None;
                };
                let url = self.url(url);
                let bearer_token = self.secret(&raw.bearer_token, "bearer_token");
                ChannelSpecKind::Webhook {
                    url: url?,
                    bearer_token,
                    timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(10)),
                }
            }
            ChannelKind::Telegram => {
                self.inapplicable(raw, "telegram", &["url", "bearer_token"]);
                ChannelSpecKind::Telegram(self.telegram(name, raw)?)
            }
        };
        name_ok.then(|| ChannelSpec {
            name: name.get_ref().clone(),
            kind,
        })
    }

    /// Reports each of `keys` that is set on a channel of a kind it does not apply to.
    fn inapplicable(&mut self, raw: &RawChannel, kind: &str, keys: &[&str]) {
        for key in keys {
            let span = match *key {
                "url" => raw.url.as_ref().map(|v| v.span()),
                "bearer_token" => raw.bearer_token.as_ref().map(|v| v.span()),
                "timeout" => raw.timeout.as_ref().map(|v| v.span()),
                "bot_token" => raw.bot_token.as_ref().map(|v| v.span()),
                "chat_id" => raw.chat_id.as_ref().map(|v| v.span()),
                "allowed_users" => raw.allowed_users.as_ref().map(|v| v.span()),
                "api_url" => raw.api_url.as_ref().map(|v| v.span()),
                "poll_timeout" => raw.poll_timeout.as_ref().map(|v| v.span()),
                _ => None,
            };
            if let Some(span) = span {
                self.error(span, format!("`{key}` does not apply to {kind} channels"));
            }
        }
    }

    fn telegram(&mut self, name: &Spanned<String>, raw: &RawChannel) -> Option<TelegramSpec> {
        let channel = name.get_ref();
        let missing = |this: &mut Self, key: &str, example: &str| {
            this.error(
                raw.kind.span(),
                format!("telegram channel `{channel}` needs {key} = {example}"),
            );
        };
        let bot_token = match &raw.bot_token {
            Some(_) => self.secret(&raw.bot_token, "bot_token"),
            None => {
                missing(self, "bot_token", "\"${TELEGRAM_BOT_TOKEN}\"");
                None
            }
        };
        let chat_id = match &raw.chat_id {
            Some(chat_id) if *chat_id.get_ref() == 0 => {
                self.error(
                    chat_id.span(),
                    "chat_id must be the id of the chat that receives pages (not 0)",
                );
                None
            }
            Some(chat_id) => Some(*chat_id.get_ref()),
            None => {
                missing(self, "chat_id", "<the id of the chat that receives pages>");
                None
            }
        };
        let allowed_users = match &raw.allowed_users {
            Some(users) if users.get_ref().is_empty() => {
                self.error(
                    users.span(),
                    "allowed_users must name at least one Telegram user id: nobody could act on a page",
                );
                None
            }
            Some(users) if users.get_ref().iter().any(|id| *id <= 0) => {
                self.error(
                    users.span(),
                    "allowed_users are Telegram user ids: positive numbers like 123456789",
                );
                None
            }
            Some(users) => Some(users.get_ref().clone()),
            None => {
                missing(self, "allowed_users", "[<your Telegram user id>]");
                None
            }
        };
        let api_url = match &raw.api_url {
            Some(url) => self.url(url),
            None => Some(TELEGRAM_API_URL.to_string()),
        };
        let poll_timeout = match &raw.poll_timeout {
            Some(value) if value.get_ref().0.is_zero() || value.get_ref().0 > MAX_POLL_TIMEOUT => {
                self.error(
                    value.span(),
                    "poll_timeout must be between 1s and 50s (the Bot API holds a long poll at most 50s)",
                );
                None
            }
            Some(value) => Some(value.get_ref().0),
            None => Some(Duration::from_secs(30)),
        };
        Some(TelegramSpec {
            bot_token: bot_token?,
            chat_id: chat_id?,
            allowed_users: allowed_users?,
            api_url: api_url?,
            poll_timeout: poll_timeout?,
            timeout: dur(&raw.timeout).unwrap_or(Duration::from_secs(10)),
        })
    }

    fn watch(
        &mut self,
        name: &Spanned<String>,
        raw: &RawWatch,
        engine: &EngineConfig,
        sources: &BTreeMap<String, SourceKind>,
        channels: &[String],
    ) -> Option<WatchSpec> {
        let name_ok = self.name_ok(name, "watch");
        let kind = *raw.kind.get_ref();
        let kind_name = match kind {
            WatchKind::Heartbeat => "heartbeat",
            WatchKind::Freshness => "freshness",
            WatchKind::Threshold => "threshold",
            WatchKind::NewError => "new_error",
        };
        let specific: [(&str, Option<Range<usize>>); 14] = [
            ("token", raw.token.as_ref().map(|v| v.span())),
            ("period", raw.period.as_ref().map(|v| v.span())),
            ("schedule", raw.schedule.as_ref().map(|v| v.span())),
            ("tz", raw.tz.as_ref().map(|v| v.span())),
            ("grace", raw.grace.as_ref().map(|v| v.span())),
            ("source", raw.source.as_ref().map(|v| v.span())),
            ("query", raw.query.as_ref().map(|v| v.span())),
            ("path", raw.path.as_ref().map(|v| v.span())),
            ("max_age", raw.max_age.as_ref().map(|v| v.span())),
            ("format", raw.format.as_ref().map(|v| v.span())),
            ("min_count", raw.min_count.as_ref().map(|v| v.span())),
            ("window", raw.window.as_ref().map(|v| v.span())),
            ("learn_for", raw.learn_for.as_ref().map(|v| v.span())),
            ("patterns", raw.patterns.as_ref().map(|v| v.span())),
        ];
        let allowed: &[&str] = match kind {
            WatchKind::Heartbeat => &["token", "period", "schedule", "tz", "grace"],
            WatchKind::Freshness => &["source", "query", "path", "max_age"],
            WatchKind::Threshold => &["source", "query"],
            WatchKind::NewError => &[
                "path",
                "format",
                "min_count",
                "window",
                "learn_for",
                "patterns",
            ],
        };
        for (key, span) in specific {
            if let Some(span) = span
                && !allowed.contains(&key)
            {
                self.error(
                    span,
                    format!(
                        "`{key}` does not apply to {kind_name} watches (they take: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
        if let Some(list) = &raw.channels {
            for channel in list.get_ref() {
                if !channels.contains(channel.get_ref()) {
                    self.error(channel.span(), format!("channel `{}` is not defined: add a [channels.{}] section or remove it here", channel.get_ref(), channel.get_ref()));
                }
            }
        }
        for value in [&raw.interval, &raw.timeout].into_iter().flatten() {
            if value.get_ref().0.is_zero() {
                self.error(value.span(), "must be longer than zero");
            }
        }
        let missing = |v: &mut Self, key: &str, example: &str| {
            v.error(
                raw.kind.span(),
                format!(
                    "{kind_name} watch `{}` needs {key} = {example}",
                    name.get_ref()
                ),
            );
        };
        let spec_kind = match kind {
            WatchKind::Heartbeat => self.heartbeat(raw, &missing)?,
            WatchKind::Threshold => {
                let source = self.prometheus_ref(raw, sources, kind_name, &missing);
                let Some(query) = &raw.query else {
                    missing(self, "query", "\"<PromQL returning the broken series>\"");
                    return None;
                };
                WatchSpecKind::Threshold(ThresholdSpec {
                    source: source?,
                    query: query.get_ref().clone(),
                })
            }
            WatchKind::NewError => {
                let Some(path) = &raw.path else {
                    missing(self, "path", "\"/var/log/app/*.log\"");
                    return None;
                };
                let pattern = self.expanded(path)?;
                if let Err(error) = glob::Pattern::new(&pattern) {
                    self.error(path.span(), format!("invalid glob pattern: {error}"));
                }
                if let Some(min_count) = &raw.min_count
                    && *min_count.get_ref() == 0
                {
                    self.error(min_count.span(), "min_count must be at least 1");
                }
                WatchSpecKind::NewError(NewErrorSpec {
                    pattern,
                    format: raw
                        .format
                        .as_ref()
                        .map_or(LogFormat::Plain, |f| *f.get_ref()),
                    min_count: raw.min_count.as_ref().map_or(3, |c| *c.get_ref()),
                    window: dur(&raw.window).unwrap_or(Duration::from_secs(600)),
                    learn_for: dur(&raw.learn_for).unwrap_or(Duration::from_secs(3600)),
                    patterns: raw
                        .patterns
                        .as_ref()
                        .map(|p| p.get_ref().clone())
                        .unwrap_or_default(),
                })
            }
            WatchKind::Freshness => {
                let Some(max_age) = dur(&raw.max_age) else {
                    missing(self, "max_age", "\"26h\"");
                    return None;
                };
                let target = match (&raw.path, &raw.query) {
                    (Some(path), None) => {
                        if let Some(source) = &raw.source {
                            self.error(source.span(), "a freshness watch on files takes `path` only; `source` is for `query`");
                        }
                        let pattern = self.expanded(path)?;
                        if let Err(error) = glob::Pattern::new(&pattern) {
                            self.error(path.span(), format!("invalid glob pattern: {error}"));
                        }
                        FreshnessTarget::Files { pattern }
                    }
                    (None, Some(query)) => FreshnessTarget::Query {
                        source: self.prometheus_ref(raw, sources, kind_name, &missing)?,
                        query: query.get_ref().clone(),
                    },
                    (Some(path), Some(_)) => {
                        self.error(path.span(), "give either `path` (newest matching file) or `query` (PromQL timestamps), not both");
                        return None;
                    }
                    (None, None) => {
                        missing(
                            self,
                            "path",
                            "\"/var/backups/*.sql.gz\" (or source + query)",
                        );
                        return None;
                    }
                };
                WatchSpecKind::Freshness(FreshnessSpec { target, max_age })
            }
        };
        if !name_ok {
            return None;
        }
        let description = raw
            .description
            .as_ref()
            .map(|d| d.get_ref().clone())
            .unwrap_or_else(|| name.get_ref().replace(['-', '_'], " "));
        Some(WatchSpec {
            name: name.get_ref().clone(),
            description,
            severity: raw
                .severity
                .as_ref()
                .map(|s| *s.get_ref())
                .unwrap_or_default(),
            interval: dur(&raw.interval).unwrap_or(engine.interval),
            timeout: dur(&raw.timeout).unwrap_or(engine.timeout),
            for_: dur(&raw.for_).unwrap_or(Duration::ZERO),
            keep_firing_for: dur(&raw.keep_firing_for).unwrap_or(Duration::ZERO),
            renotify: dur(&raw.renotify),
            notify_resolved: raw.notify_resolved.as_ref().is_some_and(|v| *v.get_ref()),
            channels: raw
                .channels
                .as_ref()
                .map(|list| list.get_ref().iter().map(|c| c.get_ref().clone()).collect()),
            kind: spec_kind,
        })
    }

    fn prometheus_ref(
        &mut self,
        raw: &RawWatch,
        sources: &BTreeMap<String, SourceKind>,
        kind_name: &str,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<String> {
        let Some(source) = &raw.source else {
            missing(
                self,
                "source",
                "\"<name of a [sources.NAME] of kind prometheus>\"",
            );
            return None;
        };
        match sources.get(source.get_ref()) {
            Some(SourceKind::Prometheus) => Some(source.get_ref().clone()),
            Some(_) => {
                self.error(source.span(), format!("source `{}` is a SQL database; a {kind_name} watch needs a [sources.NAME] with kind = \"prometheus\"", source.get_ref()));
                None
            }
            None => {
                let known: Vec<&str> = sources.keys().map(String::as_str).collect();
                let hint = if known.is_empty() {
                    "no sources are defined".to_string()
                } else {
                    format!("defined sources: {}", known.join(", "))
                };
                self.error(source.span(), format!("source `{}` is not defined ({hint}); a {kind_name} watch needs a [sources.NAME] with kind = \"prometheus\"", source.get_ref()));
                None
            }
        }
    }

    fn heartbeat(
        &mut self,
        raw: &RawWatch,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let Some(token) = &raw.token else {
            missing(self, "token", "\"<a UUID; `sentinel init` makes one>\"");
            return None;
        };
        let token_text = self.expanded(token)?;
        if token_text.len() < MIN_TOKEN_LEN
            || !token_text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.error(token.span(), format!("ping tokens must be unguessable: at least {MIN_TOKEN_LEN} letters, digits, - or _ (a UUID works)"));
        }
        let schedule = match (&raw.period, &raw.schedule) {
            (Some(period), None) => {
                if let Some(tz) = &raw.tz {
                    self.error(
                        tz.span(),
                        "`tz` applies only to a cron `schedule`, not to `period`",
                    );
                }
                if period.get_ref().0.is_zero() {
                    self.error(period.span(), "period must be longer than zero");
                }
                Schedule::Period(period.get_ref().0)
            }
            (None, Some(schedule)) => {
                let tz = match &raw.tz {
                    Some(tz) => match chrono_tz::Tz::from_str(tz.get_ref()) {
                        Ok(tz) => tz,
                        Err(_) => {
                            self.error(tz.span(), format!("unknown time zone {:?}: expected an IANA name like \"Europe/Berlin\" or \"UTC\"", tz.get_ref()));
                            chrono_tz::UTC
                        }
                    },
                    None => chrono_tz::UTC,
                };
                let fields = schedule.get_ref().split_whitespace().count();
                let parsed = if fields == 5 {
                    croner::Cron::from_str(schedule.get_ref()).map_err(|e| e.to_string())
                } else {
                    Err(format!(
                        "expected 5 fields (minute hour day-of-month month day-of-week), found {fields}"
                    ))
                };
                match parsed {
                    Ok(expression) => Schedule::Cron {
                        expression: Box::new(expression),
                        text: schedule.get_ref().clone(),
                        tz,
                    },
                    Err(reason) => {
                        self.error(schedule.span(), format!("invalid cron expression {:?}: {reason}; example: \"0 3 * * *\" for 03:00 daily", schedule.get_ref()));
                        return None;
                    }
                }
            }
            (Some(period), Some(_)) => {
                self.error(
                    period.span(),
                    "give either `period` or a cron `schedule`, not both",
                );
                return None;
            }
            (None, None) => {
                missing(self, "period", "\"1d\" (or schedule = \"0 3 * * *\")");
                return None;
            }
        };
        Some(WatchSpecKind::Heartbeat(HeartbeatSpec {
            token: token_text,
            schedule,
            grace: dur(&raw.grace).unwrap_or(Duration::from_secs(3600)),
        }))
    }
}

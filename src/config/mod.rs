//! `sentinel.toml`: the typed configuration, its defaults, and loading with errors that name
//! `file:line:col` and what was expected. Secrets come only from the environment.

pub(crate) mod env;
pub(crate) mod error;
pub mod evidence;
mod intake;
pub mod investigator;
pub(crate) mod raw;
mod stripe;
pub(crate) mod units;
pub(crate) mod validate;

pub use crate::watch::certificate::spec::{CertificateSpec, CertificateTarget};
pub use crate::watch::error_class::spec::ErrorClassSpec;
pub use crate::watch::freshness::spec::{FreshnessSpec, FreshnessTarget};
pub use crate::watch::heartbeat::spec::{HeartbeatSpec, Schedule};
pub use crate::watch::http::spec::HttpSpec;
pub use crate::watch::jump::spec::JumpSpec;
pub use crate::watch::new_error::spec::NewErrorSpec;
pub use crate::watch::slow_query::spec::SlowQuerySpec;
pub use crate::watch::stuck::spec::StuckSpec;
pub use crate::watch::threshold::spec::ThresholdSpec;
pub use error::{ConfigError, ConfigErrors};
pub use evidence::{EvidenceConfig, SectionSpec};
pub use intake::{AlertmanagerSpec, IntakeAuth};
pub use investigator::{InvestigatorConfig, Provider};
pub use raw::{ChannelKind, LogFormat, Severity, SourceKind, WatchKind};
pub use stripe::StripeConfig;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The commented example that `sentinel init` writes.
pub const EXAMPLE: &str = include_str!("example.toml");

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub engine: EngineConfig,
    pub sources: Vec<SourceSpec>,
    pub watches: Vec<WatchSpec>,
    pub channels: Vec<ChannelSpec>,
    pub investigator: InvestigatorConfig,
    /// Stripe's dispute webhook (`/hooks/stripe`), when a `[stripe]` section is written.
    pub stripe: Option<StripeConfig>,
    /// Chargeback evidence packs, when an `[evidence]` section is written.
    pub evidence: Option<EvidenceConfig>,
    /// Every secret the configuration read from the environment.
    pub secrets: Secrets,
}

/// Secret values (keys, tokens, passwords) the configuration holds: redacted wherever they
/// appear before text leaves the box. Never printed.
#[derive(Clone, Default)]
pub struct Secrets(pub(crate) Vec<String>);

impl Secrets {
    pub fn values(&self) -> &[String] {
        &self.0
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} values)", self.0.len())
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest request body accepted (ping logs); larger ones get 413.
    pub max_body: usize,
    /// Requests each client may make per second (and in one burst).
    pub rate_limit_per_second: u32,
    /// Failing requests (4xx) each client may make per minute, on top of its request budget.
    pub failure_limit_per_minute: u32,
    /// Failing requests a client may make in one burst before the per-minute rate applies.
    pub failure_burst: u32,
    /// How many clients the limiter remembers; the idle and oldest are forgotten first.
    pub max_clients: usize,
    /// Peers whose `X-Forwarded-For` names the client (IPs or CIDRs); empty trusts no one.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9477)),
            max_body: 100_000,
            rate_limit_per_second: 50,
            failure_limit_per_minute: 60,
            failure_burst: 20,
            max_clients: 10_000,
            trusted_proxies: Vec::new(),
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub retention: Retention,
}

/// How much heartbeat history the store keeps per check (`[store] ping_retention`,
/// `pings_per_check`, `runs_per_check`). Whatever a watch still needs to judge is kept
/// regardless: the latest ping of each kind, the latest output, a start not yet finished, the
/// latest run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Pings and runs older than this are deleted.
    pub max_age: Duration,
    /// At most this many pings are kept per check, the newest.
    pub pings_per_check: u32,
    /// At most this many completed runs are kept per check, the newest.
    pub runs_per_check: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(90 * 24 * 3600),
            pings_per_check: 1000,
            runs_per_check: 1000,
        }
    }
}

/// Where the store lives when the configuration does not say: the user's data directory.
pub fn default_store_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("sentinel")
        .join("sentinel.db")
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub interval: Duration,
    pub timeout: Duration,
    pub concurrency: usize,
    pub blind_for: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            concurrency: 8,
            blind_for: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub name: String,
    /// How long the source must stay unreadable before "can't see" fires.
    pub blind_for: Duration,
    pub kind: SourceSpecKind,
}

#[derive(Debug, Clone)]
pub enum SourceSpecKind {
    /// PostgreSQL, MySQL/MariaDB or SQLite, read-only through the statement guard.
    Sql(crate::source::sql::database::SqlSettings),
    Prometheus {
        url: String,
        timeout: Duration,
        bearer_token: Option<String>,
    },
    /// Redis holding job queues, read with read-only commands only.
    Redis { url: String, timeout: Duration },
    /// Grafana Loki (LogQL over its HTTP API).
    Loki {
        url: String,
        timeout: Duration,
        tenant: Option<String>,
        basic_auth: Option<(String, String)>,
        bearer_token: Option<String>,
    },
    /// The systemd journal, read with `journalctl -o json`.
    Journald {
        journalctl: String,
        units: Vec<String>,
        /// Journal files of this directory instead of the system journal.
        directory: Option<String>,
        timeout: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct WatchSpec {
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pub interval: Duration,
    pub timeout: Duration,
    pub for_: Duration,
    pub keep_firing_for: Duration,
    pub renotify: Option<Duration>,
    pub notify_resolved: bool,
    /// Channel names; `None` means every channel.
    pub channels: Option<Vec<String>>,
    pub kind: WatchSpecKind,
}

impl WatchSpec {
    /// The source this watch reads through, if it names one.
    pub fn source_name(&self) -> Option<&str> {
        self.kind.watch().source_name()
    }
}

#[derive(Debug, Clone)]
pub enum WatchSpecKind {
    Heartbeat(HeartbeatSpec),
    Freshness(FreshnessSpec),
    Threshold(ThresholdSpec),
    NewError(NewErrorSpec),
    Stuck(StuckSpec),
    Jump(JumpSpec),
    ErrorClass(ErrorClassSpec),
    SlowQuery(SlowQuerySpec),
    Alertmanager(AlertmanagerSpec),
    Http(HttpSpec),
    Certificate(CertificateSpec),
}

/// Where a log watch reads its lines.
#[derive(Debug, Clone)]
pub enum LogFeed {
    /// Files matching a glob, tailed.
    Files { pattern: String },
    /// A LogQL stream selector (with filters) on a Loki source.
    Loki {
        source: String,
        query: String,
        /// How far back the first read reaches when the watch is first attached.
        history: Duration,
    },
    /// The systemd journal (the source says which units).
    Journald {
        source: String,
        /// How far back the first read reaches when the watch is first attached.
        history: Duration,
    },
}

impl LogFeed {
    /// The name blindness alerts use for this feed.
    pub fn source_label(&self) -> String {
        match self {
            LogFeed::Files { pattern } => crate::source::files::source_name(pattern),
            LogFeed::Loki { source, .. } | LogFeed::Journald { source, .. } => source.clone(),
        }
    }

    /// The log files this feed tails, if it reads files.
    pub fn files(&self) -> Option<crate::watch::kind::WatchedFiles<'_>> {
        match self {
            LogFeed::Files { pattern } => Some(crate::watch::kind::WatchedFiles::Read(pattern)),
            LogFeed::Loki { .. } | LogFeed::Journald { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChannelSpec {
    pub name: String,
    pub kind: ChannelSpecKind,
}

#[derive(Debug, Clone)]
pub enum ChannelSpecKind {
    Console,
    Webhook {
        url: String,
        bearer_token: Option<String>,
        timeout: Duration,
    },
    Telegram(TelegramSpec),
}

/// Where Telegram pages go and who may act on them.
#[derive(Clone)]
pub struct TelegramSpec {
    /// The bot's token (a secret: never printed).
    pub bot_token: String,
    /// The chat that receives pages and whose members may act.
    pub chat_id: i64,
    /// Telegram user ids allowed to press buttons and send commands.
    pub allowed_users: Vec<i64>,
    /// The Bot API's base URL, without a trailing slash.
    pub api_url: String,
    /// How long one long poll of getUpdates waits for news.
    pub poll_timeout: Duration,
    /// How long one send or edit may take.
    pub timeout: Duration,
}

/// The default Bot API address.
pub const TELEGRAM_API_URL: &str = "https://api.telegram.org";

impl std::fmt::Debug for TelegramSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramSpec")
            .field("bot_token", &"<secret>")
            .field("chat_id", &self.chat_id)
            .field("allowed_users", &self.allowed_users)
            .field("api_url", &self.api_url)
            .field("poll_timeout", &self.poll_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Config {
    /// Reads and validates a configuration file, with secrets from the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            ConfigErrors(vec![ConfigError::whole_file(
                path,
                format!("cannot read the configuration file: {error}"),
            )])
        })?;
        Self::parse(path, &text, &env::process_env)
    }

    /// Validates configuration text. `lookup` provides environment variables.
    pub fn parse(
        path: &Path,
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors> {
        validate::parse(path, text, lookup)
    }

    /// A configuration with nothing in it (used by the demo, which adds its own watches).
    pub fn empty(store_path: PathBuf) -> Config {
        Config {
            path: PathBuf::from("<built-in>"),
            server: ServerConfig::default(),
            store: StoreConfig {
                path: store_path,
                retention: Retention::default(),
            },
            engine: EngineConfig::default(),
            sources: Vec::new(),
            watches: Vec::new(),
            channels: Vec::new(),
            investigator: InvestigatorConfig::default(),
            stripe: None,
            evidence: None,
            secrets: Secrets::default(),
        }
    }
}

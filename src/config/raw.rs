//! The configuration file exactly as written: serde structures that reject unknown keys and
//! keep the position of every value that validation may need to point at, and the keys each
//! source, watch and channel section sets, as written.

use super::units::{ByteSize, HumanDuration};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use toml::Spanned;

type S<T> = Option<Spanned<T>>;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub engine: RawEngine,
    #[serde(default)]
    pub sources: BTreeMap<Spanned<String>, RawSource>,
    #[serde(default)]
    pub watches: BTreeMap<Spanned<String>, RawWatch>,
    #[serde(default)]
    pub channels: BTreeMap<Spanned<String>, RawChannel>,
    #[serde(default)]
    pub investigator: RawInvestigator,
    pub stripe: Option<Spanned<RawStripe>>,
    pub evidence: Option<Spanned<RawEvidence>>,
}

/// `[evidence]`: what chargeback evidence packs are built from.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvidence {
    pub source: S<String>,
    pub customer: S<String>,
    pub geoip: S<String>,
    pub product: S<String>,
    pub out: S<String>,
    #[serde(default)]
    pub sections: Vec<Spanned<RawEvidenceSection>>,
}

/// One `[[evidence.sections]]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvidenceSection {
    pub name: S<String>,
    pub kind: S<String>,
    pub title: S<String>,
    pub source: S<String>,
    pub query: S<String>,
}

/// The keys one `[sources.NAME]`, `[watches.NAME]` or `[channels.NAME]` section sets, as
/// written in the file (`for`, not a field's name), each with the place of its value.
pub(crate) type WrittenKeys = BTreeMap<String, Spanned<IgnoredAny>>;

/// The same file read a second time for the keys each named section sets, whatever they are:
/// which keys apply to which kind is judged from these, against one list of keys per kind.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct WrittenSections {
    #[serde(default)]
    pub sources: BTreeMap<String, WrittenKeys>,
    #[serde(default)]
    pub watches: BTreeMap<String, WrittenKeys>,
    #[serde(default)]
    pub channels: BTreeMap<String, WrittenKeys>,
}

/// `[stripe]`: Stripe's dispute webhook.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStripe {
    pub endpoint_secrets: S<Vec<Spanned<String>>>,
    pub tolerance: S<HumanDuration>,
    pub customer_email_metadata: S<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub listen: S<String>,
    pub max_body: S<ByteSize>,
    pub rate_limit_per_second: S<u32>,
    pub failure_limit_per_minute: S<u32>,
    pub failure_burst: S<u32>,
    pub max_clients: S<u32>,
    pub trusted_proxies: S<Vec<Spanned<String>>>,
    pub max_connections: S<u32>,
    pub header_timeout: S<HumanDuration>,
    pub body_timeout: S<HumanDuration>,
    pub idle_timeout: S<HumanDuration>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    pub path: S<String>,
    pub ping_retention: S<HumanDuration>,
    pub pings_per_check: S<i64>,
    pub runs_per_check: S<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInvestigator {
    pub provider: S<String>,
    pub model: S<String>,
    pub base_url: S<String>,
    pub api_key: S<String>,
    pub concurrency: S<u32>,
    pub max_steps: S<u32>,
    pub max_tokens: S<u64>,
    pub max_cost: S<f64>,
    pub max_duration: S<HumanDuration>,
    pub daily_cost: S<f64>,
    pub tool_result_tokens: S<u64>,
    pub price_input_per_million: S<f64>,
    pub price_output_per_million: S<f64>,
    pub redact_emails: S<bool>,
    pub redact_ips: S<bool>,
    pub redact_columns: S<Vec<Spanned<String>>>,
    pub repository: S<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEngine {
    pub interval: S<HumanDuration>,
    pub timeout: S<HumanDuration>,
    pub concurrency: S<u32>,
    /// How long a source must stay unreadable before "can't see <source>" fires.
    pub blind_for: S<HumanDuration>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Prometheus,
    Postgres,
    Mysql,
    Sqlite,
    Redis,
    Loki,
    Journald,
}

impl SourceKind {
    /// The kind as written after `kind =`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Prometheus => "prometheus",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
            Self::Redis => "redis",
            Self::Loki => "loki",
            Self::Journald => "journald",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub kind: Spanned<SourceKind>,
    pub url: S<String>,
    pub timeout: S<HumanDuration>,
    pub bearer_token: S<String>,
    #[serde(rename = "for")]
    pub blind_for: S<HumanDuration>,
    // loki
    pub tenant: S<String>,
    pub username: S<String>,
    pub password: S<String>,
    // journald
    pub journalctl: S<String>,
    pub units: S<Vec<String>>,
    pub directory: S<String>,
    // SQL sources
    pub statement_timeout: S<HumanDuration>,
    pub lock_timeout: S<HumanDuration>,
    pub max_rows: S<u32>,
    pub max_bytes: S<ByteSize>,
    pub allow_show: S<bool>,
    pub allow_explain: S<bool>,
    pub deny_functions: S<Vec<String>>,
    pub allow_functions: S<Vec<String>>,
    pub allow_privileged_role: S<bool>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WatchKind {
    Heartbeat,
    Freshness,
    Threshold,
    NewError,
    Stuck,
    Jump,
    ErrorClass,
    SlowQuery,
    Alertmanager,
    Http,
    Certificate,
}

impl WatchKind {
    /// The kind as written after `kind =`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Heartbeat => "heartbeat",
            Self::Freshness => "freshness",
            Self::Threshold => "threshold",
            Self::NewError => "new_error",
            Self::Stuck => "stuck",
            Self::Jump => "jump",
            Self::ErrorClass => "error_class",
            Self::SlowQuery => "slow_query",
            Self::Alertmanager => "alertmanager",
            Self::Http => "http",
            Self::Certificate => "certificate",
        }
    }
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Plain,
    Json,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    #[default]
    Warning,
    Info,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWatch {
    pub kind: Spanned<WatchKind>,
    /// What the expectation is called in pages ("Nightly backup").
    pub description: S<String>,
    pub severity: S<Severity>,
    pub interval: S<HumanDuration>,
    pub timeout: S<HumanDuration>,
    #[serde(rename = "for")]
    pub for_: S<HumanDuration>,
    pub keep_firing_for: S<HumanDuration>,
    pub renotify: S<HumanDuration>,
    pub notify_resolved: S<bool>,
    pub channels: S<Vec<Spanned<String>>>,
    // heartbeat
    pub token: S<String>,
    pub period: S<HumanDuration>,
    pub schedule: S<String>,
    pub tz: S<String>,
    pub grace: S<HumanDuration>,
    // freshness / threshold
    pub source: S<String>,
    pub query: S<String>,
    pub path: S<String>,
    pub max_age: S<HumanDuration>,
    // new_error
    pub format: S<LogFormat>,
    pub min_count: S<u32>,
    pub window: S<HumanDuration>,
    pub learn_for: S<HumanDuration>,
    pub history: S<HumanDuration>,
    pub patterns: S<Vec<String>>,
    // stuck
    pub table: S<String>,
    pub state_column: S<String>,
    pub states: S<Vec<String>>,
    pub since_column: S<String>,
    pub group_by: S<String>,
    pub older_than: S<HumanDuration>,
    pub stalled_for: S<u32>,
    pub queue: S<String>,
    pub layout: S<QueueLayoutName>,
    pub group: S<String>,
    // jump (and stuck on PromQL)
    pub step: S<HumanDuration>,
    pub baseline: S<HumanDuration>,
    pub seasonality: S<SeasonalityName>,
    pub direction: S<DirectionName>,
    pub min_change: S<f64>,
    pub sensitivity: S<f64>,
    // error_class
    pub app_log: S<String>,
    pub app_query: S<String>,
    pub access_format: S<AccessFormatName>,
    // slow_query
    pub ratio: S<f64>,
    pub min_increase: S<HumanDuration>,
    pub min_calls: S<u32>,
    // http
    pub url: S<String>,
    pub expect_status: S<String>,
    pub body_match: S<String>,
    pub max_latency: S<HumanDuration>,
    // certificate
    pub host: S<String>,
    pub expires_within: S<HumanDuration>,
    // alertmanager (webhook intake credentials; bearer_token also for http)
    pub bearer_token: S<String>,
    pub username: S<String>,
    pub password: S<String>,
}

/// `access_format = "auto" | "combined" | "json"` of an error_class watch.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AccessFormatName {
    Auto,
    Combined,
    Json,
}

/// `layout` of a Redis queue watched by `stuck`.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum QueueLayoutName {
    List,
    Stream,
    SortedSet,
    Sidekiq,
    Bullmq,
    Celery,
    Rq,
}

/// `seasonality = "none" | "daily" | "weekly"` of a jump watch.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SeasonalityName {
    None,
    Daily,
    Weekly,
}

/// `direction = "up" | "down" | "both"` of a jump watch.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DirectionName {
    Up,
    Down,
    Both,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Console,
    Webhook,
    Telegram,
}

impl ChannelKind {
    /// The kind as written after `kind =`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Webhook => "webhook",
            Self::Telegram => "telegram",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChannel {
    pub kind: Spanned<ChannelKind>,
    pub url: S<String>,
    pub bearer_token: S<String>,
    pub timeout: S<HumanDuration>,
    // telegram
    pub bot_token: S<String>,
    pub chat_id: S<i64>,
    pub allowed_users: S<Vec<i64>>,
    pub api_url: S<String>,
    pub poll_timeout: S<HumanDuration>,
}

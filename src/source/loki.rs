//! Grafana Loki, read-only, over its HTTP API: range and instant LogQL queries, range reads
//! paginated past Loki's per-query entry limit, and a tail that resumes from a persisted
//! cursor without skipping or re-reading lines across restarts. Every failure is classified
//! so a watch can tell "the query is wrong" from "Loki cannot be seen".

mod cursor;
mod response;

pub(crate) use cursor::{LokiLine, Tail, TailCursor};
pub(crate) use response::{LokiResult, RangeSeries, Stream};

use super::{SourceError, SourceErrorKind, error_chain};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use response::{error_message, parse_response};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Label set of a stream or series.
pub(crate) type Labels = BTreeMap<String, String>;

/// Largest `limit` sent to Loki: its default `max_entries_limit_per_query`.
pub(crate) const MAX_LIMIT: u32 = 5000;

/// Default cap on the requests one paginated read makes.
pub(crate) const DEFAULT_MAX_PAGES: usize = 20;

/// Default number of entries a tail asks for per request.
pub(crate) const DEFAULT_TAIL_PAGE: u32 = 1000;

/// Default distance kept from "now" by a tail, so that lines still in flight from agents
/// (which batch and retry) land before the tail moves past their timestamps.
pub(crate) const DEFAULT_TAIL_DELAY: Duration = Duration::from_secs(5);

/// Responses larger than this are refused rather than buffered.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Order in which Loki returns log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Oldest first.
    #[default]
    Forward,
    /// Newest first (Loki's own default).
    Backward,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Forward => "forward",
            Direction::Backward => "backward",
        }
    }
}

#[derive(Clone)]
enum Auth {
    None,
    Basic { user: String, password: String },
    Bearer(String),
}

/// A configured Loki endpoint.
#[derive(Clone)]
pub struct LokiSource {
    name: String,
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:3100`.
    base: String,
    timeout: Duration,
    tenant: Option<HeaderValue>,
    auth: Auth,
    client: reqwest::Client,
    max_pages: usize,
    tail_page: u32,
    tail_delay: Duration,
}

impl fmt::Debug for LokiSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            Auth::None => "none".to_string(),
            Auth::Basic { user, .. } => format!("basic (user {user:?}, password redacted)"),
            Auth::Bearer(_) => "bearer (token redacted)".to_string(),
        };
        f.debug_struct("LokiSource")
            .field("name", &self.name)
            .field("url", &self.base)
            .field(
                "tenant",
                &self.tenant.as_ref().and_then(|t| t.to_str().ok()),
            )
            .field("auth", &auth)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// One log entry of a page, flattened out of its stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Entry {
    nanos: i64,
    labels: Arc<Labels>,
    line: String,
}

impl LokiSource {
    /// `url` is Loki's base URL (the part before `/loki/api/v1`). `tenant` is sent as
    /// `X-Scope-OrgID`; at most one of `basic_auth` (user, password) and `bearer` may be set.
    pub fn new(
        name: &str,
        url: &str,
        timeout: Duration,
        tenant: Option<String>,
        basic_auth: Option<(String, String)>,
        bearer: Option<String>,
    ) -> Result<Self, SourceError> {
        let config_error = |kind, detail: String| SourceError::new(name, kind, detail);
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            config_error(
                SourceErrorKind::Unreachable,
                format!("invalid Loki URL {url:?}: {e}"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(config_error(
                SourceErrorKind::Unreachable,
                format!("invalid Loki URL {url:?}: expected http(s)://host[:port][/prefix]"),
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(config_error(
                SourceErrorKind::Unreachable,
                "the Loki URL contains credentials; configure them as basic auth instead"
                    .to_string(),
            ));
        }
        let base = parsed.as_str().trim_end_matches('/').to_string();
        let tenant = tenant
            .map(|t| {
                HeaderValue::from_str(&t).map_err(|_| {
                    config_error(
                        SourceErrorKind::BadResponse,
                        "tenant contains characters not allowed in a header".to_string(),
                    )
                })
            })
            .transpose()?;
        let auth = match (basic_auth, bearer) {
            (Some(_), Some(_)) => {
                return Err(config_error(
                    SourceErrorKind::BadResponse,
                    "configure either basic auth or a bearer token for Loki, not both".to_string(),
                ));
            }
            (Some((user, password)), None) => Auth::Basic { user, password },
            (None, Some(token)) => {
                if HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
                    return Err(config_error(
                        SourceErrorKind::BadResponse,
                        "bearer token contains characters not allowed in a header".to_string(),
                    ));
                }
                Auth::Bearer(token)
            }
            (None, None) => Auth::None,
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| config_error(SourceErrorKind::Unreachable, error_chain(&e)))?;
        Ok(Self {
            name: name.to_string(),
            base,
            timeout,
            tenant,
            auth,
            client,
            max_pages: DEFAULT_MAX_PAGES,
            tail_page: DEFAULT_TAIL_PAGE,
            tail_delay: DEFAULT_TAIL_DELAY,
        })
    }

    /// Caps the requests of one paginated read (at least 1).
    pub fn with_max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Entries a tail asks for per request (1 to [`MAX_LIMIT`]).
    pub fn with_tail_page(mut self, entries: u32) -> Self {
        self.tail_page = entries.clamp(1, MAX_LIMIT);
        self
    }

    /// How far behind "now" a tail stops reading.
    pub fn with_tail_delay(mut self, delay: Duration) -> Self {
        self.tail_delay = delay;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `logql` over `[start, end)`. For log queries, when a response holds `limit` lines
    /// the read continues after the last timestamp (lines at that timestamp are not repeated)
    /// until Loki has nothing more, or the page cap is reached: then the first pages' lines
    /// are returned (the oldest for `Forward`, the newest for `Backward`), at most
    /// `limit × max_pages` lines. When more lines share one nanosecond than a page holds, the
    /// page grows up to [`MAX_LIMIT`]; lines of one nanosecond past that are skipped. Metric
    /// queries are a single request.
    pub async fn query_range(
        &self,
        logql: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        limit: u32,
        direction: Direction,
    ) -> Result<LokiResult, SourceError> {
        let limit = limit.max(1);
        let mut page_limit = limit;
        let (mut start, mut end) = (to_nanos(start), to_nanos(end));
        let mut collected: Vec<Entry> = Vec::new();
        let mut boundary: HashSet<Entry> = HashSet::new();
        let mut boundary_nanos: Option<i64> = None;
        for page in 0..self.max_pages {
            let streams = match self
                .range_request(logql, start, end, page_limit, direction)
                .await?
            {
                LokiResult::Streams(streams) => streams,
                metric if page == 0 => return Ok(metric),
                _ => {
                    return Err(self.error(
                        SourceErrorKind::BadResponse,
                        "a later page of a log query returned a metric result",
                    ));
                }
            };
            let mut entries = flatten(streams);
            let received = entries.len();
            sort_entries(&mut entries, direction);
            let before = collected.len();
            collected.extend(entries.into_iter().filter(|e| !boundary.contains(e)));
            if received < page_limit as usize {
                break;
            }
            if collected.len() == before {
                // A full page of lines already read: the last timestamp holds more lines than a
                // page. Ask for a bigger page; past Loki's limit, step over that timestamp.
                if page_limit < MAX_LIMIT {
                    page_limit = page_limit.saturating_mul(2).min(MAX_LIMIT);
                    continue;
                }
                let Some(last) = boundary_nanos else {
                    break;
                };
                match direction {
                    Direction::Forward => start = last.saturating_add(1),
                    Direction::Backward => end = last,
                }
                boundary.clear();
                continue;
            }
            page_limit = limit;
            let Some(last) = collected.last().map(|e| e.nanos) else {
                break;
            };
            boundary_nanos = Some(last);
            boundary = collected
                .iter()
                .rev()
                .take_while(|e| e.nanos == last)
                .cloned()
                .collect();
            match direction {
                Direction::Forward => start = last,
                Direction::Backward => end = last.saturating_add(1),
            }
        }
        Ok(LokiResult::Streams(group(collected)))
    }

    /// Evaluates a metric `logql` over `[start, end]` at every `step` (Loki's `step`
    /// parameter, in seconds). A log query (lines, not numbers) is rejected.
    pub async fn metric_range(
        &self,
        logql: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> Result<Vec<RangeSeries>, SourceError> {
        let params = [
            ("query", logql.to_string()),
            ("start", to_nanos(start).to_string()),
            ("end", to_nanos(end).to_string()),
            ("step", format!("{}", step.as_secs_f64().max(1.0))),
        ];
        match self.request("/loki/api/v1/query_range", &params).await? {
            LokiResult::Matrix(series) => Ok(series),
            LokiResult::Vector(samples) => Ok(samples
                .into_iter()
                .map(|sample| RangeSeries {
                    labels: sample.labels,
                    samples: vec![(sample.at, sample.value)],
                })
                .collect()),
            LokiResult::Streams(_) => Err(self.error(
                SourceErrorKind::QueryRejected,
                "this needs a metric query that returns numbers, such as \
                 sum(count_over_time({app=\"shop\"} |= \"error\" [1h])); this one returns log lines",
            )),
        }
    }

    /// Evaluates a metric `logql` at `at`. Loki refuses log queries here (query rejected).
    pub async fn query(&self, logql: &str, at: DateTime<Utc>) -> Result<LokiResult, SourceError> {
        let params = [
            ("query", logql.to_string()),
            ("time", to_nanos(at).to_string()),
        ];
        self.request("/loki/api/v1/query", &params).await
    }

    /// Lines of the log query `logql` after `cursor`, up to a little before now (see
    /// [`Self::with_tail_delay`]), oldest first, with the cursor to persist for the next call.
    /// Lines sharing a nanosecond are ordered by stream labels then text, and a page never
    /// ends inside such a group, so the count in the cursor stays exact. Only a group larger
    /// than [`MAX_LIMIT`] at one nanosecond can lose lines (those past the limit).
    pub async fn tail_since(&self, logql: &str, cursor: &TailCursor) -> Result<Tail, SourceError> {
        let delay = chrono::Duration::from_std(self.tail_delay).unwrap_or(chrono::Duration::zero());
        let end = to_nanos(Utc::now() - delay);
        let mut cursor = *cursor;
        let mut lines = Vec::new();
        let mut page_size = self.tail_page;
        let mut more = false;
        let mut pages = 0;
        while cursor.nanos < end {
            if pages == self.max_pages {
                more = true;
                break;
            }
            pages += 1;
            let limit = page_size
                .saturating_add(cursor.seen_at_nanos)
                .min(MAX_LIMIT);
            let streams = match self
                .range_request(logql, cursor.nanos, end, limit, Direction::Forward)
                .await?
            {
                LokiResult::Streams(streams) => streams,
                _ => {
                    return Err(self.error(
                        SourceErrorKind::QueryRejected,
                        "a tail needs a log query (a stream selector and filters), not a metric query",
                    ));
                }
            };
            let mut entries = flatten(streams);
            let full = entries.len() >= limit as usize;
            entries.retain(|e| e.nanos >= cursor.nanos && e.nanos < end);
            sort_entries(&mut entries, Direction::Forward);
            let Some(last) = entries.last().map(|e| e.nanos) else {
                break;
            };
            let already = entries
                .iter()
                .take_while(|e| e.nanos == cursor.nanos)
                .count()
                .min(cursor.seen_at_nanos as usize);
            let mut overflowed_group = false;
            if full {
                let before_last = entries.iter().filter(|e| e.nanos != last).count();
                let seen_before_last = if cursor.nanos == last { 0 } else { already };
                if before_last > seen_before_last {
                    // The last timestamp's group may go on past this page: read it whole next.
                    entries.retain(|e| e.nanos != last);
                } else if limit < MAX_LIMIT {
                    // Nothing new outside one timestamp: ask for a bigger page.
                    page_size = page_size.saturating_mul(2).min(MAX_LIMIT);
                    continue;
                } else {
                    overflowed_group = true;
                }
            }
            let Some(newest) = entries.last().map(|e| e.nanos) else {
                break;
            };
            let at_newest = entries
                .iter()
                .rev()
                .take_while(|e| e.nanos == newest)
                .count();
            let at_newest = u32::try_from(at_newest).unwrap_or(u32::MAX);
            cursor = if overflowed_group {
                TailCursor {
                    nanos: newest.saturating_add(1),
                    seen_at_nanos: 0,
                }
            } else if newest == cursor.nanos {
                TailCursor {
                    nanos: newest,
                    seen_at_nanos: at_newest.max(cursor.seen_at_nanos),
                }
            } else {
                TailCursor {
                    nanos: newest,
                    seen_at_nanos: at_newest,
                }
            };
            lines.extend(entries.into_iter().skip(already).map(|e| LokiLine {
                level: level_of(&e.labels),
                labels: Arc::unwrap_or_clone(e.labels),
                line: e.line,
                at: DateTime::from_timestamp_nanos(e.nanos),
            }));
            if !full {
                break;
            }
        }
        Ok(Tail {
            lines,
            cursor,
            more,
        })
    }

    async fn range_request(
        &self,
        logql: &str,
        start: i64,
        end: i64,
        limit: u32,
        direction: Direction,
    ) -> Result<LokiResult, SourceError> {
        let params = [
            ("query", logql.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("limit", limit.to_string()),
            ("direction", direction.as_str().to_string()),
        ];
        self.request("/loki/api/v1/query_range", &params).await
    }

    async fn request(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<LokiResult, SourceError> {
        let mut request = self
            .client
            .get(format!("{}{path}", self.base))
            .query(params);
        if let Some(tenant) = &self.tenant {
            request = request.header("X-Scope-OrgID", tenant.clone());
        }
        request = match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        let mut response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(self.error(
                    SourceErrorKind::BadResponse,
                    format!(
                        "response larger than {} MiB; narrow the query or lower the limit",
                        MAX_BODY_BYTES >> 20
                    ),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(self.status_error(status, &body));
        }
        parse_response(&body).map_err(|(kind, detail)| self.error(kind, detail))
    }

    fn error(&self, kind: SourceErrorKind, detail: impl Into<String>) -> SourceError {
        SourceError::new(&self.name, kind, detail)
    }

    fn transport(&self, error: reqwest::Error) -> SourceError {
        let error = error.without_url();
        if error.is_timeout() {
            self.error(
                SourceErrorKind::Timeout,
                format!("no answer from {} within {:?}", self.base, self.timeout),
            )
        } else if error.is_connect() || error.is_request() {
            self.error(
                SourceErrorKind::Unreachable,
                format!("{}: {}", self.base, error_chain(&error)),
            )
        } else {
            self.error(SourceErrorKind::BadResponse, error_chain(&error))
        }
    }

    fn status_error(&self, status: reqwest::StatusCode, body: &[u8]) -> SourceError {
        let message = error_message(body);
        let code = status.as_u16();
        let (kind, detail) = match code {
            400 => (SourceErrorKind::QueryRejected, message),
            401 | 403 => (
                SourceErrorKind::BadResponse,
                format!(
                    "HTTP {code}: check the credentials (basic auth or bearer token) and tenant \
                     configured for this source: {message}"
                ),
            ),
            404 => (
                SourceErrorKind::BadResponse,
                format!(
                    "HTTP 404: no Loki query API under {}; the URL should be Loki's base URL, \
                     without /loki/api/v1",
                    self.base
                ),
            ),
            429 => (
                SourceErrorKind::BadResponse,
                format!("HTTP 429: Loki is rate limiting queries: {message}"),
            ),
            _ => (
                SourceErrorKind::BadResponse,
                format!("HTTP {code}: {message}"),
            ),
        };
        self.error(kind, detail)
    }
}

/// Nanoseconds since the epoch, clamped to what an `i64` holds (years 1970 to 2262).
fn to_nanos(at: DateTime<Utc>) -> i64 {
    match at.timestamp_nanos_opt() {
        Some(nanos) => nanos.max(0),
        None if at.timestamp() < 0 => 0,
        None => i64::MAX,
    }
}

fn flatten(streams: Vec<Stream>) -> Vec<Entry> {
    let mut entries = Vec::with_capacity(streams.iter().map(|s| s.entries.len()).sum());
    for stream in streams {
        let labels = Arc::new(stream.labels);
        for (at, line) in stream.entries {
            entries.push(Entry {
                nanos: to_nanos(at),
                labels: Arc::clone(&labels),
                line,
            });
        }
    }
    entries
}

fn sort_entries(entries: &mut [Entry], direction: Direction) {
    match direction {
        Direction::Forward => entries.sort(),
        Direction::Backward => entries.sort_by(|a, b| {
            b.nanos
                .cmp(&a.nanos)
                .then_with(|| a.labels.cmp(&b.labels))
                .then_with(|| a.line.cmp(&b.line))
        }),
    }
}

/// Regroups entries by stream, streams in order of first appearance.
fn group(entries: Vec<Entry>) -> Vec<Stream> {
    let mut streams: Vec<Stream> = Vec::new();
    let mut index: BTreeMap<Arc<Labels>, usize> = BTreeMap::new();
    for entry in entries {
        let at = DateTime::from_timestamp_nanos(entry.nanos);
        match index.get(&entry.labels) {
            Some(&i) => streams[i].entries.push((at, entry.line)),
            None => {
                index.insert(Arc::clone(&entry.labels), streams.len());
                streams.push(Stream {
                    labels: (*entry.labels).clone(),
                    entries: vec![(at, entry.line)],
                });
            }
        }
    }
    streams
}

/// The normalized level a stream's labels give (`level`, `detected_level`, `severity`, `lvl`).
pub(crate) fn level_of(labels: &Labels) -> Option<String> {
    let value = ["level", "detected_level", "severity", "lvl"]
        .iter()
        .find_map(|k| labels.get(*k))?
        .trim();
    let known = match value.to_ascii_lowercase().as_str() {
        "" | "unknown" => return None,
        "trace" | "trc" => "TRACE",
        "debug" | "dbg" => "DEBUG",
        "info" | "inf" | "information" => "INFO",
        "notice" => "NOTICE",
        "warn" | "warning" | "wrn" => "WARN",
        "error" | "err" | "eror" => "ERROR",
        "fatal" | "crit" | "critical" | "alert" | "emerg" | "emergency" | "panic" => "FATAL",
        _ => return Some(value.to_ascii_uppercase()),
    };
    Some(known.to_string())
}

impl super::registry::Source for LokiSource {
    fn kind(&self) -> &'static str {
        "loki"
    }

    fn check(&self) -> futures_util::future::BoxFuture<'_, super::registry::Finding> {
        use super::registry::Finding;
        Box::pin(async move {
            match self.query("vector(1)", Utc::now()).await {
                Ok(_) => Finding::Ok("reachable, queries only".to_string()),
                Err(error) => Finding::Fail(format!("cannot query: {error}")),
            }
        })
    }

    fn readings(&self) -> Option<&dyn super::series::ReadingSource> {
        Some(self)
    }

    fn series(&self) -> Option<&dyn super::series::SeriesSource> {
        Some(self)
    }

    fn loki(&self) -> Option<&LokiSource> {
        Some(self)
    }
}

#[cfg(test)]
mod tests;

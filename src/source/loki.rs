//! Grafana Loki, read-only, over its HTTP API: range and instant LogQL queries, range reads
//! paginated past Loki's per-query entry limit, and a tail that resumes from a persisted
//! cursor without skipping or re-reading lines across restarts. Every failure is classified
//! so a watch can tell "the query is wrong" from "Loki cannot be seen".

use super::{SourceError, SourceErrorKind, error_chain};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Label set of a stream or series.
pub type Labels = BTreeMap<String, String>;

/// Largest `limit` sent to Loki: its default `max_entries_limit_per_query`.
pub const MAX_LIMIT: u32 = 5000;

/// Default cap on the requests one paginated read makes.
pub const DEFAULT_MAX_PAGES: usize = 20;

/// Default number of entries a tail asks for per request.
pub const DEFAULT_TAIL_PAGE: u32 = 1000;

/// Default distance kept from "now" by a tail, so that lines still in flight from agents
/// (which batch and retry) land before the tail moves past their timestamps.
pub const DEFAULT_TAIL_DELAY: Duration = Duration::from_secs(5);

/// Responses larger than this are refused rather than buffered.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// At most this much of an error body is quoted in an error.
const EXCERPT_CHARS: usize = 300;

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

/// One log stream: its labels and its lines. Lines carrying structured metadata are put in a
/// stream of their own whose labels include that metadata, as Loki itself groups them when
/// it is not asked to categorize labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub labels: Labels,
    /// Timestamp (nanosecond precision) and line, in the order Loki sent them.
    pub entries: Vec<(DateTime<Utc>, String)>,
}

/// One series of a metric range query.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    pub labels: Labels,
    /// Oldest first.
    pub samples: Vec<(DateTime<Utc>, f64)>,
}

/// One series of a metric instant query.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// What a LogQL query returned.
#[derive(Debug, Clone, PartialEq)]
pub enum LokiResult {
    /// A log query: lines grouped by stream.
    Streams(Vec<Stream>),
    /// A metric query over a range.
    Matrix(Vec<RangeSeries>),
    /// A metric query at one instant (a scalar comes back as one unlabeled sample).
    Vector(Vec<Sample>),
}

impl LokiResult {
    /// A metric result as one `(labels, value)` per series (a range series by its newest
    /// sample); `None` for log lines.
    pub fn latest_values(self) -> Option<Vec<(Labels, f64)>> {
        match self {
            LokiResult::Vector(samples) => {
                Some(samples.into_iter().map(|s| (s.labels, s.value)).collect())
            }
            LokiResult::Matrix(series) => Some(
                series
                    .into_iter()
                    .filter_map(|s| {
                        let (_, value) = s.samples.last()?;
                        Some((s.labels, *value))
                    })
                    .collect(),
            ),
            LokiResult::Streams(_) => None,
        }
    }

    /// Number of log lines over all streams (0 for metric results).
    pub fn line_count(&self) -> usize {
        match self {
            LokiResult::Streams(streams) => streams.iter().map(|s| s.entries.len()).sum(),
            _ => 0,
        }
    }
}

/// One line read by [`LokiSource::tail_since`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LokiLine {
    /// Labels of the stream (with structured metadata, if any).
    pub labels: Labels,
    /// The line as Loki stored it.
    pub line: String,
    /// Normalized level (`TRACE`, `DEBUG`, `INFO`, `NOTICE`, `WARN`, `ERROR`, `FATAL`) from the
    /// `level`, `detected_level`, `severity` or `lvl` label, or that label's value upper-cased
    /// when it is not a known word.
    pub level: Option<String>,
    /// Timestamp of the entry.
    pub at: DateTime<Utc>,
}

/// Where a tail stands: every line before `nanos`, and the first `seen_at_nanos` lines at
/// exactly `nanos` (in the tail's order: stream labels, then line text), were already read.
///
/// Persist it as its string form, `<nanos>:<seen_at_nanos>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct TailCursor {
    pub nanos: i64,
    pub seen_at_nanos: u32,
}

impl TailCursor {
    /// A cursor that reads everything from `at` (inclusive).
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self {
            nanos: to_nanos(at),
            seen_at_nanos: 0,
        }
    }

    /// The timestamp the cursor stands at.
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.nanos)
    }
}

impl fmt::Display for TailCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.nanos, self.seen_at_nanos)
    }
}

impl FromStr for TailCursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid Loki tail cursor {s:?}: expected <unix nanos>:<count>");
        let (nanos, seen) = s.trim().split_once(':').ok_or_else(bad)?;
        let nanos = nanos.parse::<i64>().map_err(|_| bad())?;
        let seen_at_nanos = seen.parse::<u32>().map_err(|_| bad())?;
        if nanos < 0 {
            return Err(bad());
        }
        Ok(Self {
            nanos,
            seen_at_nanos,
        })
    }
}

impl From<TailCursor> for String {
    fn from(cursor: TailCursor) -> Self {
        cursor.to_string()
    }
}

impl TryFrom<String> for TailCursor {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// The result of one [`LokiSource::tail_since`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// New lines, oldest first.
    pub lines: Vec<LokiLine>,
    /// Where the next call starts; persist it (as a string) before acting on `lines`' absence.
    pub cursor: TailCursor,
    /// The page cap was reached: more lines are waiting, call again.
    pub more: bool,
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

/// The message of an error body: Loki answers errors in plain text; JSON bodies with an
/// `error` or `message` field (proxies, Prometheus-style) are understood too.
fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
        ["error", "message"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_str).map(str::to_string))
    });
    let message = from_json.unwrap_or_else(|| text.trim().to_string());
    if message.is_empty() {
        return "(empty body)".to_string();
    }
    excerpt(&message)
}

fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

type ParseError = (SourceErrorKind, String);

fn bad(detail: impl fmt::Display) -> ParseError {
    (
        SourceErrorKind::BadResponse,
        format!("response is not Loki API JSON: {detail}"),
    )
}

/// Parses a `/loki/api/v1/query` or `/query_range` success body.
fn parse_response(body: &[u8]) -> Result<LokiResult, ParseError> {
    let root: Value = serde_json::from_slice(body).map_err(bad)?;
    match root.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let message = root
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            let kind = match root.get("errorType").and_then(Value::as_str) {
                Some("bad_data") => SourceErrorKind::QueryRejected,
                _ => SourceErrorKind::BadResponse,
            };
            return Err((kind, excerpt(message)));
        }
        other => return Err(bad(format!("status is {other:?}, not \"success\""))),
    }
    let data = root.get("data").ok_or_else(|| bad("no data"))?;
    let result = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("data.result is not an array"))?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("streams") => parse_streams(result).map(LokiResult::Streams),
        Some("matrix") => result
            .iter()
            .map(parse_series)
            .collect::<Result<_, _>>()
            .map(LokiResult::Matrix),
        Some("vector") => result
            .iter()
            .map(|item| {
                let (at, value) = parse_point(item.get("value").ok_or_else(|| bad("no value"))?)?;
                Ok(Sample {
                    labels: labels_of(item.get("metric"))?,
                    at,
                    value,
                })
            })
            .collect::<Result<_, _>>()
            .map(LokiResult::Vector),
        Some("scalar") => {
            let (at, value) = parse_point(&Value::Array(result.clone()))?;
            Ok(LokiResult::Vector(vec![Sample {
                labels: Labels::new(),
                at,
                value,
            }]))
        }
        other => Err(bad(format!("unknown resultType {other:?}"))),
    }
}

fn labels_of(value: Option<&Value>) -> Result<Labels, ParseError> {
    match value {
        None | Some(Value::Null) => Ok(Labels::new()),
        Some(Value::Object(map)) => Ok(string_map(map)),
        Some(other) => Err(bad(format!("labels are not an object: {other}"))),
    }
}

fn string_map(map: &Map<String, Value>) -> Labels {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Structured metadata of an entry: either a flat object, or (with the `categorize-labels`
/// encoding flag) `{"structuredMetadata": {...}, "parsed": {...}}`.
fn metadata_of(value: &Value) -> Result<Labels, ParseError> {
    let Value::Object(map) = value else {
        return Err(bad(format!("entry metadata is not an object: {value}")));
    };
    let categorized = ["structuredMetadata", "parsed"];
    if !map.is_empty() && map.keys().all(|k| categorized.contains(&k.as_str())) {
        let mut labels = Labels::new();
        for key in categorized {
            if let Some(Value::Object(inner)) = map.get(key) {
                labels.extend(string_map(inner));
            }
        }
        Ok(labels)
    } else {
        Ok(string_map(map))
    }
}

fn parse_streams(result: &[Value]) -> Result<Vec<Stream>, ParseError> {
    let mut streams: Vec<Stream> = Vec::with_capacity(result.len());
    for item in result {
        let labels = labels_of(item.get("stream"))?;
        let values = item
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a stream has no values array"))?;
        let mut plain = Vec::with_capacity(values.len());
        let mut with_metadata: Vec<Stream> = Vec::new();
        for value in values {
            let parts = value
                .as_array()
                .filter(|p| p.len() == 2 || p.len() == 3)
                .ok_or_else(|| {
                    bad(format!(
                        "a stream value is not [ts, line(, metadata)]: {value}"
                    ))
                })?;
            let nanos = parts[0]
                .as_str()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| bad(format!("timestamp {} is not nanoseconds", parts[0])))?;
            let line = parts[1]
                .as_str()
                .ok_or_else(|| bad(format!("log line {} is not a string", parts[1])))?
                .to_string();
            let entry = (DateTime::from_timestamp_nanos(nanos), line);
            let metadata = match parts.get(2) {
                Some(meta) => metadata_of(meta)?,
                None => Labels::new(),
            };
            if metadata.is_empty() {
                plain.push(entry);
                continue;
            }
            let mut merged = metadata;
            merged.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            match with_metadata.iter_mut().find(|s| s.labels == merged) {
                Some(stream) => stream.entries.push(entry),
                None => with_metadata.push(Stream {
                    labels: merged,
                    entries: vec![entry],
                }),
            }
        }
        if !plain.is_empty() || with_metadata.is_empty() {
            streams.push(Stream {
                labels,
                entries: plain,
            });
        }
        streams.extend(with_metadata);
    }
    Ok(streams)
}

fn parse_series(item: &Value) -> Result<RangeSeries, ParseError> {
    let values = item
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("a series has no values array"))?;
    Ok(RangeSeries {
        labels: labels_of(item.get("metric"))?,
        samples: values.iter().map(parse_point).collect::<Result<_, _>>()?,
    })
}

/// `[<unix seconds, number>, "<value>"]`.
fn parse_point(point: &Value) -> Result<(DateTime<Utc>, f64), ParseError> {
    let parts = point
        .as_array()
        .filter(|p| p.len() == 2)
        .ok_or_else(|| bad(format!("a sample is not [ts, value]: {point}")))?;
    let seconds = match &parts[0] {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite())
    .ok_or_else(|| bad(format!("sample timestamp {} is not seconds", parts[0])))?;
    let at = DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
        .ok_or_else(|| bad(format!("sample timestamp {seconds} is out of range")))?;
    let value = parts[1]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or_else(|| bad(format!("sample value {} is not a number string", parts[1])))?;
    Ok((at, value))
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

fn level_of(labels: &Labels) -> Option<String> {
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

#[cfg(test)]
mod tests;

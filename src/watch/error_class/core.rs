//! Pure core of the `error_class` watch: finds routes that answer bad client input with a 5xx.
//!
//! Feed it access records ([`ErrorClassifier::observe_access`]) and app error events
//! ([`ErrorClassifier::observe_error`]) incrementally, in any interleaving, then ask for a
//! [`ErrorClassReport`] at each evaluation. A 5xx request counts as *bad input answered with
//! 5xx* when
//! (a) the app error with the same request id, or else the nearest unclaimed one within
//!     ±`correlation` of it, is a client-input failure ([`client_input_failure`]); each app
//!     error backs at most one request; or
//! (b) the path carries a malformed id per the [`RouteBook`] (`/orders/abc` where
//!     `/orders/<uuid>` succeeds) and that route succeeds on well-formed ids — unless the app
//!     error with the same request id shows an infrastructure failure.
//! Scanner requests ([`ScannerTracker`]) never count; when a client is flagged as a scanner
//! what is held from it is dropped. A 5xx waits in a pending queue until the app log is past
//! its correlation window (or a report's `now` is), so a late app error still matches.
//!
//! Memory is bounded by the config: route book and scanner tracker caps, `max_pending`
//! pending 5xx, `max_events` remembered app errors, `max_routes` routes with findings,
//! `max_hits_per_route` hits each, and per-minute counters over the window.

use crate::logs::access::AccessRecord;
use crate::logs::client_input::{
    ClientInputFailure, client_input_failure, is_infrastructure_failure,
};
use crate::logs::redact::redact;
use crate::logs::route::{RouteBook, RouteBookConfig};
use crate::logs::scanner::{ScannerConfig, ScannerTracker, client_key};
use chrono::{DateTime, FixedOffset, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

/// One error reported by the app (a folded log event).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorEvent {
    pub time: Option<DateTime<FixedOffset>>,
    pub text: String,
    pub request_id: Option<String>,
}

/// Thresholds and memory limits.
#[derive(Debug, Clone)]
pub struct ErrorClassConfig {
    /// Sliding window of findings and counters (default 10 minutes).
    pub window: Duration,
    /// How far apart a 5xx and its app error may be logged without a shared request id
    /// (default 2 s).
    pub correlation: Duration,
    /// Requests in the window for a route to page (default 3).
    pub min_count: usize,
    pub max_routes: usize,
    pub max_hits_per_route: usize,
    pub max_pending: usize,
    pub max_events: usize,
    pub scanner: ScannerConfig,
    pub routes: RouteBookConfig,
}

impl Default for ErrorClassConfig {
    fn default() -> Self {
        ErrorClassConfig {
            window: Duration::from_secs(600),
            correlation: Duration::from_secs(2),
            min_count: 3,
            max_routes: 256,
            max_hits_per_route: 1024,
            max_pending: 10_000,
            max_events: 10_000,
            scanner: ScannerConfig::default(),
            routes: RouteBookConfig::default(),
        }
    }
}

/// A route that answered bad input with 5xx within the window.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteFinding {
    pub route: String,
    pub method: String,
    pub count: usize,
    pub distinct_clients: usize,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Redacted path and query of the latest such request.
    pub example_request: String,
    /// `invalid input syntax for type uuid`, or `malformed :uuid parameter` without app error.
    pub error_label: String,
    /// Redacted, truncated app error of the latest such request, if one was matched.
    pub example_error: Option<String>,
}

/// What the window holds at one evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorClassReport {
    /// Busiest route first.
    pub findings: Vec<RouteFinding>,
    /// Requests excluded as scanner noise.
    pub scanner_requests: u64,
    /// 5xx responses that were not bad input (outages, bugs).
    pub other_5xx: u64,
}

impl ErrorClassReport {
    /// The findings with at least `min_count` requests.
    pub fn paging(&self, min_count: usize) -> Vec<&RouteFinding> {
        self.findings
            .iter()
            .filter(|f| f.count >= min_count)
            .collect()
    }
}

struct Pending {
    ts: i64,
    client: u64,
    method: String,
    path: String,
    query: Option<String>,
    request_id: Option<String>,
}

struct StoredEvent {
    ts: i64,
    request_id: Option<String>,
    failure: Option<ClientInputFailure>,
    infrastructure: bool,
    /// Raw text, truncated; redacted only when it becomes an example.
    text: String,
    claimed: bool,
}

struct Hit {
    ts: i64,
    client: u64,
}

struct RouteEntry {
    method: String,
    route: String,
    hits: VecDeque<Hit>,
    example_request: String,
    error_label: String,
    example_error: Option<String>,
    last_ts: i64,
}

/// Counts per minute over the window.
#[derive(Default)]
struct MinuteCounter {
    buckets: VecDeque<(i64, u64)>,
}

impl MinuteCounter {
    fn add(&mut self, ts: i64, n: u64) {
        if n == 0 {
            return;
        }
        let minute = ts.div_euclid(60_000);
        match self.buckets.back_mut() {
            Some((m, count)) if *m >= minute => *count += n,
            _ => self.buckets.push_back((minute, n)),
        }
    }

    fn prune(&mut self, start_ms: i64) {
        let minute = start_ms.div_euclid(60_000);
        while self.buckets.front().is_some_and(|(m, _)| *m < minute) {
            self.buckets.pop_front();
        }
    }

    fn total(&self) -> u64 {
        self.buckets.iter().map(|(_, n)| n).sum()
    }
}

const MAX_EVENT_TEXT: usize = 2048;
const MAX_EXAMPLE_REQUEST: usize = 200;
const MAX_EXAMPLE_ERROR: usize = 300;

/// The classifier; see the module docs.
pub struct ErrorClassifier {
    config: ErrorClassConfig,
    window_ms: i64,
    corr_ms: i64,
    book: RouteBook,
    scanner: ScannerTracker,
    pending: VecDeque<Pending>,
    events: VecDeque<StoredEvent>,
    /// Request id -> absolute index into `events` (`events_base` + position).
    by_id: HashMap<String, u64>,
    events_base: u64,
    routes: HashMap<(String, String), RouteEntry>,
    scanner_counts: MinuteCounter,
    other_5xx: MinuteCounter,
    access_clock: i64,
    error_clock: Option<i64>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn to_utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl ErrorClassifier {
    pub fn new(config: ErrorClassConfig) -> Self {
        ErrorClassifier {
            window_ms: millis(config.window),
            corr_ms: millis(config.correlation),
            book: RouteBook::new(config.routes.clone()),
            scanner: ScannerTracker::new(config.scanner.clone()),
            config,
            pending: VecDeque::new(),
            events: VecDeque::new(),
            by_id: HashMap::new(),
            events_base: 0,
            routes: HashMap::new(),
            scanner_counts: MinuteCounter::default(),
            other_5xx: MinuteCounter::default(),
            access_clock: 0,
            error_clock: None,
        }
    }

    /// The learned routes.
    pub fn route_book(&self) -> &RouteBook {
        &self.book
    }

    /// Starts from routes learned earlier (by a previous run).
    pub fn restore_route_book(&mut self, book: RouteBook) {
        self.book = book;
    }

    /// The limits routes are learned within.
    pub fn route_limits(&self) -> &RouteBookConfig {
        &self.config.routes
    }

    /// Whether `finding` has enough requests to page.
    pub fn should_page(&self, finding: &RouteFinding) -> bool {
        finding.count >= self.config.min_count
    }

    /// Feeds one access-log record. Records without a time take the latest time seen.
    pub fn observe_access(&mut self, record: &AccessRecord) {
        let ts = record
            .time
            .map_or(self.access_clock, |t| t.timestamp_millis());
        self.access_clock = self.access_clock.max(ts);
        let verdict = self.scanner.observe(record, &self.book, ts);
        for flagged in self.scanner.take_newly_flagged() {
            self.scanner_counts.add(ts, flagged.backlog);
            self.purge_client(flagged.key);
        }
        if verdict.is_some() {
            self.scanner_counts.add(ts, 1);
            return;
        }
        if (200..400).contains(&record.status) {
            self.book.learn(&record.path);
        } else if record.status >= 500 {
            self.pending.push_back(Pending {
                ts,
                client: client_key(record),
                method: record.method.clone(),
                path: record.path.clone(),
                query: record.query.clone(),
                request_id: record.request_id.clone(),
            });
            while self.pending.len() > self.config.max_pending {
                self.settle_front();
            }
        }
        self.settle_ready();
    }

    /// Feeds one app error event. Events without a time take the latest access time seen.
    pub fn observe_error(&mut self, event: &ErrorEvent) {
        let ts = event
            .time
            .map_or(self.access_clock, |t| t.timestamp_millis());
        self.error_clock = Some(self.error_clock.map_or(ts, |c| c.max(ts)));
        let failure = client_input_failure(&event.text);
        let request_id = event.request_id.clone().filter(|id| !id.is_empty());
        if failure.is_none() && request_id.is_none() {
            // Neither evidence nor a request id to veto with: nothing to keep.
            self.settle_ready();
            return;
        }
        let index = self.events_base + self.events.len() as u64;
        if let Some(id) = &request_id {
            self.by_id.insert(id.clone(), index);
        }
        self.events.push_back(StoredEvent {
            ts,
            infrastructure: failure.is_none() && is_infrastructure_failure(&event.text),
            failure,
            request_id,
            text: truncate_chars(&event.text, MAX_EVENT_TEXT),
            claimed: false,
        });
        self.prune_events();
        self.settle_ready();
    }

    /// Settles what is due at `now`, drops what left the window, and summarizes.
    pub fn report(&mut self, now: DateTime<Utc>) -> ErrorClassReport {
        let now_ms = now.timestamp_millis();
        while self
            .pending
            .front()
            .is_some_and(|p| p.ts.saturating_add(self.corr_ms) < now_ms)
        {
            self.settle_front();
        }
        let start = now_ms.saturating_sub(self.window_ms);
        self.scanner_counts.prune(start);
        self.other_5xx.prune(start);
        self.routes.retain(|_, entry| {
            entry.hits.retain(|h| h.ts >= start);
            !entry.hits.is_empty()
        });
        let mut findings: Vec<RouteFinding> = self
            .routes
            .values()
            .map(|e| {
                let first = e.hits.iter().map(|h| h.ts).min().unwrap_or(start);
                let last = e.hits.iter().map(|h| h.ts).max().unwrap_or(start);
                let clients: HashSet<u64> = e.hits.iter().map(|h| h.client).collect();
                RouteFinding {
                    route: e.route.clone(),
                    method: e.method.clone(),
                    count: e.hits.len(),
                    distinct_clients: clients.len(),
                    first_seen: to_utc(first),
                    last_seen: to_utc(last),
                    example_request: e.example_request.clone(),
                    error_label: e.error_label.clone(),
                    example_error: e.example_error.clone(),
                }
            })
            .collect();
        findings.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.route.cmp(&b.route))
                .then_with(|| a.method.cmp(&b.method))
        });
        ErrorClassReport {
            findings,
            scanner_requests: self.scanner_counts.total(),
            other_5xx: self.other_5xx.total(),
        }
    }

    /// Settles pending 5xx whose correlation window both log streams have passed.
    fn settle_ready(&mut self) {
        let Some(error_clock) = self.error_clock else {
            return;
        };
        let limit = error_clock.min(self.access_clock);
        while self
            .pending
            .front()
            .is_some_and(|p| p.ts.saturating_add(self.corr_ms) < limit)
        {
            self.settle_front();
        }
    }

    fn prune_events(&mut self) {
        let horizon = self
            .access_clock
            .min(self.pending.front().map_or(i64::MAX, |p| p.ts))
            .saturating_sub(self.corr_ms.saturating_mul(2));
        while let Some(front) = self.events.front()
            && (front.ts < horizon || self.events.len() > self.config.max_events)
        {
            if let Some(ev) = self.events.pop_front()
                && let Some(id) = ev.request_id
                && self.by_id.get(&id) == Some(&self.events_base)
            {
                self.by_id.remove(&id);
            }
            self.events_base += 1;
        }
    }

    fn event_mut(&mut self, index: u64) -> Option<&mut StoredEvent> {
        let pos = usize::try_from(index.checked_sub(self.events_base)?).ok()?;
        self.events.get_mut(pos)
    }

    /// The app error backing `p`: by request id, else the nearest unclaimed client-input
    /// failure within the correlation window whose request id does not contradict `p`'s.
    /// Returns `Err(())` when the same-id app error shows an infrastructure failure.
    fn correlate(&mut self, p: &Pending) -> Result<Option<(String, String)>, ()> {
        if let Some(id) = &p.request_id
            && let Some(&index) = self.by_id.get(id)
            && let Some(ev) = self.event_mut(index)
        {
            ev.claimed = true;
            if ev.infrastructure {
                return Err(());
            }
            if let Some(f) = &ev.failure {
                return Ok(Some((f.label.clone(), ev.text.clone())));
            }
            return Ok(None);
        }
        let corr = self.corr_ms;
        let best = self
            .events
            .iter_mut()
            .filter(|e| {
                e.failure.is_some()
                    && !e.claimed
                    && (e.ts - p.ts).abs() <= corr
                    && (p.request_id.is_none() || e.request_id.is_none())
            })
            .min_by_key(|e| (e.ts - p.ts).abs());
        Ok(best.and_then(|ev| {
            ev.claimed = true;
            ev.failure
                .as_ref()
                .map(|f| (f.label.clone(), ev.text.clone()))
        }))
    }

    fn settle_front(&mut self) {
        let Some(p) = self.pending.pop_front() else {
            return;
        };
        let matched = self.correlate(&p);
        let resolved = self.book.resolve(&p.path);
        let malformed =
            resolved.malformed_param.is_some() && self.book.route_succeeded(&resolved.route);
        let (label, error) = match matched {
            Ok(Some((label, text))) => (label, Some(text)),
            Ok(None) if malformed => {
                let shape = resolved
                    .expected
                    .and_then(|s| s.placeholder())
                    .unwrap_or(":id");
                (format!("malformed {shape} parameter"), None)
            }
            _ => {
                self.other_5xx.add(p.ts, 1);
                return;
            }
        };
        let example_request = {
            let raw = match &p.query {
                Some(q) => format!("{}?{}", p.path, q),
                None => p.path.clone(),
            };
            truncate_chars(&redact(&raw), MAX_EXAMPLE_REQUEST)
        };
        let example_error = error.map(|t| truncate_chars(&redact(&t), MAX_EXAMPLE_ERROR));
        let key = (p.method.clone(), resolved.route.clone());
        if !self.routes.contains_key(&key) && self.routes.len() >= self.config.max_routes {
            let oldest = self
                .routes
                .iter()
                .min_by_key(|(_, e)| e.last_ts)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.routes.remove(&k);
            }
        }
        let max_hits = self.config.max_hits_per_route;
        let entry = self.routes.entry(key).or_insert_with(|| RouteEntry {
            method: p.method.clone(),
            route: resolved.route.clone(),
            hits: VecDeque::new(),
            example_request: String::new(),
            error_label: String::new(),
            example_error: None,
            last_ts: p.ts,
        });
        entry.hits.push_back(Hit {
            ts: p.ts,
            client: p.client,
        });
        if entry.hits.len() > max_hits {
            entry.hits.pop_front();
        }
        entry.last_ts = entry.last_ts.max(p.ts);
        entry.example_request = example_request;
        // An app error's label is more telling than the route book's; keep it once known.
        if example_error.is_some() || entry.example_error.is_none() {
            entry.error_label = label;
            entry.example_error = example_error;
        }
    }

    /// Drops what is held from a client just flagged as a scanner.
    fn purge_client(&mut self, client: u64) {
        self.pending.retain(|p| p.client != client);
        self.routes.retain(|_, e| {
            e.hits.retain(|h| h.client != client);
            !e.hits.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::access::{AccessFormat, parse_access_line};
    use chrono::TimeZone;

    const T0: i64 = 1_709_629_964_000;

    fn at(ms: i64) -> DateTime<FixedOffset> {
        Utc.timestamp_millis_opt(T0 + ms)
            .single()
            .unwrap()
            .fixed_offset()
    }

    fn access(client: &str, method: &str, path: &str, status: u16, ms: i64) -> AccessRecord {
        AccessRecord {
            time: Some(at(ms)),
            client: client.into(),
            method: method.into(),
            path: path.into(),
            query: None,
            status,
            bytes: Some(100),
            duration_ms: Some(3.0),
            user_agent: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64)".into()),
            request_id: None,
        }
    }

    fn error(text: &str, request_id: Option<&str>, ms: i64) -> ErrorEvent {
        ErrorEvent {
            time: Some(at(ms)),
            text: text.into(),
            request_id: request_id.map(str::to_string),
        }
    }

    fn uuid(i: u32) -> String {
        format!("{i:08x}-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
    }

    /// Normal traffic: order pages by UUID succeed.
    fn warm_up(c: &mut ErrorClassifier) {
        for i in 0..20 {
            c.observe_access(&access(
                &format!("10.0.0.{i}"),
                "GET",
                &format!("/orders/{}", uuid(i)),
                200,
                i64::from(i) * 100,
            ));
        }
        c.observe_access(&access("10.0.0.1", "GET", "/", 200, 2_000));
    }

    fn now(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(T0 + ms).single().unwrap()
    }

    #[test]
    fn malformed_ids_answered_with_500_and_pg_errors_are_found() {
        let mut c = ErrorClassifier::new(ErrorClassConfig::default());
        warm_up(&mut c);
        for (i, bad) in ["abc", "123", "null", "undefined"].iter().enumerate() {
            let ms = 10_000 + i as i64 * 5_000;
            let line = format!(
                r#"203.0.113.{i} - - [05/Mar/2024:09:12:44 +0000] "GET /orders/{bad}?email=alice@example.com HTTP/1.1" 500 21 "-" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X)""#
            );
            let mut r = parse_access_line(&line, AccessFormat::Combined).unwrap();
            r.time = Some(at(ms));
            c.observe_access(&r);
            c.observe_error(&error(
                &format!(r#"ERROR: invalid input syntax for type uuid: "{bad}" (SQLSTATE 22P02) user alice@example.com"#),
                None,
                ms + 300,
            ));
        }
        let report = c.report(now(40_000));
        assert_eq!(report.findings.len(), 1, "{report:?}");
        let f = &report.findings[0];
        assert_eq!(
            (f.method.as_str(), f.route.as_str()),
            ("GET", "/orders/:uuid")
        );
        assert_eq!(f.count, 4);
        assert_eq!(f.distinct_clients, 4);
        assert_eq!(f.error_label, "invalid input syntax for type uuid");
        assert!(
            f.example_request
                .starts_with("/orders/undefined?email=<email>"),
            "{}",
            f.example_request
        );
        let err = f.example_error.as_deref().unwrap();
        assert!(err.contains("22P02") && !err.contains("alice@"), "{err}");
        assert_eq!(f.first_seen, now(10_000));
        assert_eq!(f.last_seen, now(25_000));
        assert_eq!(report.other_5xx, 0);
        assert!(c.should_page(f));
        assert_eq!(report.paging(3).len(), 1);
        // Out of the window the finding is gone.
        assert!(c.report(now(25_000 + 601_000)).findings.is_empty());
    }

    #[test]
    fn request_id_match_beats_time_proximity() {
        let mut c = ErrorClassifier::new(ErrorClassConfig::default());
        warm_up(&mut c);
        // Two concurrent 500s on an unlearned route; only req-b's error is bad input.
        let mut a = access("1.1.1.1", "POST", "/api/checkout", 500, 10_000);
        a.request_id = Some("req-aaaa-0001".into());
        let mut b = access("2.2.2.2", "POST", "/api/import", 500, 10_050);
        b.request_id = Some("req-bbbb-0002".into());
        c.observe_access(&a);
        c.observe_access(&b);
        c.observe_error(&error(
            "Expecting value: line 1 column 1 (char 0)",
            Some("req-bbbb-0002"),
            10_100,
        ));
        c.observe_error(&error(
            "NoMethodError: undefined method `total' for nil",
            Some("req-aaaa-0001"),
            10_000,
        ));
        let report = c.report(now(20_000));
        assert_eq!(report.findings.len(), 1, "{report:?}");
        assert_eq!(report.findings[0].route, "/api/import");
        assert_eq!(report.findings[0].error_label, "JSON decode error");
        assert_eq!(report.other_5xx, 1);
    }

    #[test]
    fn time_correlation_is_bounded_and_each_error_backs_one_request() {
        let mut c = ErrorClassifier::new(ErrorClassConfig::default());
        warm_up(&mut c);
        c.observe_access(&access("1.1.1.1", "POST", "/api/items", 500, 10_000));
        c.observe_access(&access("1.1.1.2", "POST", "/api/items", 500, 10_100));
        c.observe_access(&access("1.1.1.3", "POST", "/api/items", 500, 20_000));
        // One bad-input error near the first two; the third 500 has its error 3 s away.
        c.observe_error(&error(
            "missing field `sku` at line 1 column 2",
            None,
            10_050,
        ));
        c.observe_error(&error(
            "missing field `sku` at line 1 column 2",
            None,
            23_000,
        ));
        let report = c.report(now(60_000));
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].count, 1);
        assert_eq!(report.other_5xx, 2);
    }

    #[test]
    fn malformed_param_alone_is_evidence_unless_the_request_failed_on_infrastructure() {
        let mut c = ErrorClassifier::new(ErrorClassConfig::default());
        warm_up(&mut c);
        for i in 0..3 {
            c.observe_access(&access(
                "7.7.7.7",
                "GET",
                "/orders/abc",
                500,
                10_000 + i * 10_000,
            ));
        }
        let mut vetoed = access("7.7.7.8", "GET", "/orders/xyz", 500, 50_000);
        vetoed.request_id = Some("req-veto-0001".into());
        c.observe_access(&vetoed);
        c.observe_error(&error(
            "dial tcp 10.0.0.5:5432: connect: connection refused",
            Some("req-veto-0001"),
            50_010,
        ));
        let report = c.report(now(60_000));
        assert_eq!(report.findings.len(), 1, "{report:?}");
        let f = &report.findings[0];
        assert_eq!((f.route.as_str(), f.count), ("/orders/:uuid", 3));
        assert_eq!(f.error_label, "malformed :uuid parameter");
        assert_eq!(f.example_error, None);
        assert_eq!(f.distinct_clients, 1);
        assert_eq!(report.other_5xx, 1);
    }

    #[test]
    fn late_app_error_still_matches_while_pending() {
        let mut c = ErrorClassifier::new(ErrorClassConfig::default());
        warm_up(&mut c);
        c.observe_access(&access("1.1.1.1", "POST", "/api/items", 500, 10_000));
        // The evaluation reads the access log first; report() at 11 s keeps it pending.
        assert!(c.report(now(11_000)).findings.is_empty());
        c.observe_error(&error(
            "ValidationError: \"name\" is required",
            None,
            10_400,
        ));
        let report = c.report(now(13_000));
        assert_eq!(report.findings.len(), 1, "{report:?}");
        assert_eq!(report.findings[0].error_label, "validation error");
    }

    #[test]
    fn scanner_hitting_random_paths_is_only_counted() {
        let mut c = ErrorClassifier::new(ErrorClassConfig::default());
        warm_up(&mut c);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for i in 0..500i64 {
            let len = 6 + (i % 9) as usize;
            let seg: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize] as char
                })
                .collect();
            let (path, status) = match i % 10 {
                0 => (format!("/{seg}"), 500),
                1 => (format!("/orders/{seg}"), 500),
                // A catch-all front end answers 200 even to probes.
                2 => ("/wp-login.php".to_string(), 200),
                3 => (format!("/.env.{seg}"), 403),
                _ => (format!("/{seg}/{seg}.php"), 404),
            };
            let ms = 5_000 + i * 100;
            let mut r = access("45.155.205.233", "GET", &path, status, ms);
            r.user_agent = Some("Mozilla/5.0 zgrab/0.x".into());
            c.observe_access(&r);
            if status == 500 {
                c.observe_error(&error(
                    &format!("invalid input syntax for type uuid: \"{seg}\""),
                    None,
                    ms + 10,
                ));
            }
        }
        let report = c.report(now(60_000));
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert_eq!(report.scanner_requests, 500);
        assert_eq!(report.other_5xx, 0);
        // Its 200s taught the route book nothing.
        assert!(!c.route_book().route_succeeded("/wp-login.php"));
    }

    #[test]
    fn database_outage_is_not_bad_input() {
        let mut c = ErrorClassifier::new(ErrorClassConfig::default());
        warm_up(&mut c);
        for i in 0..50i64 {
            let ms = 10_000 + i * 200;
            let mut r = access(
                &format!("10.1.0.{i}"),
                "GET",
                &format!("/orders/{}", uuid(i as u32)),
                500,
                ms,
            );
            r.request_id = Some(format!("req-outage-{i:04}"));
            c.observe_access(&r);
            c.observe_error(&error(
                "sqlx::Error: error communicating with database: Connection refused (os error 111)",
                Some(&format!("req-outage-{i:04}")),
                ms + 5,
            ));
            c.observe_error(&error(
                "connection to server at \"db\" port 5432 failed: Connection refused",
                None,
                ms + 6,
            ));
        }
        let report = c.report(now(60_000));
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert_eq!(report.other_5xx, 50);
        assert_eq!(report.scanner_requests, 0);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut c = ErrorClassifier::new(ErrorClassConfig {
            max_routes: 8,
            max_pending: 16,
            max_events: 32,
            ..ErrorClassConfig::default()
        });
        for i in 0..2_000i64 {
            c.observe_access(&access(
                &format!("10.9.{}.{}", i / 250, i % 250),
                "POST",
                &format!("/import/job{i}"),
                500,
                i * 10,
            ));
            c.observe_error(&error(
                "JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
                Some(&format!("x-{i}")),
                i * 10,
            ));
            assert!(c.pending.len() <= 16 && c.events.len() <= 32 && c.routes.len() <= 8);
        }
        assert!(c.by_id.len() <= 32);
        let report = c.report(now(0));
        assert!(report.findings.len() <= 8);
    }
}

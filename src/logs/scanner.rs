//! Scanner-noise detection: bots probing for WordPress, leaked `.env` files, admin consoles
//! and random URLs. [`is_scanner_probe`] judges one request against a curated probe list and
//! what the [`RouteBook`] knows; [`ScannerTracker`] adds the per-client view: a client that
//! hits more than `max_distinct_misses` distinct never-succeeded paths within `window` is a
//! scanner, and every request it makes is excluded (and counted) until it has been quiet for
//! `flag_ttl`. Clients are keyed by address *and* user agent, so users sharing a proxy address
//! are not flagged together with a bot behind the same address.

use crate::logs::access::AccessRecord;
use crate::logs::route::{RouteBook, looks_random};
use regex::Regex;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

/// Why a request is scanner noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ScannerReason {
    /// The path matches a well-known probe (the matched pattern).
    KnownProbe(&'static str),
    /// A `.php`/`.asp`/... script on an app that never served one.
    ForeignScript(&'static str),
    /// 401/403/404/405 on a route that never succeeded.
    UnknownRoute4xx,
    /// A machine-random segment on a route that never succeeded.
    RandomSegment,
    /// No method, an absolute-URI target (proxy probe) or `CONNECT`.
    BadRequestLine,
    /// The client was flagged as a scanner by [`ScannerTracker`].
    ScannerClient,
}

/// Probes that are never a real route of a web app, whatever the route book says.
const ALWAYS: &[&str] = &[
    "/.env",
    "/.git",
    "/.svn",
    "/.hg/",
    "/.aws",
    "/.ssh",
    "/.docker",
    "/.vscode",
    "/.idea",
    "/.ds_store",
    "/.htaccess",
    "/.htpasswd",
    "/.npmrc",
    "/.config",
    "/vendor/phpunit",
    "eval-stdin.php",
    "/cgi-bin/",
    "/etc/passwd",
    "../",
    "..%2f",
    "%2e%2e",
    "/boaform",
    "/hnap1",
    "/_ignition",
    "/sftp-config.json",
    "docker-compose.y",
    "/containers/json",
    "/.well-known/acme-challenge/../",
];

/// Probes for software the app might actually run: excluded unless the route ever succeeded.
const CONTEXTUAL: &[&str] = &[
    "/wp-",
    "/wordpress",
    "/xmlrpc.php",
    "/phpmyadmin",
    "/pma/",
    "/myadmin",
    "/adminer",
    "/phpinfo",
    "/server-status",
    "/server-info",
    "/actuator",
    "/manager/html",
    "/jmx-console",
    "/console/",
    "/solr/",
    "/telescope",
    "/druid/",
    "/nacos",
    "/geoserver",
    "/owa/",
    "/ecp/",
    "/autodiscover",
    "/remote/login",
    "/api/jsonws",
    "/config.json",
    "/backup",
    "/debug/",
    "/shell",
    "/login.action",
    "/index.action",
    "/webui",
];

/// File extensions probed for on apps that do not serve them (`*.php` on a non-PHP app).
const SCRIPT_EXTENSIONS: &[&str] = &[
    "php", "php5", "phtml", "asp", "aspx", "jsp", "cgi", "pl", "sql", "bak", "old", "swp", "env",
    "ini", "cfg", "conf", "yml", "yaml", "log", "zip", "tar", "gz", "rar", "7z",
];

/// One case-insensitive alternation per list, so a clean path costs two literal scans.
struct ProbeMatchers {
    always: Regex,
    contextual: Regex,
}

fn matchers() -> Option<&'static ProbeMatchers> {
    static CELL: OnceLock<Option<ProbeMatchers>> = OnceLock::new();
    CELL.get_or_init(|| {
        let build = |list: &[&str]| {
            let alts: Vec<String> = list.iter().map(|p| regex::escape(p)).collect();
            Regex::new(&format!("(?i)(?:{})", alts.join("|"))).ok()
        };
        Some(ProbeMatchers {
            always: build(ALWAYS)?,
            contextual: build(CONTEXTUAL)?,
        })
    })
    .as_ref()
}

/// The list entry `path` contains, if any.
fn find_probe(re: &Regex, list: &[&'static str], path: &str) -> Option<&'static str> {
    let found = re.find(path)?.as_str();
    list.iter().copied().find(|p| p.eq_ignore_ascii_case(found))
}

/// Stateless judgement of one request (see [`ScannerReason`]).
pub(crate) fn is_scanner_probe(record: &AccessRecord, book: &RouteBook) -> Option<ScannerReason> {
    let path = record.path.as_str();
    if record.method.is_empty()
        || record.method == "CONNECT"
        || !path.starts_with('/')
        || path.contains("://")
    {
        return Some(ScannerReason::BadRequestLine);
    }
    let m = matchers()?;
    if let Some(p) = find_probe(&m.always, ALWAYS, path) {
        return Some(ScannerReason::KnownProbe(p));
    }
    let ok = (200..400).contains(&record.status);
    let contextual = find_probe(&m.contextual, CONTEXTUAL, path);
    let foreign = path
        .rsplit('/')
        .next()
        .and_then(|last| last.rsplit_once('.'))
        .and_then(|(_, ext)| {
            SCRIPT_EXTENSIONS
                .iter()
                .find(|e| e.eq_ignore_ascii_case(ext))
        })
        .filter(|ext| !book.extension_succeeded(ext));
    if contextual.is_none() && foreign.is_none() && ok {
        return None;
    }
    // Only failing or suspicious requests pay for the route lookup.
    let route = book.resolve(path).route;
    if book.route_succeeded(&route) {
        return None;
    }
    if let Some(p) = contextual {
        return Some(ScannerReason::KnownProbe(p));
    }
    if let Some(ext) = foreign {
        return Some(ScannerReason::ForeignScript(ext));
    }
    if ok {
        return None;
    }
    if matches!(record.status, 401 | 403 | 404 | 405) {
        return Some(ScannerReason::UnknownRoute4xx);
    }
    if path.split('/').any(looks_random) {
        return Some(ScannerReason::RandomSegment);
    }
    None
}

/// Limits and thresholds of a [`ScannerTracker`].
#[derive(Debug, Clone)]
pub struct ScannerConfig {
    /// A client with more than this many distinct never-succeeded paths in `window_ms` is a
    /// scanner (default 10).
    pub max_distinct_misses: usize,
    /// Default 5 minutes.
    pub window_ms: i64,
    /// A flagged client stays flagged until quiet this long (default 1 hour).
    pub flag_ttl_ms: i64,
    /// Most clients tracked; the least recently seen eighth is dropped past it (default 20 000).
    pub max_clients: usize,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            max_distinct_misses: 10,
            window_ms: 5 * 60_000,
            flag_ttl_ms: 60 * 60_000,
            max_clients: 20_000,
        }
    }
}

#[derive(Debug, Default)]
struct ClientState {
    window_start: i64,
    misses: Vec<u64>,
    /// Requests seen from this client, not yet counted as scanner noise.
    uncounted: u64,
    flagged: bool,
    last_seen: i64,
}

/// A client that has just been flagged: the classifier drops what it holds from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlaggedClient {
    pub key: u64,
    /// Its earlier requests that were not yet counted as scanner noise.
    pub backlog: u64,
}

/// Per-client scanner tracking with bounded memory (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct ScannerTracker {
    config: ScannerConfig,
    clients: HashMap<u64, ClientState>,
    newly_flagged: Vec<FlaggedClient>,
    total: u64,
}

/// The key a client is tracked under: address and user agent.
pub(crate) fn client_key(record: &AccessRecord) -> u64 {
    let mut h = DefaultHasher::new();
    record.client.hash(&mut h);
    record.user_agent.hash(&mut h);
    h.finish()
}

fn path_hash(path: &str) -> u64 {
    let mut h = DefaultHasher::new();
    path.hash(&mut h);
    h.finish()
}

impl ScannerTracker {
    pub(crate) fn new(config: ScannerConfig) -> Self {
        ScannerTracker {
            config,
            ..ScannerTracker::default()
        }
    }

    /// Judges `record` seen at `now_ms` (milliseconds since the epoch). `Some` means the
    /// request is scanner noise and has been counted.
    pub(crate) fn observe(
        &mut self,
        record: &AccessRecord,
        book: &RouteBook,
        now_ms: i64,
    ) -> Option<ScannerReason> {
        let probe = is_scanner_probe(record, book);
        let ok = (200..400).contains(&record.status);
        // A miss: a probe, or any failure on a route that never succeeded.
        let miss =
            probe.is_some() || (!ok && !book.route_succeeded(&book.resolve(&record.path).route));
        let key = client_key(record);
        let cfg = &self.config;
        if !self.clients.contains_key(&key) && !miss && probe.is_none() {
            // Clean request from an untracked client: nothing to remember.
            return None;
        }
        let state = self.clients.entry(key).or_insert_with(|| ClientState {
            window_start: now_ms,
            ..ClientState::default()
        });
        if state.flagged && now_ms.saturating_sub(state.last_seen) > cfg.flag_ttl_ms {
            *state = ClientState {
                window_start: now_ms,
                ..ClientState::default()
            };
        }
        state.last_seen = state.last_seen.max(now_ms);
        if state.flagged {
            self.total += 1;
            return Some(probe.unwrap_or(ScannerReason::ScannerClient));
        }
        if now_ms.saturating_sub(state.window_start) > cfg.window_ms {
            state.window_start = now_ms;
            state.misses.clear();
            state.uncounted = 0;
        }
        if miss {
            let h = path_hash(&record.path);
            if !state.misses.contains(&h) {
                state.misses.push(h);
            }
        }
        let verdict = if state.misses.len() > cfg.max_distinct_misses {
            state.flagged = true;
            state.misses = Vec::new();
            self.newly_flagged.push(FlaggedClient {
                key,
                backlog: state.uncounted,
            });
            self.total += state.uncounted;
            state.uncounted = 0;
            Some(probe.unwrap_or(ScannerReason::ScannerClient))
        } else if probe.is_none() {
            state.uncounted += 1;
            None
        } else {
            probe
        };
        if verdict.is_some() {
            self.total += 1;
        }
        if self.clients.len() > self.config.max_clients {
            self.evict();
        }
        verdict
    }

    fn evict(&mut self) {
        let max = self.config.max_clients;
        let mut seen: Vec<i64> = self.clients.values().map(|c| c.last_seen).collect();
        let drop = ((self.clients.len() - max) + max / 8).min(seen.len().saturating_sub(1));
        let (_, cutoff, _) = seen.select_nth_unstable(drop);
        let cutoff = *cutoff;
        self.clients.retain(|_, c| c.last_seen >= cutoff);
    }

    #[cfg(test)]
    /// Whether the client of `record` is currently flagged.
    pub(crate) fn is_flagged(&self, record: &AccessRecord) -> bool {
        self.clients
            .get(&client_key(record))
            .is_some_and(|c| c.flagged)
    }

    /// Clients flagged since the last call.
    pub(crate) fn take_newly_flagged(&mut self) -> Vec<FlaggedClient> {
        std::mem::take(&mut self.newly_flagged)
    }

    #[cfg(test)]
    /// Requests counted as scanner noise since creation.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    #[cfg(test)]
    /// Clients currently tracked.
    pub(crate) fn tracked_clients(&self) -> usize {
        self.clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::access::{AccessFormat, parse_access_line};

    fn req(client: &str, method: &str, path: &str, status: u16) -> AccessRecord {
        AccessRecord {
            time: None,
            client: client.into(),
            method: method.into(),
            path: path.into(),
            query: None,
            status,
            bytes: None,
            duration_ms: None,
            user_agent: Some("Mozilla/5.0 zgrab/0.x".into()),
            request_id: None,
        }
    }

    fn app_book() -> RouteBook {
        let mut book = RouteBook::default();
        for p in [
            "/",
            "/login",
            "/orders/1",
            "/orders/2",
            "/static/app.js",
            "/admin",
        ] {
            book.learn(p);
        }
        book
    }

    #[test]
    fn curated_probes_are_recognized() {
        let book = app_book();
        for (path, status) in [
            ("/wp-login.php", 404),
            ("/wp-admin/setup-config.php", 404),
            ("/xmlrpc.php", 405),
            ("/.env", 404),
            ("/api/.env", 200),
            ("/.git/config", 403),
            ("/phpmyadmin/index.php", 404),
            ("/cgi-bin/luci/;stok=/locale", 404),
            ("/.aws/credentials", 404),
            ("/actuator/health", 404),
            ("/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", 500),
            ("/server-status", 403),
            ("/shell.php", 500),
            ("/index.php", 200),
            ("/static/../../etc/passwd", 400),
        ] {
            let reason = is_scanner_probe(&req("198.51.100.7", "GET", path, status), &book);
            assert!(
                matches!(
                    reason,
                    Some(ScannerReason::KnownProbe(_) | ScannerReason::ForeignScript(_))
                ),
                "{path}: {reason:?}"
            );
        }
    }

    #[test]
    fn app_routes_are_not_probes() {
        let mut book = app_book();
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/orders/3", 200), &book),
            None
        );
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/orders/abc", 500), &book),
            None
        );
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/admin", 403), &book),
            None
        );
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "POST", "/login", 401), &book),
            None
        );
        // A PHP app serving .php files is not probed by a request for one of its scripts.
        assert!(is_scanner_probe(&req("1.2.3.4", "GET", "/report.php", 500), &book).is_some());
        book.learn("/index.php");
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/report.php", 500), &book),
            None
        );
        // A WordPress site's own wp-admin is not a probe once it succeeded.
        book.learn("/wp-admin");
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/wp-admin", 302), &book),
            None
        );
        // But .env never is a route.
        book.learn("/.env");
        assert!(is_scanner_probe(&req("1.2.3.4", "GET", "/.env", 200), &book).is_some());
    }

    #[test]
    fn unknown_routes_random_segments_and_bad_request_lines() {
        let book = app_book();
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/nothing-here", 404), &book),
            Some(ScannerReason::UnknownRoute4xx)
        );
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/aX9kQ2zLw7", 500), &book),
            Some(ScannerReason::RandomSegment)
        );
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "/nothing-here", 500), &book),
            None
        );
        let garbage = parse_access_line(
            r#"45.0.0.1 - - [05/Mar/2024:09:12:44 +0000] "\x16\x03\x01" 400 157 "-" "-""#,
            AccessFormat::Combined,
        )
        .unwrap();
        assert_eq!(
            is_scanner_probe(&garbage, &book),
            Some(ScannerReason::BadRequestLine)
        );
        assert_eq!(
            is_scanner_probe(&req("1.2.3.4", "GET", "http://example.com/", 400), &book),
            Some(ScannerReason::BadRequestLine)
        );
    }

    #[test]
    fn client_crossing_threshold_is_flagged_with_backlog() {
        let book = app_book();
        let mut t = ScannerTracker::new(ScannerConfig::default());
        // Two 500s on plain-looking unknown paths: misses, but not probes on their own.
        assert_eq!(
            t.observe(&req("9.9.9.9", "GET", "/foo", 500), &book, 0),
            None
        );
        assert_eq!(
            t.observe(&req("9.9.9.9", "GET", "/bar", 500), &book, 1),
            None
        );
        for i in 0..8 {
            assert!(
                t.observe(&req("9.9.9.9", "GET", &format!("/x{i}"), 404), &book, 2 + i)
                    .is_some()
            );
        }
        assert!(!t.is_flagged(&req("9.9.9.9", "GET", "/", 200)));
        // The eleventh distinct miss flags the client; its two uncounted requests are backlog.
        assert!(
            t.observe(&req("9.9.9.9", "GET", "/x8", 404), &book, 20)
                .is_some()
        );
        let flagged = t.take_newly_flagged();
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].backlog, 2);
        assert_eq!(t.total(), 11);
        // From now on even its successful requests are excluded.
        assert_eq!(
            t.observe(&req("9.9.9.9", "GET", "/orders/1", 200), &book, 30),
            Some(ScannerReason::ScannerClient)
        );
        // Another user agent on the same address is a different client.
        let mut other = req("9.9.9.9", "GET", "/orders/1", 200);
        other.user_agent = Some("Mozilla/5.0 (Macintosh)".into());
        assert_eq!(t.observe(&other, &book, 31), None);
        // After the flag expires the client starts clean.
        assert_eq!(
            t.observe(
                &req("9.9.9.9", "GET", "/orders/1", 200),
                &book,
                31 + 3_600_001
            ),
            None
        );
    }

    #[test]
    fn misses_spread_beyond_the_window_do_not_flag() {
        let book = app_book();
        let mut t = ScannerTracker::new(ScannerConfig::default());
        for i in 0..30 {
            t.observe(
                &req("5.5.5.5", "GET", &format!("/typo{i}"), 404),
                &book,
                i * 60_000,
            );
        }
        assert!(!t.is_flagged(&req("5.5.5.5", "GET", "/", 200)));
    }

    #[test]
    fn tracked_clients_are_bounded() {
        let book = app_book();
        let mut t = ScannerTracker::new(ScannerConfig {
            max_clients: 100,
            ..ScannerConfig::default()
        });
        for i in 0..5_000 {
            t.observe(
                &req(
                    &format!("10.0.{}.{}", i / 256, i % 256),
                    "GET",
                    "/.env",
                    404,
                ),
                &book,
                i,
            );
        }
        assert!(t.tracked_clients() <= 100);
    }
}

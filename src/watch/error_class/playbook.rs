//! The error_class playbook: the route's recent requests in the access log (which failed, when,
//! from how many clients, with what input, and how many succeeded), the app's errors logged
//! with the failures, grouped by signature, and whether the route ever succeeded (the route
//! book the watch learned). Bad input answered with 500 on a route that works is a bug in the
//! app's input handling.

use super::app_event;
use crate::config::{ErrorClassSpec, LogFeed, LogFormat, WatchSpec};
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::logs::access::{AccessRecord, parse_access_line};
use crate::logs::client_input::{client_input_failure, is_infrastructure_failure};
use crate::logs::mask::{MaskedLine, mask_line};
use crate::logs::redact::redact;
use crate::logs::route::{RouteBook, RouteBookConfig};
use crate::logs::scanner::client_key;
use crate::source::logfile::{LineFormat, LogLine, parse_line, plain_level};
use crate::watch::error_class::core::ErrorEvent;
use crate::watch::log_feed::recent::recent;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

/// How far apart a 5xx and the app error explaining it may be logged (as the watch's own
/// correlation).
const CORRELATION_MS: i64 = 2_000;

/// The logs' read reaches back at least an hour before the page, at most this far.
const LOG_LOOKBACK: chrono::Duration = chrono::Duration::hours(6);

/// Failing requests and error signatures listed at most.
const EXAMPLES: usize = 4;
const SIGNATURES: usize = 3;

/// Characters kept of a request and of an app error.
const REQUEST_CHARS: usize = 160;
const ERROR_CHARS: usize = 300;

/// One failing request on the route.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// Unix milliseconds, when the access log says.
    pub at: Option<i64>,
    pub status: u16,
    pub client: u64,
    /// Path and query, redacted and shortened.
    pub request: String,
    pub request_id: Option<String>,
    /// The segment that sits where successful requests carried an id of another shape, and
    /// that shape's placeholder (`:uuid`).
    pub malformed: Option<(String, String)>,
}

/// The route's requests among the lines read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Traffic {
    /// Access records read, all routes.
    pub records: usize,
    /// 5xx on the route, oldest first.
    pub failed: Vec<Failure>,
    /// 2xx and 3xx on the route.
    pub succeeded: usize,
    /// When the latest of them was logged (Unix milliseconds).
    pub last_success: Option<i64>,
    /// 4xx on the route.
    pub refused: usize,
}

impl Traffic {
    fn clients(&self) -> usize {
        self.failed
            .iter()
            .map(|f| f.client)
            .collect::<HashSet<_>>()
            .len()
    }

    fn span(&self) -> Option<(i64, i64)> {
        let times = self.failed.iter().filter_map(|f| f.at);
        Some((times.clone().min()?, times.max()?))
    }

    /// The first malformed segment seen, with the shape expected there.
    fn malformed(&self) -> Option<&(String, String)> {
        self.failed.iter().find_map(|f| f.malformed.as_ref())
    }
}

/// The requests of `method route` among `records`, resolved with `book` (which first learns
/// the successful requests read, as the watch would have).
pub(crate) fn route_traffic(
    records: &[AccessRecord],
    book: &mut RouteBook,
    method: &str,
    route: &str,
) -> Traffic {
    for record in records {
        if (200..400).contains(&record.status) {
            book.learn(&record.path);
        }
    }
    let mut traffic = Traffic {
        records: records.len(),
        ..Traffic::default()
    };
    for record in records {
        if !record.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let resolved = book.resolve(&record.path);
        if resolved.route != route {
            continue;
        }
        match record.status {
            200..=399 => {
                traffic.succeeded += 1;
                let at = record.time.map(|t| t.timestamp_millis());
                traffic.last_success = traffic.last_success.max(at);
            }
            400..=499 => traffic.refused += 1,
            500.. => {
                let raw = match &record.query {
                    Some(query) => format!("{}?{query}", record.path),
                    None => record.path.clone(),
                };
                traffic.failed.push(Failure {
                    at: record.time.map(|t| t.timestamp_millis()),
                    status: record.status,
                    client: client_key(record),
                    request: shorten(&redact(&raw), REQUEST_CHARS),
                    request_id: record.request_id.clone(),
                    malformed: resolved.malformed_param.map(|param| {
                        let shape = resolved
                            .expected
                            .and_then(|s| s.placeholder())
                            .unwrap_or(":id");
                        (redact(&param), shape.to_string())
                    }),
                });
            }
            _ => {}
        }
    }
    traffic
}

/// A kind of app error logged with the failures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Signature {
    /// `invalid input syntax for type uuid`, or the error's first line with its values masked.
    pub label: String,
    pub count: usize,
    /// The error names bad client input.
    pub client_input: bool,
    /// The error names a failing dependency (refused, timed out, pool exhausted...).
    pub infrastructure: bool,
    /// The latest one, redacted and shortened.
    pub example: String,
}

/// The app errors that go with the failures (same request id, else the nearest unclaimed one
/// within the correlation window; each error backs one failure), grouped by signature, most
/// frequent first; and how many failures had none.
pub(crate) fn signatures(failed: &[Failure], events: &[ErrorEvent]) -> (Vec<Signature>, usize) {
    let mut claimed = vec![false; events.len()];
    let mut groups: BTreeMap<String, Signature> = BTreeMap::new();
    let mut unmatched = 0;
    let mut masked = MaskedLine::new();
    for failure in failed {
        let by_id = failure.request_id.as_ref().and_then(|id| {
            events
                .iter()
                .position(|e| e.request_id.as_ref() == Some(id))
        });
        let nearest = || {
            let at = failure.at?;
            events
                .iter()
                .enumerate()
                .filter(|(i, _)| !claimed[*i])
                .filter_map(|(i, e)| Some((i, (e.time?.timestamp_millis() - at).abs())))
                .filter(|(_, apart)| *apart <= CORRELATION_MS)
                .min_by_key(|(_, apart)| *apart)
                .map(|(i, _)| i)
        };
        let Some(index) = by_id.or_else(nearest) else {
            unmatched += 1;
            continue;
        };
        claimed[index] = true;
        let text = &events[index].text;
        let input = client_input_failure(text);
        let label = match &input {
            Some(failure) => failure.label.clone(),
            None => {
                mask_line(text.lines().next().unwrap_or_default(), &mut masked);
                shorten(masked.text(), 100)
            }
        };
        let group = groups.entry(label.clone()).or_insert_with(|| Signature {
            label,
            count: 0,
            client_input: input.is_some(),
            infrastructure: input.is_none() && is_infrastructure_failure(text),
            example: String::new(),
        });
        group.count += 1;
        group.example = shorten(&redact(text), ERROR_CHARS);
    }
    let mut list: Vec<Signature> = groups.into_values().collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    (list, unmatched)
}

/// `text` as one POSIX shell word: a route comes from requests, so it is never trusted.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn clock(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// What was read, with the evidence ids.
pub(crate) struct Seen<'a> {
    /// Whether the watch's route book has the route succeeding, when it could be read.
    pub book: Option<(bool, &'a str)>,
    pub traffic: Option<(&'a Traffic, &'a str)>,
    /// The app errors with the failures, the failures without one, and their evidence.
    pub errors: Option<(&'a [Signature], usize, &'a str)>,
    /// The access log's files, for the commands written out.
    pub access_files: Option<&'a str>,
}

/// Judges the route's traffic and the app's errors. Pure: the playbook reads, this reasons.
pub(crate) fn judge(finding: &mut Finding, method: &str, route: &str, seen: &Seen<'_>) {
    let Some((traffic, traffic_id)) = seen.traffic else {
        finding.verdict = Verdict::Inconclusive;
        finding.gaps.push(format!(
            "Without the access log, the requests of {method} {route} could not be looked at."
        ));
        return;
    };
    let failed = traffic.failed.len();
    if failed == 0 {
        finding.summary = format!(
            "{method} {route}: none of its failing requests is in the part of the access log read ({} requests).",
            traffic.records
        );
        finding.hypotheses.push(Hypothesis::guessed(
            "The failing requests are older than what was read, or the log was rotated away.",
            &[traffic_id],
        ));
        finding.verdict = Verdict::Inconclusive;
        return;
    }
    let mut works: Vec<&str> = Vec::new();
    if traffic.succeeded > 0 {
        works.push(traffic_id);
    }
    if let Some((true, id)) = seen.book {
        works.push(id);
    }
    let route_works = !works.is_empty();
    if route_works {
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The route works with well-formed input: {} of its requests read succeeded{}.",
                traffic.succeeded,
                if seen.book.is_some_and(|(ok, _)| ok) {
                    ", and the watch learned it from successful requests"
                } else {
                    ""
                }
            ),
            &works,
        ));
    } else {
        let ids: Vec<&str> = [Some(traffic_id), seen.book.map(|(_, id)| id)]
            .into_iter()
            .flatten()
            .collect();
        finding.hypotheses.push(Hypothesis::guessed(
            "The route may fail for every input: no request on it succeeded, in the lines read or ever.",
            &ids,
        ));
    }
    let clients = traffic.clients();
    let span = traffic
        .span()
        .map(|(first, last)| format!(" between {} and {}", clock(first), clock(last)))
        .unwrap_or_default();
    let volume = format!(
        "{failed} failing request{} from {clients} client{}{span}",
        if failed == 1 { "" } else { "s" },
        if clients == 1 { "" } else { "s" }
    );
    let top = seen
        .errors
        .and_then(|(list, _, id)| list.first().map(|top| (top, id)));
    // A failing dependency explains the failures when it is the most frequent error, or
    // behind half of them at least.
    let infrastructure = seen.errors.and_then(|(list, _, id)| {
        list.iter()
            .filter(|s| s.infrastructure)
            .find(|s| top.is_some_and(|(t, _)| t.label == s.label) || s.count * 2 >= failed)
            .map(|s| (s, id))
    });
    let malformed = traffic.malformed();
    if let Some((failure, id)) = infrastructure {
        finding.summary = format!(
            "{method} {route} fails because a dependency fails: {} ({volume}).",
            failure.label
        );
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The failures come with a failing dependency: “{}” ({} of {failed}).",
                failure.label, failure.count
            ),
            &[id],
        ));
        finding
            .hypotheses
            .push(Hypothesis::discarded("Only bad client input fails.", &[id]));
        finding.classification = Classification::OpsOrConfig;
        finding.verdict = Verdict::ActionNeeded;
        finding.confidence = Confidence::MEDIUM;
        let recovered = traffic
            .last_success
            .filter(|ok| traffic.span().is_some_and(|(_, last)| *ok > last));
        if let Some(ok) = recovered {
            finding.summary = format!(
                "{method} {route} failed while a dependency failed ({}; {volume}), and has answered well since {}.",
                failure.label,
                clock(ok)
            );
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "It recovered: requests on it succeeded after the last failure (at {}).",
                    clock(ok)
                ),
                &[traffic_id],
            ));
            finding.classification = Classification::Transient;
            finding.verdict = Verdict::NoAction;
            finding.steps.push(Step::say(
                "Nothing now; if it happens again, look at the dependency the error names.",
            ));
        } else {
            finding.steps.push(Step::say(
                "Check the dependency the error names (the database, an upstream) before the app.",
            ));
        }
    } else if let Some((signature, id)) = top.filter(|(s, _)| s.client_input) {
        finding.summary = format!(
            "{method} {route} answers bad input with a server error: {} ({volume}){}.",
            signature.label,
            if route_works {
                "; the route works with well-formed input"
            } else {
                ""
            }
        );
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The app does not check its input: “{}” on {} of the {failed} failing requests, e.g. {}",
                signature.label, signature.count, signature.example
            ),
            &[id, traffic_id],
        ));
        finding.hypotheses.push(Hypothesis::discarded(
            "An outage of the app or its database (the errors name bad input, not a failing dependency).",
            &[id],
        ));
        finding.classification = Classification::DurableCodeBug;
        finding.verdict = Verdict::ActionSuggested;
        finding.confidence = if route_works {
            Confidence::HIGH
        } else {
            Confidence::MEDIUM
        };
        let what = malformed
            .map(|(_, shape)| format!("the {shape} parameter"))
            .unwrap_or_else(|| "the request's input".into());
        finding.steps.push(Step::say(format!(
            "In the handler of {method} {route}, check {what} before using it and answer 400 (or 404) instead of 500."
        )));
    } else if let Some((param, shape)) = malformed {
        finding.summary = format!(
            "{method} {route} answers a malformed {shape} (e.g. “{param}”) with a server error ({volume})."
        );
        finding.hypotheses.push(Hypothesis::known(
            format!(
                "The failing requests carry a malformed {shape} where the successful ones carry a well-formed one, e.g. “{param}”."
            ),
            &[traffic_id],
        ));
        finding.classification = Classification::DurableCodeBug;
        finding.verdict = Verdict::ActionSuggested;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(Step::say(format!(
            "In the handler of {method} {route}, check the {shape} parameter before using it and answer 400 (or 404) instead of 500."
        )));
    } else if let Some((signature, id)) = top {
        finding.summary = format!(
            "{method} {route} fails with “{}” ({volume}).",
            signature.label
        );
        finding.hypotheses.push(Hypothesis::guessed(
            format!(
                "The app fails with “{}” ({} of {failed}), which names neither bad input nor a failing dependency, e.g. {}",
                signature.label, signature.count, signature.example
            ),
            &[id],
        ));
        finding.verdict = Verdict::ActionSuggested;
        finding.confidence = Confidence::LOW;
    } else {
        finding.summary = format!(
            "{method} {route} fails ({volume}), and the app's log says nothing about those requests."
        );
        finding.verdict = Verdict::Inconclusive;
        finding.gaps.push(
            "No app error was found with the failing requests: the app's log is not configured, or it logs them elsewhere."
                .into(),
        );
    }
    if let Some(files) = seen.access_files {
        let prefix = route.split("/:").next().unwrap_or(route);
        finding.steps.push(Step::run(
            "See the latest failing requests",
            format!(
                "grep -h -F {} {files} | grep -E '\" 5[0-9][0-9] ' | tail -20",
                shell_quote(&format!("\"{method} {prefix}"))
            ),
        ));
    }
}

fn describe_traffic(traffic: &Traffic, method: &str, route: &str) -> String {
    let mut text = format!(
        "{method} {route}: {} answered 5xx, {} answered 2xx/3xx, {} answered 4xx (of {} requests read)\n",
        traffic.failed.len(),
        traffic.succeeded,
        traffic.refused,
        traffic.records
    );
    if let Some((first, last)) = traffic.span() {
        let _ = writeln!(
            text,
            "5xx from {} clients, first {}, last {}",
            traffic.clients(),
            clock(first),
            clock(last)
        );
    }
    for failure in traffic.failed.iter().rev().take(EXAMPLES) {
        let at = failure.at.map(clock).unwrap_or_else(|| "(no time)".into());
        let _ = write!(text, "{at} {} {method} {}", failure.status, failure.request);
        if let Some((param, shape)) = &failure.malformed {
            let _ = write!(text, " (malformed {shape}: {param})");
        }
        text.push('\n');
    }
    text
}

fn describe_errors(list: &[Signature], unmatched: usize) -> String {
    let mut text = String::new();
    for signature in list.iter().take(SIGNATURES) {
        let kind = if signature.client_input {
            "bad input"
        } else if signature.infrastructure {
            "failing dependency"
        } else {
            "other"
        };
        let _ = writeln!(
            text,
            "{}× {} ({kind})\n  e.g. {}",
            signature.count, signature.label, signature.example
        );
    }
    if list.len() > SIGNATURES {
        let _ = writeln!(text, "... {} more signatures", list.len() - SIGNATURES);
    }
    if unmatched > 0 {
        let _ = writeln!(text, "{unmatched} failing requests without an app error");
    }
    if text.is_empty() {
        text.push_str("no app error with the failing requests");
    }
    text
}

/// The level a line of the app's log states: the reader's, a leading level word, or the level
/// field of a JSON line.
fn line_level(line: &LogLine) -> Option<String> {
    line.level
        .clone()
        .or_else(|| plain_level(&line.line))
        .or_else(|| {
            line.line.trim_start().starts_with('{').then(|| {
                let json = LineFormat::JsonLines {
                    message_field: None,
                    level_field: None,
                };
                parse_line(&line.path, &line.line, &json).level
            })?
        })
}

/// Error events among app log lines: error-level lines and lines naming bad input.
fn error_events(lines: &[LogLine]) -> Vec<ErrorEvent> {
    lines
        .iter()
        .filter_map(|line| {
            let event = app_event(line);
            let error = line_level(line).is_some_and(|l| l == "ERROR" || l == "FATAL");
            (error || client_input_failure(&event.text).is_some()).then_some(event)
        })
        .collect()
}

/// Reads the route book, the access log and the app log, then judges them.
pub(crate) async fn run(
    spec: &WatchSpec,
    error_class: &ErrorClassSpec,
    ctx: &PlaybookContext<'_>,
) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let Some((method, route)) = alert.subject.split_once(' ') else {
        finding.gaps.push(format!(
            "The alert's subject {:?} names no route.",
            alert.subject
        ));
        return finding;
    };
    let config = RouteBookConfig::default();
    let (mut book, book_id) = match ctx.store.remembered(&spec.name, "", "routes").await {
        Ok(Some(json)) => match RouteBook::from_json(config.clone(), &json) {
            Ok(book) => {
                let succeeded = book.route_succeeded(route);
                let id = finding.evidence.add(
                    "store",
                    None,
                    format!("the routes watch {} learned from successful requests", spec.name),
                    &format!(
                        "{} successful requests learned, {} route prefixes; {method} {route} succeeded: {}",
                        book.learned(),
                        book.len(),
                        if succeeded { "yes" } else { "no" }
                    ),
                    ctx.now,
                );
                (book, Some((succeeded, id)))
            }
            Err(error) => {
                finding.gaps.push(format!(
                    "The watch's learned routes cannot be read: {error}"
                ));
                (RouteBook::new(config), None)
            }
        },
        Ok(None) => (RouteBook::new(config), None),
        Err(error) => {
            finding.gaps.push(format!(
                "The watch's learned routes could not be read: {error}"
            ));
            (RouteBook::new(config), None)
        }
    };
    let window = chrono::Duration::from_std(error_class.window).unwrap_or_default();
    let since = (alert.broken_since - window * 2)
        .min(ctx.now - chrono::Duration::hours(1))
        .max(ctx.now - LOG_LOOKBACK);
    let traffic = match recent(
        &error_class.access_log,
        LogFormat::Plain,
        ctx.sources,
        since,
        ctx.now,
    )
    .await
    {
        Ok(read) => {
            let records: Vec<AccessRecord> = read
                .lines
                .iter()
                .filter_map(|line| parse_access_line(&line.line, error_class.access_format))
                .collect();
            let traffic = route_traffic(&records, &mut book, method, route);
            let id = finding.evidence.add(
                read.tool,
                read.source.as_deref(),
                format!("{} (access log)", read.query),
                &describe_traffic(&traffic, method, route),
                ctx.now,
            );
            Some((traffic, id))
        }
        Err(error) => {
            finding
                .gaps
                .push(format!("The access log could not be read: {error}"));
            None
        }
    };
    let mut errors = None;
    if let (Some(app_log), Some((traffic, _))) = (&error_class.app_log, &traffic)
        && !traffic.failed.is_empty()
    {
        match recent(app_log, LogFormat::Plain, ctx.sources, since, ctx.now).await {
            Ok(read) => {
                let (list, unmatched) = signatures(&traffic.failed, &error_events(&read.lines));
                let id = finding.evidence.add(
                    read.tool,
                    read.source.as_deref(),
                    format!("{} (app log, errors within 2 s of each failing request or with its request id)", read.query),
                    &describe_errors(&list, unmatched),
                    ctx.now,
                );
                errors = Some((list, unmatched, id));
            }
            Err(error) => finding
                .gaps
                .push(format!("The app's log could not be read: {error}")),
        }
    }
    let access_files = match &error_class.access_log {
        LogFeed::Files { pattern } => Some(pattern.as_str()),
        _ => None,
    };
    let seen = Seen {
        book: book_id.as_ref().map(|(ok, id)| (*ok, id.as_str())),
        traffic: traffic.as_ref().map(|(t, id)| (t, id.as_str())),
        errors: errors
            .as_ref()
            .map(|(list, unmatched, id)| (list.as_slice(), *unmatched, id.as_str())),
        access_files,
    };
    judge(&mut finding, method, route, &seen);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;
    use crate::logs::access::AccessFormat;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap()
    }

    fn access(second: i64, client: &str, request: &str, status: u16) -> AccessRecord {
        let line = format!(
            "{client} - - [{}] \"{request} HTTP/1.1\" {status} 512 \"-\" \"Mozilla/5.0\"",
            at(second).format("%d/%b/%Y:%H:%M:%S %z")
        );
        parse_access_line(&line, AccessFormat::Combined).unwrap()
    }

    fn uuid(i: i64) -> String {
        format!("{:08x}-4b1c-4d2e-9f3a-{:012x}", 0x1234_0000 + i, 0xabc0 + i)
    }

    /// Orders fetched by their uuid, then four malformed ids answered with 500.
    fn records() -> Vec<AccessRecord> {
        let mut records: Vec<AccessRecord> = (0..10)
            .map(|i| access(i, "203.0.113.9", &format!("GET /orders/{}", uuid(i)), 200))
            .collect();
        records.push(access(11, "203.0.113.9", "GET /orders/nope", 404));
        for i in 0..4 {
            records.push(access(
                20 + i * 10,
                &format!("198.51.100.{}", i % 2 + 1),
                "GET /orders/abc-123?expand=items",
                500,
            ));
        }
        records.push(access(70, "203.0.113.9", "POST /api/cart", 500));
        records
    }

    fn traffic() -> Traffic {
        route_traffic(
            &records(),
            &mut RouteBook::default(),
            "GET",
            "/orders/:uuid",
        )
    }

    fn event(second: i64, text: &str, request_id: Option<&str>) -> ErrorEvent {
        ErrorEvent {
            time: Some(at(second).fixed_offset()),
            text: text.into(),
            request_id: request_id.map(str::to_string),
        }
    }

    const UUID_ERROR: &str = "GET /orders/abc-123: error returned from database: invalid input syntax for type uuid: \"abc-123\" (SQLSTATE 22P02)";

    #[test]
    fn the_route_s_requests_are_told_apart_with_the_malformed_id() {
        let traffic = traffic();
        assert_eq!(traffic.records, 16);
        assert_eq!(traffic.succeeded, 10);
        assert_eq!(traffic.failed.len(), 4, "{traffic:?}");
        assert_eq!(traffic.clients(), 2);
        assert_eq!(
            traffic.malformed(),
            Some(&("abc-123".to_string(), ":uuid".to_string()))
        );
        assert_eq!(traffic.failed[0].request, "/orders/abc-123?expand=items");
        let text = describe_traffic(&traffic, "GET", "/orders/:uuid");
        assert!(
            text.contains("4 answered 5xx, 10 answered 2xx/3xx"),
            "{text}"
        );
    }

    #[test]
    fn app_errors_go_with_failures_by_request_id_or_nearest_time() {
        let mut failed = traffic().failed;
        failed[3].request_id = Some("r-4".into());
        let events = vec![
            event(21, UUID_ERROR, None),
            event(30, UUID_ERROR, None),
            event(900, &format!("{UUID_ERROR} late"), Some("r-4")),
            event(45, "ERROR pool timed out waiting for a connection", None),
        ];
        let (list, unmatched) = signatures(&failed, &events);
        assert_eq!(unmatched, 1, "the failure at 40 s has nothing within 2 s");
        assert_eq!(list[0].label, "invalid input syntax for type uuid");
        assert_eq!(list[0].count, 3);
        assert!(list[0].client_input);
        assert!(list[0].example.ends_with("late"), "{}", list[0].example);
    }

    fn judged(
        traffic: Option<&Traffic>,
        book: Option<bool>,
        errors: Option<&[Signature]>,
    ) -> Finding {
        let mut finding = Finding::open("");
        let book_id = finding.evidence.add("store", None, "routes", "..", at(0));
        let traffic_id = finding.evidence.add("logs", None, "access", "..", at(0));
        let errors_id = finding.evidence.add("logs", None, "app", "..", at(0));
        let seen = Seen {
            book: book.map(|ok| (ok, book_id.as_str())),
            traffic: traffic.map(|t| (t, traffic_id.as_str())),
            errors: errors.map(|list| (list, 0, errors_id.as_str())),
            access_files: Some("/var/log/nginx/access.log"),
        };
        judge(&mut finding, "GET", "/orders/:uuid", &seen);
        finding.settle();
        finding
    }

    fn signature(label: &str, client_input: bool, infrastructure: bool) -> Signature {
        Signature {
            label: label.into(),
            count: 4,
            client_input,
            infrastructure,
            example: "e.g.".into(),
        }
    }

    #[test]
    fn bad_input_on_a_route_that_works_is_a_code_bug_with_the_fix() {
        let traffic = traffic();
        let errors = [signature("invalid input syntax for type uuid", true, false)];
        let finding = judged(Some(&traffic), Some(true), Some(&errors));
        assert_eq!(finding.classification, Classification::DurableCodeBug);
        assert_eq!(finding.verdict, Verdict::ActionSuggested);
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(
            finding.summary.contains("GET /orders/:uuid"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .summary
                .contains("invalid input syntax for type uuid"),
            "{}",
            finding.summary
        );
        assert!(
            finding.summary.contains("from 2 clients"),
            "{}",
            finding.summary
        );
        assert!(finding.hypotheses.iter().any(|h| !h.kept));
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.text.contains(":uuid parameter"))
        );
        assert!(finding.steps.iter().any(|s| {
            s.command
                .as_deref()
                .is_some_and(|c| c.contains("'\"GET /orders'"))
        }));
    }

    #[test]
    fn a_failing_dependency_is_ops_not_bad_input() {
        let traffic = traffic();
        let errors = [
            signature("invalid input syntax for type uuid", true, false),
            signature("ERROR connection refused <*>", false, true),
        ];
        let finding = judged(Some(&traffic), Some(true), Some(&errors));
        assert_eq!(finding.classification, Classification::OpsOrConfig);
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
    }

    #[test]
    fn a_route_taken_from_requests_is_one_shell_word_in_the_command() {
        let traffic = traffic();
        let mut finding = Finding::open("");
        let id = finding.evidence.add("logs", None, "access", "..", at(0));
        let seen = Seen {
            book: None,
            traffic: Some((&traffic, &id)),
            errors: None,
            access_files: Some("/var/log/nginx/access.log"),
        };
        judge(&mut finding, "GET", "/x';rm -rf ~;'/:id", &seen);
        let command = finding
            .steps
            .iter()
            .find_map(|s| s.command.clone())
            .unwrap();
        assert!(
            command.starts_with(r#"grep -h -F '"GET /x'\'';rm -rf ~;'\''' /var/log"#),
            "{command}"
        );
    }

    #[test]
    fn a_dependency_that_failed_and_recovered_needs_nothing() {
        let mut traffic = traffic();
        traffic.last_success = Some(at(3600).timestamp_millis());
        let errors = [signature("ERROR connection refused <*>", false, true)];
        let finding = judged(Some(&traffic), Some(true), Some(&errors));
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
        assert!(
            finding.summary.contains("answered well since"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn json_app_lines_are_errors_by_their_level_field_or_the_input_they_name() {
        let line = |text: &str| LogLine {
            path: "app.log".into(),
            offset: 0,
            line: text.to_string(),
            level: None,
            at: None,
            truncated: false,
            history: false,
        };
        let events = error_events(&[
            line(r#"{"time":"2026-11-28T04:00:01Z","level":"INFO","msg":"request","status":200}"#),
            line(
                r#"{"time":"2026-11-28T04:00:02Z","level":"error","msg":"payment failed","err":"card declined"}"#,
            ),
            line(
                r#"{"time":"2026-11-28T04:00:03Z","level":"WARN","msg":"bad id","err":"strconv.Atoi: parsing \"x\": invalid syntax"}"#,
            ),
        ]);
        let texts: Vec<&str> = events.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "payment failed err=card declined",
                "bad id err=strconv.Atoi: parsing \"x\": invalid syntax"
            ]
        );
        assert!(events.iter().all(|e| e.time.is_some()));
    }

    #[test]
    fn a_malformed_id_alone_still_names_the_parameter() {
        let traffic = traffic();
        let finding = judged(Some(&traffic), None, Some(&[]));
        assert_eq!(finding.classification, Classification::DurableCodeBug);
        assert_eq!(finding.confidence, Confidence::MEDIUM);
        assert!(finding.summary.contains("“abc-123”"), "{}", finding.summary);
    }

    #[test]
    fn a_route_that_never_worked_is_only_suspected() {
        let mut traffic = traffic();
        traffic.succeeded = 0;
        for failure in &mut traffic.failed {
            failure.malformed = None;
        }
        let errors = [signature("ERROR <*> is not defined", false, false)];
        let finding = judged(Some(&traffic), Some(false), Some(&errors));
        assert_eq!(finding.classification, Classification::Unknown);
        assert!(
            finding
                .hypotheses
                .iter()
                .all(|h| h.basis == Basis::Guessed || h.statement.is_empty())
        );
        assert_eq!(finding.confidence, Confidence::LOW);
    }

    #[test]
    fn failures_out_of_reach_or_unexplained_are_inconclusive() {
        let none = Traffic {
            records: 100,
            ..Traffic::default()
        };
        let finding = judged(Some(&none), Some(true), None);
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert!(
            finding.summary.contains("100 requests"),
            "{}",
            finding.summary
        );

        let unread = judged(None, Some(true), None);
        assert_eq!(unread.verdict, Verdict::Inconclusive);
        assert!(!unread.gaps.is_empty());

        let mut traffic = traffic();
        for failure in &mut traffic.failed {
            failure.malformed = None;
        }
        let silent = judged(Some(&traffic), Some(true), Some(&[]));
        assert_eq!(silent.verdict, Verdict::Inconclusive);
        assert!(
            silent.gaps.iter().any(|g| g.contains("app")),
            "{:?}",
            silent.gaps
        );
    }
}

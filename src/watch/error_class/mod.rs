//! `error_class`: bad client input answered with a server error. Follows the access log (and
//! the app's log, whose errors say why a request failed), from files or as streams of a Loki
//! source (the shared log feeds), feeds both to the classifier in
//! [`core`], and pages per route once `min_count` bad-input 5xx happened within `window`.
//! Scanner noise (probes for paths the app never served) is excluded and only counted. How
//! far each log was read and the routes the app serves survive restarts (the store), so a
//! malformed id is recognised as one right after a restart too.

pub mod core;
mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::WatchContext;
use super::kind::{Replay, Watch, WatchedFiles};
use super::log_feed::Feed;
use super::memory::{Memory, store_failure};
use super::observation::{Evaluation, Observation};
use crate::config::{ErrorClassSpec, LogFeed, LogFormat, WatchSpec};
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::logs::access::parse_access_line;
use crate::logs::route::RouteBook;
use crate::source::logfile::LogLine;
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, FixedOffset};
use core::{ErrorClassConfig, ErrorClassifier, ErrorEvent};
use futures_util::future::BoxFuture;

/// Store key prefixes of the two feeds (`access_offsets`, `app_cursor`, ...).
const ACCESS: &str = "access_";
const APP: &str = "app_";

/// What the watch keeps between evaluations.
#[derive(Default)]
pub struct State {
    access: Option<Feed>,
    app: Option<Feed>,
    classifier: Option<ErrorClassifier>,
    /// How much of the route book the store holds (see [`RouteBook::learned`]).
    routes_saved: u64,
}

/// The classifier, with the routes a previous run learned (a damaged copy starts over).
async fn classifier(
    spec: &WatchSpec,
    error_class: &ErrorClassSpec,
    ctx: &WatchContext<'_>,
) -> Result<(ErrorClassifier, u64), SourceError> {
    let mut classifier = ErrorClassifier::new(ErrorClassConfig {
        window: error_class.window,
        min_count: usize::try_from(error_class.min_count).unwrap_or(usize::MAX),
        ..ErrorClassConfig::default()
    });
    let saved = Memory::of(ctx, &spec.name).load_text("", "routes").await?;
    let mut learned = 0;
    if let Some(json) = saved {
        match RouteBook::from_json(classifier.route_limits().clone(), &json) {
            Ok(book) => {
                learned = book.learned();
                classifier.restore_route_book(book);
            }
            Err(error) => tracing::warn!(
                watch = %spec.name,
                "the saved routes cannot be read ({error}); learning them again"
            ),
        }
    }
    Ok((classifier, learned))
}

fn blind(feed: &LogFeed, detail: impl Into<String>) -> Evaluation {
    Evaluation::Blind(SourceError::new(
        &feed.source_label(),
        SourceErrorKind::Unreachable,
        detail,
    ))
}

/// The new lines of `feed`, opening it first if needed; a feed that lost its state is dropped
/// so the next evaluation opens it again.
async fn read(
    spec: &WatchSpec,
    prefix: &str,
    feed: &LogFeed,
    open: &mut Option<Feed>,
    ctx: &WatchContext<'_>,
) -> Result<Vec<LogLine>, SourceError> {
    let opened = match open.take() {
        Some(opened) => opened,
        None => Feed::open(&spec.name, prefix, feed, LogFormat::Plain, ctx).await?,
    };
    let reading = open.insert(opened);
    match reading.read(feed, LogFormat::Plain, ctx).await {
        Ok(lines) => Ok(lines),
        Err(failure) => {
            if failure.reopen {
                *open = None;
            }
            Err(failure.error)
        }
    }
}

pub async fn evaluate(
    spec: &WatchSpec,
    error_class: &ErrorClassSpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Evaluation {
    let access_feed = &error_class.access_log;
    if state.classifier.is_none() {
        match classifier(spec, error_class, ctx).await {
            Ok((fresh, learned)) => {
                state.classifier = Some(fresh);
                state.routes_saved = learned;
            }
            Err(error) => return Evaluation::Blind(error),
        }
    }
    let Some(classifier) = state.classifier.as_mut() else {
        return blind(access_feed, "classifier unavailable");
    };

    // The app's errors first, so a 5xx finds the error that explains it.
    if let Some(app_feed) = &error_class.app_log {
        match read(spec, APP, app_feed, &mut state.app, ctx).await {
            Ok(lines) => {
                for line in &lines {
                    classifier.observe_error(&app_event(line));
                }
            }
            Err(error) => return Evaluation::Blind(error),
        }
    }
    match read(spec, ACCESS, access_feed, &mut state.access, ctx).await {
        Ok(lines) => {
            for line in &lines {
                if let Some(record) = parse_access_line(&line.line, error_class.access_format) {
                    classifier.observe_access(&record);
                }
            }
        }
        Err(error) => return Evaluation::Blind(error),
    }

    let report = classifier.report(ctx.now);
    let observations = report
        .findings
        .iter()
        .filter(|finding| classifier.should_page(finding))
        .map(|finding| {
            let mut seen = Observation::broken(
                format!("{} {}", finding.method, finding.route),
                format!(
                    "{} {} answers bad input with a server error: {}",
                    finding.method, finding.route, finding.error_label
                ),
            )
            .with_fact(format!(
                "{} requests from {} clients in the last {}",
                finding.count,
                finding.distinct_clients,
                crate::humanize::duration(error_class.window)
            ))
            .with_fact(format!(
                "e.g. {} {}",
                finding.method, finding.example_request
            ))
            .with_value(finding.count as f64);
            if let Some(error) = &finding.example_error {
                seen = seen.with_fact(format!("error: {error}"));
            }
            if report.scanner_requests > 0 {
                seen = seen.with_fact(format!(
                    "{} scanner requests in the same window were ignored",
                    report.scanner_requests
                ));
            }
            seen
        })
        .collect();

    for (prefix, open) in [(ACCESS, &state.access), (APP, &state.app)] {
        if let Some(open) = open
            && let Err(error) = open.save(&spec.name, prefix, ctx).await
        {
            return Evaluation::Blind(error);
        }
    }
    let book = classifier.route_book();
    if book.learned() != state.routes_saved {
        let saved = match book.to_json() {
            Ok(json) => {
                Memory::of(ctx, &spec.name)
                    .save_text("", "routes", &json)
                    .await
            }
            Err(error) => Err(store_failure(error)),
        };
        match saved {
            Ok(()) => state.routes_saved = book.learned(),
            Err(error) => return Evaluation::Blind(error),
        }
    }
    Evaluation::Complete(observations)
}

/// An app log line as an error event: its time and request id when it carries them (JSON
/// fields, or `request_id=...` in plain text). A JSON line's text is its fields as they read
/// ([`json_text`]), so the error it carries is recognised whatever JSON escaped in it.
fn app_event(line: &LogLine) -> ErrorEvent {
    let text = line.line.trim();
    let mut time = line.at.as_deref().and_then(parse_time);
    let mut request_id = None;
    let mut readable = None;
    if text.starts_with('{')
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text)
    {
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| map.get(*n))
                .and_then(|v| v.as_str().map(str::to_string))
        };
        time = time.or_else(|| {
            field(&["time", "timestamp", "ts", "@timestamp"])
                .as_deref()
                .and_then(parse_time)
        });
        request_id = field(&[
            "request_id",
            "req_id",
            "requestId",
            "x_request_id",
            "trace_id",
        ]);
        readable = Some(json_text(&map));
    }
    if request_id.is_none() {
        request_id = plain_request_id(text);
    }
    ErrorEvent {
        time,
        text: readable.unwrap_or_else(|| text.to_string()),
        request_id,
    }
}

/// Fields of a JSON line that say when and how severe, left out of its text.
const JSON_STAMP_FIELDS: &[&str] = &[
    "time",
    "timestamp",
    "ts",
    "@timestamp",
    "level",
    "lvl",
    "severity",
];

/// A JSON log line as text: its message first, then every other field as `key=value`, strings
/// as they read (`err=strconv.ParseInt: parsing "x": invalid syntax`, not the escaped form).
fn json_text(map: &serde_json::Map<String, serde_json::Value>) -> String {
    let message = ["msg", "message"]
        .iter()
        .find(|key| map.get(**key).is_some_and(serde_json::Value::is_string));
    let mut parts: Vec<String> = message
        .and_then(|key| map.get(*key))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    for (key, value) in map {
        if Some(&key.as_str()) == message || JSON_STAMP_FIELDS.contains(&key.as_str()) {
            continue;
        }
        match value {
            serde_json::Value::String(text) => parts.push(format!("{key}={text}")),
            serde_json::Value::Null => {}
            other => parts.push(format!("{key}={other}")),
        }
    }
    parts.join(" ")
}

fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    crate::source::sql::values::parse_time(text).map(|at| at.fixed_offset())
}

/// `request_id=abc`, `req_id: abc`, `[request_id abc]` in a plain line.
fn plain_request_id(text: &str) -> Option<String> {
    for key in ["request_id", "req_id", "request-id", "requestId"] {
        if let Some(at) = text.find(key) {
            let rest = text[at + key.len()..].trim_start_matches([' ', '=', ':', '"', '\'']);
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if !id.is_empty() {
                return Some(id);
            }
        }
    }
    None
}

impl Watch for ErrorClassSpec {
    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(async move {
            match ctx.states.of::<State>(&spec.name).await {
                Ok(mut state) => evaluate(spec, self, ctx, &mut state).await,
                Err(error) => Evaluation::Blind(error),
            }
        })
    }

    fn blind_label(&self) -> Option<String> {
        Some(self.access_log.source_label())
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn describe(&self, _hold: &str) -> String {
        format!(
            "bad input answered with 5xx, {}+ requests in {} per route",
            self.min_count,
            crate::humanize::duration(self.window)
        )
    }

    fn replay(&self, _sources: &[crate::config::SourceSpec]) -> Replay {
        let feeds: Vec<&LogFeed> = std::iter::once(&self.access_log)
            .chain(self.app_log.as_ref())
            .collect();
        super::log_feed::replay(&feeds)
    }

    fn files(&self) -> Vec<WatchedFiles<'_>> {
        self.access_log
            .files()
            .into_iter()
            .chain(self.app_log.as_ref().and_then(LogFeed::files))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, at: Option<&str>) -> LogLine {
        LogLine {
            path: "app.log".into(),
            offset: 0,
            line: text.to_string(),
            level: None,
            at: at.map(str::to_string),
            truncated: false,
            history: false,
        }
    }

    #[test]
    fn app_lines_give_their_time_and_request_id() {
        let plain = app_event(&line(
            "2026-11-28T04:00:01Z ERROR request_id=9f8e7d invalid input syntax for type uuid: \"abc\"",
            Some("2026-11-28T04:00:01Z"),
        ));
        assert_eq!(plain.request_id.as_deref(), Some("9f8e7d"));
        assert_eq!(
            plain.time.map(|t| t.to_rfc3339()),
            Some("2026-11-28T04:00:01+00:00".to_string())
        );
        let json = app_event(&line(
            r#"{"ts":"2026-11-28T04:00:02Z","level":"error","req_id":"r-1","msg":"boom"}"#,
            None,
        ));
        assert_eq!(json.request_id.as_deref(), Some("r-1"));
        assert!(json.time.is_some());
        let bare = app_event(&line("ERROR boom", None));
        assert_eq!((bare.request_id, bare.time), (None, None));
    }

    #[test]
    fn a_json_line_reads_as_its_fields_so_an_escaped_error_is_recognised() {
        let event = app_event(&line(
            r#"{"time":"2026-11-28T04:00:02.120Z","level":"ERROR","msg":"request failed","path":"/api/v2/invoices/undefined/pdf","status":500,"err":"strconv.ParseInt: parsing \"undefined\": invalid syntax"}"#,
            None,
        ));
        assert_eq!(
            event.text,
            r#"request failed err=strconv.ParseInt: parsing "undefined": invalid syntax path=/api/v2/invoices/undefined/pdf status=500"#
        );
        assert!(event.time.is_some());
        let failure = crate::logs::client_input::client_input_failure(&event.text).unwrap();
        assert_eq!(failure.label, "strconv.ParseInt: invalid syntax");
        let no_message = app_event(&line(r#"{"level":"error","error":"boom"}"#, None));
        assert_eq!(no_message.text, "error=boom");
    }
}

//! `error_class`: bad client input answered with a server error. Follows the access log (and
//! the app's log, whose errors say why a request failed), feeds both to the classifier in
//! [`core`], and pages per route once `min_count` bad-input 5xx happened within `window`.
//! Scanner noise (probes for paths the app never served) is excluded and only counted. How
//! far each log was read and the routes the app serves survive restarts (the store), so a
//! malformed id is recognised as one right after a restart too.

pub mod core;

use super::WatchContext;
use super::observation::{Evaluation, Observation};
use crate::config::{ErrorClassSpec, WatchSpec};
use crate::logs::access::parse_access_line;
use crate::logs::route::RouteBook;
use crate::source::logfile::{LogLine, LogTail, Offsets, TailOptions};
use crate::source::{SourceError, SourceErrorKind, files};
use chrono::{DateTime, FixedOffset};
use core::{ErrorClassConfig, ErrorClassifier, ErrorEvent};

/// One followed log: its tail and how far it was read.
struct Followed {
    tail: LogTail,
    offsets: Offsets,
    /// The store key of the offsets.
    key: &'static str,
}

/// What the watch keeps between evaluations.
#[derive(Default)]
pub struct State {
    access: Option<Followed>,
    app: Option<Followed>,
    classifier: Option<ErrorClassifier>,
    /// How much of the route book the store holds (see [`RouteBook::learned`]).
    routes_saved: u64,
}

/// The classifier, with the routes a previous run learned (a damaged copy starts over).
async fn classifier(
    spec: &WatchSpec,
    error_class: &ErrorClassSpec,
    ctx: &WatchContext<'_>,
) -> Result<(ErrorClassifier, u64), String> {
    let mut classifier = ErrorClassifier::new(ErrorClassConfig {
        window: error_class.window,
        min_count: usize::try_from(error_class.min_count).unwrap_or(usize::MAX),
        ..ErrorClassConfig::default()
    });
    let saved = ctx
        .store
        .baseline(&spec.name, "", "routes")
        .await
        .map_err(|e| e.to_string())?;
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

fn blind(pattern: &str, detail: impl Into<String>) -> Evaluation {
    Evaluation::Blind(SourceError::new(
        &files::source_name(pattern),
        SourceErrorKind::Unreachable,
        detail,
    ))
}

async fn follow(
    spec: &WatchSpec,
    pattern: &str,
    key: &'static str,
    ctx: &WatchContext<'_>,
) -> Result<Followed, String> {
    let offsets = match ctx
        .store
        .baseline(&spec.name, "", key)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(json) => Offsets::from_json(&json).unwrap_or_default(),
        None => Offsets::default(),
    };
    let options = TailOptions {
        start_at_end: false,
        ..TailOptions::default()
    };
    let tail = LogTail::new(pattern, options).map_err(|e| e.to_string())?;
    Ok(Followed { tail, offsets, key })
}

/// New lines of a followed log, read off the async threads.
async fn poll(followed: Followed) -> (Option<Followed>, Result<Vec<LogLine>, String>) {
    let joined = tokio::task::spawn_blocking(move || {
        let mut followed = followed;
        let result = followed.tail.poll(&mut followed.offsets);
        (followed, result)
    })
    .await;
    match joined {
        Ok((followed, result)) => (Some(followed), result.map_err(|e| e.to_string())),
        Err(join) => (None, Err(join.to_string())),
    }
}

async fn save(spec: &WatchSpec, followed: &Followed, ctx: &WatchContext<'_>) -> Result<(), String> {
    let json = followed.offsets.to_json().map_err(|e| e.to_string())?;
    ctx.store
        .set_baseline(&spec.name, "", followed.key, &json, ctx.now)
        .await
        .map_err(|e| e.to_string())
}

pub async fn evaluate(
    spec: &WatchSpec,
    error_class: &ErrorClassSpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Evaluation {
    let access_pattern = &error_class.access_log;
    for pattern in std::iter::once(access_pattern).chain(error_class.app_log.as_ref()) {
        if let Err(error) = files::require_some(pattern) {
            return Evaluation::Blind(error);
        }
    }
    if state.access.is_none() {
        match follow(spec, access_pattern, "access_offsets", ctx).await {
            Ok(followed) => state.access = Some(followed),
            Err(detail) => return blind(access_pattern, detail),
        }
    }
    if let Some(app_pattern) = &error_class.app_log
        && state.app.is_none()
    {
        match follow(spec, app_pattern, "app_offsets", ctx).await {
            Ok(followed) => state.app = Some(followed),
            Err(detail) => return blind(app_pattern, detail),
        }
    }
    if state.classifier.is_none() {
        match classifier(spec, error_class, ctx).await {
            Ok((fresh, learned)) => {
                state.classifier = Some(fresh);
                state.routes_saved = learned;
            }
            Err(detail) => return blind(access_pattern, detail),
        }
    }
    let Some(classifier) = state.classifier.as_mut() else {
        return blind(access_pattern, "classifier unavailable");
    };

    // The app's errors first, so a 5xx finds the error that explains it.
    if let (Some(app_pattern), Some(app)) = (&error_class.app_log, state.app.take()) {
        let (app, lines) = poll(app).await;
        state.app = app;
        match lines {
            Ok(lines) => {
                for line in &lines {
                    classifier.observe_error(&app_event(line));
                }
            }
            Err(detail) => return blind(app_pattern, detail),
        }
    }
    let Some(access) = state.access.take() else {
        return blind(access_pattern, "access log unavailable");
    };
    let (access, lines) = poll(access).await;
    state.access = access;
    match lines {
        Ok(lines) => {
            for line in &lines {
                if let Some(record) = parse_access_line(&line.line, error_class.access_format) {
                    classifier.observe_access(&record);
                }
            }
        }
        Err(detail) => return blind(access_pattern, detail),
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

    for followed in [&state.access, &state.app].into_iter().flatten() {
        if let Err(detail) = save(spec, followed, ctx).await {
            return blind(access_pattern, detail);
        }
    }
    let book = classifier.route_book();
    if book.learned() != state.routes_saved {
        let saved = match book.to_json() {
            Ok(json) => ctx
                .store
                .set_baseline(&spec.name, "", "routes", &json, ctx.now)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match saved {
            Ok(()) => state.routes_saved = book.learned(),
            Err(detail) => return blind(access_pattern, detail),
        }
    }
    Evaluation::Complete(observations)
}

/// An app log line as an error event: its time and request id when it carries them (JSON
/// fields, or `request_id=...` in plain text).
fn app_event(line: &LogLine) -> ErrorEvent {
    let text = line.line.trim();
    let mut time = line.at.as_deref().and_then(parse_time);
    let mut request_id = None;
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
    }
    if request_id.is_none() {
        request_id = plain_request_id(text);
    }
    ErrorEvent {
        time,
        text: text.to_string(),
        request_id,
    }
}

fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    super::sql_values::parse_time(text).map(|at| at.fixed_offset())
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
}

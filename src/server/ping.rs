//! The ping API, compatible with healthchecks.io: `/ping/<token>` (success), `/start`,
//! `/fail`, `/log`, `/<exit status 0-255>`, by GET, POST or HEAD, with an optional `?rid=`
//! run id. A POSTed body is kept as the run's output (size-capped: larger bodies get 413).
//! Existing cron scripts work by changing only the base URL.

use super::AppState;
use super::guard::ClientAddr;
use crate::store::heartbeats::{Ping, PingKind};
use crate::telemetry::PingLabels;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// Parses the action segment of `/ping/<token>/<action>`.
pub(crate) fn parse_action(action: &str) -> Result<PingKind, String> {
    match action {
        "start" => Ok(PingKind::Start),
        "fail" => Ok(PingKind::Fail(None)),
        "log" => Ok(PingKind::Log),
        digits
            if !digits.is_empty()
                && digits.len() <= 3
                && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            match digits.parse::<u16>() {
                Ok(0) => Ok(PingKind::Success),
                Ok(code) if code <= 255 => Ok(PingKind::Fail(u8::try_from(code).ok())),
                _ => Err(format!("exit status {digits} is out of range: use 0-255")),
            }
        }
        other => Err(format!(
            "unknown ping action {other:?}: use start, fail, log or an exit status 0-255"
        )),
    }
}

pub(crate) async fn success(
    State(state): State<AppState>,
    method: Method,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    body: Bytes,
) -> Response {
    record(
        state,
        method,
        &token,
        Ok(PingKind::Success),
        query,
        client.to_string(),
        body,
    )
    .await
}

pub(crate) async fn with_action(
    State(state): State<AppState>,
    method: Method,
    Path((token, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    body: Bytes,
) -> Response {
    record(
        state,
        method,
        &token,
        parse_action(&action),
        query,
        client.to_string(),
        body,
    )
    .await
}

async fn record(
    state: AppState,
    method: Method,
    token: &str,
    kind: Result<PingKind, String>,
    query: HashMap<String, String>,
    remote: String,
    body: Bytes,
) -> Response {
    if !matches!(method, Method::GET | Method::POST | Method::HEAD) {
        state.metrics.reject("method_not_allowed");
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [("allow", "GET, POST, HEAD")],
            "use GET, POST or HEAD\n",
        )
            .into_response();
    }
    let Some(watch) = state.tokens.get(token) else {
        state.metrics.unknown_pings.inc();
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let kind = match kind {
        Ok(kind) => kind,
        Err(message) => {
            state.metrics.reject("bad_request");
            return (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response();
        }
    };
    let run_id = query
        .get("rid")
        .filter(|rid| rid.len() <= 64 && rid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .cloned();
    let ping = Ping {
        kind,
        at: state.clock.now(),
        remote,
        body: String::from_utf8_lossy(&body).into_owned(),
        run_id,
    };
    match state.store.record_ping(watch, &ping).await {
        Ok(()) => {
            let kind_name = match kind {
                PingKind::Success => "success",
                PingKind::Start => "start",
                PingKind::Fail(_) => "fail",
                PingKind::Log => "log",
            };
            state
                .metrics
                .pings
                .get_or_create(&PingLabels {
                    kind: kind_name.to_string(),
                })
                .inc();
            (StatusCode::OK, "OK").into_response()
        }
        Err(error) => {
            tracing::error!(watch, "could not record ping: {error}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not record the ping, try again\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_exit_statuses_parse_like_healthchecks() {
        assert_eq!(parse_action("start"), Ok(PingKind::Start));
        assert_eq!(parse_action("fail"), Ok(PingKind::Fail(None)));
        assert_eq!(parse_action("log"), Ok(PingKind::Log));
        assert_eq!(parse_action("0"), Ok(PingKind::Success));
        assert_eq!(parse_action("1"), Ok(PingKind::Fail(Some(1))));
        assert_eq!(parse_action("255"), Ok(PingKind::Fail(Some(255))));
        assert!(parse_action("256").is_err());
        assert!(parse_action("-1").is_err());
        assert!(parse_action("1000").is_err());
        assert!(parse_action("restart").is_err());
    }
}

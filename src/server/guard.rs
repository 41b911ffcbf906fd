//! The intake's gate in front of every route: who the client is (the peer, or whom a trusted
//! proxy names), whether its budgets allow the request (429 if not, before any work), the body
//! read within its size and time limits, and, once answered, a failure (4xx) charged to the
//! client's failure budget (a success gives back what it reserved). Pings with a known token and `/healthz` are valid work: a client's
//! failures never refuse them.

use super::body;
use super::client::{ClientKey, TrustedProxies};
use super::limiter::{Limiter, Refusal, Work};
use crate::telemetry::Metrics;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The client a request was admitted for, as the handlers see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub IpAddr);

/// What the gate needs.
#[derive(Clone)]
pub(crate) struct Gate {
    pub limiter: Arc<Limiter>,
    pub proxies: TrustedProxies,
    pub metrics: Arc<Metrics>,
    /// Ping token -> heartbeat watch name: a ping with one of these is valid work.
    pub tokens: Arc<HashMap<String, String>>,
    pub max_body: usize,
    pub body_timeout: Duration,
    /// Seconds a client that spent its failure budget should wait for one more failure.
    pub failure_retry_after: u64,
}

impl Gate {
    fn work(&self, path: &str) -> Work {
        if path == "/healthz" {
            return Work::Valid;
        }
        let token = path
            .strip_prefix("/ping/")
            .map(|rest| rest.split('/').next().unwrap_or(rest));
        match token {
            Some(token) if self.tokens.contains_key(token) => Work::Valid,
            _ => Work::Other,
        }
    }

    fn refuse(&self, refusal: Refusal) -> Response {
        self.metrics.reject(refusal.reason());
        let (retry_after, text) = match refusal {
            Refusal::RateLimited => (1, "too many requests\n"),
            Refusal::TooManyFailures => (
                self.failure_retry_after,
                "too many failed requests from this address; fix the token or credentials and retry later\n",
            ),
        };
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after.to_string())],
            text,
        )
            .into_response()
    }
}

/// The middleware: admit, read the body, run the route, charge a failure.
pub(crate) async fn admit(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let client = gate.proxies.client_of(peer, request.headers());
    let key = ClientKey::of(client);
    let work = gate.work(request.uri().path());
    let admission = match gate.limiter.admit(key, work, Instant::now()) {
        Ok(admission) => admission,
        Err(refusal) => return gate.refuse(refusal),
    };
    let (mut parts, incoming) = request.into_parts();
    let response =
        match body::read(&parts.headers, incoming, gate.max_body, gate.body_timeout).await {
            Ok(bytes) => {
                parts.extensions.insert(ClientAddr(client));
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
            Err(unread) => {
                gate.metrics.reject(unread.reason());
                unread.response(gate.max_body, gate.body_timeout)
            }
        };
    let failed = response.status().is_client_error();
    gate.limiter.settle(admission, failed, Instant::now());
    response
}

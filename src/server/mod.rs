//! Sentinel's HTTP server: the healthchecks.io-compatible ping API, Alertmanager's webhook
//! (`/hooks/alertmanager`), `/healthz` and `/metrics`.
//! Listens on loopback unless configured otherwise; every route has a body-size limit and a
//! rate limit.

pub mod alertmanager;
pub mod ping;
mod rate_limit;

use crate::clock::SharedClock;
use crate::config::{Config, WatchSpecKind};
use crate::store::Store;
use crate::telemetry::Metrics;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use std::collections::HashMap;
use std::sync::Arc;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub clock: SharedClock,
    /// Ping token -> heartbeat watch name.
    pub tokens: Arc<HashMap<String, String>>,
    pub max_body: usize,
    /// Where Alertmanager's webhook delivers, when an `alertmanager` watch is configured.
    pub alertmanager: Option<Arc<alertmanager::Hook>>,
}

impl AppState {
    pub fn new(config: &Config, store: Store, metrics: Arc<Metrics>, clock: SharedClock) -> Self {
        let tokens = config
            .watches
            .iter()
            .filter_map(|w| match &w.kind {
                WatchSpecKind::Heartbeat(h) => Some((h.token.clone(), w.name.clone())),
                _ => None,
            })
            .collect();
        Self {
            store,
            metrics,
            clock,
            tokens: Arc::new(tokens),
            max_body: config.server.max_body,
            alertmanager: alertmanager::Hook::from_config(config).map(Arc::new),
        }
    }
}

/// The application's routes.
pub fn router(state: AppState, rate_limit_per_second: u32) -> Router {
    let limiter = rate_limit::RateLimiter::new(rate_limit_per_second);
    Router::new()
        .route("/ping/{token}", any(ping::success))
        .route("/ping/{token}/{action}", any(ping::with_action))
        .route("/hooks/alertmanager", post(alertmanager::receive))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(state.max_body))
        .layer(axum::middleware::from_fn_with_state(
            (limiter, state.metrics.clone()),
            rate_limit::limit,
        ))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(state.store.reader())
        .await
    {
        Ok(_) => (StatusCode::OK, "ok\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n"),
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(depth) = state.store.outbox_depth().await {
        state.metrics.outbox_depth.set(depth);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// Binds the listener; a clear error when the address is taken.
pub async fn bind(addr: std::net::SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}; set [server] listen to a free address"))
}

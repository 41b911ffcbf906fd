//! Sentinel's HTTP server: the healthchecks.io-compatible ping API, Alertmanager's webhook
//! (`/hooks/alertmanager`), Stripe's dispute webhook (`/hooks/stripe`), `/healthz` and
//! `/metrics`.
//! Listens on loopback unless configured otherwise. Every route sits behind the intake's gate
//! (per-client request and failure budgets, body size and time limits); connections are served
//! by [`serve`] with header, idle and connection-count limits.

pub(crate) mod alertmanager;
pub(crate) mod body;
pub mod client;
pub(crate) mod connection;
pub(crate) mod guard;
pub mod limiter;
pub(crate) mod ping;
pub(crate) mod serve;
pub(crate) mod stripe;
pub(crate) mod stripe_signature;

use crate::clock::SharedClock;
use crate::config::{Config, ServerConfig, StripeConfig, WatchSpecKind};
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
    /// What Stripe's dispute webhook checks, when a `[stripe]` section is configured.
    pub stripe: Option<Arc<StripeConfig>>,
    /// The `[server]` limits: budgets, trusted proxies, timeouts.
    pub limits: Arc<ServerConfig>,
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
            stripe: config.stripe.clone().map(Arc::new),
            limits: Arc::new(config.server.clone()),
        }
    }
}

/// The application's routes behind the intake's gate; each client may make
/// `rate_limit_per_second` requests a second.
pub fn router(state: AppState, rate_limit_per_second: u32) -> Router {
    let limits = &state.limits;
    let limiter = limiter::Limiter::new(limiter::Budgets {
        requests_per_second: rate_limit_per_second,
        failures_per_minute: limits.failure_limit_per_minute,
        failure_burst: limits.failure_burst,
        max_clients: limits.max_clients,
    });
    let gate = guard::Gate {
        limiter: Arc::new(limiter),
        proxies: client::TrustedProxies::new(limits.trusted_proxies.clone()),
        metrics: state.metrics.clone(),
        tokens: state.tokens.clone(),
        max_body: state.max_body,
        body_timeout: limits.body_timeout,
        failure_retry_after: 60_u64.div_ceil(u64::from(limits.failure_limit_per_minute.max(1))),
    };
    Router::new()
        .route("/ping/{token}", any(ping::success))
        .route("/ping/{token}/{action}", any(ping::with_action))
        .route("/hooks/alertmanager", post(alertmanager::receive))
        .route("/hooks/stripe", post(stripe::receive))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(state.max_body))
        .layer(axum::middleware::from_fn_with_state(gate, guard::admit))
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

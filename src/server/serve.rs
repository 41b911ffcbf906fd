//! Accepting connections: at most `max_connections` are served at once (more wait in the
//! listen queue, and idle kept-alive connections give way to them), each with the header and
//! idle timeouts of [`connection`](super::connection). On shutdown the listener closes, every
//! connection finishes the request in hand, and `serve` returns when all are gone.

use super::connection::{self, Signals, Timeouts};
use crate::config::ServerConfig;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

/// How many connections, and how long each may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    pub max_connections: usize,
    pub timeouts: Timeouts,
}

impl ConnectionLimits {
    pub(crate) fn from_config(server: &ServerConfig) -> Self {
        Self {
            max_connections: server.max_connections.max(1),
            timeouts: Timeouts {
                header: server.header_timeout,
                idle: server.idle_timeout,
            },
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let pressure = Arc::new(Notify::new());
    let (closing, closing_seen) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match wait_for_a_slot(&permits, &pressure, &mut shutdown).await {
                Some(permit) => permit,
                None => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: give the system a moment.
                    tracing::warn!("cannot accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let signals = Signals {
            closing: closing_seen.clone(),
            pressure: pressure.clone(),
        };
        let router = router.clone();
        tokio::spawn(async move {
            connection::serve(stream, peer, router, limits.timeouts, signals).await;
            drop(permit);
        });
    }
    drop(listener);
    drop(closing_seen);
    let _ = closing.send(true);
    closing.closed().await;
}

/// At the cap: asks idle connections to give way (again every quarter second, in case one
/// was between checks) until a slot frees or the server shuts down.
async fn wait_for_a_slot(
    permits: &Arc<Semaphore>,
    pressure: &Notify,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Option<OwnedSemaphorePermit> {
    loop {
        pressure.notify_waiters();
        tokio::select! {
            () = shutdown.as_mut() => return None,
            permit = permits.clone().acquire_owned() => return permit.ok(),
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

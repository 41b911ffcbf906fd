//! `sentinel run`: the daemon. Loads the configuration (nothing starts if it is wrong), takes
//! the store, serves the ping API and metrics, runs the approved investigations beside the
//! watch loop, and runs the loop until SIGTERM/SIGINT.

use super::{cannot_run, load_config};
use crate::clock::{SharedClock, SystemClock};
use crate::engine::{self, build};
use crate::evidence::runner::EvidenceRunner;
use crate::investigate::runner::Runner;
use crate::investigate::telegram::ChatReports;
use crate::server::{self, AppState};
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

pub async fn run(path: &Path) -> i32 {
    serve(path).await.unwrap_or_else(|code| code)
}

async fn serve(path: &Path) -> Result<i32, i32> {
    let config = load_config(path)?;
    build::judge_roles(&config, None)
        .await
        .map_err(cannot_run)?;
    let store = Store::open_exclusive(&config.store.path)
        .await
        .map_err(cannot_run)?;
    let listener = server::bind(config.server.listen)
        .await
        .map_err(cannot_run)?;
    let clock: SharedClock = Arc::new(SystemClock);
    let channels = build::channels(&config, &store, &clock).map_err(cannot_run)?;
    let chat = build::chat(&config, &channels).await.map_err(cannot_run)?;
    let rate = config.server.rate_limit_per_second;
    let limits = server::serve::ConnectionLimits::from_config(&config.server);
    let listen = config.server.listen;
    let watches = config.watches.len();
    let engine =
        build::engine(config, store.clone(), clock.clone(), channels).map_err(cannot_run)?;
    let state = AppState::new(engine.config(), store, engine.metrics().clone(), clock);
    let app = server::router(state, rate);
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::serve::serve(listener, app, limits, async move {
        let _ = server_stopped.await;
    }));
    tracing::info!("sentinel watching {watches} watches; pings at http://{listen}/ping/<token>");
    // On a signal: stop taking pings first, then let the engine finish and close the store.
    let (stop_engine, engine_stopped) = tokio::sync::oneshot::channel::<()>();
    let reports = chat.as_ref().map(|bot| ChatReports {
        channel: bot.channel.clone(),
    });
    let (stop_investigations, investigations_stopped) = tokio::sync::oneshot::channel::<()>();
    let investigations = tokio::spawn(Runner::new(engine.clone(), reports).run_until(async {
        let _ = investigations_stopped.await;
    }));
    let (stop_evidence, evidence_stopped) = tokio::sync::oneshot::channel::<()>();
    let evidence = tokio::spawn(
        EvidenceRunner::new(engine.clone(), chat.as_ref().map(|bot| bot.channel.clone()))
            .run_until(async {
                let _ = evidence_stopped.await;
            }),
    );
    let chat = chat.map(|bot| tokio::spawn(bot.run()));
    tokio::spawn(async move {
        shutdown_signal().await;
        if let Some(chat) = chat {
            chat.abort();
        }
        let _ = stop_investigations.send(());
        let _ = investigations.await;
        let _ = stop_evidence.send(());
        let _ = evidence.await;
        let _ = stop_server.send(());
        let _ = server.await;
        let _ = stop_engine.send(());
    });
    engine::run_until_shutdown(engine, async {
        let _ = engine_stopped.await;
    })
    .await;
    Ok(0)
}

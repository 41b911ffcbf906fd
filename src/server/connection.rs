//! One HTTP/1 connection and how long it may linger. A connection is either busy (a request is
//! being answered: its body is bounded by the gate's body timeout) or waiting for a request:
//! from its first byte, the request's headers must be complete within `header_timeout`; with no
//! byte yet, a kept-alive connection may idle for `idle_timeout` (a new one only for
//! `header_timeout`). A watchdog closes the connection when its deadline passes, and at once
//! when it idles while the server is at its connection cap.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// How long a connection may take and idle.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub header: Duration,
    pub idle: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request since `since`; `first_byte` once one of its bytes arrived.
    Waiting {
        since: Instant,
        first_byte: Option<Instant>,
    },
    Busy,
}

/// Where a connection is, and when it must be closed.
#[derive(Debug)]
pub(crate) struct Activity {
    timeouts: Timeouts,
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Activity {
    /// A connection accepted at `now`: its first request's headers are due within the header
    /// timeout.
    pub(crate) fn accepted(timeouts: Timeouts, now: Instant) -> Self {
        Self {
            timeouts,
            phase: Mutex::new(Phase::Waiting {
                since: now,
                first_byte: Some(now),
            }),
            changed: Notify::new(),
        }
    }

    fn set(&self, change: impl FnOnce(&mut Phase)) {
        let mut phase = self
            .phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = *phase;
        change(&mut phase);
        if *phase != before {
            self.changed.notify_waiters();
        }
    }

    fn phase(&self) -> Phase {
        *self
            .phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes were read from the client.
    pub(crate) fn bytes_arrived(&self, now: Instant) {
        self.set(|phase| {
            if let Phase::Waiting { first_byte, .. } = phase
                && first_byte.is_none()
            {
                *first_byte = Some(now);
            }
        });
    }

    /// A request's headers are complete; it is being answered.
    pub(crate) fn busy(&self) {
        self.set(|phase| *phase = Phase::Busy);
    }

    /// The answer is out; the connection waits for the next request.
    pub(crate) fn answered(&self, now: Instant) {
        self.set(|phase| {
            *phase = Phase::Waiting {
                since: now,
                first_byte: None,
            }
        });
    }

    /// Whether the connection is between requests with nothing of the next one yet.
    pub(crate) fn idle(&self) -> bool {
        matches!(
            self.phase(),
            Phase::Waiting {
                first_byte: None,
                ..
            }
        )
    }

    /// When the connection must be closed, if it stays as it is.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.phase() {
            Phase::Waiting {
                first_byte: Some(at),
                ..
            } => Some(at + self.timeouts.header),
            Phase::Waiting { since, .. } => Some(since + self.timeouts.idle),
            Phase::Busy => None,
        }
    }

    /// Resolves once the deadline has passed.
    async fn expired(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.deadline() {
                None => changed.await,
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline.into()) => {}
                        () = changed => {}
                    }
                }
            }
        }
    }
}

/// The socket, noting when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_arrived(Instant::now());
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// What a connection listens to besides its client.
pub(crate) struct Signals {
    /// Changes once, when the server shuts down: finish the request in hand, then close.
    pub closing: watch::Receiver<bool>,
    /// Notified when the server is at its connection cap: close if idle.
    pub pressure: Arc<Notify>,
}

/// Serves `stream` until the client leaves, a deadline passes, or the server shuts down.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    mut signals: Signals,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::accepted(timeouts, Instant::now()));
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        service_activity.busy();
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        let activity = service_activity.clone();
        let answer = router.clone().oneshot(request);
        async move {
            let response = answer.await;
            activity.answered(Instant::now());
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        let pressure = signals.pressure.notified();
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, "connection ended: {error}");
                }
                return;
            }
            changed = signals.closing.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
            () = activity.expired() => {
                tracing::debug!(%peer, "connection closed: too slow or idle too long");
                return;
            }
            () = pressure => {
                if activity.idle() {
                    tracing::debug!(%peer, "idle connection closed: at the connection cap");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        idle: Duration::from_secs(60),
    };

    #[test]
    fn a_new_connection_has_the_header_timeout_from_its_accept() {
        let start = Instant::now();
        let activity = Activity::accepted(TIMEOUTS, start);
        assert_eq!(activity.deadline(), Some(start + TIMEOUTS.header));
        assert!(!activity.idle());
        activity.bytes_arrived(start + Duration::from_secs(5));
        assert_eq!(
            activity.deadline(),
            Some(start + TIMEOUTS.header),
            "slow bytes do not extend the header deadline"
        );
    }

    #[test]
    fn a_busy_connection_has_no_deadline_and_an_answered_one_may_idle() {
        let start = Instant::now();
        let activity = Activity::accepted(TIMEOUTS, start);
        activity.busy();
        assert_eq!(activity.deadline(), None);
        activity.bytes_arrived(start + Duration::from_secs(1));
        assert_eq!(activity.deadline(), None, "body bytes change nothing");
        let answered = start + Duration::from_secs(2);
        activity.answered(answered);
        assert!(activity.idle());
        assert_eq!(activity.deadline(), Some(answered + TIMEOUTS.idle));
        let next = answered + Duration::from_secs(30);
        activity.bytes_arrived(next);
        assert!(!activity.idle());
        assert_eq!(
            activity.deadline(),
            Some(next + TIMEOUTS.header),
            "the next request's headers are due from its first byte"
        );
    }
}

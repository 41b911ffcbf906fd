//! The queue of investigations, beside the evaluation loop: approved requests are taken
//! oldest first, at most `[investigator] concurrency` at once, each in a task of its own, so
//! the loop never waits for one. Requests left running by a stop or a crash go back to the
//! head of the queue at start. The chat side ([`super::telegram`]) shows progress and the
//! report when a Telegram channel is configured.

use super::conduct::{Progress, conduct};
use super::telegram::ChatReports;
use crate::engine::Engine;
use crate::store::operator::InvestigationRequest;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

/// How often the queue is looked at when nothing rang.
const QUEUE_POLL: Duration = Duration::from_secs(2);

/// How often a progress message may be edited.
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// Runs investigations from the queue.
#[derive(Clone)]
pub struct Runner {
    engine: Engine,
    chat: Option<ChatReports>,
    permits: Arc<Semaphore>,
    wake: Arc<Notify>,
}

impl Runner {
    pub fn new(engine: Engine, chat: Option<ChatReports>) -> Self {
        let concurrency = engine.config().investigator.concurrency.max(1);
        Self {
            engine,
            chat,
            permits: Arc::new(Semaphore::new(concurrency)),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Makes the runner look at the queue now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Requeues interrupted requests, then runs the queue until `shutdown` resolves;
    /// investigations still running then are stopped, stay `running` in the store, and go
    /// back to the head of the queue at the next start.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) {
        match self
            .engine
            .store()
            .requeue_interrupted_investigations()
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} interrupted investigations requeued"),
            Err(error) => tracing::error!("could not requeue interrupted investigations: {error}"),
        }
        tokio::pin!(shutdown);
        let mut running = JoinSet::new();
        loop {
            self.take_waiting(&mut running).await;
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(QUEUE_POLL) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        running.abort_all();
    }

    /// Starts as many waiting requests as there are free places.
    async fn take_waiting(&self, running: &mut JoinSet<()>) {
        loop {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                return;
            };
            let request = match self
                .engine
                .store()
                .claim_investigation(self.engine.now())
                .await
            {
                Ok(Some(request)) => request,
                Ok(None) => return,
                Err(error) => {
                    tracing::error!("could not take an investigation from the queue: {error}");
                    return;
                }
            };
            let runner = self.clone();
            running.spawn(async move {
                let _permit = permit;
                runner.investigate(request).await;
            });
        }
    }

    /// Runs one claimed request, with its progress and report in the chat.
    pub async fn investigate(&self, request: InvestigationRequest) {
        tracing::info!(
            request = request.id,
            "investigation started: {}",
            request.question
        );
        let started = tokio::time::Instant::now();
        let progress = Progress::default();
        let message = match &self.chat {
            Some(chat) => chat.start(&request).await,
            None => None,
        };
        let work = conduct(&self.engine, request.clone(), &progress);
        tokio::pin!(work);
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                () = tokio::time::sleep(PROGRESS_EVERY) => {
                    if let (Some(chat), Some(message)) = (&self.chat, message) {
                        chat.update(message, &request, &progress.snapshot(), started.elapsed()).await;
                    }
                }
            }
        };
        match (result, &self.chat) {
            (Ok(report), Some(chat)) => {
                tracing::info!(
                    request = request.id,
                    "investigation done: {}",
                    report.finding.verdict
                );
                if let Err(error) = chat.finish(message, &request, &report).await {
                    tracing::warn!(
                        request = request.id,
                        "telegram: the report was not sent ({error}); `sentinel investigations show {}` prints it",
                        request.id
                    );
                }
            }
            (Ok(report), None) => {
                tracing::info!(
                    request = request.id,
                    "investigation done: {}",
                    report.finding.verdict
                );
            }
            (Err(error), Some(chat)) => chat.failed(message, &request, &error.to_string()).await,
            (Err(_), None) => {}
        }
    }
}

//! `new_error`: an error nobody has seen before just showed up on a log source. Error events
//! (error-level lines, stack traces folded into one event, configured patterns) are mined into
//! templates; a template never seen on that source pages once it has occurred `min_count` times
//! within `window`. What the log already held when the watch was first attached is learned,
//! not paged: old errors that keep occurring never page. Everything written after attachment is
//! judged from the first minute, so a fault that begins right after a first install still
//! pages. A file's history is what it held at first sight (its length then, kept with the
//! offsets); a line from Loki or the journal, which stamp every line themselves, is history when
//! stamped before attachment, however late it is read. Times written in a file's text are not
//! trusted for this: an app whose clock or zone is off would otherwise silence new errors for
//! hours. Once the history is read the log says so, once. What the miner knows survives
//! restarts (store). A backtest has nothing but those written times: it replays a file's lines
//! by them, and what was written before the replay's learning moment is the history.

mod code;
pub(crate) mod core;
mod git;
mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use self::core::{Candidate, Learning, count_events, error_events, judge_candidates};
use super::WatchContext;
use super::kind::{Replay, Watch, WatchedFiles};
use super::log_feed::Feed;
use super::memory::{Memory, store_failure};
use super::observation::Evaluation;
use crate::config::{LogFeed, NewErrorSpec, WatchSpec};
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::logs::{LineFolder, Miner, MinerConfig};
use crate::source::{SourceError, SourceErrorKind};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// What the watch remembers between evaluations.
#[derive(Default)]
pub(crate) struct State {
    loaded: bool,
    miner: Option<Miner>,
    feed: Option<Feed>,
    folders: HashMap<PathBuf, LineFolder>,
    attached_at: Option<DateTime<Utc>>,
    /// Everything the log held when attached has been read (and said so in the log).
    history_read: bool,
    candidates: BTreeMap<u64, Candidate>,
}

fn blind(spec: &NewErrorSpec, detail: impl Into<String>) -> Evaluation {
    Evaluation::Blind(SourceError::new(
        &spec.feed.source_label(),
        SourceErrorKind::Unreachable,
        detail,
    ))
}

async fn load(
    spec: &WatchSpec,
    new_error: &NewErrorSpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Result<(), SourceError> {
    let memory = Memory::of(ctx, &spec.name);
    let mut miner = Miner::new(MinerConfig::default());
    miner.restore(
        ctx.store
            .load_templates(&spec.name)
            .await
            .map_err(store_failure)?,
    );
    state.candidates = memory.load("", "candidates").await?.unwrap_or_default();
    state.history_read = memory.load("", "history_read").await?.unwrap_or(false);
    let attached_at = match memory.load::<i64>("", "attached_at").await? {
        Some(ms) => DateTime::from_timestamp_millis(ms).unwrap_or(ctx.now),
        None => {
            memory
                .save("", "attached_at", &ctx.now.timestamp_millis())
                .await?;
            ctx.now
        }
    };
    let feed = Feed::open(&spec.name, "", &new_error.feed, new_error.format, ctx)
        .await
        .map_err(|error| {
            SourceError::new(
                &new_error.feed.source_label(),
                SourceErrorKind::Unreachable,
                error.to_string(),
            )
        })?;
    state.miner = Some(miner);
    state.feed = Some(feed);
    state.attached_at = Some(attached_at);
    state.loaded = true;
    Ok(())
}

/// What held the history, as the log names it: the files' pattern, or the log source.
fn held_by(feed: &LogFeed) -> String {
    match feed {
        LogFeed::Files { pattern } => pattern.clone(),
        LogFeed::Loki { .. } | LogFeed::Journald { .. } => feed.source_label(),
    }
}

pub(crate) async fn evaluate(
    spec: &WatchSpec,
    new_error: &NewErrorSpec,
    ctx: &WatchContext<'_>,
    state: &mut State,
) -> Evaluation {
    if !state.loaded
        && let Err(error) = load(spec, new_error, ctx, state).await
    {
        return Evaluation::Blind(error);
    }
    let Some(feed) = state.feed.as_mut() else {
        state.loaded = false;
        return blind(new_error, "feed unavailable");
    };
    let lines = match feed.read(&new_error.feed, new_error.format, ctx).await {
        Ok(lines) => lines,
        Err(failure) => {
            if failure.reopen {
                state.loaded = false;
            } else if matches!(feed, Feed::Files { .. }) {
                // Keep that the log held nothing when attached. The feed's failure is what the
                // operator needs to hear; a store failure shows again on the next save.
                let _kept = feed.save(&spec.name, "", ctx).await;
            }
            return Evaluation::Blind(failure.error);
        }
    };

    let now = ctx.now;
    let attached_at = state.attached_at.unwrap_or(now);
    let learning = Learning::at(
        attached_at,
        new_error.learns_history,
        !matches!(new_error.feed, LogFeed::Files { .. }),
    );
    let history_read_now = !state.history_read && feed.history_read(&lines, attached_at);
    let events = error_events(lines, new_error, &mut state.folders);
    let Some(miner) = state.miner.as_mut() else {
        return blind(new_error, "miner unavailable");
    };
    count_events(miner, &mut state.candidates, events, &learning, now);
    let learned = miner
        .template_count()
        .saturating_sub(state.candidates.len());
    let observations = judge_candidates(
        miner,
        &mut state.candidates,
        new_error,
        &spec.description,
        now,
    );

    // Remember every template, which of them are still candidates, and how far we read.
    if let Err(error) = ctx
        .store
        .save_templates(&spec.name, &miner.snapshot())
        .await
    {
        return Evaluation::Blind(store_failure(error));
    }
    if let Err(error) = Memory::of(ctx, &spec.name)
        .save("", "candidates", &state.candidates)
        .await
    {
        return Evaluation::Blind(error);
    }
    if let Some(feed) = &state.feed
        && let Err(error) = feed.save(&spec.name, "", ctx).await
    {
        return Evaluation::Blind(error);
    }
    // Said once the history is read and what was learned from it is stored.
    if history_read_now {
        if let Err(error) = Memory::of(ctx, &spec.name)
            .save("", "history_read", &true)
            .await
        {
            return Evaluation::Blind(error);
        }
        state.history_read = true;
        if new_error.learns_history {
            tracing::info!(
                "new_error {}: learned {learned} templates from what {} held when attached; every new template from now on is judged",
                spec.name,
                held_by(&new_error.feed)
            );
        }
    }
    Evaluation::Complete(observations)
}

impl Watch for NewErrorSpec {
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
        Some(self.feed.source_label())
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, self, ctx))
    }

    fn describe(&self, _hold: &str) -> String {
        let history = if self.learns_history {
            "what the log held when attached is learned"
        } else {
            "what the log held when attached is judged too"
        };
        format!(
            "error templates never seen before, {}+ times in {} ({history})",
            self.min_count,
            crate::humanize::duration(self.window),
        )
    }

    fn files(&self) -> Vec<WatchedFiles<'_>> {
        self.feed.files().into_iter().collect()
    }

    fn replay(&self, _sources: &[crate::config::SourceSpec]) -> Replay {
        super::log_feed::replay(&[&self.feed])
    }
}

//! What every kind of watch provides, and the one list of the kinds.
//!
//! A kind lives in its own folder, `src/watch/<kind>/`: `spec.rs` holds its typed
//! configuration, a pure core (`core.rs`, `detector/`) holds the judgement of a kind that
//! keeps state, and `mod.rs` is the thin shell that reads its sources and implements
//! [`Watch`] for the spec, and `playbook.rs` holds what an investigation of its alerts reads
//! first. The engine, the demo, `sentinel doctor` and the investigator reach a kind only
//! through this trait, so what a later feature needs of every kind (how the kind replays over
//! history) arrives as one more method here and one implementation in each kind's folder.

use super::WatchContext;
use super::observation::Evaluation;
use crate::config::{SourceSpec, WatchSpec, WatchSpecKind};
use crate::investigate::finding::Finding;
use crate::investigate::playbook::{self, PlaybookContext};
use futures_util::future::BoxFuture;

/// One kind of watch, implemented by its typed spec.
pub trait Watch: Send + Sync {
    /// Runs one evaluation of the watch `spec`. Never fails: what cannot be read is blindness.
    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation>;

    /// The configured source the watch reads through, when it names one (its `blind_for`
    /// applies to the watch's blindness).
    fn source_name(&self) -> Option<&str> {
        None
    }

    /// What the watch's blindness alert is named after: its source, or the files it reads.
    fn blind_label(&self) -> Option<String> {
        self.source_name().map(str::to_string)
    }

    /// What is watched, in a few words (the demo's list of watches). `hold` is the watch's
    /// `for` as ", must hold 5m", or empty; kinds whose wording already says how long a
    /// problem must last leave it out.
    fn describe(&self, hold: &str) -> String;

    /// The files the watch reads, so that `sentinel doctor` can check them.
    fn files(&self) -> Vec<WatchedFiles<'_>> {
        Vec::new()
    }

    /// The first evidence of an investigation of one of this watch's alerts, gathered through
    /// the paths the watch itself reads, and what it suggests. Kinds without a playbook of
    /// their own report what the alert says.
    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(async move { playbook::from_alert(Some(spec), ctx) })
    }

    /// Whether `sentinel backtest` can judge this watch again at past moments (its source
    /// answers as of a given time), or why not.
    fn replay(&self, _sources: &[SourceSpec]) -> Replay {
        Replay::Skipped("replaying this kind over history is not built yet".to_string())
    }
}

/// Whether a watch can be replayed over history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Each evaluation reads its source as of the engine's (replayed) clock.
    Supported,
    /// Why it cannot be.
    Skipped(String),
}

/// A glob a watch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchedFiles<'a> {
    /// Files it reads (logs it tails, a certificate): they must exist and open.
    Read(&'a str),
    /// A folder it looks into for the newest file: it must be listable.
    Folder(&'a str),
}

impl<'a> WatchedFiles<'a> {
    /// The glob.
    pub fn pattern(&self) -> &'a str {
        match self {
            WatchedFiles::Read(pattern) | WatchedFiles::Folder(pattern) => pattern,
        }
    }
}

impl WatchSpecKind {
    /// The kind behind this spec: the one place that lists every kind.
    pub fn watch(&self) -> &dyn Watch {
        match self {
            WatchSpecKind::Heartbeat(spec) => spec,
            WatchSpecKind::Freshness(spec) => spec,
            WatchSpecKind::Threshold(spec) => spec,
            WatchSpecKind::NewError(spec) => spec,
            WatchSpecKind::Stuck(spec) => spec,
            WatchSpecKind::Jump(spec) => spec,
            WatchSpecKind::ErrorClass(spec) => spec,
            WatchSpecKind::SlowQuery(spec) => spec,
            WatchSpecKind::Alertmanager(spec) => spec,
            WatchSpecKind::Http(spec) => spec,
            WatchSpecKind::Certificate(spec) => spec,
        }
    }
}

//! The investigation evaluation: realistic faults built from real parts (PostgreSQL, Redis, a
//! Prometheus with days of history, log files, a git repository with a real bug, heartbeat
//! pings through the ping API, HTTP and TLS servers on loopback). Each scenario sets up its
//! fault, lets the watch page through the engine, asks `sentinel investigate <watch>
//! --question ... --json` as an operator would, and grades the printed report: the decisive
//! facts it names, its verdict, no false claim of certainty, and what it cost (evidence
//! tokens, steps, model tokens, dollars, time).
//!
//! Included by `tests/investigation_eval.rs` (offline, asserted) and
//! `benches/investigations.rs` (a table, with a model when asked); each uses part of it.
#![allow(dead_code)]

pub mod grade;
pub mod investigator;
pub mod lab;
pub mod table;

mod code;
mod databases;
mod metrics;
mod queues;
mod schedules;
mod web;

use futures_util::future::LocalBoxFuture;
use grade::{Fact, VerdictClass};
use lab::{Lab, Staged};

/// What a scenario's set-up does: create the fault in real services, write the configuration
/// and make the watch page. An error says what did not happen (no page, a refused set-up).
pub type Stage = for<'a> fn(&'a Lab) -> LocalBoxFuture<'a, Result<Staged, String>>;

/// One fault, the page it causes, the operator's question and what the report must name.
pub struct Scenario {
    pub name: &'static str,
    /// The file it lives in: scenarios of a family share their services.
    pub family: &'static str,
    /// What broke, in words.
    pub fault: &'static str,
    /// What the operator asks about the page.
    pub question: &'static str,
    pub stage: Stage,
    /// What a good report names, each in a given part of the report.
    pub facts: Vec<Fact>,
    pub expected: VerdictClass,
    /// False when the right answer leaves the cause open: then no high confidence.
    pub certainty_allowed: bool,
}

/// Every scenario, family by family.
pub fn scenarios() -> Vec<Scenario> {
    [
        databases::scenarios(),
        queues::scenarios(),
        schedules::scenarios(),
        code::scenarios(),
        metrics::scenarios(),
        web::scenarios(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

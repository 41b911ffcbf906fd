//! The judgement behind the slow-query watch, without any I/O.
//!
//! PostgreSQL's `pg_stat_statements` keeps cumulative counters per statement: how many times
//! it ran and how long it took in total. [`SlowQueryState::observe`] is handed one snapshot of
//! those counters at a time. Between two snapshots it takes the difference (a *window*) and
//! from it the mean time per call in that window. Each statement keeps a baseline: the median
//! of its last few window means, learned only from windows judged normal, so a statement that
//! became slow does not quickly turn into the new normal. A window is judged slow when all of
//! these hold:
//!
//! * enough calls to mean something: `calls >= min_calls`;
//! * a large relative change: `mean >= ratio × baseline`;
//! * a change that matters in absolute terms: `mean - baseline >= min_increase_ms`.
//!
//! Counters that go down mean the statistics were reset (or the entry was evicted and came
//! back): that starts a new epoch for the statement, with no window and so no alarm. The
//! number of tracked statements is capped; the least recently seen are dropped first. The
//! whole state is plain data (serde), so a watch can persist it between restarts.

use crate::source::sql::statement_stats::{Snapshot, StatementStat};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// The identity of a statement's counters: `pg_stat_statements` keeps one entry per query id,
/// database and role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StatementKey {
    pub queryid: i64,
    pub dbid: Option<i64>,
    pub userid: Option<i64>,
}

impl StatementKey {
    pub fn of(stat: &StatementStat) -> Self {
        Self {
            queryid: stat.queryid,
            dbid: stat.dbid,
            userid: stat.userid,
        }
    }
}

/// Thresholds of the judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowQueryConfig {
    /// A window is slow only if its mean is at least this many times the baseline.
    pub ratio: f64,
    /// ... and at least this many milliseconds above the baseline.
    pub min_increase_ms: f64,
    /// ... and the statement ran at least this many times in the window. Windows with fewer
    /// calls are neither judged nor learned from.
    pub min_calls: i64,
    /// The baseline is the median of this many most recent normal window means.
    pub baseline_windows: usize,
    /// No judgement before this many normal windows were learned.
    pub min_baseline_windows: usize,
    /// At most this many statements are tracked; the least recently seen are dropped.
    pub max_tracked: usize,
}

impl Default for SlowQueryConfig {
    fn default() -> Self {
        Self {
            ratio: 3.0,
            min_increase_ms: 50.0,
            min_calls: 5,
            baseline_windows: 10,
            min_baseline_windows: 3,
            max_tracked: 5_000,
        }
    }
}

/// A statement judged slow in the latest window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowQuery {
    pub queryid: i64,
    pub dbid: Option<i64>,
    pub userid: Option<i64>,
    /// Normalized statement text, as in the snapshot.
    pub query: String,
    /// Mean milliseconds per call in the latest window.
    pub mean_ms: f64,
    /// The statement's usual mean milliseconds per call.
    pub baseline_ms: f64,
    /// `mean_ms / baseline_ms`.
    pub ratio: f64,
    /// Calls in the latest window.
    pub calls: i64,
    /// End of the first window of the current slow stretch.
    pub since: DateTime<Utc>,
}

/// What is remembered about one statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tracked {
    key: StatementKey,
    calls: i64,
    total_exec_time_ms: f64,
    last_seen: DateTime<Utc>,
    /// Number of resets seen; informational.
    epoch: u32,
    /// Means of the most recent normal windows, oldest first.
    normal_means: VecDeque<f64>,
    /// Set while the statement is judged slow.
    slow_since: Option<DateTime<Utc>>,
}

/// Everything the judgement remembers between snapshots. Serializable as plain data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "StateRepr", into = "StateRepr")]
pub struct SlowQueryState {
    last_snapshot_at: Option<DateTime<Utc>>,
    stats_reset: Option<DateTime<Utc>>,
    tracked: HashMap<StatementKey, Tracked>,
}

/// The serialized form: a list instead of a map keyed by a struct (JSON keys are strings).
#[derive(Serialize, Deserialize)]
struct StateRepr {
    last_snapshot_at: Option<DateTime<Utc>>,
    stats_reset: Option<DateTime<Utc>>,
    tracked: Vec<Tracked>,
}

impl From<StateRepr> for SlowQueryState {
    fn from(repr: StateRepr) -> Self {
        Self {
            last_snapshot_at: repr.last_snapshot_at,
            stats_reset: repr.stats_reset,
            tracked: repr.tracked.into_iter().map(|t| (t.key, t)).collect(),
        }
    }
}

impl From<SlowQueryState> for StateRepr {
    fn from(state: SlowQueryState) -> Self {
        let mut tracked: Vec<Tracked> = state.tracked.into_values().collect();
        tracked.sort_by_key(|t| t.key);
        Self {
            last_snapshot_at: state.last_snapshot_at,
            stats_reset: state.stats_reset,
            tracked,
        }
    }
}

/// Counters of one statement in one snapshot, summed over duplicate rows (with
/// `pg_stat_statements.track = all` a statement can have a top-level and a nested entry).
struct Counters<'a> {
    stat: &'a StatementStat,
    calls: i64,
    total_exec_time_ms: f64,
}

impl SlowQueryState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of statements tracked.
    pub fn tracked_len(&self) -> usize {
        self.tracked.len()
    }

    /// The current baseline (ms per call) of a statement, once enough was learned.
    pub fn baseline_ms(&self, key: &StatementKey, config: &SlowQueryConfig) -> Option<f64> {
        let tracked = self.tracked.get(key)?;
        (tracked.normal_means.len() >= config.min_baseline_windows.max(1))
            .then(|| median(&tracked.normal_means))
            .flatten()
    }

    /// Whether a statement is currently judged slow.
    pub fn is_slow(&self, key: &StatementKey) -> bool {
        self.tracked
            .get(key)
            .is_some_and(|tracked| tracked.slow_since.is_some())
    }

    /// Takes in one snapshot and returns the statements judged slow in the window that ends
    /// with it, slowest relative change first. A snapshot older than the previous one is
    /// ignored.
    pub fn observe(&mut self, config: &SlowQueryConfig, snapshot: &Snapshot) -> Vec<SlowQuery> {
        let at = snapshot.taken_at;
        if self.last_snapshot_at.is_some_and(|last| at < last) {
            return Vec::new();
        }
        self.last_snapshot_at = Some(at);
        let global_reset = snapshot.stats_reset.is_some()
            && self.stats_reset.is_some()
            && snapshot.stats_reset != self.stats_reset;
        if snapshot.stats_reset.is_some() {
            self.stats_reset = snapshot.stats_reset;
        }

        let mut findings = Vec::new();
        for (key, counters) in sum_by_key(&snapshot.statements) {
            let Some(tracked) = self.tracked.get_mut(&key) else {
                self.tracked.insert(
                    key,
                    Tracked {
                        key,
                        calls: counters.calls,
                        total_exec_time_ms: counters.total_exec_time_ms,
                        last_seen: at,
                        epoch: 0,
                        normal_means: VecDeque::new(),
                        slow_since: None,
                    },
                );
                continue;
            };
            let delta_calls = counters.calls - tracked.calls;
            let delta_ms = counters.total_exec_time_ms - tracked.total_exec_time_ms;
            tracked.calls = counters.calls;
            tracked.total_exec_time_ms = counters.total_exec_time_ms;
            tracked.last_seen = at;
            if global_reset || delta_calls < 0 || delta_ms < 0.0 || !delta_ms.is_finite() {
                // The counters restarted: what they hold now covers an unknown stretch of
                // time. Keep the baseline (the statement did not change) but judge nothing.
                tracked.epoch = tracked.epoch.saturating_add(1);
                continue;
            }
            if delta_calls < config.min_calls.max(1) {
                continue;
            }
            let mean_ms = delta_ms / delta_calls as f64;
            if let Some(finding) = judge(tracked, config, counters.stat, mean_ms, delta_calls, at) {
                findings.push(finding);
            }
        }
        self.evict(config.max_tracked);
        findings.sort_by(|a, b| b.ratio.total_cmp(&a.ratio).then(a.queryid.cmp(&b.queryid)));
        findings
    }

    /// Drops the least recently seen statements beyond `max_tracked`.
    fn evict(&mut self, max_tracked: usize) {
        let excess = self.tracked.len().saturating_sub(max_tracked);
        if excess == 0 {
            return;
        }
        let mut by_age: Vec<(DateTime<Utc>, StatementKey)> = self
            .tracked
            .values()
            .map(|tracked| (tracked.last_seen, tracked.key))
            .collect();
        by_age.sort();
        for (_, key) in by_age.into_iter().take(excess) {
            self.tracked.remove(&key);
        }
    }
}

/// Judges one window of one statement and updates its baseline and slow state.
fn judge(
    tracked: &mut Tracked,
    config: &SlowQueryConfig,
    stat: &StatementStat,
    mean_ms: f64,
    calls: i64,
    at: DateTime<Utc>,
) -> Option<SlowQuery> {
    let learned = tracked.normal_means.len() >= config.min_baseline_windows.max(1);
    let baseline = if learned {
        median(&tracked.normal_means)
    } else {
        None
    };
    let Some(baseline_ms) = baseline else {
        learn(tracked, config, mean_ms);
        return None;
    };
    let slow =
        mean_ms >= config.ratio * baseline_ms && mean_ms - baseline_ms >= config.min_increase_ms;
    if !slow {
        tracked.slow_since = None;
        learn(tracked, config, mean_ms);
        return None;
    }
    let since = *tracked.slow_since.get_or_insert(at);
    Some(SlowQuery {
        queryid: stat.queryid,
        dbid: stat.dbid,
        userid: stat.userid,
        query: stat.query.clone(),
        mean_ms,
        baseline_ms,
        ratio: mean_ms / baseline_ms.max(1e-3),
        calls,
        since,
    })
}

fn learn(tracked: &mut Tracked, config: &SlowQueryConfig, mean_ms: f64) {
    tracked.normal_means.push_back(mean_ms);
    while tracked.normal_means.len() > config.baseline_windows.max(1) {
        tracked.normal_means.pop_front();
    }
}

fn sum_by_key(statements: &[StatementStat]) -> Vec<(StatementKey, Counters<'_>)> {
    let mut summed: HashMap<StatementKey, Counters<'_>> = HashMap::new();
    for stat in statements {
        summed
            .entry(StatementKey::of(stat))
            .and_modify(|counters| {
                counters.calls = counters.calls.saturating_add(stat.calls);
                counters.total_exec_time_ms += stat.total_exec_time_ms;
            })
            .or_insert(Counters {
                stat,
                calls: stat.calls,
                total_exec_time_ms: stat.total_exec_time_ms,
            });
    }
    let mut summed: Vec<_> = summed.into_iter().collect();
    summed.sort_by_key(|(key, _)| *key);
    summed
}

fn median(values: &VecDeque<f64>) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid time")
            + chrono::Duration::minutes(minute)
    }

    /// A statement whose counters are driven window by window.
    struct Driver {
        queryid: i64,
        calls: i64,
        total: f64,
    }

    impl Driver {
        fn new(queryid: i64) -> Self {
            Self {
                queryid,
                calls: 0,
                total: 0.0,
            }
        }

        fn run(&mut self, calls: i64, mean_ms: f64) -> StatementStat {
            self.calls += calls;
            self.total += calls as f64 * mean_ms;
            self.stat()
        }

        fn stat(&self) -> StatementStat {
            StatementStat {
                queryid: self.queryid,
                dbid: Some(1),
                userid: Some(10),
                query: format!("SELECT * FROM t{} WHERE email = $1", self.queryid),
                calls: self.calls,
                total_exec_time_ms: self.total,
                rows: self.calls,
            }
        }
    }

    fn snap(minute: i64, statements: Vec<StatementStat>) -> Snapshot {
        Snapshot {
            taken_at: t(minute),
            stats_reset: None,
            statements,
        }
    }

    /// Runs `windows` normal windows of 20 calls at `mean_ms`, starting at `start`.
    fn warm_up(
        state: &mut SlowQueryState,
        config: &SlowQueryConfig,
        driver: &mut Driver,
        start: i64,
        windows: i64,
        mean_ms: f64,
    ) -> i64 {
        for minute in start..start + windows {
            let found = state.observe(config, &snap(minute, vec![driver.run(20, mean_ms)]));
            assert!(
                found.is_empty(),
                "normal window {minute} judged slow: {found:?}"
            );
        }
        start + windows
    }

    #[test]
    fn a_statement_that_turns_slow_is_reported_with_its_baseline() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(7);
        let next = warm_up(&mut state, &config, &mut q, 0, 6, 2.0);

        let found = state.observe(&config, &snap(next, vec![q.run(20, 120.0)]));
        assert_eq!(found.len(), 1);
        let slow = &found[0];
        assert_eq!(slow.queryid, 7);
        assert_eq!(slow.calls, 20);
        assert!((slow.mean_ms - 120.0).abs() < 1e-9);
        assert!((slow.baseline_ms - 2.0).abs() < 1e-9);
        assert!((slow.ratio - 60.0).abs() < 1e-9);
        assert_eq!(slow.since, t(next));
        assert!(slow.query.contains("email = $1"));
    }

    #[test]
    fn a_slow_statement_does_not_become_the_new_normal() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(1);
        let next = warm_up(&mut state, &config, &mut q, 0, 5, 3.0);
        for minute in next..next + 30 {
            let found = state.observe(&config, &snap(minute, vec![q.run(10, 200.0)]));
            assert_eq!(found.len(), 1, "window {minute} should still be slow");
            assert_eq!(found[0].since, t(next), "since marks the first slow window");
            assert!((found[0].baseline_ms - 3.0).abs() < 1e-9);
        }
        // Back to normal: no finding, and the next slow stretch has a new `since`.
        let back = next + 30;
        assert!(
            state
                .observe(&config, &snap(back, vec![q.run(10, 3.0)]))
                .is_empty()
        );
        let key = StatementKey::of(&q.stat());
        assert!(!state.is_slow(&key));
        let found = state.observe(&config, &snap(back + 1, vec![q.run(10, 300.0)]));
        assert_eq!(found[0].since, t(back + 1));
    }

    #[test]
    fn all_three_conditions_are_needed() {
        let mut state = SlowQueryState::new();
        let config = SlowQueryConfig::default();
        // Ratio met (10x) but only 9 ms above the baseline: not slow.
        let mut fast = Driver::new(1);
        let next = warm_up(&mut state, &config, &mut fast, 0, 4, 1.0);
        assert!(
            state
                .observe(&config, &snap(next, vec![fast.run(20, 10.0)]))
                .is_empty()
        );

        // 100 ms above the baseline but only 1.5x: not slow.
        let mut heavy = Driver::new(2);
        let next = warm_up(&mut state, &config, &mut heavy, next + 1, 4, 200.0);
        assert!(
            state
                .observe(&config, &snap(next, vec![heavy.run(20, 300.0)]))
                .is_empty()
        );

        // Exactly at both thresholds: slow.
        let mut edge = Driver::new(3);
        let next = warm_up(&mut state, &config, &mut edge, next + 1, 4, 25.0);
        let found = state.observe(&config, &snap(next, vec![edge.run(20, 75.0)]));
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn few_calls_in_a_window_do_not_alarm_and_are_not_learned() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(5);
        let next = warm_up(&mut state, &config, &mut q, 0, 4, 2.0);
        // 4 calls at 500 ms: below min_calls (5).
        assert!(
            state
                .observe(&config, &snap(next, vec![q.run(4, 500.0)]))
                .is_empty()
        );
        // The few-call window was not learned: baseline unchanged.
        let key = StatementKey::of(&q.stat());
        assert_eq!(state.baseline_ms(&key, &config), Some(2.0));
        // 5 calls at 500 ms: judged slow.
        let found = state.observe(&config, &snap(next + 1, vec![q.run(5, 500.0)]));
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn nothing_is_judged_before_a_baseline_is_learned() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(9);
        // First snapshot: no window. Then two windows: still learning (min 3).
        assert!(
            state
                .observe(&config, &snap(0, vec![q.run(10, 1.0)]))
                .is_empty()
        );
        assert!(
            state
                .observe(&config, &snap(1, vec![q.run(10, 1.0)]))
                .is_empty()
        );
        assert!(
            state
                .observe(&config, &snap(2, vec![q.run(10, 400.0)]))
                .is_empty()
        );
        assert!(
            state
                .observe(&config, &snap(3, vec![q.run(10, 1.0)]))
                .is_empty()
        );
        // Baseline = median(1, 400, 1) = 1: one outlier while learning does not poison it.
        let key = StatementKey::of(&q.stat());
        assert_eq!(state.baseline_ms(&key, &config), Some(1.0));
        assert_eq!(
            state
                .observe(&config, &snap(4, vec![q.run(10, 400.0)]))
                .len(),
            1
        );
    }

    #[test]
    fn a_stats_reset_starts_a_new_epoch_without_alarm() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(3);
        let next = warm_up(&mut state, &config, &mut q, 0, 5, 2.0);
        // Reset: counters restart from zero, then a few normal calls.
        q.calls = 0;
        q.total = 0.0;
        assert!(
            state
                .observe(&config, &snap(next, vec![q.run(6, 2.0)]))
                .is_empty()
        );
        let key = StatementKey::of(&q.stat());
        assert_eq!(state.baseline_ms(&key, &config), Some(2.0), "baseline kept");
        // Normal afterwards, and a real slowdown is still caught.
        assert!(
            state
                .observe(&config, &snap(next + 1, vec![q.run(20, 2.0)]))
                .is_empty()
        );
        assert_eq!(
            state
                .observe(&config, &snap(next + 2, vec![q.run(20, 90.0)]))
                .len(),
            1
        );
    }

    #[test]
    fn a_reset_with_more_calls_than_before_is_caught_by_stats_reset() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(3);
        let mut reset = Some(t(0));
        for minute in 0..5 {
            let mut s = snap(minute, vec![q.run(5, 2.0)]);
            s.stats_reset = reset;
            assert!(state.observe(&config, &s).is_empty());
        }
        // Reset, then a burst of slow-looking calls that outnumber the old counters: without
        // the reset marker this would look like a slow window of 200 calls at ~100 ms.
        reset = Some(t(5));
        q.calls = 0;
        q.total = 0.0;
        let mut s = snap(6, vec![q.run(250, 100.0)]);
        s.stats_reset = reset;
        assert!(state.observe(&config, &s).is_empty());
    }

    #[test]
    fn statements_may_disappear_and_come_back() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut a = Driver::new(1);
        let mut b = Driver::new(2);
        for minute in 0..5 {
            state.observe(&config, &snap(minute, vec![a.run(10, 2.0), b.run(10, 2.0)]));
        }
        // b is gone for a while (not run, or evicted from pg_stat_statements).
        for minute in 5..8 {
            assert!(
                state
                    .observe(&config, &snap(minute, vec![a.run(10, 2.0)]))
                    .is_empty()
            );
        }
        // b comes back with counters that kept growing: one long window, judged normally.
        b.run(30, 2.0);
        assert!(
            state
                .observe(&config, &snap(8, vec![a.run(10, 2.0), b.stat()]))
                .is_empty()
        );
        assert_eq!(
            state
                .observe(&config, &snap(9, vec![b.run(10, 80.0)]))
                .len(),
            1
        );
        // b evicted and recreated with lower counters: new epoch, no alarm.
        let mut b2 = Driver::new(2);
        assert!(
            state
                .observe(&config, &snap(10, vec![b2.run(3, 80.0)]))
                .is_empty()
        );
    }

    #[test]
    fn duplicate_rows_of_one_statement_are_summed() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut top = Driver::new(4);
        let mut nested = Driver::new(4);
        for minute in 0..5 {
            let found = state.observe(
                &config,
                &snap(minute, vec![top.run(3, 2.0), nested.run(3, 2.0)]),
            );
            assert!(found.is_empty());
        }
        // 3 + 3 calls: together above min_calls.
        let found = state.observe(
            &config,
            &snap(5, vec![top.run(3, 100.0), nested.run(3, 100.0)]),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].calls, 6);
    }

    #[test]
    fn tracking_is_capped_and_drops_the_least_recently_seen() {
        let config = SlowQueryConfig {
            max_tracked: 3,
            ..SlowQueryConfig::default()
        };
        let mut state = SlowQueryState::new();
        let mut drivers: Vec<Driver> = (0..5).map(Driver::new).collect();
        for (minute, driver) in drivers.iter_mut().enumerate() {
            state.observe(&config, &snap(minute as i64, vec![driver.run(10, 1.0)]));
        }
        assert_eq!(state.tracked_len(), 3);
        let kept: Vec<bool> = drivers
            .iter()
            .map(|d| state.tracked.contains_key(&StatementKey::of(&d.stat())))
            .collect();
        assert_eq!(kept, vec![false, false, true, true, true]);
    }

    #[test]
    fn an_older_snapshot_is_ignored() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(1);
        let next = warm_up(&mut state, &config, &mut q, 10, 5, 2.0);
        let before = state.clone();
        assert!(
            state
                .observe(&config, &snap(0, vec![q.run(20, 500.0)]))
                .is_empty()
        );
        assert_eq!(state, before);
        assert!(next > 0);
    }

    #[test]
    fn state_survives_a_serde_round_trip() {
        let config = SlowQueryConfig::default();
        let mut state = SlowQueryState::new();
        let mut q = Driver::new(11);
        let next = warm_up(&mut state, &config, &mut q, 0, 5, 2.0);
        assert_eq!(
            state
                .observe(&config, &snap(next, vec![q.run(20, 100.0)]))
                .len(),
            1
        );

        let json = serde_json::to_string(&state).expect("serializes");
        let mut restored: SlowQueryState = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(restored, state);
        // The restored state carries on: same baseline, same slow stretch.
        let found = restored.observe(&config, &snap(next + 1, vec![q.run(20, 100.0)]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].since, t(next));
        assert!((found[0].baseline_ms - 2.0).abs() < 1e-9);
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&VecDeque::from(vec![3.0, 1.0, 2.0])), Some(2.0));
        assert_eq!(median(&VecDeque::from(vec![4.0, 1.0, 2.0, 3.0])), Some(2.5));
        assert_eq!(median(&VecDeque::new()), None);
    }
}

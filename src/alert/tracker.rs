//! The alert state machine: decides, per (watch, subject), whether a break has lasted long
//! enough to page, whether it is over, and whether the operator hears about either.
//!
//! `pending -> firing -> resolved`, in the manner of Prometheus rules (`for`,
//! `keep_firing_for`) and Alertmanager (one notice per incident, silences). The function
//! [`step`] is pure: the previous record, one observation, the rules and the time in; the next
//! record and at most one effect out. The store persists records; the engine feeds it.

use crate::watch::observation::{Health, Observation};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Broken, but not yet for long enough (`for`).
    Pending,
    /// Broken for at least `for`; the operator has been (or will be) told.
    Firing,
    /// Over: held again (for at least `keep_firing_for` after firing), or a pending blip healed.
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(AlertState::Pending),
            "firing" => Some(AlertState::Firing),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// How one watch's alerts behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// A break must hold this long before it fires. Zero fires on the first broken observation.
    pub for_: Duration,
    /// After firing, the break must be gone this long before it resolves (no flapping).
    pub keep_firing_for: Duration,
    /// Remind the operator this often while firing; `None` (the default) means one notice per
    /// incident.
    pub renotify: Option<Duration>,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            for_: Duration::ZERO,
            keep_firing_for: Duration::ZERO,
            renotify: None,
        }
    }
}

/// The persisted life of one alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub watch: String,
    pub subject: String,
    pub state: AlertState,
    /// Counts the incidents of this (watch, subject); a new one starts with each new break.
    pub incident: i64,
    /// When the current (or last) break started.
    pub broken_since: DateTime<Utc>,
    /// When the current (or last) incident fired.
    pub fired_at: Option<DateTime<Utc>>,
    /// While firing: since when the expectation has held again.
    pub held_since: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the operator was last told of this incident; `None` if not yet (silenced).
    pub notified_at: Option<DateTime<Utc>>,
    /// The latest broken observation's words and value.
    pub title: String,
    pub facts: Vec<String>,
    pub value: Option<f64>,
    pub updated_at: DateTime<Utc>,
    /// The key of the notice that told the operator of this incident (set by the engine).
    pub notice_key: Option<String>,
}

impl AlertRecord {
    /// True while the alert counts as open: pending or firing.
    pub fn is_open(&self) -> bool {
        matches!(self.state, AlertState::Pending | AlertState::Firing)
    }
}

/// What the operator should hear, if anything, from one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing to say.
    Quiet,
    /// The incident fired (or a silence ended while it still fires): page.
    Fire,
    /// Still firing and the re-notify interval passed: remind.
    Remind,
    /// The incident is over. `was_notified` tells whether the operator ever heard of it (a
    /// silenced incident resolves quietly).
    Resolve { was_notified: bool },
}

fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - since).to_std().unwrap_or(Duration::ZERO)
}

/// Advances one alert by one observation.
///
/// `silenced` is true while the operator has snoozed or muted this alert: its state still
/// moves, but it makes no noise; when the silence ends while it is still firing, it pages then.
pub fn step(
    previous: Option<&AlertRecord>,
    observation: &Observation,
    watch: &str,
    rules: &Rules,
    silenced: bool,
    now: DateTime<Utc>,
) -> (Option<AlertRecord>, Effect) {
    match observation.health {
        Health::Unknown => (previous.cloned(), Effect::Quiet),
        Health::Held => step_held(previous, rules, now),
        Health::Broken => step_broken(previous, observation, watch, rules, silenced, now),
    }
}

fn step_broken(
    previous: Option<&AlertRecord>,
    observation: &Observation,
    watch: &str,
    rules: &Rules,
    silenced: bool,
    now: DateTime<Utc>,
) -> (Option<AlertRecord>, Effect) {
    let mut record = match previous {
        Some(open) if open.is_open() => open.clone(),
        other => AlertRecord {
            watch: watch.to_string(),
            subject: observation.subject.clone(),
            state: AlertState::Pending,
            incident: other.map_or(1, |closed| closed.incident + 1),
            broken_since: now,
            fired_at: None,
            held_since: None,
            resolved_at: None,
            notified_at: None,
            title: String::new(),
            facts: Vec::new(),
            value: None,
            updated_at: now,
            notice_key: None,
        },
    };
    record.title.clone_from(&observation.title);
    record.facts.clone_from(&observation.facts);
    record.value = observation.value;
    record.held_since = None;
    record.updated_at = now;

    if record.state == AlertState::Pending && elapsed(record.broken_since, now) >= rules.for_ {
        record.state = AlertState::Firing;
        record.fired_at = Some(now);
    }
    if record.state != AlertState::Firing || silenced {
        return (Some(record), Effect::Quiet);
    }
    let effect = match record.notified_at {
        None => Effect::Fire,
        Some(last) => match rules.renotify {
            Some(every) if elapsed(last, now) >= every => Effect::Remind,
            _ => Effect::Quiet,
        },
    };
    if effect != Effect::Quiet {
        record.notified_at = Some(now);
    }
    (Some(record), effect)
}

fn step_held(
    previous: Option<&AlertRecord>,
    rules: &Rules,
    now: DateTime<Utc>,
) -> (Option<AlertRecord>, Effect) {
    let Some(open) = previous.filter(|record| record.is_open()) else {
        return (previous.cloned(), Effect::Quiet);
    };
    let mut record = open.clone();
    record.updated_at = now;
    match record.state {
        AlertState::Pending => {
            // A blip shorter than `for`: it heals without a word.
            record.state = AlertState::Resolved;
            record.resolved_at = Some(now);
            (Some(record), Effect::Quiet)
        }
        AlertState::Firing => {
            let held_since = *record.held_since.get_or_insert(now);
            if elapsed(held_since, now) < rules.keep_firing_for {
                return (Some(record), Effect::Quiet);
            }
            record.state = AlertState::Resolved;
            record.resolved_at = Some(now);
            record.held_since = None;
            let was_notified = record.notified_at.is_some();
            (Some(record), Effect::Resolve { was_notified })
        }
        AlertState::Resolved => (Some(record), Effect::Quiet),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap()
    }

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    fn broken() -> Observation {
        Observation::broken("db", "disk almost full").with_value(97.0)
    }

    fn held() -> Observation {
        Observation::held("db")
    }

    fn unknown() -> Observation {
        Observation {
            health: Health::Unknown,
            ..held()
        }
    }

    /// Feeds a sequence of (minute, observation, silenced) and returns every effect with its minute.
    fn run(
        rules: &Rules,
        steps: &[(i64, Observation, bool)],
    ) -> (Option<AlertRecord>, Vec<(i64, Effect)>) {
        let mut record: Option<AlertRecord> = None;
        let mut effects = Vec::new();
        for (minute, observation, silenced) in steps {
            let (next, effect) = step(
                record.as_ref(),
                observation,
                "disk",
                rules,
                *silenced,
                at(*minute),
            );
            record = next;
            if effect != Effect::Quiet {
                effects.push((*minute, effect));
            }
        }
        (record, effects)
    }

    fn rules_for(for_minutes: u64) -> Rules {
        Rules {
            for_: minutes(for_minutes),
            ..Rules::default()
        }
    }

    #[test]
    fn a_break_shorter_than_for_never_pages() {
        let (record, effects) = run(
            &rules_for(5),
            &[
                (0, broken(), false),
                (2, broken(), false),
                (4, broken(), false),
                (5, held(), false),
            ],
        );
        assert!(effects.is_empty(), "blip paged: {effects:?}");
        assert_eq!(record.unwrap().state, AlertState::Resolved);
    }

    #[test]
    fn a_break_that_lasts_for_fires_exactly_once() {
        let steps: Vec<_> = (0..30).map(|m| (m, broken(), false)).collect();
        let (record, effects) = run(&rules_for(5), &steps);
        assert_eq!(effects, vec![(5, Effect::Fire)]);
        let record = record.unwrap();
        assert_eq!(record.state, AlertState::Firing);
        assert_eq!(record.fired_at, Some(at(5)));
        assert_eq!(record.broken_since, at(0));
    }

    #[test]
    fn zero_for_fires_on_the_first_broken_observation() {
        let (_, effects) = run(&Rules::default(), &[(0, broken(), false)]);
        assert_eq!(effects, vec![(0, Effect::Fire)]);
    }

    #[test]
    fn pending_then_held_then_broken_restarts_the_for_clock() {
        let (_, effects) = run(
            &rules_for(5),
            &[
                (0, broken(), false),
                (4, held(), false),
                (5, broken(), false),
                (9, broken(), false),
                (10, broken(), false),
            ],
        );
        assert_eq!(effects, vec![(10, Effect::Fire)]);
    }

    #[test]
    fn resolve_after_firing_is_reported_with_notification_status() {
        let (record, effects) = run(
            &Rules::default(),
            &[(0, broken(), false), (1, held(), false)],
        );
        assert_eq!(
            effects,
            vec![
                (0, Effect::Fire),
                (1, Effect::Resolve { was_notified: true })
            ]
        );
        let record = record.unwrap();
        assert_eq!(record.state, AlertState::Resolved);
        assert_eq!(record.resolved_at, Some(at(1)));
    }

    #[test]
    fn keep_firing_for_absorbs_flapping() {
        let rules = Rules {
            keep_firing_for: minutes(10),
            ..Rules::default()
        };
        let (record, effects) = run(
            &rules,
            &[
                (0, broken(), false),
                (1, held(), false),
                (3, broken(), false),
                (4, held(), false),
                (8, broken(), false),
                (9, held(), false),
                (18, held(), false),
                (19, held(), false),
            ],
        );
        assert_eq!(
            effects,
            vec![
                (0, Effect::Fire),
                (19, Effect::Resolve { was_notified: true })
            ]
        );
        assert_eq!(
            record.unwrap().incident,
            1,
            "flaps must not open new incidents"
        );
    }

    #[test]
    fn unknown_never_resolves_nor_fires() {
        let (record, effects) = run(
            &rules_for(0),
            &[
                (0, broken(), false),
                (1, unknown(), false),
                (2, unknown(), false),
            ],
        );
        assert_eq!(effects, vec![(0, Effect::Fire)]);
        assert_eq!(record.unwrap().state, AlertState::Firing);

        let (record, effects) = run(&rules_for(0), &[(0, unknown(), false)]);
        assert!(effects.is_empty());
        assert!(record.is_none());
    }

    #[test]
    fn renotify_is_off_by_default_and_reminds_when_configured() {
        let steps: Vec<_> = (0..=130).map(|m| (m, broken(), false)).collect();
        let (_, effects) = run(&Rules::default(), &steps);
        assert_eq!(effects, vec![(0, Effect::Fire)]);

        let rules = Rules {
            renotify: Some(minutes(60)),
            ..Rules::default()
        };
        let (_, effects) = run(&rules, &steps);
        assert_eq!(
            effects,
            vec![
                (0, Effect::Fire),
                (60, Effect::Remind),
                (120, Effect::Remind)
            ]
        );
    }

    #[test]
    fn silenced_alert_pages_when_the_silence_ends_while_still_firing() {
        let (_, effects) = run(
            &Rules::default(),
            &[
                (0, broken(), true),
                (10, broken(), true),
                (20, broken(), false),
                (30, broken(), false),
            ],
        );
        assert_eq!(effects, vec![(20, Effect::Fire)]);
    }

    #[test]
    fn silenced_incident_resolves_quietly() {
        let (_, effects) = run(
            &Rules::default(),
            &[(0, broken(), true), (5, held(), false)],
        );
        assert_eq!(
            effects,
            vec![(
                5,
                Effect::Resolve {
                    was_notified: false
                }
            )]
        );
    }

    #[test]
    fn a_new_break_after_resolve_is_a_new_incident_and_pages_again() {
        let (record, effects) = run(
            &Rules::default(),
            &[
                (0, broken(), false),
                (1, held(), false),
                (5, broken(), false),
            ],
        );
        assert_eq!(
            effects,
            vec![
                (0, Effect::Fire),
                (1, Effect::Resolve { was_notified: true }),
                (5, Effect::Fire)
            ]
        );
        let record = record.unwrap();
        assert_eq!(record.incident, 2);
        assert_eq!(record.broken_since, at(5));
    }

    #[test]
    fn held_without_open_alert_creates_nothing() {
        let (record, effects) = run(&Rules::default(), &[(0, held(), false)]);
        assert!(record.is_none());
        assert!(effects.is_empty());
    }

    #[test]
    fn latest_broken_words_and_value_are_kept() {
        let later = Observation::broken("db", "disk full")
            .with_value(100.0)
            .with_fact("0 bytes left");
        let (record, _) = run(
            &Rules::default(),
            &[(0, broken(), false), (1, later, false)],
        );
        let record = record.unwrap();
        assert_eq!(record.title, "disk full");
        assert_eq!(record.value, Some(100.0));
        assert_eq!(record.facts, vec!["0 bytes left".to_string()]);
    }

    #[test]
    fn state_names_round_trip() {
        for state in [
            AlertState::Pending,
            AlertState::Firing,
            AlertState::Resolved,
        ] {
            assert_eq!(AlertState::parse(state.as_str()), Some(state));
        }
        assert_eq!(AlertState::parse("bogus"), None);
    }
}

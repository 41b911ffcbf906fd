//! Applying one evaluation: the tracker steps every subject, blindness becomes (or heals) the
//! source's "can't see" alert, and the resulting notices go into the outbox, all in one
//! write transaction (with the evaluation counted), so a crash leaves either everything or
//! nothing.

use super::Engine;
use crate::alert::notice::{self, NoticeKind, WatchLabel};
use crate::alert::tracker::{self, AlertRecord, Effect, Rules};
use crate::config::{Severity, WatchSpec};
use crate::notify::dispatch;
use crate::source::{SourceError, SourceErrorKind};
use crate::store::{StoreError, alerts, evaluations, silences};
use crate::watch::observation::{Evaluation, Health, Observation};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// The reserved watch name prefix of blindness alerts.
pub(super) const BLIND_PREFIX: &str = "can't see ";

/// The blindness alert a failed evaluation belongs to: one per source, or one per watch when
/// the source answered but rejected the watch's query.
fn blind_watch_name(spec: &WatchSpec, error: Option<&SourceError>) -> String {
    match error {
        Some(error) if error.kind == SourceErrorKind::QueryRejected => {
            format!("{BLIND_PREFIX}watch {}", spec.name)
        }
        Some(error) if error.kind == SourceErrorKind::Store => format!("{BLIND_PREFIX}store"),
        _ => format!(
            "{BLIND_PREFIX}{}",
            crate::watch::source_label(spec).unwrap_or_else(|| "store".to_string())
        ),
    }
}

impl Engine {
    fn rules_of(spec: &WatchSpec) -> Rules {
        Rules {
            for_: spec.for_,
            keep_firing_for: spec.keep_firing_for,
            renotify: spec.renotify,
        }
    }

    fn blind_for(&self, spec: &WatchSpec) -> std::time::Duration {
        spec.source_name()
            .and_then(|name| self.inner.config.sources.iter().find(|s| s.name == name))
            .map_or(self.inner.config.engine.blind_for, |s| s.blind_for)
    }

    /// Applies one evaluation of `spec` made at `now` (by this engine or elsewhere). Returns how
    /// many outbox entries it wrote.
    pub async fn apply(
        &self,
        spec: &WatchSpec,
        evaluation: &Evaluation,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let store = &self.inner.store;
        let active = store.active_silences(now).await?;
        let mut tx = store.write().await?;
        let mut written = 0;

        // Blindness first: the source's own alert.
        let (blind_name, blind_observation) = match evaluation {
            Evaluation::Blind(error) => {
                tracing::warn!(watch = spec.name, "cannot evaluate: {error}");
                let what = if error.kind == SourceErrorKind::QueryRejected {
                    "rejected the query"
                } else {
                    "cannot be read"
                };
                let observation =
                    Observation::broken("", format!("Can't see {}: it {what}", error.source))
                        .with_fact(error.detail.clone())
                        .with_fact(format!(
                            "watches on it report unknown until it is back (seen by {})",
                            spec.name
                        ));
                (blind_watch_name(spec, Some(error)), observation)
            }
            Evaluation::Complete(_) => (blind_watch_name(spec, None), Observation::held("")),
        };
        let blind_rules = Rules {
            for_: self.blind_for(spec),
            ..Rules::default()
        };
        written += self
            .step_blindness(
                &mut tx,
                &blind_name,
                &blind_rules,
                blind_observation,
                &active,
                now,
            )
            .await?;
        // A query rejection also proves the source itself answers.
        if let Evaluation::Blind(error) = evaluation
            && error.kind == SourceErrorKind::QueryRejected
        {
            let source_name = blind_watch_name(spec, None);
            written += self
                .step_blindness(
                    &mut tx,
                    &source_name,
                    &blind_rules,
                    Observation::held(""),
                    &active,
                    now,
                )
                .await?;
        }

        if let Evaluation::Complete(observations) = evaluation {
            let label = WatchLabel {
                name: &spec.name,
                description: &spec.description,
                severity: spec.severity,
            };
            written += self
                .step_and_write(
                    &mut tx,
                    &label,
                    &Self::rules_of(spec),
                    observations,
                    &active,
                    true,
                    spec.channels.as_deref(),
                    spec.notify_resolved,
                    now,
                )
                .await?;
        }
        let blind = matches!(evaluation, Evaluation::Blind(_));
        evaluations::count(&mut tx, &spec.name, blind, now).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Steps one blindness alert (the pseudo-watch `name`, a single subject).
    async fn step_blindness(
        &self,
        conn: &mut sqlx::SqliteConnection,
        name: &str,
        rules: &Rules,
        observation: Observation,
        active: &[silences::Silence],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let label = WatchLabel {
            name,
            description: name,
            severity: Severity::Warning,
        };
        self.step_and_write(
            conn,
            &label,
            rules,
            &[observation],
            active,
            false,
            None,
            false,
            now,
        )
        .await
    }

    /// Steps every observed subject (and, when `complete`, holds every open subject that was
    /// not observed), persists the records, and enqueues the notices.
    #[allow(clippy::too_many_arguments)]
    async fn step_and_write(
        &self,
        conn: &mut sqlx::SqliteConnection,
        watch: &WatchLabel<'_>,
        rules: &Rules,
        observations: &[Observation],
        active: &[silences::Silence],
        complete: bool,
        route: Option<&[String]>,
        notify_resolved: bool,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let previous: Vec<AlertRecord> = alerts::for_watch(conn, watch.name).await?;
        let find = |subject: &str| previous.iter().find(|r| r.subject == subject);
        let mut changes: Vec<(AlertRecord, Effect)> = Vec::new();
        let mut seen = BTreeSet::new();
        for observation in observations {
            seen.insert(observation.subject.as_str());
            let silenced = silences::covers(active, watch.name, &observation.subject);
            let (next, effect) = tracker::step(
                find(&observation.subject),
                observation,
                watch.name,
                rules,
                silenced,
                now,
            );
            if let Some(record) = next
                && Some(&record) != find(&observation.subject)
            {
                changes.push((record, effect));
            }
        }
        if complete {
            for record in previous
                .iter()
                .filter(|r| r.is_open() && !seen.contains(r.subject.as_str()))
            {
                let held = Observation {
                    health: Health::Held,
                    ..Observation::held(record.subject.clone())
                };
                let (next, effect) =
                    tracker::step(Some(record), &held, watch.name, rules, false, now);
                if let Some(next) = next {
                    changes.push((next, effect));
                }
            }
        }
        if changes.is_empty() {
            return Ok(0);
        }
        let notices = notice::notices_for(watch, &changes, now);
        if let Some(page) = notices.iter().find(|n| n.kind == NoticeKind::Firing) {
            for (record, effect) in &mut changes {
                if *effect == Effect::Fire {
                    record.notice_key = Some(page.key.clone());
                }
            }
        }
        for (record, _) in &changes {
            alerts::upsert(conn, record).await?;
        }
        dispatch::enqueue(
            conn,
            &self.inner.dispatcher.channels,
            &notices,
            route,
            notify_resolved,
            now,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{StuckSpec, WatchSpecKind};

    fn stuck_on_redis() -> WatchSpec {
        let toml = "[sources.jobs]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\n\n[watches.mailers]\nkind = \"stuck\"\nsource = \"jobs\"\nqueue = \"mailers\"\n";
        let config =
            crate::config::Config::parse(std::path::Path::new("s.toml"), toml, &|_| None).unwrap();
        let spec = config.watches[0].clone();
        assert!(matches!(
            &spec.kind,
            WatchSpecKind::Stuck(StuckSpec::Redis { .. })
        ));
        spec
    }

    #[test]
    fn blindness_is_named_after_what_failed() {
        let spec = stuck_on_redis();
        let redis_down = SourceError::new("jobs", SourceErrorKind::Unreachable, "refused");
        assert_eq!(blind_watch_name(&spec, Some(&redis_down)), "can't see jobs");
        let rejected = SourceError::new("jobs", SourceErrorKind::QueryRejected, "bad");
        assert_eq!(
            blind_watch_name(&spec, Some(&rejected)),
            "can't see watch mailers"
        );
        let store = crate::watch::memory::store_failure("disk I/O error");
        assert_eq!(
            blind_watch_name(&spec, Some(&store)),
            "can't see store",
            "the store's failure is not the queue's"
        );
    }
}

//! `heartbeat`: a job (a backup, a cron script) must ping on its schedule. Missed, failed, or
//! started-but-never-finished runs break it; healthchecks.io's semantics (period or cron plus
//! grace, `/start`, `/fail`, exit statuses).

mod playbook;
pub(crate) mod spec;
pub(crate) mod validate;

use super::WatchContext;
use super::kind::Watch;
use super::memory::store_failure;
use super::observation::{Evaluation, Observation};
use crate::config::{HeartbeatSpec, Schedule, WatchSpec};
use crate::humanize;
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::store::heartbeats::HeartbeatStatus;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

pub(crate) async fn evaluate(
    spec: &WatchSpec,
    heartbeat: &HeartbeatSpec,
    ctx: &WatchContext<'_>,
) -> Evaluation {
    let store_error = |e: crate::store::StoreError| Evaluation::Blind(store_failure(e));
    if let Err(e) = ctx.store.ensure_heartbeat(&spec.name, ctx.now).await {
        return store_error(e);
    }
    match ctx.store.heartbeat_status(&spec.name).await {
        Ok(status) => {
            Evaluation::Complete(vec![judge(&spec.description, heartbeat, &status, ctx.now)])
        }
        Err(e) => store_error(e),
    }
}

/// The next time a run is expected after `reference`.
pub(crate) fn next_expected(
    schedule: &Schedule,
    reference: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match schedule {
        Schedule::Period(period) => Some(reference + chrono::Duration::from_std(*period).ok()?),
        Schedule::Cron { expression, tz, .. } => expression
            .find_next_occurrence(&reference.with_timezone(tz), false)
            .ok()
            .map(|at| at.with_timezone(&Utc)),
    }
}

fn tz_of(schedule: &Schedule) -> chrono_tz::Tz {
    match schedule {
        Schedule::Cron { tz, .. } => *tz,
        Schedule::Period(_) => chrono_tz::UTC,
    }
}

/// Judges one heartbeat from its latest pings.
pub(crate) fn judge(
    description: &str,
    spec: &HeartbeatSpec,
    status: &HeartbeatStatus,
    now: DateTime<Utc>,
) -> Observation {
    let tz = tz_of(&spec.schedule);
    let grace = chrono::Duration::from_std(spec.grace).unwrap_or_default();
    let when = |at: DateTime<Utc>| humanize::moment(at, now, &tz);
    let last_success_fact = match status.last_success {
        Some(at) => format!("last success {}", when(at)),
        None => "no success yet".to_string(),
    };
    let mut held = Observation::held("");
    if let Some(at) = status.last_success {
        held = held.with_value((now - at).num_seconds() as f64);
    }

    // The latest signal decides: a failure after the last start and success, a start that
    // has not finished, or the schedule.
    let after = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        _ => false,
    };
    let fail_at = status.last_fail.map(|(at, _)| at);
    if after(fail_at, status.last_success) && !after(status.last_start, fail_at) {
        let (at, exit) = status.last_fail.unwrap_or((now, None));
        let how = match exit {
            Some(code) => format!("exit status {code}"),
            None => "reported failure".to_string(),
        };
        return Observation::broken("", format!("{description} failed: {how} at {}", when(at)))
            .with_fact(last_success_fact)
            .with_value((now - at).num_seconds() as f64);
    }
    if after(status.last_start, status.last_success) && !after(fail_at, status.last_start) {
        let started = status.last_start.unwrap_or(now);
        if now > started + grace {
            return Observation::broken(
                "",
                format!(
                    "{description} started {} but didn't finish within {}",
                    when(started),
                    humanize::duration(spec.grace)
                ),
            )
            .with_fact(last_success_fact)
            .with_value((now - started).num_seconds() as f64);
        }
        return held;
    }

    let reference = status.last_success.or(status.created_at).unwrap_or(now);
    let Some(due) = next_expected(&spec.schedule, reference) else {
        return held;
    };
    let deadline = due + grace;
    if now <= deadline {
        return held;
    }
    let mut observation = Observation::broken(
        "",
        format!(
            "{description} didn't run: expected by {}, {last_success_fact}",
            when(deadline)
        ),
    );
    if let Schedule::Cron { text, tz, .. } = &spec.schedule {
        observation = observation.with_fact(format!("schedule {text} ({tz})"));
    }
    if let Some(ms) = status.last_run_ms {
        observation = observation.with_fact(format!(
            "last run took {}",
            humanize::duration_secs(ms / 1000)
        ));
    }
    observation.with_value((now - reference).num_seconds() as f64)
}

impl Watch for HeartbeatSpec {
    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(evaluate(spec, self, ctx))
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, ctx))
    }

    fn describe(&self, hold: &str) -> String {
        match &self.schedule {
            Schedule::Cron { text, tz, .. } => format!(
                "heartbeat, cron {text} ({tz}), grace {}{hold}",
                humanize::duration(self.grace)
            ),
            Schedule::Period(period) => format!(
                "heartbeat every {}, grace {}{hold}",
                humanize::duration(*period),
                humanize::duration(self.grace)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::observation::Health;
    use std::str::FromStr;
    use std::time::Duration;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn nightly(tz: &str) -> HeartbeatSpec {
        HeartbeatSpec {
            token: "x".repeat(16),
            schedule: Schedule::Cron {
                expression: Box::new(croner::Cron::from_str("0 3 * * *").unwrap()),
                text: "0 3 * * *".into(),
                tz: chrono_tz::Tz::from_str(tz).unwrap(),
            },
            grace: Duration::from_secs(3600),
        }
    }

    fn every(minutes: u64, grace_minutes: u64) -> HeartbeatSpec {
        HeartbeatSpec {
            token: "x".repeat(16),
            schedule: Schedule::Period(Duration::from_secs(minutes * 60)),
            grace: Duration::from_secs(grace_minutes * 60),
        }
    }

    fn status(success: Option<&str>) -> HeartbeatStatus {
        HeartbeatStatus {
            created_at: Some(t("2026-11-01T00:00:00Z")),
            last_success: success.map(t),
            ..HeartbeatStatus::default()
        }
    }

    #[test]
    fn nightly_backup_is_fine_until_the_grace_after_the_next_run_passes() {
        let spec = nightly("UTC");
        let ran = status(Some("2026-11-26T03:12:00Z"));
        assert_eq!(
            judge("Nightly backup", &spec, &ran, t("2026-11-27T03:30:00Z")).health,
            Health::Held
        );
        assert_eq!(
            judge("Nightly backup", &spec, &ran, t("2026-11-27T04:00:00Z")).health,
            Health::Held
        );
        let missed = judge("Nightly backup", &spec, &ran, t("2026-11-27T04:01:00Z"));
        assert_eq!(missed.health, Health::Broken);
        assert_eq!(
            missed.title,
            "Nightly backup didn't run: expected by today 04:00, last success yesterday 03:12"
        );
    }

    #[test]
    fn cron_schedules_follow_their_time_zone() {
        let spec = nightly("Europe/Berlin"); // 03:00 Berlin is 02:00 UTC in winter
        let ran = status(Some("2026-11-26T02:05:00Z"));
        assert_eq!(
            judge("b", &spec, &ran, t("2026-11-27T02:59:00Z")).health,
            Health::Held
        );
        assert_eq!(
            judge("b", &spec, &ran, t("2026-11-27T03:01:00Z")).health,
            Health::Broken
        );
    }

    #[test]
    fn period_and_grace() {
        let spec = every(5, 2);
        let ran = status(Some("2026-11-27T10:00:00Z"));
        assert_eq!(
            judge("w", &spec, &ran, t("2026-11-27T10:07:00Z")).health,
            Health::Held
        );
        assert_eq!(
            judge("w", &spec, &ran, t("2026-11-27T10:07:01Z")).health,
            Health::Broken
        );
    }

    #[test]
    fn never_pinged_counts_from_when_the_check_was_created() {
        let spec = every(60, 10);
        let never = status(None);
        assert_eq!(
            judge("w", &spec, &never, t("2026-11-01T01:09:00Z")).health,
            Health::Held
        );
        let missed = judge("w", &spec, &never, t("2026-11-01T01:11:00Z"));
        assert_eq!(missed.health, Health::Broken);
        assert!(missed.title.contains("no success yet"), "{}", missed.title);
    }

    #[test]
    fn a_failure_after_the_last_success_breaks_at_once_and_a_success_heals() {
        let spec = every(60, 10);
        let mut failed = status(Some("2026-11-27T09:00:00Z"));
        failed.last_fail = Some((t("2026-11-27T10:00:00Z"), Some(2)));
        let seen = judge("Sync", &spec, &failed, t("2026-11-27T10:00:30Z"));
        assert_eq!(seen.health, Health::Broken);
        assert!(
            seen.title.starts_with("Sync failed: exit status 2"),
            "{}",
            seen.title
        );

        failed.last_success = Some(t("2026-11-27T10:05:00Z"));
        assert_eq!(
            judge("Sync", &spec, &failed, t("2026-11-27T10:06:00Z")).health,
            Health::Held
        );
    }

    #[test]
    fn a_start_without_finish_breaks_only_after_grace() {
        let spec = every(60 * 24, 60);
        let mut running = status(Some("2026-11-26T03:00:00Z"));
        running.last_start = Some(t("2026-11-27T03:00:00Z"));
        assert_eq!(
            judge("Backup", &spec, &running, t("2026-11-27T03:59:00Z")).health,
            Health::Held
        );
        let stuck = judge("Backup", &spec, &running, t("2026-11-27T04:01:00Z"));
        assert_eq!(stuck.health, Health::Broken);
        assert!(
            stuck.title.contains("didn't finish within 1h"),
            "{}",
            stuck.title
        );
    }

    #[test]
    fn a_new_start_after_a_failure_means_it_is_running_again() {
        let spec = every(60, 30);
        let mut retried = status(Some("2026-11-27T08:00:00Z"));
        retried.last_fail = Some((t("2026-11-27T09:00:00Z"), None));
        retried.last_start = Some(t("2026-11-27T09:05:00Z"));
        assert_eq!(
            judge("Job", &spec, &retried, t("2026-11-27T09:10:00Z")).health,
            Health::Held
        );
    }
}

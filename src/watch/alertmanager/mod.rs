//! `alertmanager`: alerts that Alertmanager pushed to `/hooks/alertmanager`, read back from the
//! store. Every firing alert is a broken subject; resolved ones, and firing ones whose `endsAt`
//! has passed without a resolved notification (Alertmanager's own rule), are held, so the
//! tracker resolves them. Alertmanager already applied the rule's `for`, so the watch's `for`
//! defaults to zero like every watch's. When the webhook stops arriving, the stored state
//! stands: silence is not taken as resolution.
//!
//! The subject is the alert's name and its other labels, sorted (`DiskFull{instance="db",
//! mount="/var"}`): stable across restarts and re-sends, readable in a page and in `/snooze`,
//! and as unique as Alertmanager's fingerprint, which is a hash of the same labels.

mod playbook;
pub(crate) mod validate;

use super::WatchContext;
use super::kind::Watch;
use super::memory::store_failure;
use super::observation::{Evaluation, Observation};
use crate::config::AlertmanagerSpec;
use crate::config::WatchSpec;
use crate::humanize;
use crate::investigate::finding::Finding;
use crate::investigate::playbook::PlaybookContext;
use crate::store::intake::IntakeAlert;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;

/// How many labels (besides the name) a page lists.
const LABEL_FACTS: usize = 4;

pub(crate) async fn evaluate(spec: &WatchSpec, ctx: &WatchContext<'_>) -> Evaluation {
    match ctx.store.intake_alerts(&spec.name).await {
        Ok(alerts) => Evaluation::Complete(judge(&alerts, ctx.now)),
        Err(e) => Evaluation::Blind(store_failure(e)),
    }
}

/// `alertname{label="value",...}` with the other labels sorted; the name alone without others.
pub(crate) fn subject(labels: &BTreeMap<String, String>) -> String {
    let name = labels.get("alertname").map_or("", String::as_str);
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    if rest.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", rest.join(","))
    }
}

/// Whether Alertmanager still considers the alert firing at `now`.
pub(crate) fn is_firing(alert: &IntakeAlert, now: DateTime<Utc>) -> bool {
    alert.firing && alert.ends_at.is_none_or(|ends| ends > now)
}

/// One observation per stored alert.
pub(crate) fn judge(alerts: &[IntakeAlert], now: DateTime<Utc>) -> Vec<Observation> {
    alerts
        .iter()
        .map(|alert| {
            let subject = subject(&alert.labels);
            if !is_firing(alert, now) {
                return Observation::held(subject);
            }
            let text = |key: &str| {
                alert
                    .annotations
                    .get(key)
                    .map(|t| t.trim())
                    .filter(|t| !t.is_empty())
            };
            let name = alert
                .labels
                .get("alertname")
                .map_or("alert", String::as_str);
            let (title, detail) = match (text("summary"), text("description")) {
                (Some(summary), description) => (summary.to_string(), description),
                (None, Some(description)) => (description.to_string(), None),
                (None, None) => (format!("{name} is firing"), None),
            };
            let mut observation = Observation::broken(subject, title);
            if let Some(detail) = detail {
                let short: String = detail.chars().take(200).collect();
                observation = observation.with_fact(short);
            }
            if let Some(started) = alert.starts_at {
                observation = observation.with_fact(format!(
                    "firing since {}",
                    humanize::moment(started, now, &chrono_tz::UTC)
                ));
            }
            let labels: Vec<String> = alert
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "alertname")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if !labels.is_empty() {
                let mut fact = labels
                    .iter()
                    .take(LABEL_FACTS)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if labels.len() > LABEL_FACTS {
                    fact.push_str(&format!(" (+{} more)", labels.len() - LABEL_FACTS));
                }
                observation = observation.with_fact(fact);
            }
            if !alert.generator_url.is_empty() {
                observation = observation.with_fact(alert.generator_url.clone());
            }
            observation
        })
        .collect()
}

impl Watch for AlertmanagerSpec {
    fn evaluate<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a WatchContext<'a>,
    ) -> BoxFuture<'a, Evaluation> {
        Box::pin(evaluate(spec, ctx))
    }

    fn playbook<'a>(
        &'a self,
        spec: &'a WatchSpec,
        ctx: &'a PlaybookContext<'a>,
    ) -> BoxFuture<'a, Finding> {
        Box::pin(playbook::run(spec, ctx))
    }

    fn describe(&self, _hold: &str) -> String {
        "alerts sent by Alertmanager".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::observation::Health;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn alert(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> IntakeAlert {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        IntakeAlert {
            fingerprint: "f".into(),
            firing: true,
            labels: map(labels),
            annotations: map(annotations),
            generator_url: "http://prom:9090/graph?g0.expr=up".into(),
            starts_at: Some(t("2026-11-27T09:00:00Z")),
            ends_at: None,
        }
    }

    #[test]
    fn subjects_are_the_name_and_sorted_labels() {
        let a = alert(
            &[
                ("mount", "/var"),
                ("alertname", "DiskFull"),
                ("instance", "db"),
            ],
            &[],
        );
        assert_eq!(
            subject(&a.labels),
            "DiskFull{instance=\"db\",mount=\"/var\"}"
        );
        assert_eq!(
            subject(&alert(&[("alertname", "Watchdog")], &[]).labels),
            "Watchdog"
        );
    }

    #[test]
    fn a_firing_alert_is_broken_with_its_summary_description_labels_and_source() {
        let now = t("2026-11-27T10:00:00Z");
        let a = alert(
            &[("alertname", "DiskFull"), ("mount", "/var")],
            &[
                ("summary", "/var is 97% full"),
                ("description", "grows 1%/h"),
            ],
        );
        let seen = judge(&[a], now);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].health, Health::Broken);
        assert_eq!(seen[0].title, "/var is 97% full");
        assert_eq!(seen[0].facts[0], "grows 1%/h");
        assert!(
            seen[0].facts[1].starts_with("firing since"),
            "{:?}",
            seen[0].facts
        );
        assert_eq!(seen[0].facts[2], "mount=/var");
        assert_eq!(seen[0].facts[3], "http://prom:9090/graph?g0.expr=up");

        let bare = judge(&[alert(&[("alertname", "Down")], &[])], now);
        assert_eq!(bare[0].title, "Down is firing");
        let described = judge(
            &[alert(
                &[("alertname", "Down")],
                &[("description", "api down")],
            )],
            now,
        );
        assert_eq!(described[0].title, "api down");
    }

    #[test]
    fn resolved_and_expired_alerts_are_held_but_a_future_end_still_fires() {
        let now = t("2026-11-27T10:00:00Z");
        let mut resolved = alert(&[("alertname", "A")], &[]);
        resolved.firing = false;
        let mut expired = alert(&[("alertname", "B")], &[]);
        expired.ends_at = Some(t("2026-11-27T09:59:59Z"));
        let mut renewed = alert(&[("alertname", "C")], &[]);
        renewed.ends_at = Some(t("2026-11-27T10:05:00Z"));
        let seen = judge(&[resolved, expired, renewed], now);
        let health: Vec<Health> = seen.iter().map(|o| o.health).collect();
        assert_eq!(health, [Health::Held, Health::Held, Health::Broken]);
        assert_eq!(seen[1].subject, "B");
    }

    #[test]
    fn many_labels_are_shortened() {
        let a = alert(
            &[
                ("alertname", "X"),
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4"),
                ("e", "5"),
                ("f", "6"),
            ],
            &[],
        );
        let seen = judge(&[a], t("2026-11-27T10:00:00Z"));
        assert!(
            seen[0]
                .facts
                .contains(&"a=1, b=2, c=3, d=4 (+2 more)".to_string()),
            "{:?}",
            seen[0].facts
        );
    }
}

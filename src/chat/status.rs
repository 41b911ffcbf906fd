//! `/status`: what is firing, pending, snoozed and muted, as one short HTML message; first, a
//! warning for every SQL source running with a role that can do more than read; last, the
//! investigations waiting and running and today's model spend against its daily budget.

use crate::alert::tracker::{AlertRecord, AlertState};
use crate::notify::telegram::render::escape;
use crate::store::silences::Silence;
use chrono::{DateTime, Utc};

fn alert_line(record: &AlertRecord, now: DateTime<Utc>) -> String {
    let subject = if record.subject.is_empty() {
        String::new()
    } else {
        format!(" · {}", record.subject)
    };
    format!(
        "• {}{}: {} (for {})",
        escape(&record.watch),
        escape(&subject),
        escape(&record.title),
        crate::humanize::duration_secs((now - record.broken_since).num_seconds().max(0))
    )
}

fn silence_target(silence: &Silence) -> String {
    match &silence.subject {
        Some(subject) if !subject.is_empty() => {
            format!("{} · {}", escape(&silence.watch), escape(subject))
        }
        _ => escape(&silence.watch),
    }
}

/// The investigations line: how many wait and run, and today's model spend against its budget.
pub(crate) fn investigations(waiting: i64, running: i64, spent: f64, budget: f64) -> String {
    format!(
        "🔎 <b>Investigations</b>: {waiting} waiting, {running} running · model spend today ${spent:.2} of ${budget:.2}"
    )
}

/// The status message, with the warnings of the SQL sources this process runs although their
/// role can do more than read (`allow_privileged_role = true`).
pub(crate) fn render(alerts: &[AlertRecord], silences: &[Silence], now: DateTime<Utc>) -> String {
    let warnings = crate::source::sql::role_gate::privileged_warnings();
    render_with_warnings(alerts, silences, &warnings, now)
}

/// The status message, `warnings` first.
pub(crate) fn render_with_warnings(
    alerts: &[AlertRecord],
    silences: &[Silence],
    warnings: &[String],
    now: DateTime<Utc>,
) -> String {
    let mut out = Vec::new();
    if !warnings.is_empty() {
        out.push("⚠️ <b>Privileged database roles</b>".to_string());
        out.extend(warnings.iter().map(|w| format!("• {}", escape(w))));
    }
    for (state, heading) in [
        (AlertState::Firing, "🔴 <b>Firing</b>"),
        (AlertState::Pending, "🟡 <b>Pending</b>"),
    ] {
        let lines: Vec<String> = alerts
            .iter()
            .filter(|a| a.state == state)
            .map(|a| alert_line(a, now))
            .collect();
        if lines.is_empty() {
            out.push(format!("{heading}: none"));
        } else {
            out.push(format!("{heading} ({})", lines.len()));
            out.extend(lines);
        }
    }
    let snoozed: Vec<String> = silences
        .iter()
        .filter_map(|s| {
            s.until.map(|until| {
                format!(
                    "• {} until {}",
                    silence_target(s),
                    until.format("%a %d %b %H:%M UTC")
                )
            })
        })
        .collect();
    let muted: Vec<String> = silences
        .iter()
        .filter(|s| s.until.is_none())
        .map(|s| format!("• {}", silence_target(s)))
        .collect();
    for (heading, lines) in [("😴 <b>Snoozed</b>", snoozed), ("🔇 <b>Muted</b>", muted)] {
        if lines.is_empty() {
            out.push(format!("{heading}: none"));
        } else {
            out.push(heading.to_string());
            out.extend(lines);
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_investigations_line_counts_the_queue_and_the_spend_against_the_budget() {
        assert_eq!(
            investigations(3, 1, 0.4567, 5.0),
            "🔎 <b>Investigations</b>: 3 waiting, 1 running · model spend today $0.46 of $5.00"
        );
    }

    fn record(watch: &str, subject: &str, state: AlertState, at: DateTime<Utc>) -> AlertRecord {
        AlertRecord {
            watch: watch.into(),
            subject: subject.into(),
            state,
            incident: 1,
            broken_since: at,
            fired_at: None,
            held_since: None,
            resolved_at: None,
            notified_at: None,
            title: "Disk <full>".into(),
            facts: vec![],
            value: None,
            updated_at: at,
            notice_key: None,
        }
    }

    #[test]
    fn status_lists_each_kind_and_escapes() {
        let now = DateTime::<Utc>::from_timestamp(1_800_003_600, 0).unwrap();
        let then = now - chrono::Duration::hours(1);
        let alerts = vec![
            record("disk", "/var", AlertState::Firing, then),
            record("api", "", AlertState::Pending, then),
            record("old", "", AlertState::Resolved, then),
        ];
        let silences = vec![
            Silence {
                id: 1,
                watch: "backup".into(),
                subject: None,
                until: Some(now + chrono::Duration::hours(1)),
                reason: String::new(),
                created_by: String::new(),
            },
            Silence {
                id: 2,
                watch: "disk".into(),
                subject: Some("/home".into()),
                until: None,
                reason: String::new(),
                created_by: String::new(),
            },
        ];
        let text = render(&alerts, &silences, now);
        assert!(
            text.contains("<b>Firing</b> (1)\n• disk · /var: Disk &lt;full&gt; (for 1h)"),
            "{text}"
        );
        assert!(text.contains("<b>Pending</b> (1)\n• api: Disk"), "{text}");
        assert!(!text.contains("old"), "{text}");
        assert!(text.contains("<b>Snoozed</b>\n• backup until"), "{text}");
        assert!(text.contains("<b>Muted</b>\n• disk · /home"), "{text}");
        let quiet = render(&[], &[], now);
        assert!(quiet.contains("<b>Firing</b>: none"), "{quiet}");
    }

    #[test]
    fn privileged_roles_are_warned_about_first() {
        let now = DateTime::<Utc>::from_timestamp(1_800_003_600, 0).unwrap();
        let warnings = vec![
            "source app: role postgres can do more than read (is a superuser); running anyway because allow_privileged_role = true <!>".to_string(),
        ];
        let text = render_with_warnings(&[], &[], &warnings, now);
        assert!(
            text.starts_with(
                "⚠️ <b>Privileged database roles</b>\n• source app: role postgres can do more than read"
            ),
            "{text}"
        );
        assert!(
            text.contains("allow_privileged_role = true &lt;!&gt;"),
            "{text}"
        );
        assert!(text.contains("<b>Firing</b>: none"), "{text}");
        let quiet = render_with_warnings(&[], &[], &[], now);
        assert!(!quiet.contains("Privileged"), "{quiet}");
    }
}

//! Notices: what the operator is told. Turns the effects of one evaluation of one watch into
//! as few messages as possible: newly firing subjects grouped into one page, reminders grouped,
//! each resolution on its own (so a channel that can edit updates the page that announced it).

use super::tracker::{AlertRecord, Effect};
use crate::config::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a notice is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKind {
    Firing,
    Reminder,
    Resolved,
}

/// What a notice says of its subjects: still broken (a page or a reminder) or over. Written
/// into the outbox payload and webhook bodies as `firing` or `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeState {
    Firing,
    Resolved,
}

impl NoticeState {
    /// The name written into payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeState::Firing => "firing",
            NoticeState::Resolved => "resolved",
        }
    }
}

/// A state compares equal to its name in payloads.
impl PartialEq<&str> for NoticeState {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

/// One subject within a notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeSubject {
    pub subject: String,
    pub title: String,
    pub facts: Vec<String>,
    pub value: Option<f64>,
    pub broken_since: DateTime<Utc>,
    pub incident: i64,
}

/// A message to the operator, as written to the outbox and handed to channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Unique for this notice; channels add their name to form the delivery key.
    pub key: String,
    pub kind: NoticeKind,
    pub watch: String,
    /// The single subject, or a short summary ("3 subjects") when grouped.
    pub subject: String,
    /// `firing` or `resolved`.
    pub state: NoticeState,
    pub severity: Severity,
    pub title: String,
    pub facts: Vec<String>,
    pub subjects: Vec<NoticeSubject>,
    pub at: DateTime<Utc>,
    /// For a resolution: how long the incident lasted, in seconds.
    pub lasted_seconds: Option<i64>,
    /// For a resolution: the key of the page it resolves.
    pub resolves: Option<String>,
}

/// What the engine knows of the watch when it writes notices.
#[derive(Debug, Clone)]
pub struct WatchLabel<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub severity: Severity,
}

fn subject_of(record: &AlertRecord) -> NoticeSubject {
    NoticeSubject {
        subject: record.subject.clone(),
        title: record.title.clone(),
        facts: record.facts.clone(),
        value: record.value,
        broken_since: record.broken_since,
        incident: record.incident,
    }
}

fn grouped(
    watch: &WatchLabel,
    kind: NoticeKind,
    records: &[&AlertRecord],
    at: DateTime<Utc>,
) -> Option<Notice> {
    let first = records.first()?;
    let key_tail = match kind {
        NoticeKind::Reminder => format!("/{}", at.timestamp_millis()),
        _ => String::new(),
    };
    let kind_name = match kind {
        NoticeKind::Firing => "firing",
        NoticeKind::Reminder => "reminder",
        NoticeKind::Resolved => "resolved",
    };
    let key = format!(
        "{}/{kind_name}/{}#{}{key_tail}",
        watch.name, first.subject, first.incident
    );
    let (subject, title, facts) = if records.len() == 1 {
        (
            first.subject.clone(),
            first.title.clone(),
            first.facts.clone(),
        )
    } else {
        let names: Vec<&str> = records.iter().map(|r| r.subject.as_str()).collect();
        let title = format!("{}: {} broken", watch.description, names.len());
        let facts = records
            .iter()
            .take(5)
            .map(|r| format!("{}: {}", r.subject, r.title))
            .chain((records.len() > 5).then(|| format!("and {} more", records.len() - 5)))
            .collect();
        (format!("{} subjects", names.len()), title, facts)
    };
    Some(Notice {
        key,
        kind,
        watch: watch.name.to_string(),
        subject,
        state: NoticeState::Firing,
        severity: watch.severity,
        title,
        facts,
        subjects: records.iter().map(|r| subject_of(r)).collect(),
        at,
        lasted_seconds: None,
        resolves: None,
    })
}

/// The notices for one evaluation's effects, in the order they should be sent.
pub fn notices_for(
    watch: &WatchLabel,
    changes: &[(AlertRecord, Effect)],
    at: DateTime<Utc>,
) -> Vec<Notice> {
    let fired: Vec<&AlertRecord> = changes
        .iter()
        .filter(|(_, e)| *e == Effect::Fire)
        .map(|(r, _)| r)
        .collect();
    let reminded: Vec<&AlertRecord> = changes
        .iter()
        .filter(|(_, e)| *e == Effect::Remind)
        .map(|(r, _)| r)
        .collect();
    let mut notices: Vec<Notice> = [
        grouped(watch, NoticeKind::Firing, &fired, at),
        grouped(watch, NoticeKind::Reminder, &reminded, at),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (record, effect) in changes {
        if *effect != (Effect::Resolve { was_notified: true }) {
            continue;
        }
        let lasted = (at - record.broken_since).num_seconds().max(0);
        notices.push(Notice {
            key: format!(
                "{}/resolved/{}#{}",
                watch.name, record.subject, record.incident
            ),
            kind: NoticeKind::Resolved,
            watch: watch.name.to_string(),
            subject: record.subject.clone(),
            state: NoticeState::Resolved,
            severity: watch.severity,
            title: format!("Resolved: {}", record.title),
            facts: vec![format!("lasted {}", crate::humanize::duration_secs(lasted))],
            subjects: vec![subject_of(record)],
            at,
            lasted_seconds: Some(lasted),
            resolves: record.notice_key.clone(),
        });
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::tracker::AlertState;

    fn record(subject: &str, incident: i64) -> AlertRecord {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        AlertRecord {
            watch: "disk".into(),
            subject: subject.into(),
            state: AlertState::Firing,
            incident,
            broken_since: at,
            fired_at: Some(at),
            held_since: None,
            resolved_at: None,
            notified_at: Some(at),
            title: format!("{subject} almost full"),
            facts: vec![],
            value: Some(97.0),
            updated_at: at,
            notice_key: Some(format!("disk/firing/{subject}#{incident}")),
        }
    }

    const WATCH: WatchLabel = WatchLabel {
        name: "disk",
        description: "Disk space",
        severity: Severity::Critical,
    };

    #[test]
    fn subjects_firing_together_become_one_page() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_600, 0).unwrap();
        let changes = vec![
            (record("/var", 1), Effect::Fire),
            (record("/home", 2), Effect::Fire),
            (record("/tmp", 1), Effect::Quiet),
        ];
        let notices = notices_for(&WATCH, &changes, at);
        assert_eq!(notices.len(), 1);
        let page = &notices[0];
        assert_eq!(page.kind, NoticeKind::Firing);
        assert_eq!(page.subjects.len(), 2);
        assert_eq!(page.title, "Disk space: 2 broken");
        assert_eq!(page.subject, "2 subjects");
        assert_eq!(page.key, "disk/firing//var#1");
    }

    #[test]
    fn a_single_subject_page_uses_its_own_words() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_600, 0).unwrap();
        let notices = notices_for(&WATCH, &[(record("/var", 1), Effect::Fire)], at);
        assert_eq!(notices[0].title, "/var almost full");
        assert_eq!(notices[0].subject, "/var");
    }

    #[test]
    fn resolutions_are_separate_and_point_at_their_page_and_quiet_ones_say_nothing() {
        let at = DateTime::<Utc>::from_timestamp(1_800_003_600, 0).unwrap();
        let changes = vec![
            (record("/var", 1), Effect::Resolve { was_notified: true }),
            (
                record("/home", 1),
                Effect::Resolve {
                    was_notified: false,
                },
            ),
        ];
        let notices = notices_for(&WATCH, &changes, at);
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].kind, NoticeKind::Resolved);
        assert_eq!(notices[0].resolves.as_deref(), Some("disk/firing//var#1"));
        assert_eq!(notices[0].lasted_seconds, Some(3600));
        assert_eq!(notices[0].facts, vec!["lasted 1h".to_string()]);
    }

    #[test]
    fn nothing_to_say_gives_no_notice() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_600, 0).unwrap();
        assert!(notices_for(&WATCH, &[(record("/var", 1), Effect::Quiet)], at).is_empty());
    }

    #[test]
    fn payloads_keep_their_state_names_and_refuse_unknown_ones() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_600, 0).unwrap();
        let page = notices_for(&WATCH, &[(record("/var", 1), Effect::Fire)], at).remove(0);
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["state"], NoticeState::Firing.as_str());
        assert_eq!(json["state"], "firing");
        assert_eq!(
            serde_json::from_value::<Notice>(json.clone()).unwrap(),
            page
        );
        let mut unknown = json;
        unknown["state"] = "exploded".into();
        let error = serde_json::from_value::<Notice>(unknown).unwrap_err();
        assert!(error.to_string().contains("exploded"), "{error}");
        assert_eq!(NoticeState::Resolved.as_str(), "resolved");
    }
}

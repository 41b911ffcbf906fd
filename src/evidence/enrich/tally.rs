//! Counting things seen (devices, locations) by a grouping key: how often, first and last
//! seen, the label of the latest sighting, and the distinct members of the group (the
//! addresses of one city). Memory grows with the distinct keys and members, not the rows.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use crate::evidence::pack::Seen;

/// One group's sightings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// The label of the latest sighting.
    pub(crate) label: String,
    pub(crate) first: DateTime<Utc>,
    pub(crate) last: DateTime<Utc>,
    pub(crate) count: usize,
    /// Distinct members, sorted.
    pub(crate) members: BTreeSet<String>,
}

/// Sightings by key.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    groups: FxHashMap<String, Group>,
}

impl Tally {
    /// One sighting of `key` at `at`, shown as `label`, optionally naming a member.
    pub(crate) fn record(
        &mut self,
        key: &str,
        at: DateTime<Utc>,
        label: &str,
        member: Option<&str>,
    ) {
        let group = match self.groups.get_mut(key) {
            Some(group) => {
                group.count += 1;
                group.first = group.first.min(at);
                if at >= group.last {
                    group.last = at;
                }
                // The latest label wins; an empty one (nothing known) never replaces another.
                if !label.is_empty()
                    && group.label != label
                    && (at >= group.last || group.label.is_empty())
                {
                    label.clone_into(&mut group.label);
                }
                group
            }
            None => self.groups.entry(key.to_owned()).or_insert(Group {
                label: label.to_owned(),
                first: at,
                last: at,
                count: 1,
                members: BTreeSet::new(),
            }),
        };
        if let Some(member) = member
            && !group.members.contains(member)
        {
            group.members.insert(member.to_owned());
        }
    }

    /// The groups as `Seen`, labelled by `label_of` (given the key and the group), the
    /// earliest first.
    pub(crate) fn into_seen(self, label_of: impl Fn(&str, &Group) -> String) -> Vec<Seen> {
        let mut seen: Vec<Seen> = self
            .groups
            .into_iter()
            .map(|(key, group)| Seen {
                label: label_of(&key, &group),
                first: group.first,
                last: group.last,
                count: group.count,
            })
            .collect();
        sort_seen(&mut seen);
        seen
    }
}

/// Earliest first; ties by label, so the order never depends on hashing.
pub(crate) fn sort_seen(seen: &mut [Seen]) {
    seen.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.label.cmp(&b.label)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn first_last_and_count_whatever_the_order() {
        let mut tally = Tally::default();
        tally.record("a", at(3, 9), "A old", None);
        tally.record("b", at(2, 9), "B", None);
        tally.record("a", at(1, 9), "A older", None);
        tally.record("a", at(5, 9), "A newest", None);
        tally.record("a", at(4, 9), "A middle", None);
        let seen = tally.into_seen(|_, group| group.label.clone());
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].label, "A newest");
        assert_eq!(
            (seen[0].first, seen[0].last, seen[0].count),
            (at(1, 9), at(5, 9), 4)
        );
        assert_eq!(seen[1].label, "B");
        assert_eq!(
            (seen[1].first, seen[1].last, seen[1].count),
            (at(2, 9), at(2, 9), 1)
        );
    }

    #[test]
    fn members_are_distinct() {
        let mut tally = Tally::default();
        tally.record("Berlin", at(1, 1), "x", Some("203.0.113.7"));
        tally.record("Berlin", at(1, 2), "x", Some("203.0.113.8"));
        tally.record("Berlin", at(1, 3), "x", Some("203.0.113.7"));
        let seen =
            tally.into_seen(|_, group| group.members.iter().cloned().collect::<Vec<_>>().join(" "));
        assert_eq!(seen[0].label, "203.0.113.7 203.0.113.8");
        assert_eq!(seen[0].count, 3);
    }
}

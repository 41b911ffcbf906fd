//! Enrichment of a pack's sections: from the rows as text to the devices and locations seen
//! (with GeoIP places and readable user agents), one timeline across all sections, and
//! activity per day. Everything happens on this machine; nothing is looked up elsewhere.

mod address;
mod agent;
mod columns;
mod daily;
mod geo;
mod tally;
mod timeline;

use chrono::{DateTime, Utc};

use crate::evidence::pack::{DayCount, SectionKind, Seen, TimelineEntry};
use crate::source::sql::values::parse_time;

pub use geo::{GeoDb, GeoError, Place};

use address::Locator;
use agent::{Agent, AgentCache};
use columns::ColumnRoles;
use daily::DailyCounts;
use tally::{Group, Tally, sort_seen};
use timeline::{RowFacts, entry_text};

/// One section's rows as text, as the query gave them (`None` is SQL `NULL`).
#[derive(Debug, Clone, Copy)]
pub struct SectionRows<'a> {
    pub kind: SectionKind,
    /// The heading, used for entries of sections of kind `Other`.
    pub title: &'a str,
    pub columns: &'a [String],
    pub rows: &'a [Vec<Option<String>>],
}

/// What the enrichment found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enriched {
    /// Each device seen (by device id, else user agent), earliest first.
    pub devices: Vec<Seen>,
    /// Each location seen (by place with GeoIP, else by address), earliest first.
    pub locations: Vec<Seen>,
    /// How addresses were turned into places, or that they were not.
    pub geo_note: String,
    /// Every dated row of every section, oldest first (rows of one moment in section order).
    pub timeline: Vec<TimelineEntry>,
    /// Logins and usage events per UTC day, every day from the first to the last.
    pub daily: Vec<DayCount>,
    /// Why `daily` starts later than the first activity, when it does.
    pub daily_note: Option<String>,
    /// Rows left out of the timeline, devices and locations because they have no readable
    /// time.
    pub undated: usize,
}

/// Enriches the sections' rows; `geo` turns addresses into places when given.
pub fn enrich(sections: &[SectionRows<'_>], geo: Option<&GeoDb>) -> Enriched {
    let mut locator = Locator::new(geo);
    let mut agents = AgentCache::default();
    let mut devices = Devices::default();
    let mut locations = Tally::default();
    let mut daily = DailyCounts::default();
    let mut timeline = Vec::new();
    let mut undated = 0;
    let mut details = Vec::new();

    for section in sections {
        let roles = ColumnRoles::detect(section.columns);
        for row in section.rows {
            let cell = |index: Option<usize>| {
                index
                    .and_then(|index| row.get(index))
                    .and_then(|cell| cell.as_deref())
            };
            let Some(at) = cell(roles.time).and_then(parse_time) else {
                undated += 1;
                continue;
            };
            let location = cell(roles.ip)
                .filter(|ip| !ip.trim().is_empty())
                .map(|ip| locator.locate(ip));
            if let Some(location) = location {
                locations.record(
                    location.group(),
                    at,
                    &location.label,
                    Some(&location.address),
                );
            }
            let agent = cell(roles.user_agent).map(|text| agents.read(text));
            let device_id = cell(roles.device)
                .map(str::trim)
                .filter(|id| !id.is_empty());
            devices.record(at, device_id, agent);

            details.clear();
            details.extend(roles.details.iter().filter_map(|&index| cell(Some(index))));
            let facts = RowFacts {
                details: &details,
                location: location.map(|location| location.label.as_str()),
                agent: agent.map(|agent| agent.browser.as_str()),
            };
            timeline.push(TimelineEntry {
                at,
                kind: section.kind,
                text: entry_text(section.kind, section.title, &facts),
            });
            match section.kind {
                SectionKind::Logins => daily.login(at.date_naive()),
                SectionKind::Usage => daily.usage(at.date_naive()),
                _ => {}
            }
        }
    }

    // Stable: rows of the same moment keep their sections' order.
    timeline.sort_by_key(|entry| entry.at);
    let (daily, daily_note) = daily.finish();
    Enriched {
        devices: devices.into_seen(),
        locations: locations.into_seen(|_, group| location_label(group)),
        geo_note: geo.map_or_else(|| geo::NO_GEO_NOTE.to_owned(), GeoDb::note),
        timeline,
        daily,
        daily_note,
        undated,
    }
}

/// Devices, told apart by their id when the row has one, else by what the user agent says.
#[derive(Default)]
struct Devices {
    by_id: Tally,
    by_agent: Tally,
}

impl Devices {
    fn record(&mut self, at: DateTime<Utc>, device_id: Option<&str>, agent: Option<&Agent>) {
        let agent_label = agent.map(|agent| agent.device_label.as_str());
        match (device_id, agent_label) {
            // A row without a user agent (a payment's device id) leaves the label the
            // device's sessions gave it.
            (Some(id), agent_label) => self.by_id.record(id, at, agent_label.unwrap_or(""), None),
            (None, Some(label)) => self.by_agent.record(label, at, label, None),
            (None, None) => {}
        }
    }

    /// "Chrome 120 on macOS (desktop), device 3f2a9c1e…" for devices with an id.
    fn into_seen(self) -> Vec<Seen> {
        let mut seen = self.by_id.into_seen(|id, group| {
            let label = if group.label.is_empty() {
                agent::UNKNOWN_BROWSER
            } else {
                &group.label
            };
            format!("{label}, device {}", short_id(id))
        });
        seen.extend(self.by_agent.into_seen(|_, group| group.label.clone()));
        sort_seen(&mut seen);
        seen
    }
}

/// The first 8 characters of a device id, then "…" when there are more.
fn short_id(id: &str) -> String {
    match id.char_indices().nth(8) {
        Some((cut, _)) => format!("{}…", &id[..cut]),
        None => id.to_owned(),
    }
}

/// "Berlin, Germany (203.0.113.7)"; a place with several addresses lists a few of them.
fn location_label(group: &Group) -> String {
    const LISTED: usize = 3;
    if group.members.len() <= 1 {
        return group.label.clone();
    }
    let place = group
        .label
        .rsplit_once(" (")
        .map_or(group.label.as_str(), |(place, _)| place);
    let listed: Vec<&str> = group
        .members
        .iter()
        .take(LISTED)
        .map(String::as_str)
        .collect();
    let more = group.members.len().saturating_sub(LISTED);
    let mut addresses = listed.join(", ");
    if more > 0 {
        addresses.push_str(&format!(" and {more} more"));
    }
    format!("{place} ({addresses})")
}

#[cfg(test)]
mod tests;

//! The whole pack laid out in order (cover, sections, devices, locations, activity, timeline,
//! what was left out, sources), and the row cap that keeps it within the page limit: when the
//! full content would pass the limit, the longest tables and the timeline are shortened to the
//! most rows that still fit.

use super::appendix::lay_sources;
use super::chart::lay_chart;
use super::cover::lay_cover;
use super::flow::{Flow, Laid};
use super::fonts::Fonts;
use super::format::{count, when};
use super::style;
use super::table::{TableInput, lay_table};
use crate::evidence::pack::{Pack, SectionOutcome, Seen, TimelineEntry};

/// The pack's lists as table rows, made once for every layout attempt.
struct Rows {
    devices: Vec<Vec<String>>,
    locations: Vec<Vec<String>>,
    timeline: Vec<Vec<String>>,
}

/// Lays the pack out on at most `max_pages` pages, showing as many rows as fit.
pub(super) fn lay_out(pack: &Pack, fonts: &Fonts, max_pages: usize) -> Laid {
    let rows = Rows {
        devices: pack.devices.iter().map(seen_row).collect(),
        locations: pack.locations.iter().map(seen_row).collect(),
        timeline: pack.timeline.entries.iter().map(timeline_row).collect(),
    };
    let longest = pack
        .sections
        .iter()
        .filter_map(|section| match &section.outcome {
            SectionOutcome::Rows(table) => Some(table.rows.len()),
            SectionOutcome::Missing { .. } => None,
        })
        .chain([
            rows.devices.len(),
            rows.locations.len(),
            rows.timeline.len(),
        ])
        .max()
        .unwrap_or(0);
    let complete = lay_out_capped(pack, fonts, &rows, longest, max_pages);
    if !complete.full {
        return complete;
    }
    // The largest cap that fits: `fits` always fits (or is 0), `fails` never does.
    let (mut fits, mut fails) = (0, longest);
    while fails - fits > 1 {
        let middle = fits + (fails - fits) / 2;
        if lay_out_capped(pack, fonts, &rows, middle, max_pages).full {
            fails = middle;
        } else {
            fits = middle;
        }
    }
    lay_out_capped(pack, fonts, &rows, fits, max_pages)
}

/// Lays the pack out showing at most `row_cap` rows of each table.
fn lay_out_capped(
    pack: &Pack,
    fonts: &Fonts,
    rows: &Rows,
    row_cap: usize,
    max_pages: usize,
) -> Laid {
    let mut flow = Flow::new(fonts, max_pages);
    lay_cover(&mut flow, pack);
    flow.new_page();
    let keep = 3.0 * style::CELL.line_height();
    for section in &pack.sections {
        flow.heading(&section.title, keep);
        match &section.outcome {
            SectionOutcome::Rows(table) => {
                let noun = format!("rows of {}", section.title);
                lay_table(
                    &mut flow,
                    &TableInput {
                        columns: &table.columns,
                        rows: &table.rows,
                        shown: row_cap,
                        row_noun: &noun,
                    },
                );
                if table.total_rows > table.rows.len() || table.omitted.is_some() {
                    let omitted = table.omitted.clone().unwrap_or_else(|| {
                        format!(
                            "{} of {} rows shown.",
                            count(table.rows.len()),
                            count(table.total_rows)
                        )
                    });
                    flow.paragraph(0.0, style::NOTE, &omitted);
                }
            }
            SectionOutcome::Missing { reason } => {
                flow.paragraph(
                    0.0,
                    style::LABEL.colored(style::BAD),
                    &format!("Missing: {reason}"),
                );
            }
        }
        if flow.is_full() {
            break;
        }
    }
    let seen_columns = ["Label", "First seen", "Last seen", "Count"].map(str::to_owned);
    for (title, noun, list) in [
        ("Devices", "devices", &rows.devices),
        ("Locations", "locations", &rows.locations),
    ] {
        flow.heading(title, keep);
        if list.is_empty() {
            flow.paragraph(0.0, style::NOTE, &format!("No {noun} recorded."));
            continue;
        }
        lay_table(
            &mut flow,
            &TableInput {
                columns: &seen_columns,
                rows: list,
                shown: row_cap,
                row_noun: noun,
            },
        );
    }
    flow.heading("Activity per day", 220.0);
    lay_chart(&mut flow, &pack.daily);
    flow.heading("Timeline", keep);
    if rows.timeline.is_empty() {
        flow.paragraph(0.0, style::NOTE, "No dated activity recorded.");
    } else {
        lay_table(
            &mut flow,
            &TableInput {
                columns: &["Time", "Kind", "What"].map(str::to_owned),
                rows: &rows.timeline,
                shown: row_cap,
                row_noun: "timeline entries",
            },
        );
    }
    if let Some(omitted) = &pack.timeline.omitted {
        flow.paragraph(0.0, style::NOTE, omitted);
    }
    if !pack.left_out.is_empty() {
        flow.heading("Left out", keep);
        for line in &pack.left_out {
            flow.paragraph(0.0, style::BODY, &format!("• {line}"));
        }
    }
    lay_sources(&mut flow, pack);
    flow.finish()
}

fn seen_row(seen: &Seen) -> Vec<String> {
    vec![
        seen.label.clone(),
        when(seen.first),
        when(seen.last),
        count(seen.count),
    ]
}

fn timeline_row(entry: &TimelineEntry) -> Vec<String> {
    vec![
        when(entry.at),
        entry.kind.name().to_owned(),
        entry.text.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::evidence::pack::{Customer, QuerySource, Section, SectionKind, Timeline};
    use crate::evidence::pdf::flow::Op;

    fn pack(timeline_entries: usize, sections: Vec<Section>) -> Pack {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 14, 5, 0).unwrap();
        Pack {
            generated_at: start,
            customer: Customer {
                id: "cus_1".into(),
                email: None,
                name: None,
            },
            dispute: None,
            summary: "Signed up and used the product daily.".into(),
            ce3: None,
            sections,
            devices: Vec::new(),
            locations: Vec::new(),
            geo_note: "IP addresses only.".into(),
            timeline: Timeline {
                entries: (0..timeline_entries)
                    .map(|index| TimelineEntry {
                        at: start + Duration::minutes(index as i64),
                        kind: SectionKind::Logins,
                        text: format!("Login number {index}"),
                    })
                    .collect(),
                omitted: None,
            },
            daily: Vec::new(),
            left_out: Vec::new(),
        }
    }

    fn texts(laid: &Laid) -> Vec<&str> {
        laid.pages
            .iter()
            .flatten()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.as_str()),
                Op::Rect { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_pack_that_fits_is_laid_out_whole() {
        let fonts = Fonts::load().unwrap();
        let laid = lay_out(&pack(10, Vec::new()), &fonts, 5);
        assert!(!laid.full);
        assert_eq!(laid.pages.len(), 2, "the cover, then the rest");
        let texts = texts(&laid);
        assert!(texts.contains(&"Login number 9"));
        assert!(!texts.iter().any(|text| text.contains("left out")));
    }

    #[test]
    fn a_long_timeline_is_cut_to_the_page_cap_and_says_how_much() {
        let fonts = Fonts::load().unwrap();
        let laid = lay_out(&pack(5_000, Vec::new()), &fonts, 4);
        assert!(!laid.full, "cutting rows made the rest fit");
        assert_eq!(laid.pages.len(), 4);
        let texts = texts(&laid);
        let shown = texts
            .iter()
            .filter(|text| text.starts_with("Login number"))
            .count();
        let cut_line = texts
            .iter()
            .find(|text| text.ends_with("further timeline entries left out: page limit"))
            .unwrap();
        let left_out: usize = cut_line
            .split(' ')
            .next()
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap();
        assert!(shown > 50, "{shown} rows shown");
        assert_eq!(shown + left_out, 5_000);
    }

    #[test]
    fn content_no_cut_can_shorten_still_stops_at_the_cap() {
        let fonts = Fonts::load().unwrap();
        let sections = (0..500)
            .map(|index| Section {
                name: format!("s{index}"),
                title: format!("Section {index}"),
                kind: SectionKind::Other,
                source: QuerySource {
                    source: "app".into(),
                    query: "SELECT 1".into(),
                },
                outcome: SectionOutcome::Missing {
                    reason: "the query returned no rows".into(),
                },
            })
            .collect();
        let laid = lay_out(&pack(0, sections), &fonts, 3);
        assert!(laid.full);
        assert_eq!(laid.pages.len(), 3);
        assert!(
            texts(&laid)
                .last()
                .unwrap()
                .contains("page limit (3 pages)")
        );
    }
}

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

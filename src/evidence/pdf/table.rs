//! Tables: a header row repeated on every page the table spans, light rules, columns fitted
//! to their content, long cells wrapped to a few lines and cut with "…". A table may be told
//! to show fewer rows than it has; it then says how many were left out for the page limit.

use super::columns;
use super::flow::{CONTENT_WIDTH, Flow, MARGIN};
use super::format::count;
use super::style::{self, Style};
use super::text::{self, Measure};

/// Lines a cell may take before it is cut.
const MAX_CELL_LINES: usize = 3;
const PADDING: f32 = 3.0;
/// Rows measured for column widths: enough to see the content's shape, few enough to be quick.
const MEASURED_ROWS: usize = 200;

/// A table to lay out.
pub(super) struct TableInput<'a> {
    pub(super) columns: &'a [String],
    pub(super) rows: &'a [Vec<String>],
    /// How many rows to show (the page limit may allow fewer than there are).
    pub(super) shown: usize,
    /// What a left-out row is called ("timeline entries", "rows of Logins").
    pub(super) row_noun: &'a str,
}

pub(super) fn lay_table(flow: &mut Flow<'_>, input: &TableInput<'_>) {
    let column_count = input.columns.len();
    if column_count == 0 {
        flow.line(0.0, style::NOTE, "(no columns)".to_owned());
        return;
    }
    let shown = input.shown.min(input.rows.len());
    let widths = fitted_widths(flow, input.columns, &input.rows[..shown]);
    let header = wrapped_row(flow, input.columns.iter(), &widths, style::CELL_HEADER);
    let header_height = row_height(&header, style::CELL_HEADER);
    if !flow.room(header_height + style::CELL.line_height() + 2.0 * PADDING) {
        return;
    }
    draw_header(flow, &header, &widths, header_height);
    for row in &input.rows[..shown] {
        let cells = wrapped_row(flow, row.iter(), &widths, style::CELL);
        let height = row_height(&cells, style::CELL);
        if !flow.fits(height) {
            if !flow.new_page() {
                return;
            }
            draw_header(flow, &header, &widths, header_height);
        }
        draw_cells(flow, &cells, &widths, style::CELL);
        flow.advance(height);
        flow.rule(MARGIN, flow.y(), CONTENT_WIDTH, style::RULE);
    }
    let left_out = input.rows.len() - shown;
    if left_out > 0 {
        flow.gap(2.0);
        flow.line(
            0.0,
            style::LABEL.colored(style::BAD),
            format!(
                "{} further {} left out: page limit",
                count(left_out),
                input.row_noun
            ),
        );
    }
}

/// Natural widths (the widest cell of each column, header included), fitted to the page.
fn fitted_widths(flow: &Flow<'_>, columns: &[String], rows: &[Vec<String>]) -> Vec<f32> {
    let cell = flow.fonts.measure(style::CELL);
    let header = flow.fonts.measure(style::CELL_HEADER);
    let mut natural: Vec<f32> = columns
        .iter()
        .map(|name| longest_word(name, &header).max(header.width(name).min(CONTENT_WIDTH / 4.0)))
        .collect();
    for row in rows.iter().take(MEASURED_ROWS) {
        for (width, value) in natural.iter_mut().zip(row) {
            *width = width.max(cell.width(value).min(CONTENT_WIDTH));
        }
    }
    let padded: Vec<f32> = natural.iter().map(|width| width + 2.0 * PADDING).collect();
    columns::fit(&padded, CONTENT_WIDTH)
}

fn longest_word(text: &str, measure: &dyn Measure) -> f32 {
    text.split_whitespace()
        .map(|word| measure.width(word))
        .fold(0.0, f32::max)
}

fn wrapped_row<'a>(
    flow: &Flow<'_>,
    cells: impl Iterator<Item = &'a String>,
    widths: &[f32],
    style: Style,
) -> Vec<Vec<String>> {
    let measure = flow.fonts.measure(style);
    let mut cells = cells;
    widths
        .iter()
        .map(|width| {
            let value = cells.next().map(String::as_str).unwrap_or("");
            text::wrap_at_most(
                &text::one_line(value),
                width - 2.0 * PADDING,
                MAX_CELL_LINES,
                &measure,
            )
        })
        .collect()
}

fn row_height(cells: &[Vec<String>], style: Style) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    lines as f32 * style.line_height() + 2.0 * PADDING
}

fn draw_header(flow: &mut Flow<'_>, header: &[Vec<String>], widths: &[f32], height: f32) {
    flow.push(super::flow::Op::Rect {
        x: MARGIN,
        y: flow.y(),
        width: CONTENT_WIDTH,
        height,
        color: style::HEADER_FILL,
    });
    draw_cells(flow, header, widths, style::CELL_HEADER);
    flow.advance(height);
}

fn draw_cells(flow: &mut Flow<'_>, cells: &[Vec<String>], widths: &[f32], style: Style) {
    let mut x = MARGIN;
    let top = flow.y() + PADDING;
    for (lines, width) in cells.iter().zip(widths) {
        for (index, line) in lines.iter().enumerate() {
            let line_top = top + index as f32 * style.line_height();
            flow.text_at(x + PADDING, line_top, style, line.clone());
        }
        x += width;
    }
}

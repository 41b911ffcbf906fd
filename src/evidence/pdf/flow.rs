//! Laying content out top to bottom on A4 pages before anything is drawn, so the page count is
//! known for every footer. Stops at a page cap: once content would start a page past it,
//! nothing more is laid out and the last page says so.

use super::fonts::Fonts;
use super::style::{self, Rgb, Style};
use super::text::{self, Measure};

pub(super) const PAGE_WIDTH: f32 = 595.28;
pub(super) const PAGE_HEIGHT: f32 = 841.89;
pub(super) const MARGIN: f32 = 50.0;
pub(super) const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Content ends here; below are the page-limit note (when needed) and the footer.
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 75.0;
const LIMIT_NOTE_BASELINE: f32 = PAGE_HEIGHT - 60.0;

/// One thing drawn, in points from the page's top left corner.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        color: Rgb,
    },
}

/// The pages laid out so far and where the next line goes.
pub(super) struct Flow<'f> {
    pub(super) fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
    max_pages: usize,
    full: bool,
}

/// Pages ready to draw.
pub(super) struct Laid {
    pub(super) pages: Vec<Vec<Op>>,
    /// Content was left out because the page cap was reached.
    pub(super) full: bool,
}

impl<'f> Flow<'f> {
    pub(super) fn new(fonts: &'f Fonts, max_pages: usize) -> Flow<'f> {
        Flow {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN,
            max_pages: max_pages.max(1),
            full: false,
        }
    }

    pub(super) fn finish(self) -> Laid {
        Laid {
            pages: self.pages,
            full: self.full,
        }
    }

    pub(super) fn is_full(&self) -> bool {
        self.full
    }

    /// The top of the next thing laid out.
    pub(super) fn y(&self) -> f32 {
        self.y
    }

    pub(super) fn advance(&mut self, height: f32) {
        self.y += height;
    }

    pub(super) fn fits(&self, height: f32) -> bool {
        self.y + height <= CONTENT_BOTTOM
    }

    /// Starts a page; false (and nothing more is laid out) once the cap is reached.
    pub(super) fn new_page(&mut self) -> bool {
        if self.full {
            return false;
        }
        if self.pages.len() >= self.max_pages {
            self.full = true;
            let note = format!(
                "Further content left out: page limit ({} pages).",
                self.max_pages
            );
            self.push(Op::Text {
                x: MARGIN,
                baseline: LIMIT_NOTE_BASELINE,
                style: style::LABEL.colored(style::BAD),
                text: note,
            });
            return false;
        }
        self.pages.push(Vec::new());
        self.y = MARGIN;
        true
    }

    /// Makes room for `height` on this page or the next; false when the cap stops it.
    pub(super) fn room(&mut self, height: f32) -> bool {
        if self.full {
            return false;
        }
        self.fits(height) || self.new_page()
    }

    pub(super) fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    pub(super) fn gap(&mut self, height: f32) {
        self.y += height;
    }

    /// Text at `x` on a line whose top is `top`.
    pub(super) fn text_at(&mut self, x: f32, top: f32, style: Style, text: String) {
        self.push(Op::Text {
            x,
            baseline: top + style.size,
            style,
            text,
        });
    }

    /// One line of text, indented by `indent` from the margin; false when the cap stops it.
    pub(super) fn line(&mut self, indent: f32, style: Style, text: String) -> bool {
        if !self.room(style.line_height()) {
            return false;
        }
        self.text_at(MARGIN + indent, self.y, style, text);
        self.y += style.line_height();
        true
    }

    /// Text wrapped to the content width less `indent`.
    pub(super) fn paragraph(&mut self, indent: f32, style: Style, text: &str) {
        let measure = self.fonts.measure(style);
        for line in text::wrap(text, CONTENT_WIDTH - indent, &measure) {
            if !self.line(indent, style, line) {
                return;
            }
        }
    }

    /// A section heading, kept on a page with room for `keep` more points after it.
    pub(super) fn heading(&mut self, text: &str, keep: f32) {
        self.gap(8.0);
        let heading = style::HEADING;
        if !self.room(heading.line_height() + keep) {
            return;
        }
        let measure = self.fonts.measure(heading);
        let shown = text::cut(&text::one_line(text), CONTENT_WIDTH, &measure);
        self.text_at(MARGIN, self.y, heading, shown);
        self.y += heading.line_height() + 2.0;
    }

    /// A horizontal rule across `width` points from `x`.
    pub(super) fn rule(&mut self, x: f32, y: f32, width: f32, color: Rgb) {
        self.push(Op::Rect {
            x,
            y,
            width,
            height: 0.5,
            color,
        });
    }

    /// The width of `text` in `style`.
    pub(super) fn width(&self, style: Style, text: &str) -> f32 {
        self.fonts.measure(style).width(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_per_page() -> usize {
        ((CONTENT_BOTTOM - MARGIN) / style::BODY.line_height()).floor() as usize
    }

    #[test]
    fn lines_flow_onto_as_many_pages_as_they_need() {
        let fonts = Fonts::load().unwrap();
        let per_page = lines_per_page();
        let mut flow = Flow::new(&fonts, 100);
        for index in 0..per_page * 2 + 1 {
            assert!(flow.line(0.0, style::BODY, format!("line {index}")));
        }
        let laid = flow.finish();
        assert_eq!(laid.pages.len(), 3);
        assert_eq!(laid.pages[0].len(), per_page);
        assert_eq!(laid.pages[2].len(), 1);
        assert!(!laid.full);
    }

    #[test]
    fn the_page_cap_stops_layout_and_says_so() {
        let fonts = Fonts::load().unwrap();
        let mut flow = Flow::new(&fonts, 2);
        let written = (0..lines_per_page() * 5)
            .take_while(|index| flow.line(0.0, style::BODY, format!("line {index}")))
            .count();
        assert_eq!(written, lines_per_page() * 2);
        assert!(flow.is_full());
        let laid = flow.finish();
        assert_eq!(laid.pages.len(), 2);
        let last = laid.pages[1].last().unwrap();
        assert!(
            matches!(last, Op::Text { text, .. } if text.contains("page limit (2 pages)")),
            "{last:?}"
        );
    }
}

//! Drawing laid-out pages with krilla, each with its footer ("Page N of M", when and by what
//! it was generated).

use chrono::{DateTime, Utc};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::TextDirection;

use super::PdfError;
use super::flow::{MARGIN, Op, PAGE_HEIGHT, PAGE_WIDTH};
use super::fonts::Fonts;
use super::format::rfc3339;
use super::style::{self, Rgb};
use super::text::Measure;

const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 32.0;

pub(super) fn draw(
    fonts: &Fonts,
    pages: &[Vec<Op>],
    generated_at: DateTime<Utc>,
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title("Chargeback evidence".to_owned())
            .creator("Sentinel".to_owned()),
    );
    let settings = || {
        PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| PdfError::Write("A4 is not a valid page size".to_owned()))
    };
    let generated = format!("Generated {} by Sentinel", rfc3339(generated_at));
    for (index, ops) in pages.iter().enumerate() {
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        for op in ops
            .iter()
            .chain(&footer(fonts, &generated, index + 1, pages.len()))
        {
            draw_op(&mut surface, fonts, op);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|error| PdfError::Write(error.to_string()))
}

fn footer(fonts: &Fonts, generated: &str, page: usize, pages: usize) -> Vec<Op> {
    let numbering = format!("Page {page} of {pages}");
    let numbering_width = fonts.measure(style::FOOTER).width(&numbering);
    vec![
        Op::Rect {
            x: MARGIN,
            y: FOOTER_BASELINE - 12.0,
            width: PAGE_WIDTH - 2.0 * MARGIN,
            height: 0.5,
            color: style::RULE,
        },
        Op::Text {
            x: MARGIN,
            baseline: FOOTER_BASELINE,
            style: style::FOOTER,
            text: generated.to_owned(),
        },
        Op::Text {
            x: PAGE_WIDTH - MARGIN - numbering_width,
            baseline: FOOTER_BASELINE,
            style: style::FOOTER,
            text: numbering,
        },
    ]
}

fn draw_op(surface: &mut Surface<'_>, fonts: &Fonts, op: &Op) {
    match op {
        Op::Text {
            x,
            baseline,
            style,
            text,
        } => {
            if text.is_empty() {
                return;
            }
            surface.set_fill(Some(fill(style.color)));
            surface.draw_text(
                Point::from_xy(*x, *baseline),
                fonts.pdf_font(style.face),
                style.size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Rect {
            x,
            y,
            width,
            height,
            color,
        } => {
            let Some(rect) = Rect::from_xywh(*x, *y, *width, *height) else {
                return;
            };
            let mut builder = PathBuilder::new();
            builder.push_rect(rect);
            if let Some(path) = builder.finish() {
                surface.set_fill(Some(fill(*color)));
                surface.draw_path(&path);
            }
        }
    }
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

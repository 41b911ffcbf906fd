//! The evidence pack as a PDF for a card network's dispute analyst: a cover with the dispute,
//! the customer and the CE 3.0 verdict, then each section as a table (or why it is missing),
//! devices, locations, an activity chart, the timeline, what was left out and the sources.
//! A4 portrait, DejaVu Sans (subset into the file), at most [`MAX_PAGES`] pages whatever the
//! pack holds, within Stripe's limits (fewer than 50 pages, under 4.5 MB).

mod appendix;
mod chart;
mod columns;
mod cover;
mod document;
mod draw;
mod flow;
mod fonts;
mod format;
mod style;
mod table;
mod text;

use super::pack::Pack;

/// The most pages a rendered pack has. Past it, the longest tables and the timeline are cut
/// and the pack says how many rows were left out.
pub const MAX_PAGES: usize = 45;

/// Why a pack could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "the bundled font {0} could not be read: assets/fonts is damaged; restore it from the repository and rebuild"
    )]
    Font(&'static str),
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// Renders `pack` as a PDF file's bytes.
pub fn render(pack: &Pack) -> Result<Vec<u8>, PdfError> {
    let fonts = fonts::Fonts::load()?;
    let laid = document::lay_out(pack, &fonts, MAX_PAGES);
    draw::draw(&fonts, &laid.pages, pack.generated_at)
}

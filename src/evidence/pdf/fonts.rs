//! The bundled DejaVu Sans faces (regular and bold): the faces krilla embeds (subset) and the
//! advance widths the layout measures text with. A character the faces lack measures and
//! draws as the font's placeholder glyph.

use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, GlyphId, MetadataProvider};

use super::PdfError;
use super::style::{Face, Style};
use super::text::Measure;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Both faces, ready to measure and to draw.
pub(super) struct Fonts {
    regular: FaceData,
    bold: FaceData,
}

struct FaceData {
    pdf: krilla::text::Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
    /// Advance widths of the ASCII characters, in font units: most text is ASCII.
    ascii: [f32; 128],
}

impl Fonts {
    pub(super) fn load() -> Result<Fonts, PdfError> {
        Ok(Fonts {
            regular: FaceData::load(REGULAR, "DejaVuSans.ttf")?,
            bold: FaceData::load(BOLD, "DejaVuSans-Bold.ttf")?,
        })
    }

    pub(super) fn pdf_font(&self, face: Face) -> krilla::text::Font {
        self.face(face).pdf.clone()
    }

    /// Measures text set in `style`, in points.
    pub(super) fn measure(&self, style: Style) -> SizedFace<'_> {
        SizedFace {
            face: self.face(style.face),
            scale: style.size / self.face(style.face).units_per_em,
        }
    }

    fn face(&self, face: Face) -> &FaceData {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }
}

impl FaceData {
    fn load(bytes: &'static [u8], name: &'static str) -> Result<FaceData, PdfError> {
        let unreadable = || PdfError::Font(name);
        let font = FontRef::new(bytes).map_err(|_| unreadable())?;
        let pdf = krilla::text::Font::new(bytes.into(), 0).ok_or_else(unreadable)?;
        let units_per_em = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        if units_per_em <= 0.0 {
            return Err(unreadable());
        }
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let mut face = FaceData {
            pdf,
            charmap,
            metrics,
            units_per_em,
            ascii: [0.0; 128],
        };
        for code in 0..128u8 {
            face.ascii[usize::from(code)] = face.advance(char::from(code));
        }
        Ok(face)
    }

    fn advance(&self, character: char) -> f32 {
        let glyph = self.charmap.map(character).unwrap_or(GlyphId::NOTDEF);
        self.metrics.advance_width(glyph).unwrap_or(0.0)
    }
}

/// One face at one size.
pub(super) struct SizedFace<'f> {
    face: &'f FaceData,
    scale: f32,
}

impl Measure for SizedFace<'_> {
    fn char_width(&self, character: char) -> f32 {
        let units = match self.face.ascii.get(character as usize) {
            Some(width) => *width,
            None => self.face.advance(character),
        };
        units * self.scale
    }
}
